"""A race: optimizers tuned for each function, then run from many seeded random starts.

For every function and optimizer, :func:`race` first tunes the hyperparameters asked for
(lr always; momentum and Adam's betas when asked) in three rounds: a coarse grid (lr from
1e-4 to 10, eight per decade), then twice finer grids zoomed around each of the eight best
settings of the round before (up to 65 learning rates a window, 0.9% apart, then 0.03%;
fewer where a round would pass 8,192 paths; for a torch optimizer, whose settings are each an
instance of their own, two windows of nine), each round one simulation of every setting
from every tuning start; the score of a setting is the median of the objective over
the tuning starts (ties: the median final f - f*). Then it runs the tuned optimizer from ``starts`` random starts and reduces
the objective's distribution to a row: median and quartiles, success rate, median steps to
tolerance. All objectives are lower-is-better:

- ``final``: f - f* at the last step;
- ``distance``: the Euclidean distance from the last point to the nearest global minimum;
- ``steps``: the first step at which f - f* <= ``tol`` (inf if never);
- ``area``: the area under the f - f* curve over the steps, by the trapezoid rule, divided
  by the steps (so in units of f).

A path that diverges scores inf (``steps`` keeps a step reached before it left). f* is the
lowest known minimum; the global minima are the known minima of that value.

**Starts.** Start k of a function is row k of ``lo + (hi - lo) * torch.rand((starts, dim),
generator=torch.Generator().manual_seed(seed), dtype=torch.float64)``, ``lo`` and ``hi``
the function's bounds per coordinate (:func:`random_starts`); the tuning starts are drawn
the same way from ``seed + 1``, or are the function's own start (``tune_starts="start"``, a
tuning from one fixed start). **Success**: the path ends with f - f* <= ``tol`` (1e-3 by
default: on Rastrigin, whose nearest local minima lie near f = 1, that is the global
basin).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..core.errors import BadInput
from ..core.files import write_table
from ..core.functions import TestFunction, get_function
from ..core.limits import MAX_STARTS, check_memory
from ..core.names import did_you_mean, one_line
from ..core.optimizers.base import Optimizer
from ..core.optimizers.foreign import OptimizerError, StepFailed
from ..core.optimizers.registry import get_optimizer
from ..core.simulation.result import Result
from ..core.simulation.runs import Progress, check_steps, peak_bytes, simulate
from ..core.vocabulary import RACE_OBJECTIVES, RACE_TUNABLE

OBJECTIVE_TITLES = {
    "final": "final f - f*",
    "distance": "distance to the global minimum",
    "steps": "steps to f - f* <= tol",
    "area": "area under the f - f* curve / steps",
}
# the coarse grids; each zoomed round spans one step of the round before either side of its best
COARSE = {
    "lr": tuple(10.0 ** (k / 8) for k in range(-32, 9)),  # 1e-4 .. 10, eight per decade
    "momentum": (0.0, 0.5, 0.8, 0.9, 0.95, 0.99),
    "beta1": (0.0, 0.5, 0.8, 0.9, 0.95, 0.99),
    "beta2": (0.9, 0.99, 0.999, 0.9999),
}
ZOOMS = 2  # zoomed rounds after the coarse one
WINDOWS = 8  # a zoomed round zooms around this many of the best settings of the round before
ZOOM_LR = 65  # the most learning rates in a zoomed window: 0.9% apart in the first, 0.03% in the second
ROUND_PATHS = 8192  # a zoomed round's windows take fewer learning rates where more would not fit
ZOOM_LINEAR = 5  # values of any other hyperparameter in a zoomed round
MAX_TUNE_STARTS = 1000
# a torch optimizer cannot take a grid as tensor hyperparameters: each setting is an instance
# of its own (one per start where its rule is not element-wise), stepped in Python, so its
# zoomed rounds are smaller: two windows of nine learning rates
TORCH_WINDOWS, TORCH_ZOOM_LR = 2, 9

Spec = tuple[str, dict[str, Any]]


@dataclass
class RaceRow:
    """One optimizer on one function: its tuned hyperparameters and its distribution.

    ``median``, ``q1``, ``q3``: quartiles of the objective over the starts (inf where more
    than that share diverged); ``success``: the share of starts ending with f - f* <= tol;
    ``steps``: the (lower) median first step with f - f* <= tol over the starts that reached it
    (NaN if none did); ``error``: why the optimizer has no result ("" if it has)."""

    function: str
    optimizer: str
    rank: int  # 1 for the best on its function; 0 for a row with an error
    hypers: dict[str, float]
    median: float = math.nan
    q1: float = math.nan
    q3: float = math.nan
    success: float = math.nan
    steps: float = math.nan
    diverged: int = 0
    error: str = ""
    made: Any = field(default=None, repr=False, compare=False)  # the tuned optimizer, to run again


@dataclass
class Race:
    """A race's rows, ranked within each function, with what it ran: ``scores[(function,
    optimizer)]`` is the objective from each start, ``starts[function]`` the starts."""

    functions: list[TestFunction]
    rows: list[RaceRow]
    scores: dict[tuple[str, str], Tensor]
    starts: dict[str, Tensor]
    objective: str
    budget: int
    clip: float | None
    tol: float
    seed: int
    tune: tuple[str, ...]
    tune_starts: int | str
    optimizers: tuple[str, ...] = ()  # the labels in the order given

    def function(self, name: str) -> TestFunction:
        return next(fn for fn in self.functions if fn.name == name)

    def ranked(self, function: str) -> list[RaceRow]:
        """The rows of one function, best first, rows with an error last."""
        return [row for row in self.rows if row.function == function]

    def table(self) -> str:
        """The ranked rows as text, one block per function under a line saying how it ran;
        a row with an error says why in place of its numbers."""
        clip = f", gradients clipped to norm {self.clip:g}" if self.clip is not None else ""
        return "\n\n".join(f"{fn.name}: {len(self.starts[fn.name])} starts x {self.budget} steps, objective "
                           f"{OBJECTIVE_TITLES[self.objective]}{clip}, seed {self.seed}\n\n{self._block(fn.name)}"
                           for fn in self.functions)

    def _block(self, function: str) -> str:
        header = ("rank", "optimizer", "tuned", f"median {self.objective}", "q1", "q3", "success",
                  f"steps to {self.tol:g}", "diverged")
        done = [row for row in self.ranked(function) if not row.error]
        cells = [header] + [(str(row.rank), row.optimizer, _setting(row.hypers), _g(row.median), _g(row.q1),
                             _g(row.q3), f"{row.success:.0%}", "-" if math.isnan(row.steps) else f"{row.steps:g}",
                             str(row.diverged)) for row in done]
        failed = [row for row in self.ranked(function) if row.error]
        widths = [max(len(cell[i]) for cell in cells + [("-", row.optimizer) for row in failed] if i < len(cell))
                  for i in range(len(header))]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in cells]
        lines.insert(1, "  ".join("-" * w for w in widths))
        return "\n".join(lines + ["-".ljust(widths[0]) + "  " + row.optimizer.ljust(widths[1]) + "  " + row.error
                                  for row in failed])

    def median_start(self, function: str) -> int:
        """The start of median difficulty on ``function``: each start's rank by the objective
        is taken per optimizer (ties by start number), and the start whose mean rank over the
        optimizers is the median one (the lower middle) is chosen."""
        labels = [row.optimizer for row in self.ranked(function) if not row.error]
        if not labels:
            raise BadInput(f"no optimizer finished the race on {function}: it has no median start")
        ranks = torch.stack([_ranks(self.scores[function, label]) for label in labels]).mean(dim=0)
        order = sorted(range(len(ranks)), key=lambda k: (float(ranks[k]), k))
        return order[(len(order) - 1) // 2]

    def paths(self, function: str) -> Result:
        """Every tuned optimizer that finished, run again from the median start of ``function``
        for the race's budget (with its clipping)."""
        k = self.median_start(function)
        tuned = {row.optimizer: row.made for row in self.ranked(function) if not row.error}
        return simulate(self.function(function), tuned, self.starts[function][k], self.budget, clip=self.clip)

    def save(self, path: str | Path) -> Path:
        """The rows as .csv or .json (by the suffix), one per function and optimizer, under a
        header with the race's settings; written atomically."""
        keys = sorted({key for row in self.rows for key in row.hypers})
        columns: dict[str, Any] = {
            "function": np.array([row.function for row in self.rows]),
            "optimizer": np.array([row.optimizer for row in self.rows]),
            "rank": np.array([row.rank for row in self.rows], dtype=np.int64),
            **{key: np.array([row.hypers.get(key, math.nan) for row in self.rows], dtype=np.float64) for key in keys},
            **{name: np.array([getattr(row, name) for row in self.rows], dtype=np.float64)
               for name in ("median", "q1", "q3", "success", "steps")},
            "diverged": np.array([row.diverged for row in self.rows], dtype=np.int64),
            "error": np.array([row.error for row in self.rows]),
        }
        meta = {"kind": "optviz.Race", "objective": self.objective, "budget": self.budget, "clip": self.clip,
                "tol": self.tol, "seed": self.seed, "tune": list(self.tune), "tune_starts": self.tune_starts,
                "starts": {name: len(points) for name, points in self.starts.items()}}
        return write_table(path, columns, meta)

    def __repr__(self) -> str:
        return (f"Race({[fn.name for fn in self.functions]}, optimizers={list(dict.fromkeys(r.optimizer for r in self.rows))}, "
                f"objective={self.objective!r}, budget={self.budget})")


