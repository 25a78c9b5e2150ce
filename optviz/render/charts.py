"""Charts of numbers: loss per step, training curves, sweeps, basins and penalties."""

from __future__ import annotations

from typing import Any

import matplotlib
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.colors import ListedColormap
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.patches import Patch
from matplotlib.ticker import MaxNLocator

from ..analyses.curvature import preconditioned_limit, stability_thresholds, stable_limit
from ..analyses.curvature import sharpness as top_eigenvalues
from ..analyses.models.experiments import Curves
from ..analyses.models.landscapes import Landscape, Line
from ..analyses.models.stability import EdgeOfStability
from ..analyses.penalties import RegularizationPaths, l1, penalised_minimum, sparse_from
from ..analyses.spectrum import spectra
from ..analyses.studies import Basins, Sweep
from ..core.simulation.result import Result
from .canvas import axes_level, expect, figure, ours, titled
from .contours import casing, contour, grid_values, halo, heading, star
from .frames import apart, ink, legend_clear_of, place
from .style import Theme, colours, get_theme, series_colours
from .trajectories import START_STYLES, checked, legend_label, start_label, traces


@axes_level()
def loss(result: Result, ax: Axes, theme: Theme, *, kind: str = "loss", legend: bool = True,
         palette: dict[str, str] | None = None, **unused: Any) -> None:
    """f - f* per step on a log scale, or with kind="distance" the distance to the nearest
    minimum. Without known minima it draws f itself, on a symmetric log scale where it goes
    negative. One line per path: colour by optimizer and line style by start."""
    result = checked(result)
    if kind not in ("loss", "distance"):
        raise ValueError(f"kind must be 'loss' or 'distance', got {kind!r}")
    fn = result.function
    if kind == "distance" and not fn.minima:
        raise ValueError(f"{fn.name} has no known minima to measure a distance to")
    if kind == "distance":
        minima = torch.tensor([m.point for m in fn.minima], dtype=result.positions.dtype)
        values = torch.cdist(result.positions.transpose(0, 1), minima.unsqueeze(0).expand(result.positions.shape[1], -1, -1))
        values, ylabel = values.min(dim=-1).values.T, "distance to the nearest minimum"
    elif fn.minima:
        values, ylabel = result.gap(), "f - f*"
    else:
        values, ylabel = result.losses, "f"
    values = values.numpy()
    steps = np.arange(result.steps + 1)
    drawn: dict[int, str] = {}  # a curve the same as one drawn before is dashed over it, and says so
    for trace in traces(result, theme, palette, np.zeros((result.steps + 1, values.shape[1], 2))):
        y = values[:, trace.index]
        twin = next((label for b, label in drawn.items() if np.allclose(values[:, b], y, equal_nan=True)), None)
        label = f"{trace.label} (same as {twin})" if twin and trace.label else trace.label
        ax.plot(steps, y, color=trace.colour, linestyle=(0, (5, 5)) if twin else trace.linestyle, label=label,
                linewidth=2.2, gid=f"path:{trace.index}", path_effects=casing(theme, 2.2))
        drawn[trace.index] = trace.label or f"path {trace.index}"
    _scale(ax, values)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="step", ylabel=ylabel, xlim=(0, max(1, result.steps)))
    ax.grid(True, alpha=0.25)
    ax.set_title(f"{fn.title or fn.name}: {ylabel} per step")
    if legend:
        handles = [line for line in ax.lines if not line.get_label().startswith("_")]
        if len(result.optimizers) > 1 and result.n_starts > 1:
            handles += [Line2D([], [], color=theme.muted, linestyle=START_STYLES[s % len(START_STYLES)], linewidth=2,
                               label=start_label(result, s)) for s in range(result.n_starts)]
        legend_clear_of(ax, handles, apart([line.get_xydata() for line in ax.lines]))


OPTIMUM_DASHES = (0, (4, 3))  # the optimum's singular values: a dashed grey line each


def optimum_line(theme: Theme) -> Line2D:
    """The key entry of the optimum's singular values."""
    return Line2D([], [], color=theme.muted, linestyle=OPTIMUM_DASHES, linewidth=1.6,
                  label="the optimum's singular values")


