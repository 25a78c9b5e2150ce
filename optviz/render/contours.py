"""The landscape under the paths: filled contours with a colour bar, 1D curves, minima."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm
from matplotlib.ticker import MaxNLocator

from ..core.errors import BadInput
from ..core.functions import TestFunction
from .canvas import HEADING_GAP, axes_level
from .frames import Box
from .style import MIN_CONTRAST, Theme, contrast
from .typeset import formula_text, power_of_ten

NICE = (1.0, 2.0, 5.0)  # log-spaced levels at 1, 2 and 5 of every decade
# a colour bar's place beside its axes (in the axes' width and height): near and narrow, the
# slide's width goes to the landscape
BAR_PLACE = (1.015, 0.0, 0.024, 1.0)


class NothingToDraw(BadInput):
    """A function with no finite value in the frame it is drawn over."""


def heading(function: TestFunction) -> str:
    """The function as a picture's title: its human name and, where it has one written to be
    typeset, its formula (as plain text: one editable run in an SVG)."""
    name = function.title or (function.name.replace("_", " ").capitalize() if function.name.isidentifier() else "")
    formula = formula_text(function.formula) if function.tex else ""
    return HEADING_GAP.join(part for part in (name, formula) if part) or formula_text(function.formula)


_GRIDS: dict[tuple, tuple[TestFunction, tuple[np.ndarray, ...]]] = {}  # the last few grids, by function and region
GRIDS_KEPT = 4  # a still and a GIF of small multiples sample one function over one frame a dozen times


def grid_values(function: TestFunction, region: Box | None = None, resolution: int = 300) -> tuple[np.ndarray, ...]:
    """The function on a resolution x resolution grid over region (default its bounds): X, Y,
    Z, read-only: the panels of one frame share one grid, sampled once."""
    key = (id(function), None if region is None else tuple(map(float, region)), resolution)
    kept = _GRIDS.get(key)
    if kept is not None and kept[0] is function:  # the function held with its grid: its id is not reused
        return kept[1]
    grids = tuple(_read_only(a) for a in _sampled_grid(function, region, resolution))
    _GRIDS[key] = (function, grids)
    while len(_GRIDS) > GRIDS_KEPT:
        del _GRIDS[next(iter(_GRIDS))]
    return grids


def _read_only(array: np.ndarray) -> np.ndarray:
    array.setflags(write=False)
    return array


def _sampled_grid(function: TestFunction, region: Box | None, resolution: int) -> tuple[np.ndarray, ...]:
    (x0, x1), (y0, y1) = function.bounds
    if region is not None:
        x0, x1, y0, y1 = region
    xs = torch.linspace(x0, x1, resolution, dtype=torch.float64)
    ys = torch.linspace(y0, y1, resolution, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    Z = sampled(function, torch.stack([X, Y], dim=-1), ((x0, x1), (y0, y1)))
    if function.sampled:  # a grid's values stop at its bounds: a frame wider than them is left blank there
        (bx0, bx1), (by0, by1) = function.bounds
        slack = 1e-9 * max(bx1 - bx0, by1 - by0)
        outside = (X.numpy() < bx0 - slack) | (X.numpy() > bx1 + slack) | (Y.numpy() < by0 - slack) | (Y.numpy() > by1 + slack)
        Z = np.where(outside, np.nan, Z)
    return X.numpy(), Y.numpy(), Z


def sampled(function: TestFunction, points: torch.Tensor, frame: tuple[tuple[float, float], ...]) -> np.ndarray:
    """f at the points of a frame, as numpy; NothingToDraw, before any drawing, if no value
    is finite. Quiet: NaN where f is undefined (log of a negative) is expected here, and a
    warning about it would only reach the terminal."""
    with np.errstate(all="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        values = function(points).numpy()
    if not np.isfinite(values).any():
        box = " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in frame)
        raise NothingToDraw(f"{function.value} is not finite anywhere in the frame {box}: nothing to draw")
    return values


def contour_levels(z: np.ndarray) -> tuple[np.ndarray, bool]:
    """Levels for z: at 1, 2 and 5 of each decade above the minimum where the values span
    decades (log), else evenly at round numbers."""
    finite = z[np.isfinite(z)]
    if not finite.size:
        raise NothingToDraw("the function is not finite anywhere in the frame: nothing to draw")
    lo, hi = float(finite.min()), float(finite.max())
    if hi <= lo:
        return np.array([lo - 1, lo, lo + 1]), False
    above = finite[finite > lo] - lo
    if above.size and np.percentile(above, 95) > 100 * np.percentile(above, 5):
        start, stop = np.log10(max(np.percentile(above, 0.5), (hi - lo) * 1e-9)), np.log10(hi - lo)
        steps = [m * 10.0**e for e in range(int(np.floor(start)), int(np.ceil(stop)) + 1) for m in NICE]
        steps = [s for s in steps if 10**start <= s <= hi - lo]
        return np.array([lo] + [lo + s for s in steps] + ([hi] if steps[-1] < hi - lo else [])), True
    return MaxNLocator(nbins=12).tick_values(lo, hi), False


def colour_bar(bar: Any, levels: np.ndarray, log: bool, name: str = "f") -> None:
    """Ticks and a label a reader can use: round numbers on a linear scale (labelled only
    when the values are named otherwise than f); on a log scale one tick a decade, labelled
    as powers of ten of f above its lowest level."""
    if log:
        low = levels[0]
        above = levels[1:] - low
        exponents = np.log10(above)
        decade = np.isclose(exponents, np.round(exponents), atol=1e-9)
        shown, powers = levels[1:][decade], np.round(exponents[decade]).astype(int)
        step = max(1, int(np.ceil(len(shown) / 8)))
        bar.set_ticks(shown[::step], labels=[power_of_ten(p) for p in powers[::step]])
        offset = f" − {low:.3g}" if abs(low) >= 10.0 ** powers.min() else ""
        bar.set_label(f"{name}{offset}  (log scale)")
    else:
        shown = levels[:: max(1, int(np.ceil(len(levels) / 9)))]
        bar.set_ticks(shown, labels=[f"{v:.3g}" for v in shown])
        # plain f needs no label beside the bar: the heading's formula is what it shows, and
        # the slide's width goes to the landscape
        bar.set_label("" if name == "f" else name)
    bar.outline.set_visible(False)


@axes_level(takes=(TestFunction, "a TestFunction (optviz.get_function)"))
def contour(function: TestFunction, ax: Axes, theme: Theme, *, region: Box | None = None,
            colorbar: bool | Axes = True, minima: bool = True, resolution: int = 300) -> None:
    """The function's landscape over region (default its bounds): a filled contour in the
    theme's fill, darkest at the low values, thin level lines, a colour bar (beside the axes,
    or in the axes given as ``colorbar``), minima starred."""
    if function.dim != 2:
        raise ValueError(f"contour needs a 2D function, {function.name} is {function.dim}D")
    X, Y, Z = grid_values(function, region, resolution)
    levels, log = contour_levels(Z)
    cmap = theme.colormap
    norm = BoundaryNorm(levels, cmap.N)
    filled = ax.contourf(X, Y, Z, levels=levels, cmap=cmap, norm=norm)
    filled.set_rasterized(True)  # pixels inside SVG and PDF: small files, same look
    filled.optviz_log = log  # for a colour bar shared by several panels
    ax.contour(X, Y, Z, levels=levels, colors=theme.foreground, linewidths=0.5, alpha=0.18)
    if colorbar is not False:
        cax = colorbar if isinstance(colorbar, Axes) else ax.inset_axes(BAR_PLACE)
        colour_bar(ax.figure.colorbar(filled, cax=cax), levels, log, function.value)
    if minima:
        for m in function.minima:
            star(ax, *m.point, theme=theme)
    x0, x1, y0, y1 = region if region is not None else (*function.bounds[0], *function.bounds[1])
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel=function.axes[0], ylabel=function.axes[1])


@axes_level(takes=(TestFunction, "a TestFunction (optviz.get_function)"))
def function_curve(function: TestFunction, ax: Axes, theme: Theme, *, region: tuple[float, float] | None = None) -> None:
    """A 1D function's curve over region (default its bounds), its minima as stars."""
    if function.dim != 1:
        raise ValueError(f"function_curve draws 1D functions; {function.name} is {function.dim}D")
    lo, hi = region if region is not None else function.bounds[0]
    xs = torch.linspace(lo, hi, 800, dtype=torch.float64).unsqueeze(-1)
    values = sampled(function, xs, ((lo, hi),))
    ax.plot(xs[:, 0].numpy(), values, color=theme.muted, linewidth=2.2, zorder=1)
    for m in function.minima:
        if lo <= m.point[0] <= hi:
            star(ax, m.point[0], m.value, theme=theme)
    finite = values[np.isfinite(values)]  # the curve's gaps (log x below 0) have no height
    pad = 0.06 * (finite.max() - finite.min())
    ax.set(xlim=(lo, hi), ylim=(finite.min() - pad, finite.max() + pad), xlabel="x", ylabel="f(x)")