def race(functions: Any, optimizers: Sequence[Any], *, starts: int = 100, budget: int = 500,
         objective: str = "distance", tune: Sequence[str] = ("lr",), tune_starts: int | str = 8,
         clip: float | None = None, tol: float = 1e-3, seed: int = 0, progress: Progress | None = None) -> Race:
    """Race ``optimizers`` on ``functions`` (see the module's docstring for the rules).

    ``functions``: one or several names or TestFunctions with known minima. ``optimizers``:
    names (``"adam"``, ``"nadam"``, ``"pytorch_optimizer:Lion"``), torch.optim.Optimizer
    classes of an importable module (raced by their import path), or (either, hyperparameters)
    pairs; a hyperparameter given is kept, the others asked for in ``tune`` (any of "lr",
    "momentum", "betas") are tuned where the optimizer has them. ``clip``: each path's
    gradient clipped to this norm (see optviz.simulate). ``progress(what, done, total)`` is
    called as each optimizer is done.

    Everything that can be refused is refused before any run (ValueError or TypeError);
    after tuning, an optimizer with no finite score at any grid point on some function is
    refused (BadInput, naming it). An optimizer that fails while it runs (its own step
    raising) keeps a row saying why, and the rest of the race is reported.
    """
    fns, specs = _functions(functions), _specs(optimizers)
    for fn in fns:
        if objective == "distance" and not fn.isolated_minima:
            raise ValueError(f"{fn.name}'s minima are not isolated points (the one marked is one of a continuum): "
                             f"a distance to them means nothing; race it on objective final")
    tune, tune_starts = _checked(objective, tune, starts, tune_starts, budget, clip, tol, seed)
    grids = {label: _coarse(name, hypers, tune) for label, (name, hypers) in specs.items()}
    n_tune = 1 if tune_starts == "start" else tune_starts
    widest = max(max(_cells(grid, n_tune) for grid in grids.values()) * n_tune, starts)
    check_memory(peak_bytes(budget, widest, max(fn.dim for fn in fns), 8),
                 f"a race of {widest:,} paths x {budget} steps", "use fewer starts, a smaller budget or tune less")
    tick = _Ticks(progress, (ZOOMS + 2) * len(fns) * len(specs))  # each tuning round, then each race
    tuned, failed = {}, {}
    for fn in fns:
        points = (torch.tensor(fn.start, dtype=torch.float64)[None] if tune_starts == "start"
                  else random_starts(fn, tune_starts, seed + 1))
        for label, (name, hypers) in specs.items():
            try:
                tuned[fn.name, label] = _tuned(fn, name, hypers, grids[label], points, budget, objective, tol, clip,
                                               tick)
            except (StepFailed, OptimizerError) as error:  # an optimizer's own step failing (see simulate)
                failed[fn.name, label] = f"failed while tuning: {one_line(error)[:200]}"
                tick.to((ZOOMS + 1) * (len(tuned) + len(failed)))
    hopeless = [f"{label} on {fn}" for (fn, label), found in tuned.items() if found is None]
    if hopeless:
        raise BadInput(f"no finite {objective} at any setting tried for {', '.join(hopeless)}: every run diverged; "
                       f"leave it out, tune its lr or clip its gradients")
    rows, scores, race_starts = [], {}, {}
    for fn in fns:
        race_starts[fn.name] = points = random_starts(fn, starts, seed)
        for label in specs:
            tick()
            if (fn.name, label) in failed:
                rows.append(RaceRow(fn.name, label, 0, {}, error=failed[fn.name, label]))
                continue
            hypers, made = tuned[fn.name, label]
            try:
                result = simulate(fn, {label: made}, points, budget, clip=clip)
            except (StepFailed, OptimizerError) as error:  # an optimizer's own step failing (see simulate)
                rows.append(RaceRow(fn.name, label, 0, hypers, error=f"failed: {one_line(error)[:200]}", made=made))
                continue
            scores[fn.name, label] = values = objective_values(result, objective, tol)
            rows.append(_row(fn.name, label, hypers, made, values, result, tol))
    return Race(fns, _ranked(rows), scores, race_starts, objective, budget, None if clip is None else float(clip),
                float(tol), seed, tune, tune_starts, tuple(specs))


