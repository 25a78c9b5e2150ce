"""What a test function is: a landscape with its gradient, bounds and known minima, or one
known only on a grid.

Every function takes points of shape (..., dim) and returns values of shape (...); its
gradient returns (..., dim).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, NamedTuple

import math

import torch
from torch import Tensor
from torch.func import hessian as hessian_of, jvp, vmap

from ..limits import MAX_START_WIDTHS


class Minimum(NamedTuple):
    point: tuple[float, ...]
    value: float


@dataclass(frozen=True)
class TestFunction:
    """A landscape to optimize on.

    ``minima`` are the points worth marking: the global minima, or for a function unbounded
    below the local minima inside its bounds (none for the saddles). ``start`` is a default
    start point that shows something; ``bounds`` is ((lo, hi), ...) per dimension.
    ``recipe`` says how to make the function again from data (``{"name": "rosenbrock"}`` or
    ``{"expression": "x**2 + y"}``), or is None where code made it (a saved result then
    keeps a sampled copy of its surface).
    """

    __test__ = False  # not a pytest test class

    name: str
    value_fn: Callable[[Tensor], Tensor]
    grad_fn: Callable[[Tensor], Tensor]
    bounds: tuple[tuple[float, float], ...]
    minima: tuple[Minimum, ...]
    start: tuple[float, ...]
    description: str
    formula: str
    axes: tuple[str, ...] = ("x", "y")  # axis labels for pictures
    recipe: dict[str, Any] | None = field(default=None, compare=False)
    title: str = ""  # a human name for pictures ("Ill-conditioned quadratic"); the name if empty
    tex: str = ""  # the formula as matplotlib mathtext ("$x^2 + 2y^2$"); none if empty
    value: str = "f"  # what its values are called on a colour bar ("training loss")
    matrix: tuple[int, int] | None = None  # (rows, cols) where a point is a matrix, flattened row by row
    isolated_minima: bool = True  # False where the minima marked are a few of a continuum (low_rank's)
    sampled: bool = False  # known only on a grid over its bounds: nothing outside them is data
    # a matrix problem's singular values worth showing at points (..., dim) -> (..., k), largest
    # first (low_rank's are those of W = UVᵀ); None: those of the point as its matrix
    spectrum_fn: Callable[[Tensor], Tensor] | None = field(default=None, compare=False)
    # f's Hessian at points (..., dim) -> (..., dim, dim) without autograd on f, where the
    # gradient is written out (see written_hessian); None: autograd on value_fn
    hessian_fn: Callable[[Tensor], Tensor] | None = field(default=None, compare=False)

    @property
    def point_shape(self) -> tuple[int, ...]:
        """The shape an optimizer steps one point in: (rows, cols) for a matrix problem, else (dim,)."""
        return self.matrix if self.matrix is not None else (self.dim,)

    @property
    def dim(self) -> int:
        return len(self.bounds)

    def __call__(self, points: Tensor) -> Tensor:
        """f at points of shape (..., dim): values of shape (...)."""
        return self.value_fn(self._checked(points))

    def grad(self, points: Tensor) -> Tensor:
        """The gradient at points of shape (..., dim), same shape."""
        return self.grad_fn(self._checked(points))

    def hessian(self, points: Tensor) -> Tensor:
        """f's Hessian at points of shape (..., dim): shape (..., dim, dim)."""
        points = self._checked(points)
        if self.hessian_fn is not None:
            return self.hessian_fn(points)
        flat = points.reshape(-1, self.dim)
        return vmap(hessian_of(self.value_fn))(flat).reshape(*points.shape, self.dim)

    def spectrum(self, points: Tensor) -> Tensor:
        """The singular values a spectrum picture shows at points of shape (..., dim): shape
        (..., k), largest first. ValueError for a function whose point is no matrix."""
        if self.matrix is None:
            raise ValueError(f"{self.name} is no matrix problem: a spectrum is drawn for low_rank, matrix_sensing "
                             f"and least_squares")
        points = self._checked(points)
        if self.spectrum_fn is not None:
            return self.spectrum_fn(points)
        return torch.linalg.svdvals(points.reshape(*points.shape[:-1], *self.matrix))

    def _checked(self, points: Tensor) -> Tensor:
        if not isinstance(points, Tensor):
            raise TypeError(f"{self.name} takes a torch.Tensor of points, got {type(points).__name__}")
        if not points.is_floating_point():
            raise TypeError(f"{self.name} takes floating-point points, got {points.dtype}")
        if points.ndim == 0 or points.shape[-1] != self.dim:
            raise ValueError(
                f"{self.name} takes points of shape (..., {self.dim}), got {tuple(points.shape)}"
            )
        return points


