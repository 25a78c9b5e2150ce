"""The loss landscape of a real model around its trained weights, with training paths on it.

Several optimizers train the MLP of SEEDS.md section 4 from the same initial weights
(optviz.optim), recording the weights after every step. A 2D slice of parameter space is
spanned around the first optimizer's final weights by two directions, either

- "pca": the top two principal components of all the recorded weights (their share of the
  variance goes on the axes), or
- "random": filter-normalised random directions (Li et al. 2018): each row of each weight
  matrix scaled to the norm of the same row of the trained weights; biases are not moved.

The loss is evaluated over a grid of the slice in batches (torch.func.functional_call under
vmap), and every path is projected onto the same slice by least squares, with the part of
each step the slice cannot show reported as the projection error.
"""

from __future__ import annotations

import inspect
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from . import optim
from .experiments import mlp_data, mlp_model
from .functions import TestFunction, sampled_function
from .optimizers import Optimizer
from .registry import BUILT_INS, get_optimizer
from .result import Result
from .schedules import step_all
from .simulate import Progress
from .torch_optimizers import TorchOptimizer

DEFAULT_OPTIMIZERS = (
    ("sgd", {"lr": 0.02, "momentum": 0.9}),
    ("adam", {"lr": 0.005}),
    ("rmsprop", {"lr": 0.002}),
)


@dataclass(frozen=True)
class Landscape:
    """Loss over a grid of the slice (``losses[i, j]`` at betas[i], alphas[j]) and each
    optimizer's path projected onto it."""

    alphas: Tensor
    betas: Tensor
    losses: Tensor
    directions: str
    explained: tuple[float, float] | None
    optimizers: dict[str, Optimizer]
    paths: dict[str, Tensor]  # (steps + 1, 2) coordinates in the slice
    path_losses: dict[str, Tensor]  # the true training loss at each recorded point
    projection_error: dict[str, float]  # share of the path's squared offset the slice cannot show

    @property
    def axis_labels(self) -> tuple[str, str]:
        if self.explained is None:
            return "direction 1 (filter-normalised)", "direction 2 (filter-normalised)"
        return tuple(f"PC{k + 1} ({share:.0%} of variance)" for k, share in enumerate(self.explained))  # type: ignore[return-value]

    def function(self) -> TestFunction:
        """The slice as a 2D test function: bilinear interpolation of the grid."""
        bounds = ((self.alphas[0].item(), self.alphas[-1].item()), (self.betas[0].item(), self.betas[-1].item()))
        return sampled_function(
            self.losses, bounds, name="landscape", start=(0.0, 0.0),
            title=f"MLP training loss on a {'PCA' if self.explained else 'random'} slice", value="training loss",
            description=f"MLP training loss on a {self.directions} slice",
            formula="MLP loss, " + ("PCA directions" if self.explained else "filter-normalised random directions"),
            axes=self.axis_labels,
        )

    def result(self) -> Result:
        """The projected paths as a Result on the slice, for optviz's stills and GIFs."""
        steps = max(len(p) for p in self.paths.values())
        positions = torch.stack([_pad(p, steps) for p in self.paths.values()], dim=1)
        losses = torch.stack([_pad(l.unsqueeze(1), steps)[:, 0] for l in self.path_losses.values()], dim=1)
        return Result(
            function=self.function(), optimizers=dict(self.optimizers),
            starts=positions[0, :1], positions=positions, losses=losses,
            grad_norms=torch.full_like(losses, float("nan")),
            diverged_at=torch.full((positions.shape[1],), -1, dtype=torch.int64),
        )

    def save(self, path: Any) -> Any:
        """The projected paths as data (see Result.save); .npz and .json keep the grid too."""
        return self.result().save(path)

    def summary(self) -> str:
        lines = [f"{self.directions} directions" + (
            f", explained variance {self.explained[0]:.1%} + {self.explained[1]:.1%}" if self.explained else "")]
        for name in self.paths:
            lines.append(f"{name}: final loss {self.path_losses[name][-1]:.4g}, "
                         f"projection error {self.projection_error[name]:.1%}")
        return "\n".join(lines)