class _Ticks:
    """progress("race", done, total) as each optimizer is tuned, or raced, on a function."""

    def __init__(self, progress: Progress | None, total: int) -> None:
        self.progress, self.total, self.done = progress, total, 0

    def __call__(self) -> None:
        self.to(self.done + 1)

    def to(self, done: int) -> None:
        self.done = done
        if self.progress is not None:
            self.progress("race", self.done, self.total)


def random_starts(function: TestFunction, n: int, seed: int) -> Tensor:
    """n starts drawn uniformly within the function's bounds, from ``seed`` (float64)."""
    bounds = torch.tensor(function.bounds, dtype=torch.float64)
    generator = torch.Generator().manual_seed(seed)
    return bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * torch.rand((n, function.dim), generator=generator,
                                                                     dtype=torch.float64)


def objective_values(result: Result, objective: str, tol: float) -> Tensor:
    """The objective of every path of ``result`` (see the module's docstring), inf for a
    path that diverged (but for ``steps``, which keeps a step reached before)."""
    if objective == "steps":
        reached = steps_to(gaps(result), tol)
        return torch.where(reached >= 0, reached.to(torch.float64), math.inf)
    if objective == "final":
        values = gaps(result, last=True)[-1]
    elif objective == "area":
        gap = gaps(result)
        values = (gap[:-1] + gap[1:]).sum(dim=0) / (2 * result.steps)
    else:
        best = min(m.value for m in result.function.minima)
        minima = torch.tensor([m.point for m in result.function.minima if m.value == best], dtype=result.positions.dtype)
        values = torch.cdist(result.positions[-1], minima).min(dim=1).values
    values = values.to(torch.float64)
    values[(result.diverged_at >= 0) | ~torch.isfinite(values)] = math.inf
    return values


