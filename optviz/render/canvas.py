"""Figures: made at a size in a theme, drawn into by axes-level functions, written to files."""

from __future__ import annotations

import contextlib
import functools
import inspect
import io
from numbers import Real
from typing import Any, Callable, Iterator

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FixedLocator, LogLocator, MaxNLocator

from ..core.files import atomic, writable_path
from ..core.limits import MAX_SIDE, check_memory
from .kinds import STILL_FORMATS
from .style import Size, Theme, get_size, get_theme, rc
from .frames import figure_legend
from .typeset import plain_log_labels

FIGURE = "a matplotlib Figure (optviz.render.picture(...), or an axes-level function's ax.figure)"

STILL_BYTES_PER_PIXEL = 24
LAYOUT_PAD = 1 / 72  # inches around each axes' labels and at the figure's edges: a slide's room is for the data  # the peak while a still is drawn and encoded


def figure(
    theme: str | Theme = "light",
    size: str | tuple[int, int] | Size = "slide",
    nrows: int = 1,
    ncols: int = 1,
    projection: str | None = None,
    *,
    dpi: Any = None,
    scale: Any = None,
    background: Any = None,
    transparent: bool = False,
    **subplots: Any,
) -> tuple[Figure, np.ndarray]:
    """A themed figure of the given size and its axes (always a 2D array); ``dpi`` and
    ``scale`` as for ``style.get_size``, ``background`` (a colour) and ``transparent`` as for
    ``style.get_theme``; ``subplots`` go to ``Figure.subplots`` (sharex=True, ...)."""
    theme, size = get_theme(theme, background, transparent), get_size(size, dpi, scale)
    settings = rc(theme, size)
    with matplotlib.rc_context(settings):
        fig = Figure(figsize=size.figsize, dpi=size.render_dpi, layout="constrained")
        fig.get_layout_engine().set(w_pad=LAYOUT_PAD, h_pad=LAYOUT_PAD)
        FigureCanvasAgg(fig)  # measures text for label placement, renders PNGs
        axes = fig.subplots(nrows, ncols, squeeze=False, subplot_kw={"projection": projection}, **subplots)
    # read back by the drawing functions, which run later under the same settings
    fig.optviz_theme, fig.optviz_rc, fig.optviz_size = theme, settings, size
    return fig, axes


def expect(value: Any, kind: type | tuple[type, ...], argument: str, what: str) -> None:
    """TypeError naming ``argument`` unless ``value`` is a ``kind``; ``what`` says what to give."""
    if not isinstance(value, kind):
        raise TypeError(f"{argument} must be {what}, got {type(value).__name__}")


def axes_level(projection: str | None = None, takes: tuple[type | tuple[type, ...], str] | None = None) -> Callable:
    """Makes draw(obj, ax, theme, **options) an axes-level function: it draws into ``ax`` or
    into a new themed figure, under that figure's settings, and returns the axes. ``takes``
    is the type ``obj`` must have and how to say it: anything else is a TypeError naming it."""

    def wrap(draw: Callable) -> Callable:
        argument = f"{draw.__name__}: {next(iter(inspect.signature(draw).parameters))}"

        @functools.wraps(draw)
        def public(obj: Any, ax: Axes | None = None, *, theme: str | Theme = "light",
                   size: Any = "slide", dpi: Any = None, scale: Any = None, background: Any = None,
                   transparent: bool = False, **options: Any) -> Axes:
            if takes is not None:
                expect(obj, takes[0], argument, takes[1])
            expect(ax, (Axes, type(None)), f"{draw.__name__}: ax", "a matplotlib Axes or None")
            made = ax is None
            if made:
                ax = figure(theme, size, projection=projection, dpi=dpi, scale=scale, background=background,
                            transparent=transparent)[1][0, 0]
            chosen = getattr(ax.figure, "optviz_theme", None) or get_theme(theme, background, transparent)
            with matplotlib.rc_context(getattr(ax.figure, "optviz_rc", {})):
                draw(obj, ax, chosen, **options)
                if made:
                    fit_text(ax.figure)
            return ax

        return public

    return wrap


