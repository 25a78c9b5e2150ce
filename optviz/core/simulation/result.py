"""The paths of a simulation, and their files.

A :class:`Result` holds every path of a run; ``save`` and ``load`` keep it as data (.npz,
.json, or .csv one row per optimizer, start and step) that draws the same pictures again.
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from .. import __version__
from ..files import read_table, write_table
from ..functions import Minimum, TestFunction, get_function, sampled_function
from ..functions.formulas import parse_expression
from ..optimizers.base import Optimizer
from ..optimizers.registry import entry_of, from_hyperparams

SURFACE_SAMPLES = {1: 1001, 2: 201}  # per side, for a function that cannot be made again
SHOWN_COORDINATES = 6  # a table's points of more coordinates show the first and last three
MEASURE_POINTS = 1 << 20  # points per pass when values and gradient norms are computed


class _Measured:
    """A Result field that, given as None, is computed from the positions when first read:
    a run that only needs where its paths end never pays for f at every point."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name, self.slot = name, "_" + name

    def __get__(self, result: "Result | None", owner: type | None = None) -> Tensor | None:
        if result is None:
            return None  # the dataclass's default
        if result.__dict__.get(self.slot) is None:
            measured = dict(zip(("_losses", "_grad_norms"), _measure(result.function, result.positions)))
            for slot, value in measured.items():
                if result.__dict__.get(slot) is None:  # a given field is kept
                    result.__dict__[slot] = value
        return result.__dict__[self.slot]

    def __set__(self, result: "Result", value: Tensor | None) -> None:
        result.__dict__[self.slot] = value


