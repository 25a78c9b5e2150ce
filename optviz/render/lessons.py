"""A picture built up step by step, as a lecturer tells it: the bare landscape, the start, the
gradient there with the first step, one optimizer's path, then every optimizer's.

The whole picture is drawn once, with everything, and its layout frozen; each step is that
figure saved with only what the story has reached shown, so nothing moves between steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
import torch
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.lines import Line2D

from ..core.simulation.result import Result
from .canvas import figure, save, titled
from .contours import halo
from .frames import clip_segment
from .style import Theme
from .trajectories import drawable, legend_label, paths

# each step of the story, and what it shows (a slide's notes say it)
STEPS = {
    "landscape": "the bare landscape: darker is lower, a star marks a minimum",
    "start": "where the run starts",
    "first step": "the gradient at the start (the arrow points along −∇f, steepest descent) and the first step",
    "path": "the first optimizer's whole path",
    "comparison": "every optimizer's path on the same landscape",
}
ARROW = 0.14  # the gradient arrow's length, as a share of the axes' width


def build_up(result: Result, targets: Sequence[str | Path], *, title: str | None = None, bounds: Any = None,
             palette: dict[str, str] | None = None, theme: str | Theme = "light", size: Any = "slide",
             **look: Any) -> list[Path]:
    """Write the steps of STEPS, in order, to ``targets`` (one .png, .svg or .pdf each) and
    return them. Every step shows what the story has reached on the same frame: the one-panel
    picture of every path (``bounds``, ``palette``, ``title`` and ``look``, that is dpi,
    scale, background and transparent, as for it)."""
    if len(targets) != len(STEPS):
        raise ValueError(f"build_up writes {len(STEPS)} steps ({', '.join(STEPS)}), got {len(targets)} targets")
    result = drawable(result)
    fig, ax, runaway = _whole_picture(result, title, bounds, palette, theme, size, look)
    parts = _story(fig, ax, result, runaway)
    written = []
    for step, target in enumerate(targets):
        for artist, steps in parts:
            artist.set_visible(step in steps)
        written.append(save(fig, target))
    return written


def _whole_picture(result: Result, title: str | None, bounds: Any, palette: dict[str, str] | None,
                   theme: str | Theme, size: Any, look: dict[str, Any]) -> tuple[Any, Axes, list[Artist]]:
    """The last step's picture, laid out and then frozen: (figure, axes, the labels of runaway
    paths)."""
    fig, axes = figure(theme, size, **look)
    ax = axes[0, 0]
    titled(fig, title)  # first: the frame is fitted to the room the title leaves
    paths(result, ax, bounds=bounds, palette=palette, label=False)
    titled(fig, title)
    before = set(ax.get_children())
    ax.optviz_labels()  # "diverged at step k", where a path leaves the frame
    runaway = [a for a in ax.get_children() if a not in before]
    fig.draw_without_rendering()
    fig.set_layout_engine("none")  # this layout for every step: hiding a part moves nothing
    return fig, ax, runaway


def _story(fig: Any, ax: Axes, result: Result, runaway: list[Artist]) -> list[tuple[Artist, range]]:
    """Each part of the picture that is not shown in every step, with the steps it is shown
    in; the gradient arrows, the first steps and the first optimizer's legend are drawn here."""
    last = len(STEPS) - 1
    first = list(range(result.n_starts))  # the first optimizer's paths, one per start
    traced = _paths_by_index(ax)
    colours = {_colour(traced[i][0]) for i in first if i in traced}
    with matplotlib.rc_context(fig.optviz_rc):
        told = _gradient_arrows(ax, result, fig.optviz_theme) + _first_steps(ax, result, first, traced, fig.optviz_theme)
    parts = [(a, range(1, last + 1)) for a in ax.lines if a.get_gid() == "start"]
    parts += [(a, range(2, 3)) for a in told]  # told once: the path takes the first step over
    parts += [(a, range(3 if i in first else last, last + 1)) for i, drawn in traced.items() for a in drawn]
    parts += [(a, range(3 if _colour(a) in colours else last, last + 1)) for a in runaway]
    legend = ax.get_legend() or (fig.legends[0] if fig.legends else None)
    if legend is not None:
        others = [legend_label(result, name) for name in list(result.optimizers)[1:]]
        parts += [(_first_legend(fig, legend, others), range(2, last)), (legend, range(last, last + 1))]
    return parts


def _paths_by_index(ax: Axes) -> dict[int, list[Artist]]:
    """The artists of each path (its line, end marker and arrowheads), by the path's index."""
    found: dict[int, list[Artist]] = {}
    for artist in ax.get_children():
        if _is_path(artist):
            found.setdefault(int(artist.get_gid().split(":")[1]), []).append(artist)
    return found


def _is_path(artist: Artist) -> bool:
    return str(artist.get_gid()).startswith("path:")


def _colour(artist: Artist) -> str:
    getter = getattr(artist, "get_color", None)
    return matplotlib.colors.to_hex(getter()) if getter else ""


def _points(result: Result, step: int) -> np.ndarray:
    """Every path's point after ``step`` steps as drawn: (x, y) on a plane, (x, f) on a curve."""
    if result.function.dim == 1:
        return np.stack([result.positions[step, :, 0].numpy(), result.losses[step].numpy()], axis=-1)
    return result.positions[step].numpy()


