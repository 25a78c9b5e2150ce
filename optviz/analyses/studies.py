"""Many runs as one batch: learning-rate tuning, two-hyperparameter sweeps, basins of attraction.

Each study turns a grid of hyperparameter values or start points into a single simulation
and reduces it to a table. optviz's own optimizers take the grid as tensor hyperparameters
(see optviz.optimizers); a torch optimizer, whose hyperparameters are plain numbers, runs
one instance per grid value in the same simulation.

Optimizers are named as on the command line ("adam", "nadam", "pytorch_optimizer:Lion"):
the names come from Python code or the command line, so import paths are allowed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import torch
from torch import Tensor

from ..core.files import write_table
from ..core.functions import TestFunction, get_function
from ..core.limits import MAX_BASIN_RESOLUTION, MAX_CELLS, check_memory
from ..core.names import did_you_mean
from ..core.optimizers.base import Optimizer
from ..core.optimizers.registry import get_optimizer
from ..core.simulation.runs import Progress, check_steps, peak_bytes, simulate

LR_GRID = tuple(10.0 ** (k / 4) for k in range(-16, 5))  # 1e-4 .. 10, four per decade


def _final(result: Any) -> Tensor:
    final = result.losses[-1].clone()
    final[(result.diverged_at >= 0) | ~torch.isfinite(final)] = math.inf
    return final


def tune_lr(function: TestFunction | str, name: str, hypers: dict[str, Any], start: Sequence[float] | None,
            steps: int, grid: Sequence[float] = LR_GRID) -> float:
    """The learning rate of the grid with the lowest final f (see :func:`tune_lrs`)."""
    return tune_lrs(function, [(name, hypers)], start, steps, grid)[0]


def tune_lrs(function: TestFunction | str, specs: Sequence[tuple[str, dict[str, Any]]],
             start: Sequence[float] | None, steps: int, grid: Sequence[float] = LR_GRID,
             progress: Progress | None = None) -> list[float]:
    """For each (optimizer name, hyperparameters), the learning rate of the grid with the lowest
    final f; every optimizer at every grid value runs in one batch.

    Runs that stray beyond the bounds widened by half their span on each side only count
    when no run of that optimizer stays: a lucky landing after wild jumps is not a fair best.
    """
    function = get_function(function)
    point = torch.tensor(start if start is not None else function.start, dtype=torch.float64)
    made = [_made(name, hypers) for name, hypers in specs]
    pure = [k for k, opt in enumerate(made) if isinstance(opt, Optimizer)]
    final = torch.empty(len(specs), len(grid), dtype=torch.float64)
    inside = torch.empty(len(specs), len(grid), dtype=torch.bool)
    bounds = torch.tensor(function.bounds, dtype=torch.float64)
    span = bounds[:, 1] - bounds[:, 0]
    lo, hi = bounds[:, 0] - span / 2, bounds[:, 1] + span / 2

    def record(rows: list[int], result: Any) -> None:
        final[rows] = _final(result).reshape(len(rows), len(grid))
        stays = ((result.positions >= lo) & (result.positions <= hi)).all(dim=-1).all(dim=0)
        inside[rows] = stays.reshape(len(rows), len(grid))

    if pure:  # one lr tensor per optimizer over starts repeated along the grid
        lrs = torch.tensor(grid, dtype=torch.float64).unsqueeze(1)
        sweeps = {f"{k}": _made(specs[k][0], {**specs[k][1], "lr": lrs}) for k in pure}
        record(pure, simulate(function, sweeps, point.repeat(len(grid), 1), steps, progress=progress))
    others = [k for k in range(len(specs)) if k not in pure]
    if others:  # one instance per grid value, from the one start
        each = {f"{k} {i}": made[k].with_lr(lr) for k in others for i, lr in enumerate(grid)}
        record(others, simulate(function, each, point, steps, progress=progress))
    chosen = []
    for row, stays in zip(final, inside):
        if stays.any():
            row = torch.where(stays, row, torch.full_like(row, math.inf))
        chosen.append(float(grid[int(torch.argmin(row))]))
    return chosen


@dataclass(frozen=True)
class Sweep:
    """Final f over a grid of two hyperparameters: ``final[i, j]`` at y_values[i], x_values[j]."""

    function: TestFunction
    optimizer: str
    x_name: str
    x_values: Tensor
    y_name: str
    y_values: Tensor
    final: Tensor  # inf where the run diverged
    steps: int
    mode: str = "batched"  # how the runs ran (see Result.modes): "fast (compiled in 2.1 s)", ...

    @property
    def best(self) -> tuple[float, float, float]:
        i, j = divmod(int(torch.argmin(self.final)), self.final.shape[1])
        return float(self.x_values[j]), float(self.y_values[i]), float(self.final[i, j])

    def save(self, path: str | Path) -> Path:
        """One row per cell (x value, y value, final f; inf where the run diverged), as .csv,
        .json or .npz by the suffix."""
        gx, gy = torch.meshgrid(self.x_values, self.y_values, indexing="xy")
        columns = {self.x_name: gx.reshape(-1), self.y_name: gy.reshape(-1), "final_f": self.final.reshape(-1)}
        meta = {"kind": "optviz.Sweep", "function": self.function.name, "optimizer": self.optimizer,
                "steps": self.steps}
        return write_table(path, {k: v.numpy() for k, v in columns.items()}, meta)


def sweep(function: TestFunction | str, name: str, x: tuple[str, Sequence[float]], y: tuple[str, Sequence[float]],
          *, start: Sequence[float] | None = None, steps: int = 100, hypers: dict[str, Any] | None = None,
          progress: Progress | None = None, fast: bool = False) -> Sweep:
    """Run optimizer ``name`` over every (x, y) pair of hyperparameter values as one batch.

    The names are the optimizer's hyperparameters (beta1 and beta2 for Adam's betas); every
    value is checked before anything runs. ``fast``: see optviz.simulate."""
    function = get_function(function)
    (x_name, xs), (y_name, ys) = x, y
    if x_name == y_name:
        raise ValueError(f"sweep two different hyperparameters, got {x_name} twice")
    check_sweep(name, hypers or {}, {x_name: xs, y_name: ys})
    cells = len(xs) * len(ys)
    if cells > MAX_CELLS:
        raise ValueError(f"a sweep of {len(xs)} x {len(ys)} values has {cells:,} cells; at most {MAX_CELLS:,}")
    check_memory(peak_bytes(check_steps(steps), cells, function.dim, 8),
                 f"a sweep of {len(xs)} x {len(ys)} values and {steps} steps", "use fewer values or steps")
    xs, ys = torch.tensor(xs, dtype=torch.float64), torch.tensor(ys, dtype=torch.float64)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")  # (len(ys), len(xs))
    grid = {**(hypers or {}), x_name: gx.reshape(-1, 1), y_name: gy.reshape(-1, 1)}
    point = torch.tensor(start if start is not None else function.start, dtype=torch.float64)
    opt = _made(name, hypers or {})
    if isinstance(opt, Optimizer):
        result = simulate(function, {name: _made(name, grid)}, point.repeat(gx.numel(), 1), steps,
                          progress=progress, fast=fast)
    else:  # a torch optimizer takes plain numbers: one instance per cell
        cells = [{**(hypers or {}), x_name: float(a), y_name: float(b)}
                 for a, b in zip(gx.reshape(-1).tolist(), gy.reshape(-1).tolist())]
        result = simulate(function, {f"{k}": _made(name, cell) for k, cell in enumerate(cells)}, point, steps,
                          progress=progress, fast=fast)
    final = _final(result)
    return Sweep(function, name, x_name, xs, y_name, ys, final.reshape(gx.shape), steps, next(iter(result.modes.values())))


@dataclass(frozen=True)
class Basins:
    """Which minimum each start converges to: ``labels[i, j]`` for start (xs[j], ys[i]) is an
    index into function.minima, or -1 for none (stalled, elsewhere or diverged)."""

    function: TestFunction
    label: str
    xs: Tensor
    ys: Tensor
    labels: Tensor
    steps: int
    mode: str = "batched"  # how the runs ran (see Result.modes)

    def shares(self) -> list[float]:
        """The share of starts that reach each minimum, in the order of function.minima."""
        return [(self.labels == i).double().mean().item() for i in range(len(self.function.minima))]

    def save(self, path: str | Path) -> Path:
        """One row per start (x, y, the index of the minimum it reaches or -1), as .csv, .json
        or .npz by the suffix; the header lists the minima."""
        gx, gy = torch.meshgrid(self.xs, self.ys, indexing="xy")
        columns = {"x": gx.reshape(-1).numpy(), "y": gy.reshape(-1).numpy(), "minimum": self.labels.reshape(-1).numpy()}
        meta = {"kind": "optviz.Basins", "function": self.function.name, "optimizer": self.label, "steps": self.steps,
                "minima": [list(m.point) for m in self.function.minima]}
        return write_table(path, columns, meta)


def basins(function: TestFunction | str, name: str, hypers: dict[str, Any] | None = None, *,
           resolution: int = 80, steps: int = 300, tolerance: float = 0.02, progress: Progress | None = None,
           fast: bool = False) -> Basins:
    """Starts on a resolution x resolution grid over the bounds, each labelled by the minimum
    it ends within ``tolerance`` x the bounds' span of. ``fast``: see optviz.simulate."""
    function = get_function(function)
    if function.dim != 2:
        raise ValueError(f"basins are mapped on 2D functions; {function.name} is {function.dim}D")
    if not function.minima:
        raise ValueError(f"basins need known minima to sort the starts by; {function.name} has none")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 2 <= resolution <= MAX_BASIN_RESOLUTION:
        raise ValueError(f"resolution must be a whole number from 2 to {MAX_BASIN_RESOLUTION}, got {resolution!r}")
    if isinstance(tolerance, bool) or not isinstance(tolerance, (int, float)) or not 0 < tolerance < math.inf:
        raise ValueError(f"tolerance must be a positive finite number, got {tolerance!r}")
    check_memory(peak_bytes(check_steps(steps), resolution**2, 2, 8),
                 f"a basins map of {resolution} x {resolution} starts and {steps} steps", "use a smaller resolution (--n) or fewer steps")
    (x0, x1), (y0, y1) = function.bounds
    xs = torch.linspace(x0, x1, resolution, dtype=torch.float64)
    ys = torch.linspace(y0, y1, resolution, dtype=torch.float64)
    gx, gy = torch.meshgrid(xs, ys, indexing="xy")
    starts = torch.stack([gx.reshape(-1), gy.reshape(-1)], dim=1)
    opt = _made(name, hypers or {})
    result = simulate(function, {name: opt}, starts, steps, progress=progress, fast=fast)
    minima = torch.tensor([m.point for m in function.minima], dtype=torch.float64)
    final = result.positions[-1]
    distance = torch.cdist(final, minima)
    nearest = distance.argmin(dim=1)
    reach = tolerance * max(x1 - x0, y1 - y0)
    ok = torch.isfinite(final).all(dim=1) & (distance.min(dim=1).values <= reach)
    labels = torch.where(ok, nearest, torch.full_like(nearest, -1))
    return Basins(function, opt.label, xs, ys, labels.reshape(gx.shape), steps, result.modes[name])


