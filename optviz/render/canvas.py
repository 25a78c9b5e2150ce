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

from ..core.files import atomic, writable_path
from ..core.limits import MAX_SIDE, check_memory
from .kinds import STILL_FORMATS
from .style import Size, Theme, get_size, get_theme, rc

FIGURE = "a matplotlib Figure (optviz.render.picture(...), or an axes-level function's ax.figure)"

STILL_BYTES_PER_PIXEL = 24  # the peak while a still is drawn and encoded
RASTER_DPI = 150  # for the parts of SVG and PDF files kept as pixels (the filled landscape)


def figure(
    theme: str | Theme = "light",
    size: str | tuple[int, int] | Size = "slide",
    nrows: int = 1,
    ncols: int = 1,
    projection: str | None = None,
    **subplots: Any,
) -> tuple[Figure, np.ndarray]:
    """A themed figure of the given size and its axes (always a 2D array); ``subplots`` go to
    ``Figure.subplots`` (sharex=True, ...)."""
    theme, size = get_theme(theme), get_size(size)
    settings = rc(theme, size)
    with matplotlib.rc_context(settings):
        fig = Figure(figsize=size.inches, dpi=size.dpi, layout="constrained")
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
                   size: Any = "slide", **options: Any) -> Axes:
            if takes is not None:
                expect(obj, takes[0], argument, takes[1])
            expect(ax, (Axes, type(None)), f"{draw.__name__}: ax", "a matplotlib Axes or None")
            if ax is None:
                ax = figure(theme, size, projection=projection)[1][0, 0]
            chosen = getattr(ax.figure, "optviz_theme", None) or get_theme(theme)
            with matplotlib.rc_context(getattr(ax.figure, "optviz_rc", {})):
                draw(obj, ax, chosen, **options)
            return ax

        return public

    return wrap


def titled(fig: Figure, title: str | None, *, centre: bool = True) -> Figure:
    """The figure with a title over all of it (a scenario's), in the figure's own type,
    centred over the axes, so that a legend beside them keeps its own column. Call it again
    once the figure is drawn to centre the title anew; ``centre=False`` only puts it there
    (the layout leaves it its room), for a figure about to be drawn and titled again."""
    if title:
        with matplotlib.rc_context(getattr(fig, "optviz_rc", {})):
            text = fig.suptitle(title)
            if not centre:
                return fig
            fig.draw_without_rendering()
            size = text.get_fontsize()
            boxes = [ax.get_position() for ax in fig.axes if ax.get_visible()]
            text.set_x((min(b.x0 for b in boxes) + max(b.x1 for b in boxes)) / 2)
            _clear_of_legends(fig, text)
            if text.get_fontsize() == size:  # moved across only: the layout (which reads its height) still holds
                fig.stale = False
    return fig


def _clear_of_legends(fig: Figure, text: Any) -> None:
    """Move (and if need be shrink) a figure title left of a legend it would run into."""
    renderer = fig.canvas.get_renderer()
    for legend in fig.legends:
        room = legend.get_window_extent(renderer)
        box = text.get_window_extent(renderer)
        if box.x1 <= room.x0 - 8 or box.y0 >= room.y1 or box.y1 <= room.y0:
            continue
        while box.width > room.x0 - 16 and text.get_fontsize() > 8:
            text.set_fontsize(text.get_fontsize() * 0.9)
            box = text.get_window_extent(renderer)
        centre = min(box.x0 + box.width / 2, room.x0 - 8 - box.width / 2)
        text.set_x(max(centre, box.width / 2 + 8) / fig.bbox.width)


def ours(fig: Any) -> bool:
    """Whether optviz made this figure (and so may lay out its legend and colour bar)."""
    return hasattr(fig, "optviz_theme")


def save(fig: Figure, path: Any, *, dpi: Any = None, transparent: bool = False) -> Any:
    """Write a figure as PNG, SVG or PDF (by the suffix), atomically; returns the path.

    In SVG and PDF, text stays text and the filled landscape is kept as pixels, so the file
    stays small and a label stays editable."""
    expect(fig, Figure, "save: fig", FIGURE)
    path = writable_path(path, STILL_FORMATS)
    dpi = check_dpi(dpi, fig)
    with atomic(path) as tmp, matplotlib.rc_context(getattr(fig, "optviz_rc", {})), laid_out(fig):
        fig.savefig(tmp, format=path.suffix[1:].lower(), dpi=dpi if path.suffix.lower() == ".png" else RASTER_DPI,
                    transparent=transparent)
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


def check_dpi(dpi: Any, fig: Figure) -> float:
    """The dpi to save at (the figure's own by default), or ValueError naming what is wrong."""
    if dpi is None:
        return fig.dpi
    if isinstance(dpi, bool) or not isinstance(dpi, Real) or not np.isfinite(dpi) or dpi <= 0:
        raise ValueError(f"dpi must be a positive number, got {dpi!r}")
    width, height = fig.get_size_inches() * dpi
    if max(width, height) > MAX_SIDE:
        raise ValueError(f"dpi {dpi:g} makes a {width:.0f}x{height:.0f} picture; at most {MAX_SIDE} pixels a side")
    check_memory(STILL_BYTES_PER_PIXEL * width * height, f"a {width:.0f}x{height:.0f} picture (dpi {dpi:g})",
                 "use a lower dpi")
    return float(dpi)


def png(fig: Figure) -> bytes:
    """The figure as PNG bytes (for notebooks and web pages)."""
    expect(fig, Figure, "png: fig", FIGURE)
    out = io.BytesIO()
    with matplotlib.rc_context(getattr(fig, "optviz_rc", {})), laid_out(fig):
        fig.savefig(out, format="png")
    return out.getvalue()