@axes_level()
def spectrum(result: Result, ax: Axes, theme: Theme, *, legend: bool = True,
             palette: dict[str, str] | None = None, **unused: Any) -> None:
    """A matrix problem's spectrum per step: the singular values of each path's iterate
    matrix (for low_rank those of W = UVᵀ), a line each in its path's colour and style, with
    the known optimum's as dashed grey lines; on a log scale where they span decades."""
    result = checked(result)
    found = spectra(result)
    values = found.values.numpy()
    steps = np.arange(result.steps + 1)
    shown = [values.reshape(-1)]
    if found.optimum is not None:
        optimum = found.optimum.numpy()
        optimum = optimum[optimum > 1e-9 * optimum.max()]  # the rest are zero but for rounding
        for level in optimum:
            ax.axhline(level, color=theme.muted, linestyle=OPTIMUM_DASHES, linewidth=1.6, zorder=1)
        shown.append(optimum)
    drawn = []
    for trace in traces(result, theme, palette, np.zeros((result.steps + 1, values.shape[1], 2))):
        for k in range(values.shape[2]):
            drawn += ax.plot(steps, values[:, trace.index, k], color=trace.colour, linestyle=trace.linestyle, linewidth=2.2,
                    label=trace.label if k == 0 else None, gid=f"path:{trace.index}:{k}",
                    path_effects=casing(theme, 2.2))
    _per_step(ax, np.concatenate(shown), result.steps, "singular value", _titled(result, "singular values per step"))
    if legend:
        handles = [line for line in drawn if not line.get_label().startswith("_")]
        handles += [optimum_line(theme)] if found.optimum is not None else []
        legend_clear_of(ax, handles, apart([line.get_xydata() for line in drawn]))


def _per_step(ax: Axes, shown: np.ndarray, steps: int, ylabel: str, title: str, xlabel: str = "step") -> None:
    """A chart of a quantity per step: its y scale fitted to ``shown``, whole steps 0..steps
    on x, a light grid, and its title."""
    _scale(ax, shown)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel=xlabel, ylabel=ylabel, xlim=(0, max(1, steps)))
    ax.grid(True, alpha=0.25)
    ax.set_title(title)


def _titled(result: Result, what: str) -> str:
    return f"{result.function.title or result.function.name}: {what}"


LIMIT_DASHES = (0, (5, 3))  # an optimizer's stable limit: dashed, in its colour


def limit_label(optimizer: Any) -> str:
    """The stable limit's formula as a chart labels it: 2/lr for SGD, (2+2μ)/lr for heavy-ball
    momentum, (2+2β₁)/((1-β₁)lr) for Adam's preconditioned sharpness, and so on (see
    optviz.analyses.curvature.stable_limit and preconditioned_limit)."""
    h = optimizer.hyperparams
    if preconditioned_limit(optimizer) is not None:
        return "(2+2β₁)/((1-β₁)lr)" if "betas" in h else "(2+2μ)/lr" if h.get("momentum") else "2/lr"
    if optimizer.kind == "sgd" or not h.get("momentum"):
        formula = "2/lr"
    elif h.get("nesterov"):
        formula = "(2+2μ)/((1+2μ)lr)"
    elif h.get("dampening"):
        formula = "(2+2μ)/((1-d)lr)"
    else:
        formula = "(2+2μ)/lr"
    return formula + (" - wd" if h.get("weight_decay") else "")


