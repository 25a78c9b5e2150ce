"""Test functions from Python code: any function of one point, batched by vmap, with its
gradient by autograd."""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import Tensor

from ..limits import MAX_DIM
from .surface import Minimum, TestFunction


def function(fn: Callable[[Tensor], Tensor], bounds: Any, *, name: str = "custom", start: Any = None,
             minima: Any = (), title: str = "") -> TestFunction:
    """A TestFunction from a Python function of one point: ``fn(p)`` takes a tensor of shape
    (dim,) and returns a number, in torch ops. It is vectorised over batches of points with
    ``torch.func.vmap``, and its gradient comes from autograd (``torch.func.grad``).

    >>> optviz.function(lambda p: (p[0] - 1) ** 2 + 10 * p[1] ** 2, bounds=[(-3, 3), (-2, 2)])
    """
    if not callable(fn):
        raise TypeError(f"function takes a callable, got {type(fn).__name__}")
    try:
        pairs = tuple((float(lo), float(hi)) for lo, hi in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be pairs (lo, hi), one per coordinate, got {bounds!r}") from None
    if not 1 <= len(pairs) <= MAX_DIM or any(not (math.isfinite(lo) and math.isfinite(hi) and lo < hi)
                                             for lo, hi in pairs):
        raise ValueError(f"bounds must be 1 to {MAX_DIM:,} finite pairs (lo, hi) with lo < hi")
    from torch.func import grad as autograd
    from torch.func import vmap

    single_grad = autograd(fn)

    def value(points: Tensor) -> Tensor:
        flat = points.reshape(-1, points.shape[-1])
        return vmap(fn)(flat).reshape(points.shape[:-1])

    def gradient(points: Tensor) -> Tensor:
        flat = points.reshape(-1, points.shape[-1])
        return vmap(single_grad)(flat).reshape(points.shape)

    centre = tuple((lo + hi) / 2 for lo, hi in pairs)
    made = TestFunction(
        name=name, value_fn=value, grad_fn=gradient, bounds=pairs,
        minima=tuple(Minimum(tuple(map(float, p)), float(v)) for p, v in minima),
        start=tuple(map(float, start)) if start is not None else centre,
        description=f"{name}: a Python function", formula=getattr(fn, "__name__", name), recipe=None,
        title=title or ("" if name == "custom" else name), axes=("x", "y") if len(pairs) == 2 else
        tuple(f"x{i + 1}" for i in range(len(pairs))),
    )
    probe = torch.tensor([made.start, centre], dtype=torch.float64)
    try:
        values, grads = made(probe), made.grad(probe)
    except Exception as error:  # noqa: BLE001 - the user's code may raise anything
        message = " ".join(str(error).split())
        raise ValueError(f"{name}: fn must map one point, a tensor of shape ({len(pairs)},), to a number in "
                         f"torch ops that vmap can batch: {type(error).__name__}: {message[:200]}") from None
    if values.shape != (2,) or grads.shape != probe.shape:
        raise ValueError(f"{name}: fn must return one number per point, got shape {tuple(values.shape[1:])}")
    return made