def titled(fig: Figure, title: str | None, *, centre: bool = True) -> Figure:
    """The figure with a title over all of it (a scenario's), in the figure's own type, fitted
    to the figure's width and centred over the axes, so that a legend beside them keeps its
    own column, with every axes title and tick label fitted to large type (fit_text). Call it
    again once the figure is drawn to centre the title anew; ``centre=False`` only puts it
    there (the layout leaves it its room), for a figure about to be drawn and titled again."""
    with matplotlib.rc_context(getattr(fig, "optviz_rc", {})):
        text = fig.suptitle(title) if title else None
        if text is not None:
            _narrowed(text, fig.bbox.width - 2 * _edge(text), _floor(fig))  # a long title fits the figure
        if not centre:
            return fig
        if not _fitted(fig) and text is not None:  # the last layout no longer holds: lay out again
            fig.draw_without_rendering()
        if text is not None:
            boxes = [ax.get_position() for ax in fig.axes if ax.get_visible()]
            text.set_x((min(b.x0 for b in boxes) + max(b.x1 for b in boxes)) / 2)
            before = (text.get_text(), text.get_fontsize())
            _inside_figure(fig, text)
            _clear_of_legends(fig, text)
            # moved across only: the layout (which reads its height) still holds
            if (text.get_text(), text.get_fontsize()) == before:
                fig.stale = False
    return fig


HEADING_GAP = "    "  # between a function's name and its formula in a heading: a line break where it must
FOOTNOTE_TYPE = (0.6, 5.0)  # a footnote's type: this share of the figure's, and no less than these points


def footnote(fig: Figure, text: str | None) -> Figure:
    """The figure with ``text`` (a line or two) in small, muted type in its lower right
    corner, on a strip of its own that the layout leaves free: call it before the figure is
    laid out (titled, fill), so that the axes are fitted above it. A line wider than the
    figure breaks in two at the " · " nearest its middle, and then shrinks to fit. Returns
    the figure."""
    if not text:
        return fig
    with matplotlib.rc_context(getattr(fig, "optviz_rc", {})):
        share, least = FOOTNOTE_TYPE
        size = max(least, matplotlib.rcParams["font.size"] * share)
        pad = LAYOUT_PAD * fig.dpi * 4  # pixels from the figure's edges and from the axes above
        theme = getattr(fig, "optviz_theme", None)
        note = fig.text(1 - pad / fig.bbox.width, pad / fig.bbox.height, text, ha="right", va="bottom",
                        fontsize=size, linespacing=1.25, **({"color": theme.muted} if theme else {}))
        note.set_in_layout(False)  # its strip is kept free below instead
        renderer = fig.canvas.get_renderer()
        room = fig.bbox.width - 2 * pad
        if note.get_window_extent(renderer).width > room:
            note.set_text(_halved(note.get_text(), " · "))
        while note.get_window_extent(renderer).width > room and note.get_fontsize() > 1:
            note.set_fontsize(note.get_fontsize() * 0.92)
        strip = (note.get_window_extent(renderer).height + 2 * pad) / fig.bbox.height
        engine = fig.get_layout_engine()
        if engine is not None and hasattr(engine, "set"):
            engine.set(rect=(0, strip, 1, 1 - strip))
    return fig


def _halved(text: str, separator: str) -> str:
    """Each line of ``text`` that has a separator broken in two at the one nearest its middle."""
    lines = []
    for line in text.split("\n"):
        parts = line.split(separator)
        if len(parts) > 1:
            cut = min(range(1, len(parts)), key=lambda k: abs(len(separator.join(parts[:k])) - len(line) / 2))
            line = separator.join(parts[:cut]) + "\n" + separator.join(parts[cut:])
        lines.append(line)
    return "\n".join(lines)


def fit_text(fig: Figure) -> Figure:
    """Large type for slides made to fit: every axes title no wider than its axes where it
    can be (see _narrowed), fewer ticks on every axis (colour bars' too) whose labels run
    into each other, and an axes' legend wider than its axes under the figure; returns the
    figure. One layout when nothing needs to change."""
    _fitted(fig)
    return fig


def _fitted(fig: Figure, rounds: int = 3) -> bool:
    """fit_text's work; True when the figure's last layout holds what it now shows."""
    plain_log_labels(fig)  # before the layout: the labels' own widths count
    axes = [ax for ax in fig.axes if ax.get_visible()]
    flat = [ax for ax in axes if ax.name != "3d"]
    flat += [child for ax in flat for child in ax.child_axes if child.get_visible()]
    for _ in range(rounds):  # a title on two lines takes height, and the axes may narrow for it
        fig.draw_without_rendering()
        renderer = fig.canvas.get_renderer()
        changed = [_narrowed(ax.title, _title_room(ax, renderer), _floor(fig)) for ax in axes if ax.title.get_text()]
        crowded = [axis for ax in flat for axis in (ax.xaxis, ax.yaxis) if _crowded(axis, renderer)]
        for axis in crowded:
            _thin(axis)
        moved = [ax for ax in flat if _legend_beneath(ax, renderer)]
        if not (any(changed) or crowded or moved):
            return True
    return False


