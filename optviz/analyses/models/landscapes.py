"""The loss landscape of any model around its weights, with training paths on it.

``landscape(model, loss_fn, data, optimizers=... | checkpoints=...)`` draws a 2D slice of
parameter space through a centre, spanned by two directions (see optviz.weights); with
neither, the slice around the model's own weights on random directions, with no path:

- the paths are the user's own checkpoints (state_dicts or files saved during training: any
  optimizer, any schedule), or copies of the model trained from the same initial weights
  with each of ``optimizers`` (optviz's own or any torch optimizer, with schedules);
- the centre is the last checkpoint, or the first optimizer's final weights, or the model's
  own weights when there is no path;
- ``directions`` are "pca" (of the paths), "random" (filter-normalised, Li et al. 2018),
  "hessian" (the top two eigenvectors of the loss's Hessian at the centre), or saved
  Directions, to draw several models on the same slice; ``params`` restricts them to some of
  the parameters (a layer, an adapter), the others staying fixed;
- the loss over the grid is the mean over all the data (or its first ``examples``) at every
  point, in eval mode, batched, on ``device``, split across ranks under torch.distributed and
  saved as it goes to ``save`` (see optviz.evaluation);
- ``sharpness_every=k`` also measures the top Hessian eigenvalue at every k-th point of each
  path (see optviz.landscape.sharpness_along);
- every path is projected onto the slice by least squares, drawn with each point's true loss
  (at its own BatchNorm statistics), and its projection error is the share of its squared
  offset from the centre that the slice cannot show.

Without a model it is SEEDS.md's MLP (12 -> 64 -> 32 -> 1) on its synthetic data, trained by
three optimizers, as the gallery shows it. :func:`interpolate` gives the 1D view (Goodfellow et
al. 2015): the loss along the straight line between two sets of weights.
"""

from __future__ import annotations

import copy
import csv
import inspect
import io
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn

from ...core.functions import TestFunction, sampled_function
from ...core.limits import MAX_LANDSCAPE_RESOLUTION, MIN_REFINED_RESOLUTION, check_memory, check_work
from ...core.optimizers.base import Optimizer
from ...core.optimizers.foreign import TorchOptimizer
from ...core.optimizers.registry import BUILT_INS, as_source, get_optimizer
from ...core.optimizers.schedules import step_all
from ...core.simulation.result import Result
from ...core.simulation.runs import Progress
from .cost import Estimate, forecast, refined
from .evaluation import EvaluationError, Evaluator, Store, batches, device_for, digest, from_rank_zero, rank_and_world
from .hessian import Hessian, HessianError, Sharpness, along_path, eigen_directions
from .training import epoch, mlp_data, mlp_model
from .trust import Trust, assess, second_directions
from .weights import Directions, Layout, WeightsError, chosen, filter_normalised, load_checkpoints, principal

DEFAULT_OPTIMIZERS = (
    ("sgd", {"lr": 0.02, "momentum": 0.9}),
    ("adam", {"lr": 0.005}),
    ("rmsprop", {"lr": 0.002}),
)


class LandscapeError(ValueError):
    """A landscape that cannot be drawn, said in one line before the grid starts."""


