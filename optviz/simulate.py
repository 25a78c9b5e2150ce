"""Batched runs of optimizers on a test function: every path in one tensor.

``simulate(function, {"sgd": sgd(lr=0.1), "adam": adam(lr=0.1)}, starts, steps)`` stacks
every (optimizer, start) pair into one batch of points, evaluates the gradient once per step
for the whole batch and lets each optimizer step its own slice. A path that leaves the finite
numbers, or strays far outside the function's bounds, is marked diverged at that step and
recorded as NaN after it; the other paths are untouched, since every op is elementwise.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from .functions import TestFunction, get_function
from .optimizers import Optimizer

# Results larger than this are refused up front rather than failing half way.
MAX_RESULT_BYTES = 4 * 2**30


@dataclass(frozen=True, repr=False)
class Result:
    """The paths of a simulation.

    Path ``b`` is optimizer ``b // n_starts`` from start ``b % n_starts``.
    ``positions`` is (steps + 1, paths, dim), ``losses`` and ``grad_norms`` (steps + 1, paths);
    after a path diverges (``diverged_at[b] = k``, -1 for never) its entries past step k are
    NaN, and step k itself holds the escaped point if it is finite.
    """

    function: TestFunction
    optimizers: dict[str, Optimizer]
    starts: Tensor
    positions: Tensor
    losses: Tensor
    grad_norms: Tensor
    diverged_at: Tensor

    @property
    def steps(self) -> int:
        return self.positions.shape[0] - 1

    @property
    def n_starts(self) -> int:
        return self.starts.shape[0]

    @property
    def names(self) -> list[str]:
        """The optimizer name of each path."""
        return [name for name in self.optimizers for _ in range(self.n_starts)]

    def index(self, name: str, start: int = 0) -> int:
        """The path index of optimizer ``name`` from start number ``start``."""
        if name not in self.optimizers:
            raise KeyError(f"no optimizer {name!r} in this result (have: {', '.join(self.optimizers)})")
        if not 0 <= start < self.n_starts:
            raise IndexError(f"start {start} out of range: this result has {self.n_starts} start(s)")
        return list(self.optimizers).index(name) * self.n_starts + start

    def path(self, name: str, start: int = 0) -> Tensor:
        """Positions (steps + 1, dim) of one path."""
        return self.positions[:, self.index(name, start)]

    def select(self, names: Sequence[str] | None = None, starts: Sequence[int] | None = None) -> "Result":
        """The same result restricted to some optimizers and/or start numbers."""
        names = list(self.optimizers) if names is None else list(names)
        starts = list(range(self.n_starts)) if starts is None else list(starts)
        paths = torch.tensor([self.index(name, s) for name in names for s in starts], dtype=torch.int64)
        return Result(
            function=self.function,
            optimizers={name: self.optimizers[name] for name in names},
            starts=self.starts[starts],
            positions=self.positions[:, paths],
            losses=self.losses[:, paths],
            grad_norms=self.grad_norms[:, paths],
            diverged_at=self.diverged_at[paths],
        )

    def gap(self) -> Tensor:
        """f minus the lowest known minimum, per step and path (NaN without known minima)."""
        if not self.function.minima:
            return torch.full_like(self.losses, float("nan"))
        return self.losses - min(m.value for m in self.function.minima)

    def steps_to(self, tolerance: float) -> Tensor:
        """Per path, the first step where f is within ``tolerance`` of the minimum, or -1."""
        reached = self.gap() <= tolerance
        first = reached.to(torch.int64).argmax(dim=0)
        return torch.where(reached.any(dim=0), first, torch.full_like(first, -1))

    def __repr__(self) -> str:
        diverged = int((self.diverged_at >= 0).sum())
        return (
            f"Result({self.function.name}, optimizers={list(self.optimizers)}, "
            f"starts={self.n_starts}, steps={self.steps}, diverged={diverged})"
        )


def simulate(
    function: TestFunction | str,
    optimizers: Mapping[str, Optimizer] | Sequence[Optimizer] | Optimizer,
    starts: Any = None,
    steps: int = 100,
    *,
    dtype: torch.dtype = torch.float64,
    divergence_factor: float = 100.0,
) -> Result:
    """Run every optimizer from every start for ``steps`` steps, as one batch.

    ``starts`` is one point (dim,), several (n, dim), or None for the function's default
    start. A path diverges when it becomes non-finite or goes further than
    ``divergence_factor`` times the bounds' widest span from the bounds' centre.
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