def _title_room(ax: Axes, renderer: Any) -> float:
    """The width an axes title may take: its axes', or a 3D axes' drawing's (which reaches
    past its square box)."""
    return (ax.get_tightbbox(renderer) if ax.name == "3d" else ax.get_window_extent(renderer)).width


def _floor(fig: Figure) -> float:
    """The smallest a title may shrink to: the tick labels' size."""
    return fig.optviz_rc["xtick.labelsize"] if ours(fig) else 0.0


def _narrowed(text: Any, room: float, floor: float, lines_first: bool = False) -> bool:
    """Fit a title into ``room`` pixels: a heading's name and formula on two lines, then a
    smaller type down to ``floor`` points, then a list's items a line each, then two lines
    of words (with ``lines_first``, two lines of words before a smaller type). Returns
    whether it changed."""
    renderer = text.figure.canvas.get_renderer()

    def wide() -> bool:
        return text.get_window_extent(renderer).width > room

    before = (text.get_text(), text.get_fontsize())
    if wide() and HEADING_GAP in text.get_text():
        text.set_text(text.get_text().replace(HEADING_GAP, "\n", 1))
    if lines_first and wide():
        _two_lines(text)
    while wide() and text.get_fontsize() > floor * 1.01:
        text.set_fontsize(max(floor, text.get_fontsize() * 0.92))
    if wide() and ", " in text.get_text():
        text.set_text(text.get_text().replace(", ", "\n"))
    if wide():
        _two_lines(text)
    return (text.get_text(), text.get_fontsize()) != before


def _two_lines(text: Any) -> None:
    """A text's longest line as two of about equal length, where it has words to break at
    (a heading's long name over its formula too)."""
    lines = text.get_text().split("\n")
    longest = max(range(len(lines)), key=lambda i: len(lines[i]))
    words = lines[longest].split(" ")
    if len(words) < 2 or len(lines) > 2:
        return
    half = min(range(1, len(words)), key=lambda k: abs(len(" ".join(words[:k])) - len(" ".join(words[k:]))))
    lines[longest] = " ".join(words[:half]) + "\n" + " ".join(words[half:])
    text.set_text("\n".join(lines))


TICK_GAP = 2  # points at least between two tick labels


def _crowded(axis: Any, renderer: Any) -> bool:
    """Whether two of the axis's tick labels overlap (or nearly) along it."""
    horizontal = axis.axis_name == "x"
    spans = sorted((box.x0, box.x1) if horizontal else (box.y0, box.y1)
                   for box in (label.get_window_extent(renderer) for label in axis.get_ticklabels()
                               if label.get_visible() and label.get_text()))
    gap = TICK_GAP * axis.figure.dpi / 72
    return any(a[1] + gap > b[0] for a, b in zip(spans, spans[1:]))