@dataclass(frozen=True)
class Landscape:
    """Loss over a grid of the slice (``losses[i, j]`` at betas[i], alphas[j]) and each path
    projected onto it."""

    alphas: Tensor
    betas: Tensor
    losses: Tensor
    directions: str  # "pca", "random", "hessian" or "loaded"
    explained: tuple[float, float] | None
    optimizers: dict[str, Any]  # what made each path (a record for checkpoints)
    paths: dict[str, Tensor]  # (steps + 1, 2) coordinates in the slice
    path_losses: dict[str, Tensor]  # the true loss at each recorded point
    projection_error: dict[str, float]  # share of the path's squared offset the slice cannot show
    basis: Directions | None = None
    model_name: str = "MLP"
    value: str = "training loss"  # what the grid's numbers are
    line: "Line | None" = None  # the 1D interpolation along the first path, when asked for
    evaluated: Tensor | None = None  # refined: the grid points evaluated, the rest interpolated (None: all)
    trust: Trust | None = None  # how far the picture can be trusted (see optviz.landscape.Trust)
    sharpness: dict[str, Sharpness] | None = None  # each path's top Hessian eigenvalue, when asked for

    @property
    def axis_labels(self) -> tuple[str, str]:
        if self.basis is not None and self.basis.eigenvalues is not None:
            return tuple(f"Hessian eigenvector {k + 1} (λ = {value:.3g})"  # type: ignore[return-value]
                         for k, value in enumerate(self.basis.eigenvalues))
        if self.explained is None:
            return "direction 1 (filter-normalised)", "direction 2 (filter-normalised)"
        return tuple(f"PC{k + 1} ({share:.0%} of variance)" for k, share in enumerate(self.explained))  # type: ignore[return-value]

    def function(self) -> TestFunction:
        """The slice as a 2D test function: bilinear interpolation of the grid."""
        bounds = ((self.alphas[0].item(), self.alphas[-1].item()), (self.betas[0].item(), self.betas[-1].item()))
        kind = "PCA" if self.explained else "Hessian" if self.directions == "hessian" else "random"
        return sampled_function(
            self.losses, bounds, name="landscape", start=(0.0, 0.0),
            title=f"{self.model_name} {self.value} on a {kind} slice", value=self.value,
            description=f"{self.model_name} {self.value} on a {self.directions} slice",
            formula=f"{self.model_name} loss, " + ("PCA directions" if self.explained else
                                                    "top Hessian eigenvectors" if kind == "Hessian" else
                                                    "filter-normalised random directions"),
            axes=self.axis_labels,
        )

    def result(self, errors: bool = False) -> Result:
        """The projected paths as a Result on the slice, for optviz's stills and GIFs; with
        ``errors``, each path's name says how much of it the slice cannot show (its legend
        entry in a picture)."""
        steps = max(len(p) for p in self.paths.values())
        positions = torch.stack([_pad(p, steps) for p in self.paths.values()], dim=1)
        losses = torch.stack([_pad(l.unsqueeze(1), steps)[:, 0] for l in self.path_losses.values()], dim=1)
        return Result(
            function=self.function(), optimizers={self.shown_name(name) if errors else name: opt
                                                  for name, opt in self.optimizers.items()},
            starts=positions[0, :1], positions=positions, losses=losses,
            grad_norms=torch.full_like(losses, float("nan")),
            diverged_at=torch.full((positions.shape[1],), -1, dtype=torch.int64),
        )

    def shown_name(self, name: str) -> str:
        """A path's name with the share of its squared offset the slice cannot show."""
        return f"{name}: {self.projection_error[name]:.0%} off the slice"

    def save(self, path: Any) -> Any:
        """The projected paths as data (see Result.save); .npz and .json keep the grid too,
        and every format the trust report (read it back with Trust.read)."""
        return self.result().save(path, notes={"trust": self.trust.to_dict()} if self.trust else None)

    def summary(self) -> str:
        lines = [f"{self.directions} directions" + (
            f", explained variance {self.explained[0]:.1%} + {self.explained[1]:.1%}" if self.explained else "")]
        for name in self.paths:
            if len(self.paths[name]) == 1:  # the model alone, no path
                lines.append(f"{name}: loss {self.path_losses[name][-1]:.4g} at the centre")
                continue
            lines.append(f"{name}: final loss {self.path_losses[name][-1]:.4g}, "
                         f"projection error {self.projection_error[name]:.1%}")
        if self.evaluated is not None:
            done, n = int(self.evaluated.sum()), self.evaluated.numel()
            lines.append(f"refined: {done:,} of {n:,} grid points evaluated ({done / n:.0%}), the rest interpolated")
        for name, found in (self.sharpness or {}).items():
            lines.append(f"{name}: sharpness (top Hessian eigenvalue) {found.top[0]:.4g} at step 0"
                         + (f", {found.top[-1]:.4g} at step {int(found.steps[-1])}" if len(found.steps) > 1 else ""))
        return "\n".join(lines)

    def sharpness_table(self) -> str:
        """Each path's measured sharpness as CSV: path, step, then the k top eigenvalues."""
        found = self.sharpness or {}
        k = max((s.values.shape[1] for s in found.values()), default=1)
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")  # a label with a comma ("betas=(0.9,0.99)") is quoted
        writer.writerow(["path", "step", *(f"eigenvalue_{i + 1}" for i in range(k))])
        writer.writerows([name, int(step), *(repr(float(v)) for v in values)]
                         for name, s in found.items() for step, values in zip(s.steps, s.values))
        return text.getvalue()


