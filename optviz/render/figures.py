"""Figure-level pictures of results: the right picture for a result (``plot``), small
multiples on identical axes (``grid``), and the picture a result is best shown by
(``picture``); built on the axes-level functions of trajectories and charts."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D
from matplotlib.ticker import MaxNLocator

from ..core.simulation.result import Result
from .canvas import figure, footnote, titled
from .charts import learning_rates, loss, optimum_line, sharpness, spectrum
from .contours import colour_bar, heading
from .frames import Box, fit
from .glyphs import check_state
from .kinds import PLOT_KINDS
from .style import Theme, get_size, get_theme, reads_on
from .trajectories import (FAINT, checked, curve_frame, drawable, fill, frame_of, laid_out_aspect, legend_label,
                           path_colours,
                           paths, start_label, surface, two_lines)


def plot(result: Result, kind: str = "auto", ax: Axes | None = None, **options: Any) -> Axes:
    """The right picture for a result: paths on contours (2D) or on the curve (1D), or
    kind="loss", "distance", "lr" (the learning rate per step), "spectrum" (a matrix
    problem's singular values per step), "sharpness" (the top Hessian eigenvalue per step
    against the stable limit 2/lr), "surface"."""
    result = checked(result)
    if kind not in PLOT_KINDS:
        raise ValueError(f"unknown kind {kind!r} (known: {', '.join(PLOT_KINDS)})")
    if kind in ("loss", "distance"):
        return loss(result, ax, kind=kind, **options)
    if kind == "lr":
        return learning_rates(result, ax, **options)
    if kind == "spectrum":
        return spectrum(result, ax, **options)
    if kind == "sharpness":
        return sharpness(result, ax, **options)
    result = drawable(result)
    return surface(result, ax, **options) if kind == "surface" else paths(result, ax, **options)


def grid(
    results: Result | Sequence[Result],
    *,
    by: str = "optimizer",
    kind: str = "auto",
    theme: str | Theme = "light",
    size: Any = "slide",
    ncols: int | None = None,
    title: str | None = None,
    context: bool = True,
    bounds: Any = None,
    palette: dict[str, str] | None = None,
    dpi: Any = None,
    scale: Any = None,
    background: Any = None,
    transparent: bool = False,
    state: Any = None,
    events: Sequence[Any] = (),
) -> Figure:
    """Small multiples: one panel per optimizer (by="optimizer"), per start (by="start") or,
    given several results, per result. The panels of one result share identical axes where
    their paths are alike in extent (else each is framed on its own); with ``context`` each
    shows every path faint and its own in full; ``state`` draws each panel's optimizer state
    (see paths); ``events`` (analyses.events) are marked on the panels that show their paths
    in full. Returns the figure."""
    state = check_state(state)
    if isinstance(results, Result) and kind not in NUMBERS:
        results = drawable(results)
    panels = _panels(results, by)
    n = len(panels)
    whole = results if isinstance(results, Result) else None
    nrows, ncols = panel_grid(n, whole, get_size(size, dpi, scale), kind) if ncols is None else (-(-n // ncols), ncols)
    theme = get_theme(theme, background, transparent)
    fig, axes = figure(theme, size, nrows, ncols, projection="3d" if kind == "surface" else None, dpi=dpi, scale=scale)
    with matplotlib.rc_context(fig.optviz_rc):  # new axes take the figure's type sizes
        flat = no_empty_cells(fig, axes, n)
    title = title or (heading(whole.function) if whole is not None else "")
    titled(fig, title, centre=False)  # first: the frames are fitted to the room the title leaves
    with matplotlib.rc_context(fig.optviz_rc):
        titles = []
        for ax, (heading_, _, indices) in zip(flat, panels):
            colour = panel_colour(whole, indices, theme) if whole is not None else None
            titles.append(dict(label=one_line(fig, heading_, ncols), fontsize="medium",
                               **({"color": colour} if colour else {})))
            ax.set_title(**titles[-1])
        if whole is not None and kind in ("auto", "paths"):
            outer_ticks(flat[:n])  # first: the frame is fitted to the room the tick labels leave
        # measured on a panel with the tallest title: its row is as short as the layout makes any
        tallest = max(flat[:n], key=lambda ax: ax.get_title().count("\n"))
        box = shared_frame(whole, kind, tallest, bounds) if whole is not None else None
        palette = {**path_colours(whole, theme), **(palette or {})} if whole is not None else None
        for ax, (_, subset, indices), panel_title in zip(flat, panels, titles):
            options: dict[str, Any] = dict(legend=False, palette=palette)
            if kind in ("auto", "paths"):
                options["label"] = False  # once the whole figure is laid out
                options["state"] = state
            panel = subset
            if kind in ("auto", "paths") and panel.function.dim == 2 and box is not None:
                options["colorbar"] = False  # one for all the panels, which share their frame
            if box is not None:
                options["box"] = box
                if context:
                    panel, options["highlight"] = whole, indices
            options["palette"] = {k: v for k, v in palette.items() if k in panel.optimizers} if palette else None
            if kind in ("auto", "paths") and panel is whole:  # the events' path indices are the whole result's
                options["events"] = events
            plot(panel, kind, ax, **options)
            ax.set_title(**panel_title)
            if n > 1 and kind != "surface":  # panels narrower than the slide: fewer, readable ticks
                ax.xaxis.set_major_locator(MaxNLocator(nbins=4 if n > 3 else 6))
                ax.yaxis.set_major_locator(MaxNLocator(nbins=5 if n > 3 else 7))
            if whole is not None:
                ax.set(xlabel="", ylabel="")
        if box is not None and whole.function.dim == 2:
            _shared_colorbar(fig, flat[:n], whole.function.value)
        if whole is not None and kind == "spectrum":
            _same_y(flat[:n])
            outer_ticks(flat[:n])
            if whole.function.minima:
                fig.legend(handles=[optimum_line(theme)], loc="outside lower right", frameon=False)
        if box is not None and context and n > 1:
            fig.legend(handles=[Line2D([], [], color=theme.faint, alpha=FAINT, linewidth=2.5,
                                       label="the other panels' paths")], loc="outside lower right", frameon=False)
        if whole is not None and kind == "spectrum":
            fig.supxlabel("step")
            fig.supylabel("singular value")
        elif whole is not None and kind != "surface":
            fig.supxlabel(whole.function.axes[0] if whole.function.dim == 2 else "x")
            fig.supylabel(whole.function.axes[1] if whole.function.dim == 2 else "f(x)")
        titled(fig, title)
        if box is not None and kind in ("auto", "paths"):
            for _ in range(2):  # widened, the outer panels' tick labels take a margin of their own: the cells change
                fill(flat[:n])
                titled(fig, title)  # last but the labels: its layout is the one the picture is saved with
        for ax in flat[:n]:
            if hasattr(ax, "optviz_labels"):
                ax.optviz_labels()
    return fig


NUMBERS = ("loss", "distance", "spectrum")  # kinds drawn from the run itself, not from its paths' plane


def _same_y(panels: Sequence[Axes]) -> None:
    """One y range for every panel, covering each one's own: their lines compare across them."""
    if any(ax.get_yscale() == "log" for ax in panels):
        for ax in panels:
            ax.set_yscale("log")
    low = min(ax.get_ylim()[0] for ax in panels)
    high = max(ax.get_ylim()[1] for ax in panels)
    for ax in panels:
        ax.set_ylim(low, high)