def star(ax: Axes, x: float, y: float, *, theme: Theme, size: float = 16) -> None:
    """A known minimum: a star in the foreground colour with a halo."""
    ax.plot(x, y, marker="*", markersize=size, color=theme.foreground, markeredgecolor=theme.outline,
            markeredgewidth=1.2, linestyle="none", zorder=5, gid="minimum")  # over the paths and their ends: never hidden


def casing(theme: Theme, width: float) -> list:
    """The theme's casing as a path's effects: a dark edge of a quarter its ``width`` (in
    points, at least 0.6) on each side, so the path reads where the fill is lighter and where
    it is darker than its colour; none where the theme has no casing."""
    if theme.casing is None:
        return []
    return [patheffects.Stroke(linewidth=width + 2 * max(0.6, width / 4), foreground=theme.casing), patheffects.Normal()]


def halo(theme: Theme, width: float, ink: str | None = None) -> list:
    """A thin outline in the background colour around a line or text, so crossings read; in
    the casing's colour around ``ink`` too light to read against the background colour."""
    edge = theme.outline
    if ink is not None and theme.casing is not None and contrast(ink, theme.outline) < MIN_CONTRAST:
        edge = theme.casing
    return [patheffects.Stroke(linewidth=width + 2.0, foreground=edge), patheffects.Normal()]
