"""Still pictures of a simulation.

Axes-level functions (``paths``, ``curve``, ``loss``, ``surface``, ``contour``) draw into
``ax=`` when given and return it; with no ``ax`` they make a themed figure of their own.
``grid`` is the figure-level helper: one panel per optimizer, per start or per result.
"""

from __future__ import annotations

import functools
import io
from collections.abc import Sequence
from typing import Any, Callable

import matplotlib
import numpy as np
import torch
from matplotlib import patheffects
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure

from ..functions import TestFunction
from ..result import Result
from ..files import atomic, writable_path
from .style import Size, Theme, colours, get_size, get_theme, rc

KINDS = ("auto", "paths", "curve", "loss", "distance", "surface")
STILL_FORMATS = ("png", "svg", "pdf")


# --- figures -------------------------------------------------------------------------------


def figure(
    theme: str | Theme = "light",
    size: str | tuple[int, int] | Size = "slide",
    nrows: int = 1,
    ncols: int = 1,
    projection: str | None = None,
) -> tuple[Figure, np.ndarray]:
    """A themed figure of the given size and its axes (always a 2D array)."""
    theme, size = get_theme(theme), get_size(size)
    settings = rc(theme, size)
    with matplotlib.rc_context(settings):
        fig = Figure(figsize=size.inches, dpi=size.dpi, layout="constrained")
        axes = fig.subplots(nrows, ncols, squeeze=False, subplot_kw={"projection": projection})
    # read back by the drawing functions, which run later under the same settings
    fig.optviz_theme, fig.optviz_rc = theme, settings
    return fig, axes


def axes_level(projection: str | None = None) -> Callable:
    """Makes draw(obj, ax, theme, **options) an axes-level function: it draws into ``ax`` or
    into a new themed figure, under that figure's settings, and returns the axes."""

    def wrap(draw: Callable) -> Callable:
        @functools.wraps(draw)
        def public(obj: Any, ax: Axes | None = None, *, theme: str | Theme = "light",
                   size: Any = "slide", **options: Any) -> Axes:
            if ax is None:
                ax = figure(theme, size, projection=projection)[1][0, 0]
            chosen = getattr(ax.figure, "optviz_theme", None) or get_theme(theme)
            with matplotlib.rc_context(getattr(ax.figure, "optviz_rc", {})):
                draw(obj, ax, chosen, **options)
            return ax

        return public

    return wrap


def save(fig: Figure, path: Any, *, dpi: int | None = None, transparent: bool = False) -> Any:
    """Write a figure as PNG, SVG or PDF (by the suffix), atomically; returns the path."""
    path = writable_path(path, STILL_FORMATS)
    with atomic(path) as tmp:
        fig.savefig(tmp, format=path.suffix[1:].lower(), dpi=dpi or fig.dpi, transparent=transparent)
    return path


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (for notebooks and web pages)."""
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


# --- what gets drawn ---------------------------------------------------------------------------


def title(function: TestFunction) -> str:
    """"Rosenbrock: (1-x)² + 100(y-x²)²", or just the name where the formula is too long."""
    name = function.name.replace("_", " ").title() if function.name.isidentifier() else "f"
    return name if len(function.formula) > 60 else f"{name}: {function.formula}"


def legend_label(result: Result, name: str) -> str:
    """A path's legend entry: the name it was given, unless that is just the optimizer's
    own short name, in which case its label with non-default hyperparameters."""
    opt = result.optimizers[name]
    return opt.label if name in (opt.name, opt.kind) else name


def _check(result: Any) -> Result:
    if not isinstance(result, Result):
        raise TypeError(f"expected an optviz Result (from optviz.simulate), got {type(result).__name__}")
    if result.positions.shape[1] == 0:
        raise ValueError("the result has no paths to draw")
    if torch.isnan(result.positions).all():
        raise ValueError("every path in the result is NaN: nothing to draw")
    return result


def path_colours(result: Result) -> dict[str, str]:
    """Each optimizer's colour: its own in every figure and GIF."""
    names = list(result.optimizers)
    return dict(zip(names, colours([result.optimizers[n].kind for n in names])))