def written_hessian(grad_fn: Callable[[Tensor], Tensor]) -> Callable[[Tensor], Tensor]:
    """The Hessian of a function from its gradient written out in plain tensor ops: column i
    is the forward-mode derivative of the gradient along coordinate i, taken for the whole
    batch at once (a point's gradient depends on that point alone), the dim columns in one
    vectorised pass that evaluates the gradient itself once."""

    def hessian(points: Tensor) -> Tensor:
        dim = points.shape[-1]
        axes = torch.eye(dim, dtype=points.dtype, device=points.device)
        tangents = axes.reshape(dim, *[1] * (points.ndim - 1), dim).expand(dim, *points.shape)  # (dim, ..., dim)
        columns = vmap(lambda tangent: jvp(grad_fn, (points,), (tangent,))[1])(tangents)
        return columns.movedim(0, -1)

    return hessian


def sampled_function(values: Tensor, bounds: tuple[tuple[float, float], ...], **fields: Any) -> TestFunction:
    """A function known only on a regular grid over its bounds, linearly interpolated between
    the samples (bilinearly in 2D, where ``values[i, j]`` is at the i-th y and j-th x), with
    its gradient by autograd. ``fields`` are the other TestFunction fields (name, minima...)."""
    grid = torch.as_tensor(values, dtype=torch.float64)
    if grid.ndim != len(bounds) or grid.ndim not in (1, 2) or min(grid.shape) < 2:
        raise ValueError(f"sampled values must be a 1D or 2D grid of at least 2 per side matching the bounds, "
                         f"got shape {tuple(grid.shape)} for {len(bounds)} bounds")

    def value(points: Tensor) -> Tensor:
        return _interpolate(grid.to(points.dtype), points, bounds)

    def grad(points: Tensor) -> Tensor:
        with torch.enable_grad():
            p = points.detach().clone().requires_grad_(True)
            (g,) = torch.autograd.grad(value(p).sum(), p)
        return g

    defaults = dict(name="sampled", minima=(), start=tuple((lo + hi) / 2 for lo, hi in bounds),
                    description="a function known on a grid", formula="sampled")
    return TestFunction(value_fn=value, grad_fn=grad, bounds=tuple(bounds), sampled=True, **{**defaults, **fields})


def _interpolate(grid: Tensor, points: Tensor, bounds: tuple[tuple[float, float], ...]) -> Tensor:
    """Linear interpolation on the grid, clamped at its edges."""
    corners = []
    for axis, (lo, hi) in enumerate(bounds):
        n = grid.shape[grid.ndim - 1 - axis]  # x runs along the last grid axis
        u = ((points[..., axis] - lo) / (hi - lo) * (n - 1)).clamp(0, n - 1)
        k = u.floor().long().clamp(max=n - 2)
        corners.append((k, u - k))
    if grid.ndim == 1:
        (j, fu), = corners
        return grid[j] * (1 - fu) + grid[j + 1] * fu
    (j, fu), (i, fv) = corners
    top = grid[i, j] * (1 - fu) + grid[i, j + 1] * fu
    bottom = grid[i + 1, j] * (1 - fu) + grid[i + 1, j + 1] * fu
    return top * (1 - fv) + bottom * fv


def unreachable(point: Any, bounds: tuple[tuple[float, float], ...]) -> str | None:
    """Why ``point`` cannot start a run over ``bounds``, or None if it can: a start outside the
    bounds is fine (the picture's frame widens to take it in) unless a coordinate is not
    finite or lies more than MAX_START_WIDTHS widths of the bounds beyond them."""
    for value, (lo, hi) in zip(point, bounds):
        if not math.isfinite(value):
            return f"{value} is not a finite number"
        reach = MAX_START_WIDTHS * (hi - lo)
        if not lo - reach <= value <= hi + reach:
            return (f"{value:g} lies more than {MAX_START_WIDTHS} times the bounds' width beyond the bounds "
                    f"{[[float(lo), float(hi)] for lo, hi in bounds]}")
    return None
