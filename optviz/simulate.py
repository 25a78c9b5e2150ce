"""Batched runs of optimizers on a test function: every path in one tensor.

``simulate(function, {"sgd": sgd(lr=0.1), "adam": adam(lr=0.1)}, starts, steps)`` stacks
every (optimizer, start) pair into one batch of points, evaluates the gradient once per step
for the whole batch and lets each optimizer step its own slice. A path that leaves the finite
numbers, or strays far outside the function's bounds, is marked diverged at that step and
recorded as NaN after it; the other paths are untouched, since every op is elementwise.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from .functions import TestFunction, get_function
from .optimizers import Optimizer
from .result import Result

# Results larger than this are refused up front rather than failing half way.
MAX_RESULT_BYTES = 4 * 2**30

# progress(what, done, total): called as work advances, for progress bars
Progress = Callable[[str, int, int], None]


def simulate(
    function: TestFunction | str,
    optimizers: Mapping[str, Optimizer] | Sequence[Optimizer] | Optimizer,
    starts: Any = None,
    steps: int = 100,
    *,
    dtype: torch.dtype = torch.float64,
    divergence_factor: float = 100.0,
    progress: Progress | None = None,
) -> Result:
    """Run every optimizer from every start for ``steps`` steps, as one batch.

    ``starts`` is one point (dim,), several (n, dim), or None for the function's default
    start. A path diverges when it becomes non-finite or goes further than
    ``divergence_factor`` times the bounds' widest span from the bounds' centre.
    ``progress("steps", done, steps)`` is called after every step.
    """
    function = get_function(function)
    optimizers = _named_optimizers(optimizers)
    steps = _check_steps(steps)
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    starts = _check_starts(function, function.start if starts is None else starts, dtype)
    n, dim = starts.shape
    paths = len(optimizers) * n
    needed = (steps + 1) * paths * (dim + 2) * starts.element_size()
    if needed > MAX_RESULT_BYTES:
        raise ValueError(
            f"{steps} steps x {paths} paths need {needed / 2**30:.1f} GiB; "
            f"the limit is {MAX_RESULT_BYTES / 2**30:.0f} GiB: use fewer steps or starts"
        )

    positions = torch.empty(steps + 1, paths, dim, dtype=dtype)
    positions[0] = starts.repeat(len(optimizers), 1)
    slices = [slice(k * n, (k + 1) * n) for k in range(len(optimizers))]
    states = [opt.init(positions[0, s]) for opt, s in zip(optimizers.values(), slices)]
    bounds = torch.tensor(function.bounds, dtype=dtype)
    centre = bounds.mean(dim=1)
    reach = divergence_factor * float((bounds[:, 1] - bounds[:, 0]).max())
    diverged_at = torch.full((paths,), -1, dtype=torch.int64)

    for t in range(1, steps + 1):
        params = positions[t - 1]
        grad = function.grad(params)
        for k, (opt, s) in enumerate(zip(optimizers.values(), slices)):
            positions[t, s], states[k] = opt.step(params[s], grad[s], states[k])
        escaped = ~((positions[t] - centre).abs() <= reach).all(dim=-1)  # NaN compares False
        diverged_at = torch.where((diverged_at < 0) & escaped, t, diverged_at)
        if progress is not None:
            progress("steps", t, steps)

    # past its divergence step a path is no data; at it, only a finite escaped point is
    step = torch.arange(steps + 1).unsqueeze(1)
    stopped = (diverged_at >= 0) & (step > diverged_at)
    positions[stopped] = float("nan")
    positions[~torch.isfinite(positions).all(dim=-1)] = float("nan")
    return Result(
        function=function,
        optimizers=optimizers,
        starts=starts,
        positions=positions,
        losses=function(positions),
        grad_norms=torch.linalg.vector_norm(function.grad(positions), dim=-1),
        diverged_at=diverged_at,
    )


def _named_optimizers(optimizers: Any) -> dict[str, Optimizer]:
    if isinstance(optimizers, Optimizer):
        optimizers = [optimizers]
    if isinstance(optimizers, Mapping):
        named = dict(optimizers)
    elif isinstance(optimizers, Sequence) and not isinstance(optimizers, str):
        named = {}
        for opt in optimizers:
            label = getattr(opt, "label", None)
            name, k = label, 2
            while name in named:
                name, k = f"{label} #{k}", k + 1
            named[name] = opt
    else:
        raise TypeError(
            f"optimizers must be an Optimizer, a list of them or a dict name -> Optimizer, "
            f"got {type(optimizers).__name__}"
        )
    if not named:
        raise ValueError("simulate needs at least one optimizer")
    for name, opt in named.items():
        if not isinstance(opt, Optimizer):
            raise TypeError(
                f"optimizer {name!r} must be an optviz Optimizer (e.g. optviz.adam(lr=0.1)), "
                f"got {type(opt).__name__}"
            )
    return named


def _check_steps(steps: Any) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"steps must be an int, got {type(steps).__name__} {steps!r}")
    if steps < 0:
        raise ValueError(f"steps must be >= 0, got {steps}")
    return steps


def _check_starts(function: TestFunction, starts: Any, dtype: torch.dtype) -> Tensor:
    try:
        points = torch.as_tensor(starts, dtype=dtype).detach().clone()
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"starts must be numbers of shape (dim,) or (n, dim): {error}") from None
    if points.ndim == 1:
        points = points.unsqueeze(0)
    if points.ndim != 2 or points.shape[1] != function.dim or points.shape[0] == 0:
        raise ValueError(
            f"starts must have shape ({function.dim},) or (n, {function.dim}) for "
            f"{function.name}, got {tuple(torch.as_tensor(starts).shape)}"
        )
    if not torch.isfinite(points).all():
        raise ValueError("starts must be finite numbers")
    return points