def gaps(result: Result, last: bool = False) -> Tensor:
    """f - f* at every step of every path (steps + 1, paths), or at the last step only (1,
    paths); NaN after a path diverged. Only f, not the gradient norms a Result measures."""
    positions = result.positions[-1:] if last else result.positions
    return result.function(positions) - min(m.value for m in result.function.minima)


def steps_to(gap: Tensor, tol: float) -> Tensor:
    """Per path, the first step with f - f* <= tol, or -1."""
    reached = gap <= tol
    first = reached.to(torch.int64).argmax(dim=0)
    return torch.where(reached.any(dim=0), first, -1)


def quartiles(values: Tensor) -> tuple[float, float, float]:
    """The 25th, 50th and 75th percentiles (numpy's linear rule), inf where the share of
    infinite values reaches them."""
    with np.errstate(invalid="ignore"):  # inf - inf, between two infinities: inf
        q = np.percentile(values.numpy(), [25, 50, 75])
    q[np.isnan(q)] = math.inf
    return float(q[0]), float(q[1]), float(q[2])


# --- tuning --------------------------------------------------------------------------------------


def _tuned(fn: TestFunction, name: str, hypers: dict[str, Any], coarse: dict[str, tuple[float, ...]], points: Tensor,
           budget: int, objective: str, tol: float, clip: float | None,
           tick: Callable[[], None] = lambda: None) -> tuple[dict[str, float], Any] | None:
    """The best setting of the coarse grid and of ZOOMS rounds of grids zoomed around the
    WINDOWS best settings of the round before, as (the tuned values, the optimizer made with
    them); None if no point of the coarse grid scored a finite value."""
    ranked = _scored(fn, name, hypers, [coarse], points, budget, objective, tol, clip)
    tick()
    if not ranked:
        return None
    own = isinstance(_made(name, hypers), Optimizer)
    best, lrs = ranked[0], zoom_lrs(coarse, len(points)) if own else TORCH_ZOOM_LR
    for _ in range(ZOOMS):
        windows = [{key: zoomed(key, window[key], cell[key], lrs) for key in window}
                   for _, cell, window in ranked[:WINDOWS if own else TORCH_WINDOWS]]
        ranked = _scored(fn, name, hypers, windows, points, budget, objective, tol, clip) or ranked
        tick()
        best = min(best, ranked[0], key=lambda scored: scored[0])
    cell = best[1]
    return cell, _made(name, {**hypers, **cell})


