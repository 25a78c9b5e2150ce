"""Paths in more than two dimensions, seen in their own top-two principal-component plane.

The plane passes through the mean of every recorded point and is spanned by the two
directions along which the points vary most (their share of the variance goes on the axes).
The background is the function itself on that plane, f(mean + a u + b v); each path is its
points' coordinates in the plane, drawn with its true losses, and its projection error is the
share of its squared offset from the mean that the plane cannot show.
"""

from __future__ import annotations

import dataclasses

import torch
from torch import Tensor

from ..core.functions import Minimum, TestFunction
from ..core.simulation.result import Result


def principal_plane(result: Result) -> Result:
    """The result as a 2D one on its paths' principal plane; each optimizer's label says how
    much of its path the plane cannot show ("Adam lr=0.01 · 3% off the plane")."""
    fn = result.function
    points = result.positions.to(torch.float64)
    # the plane fits the paths that stay: a runaway's far points would be all it showed
    kept = points[:, result.diverged_at < 0] if (result.diverged_at < 0).any() else points
    finite = kept[torch.isfinite(kept).all(dim=-1)]
    if len(finite) < 2:
        raise ValueError("a path picture of a function in more than two dimensions needs at least two finite points")
    mean = finite.mean(dim=0)
    _, singular, vh = torch.linalg.svd(finite - mean, full_matrices=False)
    basis = vh[:2] if len(vh) >= 2 else torch.cat([vh, torch.zeros_like(vh)])
    variance = singular**2
    share = (variance[:2] / variance.sum().clamp_min(1e-300)).tolist() + [0.0] * (2 - len(variance[:2]))
    offsets = points - mean
    coordinates = offsets @ basis.T  # (steps + 1, paths, 2)
    extent = (kept - mean) @ basis.T
    error = _projection_error(offsets, coordinates @ basis, result)

    labels = {}
    for name, lost in zip(result.optimizers, error):
        labels[name] = f"{name} · {lost:.0%} off the plane" if lost >= 0.005 else name
    renamed = {labels[name]: opt for name, opt in result.optimizers.items()}
    plane = _plane_function(fn, mean.to(result.positions.dtype), basis.to(result.positions.dtype), extent, share)
    return dataclasses.replace(
        result, function=plane, optimizers=renamed, starts=coordinates[0, : result.n_starts].to(result.positions.dtype),
        positions=coordinates.to(result.positions.dtype),
        modes={labels[k]: v for k, v in result.modes.items()}, lrs={labels[k]: v for k, v in result.lrs.items()},
    )


def _projection_error(offsets: Tensor, shown: Tensor, result: Result) -> list[float]:
    """Per optimizer, the share of its paths' squared offset from the mean off the plane."""
    lost = ((offsets - shown) ** 2).nan_to_num(0).sum(dim=(0, 2))
    total = (offsets**2).nan_to_num(0).sum(dim=(0, 2))
    per = lambda values: values.reshape(len(result.optimizers), result.n_starts).sum(dim=1)  # noqa: E731
    return (per(lost) / per(total).clamp_min(1e-300)).tolist()


def _plane_function(fn: TestFunction, mean: Tensor, basis: Tensor, coordinates: Tensor,
                    share: list[float]) -> TestFunction:
    """f on the plane mean + a u + b v, over the extent of the paths that stay (``coordinates``)
    with a margin."""

    def lift(ab: Tensor) -> Tensor:
        return mean.to(ab.dtype) + ab @ basis.to(ab.dtype)

    def value(ab: Tensor) -> Tensor:
        return fn(lift(ab))

    def grad(ab: Tensor) -> Tensor:
        return fn.grad(lift(ab)) @ basis.T.to(ab.dtype)

    finite = coordinates[torch.isfinite(coordinates).all(dim=-1)]
    low, high = finite.min(dim=0).values, finite.max(dim=0).values
    margin = 0.15 * (high - low).max().clamp_min(1e-6)
    bounds = tuple((float(lo - margin), float(hi + margin)) for lo, hi in zip(low, high))
    minima = []
    for m in fn.minima:  # a minimum the plane passes through is marked; others would mislead
        offset = torch.tensor(m.point, dtype=torch.float64) - mean.to(torch.float64)
        on_plane = offset @ basis.T.to(torch.float64)
        if float((offset - on_plane @ basis.to(torch.float64)).norm()) <= 1e-6 * max(1.0, float(offset.norm())):
            minima.append(Minimum(tuple(on_plane.tolist()), m.value))
    return TestFunction(
        name=f"{fn.name} (PCA plane)", value_fn=value, grad_fn=grad, bounds=bounds, minima=tuple(minima),
        start=tuple(coordinates[0, 0].tolist()), description=f"{fn.description}, on the paths' principal plane",
        formula=fn.formula, axes=(f"PC1 ({share[0]:.0%} of variance)", f"PC2 ({share[1]:.0%} of variance)"),
        recipe=None, title=f"{fn.title or fn.name}: the paths' principal plane", tex=fn.tex, value=fn.value,
    )