def check_sweep(name: str, hypers: dict[str, Any], values: dict[str, Sequence[float]]) -> None:
    """ValueError unless every swept name is a number hyperparameter of ``name`` and each of
    its values is allowed: checked one plain number at a time, so no message prints a tensor."""
    defaults = _made(name, {}).hyperparams
    numbers = [k for k, v in defaults.items() if isinstance(v, (int, float)) and not isinstance(v, bool)]
    numbers += ["beta1", "beta2"] if "betas" in defaults else []
    for key, swept in values.items():
        if key not in numbers:
            raise ValueError(f"{name} has no number hyperparameter {key!r} to sweep{did_you_mean(key, numbers)}")
        for value in swept:
            _made(name, {**hypers, key: float(value)})


def _made(name: str, hypers: dict[str, Any]) -> Any:
    """The optimizer ``name`` with ``hypers``, where beta1 and beta2 name one of the betas (to
    sweep it), the other at the optimizer's own default."""
    if "beta1" in hypers or "beta2" in hypers:
        default = get_optimizer(name, allow_import=True).hyperparams["betas"]
        rest = {k: v for k, v in hypers.items() if k not in ("beta1", "beta2")}
        hypers = {**rest, "betas": (hypers.get("beta1", default[0]), hypers.get("beta2", default[1]))}
    return get_optimizer(name, allow_import=True, **hypers)