def _scored(fn: TestFunction, name: str, hypers: dict[str, Any], windows: list[dict[str, tuple[float, ...]]],
            points: Tensor, budget: int, objective: str, tol: float, clip: float | None) -> list[tuple]:
    """Every setting of the windows (each a grid) from every tuning start in one simulation,
    best first: (its score, the setting, its window) for the settings with a finite score,
    the score being (the median objective, the median final f - f*) over the starts, ties
    by their order."""
    cells, homes, seen = [], [], set()
    for window in windows:
        for cell in _grid_cells(window):
            if tuple(cell.values()) not in seen:  # windows may overlap
                seen.add(tuple(cell.values()))
                cells.append(cell)
                homes.append(window)
    result = _simulate_cells(fn, name, hypers, cells, points, budget, clip)
    n = len(points)
    scores = objective_values(result, objective, tol).reshape(len(cells), n)
    gaps = objective_values(result, "final", tol).reshape(len(cells), n)
    keyed = [((quartiles(score)[1], quartiles(gap)[1]), k) for k, (score, gap) in enumerate(zip(scores, gaps))]
    return [(key, cells[k], homes[k]) for key, k in sorted(keyed) if math.isfinite(key[0]) or math.isfinite(key[1])]


def _simulate_cells(fn: TestFunction, name: str, hypers: dict[str, Any], cells: list[dict[str, float]],
                    points: Tensor, budget: int, clip: float | None) -> Result:
    """Every cell from every point, in one simulation: path c * len(points) + k is cell c
    from point k. optviz's own optimizers take the cells as tensor hyperparameters; a torch
    optimizer runs one instance per cell."""
    n = len(points)
    if isinstance(_made(name, hypers), Optimizer):
        columns = {key: torch.tensor([cell[key] for cell in cells], dtype=torch.float64).repeat_interleave(n)[:, None]
                   for key in cells[0]}
        return simulate(fn, {name: _made(name, {**hypers, **columns})}, points.repeat(len(cells), 1), budget, clip=clip)
    each = {f"{c}": _made(name, {**hypers, **cell}) for c, cell in enumerate(cells)}
    return simulate(fn, each, points, budget, clip=clip)


def _coarse(name: str, hypers: dict[str, Any], tune: tuple[str, ...]) -> dict[str, tuple[float, ...]]:
    """The coarse grid of each hyperparameter to tune for this optimizer: those asked for
    that it has and that were not given, each value kept where the optimizer takes it."""
    defaults = _made(name, {}).hyperparams
    keys = []
    for asked in tune:
        if asked == "betas":
            keys += [k for k in ("beta1", "beta2") if "betas" in defaults and "betas" not in hypers]
        elif asked in defaults and asked not in hypers:
            keys.append(asked)
    grid = {}
    for key in keys:
        values = tuple(v for v in COARSE[key] if _takes(name, hypers, key, v))
        if not values:
            raise ValueError(f"{name} takes none of the {key} values {list(COARSE[key])}")
        grid[key] = values
    return grid


def _takes(name: str, hypers: dict[str, Any], key: str, value: float) -> bool:
    try:
        _made(name, {**hypers, key: value})
    except (TypeError, ValueError):
        return False
    return True