def grid_values(function: TestFunction, resolution: int = 300) -> tuple[np.ndarray, ...]:
    """The function on a resolution x resolution grid over its bounds: X, Y, Z."""
    (x0, x1), (y0, y1) = function.bounds
    xs = torch.linspace(x0, x1, resolution, dtype=torch.float64)
    ys = torch.linspace(y0, y1, resolution, dtype=torch.float64)
    X, Y = torch.meshgrid(xs, ys, indexing="xy")
    Z = function(torch.stack([X, Y], dim=-1))
    return X.numpy(), Y.numpy(), Z.numpy()


def contour_levels(z: np.ndarray, n: int = 24) -> tuple[np.ndarray, bool]:
    """Levels for z: log-spaced above the minimum where the values span decades."""
    lo, hi = float(np.nanmin(z)), float(np.nanmax(z))
    above = z[z > lo] - lo
    if hi > lo and above.size and np.percentile(above, 95) > 300 * np.percentile(above, 5):
        levels = lo + np.geomspace(max(np.percentile(above, 0.5), (hi - lo) * 1e-9), hi - lo, n)
        return np.concatenate([[lo], levels]), True
    return np.linspace(lo, hi, n + 1), False


@axes_level()
def contour(function: TestFunction, ax: Axes, theme: Theme, *, colorbar: bool = False,
            minima: bool = True, resolution: int = 300) -> None:
    """The function's landscape: filled contours with lines, its minima as stars."""
    if function.dim != 2:
        raise ValueError(f"contour needs a 2D function, {function.name} is {function.dim}D")
    X, Y, Z = grid_values(function, resolution)
    levels, log = contour_levels(Z)
    cmap = theme.colormap
    filled = ax.contourf(X, Y, Z, levels=levels, cmap=cmap, norm=BoundaryNorm(levels, cmap.N), extend="neither")
    ax.contour(X, Y, Z, levels=levels, colors=theme.muted, linewidths=0.5, alpha=0.6)
    if colorbar:
        bar = ax.figure.colorbar(filled, ax=ax, shrink=0.9, format="%.3g")
        bar.set_label("f (log-spaced levels)" if log else "f")
    if minima:
        for m in function.minima:
            _star(ax, *m.point, theme=theme)
    (x0, x1), (y0, y1) = function.bounds
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel=function.axes[0], ylabel=function.axes[1])
    ax.set_title(title(function))


def _star(ax: Axes, x: float, y: float, *, theme: Theme, size: float = 14) -> None:
    """A known minimum."""
    ax.plot(x, y, marker="*", markersize=size, color=theme.foreground, markeredgecolor=theme.outline,
            linestyle="none", zorder=5)


def _halo(theme: Theme, width: float) -> list:
    return [patheffects.Stroke(linewidth=width + 2.5, foreground=theme.outline), patheffects.Normal()]


