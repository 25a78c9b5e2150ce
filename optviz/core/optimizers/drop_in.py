"""What optviz.optim's torch.optim.Optimizer classes share: each built-in's drop-in class (in
its block) is a :class:`StepFunctionOptimizer` on the built-in's factory.

A drop-in class replaces the library class of the same rule (``torch.optim.SGD``, ``Adam``,
...): the same constructor arguments, checked in torch's order with torch's messages before the
params are looked at; the same parameter-group keys and state_dict layout (a state_dict
saved by one loads into the other); state created when torch creates it and updated in
place, so code holding ``opt.state[p]["exp_avg"]`` sees it change. Each parameter is stepped
by the built-in's pure step functions, so training is identical, step for step,
to torch.optim's single-tensor path (``foreach=False``). ``foreach`` is accepted and
validated as torch does, but every step takes the single-tensor path; ``capturable``,
``differentiable`` and ``fused`` are refused when set.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any, Callable

import torch
from torch import Tensor

from .base import Optimizer


class StepFunctionOptimizer(torch.optim.Optimizer):
    """Runs ``factory(**hyperparameters)`` of each group over its parameters."""

    factory: Callable[..., Optimizer]
    state_type: type

    def __init__(self, params: Any, defaults: dict[str, Any]) -> None:
        self._make(defaults)  # torch validates every argument before it looks at the params
        for flag in ("capturable", "differentiable", "fused"):
            if defaults.get(flag):
                raise ValueError(
                    f"optviz.optim.{type(self).__name__} steps with optviz's single-tensor step "
                    f"functions: {flag}=True is not supported"
                )
        super().__init__(params, defaults)

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        self._make(self.param_groups[-1])  # every group's hyperparameters are validated

    def _make(self, group: dict[str, Any]) -> Optimizer:
        # torch squeezes a 1-element tensor hyperparameter to 0-d before stepping
        return self.factory(**{name: squeezed(group[name]) for name in _arguments(self.factory)})

    def _keeps_state(self, group: dict[str, Any]) -> bool:
        return True

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            opt = self._make(group)
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                if not self._keeps_state(group):
                    p.copy_(opt.step(p.detach(), p.grad, opt.init(p.detach()))[0])
                    continue
                state = self.state[p]
                current = self._load(state) if state else opt.init(p.detach())
                new_p, current = opt.step(p.detach(), p.grad, current)
                p.copy_(new_p)
                self._store(state, current)
        return loss

    def _store(self, state: dict[str, Any], current: Any) -> None:
        """The new state into the state dict, updating its tensors in place as torch does."""
        for key, value in current._asdict().items():
            if key == "step":
                # torch keeps the step count as a float32 tensor
                if isinstance(state.get("step"), Tensor):
                    state["step"].fill_(value)
                else:
                    state["step"] = torch.tensor(float(value), dtype=_scalar_dtype())
            elif value is None:
                continue
            elif isinstance(state.get(key), Tensor) and state[key].shape == value.shape:
                state[key].copy_(value)
            else:
                state[key] = value

    def _load(self, state: dict[str, Any]) -> Any:
        fields = {key: state.get(key) for key in self.state_type._fields}
        if "step" in fields:
            fields["step"] = int(fields["step"])
        return self.state_type(**fields)


@cache
def _arguments(factory: Callable[..., Optimizer]) -> tuple[str, ...]:
    return tuple(inspect.signature(factory).parameters)


def squeezed(value: Any) -> Any:
    if isinstance(value, tuple):  # betas
        return tuple(map(squeezed, value))
    return value.squeeze() if isinstance(value, Tensor) and value.ndim > 0 and value.numel() == 1 else value


def _scalar_dtype() -> torch.dtype:
    return torch.float64 if torch.get_default_dtype() == torch.float64 else torch.float32


def arguments_of(arguments: dict[str, Any]) -> dict[str, Any]:
    """A constructor's keyword arguments as the optimizer's defaults."""
    return {k: v for k, v in arguments.items() if k not in ("self", "params", "__class__")}


def check_tensor_lr(lr: Any, foreach: Any = None, capturable: bool = False) -> None:
    """torch.optim's checks of a tensor learning rate, in its order and words."""
    if isinstance(lr, Tensor):
        if foreach and not capturable:
            raise ValueError("lr as a Tensor is not supported for capturable=False and foreach=True")
        if lr.numel() != 1:
            raise ValueError("Tensor lr must be 1-element")


def check_tensor_betas(betas: Any, foreach: Any, capturable: bool) -> None:
    """torch.optim.Adam's rules for betas given as tensors (run after the values' checks)."""
    if not (all(isinstance(b, float) for b in betas) or all(isinstance(b, Tensor) for b in betas)):
        raise ValueError("betas must be either both floats or both Tensors")
    for i, beta in enumerate(betas):
        if isinstance(beta, Tensor):
            if foreach and not capturable:
                raise ValueError(f"betas[{i}] as a Tensor is not supported for capturable=False and foreach=True")
            if beta.numel() != 1:
                raise ValueError(f"Tensor betas[{i}] must be 1-element")