def zoom_lrs(grid: dict[str, tuple[float, ...]], n_starts: int) -> int:
    """The learning rates of a zoomed window: ZOOM_LR, or fewer (an odd number, at least 9)
    where WINDOWS windows of them with the other hyperparameters' values from every tuning
    start would exceed ROUND_PATHS paths."""
    others = ZOOM_LINEAR ** (len(grid) - ("lr" in grid))
    fit = ROUND_PATHS // (WINDOWS * others * n_starts)
    return max(9, min(ZOOM_LR, fit - (fit + 1) % 2))


def zoomed(key: str, values: tuple[float, ...], best: float, lrs: int = ZOOM_LR) -> tuple[float, ...]:
    """A zoomed round's values of one hyperparameter around ``best``, one of the ``values``
    of the round before: for lr, ``lrs`` log-spaced from one step of ``values`` below the
    best to one above; for the others, ZOOM_LINEAR evenly spaced from half-way to the lower
    neighbour to half-way to the upper one (the best where it has none)."""
    if len(values) == 1:
        return values
    i = values.index(best)
    if key == "lr":
        ratio = values[1] / values[0]
        return tuple(np.geomspace(best / ratio, best * ratio, lrs).tolist())
    low = (values[i - 1] + best) / 2 if i > 0 else best
    high = (values[i + 1] + best) / 2 if i + 1 < len(values) else best
    return tuple(np.linspace(low, high, ZOOM_LINEAR).tolist())


def _grid_cells(grid: dict[str, tuple[float, ...]]) -> list[dict[str, float]]:
    """Every combination of the grid's values, the first key varying slowest."""
    cells: list[dict[str, float]] = [{}]
    for key, values in grid.items():
        cells = [{**cell, key: float(v)} for cell in cells for v in values]
    return cells


def _cells(grid: dict[str, tuple[float, ...]], n_starts: int) -> int:
    """The most settings of any round."""
    lrs = zoom_lrs(grid, n_starts)
    finer = WINDOWS * math.prod(lrs if key == "lr" else ZOOM_LINEAR for key in grid)
    return max(math.prod(len(values) for values in grid.values()), finer)


def _made(name: str, hypers: dict[str, Any]) -> Any:
    """The optimizer ``name`` with ``hypers``, where beta1 and beta2 name one of the betas,
    the other at the optimizer's own default."""
    if "beta1" in hypers or "beta2" in hypers:
        default = get_optimizer(name, allow_import=True).hyperparams["betas"]
        rest = {k: v for k, v in hypers.items() if k not in ("beta1", "beta2")}
        hypers = {**rest, "betas": (hypers.get("beta1", default[0]), hypers.get("beta2", default[1]))}
    return get_optimizer(name, allow_import=True, **hypers)


# --- checks and rows -----------------------------------------------------------------------------


def _functions(functions: Any) -> list[TestFunction]:
    items = [functions] if isinstance(functions, (str, TestFunction)) else list(functions)
    if not items:
        raise ValueError("a race needs at least one function")
    fns = [get_function(item) for item in items]
    for fn in fns:
        if not fn.minima:
            raise ValueError(f"a race needs functions with a known global minimum; {fn.name} has none")
    if len({fn.name for fn in fns}) < len(fns):
        raise ValueError("a race runs each function once: two have the same name")
    return fns


def _specs(optimizers: Sequence[Any]) -> dict[str, Spec]:
    """label -> (name, hyperparameters given), each made once (torch's checks of its values)."""
    if isinstance(optimizers, (str, tuple)):
        optimizers = [optimizers]
    specs: dict[str, Spec] = {}
    for item in optimizers:
        name, hypers = item if isinstance(item, tuple) and len(item) == 2 else (item, {})
        if isinstance(name, type) and issubclass(name, torch.optim.Optimizer):
            name = f"{name.__module__}:{name.__qualname__}"  # a class is raced by its import path
        if not isinstance(name, str) or not isinstance(hypers, dict):
            raise TypeError(f"optimizers are names, torch.optim.Optimizer classes or (either, hyperparameters) "
                            f"pairs (a factory sets its own lr, which a race tunes), got {item!r}")
        _made(name, hypers)
        label = name + (":" + ",".join(f"{k}={_written(v)}" for k, v in hypers.items()) if hypers else "")
        if label in specs:
            raise ValueError(f"{label} is in the race twice")
        specs[label] = (name, dict(hypers))
    if not specs:
        raise ValueError("a race needs at least one optimizer")
    return specs