def landscape(optimizers: Sequence[tuple[str, dict[str, Any]]] = DEFAULT_OPTIMIZERS, *, directions: str = "pca",
              resolution: int = 51, epochs: int = 20, batch: int = 32, seed: int = 0,
              progress: Progress | None = None) -> Landscape:
    """Train, slice, evaluate the grid and project the paths (see the module's docstring).

    ``progress`` hears of the training steps, then of the grid points."""
    if directions not in ("pca", "random"):
        raise ValueError(f"directions must be 'pca' or 'random', got {directions!r}")
    if not isinstance(resolution, int) or not 3 <= resolution <= 401:
        raise ValueError(f"resolution must be a whole number between 3 and 401, got {resolution!r}")
    if not optimizers:
        raise ValueError("landscape needs at least one optimizer")
    data = mlp_data(seed)
    model = mlp_model(seed=seed)
    names = [name for name, _ in model.named_parameters()]
    made = {opt.label: opt for opt in (get_optimizer(n, allow_import=True, **kw) for n, kw in optimizers)}
    done = _counter(progress, "training steps", len(made) * epochs * -(-len(data[0]) // batch))
    trajectories = {label: _trajectory(opt, data, epochs, batch, seed, done) for label, opt in made.items()}
    centre = next(iter(trajectories.values()))[-1]
    shapes = [p.shape for p in model.parameters()]
    if directions == "pca":
        d1, d2, explained = _pca(torch.cat(list(trajectories.values())) - centre)
    else:
        d1, d2 = (_filter_normalised(centre, shapes, seed + k) for k in (1, 2))
        explained = None
    basis = torch.stack([d1, d2], dim=1)
    paths, errors = {}, {}
    for label, points in trajectories.items():
        offsets = points - centre
        coords = torch.linalg.lstsq(basis, offsets.T).solution.T
        residual = offsets - coords @ basis.T
        paths[label] = coords
        errors[label] = float((residual**2).sum() / (offsets**2).sum().clamp_min(1e-30))
    alphas, betas = _span(torch.cat(list(paths.values())), resolution)
    grid = torch.stack(torch.meshgrid(alphas, betas, indexing="xy"), dim=-1).reshape(-1, 2)
    flat = centre + grid @ basis.T
    losses = grid_losses(model, names, shapes, flat, data[0], data[1], progress=progress).reshape(resolution, resolution)
    path_losses = {label: grid_losses(model, names, shapes, points, data[0], data[1]) for label, points in trajectories.items()}
    return Landscape(alphas, betas, losses, directions, explained,
                     made,
                     paths, path_losses, errors)


def grid_losses(model: nn.Module, names: list[str], shapes: list[torch.Size], flat: Tensor, x: Tensor, y: Tensor,
                chunk: int = 64, progress: Progress | None = None) -> Tensor:
    """The MSE loss of the model at each row of ``flat`` (flattened weights), batched with vmap."""
    model.eval()

    def loss(vector: Tensor) -> Tensor:
        params = dict(zip(names, _unflatten(vector, shapes)))
        return nn.functional.mse_loss(functional_call(model, params, (x,)), y)

    batched = vmap(loss)
    done = _counter(progress, "grid points", len(flat))
    with torch.no_grad():
        return torch.cat([done(batched(part), len(part)) for part in flat.split(chunk)])


def _counter(progress: Progress | None, what: str, total: int) -> Callable[[Any, int], Any]:
    """count(value, n): tells progress that n more of total are done, and passes value on."""
    done = 0

    def count(value: Any = None, n: int = 1) -> Any:
        nonlocal done
        done += n
        if progress is not None:
            progress(what, done, total)
        return value

    return count


def _trajectory(source: Any, data: tuple[Tensor, ...], epochs: int, batch: int, seed: int,
                count: Callable[..., Any]) -> Tensor:
    """Flattened weights after every step of training from the shared initial weights: a
    built-in with its optviz.optim class and all its hyperparameters (alias defaults
    included), a torch optimizer with its own class, arguments and schedule."""
    from .experiments import train

    model = mlp_model(seed=seed)
    opt, schedulers = _trainer(source, model)
    points = [nn.utils.parameters_to_vector(model.parameters()).detach().clone()]

    def record(m: nn.Module) -> None:
        step_all(schedulers)
        count(points.append(nn.utils.parameters_to_vector(m.parameters()).detach().clone()))

    train(model, opt, data, batch=batch, epochs=epochs, generator=torch.Generator().manual_seed(seed), on_step=record)
    return torch.stack(points)


def _trainer(source: Any, model: nn.Module) -> tuple[torch.optim.Optimizer, list[Any]]:
    if isinstance(source, TorchOptimizer):
        opt = source.cls(model.parameters(), **source.kwargs)
        return opt, source.schedule.attach(opt) if source.schedule else []
    trainer = BUILT_INS[source.kind].optim_class if source.kind in BUILT_INS else None
    if trainer is None:
        raise ValueError(f"{source.label} has no torch.optim counterpart to train a model with")
    accepted = inspect.signature(trainer).parameters
    return trainer(model.parameters(), **{k: v for k, v in source.hyperparams.items() if k in accepted}), []


def _pca(offsets: Tensor) -> tuple[Tensor, Tensor, tuple[float, float]]:
    """Top two principal directions of the offsets from the centre (not from their mean:
    the slice must pass through the centre, as in Li et al.)."""
    _, s, vh = torch.linalg.svd(offsets, full_matrices=False)
    share = (s**2 / (s**2).sum()).tolist()
    return vh[0], vh[1], (share[0], share[1])


def _filter_normalised(centre: Tensor, shapes: list[torch.Size], seed: int) -> Tensor:
    g = torch.Generator().manual_seed(seed)
    parts = []
    for weights in _unflatten(centre, shapes):
        if weights.ndim < 2:
            parts.append(torch.zeros_like(weights))  # biases stay put, as in Li et al.
            continue
        d = torch.randn(weights.shape, generator=g, dtype=weights.dtype)
        d = d * (weights.norm(dim=1, keepdim=True) / d.norm(dim=1, keepdim=True).clamp_min(1e-12))
        parts.append(d)
    return torch.cat([p.reshape(-1) for p in parts])


def _unflatten(vector: Tensor, shapes: list[torch.Size]) -> list[Tensor]:
    sizes = [math.prod(s) for s in shapes]
    return [part.reshape(shape) for part, shape in zip(vector.split(sizes), shapes)]


def _span(points: Tensor, resolution: int) -> tuple[Tensor, Tensor]:
    low, high = points.min(dim=0).values, points.max(dim=0).values
    margin = 0.15 * (high - low).clamp_min(1e-6)
    low, high = low - margin, high + margin
    return (torch.linspace(low[0].item(), high[0].item(), resolution),
            torch.linspace(low[1].item(), high[1].item(), resolution))


def _pad(values: Tensor, length: int) -> Tensor:
    """Repeat the last row so paths of different lengths stack (they all train as long)."""
    if len(values) >= length:
        return values
    return torch.cat([values, values[-1:].expand(length - len(values), *values.shape[1:])])