def _gradient_arrows(ax: Axes, result: Result, theme: Theme) -> list[Artist]:
    """At each start, an arrow along -∇f (along x, for a function of one variable), of one
    length on screen whatever the gradient's size, labelled with its value."""
    drawn: list[Artist] = []
    fn = result.function
    for b in range(result.n_starts):
        start = _points(result, 0)[b]
        downhill = -fn.grad(result.positions[0, b].to(torch.float64)).numpy()
        if not np.isfinite(downhill).all() or not np.any(downhill):
            continue  # a stationary start: nothing points downhill
        end = _on_screen(ax, start, downhill if fn.dim == 2 else np.array([downhill[0], 0.0]))
        if end is None:
            continue
        drawn.append(ax.annotate("", xy=end, xytext=start, zorder=6, gid="gradient",
                                 arrowprops=dict(arrowstyle="-|>", color=theme.foreground, linewidth=3,
                                                 mutation_scale=28, shrinkA=0, shrinkB=0,
                                                 path_effects=halo(theme, 3))))
        value = f"−∇f = ({', '.join(f'{v:.3g}' for v in downhill)})" if fn.dim == 2 else f"−f′(x) = {downhill[0]:.3g}"
        drawn.append(_label_beside(ax, value, start, end, theme))
    return drawn


def _label_beside(ax: Axes, text: str, start: np.ndarray, end: np.ndarray, theme: Theme) -> Artist:
    """The arrow's label beside its middle: on its left, or on its right where the left
    would leave the axes."""

    def put(side: int) -> Artist:
        offset, ha, va = _beside(ax, start, end, side)
        return ax.annotate(text, xy=(start + end) / 2, xytext=offset, textcoords="offset points", ha=ha, va=va,
                           zorder=6, gid="gradient", color=theme.foreground, fontweight="bold",
                           path_effects=halo(theme, 1.5))

    label = put(1)
    renderer = ax.figure.canvas.get_renderer()
    box, room = label.get_window_extent(renderer), ax.get_window_extent(renderer)
    if box.x0 < room.x0 or box.x1 > room.x1 or box.y0 < room.y0 or box.y1 > room.y1:
        label.remove()
        label = put(-1)
    return label


def _on_screen(ax: Axes, start: np.ndarray, direction: np.ndarray) -> np.ndarray | None:
    """The point ARROW of the axes' width from start along direction as seen on screen (the
    axes' units need not be equal: a curve's f and x are not), cut at the frame; None if
    nothing of it is inside."""
    to_screen = ax.transData
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    unit = direction / np.linalg.norm(direction)
    nudge = 1e-3 * np.hypot(x1 - x0, y1 - y0) * unit  # a step small against the frame, for the direction only
    screen = to_screen.transform(start + nudge) - to_screen.transform(start)
    length = ARROW * ax.get_window_extent().width
    end = to_screen.inverted().transform(to_screen.transform(start) + screen / np.linalg.norm(screen) * length)
    inside = clip_segment(start, end, (x0, x1, y0, y1))
    return None if inside is None else np.asarray(inside[1])


def _beside(ax: Axes, start: np.ndarray, end: np.ndarray, side: int) -> tuple[tuple[float, float], str, str]:
    """Where a label goes beside an arrow, clear of the step that follows it: an offset
    (points) square to the arrow, on its left (side 1) or right (-1), and the alignment
    that keeps the text off it."""
    dx, dy = ax.transData.transform(end) - ax.transData.transform(start)
    nx, ny = side * np.array([-dy, dx]) / np.hypot(dx, dy)
    gap = 0.6 * matplotlib.rcParams["font.size"]
    ha = "left" if nx > 0.3 else "right" if nx < -0.3 else "center"
    va = "bottom" if ny > 0.3 else "top" if ny < -0.3 else "center"
    return (float(nx * gap), float(ny * gap)), ha, va


def _first_steps(ax: Axes, result: Result, first: list[int], traced: dict[int, list[Artist]],
                 theme: Theme) -> list[Artist]:
    """Each of the first optimizer's first steps: a line from the start to where it lands, in
    its path's colour, with a dot there."""
    before, after = _points(result, 0), _points(result, 1)
    width = matplotlib.rcParams["lines.linewidth"] * 1.5
    drawn = []
    for b in first:
        if b not in traced or not np.isfinite(after[b]).all():
            continue
        colour = _colour(traced[b][0])
        drawn += ax.plot(*np.stack([before[b], after[b]]).T, color=colour, linewidth=width, zorder=5.4,
                         solid_capstyle="round", gid="first step")
        drawn += ax.plot(*after[b], marker="o", markersize=10, color=colour, markeredgecolor=theme.outline,
                         markeredgewidth=1.2, zorder=5.6, gid="first step")
    return drawn


def _first_legend(fig: Any, legend: Any, others: list[str]) -> Any:
    """A legend of the first optimizer's entries only, with its corner where the whole
    legend's upper left is (a figure legend: the layout is frozen, nothing makes room)."""
    keep = [(text, handle) for text, handle in zip(legend.get_texts(), legend.legend_handles)
            if not any(text.get_text() == o or text.get_text().startswith((o + " (", o + ",")) for o in others)]
    handles = [Line2D([], [], color=handle.get_color(), linewidth=handle.get_linewidth(),
                      linestyle=handle.get_linestyle(), label=text.get_text()) for text, handle in keep]
    box = legend.get_window_extent(fig.canvas.get_renderer())
    corner = fig.transFigure.inverted().transform((box.x0, box.y1))  # in the figure's share: any dpi
    with matplotlib.rc_context(fig.optviz_rc):
        return fig.legend(handles=handles, loc="upper left", bbox_to_anchor=tuple(corner), borderaxespad=0,
                          bbox_transform=fig.transFigure, frameon=legend.get_frame_on(),
                          fontsize=legend.get_texts()[0].get_fontsize())