@axes_level()
def sharpness(result: Result, ax: Axes, theme: Theme, *, legend: bool = True,
              palette: dict[str, str] | None = None, **unused: Any) -> None:
    """The sharpness per step: the top eigenvalue of f's Hessian at each path's point, a line
    each in its path's colour and style, and for sgd, momentum and nesterov the sharpness
    above which their step is unstable (2/lr for SGD) as a dashed line in the optimizer's
    colour, labelled with its formula. An adaptive method whose state the run kept
    (``simulate(state=True)``) is drawn by its preconditioned sharpness, the top eigenvalue
    of P⁻¹H, against its own limit (38/lr for Adam at β₁ = 0.9). A path's line ends where it
    diverged; a point where the Hessian is not finite is marked with a cross on the x axis."""
    result = checked(result)
    values = top_eigenvalues(result, preconditioned=True).numpy()
    limits = stability_thresholds(result, preconditioned=True)
    adaptive = {name for name in limits if preconditioned_limit(result.optimizers[name]) is not None}
    steps = np.arange(result.steps + 1)
    undefined = np.isfinite(result.positions.numpy()).all(axis=-1) & ~np.isfinite(values)
    if adaptive:
        undefined[0] = False  # step 0 has no preconditioner yet: nothing is wrong there
    drawn, first = [], {}
    for trace in traces(result, theme, palette, np.zeros((result.steps + 1, values.shape[1], 2))):
        name = result.names[trace.index]
        label = f"{trace.label} · P⁻¹H" if trace.label and name in adaptive else trace.label
        drawn += ax.plot(steps, values[:, trace.index], color=trace.colour, linestyle=trace.linestyle, linewidth=2.2,
                         label=label, gid=f"path:{trace.index}", path_effects=casing(theme, 2.2))
        first.setdefault(name, trace.colour)
        where = np.flatnonzero(undefined[:, trace.index])
        if len(where):
            ax.plot(where, np.zeros(len(where)), "x", color=trace.colour, markersize=7, clip_on=False, zorder=5,
                    transform=ax.get_xaxis_transform(), gid=f"undefined:{trace.index}")
    for name, limit in limits.items():
        ax.plot(steps, limit.numpy(), color=first[name], linestyle=LIMIT_DASHES, linewidth=1.6, zorder=1,
                gid=f"limit:{name}")
        ax.annotate(f"{limit_label(result.optimizers[name])} = {float(limit[-1]):.3g}", (steps[-1], float(limit[-1])),
                    xytext=(-4, 4),
                    textcoords="offset points", ha="right", va="bottom", color=first[name], fontsize="small")
    ylabel = "top eigenvalue of H or P⁻¹H" if adaptive else "top Hessian eigenvalue"
    _per_step(ax, np.concatenate([values.reshape(-1), *(limit.numpy() for limit in limits.values())]), result.steps,
              ylabel, _titled(result, "sharpness per step"))
    if legend:
        handles = [line for line in drawn if not line.get_label().startswith("_")]
        if limits:
            handles.append(Line2D([], [], color=theme.muted, linestyle=LIMIT_DASHES, linewidth=1.6,
                                  label="stable limit (dashed)"))
        if undefined.any():
            handles.append(Line2D([], [], color=theme.muted, marker="x", linestyle="none",
                                  label="Hessian not finite there"))
        legend_clear_of(ax, handles, apart([line.get_xydata() for line in ax.lines
                                            if not str(line.get_gid()).startswith("undefined")]))


@axes_level(takes=(Landscape, "a Landscape made with sharpness_every= (optviz.landscape.landscape)"))
def landscape_sharpness(study: Landscape, ax: Axes, theme: Theme, *, legend: bool = True,
                        palette: dict[str, str] | None = None, **unused: Any) -> None:
    """A model's sharpness along its training paths: the top Hessian eigenvalue at each
    measured step (a dot each, joined), a line per path in its colour on the landscape, and
    for sgd, momentum and nesterov the sharpness above which their step is unstable (2/lr for
    SGD) as a dashed line in the optimizer's colour, labelled with its formula."""
    if not study.sharpness:
        raise ValueError("this landscape has no sharpness: make it with landscape(..., sharpness_every=k)")
    result = study.result()
    steps = max(int(found.steps[-1]) for found in study.sharpness.values())
    drawn, shown = [], []
    for trace in traces(result, theme, palette, np.zeros((result.steps + 1, len(result.names), 2))):
        name = result.names[trace.index]
        found = study.sharpness[name]
        drawn += ax.plot(found.steps.numpy(), found.top.numpy(), color=trace.colour, linestyle=trace.linestyle,
                         marker="o", markersize=4, linewidth=2.2, label=trace.label, gid=f"path:{trace.index}",
                         path_effects=casing(theme, 2.2))
        shown.append(found.top.numpy())
        limit = stable_limit(study.optimizers[name])
        if limit is not None:
            ax.plot([0, max(1, steps)], [limit, limit], color=trace.colour, linestyle=LIMIT_DASHES, linewidth=1.6,
                    zorder=1, gid=f"limit:{name}")
            ax.annotate(f"{limit_label(study.optimizers[name])} = {limit:.3g}", (0, limit), xytext=(4, 4),
                        textcoords="offset points", ha="left", va="bottom", color=trace.colour, fontsize="small")
            shown.append(np.array([limit]))
    _per_step(ax, np.concatenate(shown), steps, "top Hessian eigenvalue",
              f"{study.model_name} {study.value}: sharpness along the paths", xlabel="training step")
    if legend:
        legend_clear_of(ax, [line for line in drawn if not line.get_label().startswith("_")],
                        apart([line.get_xydata() for line in ax.lines]))