def no_empty_cells(fig: Figure, axes: np.ndarray, n: int) -> list[Axes]:
    """The figure's n panels, row by row: where the rows hold more places than panels, the
    last row's panels centred under the others (on a grid of half cells) rather than a
    blank cell beside them."""
    nrows, ncols = axes.shape
    if n == nrows * ncols:
        return list(axes.flat)
    projection = axes[0, 0].name if axes[0, 0].name == "3d" else None
    for ax in axes.flat:
        ax.remove()
    cells = fig.add_gridspec(nrows, 2 * ncols)
    made = []
    for i in range(n):
        row, col = divmod(i, ncols)
        shift = ncols - (n - row * ncols) if row == nrows - 1 else 0  # half cells the last row moves in
        made.append(fig.add_subplot(cells[row, shift + 2 * col:shift + 2 * col + 2], projection=projection))
    return made


def outer_ticks(panels: Sequence[Axes], names: bool = False) -> None:
    """Tick labels on the outer panels only: identical axes need them once per row and column;
    with ``names``, the axes' names too (where no figure-wide name stands for them)."""
    boxes = [ax.get_position() for ax in panels]
    for ax, box in zip(panels, boxes):
        left = not any(other.x1 <= box.x0 + 1e-9 and other.y0 < box.y1 and box.y0 < other.y1 for other in boxes)
        bottom = not any(other.y1 <= box.y0 + 1e-9 and other.x0 < box.x1 and box.x0 < other.x1 for other in boxes)
        ax.tick_params(labelleft=left, labelbottom=bottom)
        if names:
            ax.xaxis.label.set_visible(bottom)
            ax.yaxis.label.set_visible(left)


def one_line(fig: Figure, heading: str, ncols: int) -> str:
    """A panel's heading on one line where it fits across its column, else as given."""
    line = heading.replace("\n", " ")
    width = fig.bbox.width / ncols * 0.85  # less the panel's tick labels and the gaps
    size = float(matplotlib.rcParams["font.size"]) * fig.dpi / 72
    return line if len(line) * 0.6 * size <= width else heading