def _draw_path(ax: Axes, xy: np.ndarray, colour: str, label: str | None, theme: Theme) -> None:
    width = matplotlib.rcParams["lines.linewidth"] * 1.4
    every = max(1, len(xy) // 60)  # dots for the iterates, at most ~60 of them
    ax.plot(*xy.T, color=colour, linewidth=width, marker="o", markersize=width * 2.2,
            markevery=every, label=label, path_effects=_halo(theme, width), zorder=3)
    finite = xy[np.isfinite(xy).all(axis=1)]
    ax.plot(*finite[0], marker="o", markersize=width * 5, color=theme.background,
            markeredgecolor=colour, markeredgewidth=2, zorder=4)
    ax.plot(*finite[-1], marker="o", markersize=width * 4.5, color=colour,
            markeredgecolor=theme.outline, markeredgewidth=1, zorder=4)


def _mark_divergence(ax: Axes, xy: np.ndarray, step: int, colour: str, theme: Theme) -> None:
    """Label the point where a diverged path last leaves the frame (or its last point)."""
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    where = None
    for t in range(len(xy) - 1, 0, -1):
        segment = clip_segment(xy[t - 1], xy[t], (x0, x1, y0, y1))
        if segment is not None:
            where = segment[1]
            break
    if where is None:
        return
    ax.annotate(
        f"diverged at step {step}", xy=where, xytext=(0.5, 0.06), textcoords="axes fraction",
        ha="center", color=colour, fontweight="bold",
        arrowprops=dict(arrowstyle="->", color=colour, lw=1.2),
        path_effects=_halo(theme, 1.0), zorder=6,
    )


def clip_segment(a: np.ndarray, b: np.ndarray, box: tuple[float, float, float, float]) -> tuple | None:
    """The part of segment a-b inside box = (x0, x1, y0, y1), by Liang-Barsky, or None."""
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return None
    with np.errstate(over="ignore", divide="ignore"):  # a far escape: a ratio of inf is right
        return _liang_barsky(a, b - a, box)


def _liang_barsky(a: np.ndarray, d: np.ndarray, box: tuple[float, float, float, float]) -> tuple | None:
    x0, x1, y0, y1 = box
    lo, hi = 0.0, 1.0
    for p, q in ((-d[0], a[0] - x0), (d[0], x1 - a[0]), (-d[1], a[1] - y0), (d[1], y1 - a[1])):
        if p == 0:
            if q < 0:
                return None
            continue
        r = q / p
        if p < 0:
            lo = max(lo, r)
        else:
            hi = min(hi, r)
        if lo > hi:
            return None
    return a + lo * d, a + hi * d


@axes_level()
def paths(result: Result, ax: Axes, theme: Theme, *, colorbar: bool = False,
          legend: bool = True, palette: dict[str, str] | None = None) -> None:
    """Each optimizer's path on the function's contours, start and end marked, in its colour.

    A diverged path runs to the frame's edge and is labelled "diverged at step k".
    """
    result = _check(result)
    if result.function.dim != 2:
        raise ValueError(f"paths are drawn on 2D functions; {result.function.name} is 1D: use curve()")
    contour(result.function, ax, theme=theme, colorbar=colorbar)
    palette = palette or path_colours(result)
    positions = result.positions.numpy()
    for b, name in enumerate(result.names):
        first = b % result.n_starts == 0
        xy = positions[:, b]
        if np.isnan(xy).all():
            continue
        _draw_path(ax, xy, palette[name], legend_label(result, name) if first else None, theme)
        if result.diverged_at[b] >= 0:
            _mark_divergence(ax, xy, int(result.diverged_at[b]), palette[name], theme)
    if legend:
        ax.legend(loc="upper right")


@axes_level()
def function_curve(function: TestFunction, ax: Axes, theme: Theme) -> None:
    """A 1D function's curve over its bounds, its minima as stars."""
    if function.dim != 1:
        raise ValueError(f"function_curve draws 1D functions; {function.name} is {function.dim}D")
    lo, hi = function.bounds[0]
    xs = torch.linspace(lo, hi, 600, dtype=torch.float64).unsqueeze(-1)
    values = function(xs).numpy()
    ax.plot(xs[:, 0].numpy(), values, color=theme.muted, linewidth=2, zorder=1)
    for m in function.minima:
        _star(ax, m.point[0], m.value, theme=theme)
    pad = 0.05 * (values.max() - values.min())
    ax.set(xlim=(lo, hi), ylim=(values.min() - pad, values.max() + pad), xlabel="x", ylabel="f(x)")
    ax.set_title(title(function))


@axes_level()
def curve(result: Result, ax: Axes, theme: Theme, *, legend: bool = True,
          palette: dict[str, str] | None = None) -> None:
    """A 1D function's curve with each path's iterates as dots joined by a line."""
    result = _check(result)
    if result.function.dim != 1:
        raise ValueError(f"curve() draws 1D functions; {result.function.name} is 2D: use paths()")
    function_curve(result.function, ax)
    palette = palette or path_colours(result)
    x = result.positions[..., 0].numpy()
    f = result.losses.numpy()
    for b, name in enumerate(result.names):
        xy = np.stack([x[:, b], f[:, b]], axis=1)
        label = legend_label(result, name) if b % result.n_starts == 0 else None
        _draw_path(ax, xy, palette[name], label, theme)
        if result.diverged_at[b] >= 0:
            _mark_divergence(ax, xy, int(result.diverged_at[b]), palette[name], theme)
    if legend:
        ax.legend(loc="best")


@axes_level()
def loss(result: Result, ax: Axes, theme: Theme, *, kind: str = "loss", legend: bool = True,
         palette: dict[str, str] | None = None) -> None:
    """f - f* (log scale) per step, or with kind="distance" the distance to the nearest minimum.

    Without known minima (the saddles) it draws f itself on a linear scale.
    """
    result = _check(result)
    if kind not in ("loss", "distance"):
        raise ValueError(f"kind must be 'loss' or 'distance', got {kind!r}")
    fn = result.function
    if kind == "distance" and not fn.minima:
        raise ValueError(f"{fn.name} has no known minima to measure a distance to")
    palette = palette or path_colours(result)
    if kind == "distance":
        minima = torch.tensor([m.point for m in fn.minima], dtype=result.positions.dtype)
        values = torch.cdist(result.positions.transpose(0, 1), minima.unsqueeze(0).expand(result.positions.shape[1], -1, -1))
        values = values.min(dim=-1).values.T
        ylabel, log = "distance to the nearest minimum", True
    elif fn.minima:
        values, ylabel, log = result.gap(), "f - f*", True
    else:
        values, ylabel, log = result.losses, "f", False
    values = values.numpy()
    steps = np.arange(result.steps + 1)
    for b, name in enumerate(result.names):
        label = legend_label(result, name) if b % result.n_starts == 0 else None
        y = values[:, b]
        if log:
            y = np.where(y > 0, y, np.nan)  # exact zeros have no place on a log axis
        ax.plot(steps, y, color=palette[name], label=label, alpha=1.0 if result.n_starts == 1 else 0.6)
    if log and np.isfinite(np.where(values > 0, values, np.nan)).any():
        ax.set_yscale("log")
    ax.set(xlabel="step", ylabel=ylabel, xlim=(0, max(1, result.steps)))
    ax.grid(True, alpha=0.3)
    ax.set_title(f"{fn.name}: {ylabel} per step")
    if legend:
        ax.legend(loc="best")


@axes_level(projection="3d")
def surface(result: Result, ax: Axes, theme: Theme, *, legend: bool = True,
            palette: dict[str, str] | None = None) -> None:
    """The function as a 3D surface with the paths lifted onto it.

    Where f spans decades the height is log10(f - f* + 1e-3), so the valley floor shows.
    """
    result = _check(result)
    fn = result.function
    if fn.dim != 2:
        raise ValueError(f"surface() needs a 2D function, {fn.name} is {fn.dim}D")
    X, Y, Z = grid_values(fn, 120)
    _, log = contour_levels(Z)
    low = float(np.nanmin(Z))
    height = (lambda z: np.log10(z - low + 1e-3)) if log else (lambda z: z)
    ax.plot_surface(X, Y, height(Z), cmap=theme.colormap.reversed(), linewidth=0, antialiased=True,
                    alpha=0.85, rcount=60, ccount=60)
    palette = palette or path_colours(result)
    positions, losses = result.positions.numpy(), result.losses.numpy()
    for b, name in enumerate(result.names):
        label = legend_label(result, name) if b % result.n_starts == 0 else None
        xy = positions[:, b]
        (x0, x1), (y0, y1) = fn.bounds
        keep = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        z = np.where(keep, height(losses[:, b]), np.nan)
        ax.plot(xy[:, 0], xy[:, 1], z, color=palette[name], linewidth=2.2, marker="o", markersize=2.5,
                label=label, zorder=10)
    ax.set(xlabel="x", ylabel="y", zlabel="log10(f - f*)" if log else "f")
    ax.set_facecolor(theme.background)
    ax.set_title(title(fn))
    if legend:
        ax.legend(loc="upper left")


@axes_level()
def sweep_map(study: Any, ax: Axes, theme: Theme, *, colorbar: bool = True) -> None:
    """A Sweep as a heatmap of final f - f* (log colours); diverged cells crossed out; the
    best cell starred."""
    fn = study.function
    low = min((m.value for m in fn.minima), default=float(torch.nan_to_num(study.final, posinf=0).min()))
    gap = (study.final - low).numpy()
    finite = np.isfinite(gap)
    shown = np.where(finite, np.maximum(gap, 1e-16), np.nan)
    xs, ys = study.x_values.numpy(), study.y_values.numpy()
    cmap = matplotlib.colormaps["viridis"].with_extremes(bad=theme.muted)
    mesh = ax.pcolormesh(xs, ys, np.log10(shown), cmap=cmap, shading="nearest")
    rows, cols = np.nonzero(~finite)
    ax.plot(xs[cols], ys[rows], linestyle="none", marker="x", color=theme.foreground,
            markersize=max(3.0, 200 / max(len(xs), len(ys))), label="diverged")
    bx, by, _ = study.best
    ax.plot(bx, by, marker="*", markersize=16, color="#F0E442", markeredgecolor=theme.outline,
            linestyle="none", label=f"best: {study.x_name}={bx:.3g}, {study.y_name}={by:.3g}")
    for set_scale, values in ((ax.set_xscale, xs), (ax.set_yscale, ys)):
        if values.min() > 0 and values.max() / values.min() > 100:  # a log-spaced range
            set_scale("log")
    ax.set(xlabel=study.x_name, ylabel=study.y_name)
    ax.set_title(f"{study.optimizer} on {fn.name}: log10(f - f*) after {study.steps} steps")
    if colorbar:
        ax.figure.colorbar(mesh, ax=ax, label="log10(f - f*)")
    ax.legend(loc="upper right")


@axes_level()
def basin_map(study: Any, ax: Axes, theme: Theme) -> None:
    """Basins of attraction: each start coloured by the minimum it reaches (grey: none)."""
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    fn = study.function
    colours_ = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#D55E00", "#56B4E9", "#F0E442"]
    n = len(fn.minima)
    cmap = ListedColormap([theme.muted] + [colours_[i % len(colours_)] for i in range(n)])
    labels = study.labels.numpy() + 1  # 0 is "none"
    ax.pcolormesh(study.xs.numpy(), study.ys.numpy(), labels, cmap=cmap, vmin=-0.5, vmax=n + 0.5, shading="nearest")
    handles = []
    for i, m in enumerate(fn.minima):
        _star(ax, *m.point, theme=theme, size=16)
        share = float((study.labels == i).double().mean()) * 100
        handles.append(Patch(color=cmap(i + 1), label=f"({m.point[0]:.2f}, {m.point[1]:.2f}): {share:.0f}%"))
    none = float((study.labels < 0).double().mean()) * 100
    handles.append(Patch(color=theme.muted, label=f"no minimum: {none:.0f}%"))
    ax.legend(handles=handles, loc="upper right")
    (x0, x1), (y0, y1) = fn.bounds
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x", ylabel="y")
    ax.set_title(f"{study.label} on {fn.name}: basins after {study.steps} steps")


@axes_level()
def penalty_paths(paths: Any, ax: Axes, theme: Theme) -> None:
    """The loss's contours with the L2 circle and the L1 diamond that touch it at the
    penalised minimum, and the path of that minimum as lambda grows (hollow: lambda = 0)."""
    fn = paths.function
    contour(fn, ax, minima=True)
    l1_at, l2_at = (p.numpy() for p in paths.at(paths.highlight))
    radius = float(np.linalg.norm(l2_at))
    corner = float(np.abs(l1_at).sum())
    angle = np.linspace(0, 2 * np.pi, 400)
    l2_colour, l1_colour = "#0072B2", "#D55E00"
    ax.plot(radius * np.cos(angle), radius * np.sin(angle), color=l2_colour, linewidth=1.5, linestyle="--",
            label=f"‖w‖² = {radius**2:.3g} (L2 level set)")
    ax.plot([corner, 0, -corner, 0, corner], [0, corner, 0, -corner, 0], color=l1_colour, linewidth=1.5,
            linestyle="--", label=f"|w₁| + |w₂| = {corner:.3g} (L1 level set)")
    X, Y, Z = grid_values(fn, 200)
    for point, colour in ((l2_at, l2_colour), (l1_at, l1_colour)):  # the loss's level set through each
        level = fn(torch.tensor(point, dtype=torch.float64)).item()
        ax.contour(X, Y, Z, levels=[level], colors=colour, linewidths=1.2)
    for path, colour, name in ((paths.l2_path, l2_colour, "L2"), (paths.l1_path, l1_colour, "L1")):
        xy = path.numpy()
        ax.plot(*xy.T, color=colour, linewidth=2.5, path_effects=_halo(theme, 2.5),
                label=f"{name} minimum as λ grows")
    ax.plot(*l2_at, marker="o", markersize=10, color=l2_colour, markeredgecolor=theme.outline, zorder=6,
            linestyle="none", label=f"L2 minimum at λ={paths.highlight:g}: ({l2_at[0]:.2f}, {l2_at[1]:.2f})")
    ax.plot(*l1_at, marker="D", markersize=9, color=l1_colour, markeredgecolor=theme.outline, zorder=6,
            linestyle="none", label=f"L1 minimum at λ={paths.highlight:g}: ({l1_at[0]:.2f}, {l1_at[1]:.2f})")
    ax.axhline(0, color=theme.muted, linewidth=0.8)
    ax.axvline(0, color=theme.muted, linewidth=0.8)
    ax.set_aspect("equal")
    ax.legend(loc="lower right", fontsize="small")
    ax.set_title(f"{title(fn)}: L1 and L2 penalties")


def training(curves: Any, *, theme: str | Theme = "light", size: Any = "slide") -> Figure:
    """Train (solid) and test (dashed) loss per epoch on a log scale, one panel per variant,
    with the variant's final numbers in its title."""
    names = list(curves.train)
    fig, axes = figure(theme, size, 1, len(names))
    with matplotlib.rc_context(fig.optviz_rc):
        for ax, name in zip(axes.flat, names):
            epochs = np.arange(len(curves.train[name]))
            ax.plot(epochs, curves.train[name], color="#0072B2", label="train")
            ax.plot(epochs, curves.test[name], color="#D55E00", linestyle="--", label="test")
            ax.set_yscale("log")
            ax.set(xlabel="epoch", ylabel="MSE loss")
            ax.grid(True, alpha=0.3)
            numbers = ", ".join(f"{k} {v:.3g}" for k, v in curves.numbers.get(name, {}).items())
            ax.set_title(f"{name}\n{numbers}", fontsize="medium")
            ax.legend(loc="best")
        fig.suptitle(curves.title)
    return fig


def plot(result: Result, kind: str = "auto", ax: Axes | None = None, **options: Any) -> Axes:
    """The right picture for a result: paths on contours (2D) or on the curve (1D), or
    kind="loss", "distance", "surface"."""
    result = _check(result)
    if kind not in KINDS:
        raise ValueError(f"unknown kind {kind!r} (known: {', '.join(KINDS)})")
    if kind == "auto":
        kind = "curve" if result.function.dim == 1 else "paths"
    if kind in ("loss", "distance"):
        return loss(result, ax, kind=kind, **options)
    return {"paths": paths, "curve": curve, "surface": surface}[kind](result, ax, **options)


def grid(
    results: Result | Sequence[Result],
    *,
    by: str = "optimizer",
    kind: str = "auto",
    theme: str | Theme = "light",
    size: Any = "slide",
    ncols: int | None = None,
) -> Figure:
    """One panel per optimizer (by="optimizer"), per start (by="start") or, given several
    results, per result (one per function, say). Returns the figure."""
    panels = _panels(results, by)
    n = len(panels)
    # one optimizer keeps one colour across the panels, as in the figure of all of them
    palette = path_colours(results) if isinstance(results, Result) else None
    ncols = ncols or min(n, 3)
    nrows = -(-n // ncols)
    fig, axes = figure(theme, size, nrows, ncols, projection="3d" if kind == "surface" else None)
    for ax, (heading, panel) in zip(axes.flat, panels):
        plot(panel, kind, ax, legend=False, palette=palette)
        with matplotlib.rc_context(fig.optviz_rc):
            ax.set_title(heading, **({"color": palette[panel.names[0]]} if palette else {}))
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig


def _panels(results: Any, by: str) -> list[tuple[str, Result]]:
    if isinstance(results, Result):
        if by == "optimizer":
            return [(legend_label(results, name), results.select([name])) for name in results.optimizers]
        if by == "start":
            return [
                (f"from ({', '.join(f'{v:g}' for v in results.starts[s].tolist())})", results.select(starts=[s]))
                for s in range(results.n_starts)
            ]
        raise ValueError(f"by must be 'optimizer' or 'start', got {by!r}")
    results = list(results)
    if not results:
        raise ValueError("grid needs at least one result")
    return [(_check(r).function.name, r) for r in results]
