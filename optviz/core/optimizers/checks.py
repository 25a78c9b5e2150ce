"""Hyperparameters and inputs checked in torch.optim's words and order (``Invalid learning
rate: -1``, the value printed as given), with the allowed range appended."""

from __future__ import annotations

import math
from numbers import Real
from typing import Any

import torch
from torch import Tensor

from .ops import Hyper, any_of

_INT_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def check(name: str, value: Any, what: str, *, low: float | None = None, high: float | None = None) -> Hyper:
    """A hyperparameter as a float or a tensor, or ValueError in torch's words.

    torch.optim's rule is ``low <= value`` (NaN fails); its message prints the value as given.
    Sweep tensors become float64; torch's 0-d tensors keep their dtype, and so does a
    one-element tensor of any shape, squeezed to 0-d as torch.optim squeezes it.
    """
    allowed = (
        f" ({name} must be in [{low:g}, {high:g}])" if high is not None
        else f" ({name} must be >= {low:g})" if low is not None else ""
    )
    upper = math.inf if high is None else high
    if isinstance(value, Tensor):
        if not (value.is_floating_point() or value.dtype in _INT_DTYPES) or value.is_complex():
            raise TypeError(f"{name} must be a float or a real tensor, got a {value.dtype} tensor")
        given = value
        value = value.detach().squeeze() if value.numel() == 1 else value.detach().to(torch.float64)
        if low is not None:
            bad = ~((value >= low) & (value <= upper))
            if bad.any():
                shown = given if value.ndim == 0 else f"{value[bad].flatten()[0].item():g}"
                where = "" if value.ndim == 0 else f" in tensor {name}"
                raise ValueError(f"Invalid {what}: {shown}{where}{allowed}")
        return value
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a float or a tensor, got {type(value).__name__} {value!r}")
    if low is not None and not (low <= value <= upper):
        raise ValueError(f"Invalid {what}: {value}{allowed}")
    return float(value)


def check_betas(betas: Any) -> tuple[Hyper, Hyper]:
    """(beta1, beta2), each in [0, 1)."""
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return tuple(_checked_beta(i, beta) for i, beta in enumerate(betas))  # type: ignore[return-value]


def _checked_beta(index: int, beta: Any) -> Hyper:
    value = check(f"betas[{index}]", beta, f"beta parameter at index {index}", low=0.0, high=1.0)
    if any_of(value, lambda b: b == 1.0):
        raise ValueError(f"Invalid beta parameter at index {index}: {beta} (betas[{index}] must be in [0, 1))")
    return value


def check_flags(**flags: Any) -> None:
    for name, flag in flags.items():
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")


def check_params(params: Any, hypers: dict[str, Hyper]) -> None:
    """A floating tensor that every tensor hyperparameter broadcasts against."""
    if not isinstance(params, Tensor):
        raise TypeError(f"params must be a torch.Tensor, got {type(params).__name__}")
    if not params.is_floating_point():
        raise TypeError(f"params must have a floating dtype, got {params.dtype}")
    for name, h in hypers.items():
        if isinstance(h, Tensor) and _broadcast(h.shape, params.shape) != params.shape:
            raise ValueError(
                f"tensor hyperparameter {name} of shape {tuple(h.shape)} does not broadcast "
                f"against params of shape {tuple(params.shape)}"
            )


def _broadcast(a: torch.Size, b: torch.Size) -> torch.Size | None:
    try:
        return torch.broadcast_shapes(a, b)
    except RuntimeError:
        return None


def check_grad(params: Tensor, grad: Any) -> None:
    """A gradient of the params' shape and dtype."""
    if not isinstance(grad, Tensor) or grad.shape != params.shape or grad.dtype != params.dtype:
        given = f"{tuple(grad.shape)} {grad.dtype}" if isinstance(grad, Tensor) else type(grad).__name__
        raise ValueError(f"grad must match params ({tuple(params.shape)} {params.dtype}), got {given}")