def _thin(axis: Any) -> None:
    """Every other tick of a fixed set (a colour bar's), or about half as many chosen anew."""
    locator = axis.get_major_locator()
    if isinstance(locator, FixedLocator):
        ticks = [(value, label.get_text()) for value, label in zip(axis.get_ticklocs(), axis.get_ticklabels())]
        kept = ticks[::2]
        axis.set_ticks([v for v, _ in kept], labels=[t for _, t in kept])
    elif isinstance(locator, MaxNLocator):  # AutoLocator too
        shown = len([v for v in axis.get_ticklocs() if np.isfinite(v)])
        axis.set_major_locator(MaxNLocator(nbins=max(2, shown // 2), steps=[1, 2, 2.5, 5, 10]))
    elif isinstance(locator, LogLocator):
        axis.set_major_locator(LogLocator(numticks=max(2, len(axis.get_ticklocs()) // 2)))


def _legend_beneath(ax: Axes, renderer: Any) -> bool:
    """Move an axes' legend wider than the axes under the figure, at its right (where it
    would run over the tick labels, the axes beside and the curves); returns whether it moved."""
    legend = ax.get_legend()
    if legend is None or legend.get_window_extent(renderer).width <= ax.get_window_extent(renderer).width - 16:
        return False
    handles, labels = legend.legend_handles, [text.get_text() for text in legend.get_texts()]
    legend.remove()
    figure_legend(ax.figure, handles, "outside lower right", labels=labels)
    return True


def _edge(text: Any) -> float:
    """The margin in pixels a figure title keeps to the figure's sides: its type's size (the
    picture's edge may be the slide's)."""
    return text.get_fontsize() * text.figure.dpi / 72


def _inside_figure(fig: Figure, text: Any) -> None:
    """Move a figure title centred over the axes along, as far as needed to keep _edge to the
    figure's sides."""
    half = text.get_window_extent(fig.canvas.get_renderer()).width / 2 + _edge(text)
    width = fig.bbox.width
    text.set_x(min(max(text.get_position()[0] * width, half), width - half) / width)


def _clear_of_legends(fig: Figure, text: Any) -> None:
    """Move (and if need be shrink) a figure title left of a legend it would run into."""
    renderer = fig.canvas.get_renderer()
    for legend in fig.legends:
        room = legend.get_window_extent(renderer)
        box = text.get_window_extent(renderer)
        if box.x1 <= room.x0 - 8 or box.y0 >= room.y1 or box.y1 <= room.y0:
            continue
        if box.width > room.x0 - 16:  # a title's size says what it is: two lines before smaller type
            _narrowed(text, room.x0 - 16, max(_floor(fig), text.get_fontsize() * 0.75), lines_first=True)
            box = text.get_window_extent(renderer)
        while box.width > room.x0 - 16 and text.get_fontsize() > 8:
            text.set_fontsize(text.get_fontsize() * 0.9)
            box = text.get_window_extent(renderer)
        centre = min(box.x0 + box.width / 2, room.x0 - 8 - box.width / 2)
        text.set_x(max(centre, box.width / 2 + 8) / fig.bbox.width)


def ours(fig: Any) -> bool:
    """Whether optviz made this figure (and so may lay out its legend and colour bar)."""
    return hasattr(fig, "optviz_theme")


def save(fig: Figure, path: Any, *, dpi: Any = None, transparent: bool | None = None) -> Any:
    """Write a figure as PNG, SVG or PDF (by the suffix), atomically; returns the path.

    ``dpi`` (default the figure's size's) sets the pixels per inch of the picture as placed:
    a PNG is tagged with it, so that it drops into a slide at its size's inches, and more
    dpi gives more pixels, not another look. In SVG and PDF, text stays text and the filled
    landscape is kept as pixels at the PNG's resolution. ``transparent`` (default the
    figure's theme's) leaves out the fill behind the picture."""
    expect(fig, Figure, "save: fig", FIGURE)
    path = writable_path(path, STILL_FORMATS)
    tag = output_dpi(dpi, fig)
    drawn = tag * fig.dpi / _tagged(fig)  # points stay as large against the picture as the figure has them
    kind = path.suffix[1:].lower()
    options = {"pil_kwargs": {"dpi": (tag, tag)}} if kind == "png" else {}
    if transparent is not None:
        options["transparent"] = bool(transparent)
    plain_log_labels(fig)
    with atomic(path) as tmp, matplotlib.rc_context(getattr(fig, "optviz_rc", {})), laid_out(fig):
        fig.savefig(tmp, format=kind, dpi=drawn, **options)
    return path


@contextlib.contextmanager
def laid_out(fig: Figure) -> Iterator[None]:
    """A block that draws the figure without laying it out again, if nothing has changed since
    it was last drawn (the layout it has is the one it would get): a layout pass of a figure of
    small multiples costs as much as drawing it."""
    engine = fig.get_layout_engine()
    if fig.stale or engine is None:
        yield
        return
    fig.set_layout_engine("none")
    try:
        yield
    finally:
        fig.set_layout_engine(engine)


def _tagged(fig: Figure) -> float:
    """The dpi a figure's pictures are tagged with by default."""
    size = getattr(fig, "optviz_size", None)
    return size.dpi if size is not None else fig.dpi


def output_dpi(dpi: Any, fig: Figure) -> float:
    """The dpi to save at (the figure's size's by default), or ValueError naming what is wrong."""
    if dpi is None:
        return _tagged(fig)
    if isinstance(dpi, bool) or not isinstance(dpi, Real) or not np.isfinite(dpi) or dpi <= 0:
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")
    width, height = fig.get_size_inches() * fig.dpi / _tagged(fig) * dpi
    if max(width, height) > MAX_SIDE:
        raise ValueError(f"dpi {dpi:g} makes a {width:.0f}x{height:.0f} picture; at most {MAX_SIDE} pixels a side")
    check_memory(STILL_BYTES_PER_PIXEL * width * height, f"a {width:.0f}x{height:.0f} picture (dpi {dpi:g})",
                 "use a lower dpi")
    return float(dpi)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (for notebooks and web pages)."""
    expect(fig, Figure, "png: fig", FIGURE)
    out = io.BytesIO()
    tag = _tagged(fig)
    plain_log_labels(fig)
    with matplotlib.rc_context(getattr(fig, "optviz_rc", {})), laid_out(fig):
        fig.savefig(out, format="png", dpi=fig.dpi, pil_kwargs={"dpi": (tag, tag)})
    return out.getvalue()