@dataclass(frozen=True)
class Line:
    """The loss along the line from ``start`` (alpha 0) to ``end`` (alpha 1), and the points of
    a path placed on it (their projection onto the line) with their true losses."""

    alphas: Tensor
    losses: Tensor
    path_alphas: Tensor = field(default_factory=lambda: torch.zeros(0))
    path_losses: Tensor = field(default_factory=lambda: torch.zeros(0))
    title: str = "loss"


def landscape(
    model: nn.Module | None = None,
    loss_fn: Callable[[Tensor, Tensor], Tensor] | None = None,
    data: Any = None,
    *,
    optimizers: Sequence[Any] | None = None,
    checkpoints: Sequence[Any] | None = None,
    directions: str | Directions | None = None,
    params: str | Callable[[str, nn.Parameter], bool] | None = None,
    resolution: int = 51,
    span: float | Sequence[float] | None = None,
    device: Any = None,
    train_data: Any = None,
    epochs: int = 20,
    batch: int = 32,
    seed: int = 0,
    examples: int | None = None,
    batch_size: int | None = None,
    biases: bool = False,
    chunk: int = 32,
    save: str | Path | None = None,
    line: int = 0,
    progress: Progress | None = None,
    max_work: int | None = None,
    estimate: bool = False,
    refine: bool = False,
    check: bool = False,
    sharpness_every: int | None = None,
) -> Landscape | Estimate:
    """The loss landscape of ``model`` under ``loss_fn`` over ``data`` (see the module's
    docstring); with no model, the built-in MLP.

    ``optimizers``: (name, hyperparameters) pairs or optimizers (optviz's, torch classes,
    partials, scheduled ones), trained ``epochs`` epochs of minibatches of ``batch`` on
    ``train_data`` (default ``data``) from the model's weights, shuffled by ``seed``.
    ``checkpoints``: the user's own path, state_dicts or files. With neither, the slice is
    centred on the model's weights, with no path. ``directions``: "pca" with a path, "random"
    without one (the default), or "hessian": the unit eigenvectors of the two largest
    eigenvalues of the loss's Hessian at the centre (over ``params``'s parameters; grid units
    are then distances in parameter space, -1..1 without a path). ``params``: only the
    parameters it selects move (see optviz.weights.chosen: "fc2.*", a function (name,
    parameter) -> bool, or "trainable"); the directions are zero on the others. ``span``: the grid's extent in
    direction units, s for -s..s on both axes or (a0, a1, b0, b1); by default the paths'
    extent plus 15% (-1..1 for random directions with a single point). ``examples``
    and ``batch_size`` choose the evaluation data (see optviz.evaluation); ``biases`` moves
    biases and normalisation parameters in random directions. ``save``: a folder that keeps
    finished grid points (and the training paths), to resume a killed run. ``line=n`` also
    evaluates n points of the straight line from the first path's first point to its last
    (see :func:`interpolate`). ``progress`` hears of the training steps, then of the grid points.
    ``max_work``: the most grid points x examples x weights to evaluate (a landscape a file
    asks for), refused before any training unless OPTVIZ_ALLOW_LARGE=1; None for no ceiling.
    ``estimate``: return an Estimate instead (see optviz.analyses.models.cost), the work counted
    and timed on one chunk, nothing trained or written (a run over the memory budget or
    ``max_work`` is refused all the same). ``refine``: evaluate a coarse grid, then the full
    grid only near the paths, the minimum and where the loss varies fast, interpolating the
    rest (see optviz.analyses.models.cost; ``Landscape.evaluated`` says which points).

    Every landscape carries its trust report (``.trust``, see optviz.landscape.Trust): the
    centre against the model's own loss, the slice's lowest point, each path's share off
    the plane, and whether the grid resolves the curvature at the centre (two Hessian-vector
    products). ``check`` adds a second slice on another seed's random directions over the
    same grid (twice the grid's cost) and says whether the two agree.

    ``sharpness_every=k``: the top Hessian eigenvalue at every k-th point of each path (its
    first and last too), in ``sharpness`` (see optviz.landscape.sharpness_along).
    """
    if directions is None:
        directions = "pca" if optimizers is not None or checkpoints is not None or model is None else "random"
    if not isinstance(directions, Directions) and directions not in ("pca", "random", "hessian"):
        raise LandscapeError(f"directions must be 'pca', 'random', 'hessian' or saved Directions, got {directions!r}")
    if isinstance(resolution, bool) or not isinstance(resolution, int) or not 3 <= resolution <= MAX_LANDSCAPE_RESOLUTION:
        raise LandscapeError(f"resolution must be a whole number between 3 and {MAX_LANDSCAPE_RESOLUTION}, got {resolution!r}")
    if isinstance(chunk, bool) or not isinstance(chunk, int) or chunk < 1:
        raise LandscapeError(f"chunk must be a whole number >= 1, got {chunk!r}")
    _check_whole(epochs=epochs, batch=batch)
    _check_cost(estimate, refine, resolution)
    if not isinstance(check, bool):
        raise LandscapeError(f"check must be True or False, got {check!r}")
    if sharpness_every is not None:
        _check_whole(sharpness_every=sharpness_every)
    built_in = model is None
    if built_in:
        x, y, _, _ = mlp_data(seed)
        model, loss_fn, data = mlp_model(seed=seed), nn.functional.mse_loss, (x, y)
        if optimizers is None and checkpoints is None:
            optimizers = DEFAULT_OPTIMIZERS
    elif not isinstance(model, nn.Module):
        hint = " (optimizers go in optimizers=)" if isinstance(model, (list, tuple)) else ""
        raise LandscapeError(f"landscape(model, loss_fn, data): model must be an nn.Module, got "
                             f"{type(model).__name__}{hint}")
    elif not callable(loss_fn):
        raise LandscapeError(f"landscape(model, loss_fn, data): loss_fn must be a function, got {type(loss_fn).__name__}")
    if optimizers is not None and checkpoints is not None:
        raise LandscapeError("give the path as checkpoints= (your own training) or optimizers= (to train), not both")
    no_path = optimizers is None and checkpoints is None
    if no_path and directions == "pca":
        raise LandscapeError("directions='pca' needs a path (checkpoints= or optimizers=); without one, "
                             "use 'random' (the default)")
    if no_path and line:
        raise LandscapeError("line= draws the line along a path: give checkpoints= or optimizers=")
    if params is not None and isinstance(directions, Directions):
        raise LandscapeError("params= cannot restrict saved Directions: they move the parameters they were made with")
    try:
        moved = chosen(model, params) if params is not None else None
    except WeightsError as error:
        raise LandscapeError(str(error)) from None
    if moved and directions == "random" and not biases and all(model.get_parameter(n).ndim < 2 for n in moved):
        raise LandscapeError(f"params= selects only biases or normalisation parameters ({', '.join(moved[:3])}), "
                             f"which random directions move only with biases=True")
    if optimizers is not None and not optimizers:
        raise LandscapeError("landscape needs at least one optimizer")
    sources = _sources(optimizers) if optimizers is not None else {}
    span = span_box(span)
    where = device_for(device)
    layout = Layout.of(model)
    evaluator = Evaluator(model, loss_fn, batches(data, batch_size=batch_size, examples=examples), where, chunk)
    params0, buffers0 = layout.flatten(model.state_dict())
    evaluator.check(params0, buffers0)  # the model's output fits the loss, before any work

    def curvature(selected: Any) -> Hessian:
        """The Hessian of the loss the grid shows, over the parameters ``selected`` chooses."""
        return Hessian(model, loss_fn, data, examples=examples, batch_size=batch_size, device=where, params=selected)

    if directions == "hessian" or sharpness_every:
        _check_curvature(curvature(params if directions == "hessian" else None), directions == "hessian")
    basis = directions.fits(layout) if isinstance(directions, Directions) else None
    store_what = {"model": type(model).__name__, "layout": [list(map(list, layout.shapes))], "resolution": resolution,
                  "data": digest([t for pair in evaluator.data for t in pair]), "loss": _name(loss_fn),
                  "span": span, "directions": directions if isinstance(directions, str) else digest(basis.vectors),
                  "biases": biases, "seed": seed, "chunk": chunk}
    if moved is not None:  # only then: a save folder from before params= existed still resumes
        store_what["params"] = list(moved)
    if refine:  # likewise: a refined run's folder is another run's
        store_what["refine"] = True

    # the paths: the user's checkpoints, or training runs (kept in the save folder)
    train = batches(train_data if train_data is not None else data) if optimizers is not None else []
    # the paths' points (weights after every training step), and a chunk's weights and their copies
    examples_seen = sum(len(x) for x, _ in train)
    points = len(checkpoints) if checkpoints is not None else len(sources) * (epochs * -(-examples_seen // batch) + 1) \
        if optimizers is not None else 1
    check_memory((2 * points + 4 * chunk) * params0.numel() * params0.element_size(),
                 f"a landscape with {points:,} path points and chunks of {chunk} points of {params0.numel():,} weights",
                 "use fewer checkpoints, epochs or a smaller chunk")
    if max_work is not None:
        grid, seen = resolution**2 * (2 if check else 1) + line, sum(len(x) for x, _ in evaluator.data)
        check_work(grid * seen * params0.numel(), max_work, "multiply-adds",
                   f"{grid:,} grid points x {seen:,} examples x {params0.numel():,} weights = ")
    if estimate:  # refused as the run would be, if it would be
        counts = [len(checkpoints)] if checkpoints is not None else [points // len(sources)] * len(sources) \
            if optimizers is not None else [1]
        return forecast(evaluator, params0, buffers0, resolution=resolution, line=line, path_points=counts,
                        train=train, sources=sources, epochs=epochs, batch=batch, seed=seed, trainer=_trainer,
                        model=model, pca=directions == "pca")
    if checkpoints is not None:
        recorded = load_checkpoints(layout, checkpoints)
        store_what["path"] = digest(recorded[0])
    elif no_path:
        store_what["path"] = {"centre": digest(params0)}
    else:
        store_what["path"] = {"sources": list(sources), "epochs": epochs, "batch": batch, "initial": digest(params0),
                              "train": digest([t for pair in train for t in pair])}
    store = Store(save, store_what) if save is not None else None
    if checkpoints is not None:
        trajectories = {"checkpoints": recorded}
    elif no_path:
        trajectories = {"model": (params0[None], buffers0[None])}
    else:
        trajectories = _trained(model, loss_fn, train, sources, epochs, batch, seed, progress, store)

    trajectories = from_rank_zero(trajectories)
    centre, centre_buffers = (p[-1] for p in next(iter(trajectories.values())))
    mask = layout.mask(moved).to(centre.device, centre.dtype) if moved is not None else None
    if basis is None:
        if directions == "pca":
            points = torch.cat([p for p, _ in trajectories.values()])
            basis = principal(layout, points if mask is None else centre + (points - centre) * mask, centre)
        elif directions == "hessian":
            basis = eigen_directions(curvature(params).at(layout.state(centre, centre_buffers)), layout, seed)
        else:
            basis = filter_normalised(layout, centre, seed, biases=biases)
        basis = basis.only(mask) if mask is not None else basis
    basis = from_rank_zero(basis)
    sharpness = None
    if sharpness_every:
        whole = curvature(None)  # the training's own sharpness: over every trainable parameter
        sharpness = {label: along_path(whole, layout, points, buffers, every=sharpness_every, seed=seed)
                     for label, (points, buffers) in trajectories.items()}
    paths, errors = {}, {}
    for label, (points, _) in trajectories.items():
        paths[label], errors[label] = basis.coordinates(points - centre)
    alphas, betas = _grid_axes(torch.cat(list(paths.values())), resolution, span, basis.kind)
    grid = torch.stack(torch.meshgrid(alphas, betas, indexing="xy"), dim=-1).reshape(-1, 2)
    evaluated = None
    if refine:  # each pass kept in its own part of the save folder
        def evaluate(coords: Tensor, what: str) -> Tensor:
            kept = Store(Path(save) / what.split()[0], store_what | {"part": what}) if save is not None else None
            return evaluator.losses(basis.plane(centre, coords), centre_buffers, store=kept, progress=progress,
                                    what=what)

        losses, evaluated = refined(evaluate, alphas, betas, list(paths.values()))
    else:
        losses = evaluator.losses(basis.plane(centre, grid), centre_buffers, store=store,
                                  progress=progress).reshape(resolution, resolution)
    path_losses = {label: evaluator.losses(points, buffers, what="path points")
                   for label, (points, buffers) in trajectories.items()}
    made = dict(sources) if sources else {label: _record(label) for label in trajectories}
    first = next(iter(trajectories.values()))
    name, value = ("MLP", "training loss") if built_in else (type(model).__name__, "loss")
    along = _line(evaluator, first, line, 0.25, progress, title=f"{name} {value}") if line else None
    kind = basis.kind if not isinstance(directions, Directions) else "loaded"
    second = second_directions(kind, layout, centre, seed, biases=biases, mask=mask) if check else None
    trust = assess(evaluator, basis, centre, centre_buffers, alphas, betas, losses,
                   {label: errors[label] for label in paths if len(paths[label]) > 1}, second=second, seed=seed,
                   progress=progress)
    return Landscape(alphas, betas, losses, kind, basis.explained, made, paths, path_losses, errors, basis,
                     name, value, along, evaluated=evaluated, trust=trust,
                     sharpness=sharpness)


def interpolate(model: nn.Module, loss_fn: Callable[[Tensor, Tensor], Tensor], data: Any, start: Any, end: Any, *,
                points: int = 51, margin: float = 0.25, path: Sequence[Any] | None = None, device: Any = None,
                examples: int | None = None, batch_size: int | None = None,
                progress: Progress | None = None) -> Line:
    """The loss along theta(alpha) = (1 - alpha) start + alpha end, for alpha from -margin to
    1 + margin (Goodfellow et al. 2015); ``start`` and ``end`` are state_dicts or files. The
    points of ``path`` (checkpoints) are placed at their projection onto the line, with their
    true losses. Buffers (BatchNorm statistics) are interpolated with the weights."""
    if not (isinstance(margin, (int, float)) and math.isfinite(margin) and 0 <= margin <= 10):
        raise LandscapeError(f"margin must be a number between 0 and 10, got {margin!r}")
    layout = Layout.of(model)
    evaluator = Evaluator(model, loss_fn, batches(data, batch_size=batch_size, examples=examples), device_for(device))
    ends = load_checkpoints(layout, [start, end])
    evaluator.check(ends[0][0], ends[1][0])
    on = load_checkpoints(layout, path) if path is not None else None
    return _line(evaluator, ends, points, margin, progress, on)


def _line(evaluator: Evaluator, path: tuple[Tensor, Tensor], points: int, margin: float, progress: Progress | None,
          marked: tuple[Tensor, Tensor] | None = None, title: str = "") -> Line:
    """The loss on the line from the path's first point to its last; the points of ``marked``
    (the path itself by default) at their projection onto it."""
    if isinstance(points, bool) or not isinstance(points, int) or not 3 <= points <= 10_001:
        raise LandscapeError(f"the line needs a whole number of points between 3 and 10001, got {points!r}")
    (params, buffers), (on, on_buffers) = path, marked or path
    a, b, a_buf, b_buf = params[0], params[-1], buffers[0], buffers[-1]
    alphas = torch.linspace(-margin, 1 + margin, points, dtype=a.dtype)
    losses = evaluator.losses(a + alphas[:, None] * (b - a), a_buf + alphas[:, None] * (b_buf - a_buf),
                              progress=progress, what="line points")
    placed = ((on - a) @ (b - a)) / (b - a).pow(2).sum().clamp_min(1e-30)
    return Line(alphas, losses, placed, evaluator.losses(on, on_buffers, what="path points"),
                title or f"{type(evaluator.model).__name__} loss")


def from_spec(path: str | Path) -> dict[str, Any]:
    """What a landscape spec file defines: it runs as Python (it is the user's own code) and
    must define ``model``, ``loss`` and ``data``; ``train_data``, ``checkpoints`` and
    ``params`` (see :func:`landscape`) are optional."""
    import runpy

    path = Path(path)
    if not path.is_file():
        raise LandscapeError(f"{path}: no such file")
    try:
        names = runpy.run_path(str(path), run_name="optviz_spec")
    except Exception as error:  # noqa: BLE001 - the user's file may raise anything: one line naming it
        message = " ".join(str(error).split())[:300]
        raise LandscapeError(f"{path}: {type(error).__name__}: {message}") from None
    missing = [name for name in ("model", "loss", "data") if name not in names]
    if missing:
        raise LandscapeError(f"{path} must define model, loss and data; it does not define {', '.join(missing)}")
    if not isinstance(names["model"], nn.Module):
        raise LandscapeError(f"{path}: model must be a torch.nn.Module, got {type(names['model']).__name__}")
    if not callable(names["loss"]):
        raise LandscapeError(f"{path}: loss must be a function loss(outputs, targets), got {type(names['loss']).__name__}")
    return {key: names[key] for key in ("model", "loss", "data", "train_data", "checkpoints", "params") if key in names}


# --- training the paths ----------------------------------------------------------------------


def _sources(optimizers: Sequence[Any]) -> dict[str, Any]:
    made = {}
    for spec in optimizers:
        if isinstance(spec, (tuple, list)) and len(spec) == 2 and isinstance(spec[0], str) and isinstance(spec[1], dict):
            opt = get_optimizer(spec[0], allow_import=True, **spec[1])
        else:
            opt = as_source(spec)
        if opt.label in made:
            raise LandscapeError(f"{opt.label} is given twice")
        made[opt.label] = opt
    return made


def _trained(model: nn.Module, loss_fn: Callable, train: list[tuple[Tensor, Tensor]], sources: dict[str, Any],
             epochs: int, batch: int, seed: int, progress: Progress | None,
             store: Store | None) -> dict[str, tuple[Tensor, Tensor]]:
    """Each source's path: flattened weights and buffers after every step, from the model's own."""
    kept = store.kept("paths") if store is not None else None
    if kept is not None:
        return {label: (kept[f"{k}.params"], kept[f"{k}.buffers"]) for k, label in enumerate(sources)}
    size = sum(len(x) for x, _ in train)
    steps = len(sources) * epochs * -(-size // batch)
    done = 0

    def count() -> None:
        nonlocal done
        done += 1
        if progress is not None:
            progress("training steps", done, steps)

    found = {label: _trajectory(model, loss_fn, train, source, epochs, batch, seed, count)
             for label, source in sources.items()}
    if store is not None and rank_and_world()[0] == 0:
        store.keep("paths", {f"{k}.{part}": value for k, (p, b) in enumerate(found.values())
                             for part, value in (("params", p), ("buffers", b))})
    return found


def _trajectory(initial: nn.Module, loss_fn: Callable, train: list[tuple[Tensor, Tensor]], source: Any, epochs: int,
                batch: int, seed: int, count: Callable[[], None]) -> tuple[Tensor, Tensor]:
    """Training from the initial weights in minibatches of ``batch`` shuffled by ``seed``; the
    weights and buffers after every step."""
    model = copy.deepcopy(initial).train()
    layout = Layout.of(model)
    torch.manual_seed(seed)  # dropout draws the same masks for every optimizer
    opt, schedulers = _trainer(source, model)
    x = torch.cat([x for x, _ in train])
    y = torch.cat([y for _, y in train])
    generator = torch.Generator().manual_seed(seed)
    params, buffers = map(list, zip(layout.flatten(model.state_dict())))

    def record(trained: nn.Module) -> None:
        step_all(schedulers)
        p, b = layout.flatten(trained.state_dict())
        params.append(p.clone())
        buffers.append(b.clone())
        count()

    for _ in range(epochs):
        epoch(model, loss_fn, x, y, opt, batch, generator, record)
    return torch.stack(params), torch.stack(buffers)


def _trainer(source: Any, model: nn.Module) -> tuple[torch.optim.Optimizer, list[Any]]:
    if isinstance(source, TorchOptimizer):
        opt = source.build(list(model.parameters()))
        return opt, source.schedule.attach(opt) if source.schedule else []
    trainer = BUILT_INS[source.kind].optim_class if source.kind in BUILT_INS else None
    if trainer is None:
        raise LandscapeError(f"{source.label} has no torch.optim counterpart to train a model with")
    accepted = inspect.signature(trainer).parameters
    return trainer(model.parameters(), **{k: v for k, v in source.hyperparams.items() if k in accepted}), []


# --- the grid --------------------------------------------------------------------------------


def span_box(span: Any) -> list[float] | None:
    if span is None:
        return None
    values = [span, span] if isinstance(span, (int, float)) and not isinstance(span, bool) else span
    try:
        values = [float(v) for v in values]
    except (TypeError, ValueError):
        raise LandscapeError(f"span must be a number s (for -s..s) or (a0, a1, b0, b1), got {span!r}") from None
    if len(values) == 2:
        values = [-values[0], values[0], -values[1], values[1]]
    if len(values) != 4 or not all(math.isfinite(v) for v in values) or values[0] >= values[1] \
            or values[2] >= values[3] or max(map(abs, values)) > 1e6:
        raise LandscapeError(f"span must be a positive number s or (a0, a1, b0, b1) with a0 < a1, b0 < b1, "
                             f"finite and within 1e6, got {span!r}")
    return values


def _grid_axes(points: Tensor, resolution: int, span: list[float] | None, kind: str) -> tuple[Tensor, Tensor]:
    if span is None:
        low, high = points.min(dim=0).values, points.max(dim=0).values
        if kind != "pca" and bool(((high - low) < 1e-9).all()):  # a single point: one unit each way
            return torch.linspace(low[0] - 1, low[0] + 1, resolution), torch.linspace(low[1] - 1, low[1] + 1, resolution)
        margin = 0.15 * (high - low).clamp_min(1e-6)
        span = [(low[0] - margin[0]).item(), (high[0] + margin[0]).item(),
                (low[1] - margin[1]).item(), (high[1] + margin[1]).item()]
    return torch.linspace(span[0], span[1], resolution), torch.linspace(span[2], span[3], resolution)


def _pad(values: Tensor, length: int) -> Tensor:
    """Repeat the last row so paths of different lengths stack (they all train as long)."""
    if len(values) >= length:
        return values
    return torch.cat([values, values[-1:].expand(length - len(values), *values.shape[1:])])


def _record(name: str) -> Optimizer:
    """What a path of checkpoints is in a Result: a name that draws, not an optimizer that steps."""

    def refuse(*args: Any) -> Any:
        raise RuntimeError(f"{name} is a recorded path and cannot step")

    return Optimizer(refuse, refuse, name, {})


def _check_curvature(hessian: Hessian, directions: bool) -> None:
    """Refuse, before any work, a Hessian the landscape cannot take: one product says whether
    the loss is twice differentiable."""
    if directions and hessian.size < 2:
        raise LandscapeError(f"directions='hessian' needs two eigenvectors, and the parameters it moves have "
                             f"{hessian.size} number; select more with params=")
    hessian(torch.zeros(hessian.size, dtype=hessian.dtype))


def _name(fn: Any) -> str:
    return getattr(fn, "__qualname__", type(fn).__name__)


def _check_cost(estimate: bool, refine: bool, resolution: int) -> None:
    if estimate and refine:
        raise LandscapeError("estimate= counts the full grid; refine= evaluates a part known only after its coarse "
                             "grid: estimate without refine (its time is refine's most)")
    if refine and resolution < MIN_REFINED_RESOLUTION:
        raise LandscapeError(f"refine= needs a resolution of at least {MIN_REFINED_RESOLUTION} (a coarse grid of "
                             f"3 x 3 points), got {resolution}: evaluate the full grid")


def _check_whole(**values: Any) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise LandscapeError(f"{name} must be a whole number >= 1, got {value!r}")


__all__ = ["Landscape", "LandscapeError", "Line", "landscape", "interpolate", "Directions", "EvaluationError",
           "WeightsError", "DEFAULT_OPTIMIZERS", "Estimate", "Trust"]
from .hessian import Density, Eigenpairs, Trace, hessian_trace, sharpness_along, spectral_density, top_eigenvalues  # noqa: E402
__all__ += ["Density", "Eigenpairs", "Hessian", "HessianError", "Sharpness", "Trace", "hessian_trace", "sharpness_along",
            "spectral_density", "top_eigenvalues"]