def _measure(function: TestFunction, positions: Tensor) -> tuple[Tensor, Tensor]:
    """f and the gradient norm at every point of (steps + 1, paths, dim) positions, a slab of
    steps at a time so that the function's temporaries stay small."""
    losses = torch.empty(positions.shape[:2], dtype=positions.dtype)
    grad_norms = torch.empty_like(losses)
    slab = max(1, MEASURE_POINTS // max(1, positions.shape[1]))
    for first in range(0, len(positions), slab):
        points = positions[first : first + slab]
        losses[first : first + slab] = function(points)
        grad_norms[first : first + slab] = torch.linalg.vector_norm(function.grad(points), dim=-1)
    return losses, grad_norms


@dataclass(frozen=True, repr=False)
class Result:
    """The paths of a simulation.

    Path ``b`` is optimizer ``b // n_starts`` from start ``b % n_starts``.
    ``positions`` is (steps + 1, paths, dim), ``losses`` and ``grad_norms`` (steps + 1, paths),
    computed from the positions when first read unless given;
    after a path diverges (``diverged_at[b] = k``, -1 for never) its entries past step k are
    NaN, and step k itself holds the escaped point if it is finite.
    ``modes`` says how each optimizer ran ("batched", "per-start", see optviz.simulate),
    ``lrs`` the learning rate each one used at each step (steps,), where it has one number,
    ``noise`` the gradient noise, if any, and ``state`` (with ``simulate(state=True)``) what
    each optimizer held after every step: label -> field -> (steps + 1, n_starts, dim), row
    t after step t, NaN where the field did not exist yet and after its path diverged. The
    state is the run's alone: files do not keep it.
    """

    function: TestFunction
    optimizers: dict[str, Any]
    starts: Tensor
    positions: Tensor
    diverged_at: Tensor
    losses: Tensor | None = _Measured()  # type: ignore[assignment]
    grad_norms: Tensor | None = _Measured()  # type: ignore[assignment]
    modes: dict[str, str] = field(default_factory=dict)
    lrs: dict[str, Tensor] = field(default_factory=dict)
    noise: str | None = None
    state: dict[str, dict[str, Tensor]] = field(default_factory=dict)

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
            losses=_picked(self.__dict__.get("_losses"), paths),
            grad_norms=_picked(self.__dict__.get("_grad_norms"), paths),
            diverged_at=self.diverged_at[paths],
            modes={name: self.modes[name] for name in names if name in self.modes},
            lrs={name: self.lrs[name] for name in names if name in self.lrs},
            noise=self.noise,
            state={name: {key: value[:, starts] for key, value in self.state[name].items()}
                   for name in names if name in self.state},
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

    def table(self, tolerance: float) -> str:
        """How each path did, as text (what ``optviz compare`` prints): a line naming the
        function, the start and the steps, then a row per path with its final point, final f
        and the steps until f is within ``tolerance`` of the minimum (or the step it diverged
        at), then notes on optimizers run once per start and on the gradient noise."""
        fn = self.function
        reached = self.steps_to(tolerance)
        rows = [("optimizer", "final point", "final f", f"steps to f-f*<={tolerance:g}")]
        for b, name in enumerate(self.names):
            if self.diverged_at[b] >= 0:
                rows.append((name, "-", "-", f"diverged at step {int(self.diverged_at[b])}"))
                continue
            point = _point_text(self.positions[-1, b].tolist())
            steps = "-" if not fn.minima else (str(int(reached[b])) if reached[b] >= 0 else "not reached")
            rows.append((name, point, f"{self.losses[-1, b].item():.4g}", steps))
        widths = [max(len(row[i]) for row in rows) for i in range(4)]
        lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
        lines.insert(1, "  ".join("-" * w for w in widths))
        start = self.starts[0].tolist()
        shown = str(tuple(start)) if len(start) <= SHOWN_COORDINATES else _point_text(start)
        header = f"{fn.name}: {fn.formula}, from {shown}, {self.steps} steps"
        notes = [f"{label}: {mode}, one torch instance per start" for label, mode in self.modes.items()
                 if mode.startswith("per-start")]
        if self.noise:
            notes.append(f"{self.noise} (the same draws for every optimizer)")
        return header + "\n\n" + "\n".join(lines + ([""] + notes if notes else []))

    def save(self, path: str | Path, *, notes: dict[str, Any] | None = None) -> Path:
        """Write the paths as data, by the suffix: .npz, .json, or .csv with one row per
        optimizer, start and step (x, y, ..., f, grad_norm) under a header line that says how
        to make the function and the optimizers again. ``notes``: more JSON-safe entries for
        the header, each under its own key (read them back with optviz.core.files.read_table;
        load passes them by). Written atomically; returns the path."""
        return _save(self, path, notes or {})

    @classmethod
    def load(cls, path: str | Path, *, function: TestFunction | None = None) -> "Result":
        """A result saved by :meth:`save`, ready to draw again. Functions and optimizers are
        made again from their recipes; a function made by code comes back as its sampled
        surface (.npz and .json keep one; for .csv pass ``function=``), an optimizer that
        cannot be made again as a record that draws but does not step."""
        return _load(path, function)

    def __repr__(self) -> str:
        diverged = int((self.diverged_at >= 0).sum())
        return (
            f"Result({self.function.name}, optimizers={list(self.optimizers)}, "
            f"starts={self.n_starts}, steps={self.steps}, diverged={diverged})"
        )


def _point_text(point: list[float]) -> str:
    """A point for a table: every coordinate, or for a long one the first and last few and how
    many there are."""
    if len(point) <= SHOWN_COORDINATES:
        return f"({', '.join(f'{x:.4g}' for x in point)})"
    ends = SHOWN_COORDINATES // 2
    return (f"({', '.join(f'{x:.4g}' for x in point[:ends])}, ..., "
            f"{', '.join(f'{x:.4g}' for x in point[-ends:])}: {len(point)} numbers)")


def _picked(measured: Tensor | None, paths: Tensor) -> Tensor | None:
    return None if measured is None else measured[:, paths]


# --- files ---------------------------------------------------------------------------------


def _save(result: Result, path: str | Path, notes: dict[str, Any]) -> Path:
    positions = result.positions.numpy()
    steps, paths, dim = positions.shape
    axis_names = ["x", "y"] if dim == 2 else ["x"] if dim == 1 else [f"x{k + 1}" for k in range(dim)]
    per_path = np.repeat(np.arange(paths), steps)
    columns = {
        "optimizer": np.array(result.names)[per_path],
        "start": per_path % result.n_starts,
        "step": np.tile(np.arange(steps), paths),
        **{name: positions[:, :, k].T.reshape(-1) for k, name in enumerate(axis_names)},
        "f": result.losses.numpy().T.reshape(-1),
        "grad_norm": result.grad_norms.numpy().T.reshape(-1),
    }
    fn = result.function
    meta = {
        "kind": "optviz.Result", "optviz": __version__, "dtype": str(result.positions.dtype).removeprefix("torch."),
        "coordinates": axis_names, "n_starts": result.n_starts, "diverged_at": result.diverged_at.tolist(),
        "function": {
            "recipe": fn.recipe, "name": fn.name, "bounds": [list(b) for b in fn.bounds], "start": list(fn.start),
            "minima": [[list(m.point), m.value] for m in fn.minima], "formula": fn.formula,
            "description": fn.description, "axes": list(fn.axes), "title": fn.title, "tex": fn.tex, "value": fn.value,
        },
        "optimizers": [{"label": label, "name": opt.name, "hyperparams": {k: _encode(v) for k, v in opt.hyperparams.items()},
                        "mode": result.modes.get(label), "lrs": result.lrs[label].tolist() if label in result.lrs else None}
                       for label, opt in result.optimizers.items()],
        "noise": result.noise,
    }
    taken = sorted(set(notes) & {*meta, "columns"})
    if taken:
        raise ValueError(f"notes cannot replace the header's own {', '.join(taken)}")
    meta.update(notes)
    arrays = {}
    if (fn.recipe is None or "clip" in fn.recipe) and fn.dim in SURFACE_SAMPLES and not str(path).lower().endswith(".csv"):
        arrays["surface"] = _surface(fn)
    return write_table(path, columns, meta, arrays)


def _load(path: str | Path, function: TestFunction | None) -> Result:
    columns, meta, arrays = read_table(path)
    if meta.get("kind") != "optviz.Result":
        raise ValueError(f"cannot read {path}: it holds {meta.get('kind', 'no optviz result')}, not a Result")
    try:
        dtype = {"float32": torch.float32, "float64": torch.float64}[meta["dtype"]]
        labels = [entry["label"] for entry in meta["optimizers"]]
        paths = len(labels) * int(meta["n_starts"])
        steps = len(columns["step"]) // max(paths, 1)
        if steps * paths != len(columns["step"]) or paths == 0:
            raise ValueError(f"{len(columns['step'])} rows do not make {paths} paths of equal length")

        def grid(name: str) -> Tensor:
            return torch.as_tensor(columns[name].astype(np.float64)).reshape(paths, steps).T.to(dtype)

        positions = torch.stack([grid(name) for name in meta["coordinates"]], dim=-1)
        fn = function or _function(meta["function"], arrays.get("surface"))
        optimizers = {entry["label"]: _optimizer(entry) for entry in meta["optimizers"]}
        diverged_at = torch.tensor(meta["diverged_at"], dtype=torch.int64)
    except (KeyError, TypeError, ValueError) as error:
        raise ValueError(f"cannot read {path}: {error}") from None
    if fn.dim != positions.shape[-1]:
        raise ValueError(f"cannot read {path}: its paths are {positions.shape[-1]}D, the function {fn.dim}D")
    saved = {entry["label"]: entry for entry in meta["optimizers"]}
    return Result(function=fn, optimizers=optimizers, starts=positions[0, : int(meta["n_starts"])].clone(),
                  positions=positions, losses=grid("f"), grad_norms=grid("grad_norm"), diverged_at=diverged_at,
                  modes={label: e["mode"] for label, e in saved.items() if isinstance(e.get("mode"), str)},
                  lrs={label: torch.tensor(e["lrs"], dtype=torch.float64) for label, e in saved.items()
                       if isinstance(e.get("lrs"), list)},
                  noise=meta.get("noise") if isinstance(meta.get("noise"), str) else None)


def _function(saved: dict[str, Any], surface: np.ndarray | None) -> TestFunction:
    bounds = tuple(tuple(map(float, b)) for b in saved["bounds"])
    start = tuple(map(float, saved["start"]))
    recipe = saved.get("recipe") or {}
    if "name" in recipe:
        made = get_function(recipe["name"], dim=recipe.get("dim"), condition=recipe.get("condition"))
        return dataclasses.replace(made, bounds=bounds, start=start)
    if "expression" in recipe:
        return parse_expression(recipe["expression"], bounds, start=start, name=saved["name"])
    if surface is None:
        raise ValueError(f"the function {saved['name']!r} was made by code and this file keeps no surface of it: "
                         f"pass Result.load(path, function=...)")
    minima = tuple(Minimum(tuple(map(float, point)), float(value)) for point, value in saved["minima"])
    return sampled_function(torch.as_tensor(surface), bounds, name=saved["name"], minima=minima, start=start,
                            description=saved["description"], formula=saved["formula"], axes=tuple(saved["axes"]),
                            title=saved.get("title", ""), tex=saved.get("tex", ""), value=saved.get("value", "f"))


def _surface(fn: TestFunction) -> np.ndarray:
    n = SURFACE_SAMPLES[fn.dim]
    axes = [torch.linspace(lo, hi, n, dtype=torch.float64) for lo, hi in fn.bounds]
    points = torch.stack(torch.meshgrid(*axes, indexing="xy"), dim=-1)
    return fn(points).numpy()


def _optimizer(entry: dict[str, Any]) -> Any:
    """The optimizer made again (never by importing a module), or where that cannot be (a
    penalty, an object of code, a class from another package) a record with its name and
    hyperparameters that draws (in its kind's colour) but refuses to step."""
    hyperparams = {key: _decode(value) for key, value in entry["hyperparams"].items()}
    try:
        return from_hyperparams(entry["name"], hyperparams)
    except (KeyError, TypeError, ValueError, RuntimeError):
        def refuse(*args: Any) -> Any:
            raise RuntimeError(f"{entry['label']} was loaded from a file and cannot step")

        return Optimizer(refuse, refuse, entry["name"], hyperparams, entry=entry_of(entry["name"], hyperparams))


def _encode(value: Any) -> Any:
    """A hyperparameter as JSON: tuples as lists, tensors and other objects tagged."""
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    if isinstance(value, float):
        return value if math.isfinite(value) else {"float": repr(value)}
    if isinstance(value, (tuple, list)):
        return [_encode(v) for v in value]
    if isinstance(value, Tensor):
        return {"tensor": [_encode(v) for v in value.reshape(-1).tolist()], "shape": list(value.shape),
                "dtype": str(value.dtype).removeprefix("torch.")}
    return {"object": type(value).__name__, "label": str(getattr(value, "label", value))}


def _decode(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_decode(v) for v in value)
    if isinstance(value, dict) and "float" in value:
        return float(value["float"])
    if isinstance(value, dict) and "tensor" in value:
        values = [_decode(v) for v in value["tensor"]]
        return torch.tensor(values, dtype=getattr(torch, value["dtype"])).reshape(value["shape"])
    return value