@axes_level()
def learning_rates(result: Result, ax: Axes, theme: Theme, *, legend: bool = True,
                   palette: dict[str, str] | None = None, **unused: Any) -> None:
    """The learning rate each optimizer used at each step: its schedule, or a flat line."""
    result = checked(result)
    shown = [name for name in result.optimizers if name in result.lrs]
    if not shown:
        raise ValueError("this result records no learning rates (its optimizers take a sweep of them)")
    chosen = dict(zip(result.optimizers, colours([result.optimizers[n].kind for n in result.optimizers], theme)))
    chosen.update(palette or {})
    for name in shown:
        lrs = result.lrs[name].numpy()
        ax.step(np.arange(len(lrs)), lrs, where="post", color=chosen[name], linewidth=2.2,
                label=legend_label(result, name))
    _scale(ax, np.concatenate([result.lrs[n].numpy() for n in shown]))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="step", ylabel="learning rate", xlim=(0, max(1, result.steps - 1)))
    ax.grid(True, alpha=0.25)
    ax.set_title("learning rate per step")
    if legend:
        handles = [line for line in ax.lines if not line.get_label().startswith("_")]
        legend_clear_of(ax, handles, apart([line.get_xydata() for line in ax.lines]))


@axes_level(takes=(Line, "a Line (optviz.landscape.interpolate, or a Landscape's line)"))
def line_chart(line: Any, ax: Axes, theme: Theme, *, legend: bool = True, **unused: Any) -> None:
    """The loss along the straight line between two sets of weights (Goodfellow et al. 2015):
    alpha 0 is the first, 1 the last; the path's own points sit at their projection onto the
    line, at their true loss, coloured from the first step (light) to the last (dark)."""
    alphas, losses = line.alphas.numpy(), line.losses.numpy()
    ax.plot(alphas, losses, color=theme.foreground, linewidth=2.4, label="loss on the line", zorder=3)
    for alpha, name in ((0.0, "start"), (1.0, "end")):
        ax.axvline(alpha, color=theme.muted, linewidth=1, linestyle=(0, (4, 4)), zorder=1)
        ax.annotate(name, (alpha, 1.0), xycoords=("data", "axes fraction"), xytext=(4, -4),
                    textcoords="offset points", va="top", color=theme.muted, fontsize="small")
    if len(line.path_alphas):
        steps = np.arange(len(line.path_alphas))
        marks = ax.scatter(line.path_alphas.numpy(), line.path_losses.numpy(), c=steps, cmap=_path_cmap(theme),
                           s=28, edgecolors=theme.outline, linewidths=0.6, zorder=4, label="the path's points")
        bar = ax.figure.colorbar(marks, ax=ax, label="step of the path", pad=0.02)
        bar.outline.set_visible(False)
    values = np.concatenate([losses, line.path_losses.numpy()])
    _scale(ax, values)
    ax.set(xlabel="α: (1 - α) start + α end", ylabel=line.title)
    ax.grid(True, alpha=0.25)
    ax.set_title(f"{line.title} on the line from the path's first point to its last")
    if legend:
        handles = [h for h in (*ax.lines, *ax.collections) if not h.get_label().startswith("_")]
        points = np.column_stack([line.path_alphas.numpy(), line.path_losses.numpy()])
        legend_clear_of(ax, handles, apart([np.column_stack([alphas, losses]), *points]))


def _path_cmap(theme: Theme) -> Any:
    """Light to dark in the theme's first path colour: early steps pale, the last one full."""
    return matplotlib.colors.LinearSegmentedColormap.from_list("steps", [theme.faint, theme.palette[0]])


def _scale(ax: Axes, values: np.ndarray) -> None:
    """log where every value is positive and they span decades; symlog where some are
    negative and they span decades; else linear. Exact zeros drop off a log axis."""
    finite = values[np.isfinite(values)]
    if not finite.size:
        return
    nonzero = np.abs(finite[finite != 0])
    spans_decades = nonzero.size and nonzero.max() > 100 * nonzero.min()
    if finite.min() > 0 and spans_decades:
        ax.set_yscale("log")
    elif finite.min() >= 0 and spans_decades:
        for line in ax.lines:
            y = np.asarray(line.get_ydata(), dtype=float)
            line.set_ydata(np.where(y > 0, y, np.nan))
        ax.set_yscale("log")
    elif finite.min() < 0 and spans_decades:
        ax.set_yscale("symlog", linthresh=10.0 ** np.floor(np.log10(np.percentile(nonzero, 10))))
    elif finite.min() >= 0:
        ax.set_ylim(bottom=0)  # a linear axis starts at zero, so a plateau is not read as zero


