"""Pictures of paths: on a 2D landscape, on a 1D curve, on a 3D surface, and small multiples.

Axes-level functions (``paths``, ``curve``, ``surface``) draw into ``ax=`` when given and
return it; with no ``ax`` they make a themed figure of their own. ``grid`` is the
figure-level helper: one panel per optimizer, per start or per result, on identical axes.

Every path stays visible. Paths are drawn longest first; where a path lies under later
ones it is drawn wider than they are, so it shows as a rim around them, and a path that
is the same as another to the pixel is dashed over it and says so in the legend. Short
lessons (up to MARKER_STEPS steps) show every step as a dot; longer paths show their
start, their end and arrows for their direction.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

import matplotlib
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.cm import ScalarMappable
from matplotlib.colors import LightSource, Normalize
from matplotlib.lines import Line2D
from matplotlib.markers import MarkerStyle
from matplotlib.ticker import MaxNLocator
from matplotlib.transforms import Affine2D, Bbox

from ..analyses.projection import principal_plane
from ..core.simulation.result import Result
from .canvas import axes_level, ours
from .contours import BAR_PLACE, casing, contour, contour_levels, function_curve, grid_values, halo, heading
from .glyphs import check_state, draw_state
from .frames import (Box, apart, clear_corner, clip_segment, exit_point, figure_legend, fit, ink, legend_clear_of,
                     place, view)
from .style import Theme, check_colour, colours, get_theme, series_colours
from .typeset import power_of_ten

MARKER_STEPS = 30  # paths of at most this many steps show every step as a dot
START_STYLES = ("-", (0, (6, 3)), (0, (1.5, 2)), (0, (6, 2, 1.5, 2)))  # one per start
WIDTH = 1.25  # the top path's width, in multiples of the theme's line width
RIM = 1.0  # how much wider a path is drawn than one hiding it, in the same multiples


# --- which path looks how ---------------------------------------------------------------------


@dataclass(frozen=True)
class Trace:
    """How one path is drawn."""

    index: int  # the path's index in the result
    xy: np.ndarray  # (steps + 1, 2) in data coordinates (x, f for a 1D function)
    colour: str
    label: str | None  # its legend entry (None: shares one)
    linestyle: Any = "-"
    width: float = 1.0  # in points
    zorder: float = 3.0
    same_as: str | None = None  # the label of a path it repeats, step for step
    left: bool = False  # it runs out of the frame (and is drawn to the edge)


def checked(result: Any) -> Result:
    if not isinstance(result, Result):
        raise TypeError(f"result: expected an optviz Result (from optviz.simulate), got {type(result).__name__}")
    if result.positions.shape[1] == 0:
        raise ValueError("the result has no paths to draw")
    if torch.isnan(result.positions).all():
        raise ValueError("every path in the result is NaN: nothing to draw")
    return result


def drawable(result: Any) -> Result:
    """A result whose paths can be drawn on a plane: more than two dimensions are shown in
    the paths' own principal plane (see optviz.projection)."""
    result = checked(result)
    return principal_plane(result) if result.function.dim > 2 else result


def legend_label(result: Result, name: str) -> str:
    """A path's legend entry: the name it was given, unless that is just the optimizer's
    own short name, in which case its label with non-default hyperparameters."""
    opt = result.optimizers[name]
    return opt.label if name in (opt.name, opt.kind) else name


def path_colours(result: Result, theme: str | Theme = "light") -> dict[str, str]:
    """Each optimizer's colour: its own in every figure and GIF of a theme."""
    names = list(checked(result).optimizers)
    return dict(zip(names, colours([result.optimizers[n].kind for n in names], get_theme(theme))))


def start_label(result: Result, start: int) -> str:
    return "from (" + ", ".join(f"{v:g}" for v in result.starts[start].tolist()) + ")"


def traces(result: Result, theme: Theme, palette: dict[str, str] | None, xy: np.ndarray) -> list[Trace]:
    """Every path's colour, legend entry and line style: colour by optimizer and line style
    by start, or colour by start when one optimizer runs from several. ``palette`` gives
    some or all optimizers colours of one's own choosing (names or #rrggbb)."""
    palette = {**path_colours(result, theme), **{name: check_colour(c) for name, c in (palette or {}).items()}}
    unknown = set(palette) - set(result.optimizers)
    if unknown:
        raise ValueError(f"palette names no optimizer of the result: {sorted(unknown)} (have: {', '.join(result.optimizers)})")
    by_start = len(result.optimizers) == 1 and result.n_starts > 1
    start_colours = series_colours(result.n_starts, theme) if by_start else []
    out = []
    for b, name in enumerate(result.names):
        start = b % result.n_starts
        if by_start:
            out.append(Trace(b, xy[:, b], start_colours[start], f"{legend_label(result, name)}, {start_label(result, start)}"))
        else:
            out.append(Trace(b, xy[:, b], palette[name], legend_label(result, name) if start == 0 else None,
                             START_STYLES[start % len(START_STYLES)]))
    return out