def _checked(objective: str, tune: Sequence[str], starts: int, tune_starts: int | str, budget: int,
             clip: float | None, tol: float, seed: int) -> tuple[tuple[str, ...], int | str]:
    """ValueError or TypeError for any setting out of range; the names to tune (lr first)
    and the tuning starts."""
    if objective not in RACE_OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}{did_you_mean(str(objective), RACE_OBJECTIVES)}; "
                         f"one of {', '.join(RACE_OBJECTIVES)}")
    _whole_number(starts, "starts", MAX_STARTS)
    if not isinstance(tune_starts, str):
        _whole_number(tune_starts, "tune_starts", MAX_TUNE_STARTS)
    elif tune_starts != "start":
        raise ValueError(f"tune_starts must be a number of random starts or 'start', got {tune_starts!r}")
    if check_steps(budget) < 1:
        raise ValueError("budget must be at least 1 step")
    if clip is not None and (isinstance(clip, bool) or not isinstance(clip, (int, float)) or not 0 < clip < math.inf):
        raise ValueError(f"clip must be a positive finite gradient norm, got {clip!r}")
    if isinstance(tol, bool) or not isinstance(tol, (int, float)) or not 0 < tol < math.inf:
        raise ValueError(f"tol must be a positive finite number, got {tol!r}")
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"seed must be an int, got {seed!r}")
    return _tune_names(tune), tune_starts


def _tune_names(tune: Sequence[str]) -> tuple[str, ...]:
    names = (tune,) if isinstance(tune, str) else tuple(tune)
    for name in names:
        if name not in RACE_TUNABLE:
            raise ValueError(f"cannot tune {name!r}{did_you_mean(str(name), RACE_TUNABLE)}; "
                             f"tune any of {', '.join(RACE_TUNABLE)}")
    return tuple(dict.fromkeys(("lr", *names)))


def _whole_number(value: Any, what: str, most: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= most:
        raise ValueError(f"{what} must be a whole number from 1 to {most:,}, got {value!r}")
    return value


def _row(function: str, label: str, hypers: dict[str, float], made: Any, values: Tensor, result: Result,
         tol: float) -> RaceRow:
    q1, median, q3 = quartiles(values)
    gap = gaps(result)
    reached = steps_to(gap, tol)
    reached = reached[reached >= 0]
    steps = float(reached.median()) if len(reached) else math.nan  # the lower middle: a step that was taken
    success = float((gap[-1] <= tol).double().mean())
    return RaceRow(function, label, 0, hypers, median, q1, q3, success, steps, int((result.diverged_at >= 0).sum()),
                   made=made)


def _ranked(rows: list[RaceRow]) -> list[RaceRow]:
    """Rows grouped by function (in race order), best first by median, then upper quartile,
    then success; rows with an error last, ranked 0."""
    order = list(dict.fromkeys(row.function for row in rows))
    ranked = []
    for function in order:
        mine = [row for row in rows if row.function == function]
        ok = sorted((row for row in mine if not row.error), key=lambda r: (r.median, r.q3, -r.success))
        for rank, row in enumerate(ok, start=1):
            row.rank = rank
        ranked += ok + [row for row in mine if row.error]
    return ranked


def _ranks(values: Tensor) -> Tensor:
    """Each value's rank (0 for the lowest), ties by position."""
    order = torch.from_numpy(np.lexsort((np.arange(len(values)), values.numpy())))
    ranks = torch.empty(len(values), dtype=torch.float64)
    ranks[order] = torch.arange(len(values), dtype=torch.float64)
    return ranks


def _written(value: Any) -> str:
    """A hyperparameter's value as the command line writes it: 0.9, 0.9/0.999."""
    return "/".join(f"{v:g}" for v in value) if isinstance(value, (tuple, list)) else f"{value:g}" \
        if isinstance(value, float) else str(value)



def _setting(hypers: dict[str, float]) -> str:
    return ", ".join(f"{key}={value:.3g}" for key, value in hypers.items()) or "(given)"


def _g(value: float) -> str:
    return "inf" if value == math.inf else f"{value:.3g}"