def picture(result: Result, *, title: str | None = None, bounds: Any = None, state: Any = None,
            events: Sequence[Any] = (), note: str | None = None, **style: Any) -> Figure:
    """The picture a result is best shown by: small multiples on identical axes (every path
    faint, one in full per panel) for four or more optimizers from one start on a 2D
    function, one panel with every path otherwise; ``state`` draws the optimizer's state at
    the points of the paths (see paths); ``events`` (analyses.events, found in this result)
    marked as numbered ticks on their paths; ``note``: a line or two in small type under
    the picture (see canvas.footnote), which is then one panel (a note speaks of one
    landscape; small multiples keep the figure's foot for their shared label and legend).
    ``style``: theme, size, palette, dpi, scale, background, transparent."""
    result = drawable(result)
    if result.function.dim == 2 and len(result.optimizers) >= 4 and result.n_starts == 1 and not note:
        return grid(result, title=title, bounds=bounds, state=state, events=events, **style)
    palette = style.pop("palette", None)
    fig, axes = figure(**style)
    footnote(fig, note)
    titled(fig, title, centre=False)  # first: the frame and the legend are fitted to the room the title leaves
    ax = plot(result, ax=axes[0, 0], bounds=bounds, label=False, palette=palette, state=state, events=events)
    titled(fig, title)
    fill([ax])
    titled(fig, title)
    ax.optviz_labels()
    return fig


def panel_grid(n: int, result: Result | None, size: Any, kind: str = "paths") -> tuple[int, int]:
    """The rows and columns of n panels that give each the most room for its frame's shape."""
    aspect = 1.6  # width / height of a panel's picture, unless its frame says otherwise
    if result is not None and kind in ("auto", "paths") and result.function.dim == 2:
        x0, x1, y0, y1 = frame_of(result)
        aspect = (x1 - x0) / (y1 - y0)
    elif result is not None and kind in ("auto", "paths") and result.function.dim == 1:
        aspect = 0.8  # a curve's panel takes any shape and reads as well upright: a row of them, no half-empty row
    elif kind == "spectrum":
        aspect = 1.0  # decades of singular values need height: three panels make one row, not a half-empty two
    width, height = size.width * 0.88, size.height * 0.8  # less the titles, labels and colour bar
    cols = max(range(1, n + 1), key=lambda c: min(width / c / aspect, height / -(-n // c)))
    return -(-n // cols), cols


def shared_frame(result: Result, kind: str, ax: Axes, bounds: Any = None) -> Box | None:
    """One frame for every panel (None for kinds without one): every panel's paths and the
    function's features, on identical axes, widened to the panels' shape."""
    if kind not in ("auto", "paths"):
        return None
    if result.function.dim == 1:
        return curve_frame(result, bounds)
    whole = frame_of(result, bounds)
    if bounds is not None:
        return whole
    ax.set_aspect("equal", adjustable="box")
    return fit(whole, laid_out_aspect(ax, whole))


def _shared_colorbar(fig: Figure, axes: Sequence[Axes], name: str) -> None:
    filled = next(c for c in axes[0].collections if hasattr(c, "optviz_log"))
    colour_bar(fig.colorbar(filled, ax=list(axes), fraction=0.03, pad=0.02), np.asarray(filled.levels),
               filled.optviz_log, name)


def panel_colour(result: Result, indices: list[int], theme: Theme) -> str | None:
    """The colour of the optimizer a panel shows, if it shows one and it reads as text on the
    background."""
    names = {result.names[i] for i in indices}
    colour = path_colours(result, theme)[names.pop()] if len(names) == 1 else None
    return colour if colour is not None and reads_on(colour, theme) else None


def _panels(results: Any, by: str) -> list[tuple[str, Result, list[int]]]:
    """(title, the panel's own paths, their indices in the whole result) per panel."""
    if isinstance(results, Result):
        n = results.n_starts
        if by == "optimizer":
            return [(two_lines(legend_label(results, name)), results.select([name]), list(range(k * n, (k + 1) * n)))
                    for k, name in enumerate(results.optimizers)]
        if by == "start":
            return [(start_label(results, s), results.select(starts=[s]), list(range(s, results.positions.shape[1], n)))
                    for s in range(n)]
        raise ValueError(f"by must be 'optimizer' or 'start', got {by!r}")
    results = list(results)
    if not results:
        raise ValueError("grid needs at least one result")
    return [(checked(r).function.title or r.function.name, r, list(range(r.positions.shape[1]))) for r in results]