def layered(found: list[Trace], ax: Axes, box: Box, base: float) -> list[Trace]:
    """The traces in drawing order with their widths: longest first; a path more than half
    hidden under later ones drawn wider than they are, so it shows as a rim around them; a
    path that is another, step for step, dashed over it."""
    cells = [_cells(t.xy, ax, box, base) for t in found]
    order = sorted(range(len(found)), key=lambda i: -len(cells[i]))
    tolerance = 1e-9 * max(box[1] - box[0], box[3] - box[2])
    same: dict[int, int] = {}
    for k, i in enumerate(order):
        for j in order[:k]:
            if j not in same and np.allclose(found[i].xy, found[j].xy, rtol=0, atol=tolerance, equal_nan=True):
                same[i] = j
                break
    widths = {i: base for i in order}
    for k in range(len(order) - 1, -1, -1):  # from the top down: each one wider than what hides it
        i = order[k]
        above = [j for j in order[k + 1:] if j not in same and same.get(i) != j]
        covered = set().union(*(cells[j] for j in above)) if above else set()
        if i not in same and cells[i] and _share(cells[i], covered) > 0.5:
            under = max(widths[j] for j in above if cells[i] & cells[j])
            widths[i] = min(under + RIM * base, base * (1 + 2 * RIM))
    laid = []
    for z, i in enumerate(order):
        trace = replace(found[i], width=widths[i], zorder=3 + z / 100)
        if i in same:
            trace = replace(trace, linestyle=(z % 3 * 2, (4, 4)), width=widths[same[i]],
                            same_as=found[same[i]].label or f"path {same[i]}")
        laid.append(trace)
    return laid