def training(curves: Any, *, theme: str | Theme = "light", size: Any = "slide", title: str | None = None,
             **look: Any) -> Figure:
    """Train (solid) and test (dashed) loss per epoch on a log scale, one panel per variant,
    all on the same y axis, each titled with its final numbers; where the variants report a
    train-test gap, a last panel draws that gap per epoch for all of them. ``look``: dpi,
    scale, background, transparent, as for figure."""
    expect(curves, Curves, "training: curves", "the Curves of an experiment (optviz.experiments.mlp(), ...)")
    theme = get_theme(theme)
    names = list(curves.train)
    gap = all("gap" in curves.numbers.get(name, {}) for name in names)
    # the gap panel is wider: its legend sits in the empty top right, over the flat late epochs
    fig, axes = figure(theme, size, 1, len(names) + gap, sharey=False, width_ratios=[1] * len(names) + [1.5] * gap,
                       **look)
    train_colour, test_colour = theme.palette[0], theme.palette[4]
    with matplotlib.rc_context(fig.optviz_rc):
        panels = list(axes.flat)
        for ax in panels[1:len(names)]:
            ax.sharey(panels[0])
        for k, (ax, name) in enumerate(zip(panels, names)):
            epochs = np.arange(len(curves.train[name]))
            ax.plot(epochs, curves.train[name], color=train_colour, linewidth=2.2, label="train")
            ax.plot(epochs, curves.test[name], color=test_colour, linewidth=2.2, linestyle="--", label="test")
            ax.set_yscale("log")
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            ax.set(xlabel="epoch")
            ax.grid(True, alpha=0.25)
            ax.set_title(name, fontsize="medium")
            if k:  # one y axis for all: its tick labels once, at the left
                ax.tick_params(labelleft=False)
            _final_numbers(ax, curves.numbers.get(name, {}))
        panels[0].set_ylabel("MSE loss")
        if gap:
            ax = panels[-1]
            late = 0.0
            # colours of their own: blue and red already mean train and test
            for name, colour in zip(names, [theme.palette[i] for i in (3, 1, 5, 2, 6)]):
                difference = np.array(curves.test[name]) - np.array(curves.train[name])
                ax.plot(np.arange(len(difference)), difference, color=colour, linewidth=2.4, label=name)
                late = max(late, float(np.max(difference[len(difference) // 2:])))
            ax.xaxis.set_major_locator(MaxNLocator(integer=True))
            # the story is where training ends: the first epochs' gap runs off the top
            ax.set(xlabel="epoch", ylabel="test - train loss", ylim=(0, 3 * late))
            ax.set_title("the gap: overfitting", fontsize="medium")
            ax.grid(True, alpha=0.25)
            ax.legend(loc="best", fontsize="small", **COMPACT)
    return titled(fig, title or curves.title)


COMPACT = dict(handlelength=1.2, handletextpad=0.4, borderpad=0.3, borderaxespad=0.3)  # a key in a narrow panel


def _final_numbers(ax: Axes, numbers: dict[str, float]) -> None:
    """A panel's key and its final numbers at once, inside it where the curves leave room:
    "train 0.15" beside the train line's sample, "test ..." beside the test line's, the
    other numbers (gap, weight norm) with no sample."""
    lines = {line.get_label(): line for line in ax.lines}
    handles = [Line2D([], [], color=lines[key].get_color(), linestyle=lines[key].get_linestyle(), linewidth=2.2)
               if key in lines else Line2D([], [], linestyle="none") for key in numbers]
    handles = handles or list(lines.values())
    labels = [f"{key} {value:.3g}" for key, value in numbers.items()] or list(lines)
    ax.legend(handles=handles, labels=labels, loc="best", fontsize="small", **COMPACT)


@axes_level(takes=(Sweep, "a Sweep (optviz.studies.sweep)"))
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
    mesh = ax.pcolormesh(xs, ys, np.log10(shown), cmap=cmap, shading="nearest", rasterized=True)
    rows, cols = np.nonzero(~finite)
    ax.plot(xs[cols], ys[rows], linestyle="none", marker="x", color=theme.foreground,
            markersize=max(3.0, 200 / max(len(xs), len(ys))), label="diverged")
    bx, by, _ = study.best
    ax.plot(bx, by, marker="*", markersize=18, color="#ffffff", markeredgecolor="#000000",
            linestyle="none", label=f"best: {study.x_name}={bx:.3g}, {study.y_name}={by:.3g}")
    for set_scale, values in ((ax.set_xscale, xs), (ax.set_yscale, ys)):
        if values.min() > 0 and values.max() / values.min() > 100:  # a log-spaced range
            set_scale("log")
    ax.set(xlabel=study.x_name, ylabel=study.y_name)
    ax.set_title(f"{study.optimizer} on {fn.title or fn.name}: final f - f* after {study.steps} steps")
    if colorbar:
        bar = ax.figure.colorbar(mesh, ax=ax, label="log10(f - f*)")
        bar.outline.set_visible(False)
    if ours(ax.figure):
        ax.figure.legend(loc="outside right lower", frameon=False)
    else:
        ax.legend(loc="upper right")


@axes_level(takes=(Basins, "a Basins (optviz.studies.basins)"))
def basin_map(study: Any, ax: Axes, theme: Theme) -> None:
    """Basins of attraction: each start coloured by the minimum it reaches (grey: none)."""
    fn = study.function
    n = len(fn.minima)
    cmap = ListedColormap([theme.muted] + series_colours(n, theme))
    labels = study.labels.numpy() + 1  # 0 is "none"
    ax.pcolormesh(study.xs.numpy(), study.ys.numpy(), labels, cmap=cmap, vmin=-0.5, vmax=n + 0.5, shading="nearest",
                  rasterized=True)
    handles = []
    for i, m in enumerate(fn.minima):
        star(ax, *m.point, theme=theme)
        share = float((study.labels == i).double().mean()) * 100
        handles.append(Patch(color=cmap(i + 1), label=f"({m.point[0]:.2f}, {m.point[1]:.2f}): {share:.0f}%"))
    none = float((study.labels < 0).double().mean()) * 100
    handles.append(Patch(color=theme.muted, label=f"no minimum: {none:.0f}%"))
    (x0, x1), (y0, y1) = fn.bounds
    ax.set(xlim=(x0, x1), ylim=(y0, y1), xlabel="x", ylabel="y")
    ax.set_aspect("equal")
    ax.set_title(f"{study.label} on {fn.title or fn.name}: basins after {study.steps} steps")
    if ours(ax.figure):
        ax.figure.legend(handles=handles, loc="outside right upper", frameon=False, title="start reaches")
    else:
        ax.legend(handles=handles, loc="upper right")


def _mark_sparse(ax: Axes, paths: Any, colour: str, theme: Theme) -> None:
    """Where the L1 minimum reaches the y axis, and at which lambda: a tick across the path
    and "x = 0 from λ ≈ ..." beside it, over as little of the lines drawn as it can."""
    lam = sparse_from(paths)
    if lam is None or lam == 0:
        return
    point = penalised_minimum(paths.function, [l1(lam)])[0].numpy()
    ax.plot(*point, marker="_", markersize=22, markeredgewidth=3.2, color=colour, path_effects=halo(theme, 3.2),
            zorder=7, linestyle="none", gid="event:sparse")
    ax.figure.draw_without_rendering()  # measured where it ends up
    lines = [line.get_xydata() for line in ax.lines if len(line.get_xydata()) > 1]
    place(ax, f"λ ≈ {lam:.1f}", point, [], ink(ax, lines), color=colour, fontweight="bold",
          fontsize=0.85 * float(matplotlib.rcParams["font.size"]), path_effects=halo(theme, 2.0), zorder=7,
          gid="event:sparse")


@axes_level(takes=(RegularizationPaths, "a RegularizationPaths (optviz.penalties.regularization_paths)"))
def penalty_paths(paths: Any, ax: Axes, theme: Theme) -> None:
    """The loss's contours with the L2 circle and the L1 diamond that touch it at the
    penalised minimum, and the path of that minimum as lambda grows (hollow: lambda = 0)."""
    fn = paths.function
    ax.set_aspect("equal", adjustable="box")
    contour(fn, ax, minima=True)
    l1_at, l2_at = (p.numpy() for p in paths.at(paths.highlight))
    radius = float(np.linalg.norm(l2_at))
    corner = float(np.abs(l1_at).sum())
    angle = np.linspace(0, 2 * np.pi, 400)
    l2_colour, l1_colour = theme.palette[0], theme.palette[4]
    ax.plot(radius * np.cos(angle), radius * np.sin(angle), color=l2_colour, linewidth=1.8, linestyle="--",
            label=f"‖w‖² = {radius**2:.3g} (L2 level set)")
    ax.plot([corner, 0, -corner, 0, corner], [0, corner, 0, -corner, 0], color=l1_colour, linewidth=1.8,
            linestyle="--", label=f"|w₁| + |w₂| = {corner:.3g} (L1 level set)")
    X, Y, Z = grid_values(fn, None, 200)
    for point, colour, name in ((l2_at, l2_colour, "L2"), (l1_at, l1_colour, "L1")):  # the loss's level set through each
        level = fn(torch.tensor(point, dtype=torch.float64)).item()
        ax.contour(X, Y, Z, levels=[level], colors=colour, linewidths=1.4, linestyles="dotted")
        ax.plot([], [], color=colour, linewidth=1.4, linestyle="dotted", label=f"loss level set through the {name} minimum")
    for path, colour, name in ((paths.l2_path, l2_colour, "L2"), (paths.l1_path, l1_colour, "L1")):
        ax.plot(*path.numpy().T, color=colour, linewidth=3.0, label=f"{name} minimum as λ grows")
    ax.plot(*l2_at, marker="o", markersize=11, color=l2_colour, markeredgecolor=theme.outline, zorder=6,
            linestyle="none", label=f"L2 minimum at λ={paths.highlight:g}: ({l2_at[0]:.2f}, {l2_at[1]:.2f})")
    ax.plot(*l1_at, marker="D", markersize=10, color=l1_colour, markeredgecolor=theme.outline, zorder=6,
            linestyle="none", label=f"L1 minimum at λ={paths.highlight:g}: ({l1_at[0]:.2f}, {l1_at[1]:.2f})")
    ax.axhline(0, color=theme.foreground, linewidth=0.8, alpha=0.6)
    ax.axvline(0, color=theme.foreground, linewidth=0.8, alpha=0.6)
    ax.set_title(f"{heading(fn)}\nwith an L1 or an L2 penalty", fontsize="medium")
    if ours(ax.figure):
        # a figure's legend beside the colour bar's labels, and titles of several lines: the wider gaps
        ax.figure.get_layout_engine().set(w_pad=3 / 72, h_pad=3 / 72)
        ax.figure.legend(loc="outside right upper", frameon=False, fontsize="small")
    else:
        ax.legend(loc="lower right", fontsize="small")
    for text in ax.texts:
        text.set_path_effects(halo(theme, 1.0))
    _mark_sparse(ax, paths, l1_colour, theme)  # last: placed once the legend has taken its room


# --- the edge of stability: loss and sharpness per step of full-batch training ----------------

STABILITY = (EdgeOfStability, "an EdgeOfStability (optviz.experiments.edge_of_stability)")
# each optimizer's name, its stable limit, its sharpness (the panel's title and y label), and
# its figure's own title
FAMILIES = {"sgd": ("gradient descent", "2/lr", "top eigenvalue of H", "sharpness",
                    "Gradient descent at the edge of stability: sharpness against 2/lr"),
            "adam": ("Adam", "38/lr", "top eigenvalue of P⁻¹H", "preconditioned sharpness",
                     "Adam at the edge of stability: sharpness of P⁻¹H against 38/lr")}


def _runs(study: EdgeOfStability, optimizer: str) -> list[tuple[Any, str]]:
    """The study's runs of ``optimizer`` with their colours, one slot of the palette each."""
    if optimizer not in FAMILIES:
        raise ValueError(f"optimizer must be 'sgd' or 'adam', got {optimizer!r}")
    runs = study.family(optimizer)
    if not runs:
        raise ValueError(f"this study has no {FAMILIES[optimizer][0]} runs")
    return list(runs)


def _run_colours(theme: Theme, count: int) -> list[str]:
    return [theme.palette[i % len(theme.palette)] for i in (0, 1, 2, 4, 5, 6)[:count]]


@axes_level(takes=STABILITY)
def stability_loss(study: Any, ax: Axes, theme: Theme, *, optimizer: str = "sgd", legend: bool = True,
                   **unused: Any) -> None:
    """The training loss per step of each run of ``optimizer`` ("sgd" or "adam") on a log
    scale, a line each in its run's colour."""
    runs = _runs(study, optimizer)
    for run, colour in zip(runs, _run_colours(theme, len(runs))):
        ax.plot(np.arange(len(run.loss)), run.loss, color=colour, linewidth=2.2, label=f"lr {run.lr:g}",
                gid=f"loss:{run.name}")
    ax.set_yscale("log")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="step", ylabel="MSE", xlim=(0, len(runs[0].loss) - 1))
    ax.grid(True, alpha=0.25)
    ax.set_title("train loss, full batch")
    if legend:
        ax.legend(loc="upper right")


@axes_level(takes=STABILITY)
def stability_sharpness(study: Any, ax: Axes, theme: Theme, *, optimizer: str = "sgd", **unused: Any) -> None:
    """The sharpness per measured step of each run of ``optimizer`` (Adam's: preconditioned),
    a line each in its run's colour, with its run's stable limit (2/lr, or 38/lr for Adam
    with β₁ = 0.9) as a dashed line in the same colour, labelled with its value beside the
    axes on the right."""
    runs = _runs(study, optimizer)
    _, formula, what, label, _ = FAMILIES[optimizer]
    colours = _run_colours(theme, len(runs))
    for run, colour in zip(runs, colours):
        ax.plot(run.measured, run.sharpness, color=colour, linewidth=2.2, gid=f"sharpness:{run.name}",
                path_effects=casing(theme, 2.2))
        ax.axhline(run.threshold, color=colour, linestyle=LIMIT_DASHES, linewidth=1.6, zorder=1,
                   gid=f"limit:{run.name}")
    top = max(max(max(run.sharpness), run.threshold) for run in runs)
    low = min(min(min(run.sharpness), run.threshold) for run in runs)
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set(xlabel="step", ylabel=label, xlim=(0, len(runs[0].loss) - 1), ylim=(0.8 * low, 1.1 * top))
    ax.grid(True, alpha=0.25)
    ax.set_title(what)
    _limit_labels(ax, runs, colours, formula)


def _limit_labels(ax: Axes, runs: list[Any], colours: list[str], formula: str) -> None:
    """Each stable limit's value beside the axes on the right, at its height, in its run's
    colour: "2/lr = 7.14" on one line, or on two (narrower, leaving the data more of the
    slide) where the limits lie far enough apart for two lines each."""
    size = matplotlib.font_manager.FontProperties(size="small").get_size_in_points()
    heights = sorted(ax.transData.transform([(0, run.threshold) for run in runs])[:, 1])
    gaps = np.diff(heights) * 72 / ax.figure.dpi  # in points
    two_lines = not len(gaps) or gaps.min() > 3 * size
    for run, colour in zip(runs, colours):
        value = f"{run.threshold:.0f}" if run.threshold >= 100 else f"{run.threshold:.3g}"
        ax.annotate(f"{formula}{chr(10) if two_lines else ' '}= {value}", (1, run.threshold),
                    xycoords=("axes fraction", "data"), xytext=(6, 0), textcoords="offset points", ha="left",
                    va="center", color=colour, fontsize="small", gid=f"limit-label:{run.name}")


def stability(study: Any, *, optimizer: str = "sgd", theme: str | Theme = "light", size: Any = "slide",
              title: str | None = None, **look: Any) -> Figure:
    """The edge of stability for the runs of ``optimizer`` ("sgd" or "adam"): the train loss
    per step (left, log scale) beside the sharpness per step with each run's stable limit
    (right; see stability_loss and stability_sharpness), under ``title`` (else one saying
    what the optimizer's sharpness does). ``look``: dpi, scale, background, transparent, as
    for figure."""
    expect(study, STABILITY[0], "stability: study", STABILITY[1])
    _runs(study, optimizer)
    fig, axes = figure(theme, size, 1, 2, **look)
    stability_loss(study, axes[0, 0], optimizer=optimizer)
    stability_sharpness(study, axes[0, 1], optimizer=optimizer)
    return titled(fig, title or FAMILIES[optimizer][4])