def _cells(xy: np.ndarray, ax: Axes, box: Box, width: float) -> set[tuple[int, int]]:
    """The cells (about a line's width across, in pixels) a path passes through."""
    x0, x1, y0, y1 = box
    w, h = ax.figure.get_size_inches() * ax.figure.dpi * np.array([ax.get_position().width, ax.get_position().height])
    size = max(2.0, width * ax.figure.dpi / 72)
    points = xy[np.isfinite(xy).all(axis=1)]
    if len(points) == 0:
        return set()
    pixels = np.column_stack([(points[:, 0] - x0) / (x1 - x0) * w, (points[:, 1] - y0) / (y1 - y0) * h])
    pixels = pixels[(np.abs(pixels) < 1e6).all(axis=1)]
    if len(pixels) < 2:
        return set()
    # every segment sampled at n + 1 evenly spaced points, n about two a cell, as np.linspace spaces them
    a, d = pixels[:-1], np.diff(pixels, axis=0)
    n = np.maximum(1, (np.hypot(d[:, 0], d[:, 1]) / (size / 2)).astype(np.int64))
    segment = np.repeat(np.arange(len(n)), n + 1)
    i = np.arange(len(segment)) - np.repeat(np.cumsum(n + 1) - (n + 1), n + 1)
    t = i * (1.0 / n[segment])
    t[np.cumsum(n + 1) - 1] = 1.0
    p = a[segment] + t[:, None] * d[segment]
    p = p[(p[:, 0] >= 0) & (p[:, 0] <= w) & (p[:, 1] >= 0) & (p[:, 1] <= h)]
    return set(zip(*(p // size).astype(np.int64).T.tolist()))


def _share(a: set, b: set) -> float:
    return len(a & b) / len(a)


# --- drawing ------------------------------------------------------------------------------------


def draw(ax: Axes, laid: list[Trace], theme: Theme, steps: int, faint: bool = False) -> None:
    """The traces with their marks: every step as a dot on short lessons, else start, end and
    direction. ``faint``: thin and grey, as context for a highlighted path. Paths never move
    the layout: it is made for the landscape, the labels and the legend."""
    before = set(map(id, ax.get_children()))
    _draw(ax, laid, theme, steps, faint)
    for artist in ax.get_children():
        if id(artist) not in before:
            artist.set_in_layout(False)


FAINT = 0.35  # the opacity of context paths in small multiples


def _draw(ax: Axes, laid: list[Trace], theme: Theme, steps: int, faint: bool) -> None:
    for trace in laid:
        xy = trace.xy
        if faint:
            ax.plot(*xy.T, color=theme.faint, linewidth=trace.width * 0.45, alpha=FAINT, zorder=2,
                    gid=f"path:{trace.index}", solid_capstyle="round")
            continue
        dots = steps <= MARKER_STEPS
        edge = theme.casing or theme.outline  # a marker's rim: dark where paths are cased
        ax.plot(*xy.T, color=trace.colour, linewidth=trace.width, linestyle=trace.linestyle, zorder=trace.zorder,
                marker="o" if dots else None, markersize=trace.width * 1.9, markeredgecolor=edge,
                markeredgewidth=0.6, solid_capstyle="round", solid_joinstyle="round", gid=f"path:{trace.index}",
                path_effects=casing(theme, trace.width))
        finite = xy[np.isfinite(xy).all(axis=1)]
        if trace.left and len(finite) > 1:  # an arrowhead where it runs out of the frame
            ax.annotate("", xy=finite[-1], xytext=finite[-2], zorder=trace.zorder + 1, gid=f"path:{trace.index}",
                        arrowprops=dict(arrowstyle="-|>", color=trace.colour, linewidth=0,
                                        mutation_scale=18 + 3 * trace.width, shrinkA=0, shrinkB=0))
        elif len(finite):
            ax.plot(*finite[-1], marker="o", markersize=7 + trace.width, color=trace.colour,
                    markeredgecolor=edge, markeredgewidth=1.2, zorder=trace.zorder + 1,
                    gid=f"path:{trace.index}")
        if not dots:
            _arrows(ax, finite[:-1] if trace.left else finite, trace)
    starts = {tuple(np.round(t.xy[0], 12)) for t in laid if np.isfinite(t.xy[0]).all()}
    for point in starts:
        ax.plot(*point, marker="o", markersize=11, markerfacecolor=theme.background, markeredgecolor=theme.foreground,
                markeredgewidth=1.8, zorder=5.5, linestyle="none", gid="start")


def _arrows(ax: Axes, xy: np.ndarray, trace: Trace) -> None:
    """Two arrowheads along a long path, at a third and two thirds of its length."""
    if len(xy) < 3:
        return
    length = np.concatenate([[0], np.cumsum(np.hypot(*np.diff(xy, axis=0).T))])
    if not np.isfinite(length[-1]) or length[-1] == 0:
        return
    for share in (1 / 3, 2 / 3):
        k = int(np.searchsorted(length, share * length[-1]))
        k = min(max(k, 1), len(xy) - 1)
        ax.annotate("", xy=xy[k], xytext=xy[k - 1], zorder=trace.zorder + 0.5, gid=f"path:{trace.index}",
                    arrowprops=dict(arrowstyle="-|>", color=trace.colour, linewidth=0,
                                    mutation_scale=14 + 3 * trace.width, shrinkA=0, shrinkB=0))


MIN_LABEL_SHARE = 0.55  # of the type size: a label shrinks no further to fit a narrow panel


def label_divergence(ax: Axes, result: Result, laid: list[Trace], box: Box, theme: Theme) -> None:
    """"diverged at step k" inside the axes, next to where each runaway path leaves the frame,
    clear of the other labels and of as much of the paths as it can."""
    exits = [(trace, int(result.diverged_at[trace.index])) for trace in laid]
    exits = [(trace, step, where) for trace, step in exits
             if step >= 0 and (where := exit_point(trace.xy, box)) is not None]
    if not exits:
        return  # nothing to label: no layout to wait for
    ax.figure.draw_without_rendering()  # the layout, so labels are measured where they end up
    covered = ink(ax, [t.xy for t in laid])
    taken: list = []
    for trace, step, where in exits:
        text = divergence_text(ax, step, bool(result.function.minima))
        clear_label(ax, text, where, taken, covered, color=trace.colour, path_effects=halo(theme, 1.5, trace.colour),
                    zorder=7)


EVENT_SHARE = 0.8  # of the type size: an event's number, small beside the path


def mark_events(ax: Axes, events: Sequence[Any], shown: list[Trace], laid: list[Trace], theme: Theme) -> list[Any]:
    """Each event found on a path ``shown`` here (an analyses.events.Event: its path and
    step) as a short tick across the path, with the step's number beside it, clear of the
    other labels and of as much of the ``laid`` paths as it can. Returns the number labels."""
    traces = {t.index: t for t in shown}
    marks = [(e, traces[e.path]) for e in events if e.step is not None and e.path in traces]
    marks = [(e, t) for e, t in marks if np.isfinite(t.xy[e.step]).all()]  # inside the frame
    if not marks:
        return []
    ax.figure.draw_without_rendering()  # the layout, so the numbers are measured where they end up
    covered = ink(ax, [t.xy for t in laid])
    renderer = ax.figure.canvas.get_renderer()
    taken = [t.get_window_extent(renderer) for t in ax.texts if t.get_text() and t.get_visible()]
    taken += [line.get_window_extent(renderer) for line in ax.lines if line.get_gid() == "minimum"]  # the stars
    size = EVENT_SHARE * float(getattr(ax.figure, "optviz_rc", matplotlib.rcParams)["font.size"])
    labels = []
    for event, trace in marks:
        point = trace.xy[event.step]
        tick = MarkerStyle("|", transform=Affine2D().rotate_deg(_heading(ax, trace.xy, event.step)))
        ax.plot(*point, marker=tick, markersize=16, markeredgewidth=3.2, color=trace.colour, linestyle="none",
                path_effects=halo(theme, 3.2), zorder=6, gid=f"event:{event.spec.name}")
        labels.append(place(ax, event_text(event), point, taken, covered, spread=1.0, fontweight="bold", fontsize=size,
                            color=trace.colour, path_effects=halo(theme, 2.0), zorder=7,
                            gid=f"event:{event.spec.name}"))
    return labels


def event_text(event: Any) -> str:
    """An event's number on the picture: its step, and for a step marked for its own sake
    how long that step was (what a caption says of it)."""
    length = f"{event.length:.2f}" if event.length >= 0.01 else f"{event.length:.1e}"
    return f"step {event.step}: {length} long" if event.spec.kind == "step" else str(event.step)


def _heading(ax: Axes, xy: np.ndarray, step: int) -> float:
    """The path's direction at a step, in degrees on screen."""
    points = ax.transData.transform(xy[max(step - 1, 0):step + 2])
    points = points[np.isfinite(points).all(axis=1)]
    if len(points) < 2:
        return 0.0
    d = points[-1] - points[0]
    return float(np.degrees(np.arctan2(d[1], d[0])))


def clear_label(ax: Axes, text: str, anchor: np.ndarray, taken: list, covered: np.ndarray, **style: Any) -> Any:
    """A bold label placed (see frames.place) at the size that fits the axes, or smaller, down
    to MIN_LABEL_SHARE of the type, until it covers none of the ``covered`` points."""
    size = fitting_size(ax, text, fontweight="bold")
    least = MIN_LABEL_SHARE * float(matplotlib.rcParams["font.size"])
    renderer = ax.figure.canvas.get_renderer()
    while True:
        label = place(ax, text, anchor, taken, covered, fontweight="bold", fontsize=size, **style)
        if size <= least * 1.01 or not label.get_window_extent(renderer).padded(4).count_contains(covered):
            return label
        label.remove()
        taken.pop()
        size = max(least, size * 0.85)


def fitting_size(ax: Axes, text: str, **style: Any) -> float:
    """The text's size in points: the figure's own, or as much smaller as a narrow axes
    needs for the text to fit inside it (down to MIN_LABEL_SHARE of it)."""
    size = float(matplotlib.rcParams["font.size"])
    probe = ax.text(0, 0, text, fontsize=size, **style)
    width = probe.get_window_extent(ax.figure.canvas.get_renderer()).width
    probe.remove()
    room = ax.get_window_extent().width - 16  # the few pixels place() keeps to the axes' edges
    return size * max(MIN_LABEL_SHARE, min(1.0, room / max(width, 1.0)))


def divergence_text(ax: Axes, step: int, bounded: bool = True) -> str:
    """"diverged at step k" (or, where f has no minimum to reach, "ran off at step k"), on two
    lines where the axes are narrow (a small multiple)."""
    width = ax.get_window_extent().width
    what = "diverged" if bounded else "ran off"
    one_line = f"{what} at step {step}"
    return one_line if width > 30 * matplotlib.rcParams["font.size"] else f"{what}\nat step {step}"


def add_legend(ax: Axes, result: Result, laid: list[Trace], theme: Theme, avoid: np.ndarray | None = None,
               starts: bool = True) -> Any:
    """One entry per optimizer (and per start where line styles tell starts apart). In
    optviz's own one-panel figures: inside, in the first corner clear of the points to
    ``avoid`` (data coordinates), else beside the axes; elsewhere where it covers least."""
    handles = []
    by_start = len(result.optimizers) == 1 and result.n_starts > 1
    title = legend_label(result, result.names[0]) if by_start else None  # said once, over its starts
    for trace in sorted(laid, key=lambda t: t.index):
        if trace.label is None:
            continue
        text = start_label(result, trace.index % result.n_starts) if by_start else trace.label
        text += f" (same path as {trace.same_as})" if trace.same_as else ""
        handles.append(Line2D([], [], color=trace.colour, linewidth=3, linestyle="-", label=text,
                              path_effects=casing(theme, 3)))
    if starts and len(result.optimizers) > 1 and result.n_starts > 1:
        handles += [Line2D([], [], color=theme.muted, linewidth=2, linestyle=START_STYLES[s % len(START_STYLES)],
                           label=start_label(result, s)) for s in range(result.n_starts)]
    return legend_clear_of(ax, handles, avoid, **({"title": title} if title else {})) if handles else None


def _obstacles(ax: Axes, found: list[Trace], result: Result) -> np.ndarray:
    """What a legend must not cover, in data coordinates: the paths, their starts, the marked
    minima, and a 1D function's curve."""
    marks = np.array([m.point[:2] if len(m.point) > 1 else (m.point[0], m.value)
                      for m in result.function.minima]).reshape(-1, 2)
    return apart([t.xy for t in found] + list(marks) + [line.get_xydata() for line in ax.lines])


# --- the public pictures --------------------------------------------------------------------------


BOWL = 0.15  # of the frame's larger span: the room kept around each marked minimum, so its bowl shows


def frame_of(result: Result, bounds: Any = None) -> Box:
    """The box a 2D picture of the result shows: the given bounds, or its paths and what
    makes the function itself with a margin (see features)."""
    if bounds is not None:
        (x0, x1), (y0, y1) = bounds
        return float(x0), float(x1), float(y0), float(y1)
    xy = result.positions.numpy()
    paths = [xy[:, b] for b in range(xy.shape[1])]
    fn = result.function
    inside = [m.point for m in fn.minima if all(lo <= v <= hi for v, (lo, hi) in zip(m.point, fn.bounds))]
    return view(paths, fn.bounds, features(fn, inside, view(paths, fn.bounds, inside, margin=0)))


def features(fn: Any, minima: Sequence[Sequence[float]], around: Box) -> np.ndarray:
    """The points a frame keeps, whatever the paths do: the bowl around each of the
    ``minima`` (BOWL of the box ``around`` them and the paths on each side: never a minimum
    on the frame's edge) or, for a function with none marked (a saddle), its bounds'
    corners: all four quadrants around the point they centre."""
    if not fn.minima:
        (x0, x1), (y0, y1) = fn.bounds
        return np.array([(x0, y0), (x1, y1)], dtype=float)
    r = BOWL * max(around[1] - around[0], around[3] - around[2])
    return np.array([(x + dx, y + dy) for x, y in minima for dx, dy in ((-r, -r), (r, r))], dtype=float).reshape(-1, 2)


def laid_out_aspect(ax: Axes, box: Box) -> float:
    """The width / height the figure's layout leaves the axes' plotting area, with everything
    around it (title, tick labels, colour bar, legend) taken off its cell."""
    ax.set(xlim=box[:2], ylim=box[2:])
    fig = ax.figure
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    cell = ax.get_position(original=True).transformed(fig.transFigure)
    inner = _inner(ax, cell, renderer)
    return inner.width / max(inner.height, 1.0)


def _inner(ax: Axes, cell: Bbox, renderer: Any) -> Bbox:
    """Where the plotting area will be once its frame has the shape this returns (display
    coordinates): the room the layout gives the axes (its cell, and what it keeps around the
    cell for the labels) less the room its labels, title and colour bar take."""
    # as the layout measures it: a title wider than the axes does not make it narrower
    active, tight = ax.get_window_extent(renderer), ax.get_tightbbox(renderer, for_layout_only=True)
    room = Bbox.union([cell, tight])
    # an axes shrunk to equal units sits inside its cell, perhaps with its labels: only once
    # it fills the room do they need their own
    return Bbox.from_extents(room.x0 + active.x0 - tight.x0, room.y0 + active.y0 - tight.y0,
                             room.x1 - (tight.x1 - active.x1), room.y1 - (tight.y1 - active.y1))


def settled(ax: Axes) -> None:
    """Put the axes where the next layout will, after laid_out_aspect (no layout of its own):
    a legend placed now is measured against the paths as they will be drawn."""
    fig = ax.figure
    cell = ax.get_position(original=True).transformed(fig.transFigure)
    ax.set_position(_inner(ax, cell, fig.canvas.get_renderer()).transformed(fig.transFigure.inverted()))
    ax.set_in_layout(True)  # set_position takes the axes out of the layout: it stays in


def scene(result: Result, ax: Axes, theme: Theme, *, bounds: Any = None, colorbar: bool = True, legend: bool = True,
          palette: dict[str, str] | None = None, highlight: Sequence[int] | None = None,
          box: Box | None = None, starts: bool = True) -> tuple[Box, list[Trace]]:
    """Everything of a paths picture but the paths: the title, the legend (with the line
    style of each start, unless ``starts`` is False), the landscape (or the 1D curve) over
    the frame, and the colour bar. Returns the frame and the traces in drawing order (for
    ``draw``, or for a GIF to draw step by step)."""
    result = checked(result)
    fn = result.function
    one_d = fn.dim == 1
    crop = None
    if fn.dim > 2:
        raise ValueError(f"paths are drawn on 1D and 2D functions; {fn.name} is {fn.dim}D")
    xy = (np.stack([result.positions[..., 0].numpy(), result.losses.numpy()], axis=-1) if one_d
          else result.positions.numpy())
    found = traces(result, theme, palette, xy)
    ax.set_title(heading(fn))
    shown = [t for t in found if highlight is None or t.index in highlight]
    if one_d:
        box = box or curve_frame(result, bounds)
        function_curve(fn, ax, region=(box[0], box[1]))
        ax.set_ylim(box[2], box[3])
    else:
        ax.set_aspect("equal", adjustable="box")
        ax.set(xlabel=fn.axes[0], ylabel=fn.axes[1])  # as contour() labels them: the layout leaves them room
        crop = frame_of(result, bounds) if box is None else None
        bar = _bar_beside(ax, fn, crop or box) if colorbar else False
        if box is None:
            box = crop if bounds is not None else fit(crop, laid_out_aspect(ax, crop))
            if bounds is None and legend:
                settled(ax)
    clipped = [clip(t, box) for t in found]
    placed = None
    if legend:
        ax.set(xlim=box[:2], ylim=box[2:])
        placed = add_legend(ax, result, shown, theme, _obstacles(ax, clipped, result), starts)
        if crop is not None and bounds is None and placed in ax.figure.legends:  # beside the axes: less room
            box = fit(crop, laid_out_aspect(ax, crop))
            clipped = [clip(t, box) for t in found]
    if not one_d:
        # drawn past the frame: once the figure is laid out, fill() may widen the view to the room
        ax.optviz_room = spare(box) if bounds is None else box
        contour(fn, ax, region=ax.optviz_room, colorbar=bar)
        ax.set(xlim=box[:2], ylim=box[2:])
    base = matplotlib.rcParams["lines.linewidth"] * WIDTH
    laid = layered(clipped, ax, box, base)
    if placed is not None and highlight is None and any(t.same_as for t in laid):
        # now it is known which paths repeat another: the legend says so, in the same place
        inside = placed not in ax.figure.legends
        placed.remove()
        add_legend(ax, result, laid, theme, _obstacles(ax, laid, result) if inside else None, starts)
    return box, laid


SPARE = 0.1  # of a frame's span on each side: landscape drawn beyond the frame, for fill() to show


def spare(box: Box) -> Box:
    x0, x1, y0, y1 = box
    dx, dy = SPARE * (x1 - x0), SPARE * (y1 - y0)
    return x0 - dx, x1 + dx, y0 - dy, y1 + dy


def fill(axes: Sequence[Axes]) -> None:
    """Widen the view of laid-out panels on equal axes (one frame, shared) along their short
    side until they fill the room the layout gives them, as far as their landscape was drawn
    (see spare): a title or a colour bar measured otherwise than it ended up leaves no strip.
    Each panel's room is a guess at the next layout's (a panel's tick labels move beside
    its cell once it fills it): the view whose layout gives the panels most area is kept."""
    ax = axes[0]
    room = getattr(ax, "optviz_room", None)
    if room is None or ax.get_aspect() != 1.0:
        return
    fig = ax.figure
    fig.draw_without_rendering()
    renderer = fig.canvas.get_renderer()
    view = (*ax.get_xlim(), *ax.get_ylim())
    shapes = {round(inner.width / max(inner.height, 1.0), 3) for inner in
              (_inner(panel, panel.get_position(original=True).transformed(fig.transFigure), renderer)
               for panel in axes)}
    views = [view] + [_widened(view, shape, room) for shape in sorted(shapes)]
    best, most = view, -1.0
    for candidate in dict.fromkeys(views):  # each view once, in order
        _show(axes, candidate)
        fig.draw_without_rendering()
        area = sum(panel.bbox.width * panel.bbox.height for panel in axes)
        if area > most * 1.001:  # a wider view only for a real gain
            best, most = candidate, area
    _show(axes, best)


def _widened(view: Box, shape: float, room: Box) -> Box:
    """The view widened along its short side to the shape (width / height), within room."""
    wide = fit(view, shape)
    return max(wide[0], room[0]), min(wide[1], room[1]), max(wide[2], room[2]), min(wide[3], room[3])


def _show(axes: Sequence[Axes], view: Box) -> None:
    for panel in axes:
        panel.set(xlim=view[:2], ylim=view[2:])


def _bar_beside(ax: Axes, fn: Any, region: Box) -> Axes:
    """The axes a colour bar is drawn in, right of ``ax``, with tick labels and, where the
    bar over ``region`` will have one (see contours.colour_bar), a one-line label already on
    its right: the layout that frames the picture and places its legend leaves the room the
    colour bar will take."""
    bar = ax.inset_axes(BAR_PLACE)
    bar.xaxis.set_visible(False)
    bar.yaxis.tick_right()
    bar.yaxis.set_label_position("right")
    if fn.value != "f" or contour_levels(grid_values(fn, region, 300)[2])[1]:  # labelled: named, or a log scale
        bar.set_ylabel("f")
    return bar


def clip(trace: Trace, box: Box) -> Trace:
    """The trace cut where it first leaves the box."""
    x0, x1, y0, y1 = box
    xy = trace.xy
    outside = np.isfinite(xy).all(axis=1) & ~((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
    return replace(trace, xy=within(xy, box), left=bool(outside.any()))


def within(xy: np.ndarray, box: Box) -> np.ndarray:
    """The path up to where it first leaves the box, ending on the box's edge; NaN after: a
    runaway path's later swings would only cross the frame again and again."""
    x0, x1, y0, y1 = box
    outside = ~((xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1))
    gone = np.flatnonzero(outside & np.isfinite(xy).all(axis=1))
    if not len(gone) or gone[0] == 0:
        return xy
    kept = xy.copy()
    k = gone[0]
    edge = clip_segment(xy[k - 1], xy[k], box)
    kept[k] = edge[1] if edge is not None else np.nan
    kept[k + 1:] = np.nan
    return kept


@axes_level()
def paths(result: Result, ax: Axes, theme: Theme, *, highlight: Sequence[int] | None = None, label: bool = True,
          state: Any = None, events: Sequence[Any] = (), **options: Any) -> None:
    """Each path on the function's landscape (2D), or on its curve (1D), cropped to the paths
    and the marked minima (or to ``bounds``), on equal axes, with a colour bar and a legend.

    ``highlight``: the path indices drawn in full; the others are faint context (small
    multiples). A runaway path is followed out of the frame and labelled where it leaves;
    with ``label=False`` that waits for ``ax.optviz_labels()``, once the figure is complete.
    ``events`` (analyses.events.Event, found in this result) are marked on their paths as
    numbered ticks. Options: ``bounds``, ``colorbar``, ``legend``, ``palette``, ``box`` (a
    frame to share). ``state``: True (or "state"), "gradient" or "both" draws the optimizer's
    state at the points of the paths drawn in full, with the labels (see
    optviz.render.glyphs; the result from ``simulate(..., state=True)``).
    """
    state = check_state(state)
    result = drawable(result)
    box, laid = scene(result, ax, theme, highlight=highlight, **options)
    if highlight is not None:
        draw(ax, [t for t in laid if t.index not in highlight], theme, result.steps, faint=True)
        # nothing else is drawn in full: the highlighted paths need no rims or dashes
        base = matplotlib.rcParams["lines.linewidth"] * WIDTH
        laid = [replace(t, width=base, linestyle=START_STYLES[(t.index % result.n_starts) % len(START_STYLES)],
                        same_as=None) if t.index in highlight else t for t in laid]
    shown = [t for t in laid if highlight is None or t.index in highlight]
    draw(ax, shown, theme, result.steps)

    def labels() -> None:
        clear_corner(ax, _obstacles(ax, laid, result))
        label_divergence(ax, result, shown, box, theme)
        mark_events(ax, events, shown, laid, theme)
        if state is not None:
            draw_state(ax, result, state, {t.index: t.colour for t in shown}, box, theme)

    ax.optviz_labels = labels
    if label:
        ax.optviz_labels()


curve = paths  # a 1D function's curve with the iterates on it: the same picture


def curve_frame(result: Result, bounds: Any = None) -> Box:
    """x: the iterates and minima (or the given bounds); f: the curve over that range."""
    fn = result.function
    if bounds is not None:
        (x0, x1), = bounds
    else:
        x = result.positions[..., 0].numpy()
        xy = [np.column_stack([x[:, b], np.zeros(len(x))]) for b in range(x.shape[1])]
        x0, x1, _, _ = view(xy, (fn.bounds[0], (-1.0, 1.0)), [(m.point[0], 0.0) for m in fn.minima])
    values = fn(torch.linspace(x0, x1, 800, dtype=torch.float64).unsqueeze(-1)).numpy()
    pad = 0.06 * (values.max() - values.min() or 1.0)
    return x0, x1, float(values.min() - pad), float(values.max() + pad)


@axes_level(projection="3d")
def surface(result: Result, ax: Axes, theme: Theme, *, legend: bool = True, colorbar: bool = True,
            palette: dict[str, str] | None = None, **unused: Any) -> None:
    """The function as a 3D surface over the paths' frame, lit from the upper left, with a
    colour bar and the paths lifted just above it and drawn over it, never hidden. Where f
    spans decades the height is f on a log scale (at most SURFACE_DECADES of them below the
    top), its ticks labelled with f's own values."""
    result = drawable(result)
    fn = result.function
    if fn.dim != 2:
        raise ValueError(f"surface() needs a 2D function, {fn.name} is {fn.dim}D")
    box = frame_of(result)
    X, Y, Z = grid_values(fn, box, SURFACE_GRID)
    height, ticks, named = _surface_scale(Z, fn.value)
    heights = height(Z)
    bottom, top = float(np.nanmin(heights)), float(np.nanmax(heights))
    ax.computed_zorder = False  # draw in artist order: the paths stay above the surface
    cmap, norm = theme.colormap, Normalize(bottom, top)
    # lit as from the upper left: ridges and valleys read by their shading, the colour still says the height
    shaded = LightSource(azdeg=315, altdeg=40).shade(np.nan_to_num(heights, nan=top), cmap=cmap, norm=norm,
                                                     blend_mode="soft", vert_exag=_exaggeration(X, heights),
                                                     dx=float(np.ptp(X)) / (SURFACE_GRID - 1),
                                                     dy=float(np.ptp(Y)) / (SURFACE_GRID - 1))
    # one face per grid cell (no strides): the mesh cannot skip across a narrow valley into spikes
    ax.plot_surface(X, Y, heights, facecolors=shaded, linewidth=0, antialiased=False, shade=False,
                    rcount=SURFACE_GRID, ccount=SURFACE_GRID, zorder=1)
    lift = SURFACE_LIFT * (top - bottom)
    laid = traces(result, theme, palette, result.positions.numpy())
    positions, losses = result.positions.numpy(), result.losses.numpy()
    x0, x1, y0, y1 = box
    for trace in laid:
        xy = positions[:, trace.index]
        keep = (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        z = np.where(keep, np.clip(height(losses[:, trace.index]), bottom, top) + lift, np.nan)
        ax.plot(xy[:, 0], xy[:, 1], z, color=trace.colour, linewidth=2.6, label=trace.label, zorder=10,
                linestyle=trace.linestyle, path_effects=casing(theme, 2.6) or halo(theme, 2.6), gid=f"path:{trace.index}")
        finite = np.isfinite(z)
        if finite.any():
            last = np.flatnonzero(finite)[-1]
            ax.plot([xy[last, 0]], [xy[last, 1]], [z[last]], marker="o", color=trace.colour, markersize=8,
                    markeredgecolor=theme.casing or theme.outline, zorder=11, gid=f"path:{trace.index}")
    # the colour bar, if any, names the height: the z axis need not say it again beside it
    ax.set(xlabel=fn.axes[0], ylabel=fn.axes[1], zlabel="" if colorbar else named, xlim=(x0, x1), ylim=(y0, y1),
           zlim=(bottom, top + lift))
    ax.set_facecolor(theme.background)
    ax.set_box_aspect((1.5, 1, 0.7), zoom=1.35)
    for axis in (ax.xaxis, ax.yaxis):  # slide-sized type: fewer ticks, and labels clear of them
        # only ticks inside the box: one past it is not drawn, but its label would be laid out, off to the side
        lo, hi = sorted(axis.get_view_interval())
        axis.set_ticks([v for v in MaxNLocator(nbins=4).tick_values(lo, hi) if lo <= v <= hi])
    at, labels = ticks(bottom, top)
    ax.zaxis.set_ticks(at, labels=labels)
    for axis in (ax.xaxis, ax.yaxis, ax.zaxis):
        axis.labelpad = (1.1 if axis is ax.zaxis else 0.6) * matplotlib.rcParams["axes.labelsize"]
    if colorbar:
        bar = ax.figure.colorbar(ScalarMappable(norm, cmap), ax=ax, shrink=0.7, pad=0.06)
        bar.set_ticks(at, labels=labels)
        bar.set_label(named)
        bar.outline.set_visible(False)
    ax.set_title(heading(fn))
    if legend and any(t.label for t in laid):
        handles = [Line2D([], [], color=t.colour, linewidth=3, linestyle=t.linestyle, label=t.label)
                   for t in laid if t.label]
        # in optviz's own figure, left of the picture: the square a 3D axes is drawn in leaves room
        # there, and the surface keeps its height
        if ours(ax.figure) and len(ax.figure.axes) <= 2:
            figure_legend(ax.figure, handles, "outside left center", most=1)
        else:
            ax.legend(handles=handles, loc="upper left")


SURFACE_GRID = 120  # cells a side: the grid sampled is the mesh drawn
SURFACE_DECADES = 3  # a log height shows this many decades below its top: deeper, a valley floor is noise
SURFACE_LIFT = 0.015  # the paths' height above the surface, a share of its height


def _surface_scale(Z: np.ndarray, name: str) -> tuple[Any, Any, str]:
    """The height of f on the surface, its ticks and their labels, and its name in plain words:
    f itself, or where f spans decades f above its lowest value on a log scale, floored
    SURFACE_DECADES below the top so that a narrow valley stays a smooth trough."""
    low, high = float(np.nanmin(Z)), float(np.nanmax(Z))
    _, log = contour_levels(Z)
    if not log:
        return (lambda z: np.asarray(z, dtype=float)), _linear_ticks, name
    floor = 10.0 ** (np.ceil(np.log10(max(high - low, 1e-300))) - SURFACE_DECADES)  # a whole decade: a tick

    def height(z: Any) -> np.ndarray:
        return np.log10(np.maximum(np.asarray(z, dtype=float) - low, 0) + floor)

    above = f" − {low:.3g}" if abs(low) > floor else ""
    return height, _decade_ticks, f"{name}{above}  (log scale)"


def _linear_ticks(bottom: float, top: float) -> tuple[list[float], list[str]]:
    at = [v for v in MaxNLocator(nbins=4).tick_values(bottom, top) if bottom <= v <= top]
    return at, [f"{v:.3g}" for v in at]


def _decade_ticks(bottom: float, top: float) -> tuple[list[float], list[str]]:
    """A tick at each whole decade of the height (at most five), labelled as the power of ten
    of f it stands for (the floor as at most that)."""
    decades = list(range(int(np.ceil(bottom)), int(np.floor(top)) + 1))
    decades = decades[:: max(1, int(np.ceil(len(decades) / 5)))]
    # the floor stands for every value below it
    return [float(d) for d in decades], [("≤ " if np.isclose(d, bottom) else "") + power_of_ten(d) for d in decades]


def _exaggeration(X: np.ndarray, heights: np.ndarray) -> float:
    """How much to stretch the heights for the light: as they are drawn, in a box 0.7 / 1.5
    as tall as it is wide."""
    span = float(np.nanmax(heights) - np.nanmin(heights)) or 1.0
    return 0.7 / 1.5 * float(np.ptp(X)) / span


def two_lines(label: str, width: int = 26) -> str:
    """An optimizer's name on one line, its hyperparameters wrapped on the next ones; the
    name and the first of them on one line where that saves a line (a long setting)."""
    name, _, rest = label.partition(" ")
    apart = _wrapped([name], rest.split(), width)
    together = _wrapped([], label.split(), width)
    return "\n".join(together if len(together) < len(apart) else apart)


def _wrapped(lines: list[str], words: list[str], width: int) -> list[str]:
    """The words on lines of at most width characters (a longer word on its own), after ``lines``."""
    lines, line = list(lines), ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return lines + ([line] if line else [])
