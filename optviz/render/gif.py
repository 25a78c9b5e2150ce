"""Animated GIFs of paths: matplotlib draws the still background once, numpy draws each frame.

The background is the still picture without its paths (landscape, colour bar, legend,
titles), over a band that holds a loss strip (f - f* per step, log scale) and a large
read-out. Each frame then tells the story so far and nothing of what is to come: every
path as a comet (a large head, a bright tail of its last steps fading into the faint trail
of all its steps so far, a ring where it started, its name beside it), the strip's curves
up to the step with a cursor at it, and "step k / n" with f - f* in the read-out.

The trails are drawn step by step as antialiased strokes into an RGB copy of the
background; heads, tails, labels, cursor and read-out are composed over it for one frame
and taken away again. Each touched region is mapped onto one shared 256-colour palette
(taken from the finished picture) through a lookup table, so every frame is a palette image
that differs from the last only where something moved, and pillow stores only that.

Pacing: the frames before the last play in at least ``PLAY`` seconds (at up to 20 frames a
second for long runs), the last frame is held ``hold`` seconds, and the GIF loops as
``loop`` says. The first frame is a poster: the last frame itself, shown for ``POSTER``
seconds, so that a document, a thumbnail or a slide preview (which show a GIF's first
frame) show the whole story; on a loop it continues the held last frame. Every frame after
it shows only the past.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, replace
from functools import cached_property
from numbers import Real
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.colors import to_rgb
from matplotlib.ticker import FixedLocator, LogLocator, MaxNLocator, NullLocator
from PIL import GifImagePlugin, Image, ImageDraw, ImageFont

from ..core.errors import BadInput
from ..core.files import atomic, writable_path
from ..core.limits import (MAX_FPS, MAX_FRAMES, MAX_GIF_PIXELS, MIN_FPS, MIN_FRAMES, MIN_GIF_BYTES,
                           check_memory)
from ..core.simulation.result import Result
from .canvas import figure, titled
from .figures import no_empty_cells, one_line, outer_ticks, panel_colour, panel_grid, shared_frame
from .glyphs import HeadGlyphs, check_state
from .glyphs import outline as outline_of
from .kinds import GIF_PANELS, check_hold, loop_count
from .style import Size, Theme, get_theme, reads_on, screen_size
from .trajectories import Trace, divergence_text, drawable, fill, legend_label, scene, two_lines

TRANSPARENT = 255  # the palette index no colour takes: a frame's unchanged pixels
CLEAR = 254  # in a transparent GIF, the index of the pixels with nothing behind them
GIF_BYTES_PER_PIXEL = 56  # the peak while a GIF is composed: measured 46 to 50 (frames are streamed)

PLAY = 6.0  # seconds at least that the frames before the last take, unless fps is given
FASTEST = 20.0  # frames a second a long run plays at, at most, unless fps is given
POSTER = 0.5  # seconds the poster (the last frame, shown first) stays before the story starts
READOUT_RATE = 5  # the read-out changes at most this often a second: it stays readable, frames stay small

BAND = 0.19  # of the height, under the pictures: the loss strip and the read-out
TAIL = 8  # frames whose steps make a comet's bright tail
TAIL_STEPS = 24  # steps in a tail at most (a long run's frames skip many)
TRAIL = 0.7  # how strongly the trail behind the tail shows its colour over the landscape
CASING = 0.5  # how strongly a trail's casing shows, of its own strength: a full edge would darken a thin trail
CONTEXT = 0.25  # how strongly another optimizer's trail shows in a small multiple


@dataclass(frozen=True)
class Animation:
    """A written GIF. Shows itself inline in a notebook: animated where HTML is shown, and
    as its last frame (a PNG) where only images are (PDF exports, static viewers)."""

    path: Path
    frames: int  # with the poster, if there is one
    duration: float  # seconds, one loop
    width: int
    height: int

    @property
    def bytes(self) -> int:
        return self.path.stat().st_size

    def _repr_html_(self) -> str:
        data = base64.b64encode(self.path.read_bytes()).decode("ascii")
        return f'<img src="data:image/gif;base64,{data}" width="{self.width}" alt="{self.path.name}">'

    def _repr_png_(self) -> bytes:
        with Image.open(self.path) as gif:
            gif.seek(gif.n_frames - 1)
            out = io.BytesIO()
            gif.convert("RGB").save(out, format="PNG")
        return out.getvalue()


def animate(
    result: Result,
    path: Any,
    *,
    fps: float | None = None,
    every: int = 1,
    max_frames: int | None = 200,
    hold: float = 3.0,
    loop: str | int = "forever",
    poster: bool = True,
    panels: str = "auto",
    theme: str | Theme = "light",
    size: Any = "slide",
    max_bytes: int | None = None,
    title: str | None = None,
    palette: dict[str, str] | None = None,
    bounds: Any = None,
    dpi: Any = None,
    scale: Any = None,
    background: Any = None,
    transparent: bool = False,
    state: Any = None,
) -> Animation:
    """Write an animated GIF of every path advancing together, as comets with a loss strip
    and a read-out under them; returns an Animation.

    ``size`` is the whole GIF's, laid out as the still of that size: a named size at two
    thirds of the still's dpi (the slide is 1280x720: a GIF has no dpi, and it stays
    quick to make and small) unless ``dpi`` says otherwise; ``scale`` as for stills. On
    ``background`` (a colour) if given; ``transparent``: the pixels of the background
    colour show what is behind the GIF (one palette index; edges stay blended with the
    background colour, paths' heads stop at it, the read-out and the strip sit on a plate
    of it).

    Pacing: the frames before the last take at least 6 seconds (up to 20 frames a second
    for a long run), or 1/``fps`` each; the last frame is held ``hold`` seconds (3); the GIF
    plays ``loop`` times: "forever", "once" or a whole number. ``every=k`` draws every k-th
    step and ``max_frames`` caps the frame count (steps are then spread evenly); frames
    where no path moves by a pixel are dropped. ``poster`` (on by default): the first frame
    is the last one, shown for half a second, so that documents, thumbnails and slide
    previews show the whole story; every frame after it shows only what has happened.
    ``panels="optimizer"`` gives each optimizer its own panel, on identical axes with the
    others' trails faint; "auto" (the default) does so for four or more optimizers from one
    start. With ``max_bytes`` the palette and then the frame count shrink until the file
    fits, the frames left lasting longer so that the GIF plays as long. ``palette`` and
    ``title`` as for stills; ``bounds`` frames it as it frames a still. ``state`` draws the
    optimizer's state at each moving head, as a still draws it along the paths (see
    optviz.render.glyphs).
    """
    state = check_state(state, moving=True)
    result = drawable(result)
    path = writable_path(path, ("gif",))
    _check_options(fps, every, max_frames, panels, max_bytes)
    hold, repeats = check_hold(hold), loop_count(loop)
    if not isinstance(poster, bool):
        raise ValueError(f"poster must be True or False, got {poster!r}")
    size = check_gif_size(screen_size(size, dpi, scale))
    film = _Film(result, panels, get_theme(theme, background, transparent), size, title, palette, bounds, state)
    steps = film.moving(_frame_steps(result.steps, every, max_frames))
    play = (len(steps) - 1) / float(fps) if fps is not None else max(PLAY, (len(steps) - 1) / FASTEST)
    colours = CLEAR if transparent else TRANSPARENT  # indices left free: a frame's unchanged pixels (and clear ones)
    while True:
        timing = _Timing(play, hold, POSTER if poster else 0.0, repeats)
        data = film.encode(steps, colours, timing)
        if max_bytes is None or len(data) <= max_bytes:
            break
        if colours > 32:
            colours //= 2
        elif len(steps) > 2:
            steps = steps[::2] if steps[::2][-1] == steps[-1] else steps[::2] + [steps[-1]]
        else:
            raise ValueError(f"cannot fit the GIF in {max_bytes} bytes: 2 frames take {len(data)}")
    with atomic(path) as tmp:
        tmp.write_bytes(data)
    durations = timing.durations(len(steps))
    return Animation(path, len(durations), sum(durations) / 1000, film.width, film.height)


@dataclass(frozen=True)
class _Timing:
    """How long each frame shows, and how often the GIF plays."""

    play: float  # seconds the frames before the last take together
    hold: float  # seconds of the last frame
    poster: float  # seconds of the poster frame (0: no poster)
    loop: int | None  # the GIF's loop count: 0 forever, None once

    def durations(self, frames: int) -> list[int]:
        """Each frame's milliseconds, the poster's first if there is one: multiples of 10 (a
        GIF keeps hundredths), spread so that they add up to the play time."""
        ends = np.round(np.linspace(0, self.play * 100, frames)).astype(int)  # hundredths, at each frame's end
        each = [10 * int(d) for d in np.diff(ends)]
        last = 10 * round(self.hold * 100) if self.hold > 0 else (each[-1] if each else 100)
        poster = [10 * round(self.poster * 100)] if self.poster > 0 else []
        return poster + [max(10, d) for d in each] + [last]


def check_gif_size(size: Size) -> Size:
    """The size, if a GIF of it is within MAX_GIF_PIXELS and the memory budget."""
    if size.width * size.height > MAX_GIF_PIXELS:
        raise BadInput(f"a {size.width}x{size.height} GIF has {size.width * size.height:,} pixels a frame; at most "
                       f"{MAX_GIF_PIXELS:,} (4000x4000)")
    check_memory(GIF_BYTES_PER_PIXEL * size.width * size.height, f"a {size.width}x{size.height} GIF", "use a smaller size")
    return size


def _check_options(fps: Any, every: Any, max_frames: Any, panels: Any, max_bytes: Any) -> None:
    def number(value: Any) -> bool:
        return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)

    if fps is not None and not (number(fps) and MIN_FPS <= fps <= MAX_FPS):
        raise ValueError(f"fps must be a number from {MIN_FPS} to {MAX_FPS}, got {fps!r}")
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ValueError(f"every must be a whole number >= 1, got {every!r}")
    if max_frames is not None and (not isinstance(max_frames, int) or isinstance(max_frames, bool)
                                   or not MIN_FRAMES <= max_frames <= MAX_FRAMES):
        raise ValueError(f"max_frames must be a whole number from {MIN_FRAMES} to {MAX_FRAMES}, got {max_frames!r}")
    if panels not in GIF_PANELS:
        raise ValueError(f"panels must be one of {', '.join(GIF_PANELS)}, got {panels!r}")
    if max_bytes is not None and (not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < MIN_GIF_BYTES):
        raise ValueError(f"max_bytes must be a whole number >= {MIN_GIF_BYTES}, got {max_bytes!r}")


def _frame_steps(steps: int, every: int, max_frames: int | None) -> list[int]:
    chosen = list(range(0, steps + 1, every))
    if chosen[-1] != steps:
        chosen.append(steps)
    if max_frames is not None and len(chosen) > max_frames:
        picks = np.linspace(0, len(chosen) - 1, max_frames).round().astype(int)
        chosen = [chosen[i] for i in np.unique(picks)]
    return chosen


@dataclass(frozen=True)
class _Line:
    """A polyline drawn into the history step by step: a path on its map, another path's
    trail in a small multiple, or a curve of the loss strip."""

    pixels: np.ndarray  # (steps + 1, 2) image pixels, x right and y down; NaN where it has no point
    colour: np.ndarray  # RGB, 0 to 255
    strength: float  # how strongly it shows its colour over the background (1: its own colour)
    width: float  # pixels
    casing: np.ndarray | None = None  # a dark edge drawn under it (the theme's casing), if any


@dataclass(frozen=True)
class _Comet:
    """A path drawn as a comet on its map: its pixels, and what its label says."""

    pixels: np.ndarray
    colour: np.ndarray
    left: bool  # it runs out of the frame: no head once it has
    name: str | None  # the label beside it (None: its panel's title names it)
    words: str | None  # "diverged at step k", from that step on
    diverged: int  # the step it diverged at, or -1
    box: tuple[float, float, float, float]  # its map's data area in pixels: x0, y0, x1, y1

    @cached_property
    def _latest(self) -> np.ndarray:
        """Per step, the index of its last finite pixel up to then (-1: none yet)."""
        finite = np.isfinite(self.pixels).all(axis=1)
        return np.maximum.accumulate(np.where(finite, np.arange(len(finite)), -1))

    def head(self, step: int) -> np.ndarray:
        """The current point at ``step``: its last finite pixel up to then; none once the
        path has run out of the frame (its last finite pixel is where it left)."""
        latest = int(self._latest[step])
        if latest < 0 or (self.left and latest == self._latest[-1]):
            return np.array([np.nan, np.nan])
        return self.pixels[latest]

    def last_drawn(self, step: int) -> np.ndarray | None:
        """Where its drawing ends at ``step``: the head, or the edge it ran out at."""
        latest = int(self._latest[step])
        return self.pixels[latest] if latest >= 0 else None

    def label(self, step: int) -> str | None:
        words = self.words if 0 <= self.diverged <= step else None
        return "\n".join(part for part in (self.name, words) if part) or None


class _Film:
    """The background, every line in pixels, and the palette: ready to compose frames."""

    def __init__(self, result: Result, panels: str, theme: Theme, size: Size, title: str | None,
                 palette: dict[str, str] | None = None, bounds: Any = None, state: str | None = None) -> None:
        self.result, self.theme = result, theme
        opaque = replace(theme, transparent=False)  # edges blend with the background colour
        names = list(result.optimizers)
        n = result.n_starts
        if panels == "auto":  # as the stills: small multiples for four or more optimizers from one start
            panels = "optimizer" if result.function.dim == 2 and len(names) >= 4 and n == 1 else "single"
        groups = [list(range(result.positions.shape[1]))] if panels == "single" else \
            [list(range(k * n, (k + 1) * n)) for k in range(len(names))]
        above = replace(size, height=round(size.height * (1 - BAND)))  # the maps' room: the band is under them
        fig, axes = figure(opaque, size, 1, 1) if panels == "single" else figure(
            opaque, size, *panel_grid(len(groups), result, above))
        fig.get_layout_engine().set(rect=(0, BAND, 1, 1 - BAND))  # the band under it: the strip and the read-out
        fig.get_layout_engine().set(w_pad=3 / 72, h_pad=3 / 72)  # the frames' gaps as before the stills' narrower ones
        own: dict[int, tuple[Trace, Any]] = {}  # each path's trace and the map it moves on
        context: list[tuple[Trace, Any]] = []  # other paths' trails, faint, in a small multiple
        titled(fig, title, centre=False)  # first: the frames and the legend are fitted to the room it leaves
        with matplotlib.rc_context(fig.optviz_rc):
            maps = [axes[0, 0]] if panels == "single" else no_empty_cells(fig, axes, len(groups))
            if panels != "single":
                outer_ticks(maps, names=True)  # identical axes: tick labels and names once per row and column
            box = None if panels == "single" else shared_frame(result, "paths", maps[0], bounds)
            for ax, group in zip(maps, groups):
                if panels == "single":  # a legend only where the heads' labels cannot name every path
                    _, laid = scene(result, ax, theme, palette=palette, starts=False, bounds=bounds, legend=n > 1)
                else:  # identical axes: the other paths' trails faint behind this one's
                    _, laid = scene(result, ax, theme, highlight=group, box=box, legend=False, colorbar=False,
                                    palette=palette)
                    context += [(t, ax) for t in laid if t.index not in group]
                    heading = two_lines(legend_label(result, result.names[group[0]]))
                    ax.set_title(one_line(fig, heading, axes.shape[1]), fontsize="medium",
                                 color=panel_colour(result, group, theme) or theme.foreground)
                own.update({t.index: (t, ax) for t in laid if t.index in group})
            titled(fig, title)  # laid out (it measures the figure)
            fill(maps)  # the panels widened to the room the layout gave them, as the stills are
            fig.set_layout_engine("none")  # laid out: the strip goes into the band as measured now
            self.height, self.width = round(fig.bbox.height), round(fig.bbox.width)
            scale = size.pixels_per_point
            self.stroke = max(2.5, fig.optviz_rc["lines.linewidth"] * 1.25 * scale)
            self.head = self.stroke * 2.4
            self._fonts(size)
            strip = self._strip(fig, maps)
            self.comets = {b: self._comet(trace, ax, panels == "single") for b, (trace, ax) in sorted(own.items())}
            self.maps = {b: ax for b, (_, ax) in own.items()}
            self.glyphs = self._head_glyphs(state) if state and result.function.dim == 2 else None
            casing = _rgb(theme.casing) if theme.casing else None
            self.lines = [_Line(c.pixels, c.colour, TRAIL, self.stroke, casing) for c in self.comets.values()]
            self.lines += [_Line(self._to_pixels(ax, t.xy), _rgb(t.colour), CONTEXT, self.stroke) for t, ax in context]
            self.curves = [_Line(self._to_pixels(strip, xy), self.comets[b].colour, 1.0, 0.7 * self.stroke)
                           for b, xy in self._curves().items()]
            fig.canvas.draw()
            self.kept_clear = self._kept_clear(fig, maps)
        self.background = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(np.float32)
        self.ink = self._ink()
        self.rings = {b: self._ring(comet) for b, comet in self.comets.items()}  # drawn in every frame
        self.clear = self._clear()

    # --- laying out ----------------------------------------------------------------------------

    def _fonts(self, size: Size) -> None:
        scale = size.pixels_per_point
        regular = font_manager.findfont("DejaVu Sans")
        bold = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans", weight="bold"))
        self.font = ImageFont.truetype(bold, round(size.font * 0.9 * scale))  # the labels beside the paths
        self.big = ImageFont.truetype(regular, round(size.font * 1.3 * scale))  # the read-out

    def _strip(self, fig: Any, maps: list) -> Any:
        """The loss strip's axes in the band under the maps, as wide as they are but for the
        read-out at its right; and where the read-out's lines go."""
        widest = [f"step {self.result.steps} / {self.result.steps}", f"{_BEST}{_GAP} = -8.8e-88"]
        width = max(_MEASURE.textbbox((0, 0), line, font=self.big)[2] for line in widest)
        line = self.big.size * 1.2
        band = BAND * self.height
        margin = 0.6 * self.big.size
        self.readout_at = (self.width - margin - width, self.height - band / 2 - line)  # the first line's top left
        left = max(min(ax.get_position().x0 for ax in maps) * self.width, 6.5 * self.font.size)  # its labels' room
        right = self.readout_at[0] - 1.5 * margin
        bottom = 1.9 * self.font.size  # room for the step numbers under it
        top = band - 0.5 * margin
        strip = fig.add_axes((left / self.width, bottom / self.height, max(right - left, 10) / self.width,
                              max(top - bottom, 10) / self.height))
        values, label = self._strip_values()
        _scaled(strip, values[np.isfinite(values)], label == _GAP)
        strip.set_xlim(0, max(1, self.result.steps))
        ticks = 0.7 * fig.optviz_rc["font.size"]
        strip.tick_params(labelsize=ticks, length=3, pad=2)
        strip.yaxis.set_minor_locator(NullLocator())
        strip.xaxis.set_major_locator(MaxNLocator(5, integer=True))
        strip.set_ylabel(label, fontsize=ticks, labelpad=2)
        strip.grid(True, alpha=0.25)
        self.strip_box = tuple(np.round(strip.get_window_extent().extents).astype(int))  # x0, y0, x1, y1 upward
        self.strip_values = values
        self.strip_axes = strip
        return strip

    def _strip_values(self) -> tuple[np.ndarray, str]:
        """The strip's numbers per step and path: f - f* where the function's minimum is
        known, f itself where not; and their name."""
        if self.result.function.minima:
            return self.result.gap().numpy(), _GAP
        return self.result.losses.numpy(), "f"

    def _curves(self) -> dict[int, np.ndarray]:
        """Each path's strip curve in the strip's data coordinates (step, value), its values
        below the strip's floor at the floor; NaN where there is no value."""
        low = self.strip_axes.get_ylim()[0]
        steps = np.arange(self.result.steps + 1, dtype=float)
        curves = {}
        for b in self.comets:
            values = self.strip_values[:, b].astype(float)
            values = np.where(np.isfinite(values), np.maximum(values, low), np.nan)
            curves[b] = np.column_stack([steps, values])
        return curves

    def _comet(self, trace: Trace, ax: Any, named: bool) -> _Comet:
        b = trace.index
        step = int(self.result.diverged_at[b])
        words = divergence_text(ax, step, bool(self.result.function.minima)) if step >= 0 else None
        x0, y0, x1, y1 = ax.get_window_extent().extents
        first_start = b % self.result.n_starts == 0
        return _Comet(self._to_pixels(ax, trace.xy), _rgb(trace.colour), trace.left,
                      self._name(b) if named and first_start else None, words, step,
                      (x0, self.height - y1, x1, self.height - y0))

    def _name(self, b: int) -> str:
        """A path's label: its optimizer's display name, or its legend entry where two share one."""
        result = self.result
        name = result.names[b]
        short = {n: (result.optimizers[n].entry.display if getattr(result.optimizers[n], "entry", None) is not None
                     else legend_label(result, n)) for n in result.optimizers}
        alike = sum(1 for n in short if short[n] == short[name])
        return short[name] if alike == 1 and name in (result.optimizers[name].name, result.optimizers[name].kind) \
            else legend_label(result, name)

    def _kept_clear(self, fig: Any, maps: list) -> list[tuple[float, float, float, float]]:
        """The boxes no label may cover, in image pixels: the legends and the marked minima."""
        legends = [ax.get_legend() for ax in maps] + list(fig.legends)
        boxes = [(b.x0, self.height - b.y1, b.x1, self.height - b.y0)
                 for b in (legend.get_window_extent() for legend in legends if legend is not None)]
        marks = [m.point[:2] for m in self.result.function.minima] if self.result.function.dim == 2 else []
        for ax in maps:
            boxes += [_box_around(p, 2 * self.head) for p in self._to_pixels(ax, np.array(marks, dtype=float))] \
                if marks else []
        return boxes

    def _to_pixels(self, ax: Any, xy: np.ndarray) -> np.ndarray:
        """Data points in image pixels (x right, y down); NaN where there is none."""
        display = ax.transData.transform(xy)
        return np.column_stack([display[:, 0], self.height - display[:, 1]]) if len(display) else display

    def _ink(self) -> np.ndarray:
        """A summed-area table of every pixel any path or trail will cover, and the strip:
        labels are placed where they cover none of it (even later)."""
        mask = Image.new("L", (self.width, self.height), 0)
        draw = ImageDraw.Draw(mask)
        width = round(self.stroke + 6)
        for line in self.lines:
            for run in _runs(line.pixels):
                draw.line(run.ravel().tolist(), fill=1, width=width)
        for comet in self.comets.values():
            start = comet.last_drawn(0)
            if start is not None:
                r = self.head + 4
                draw.ellipse((start[0] - r, start[1] - r, start[0] + r, start[1] + r), fill=1)
        table = np.zeros((self.height + 1, self.width + 1), dtype=np.int32)
        table[1:, 1:] = np.asarray(mask, dtype=np.int32).cumsum(axis=0).cumsum(axis=1)
        return table

    def _clear(self) -> np.ndarray | None:
        """In a transparent GIF, the pixels of the background colour, but for a plate under
        the read-out and the strip (they change, and a GIF cannot make a pixel clear again)."""
        if not self.theme.transparent:
            return None
        colour = np.round(255 * np.array(to_rgb(self.theme.background), dtype=np.float32))
        clear = (np.round(self.background) == colour).all(axis=-1)
        x, y = self.readout_at
        clear[max(0, math.floor(y) - 4):, max(0, math.floor(x) - 4):] = False
        x0, y0, x1, y1 = self.strip_box
        clear[self.height - y1: self.height - y0 + 1, x0: x1 + 1] = False
        return clear

    def moving(self, steps: list[int]) -> list[int]:
        """The steps worth a frame: the first, the last, and those where some path's current
        point has moved a pixel or more since the last frame kept."""
        kept = [steps[0]]
        for step in steps[1:-1]:
            moved = max((np.nan_to_num(np.abs(c.head(step) - c.head(kept[-1])), nan=1e9).max()
                         for c in self.comets.values()), default=0.0)
            if moved >= 1.0:
                kept.append(step)
        return kept + [steps[-1]] if steps[-1] != kept[-1] else kept

    # --- composing ---------------------------------------------------------------------------

    def encode(self, steps: list[int], colours: int, timing: _Timing) -> bytes:
        """The GIF: the poster (if any) whole, the first frame whole, then each frame as the
        box of what changed, its unchanged pixels transparent (so they show the frame before)."""
        palette, lookup = self._palette(colours)
        history = _Layer(self.background.copy(), self.background, lookup, self.clear)
        durations = timing.durations(len(steps))
        poster = durations.pop(0) if timing.poster > 0 else None
        body = io.BytesIO()
        shown, overlay = None, []
        ends, band_ends = [0] * len(self.lines), [0] * len(self.curves)  # the step each line is drawn to
        self.last_segments: dict[int, list] = {}  # each line's last segment: drawn again over the next one's edge
        sides: dict[int, int] = {}  # the side of its head each label sat on last: it stays there while it can
        tails: list[dict[int, Shape]] = [{} for _ in self.comets]  # each comet's last segments, drawn again brighter
        texts: dict = {}  # text drawn once, shown again where it was
        for k, (step, band, duration) in enumerate(zip(steps, band_steps(steps, durations), durations)):
            touched = list(overlay)  # last frame's marks go away
            touched += self._advance(history, self.lines, ends, step, tails)
            touched += self._advance(history, self.curves, band_ends, band)
            if k == len(steps) - 1:
                touched += self._in_full(history, step)
            tail_from = max(steps[max(0, k - TAIL)], step - TAIL_STEPS)
            for tail in tails:
                for t in [t for t in tail if t <= tail_from]:
                    del tail[t]
            index, overlay = self._frame(_Overlay(history, texts), step, band, sides, tails)
            if shown is None:
                body.write(_whole(index, palette, duration, transparency=CLEAR if self.clear is not None else None))
            else:
                body.write(_delta(shown, index, touched + overlay, palette, duration))
            shown = index
        out = io.BytesIO()
        header, _ = GifImagePlugin.getheader(_image(shown, palette), info={"loop": timing.loop, "duration": 100})
        out.write(b"".join(header))
        if poster is not None:  # the last frame, first; cleared away before the story starts
            out.write(_whole(shown, palette, poster, disposal=2,
                             transparency=CLEAR if self.clear is not None else None))
        out.write(body.getvalue())
        out.write(b";")
        return out.getvalue()

    def _advance(self, history: "_Layer", lines: list[_Line], ends: list[int], step: int,
                 tails: list[dict[int, Shape]] = ()) -> list[Region]:
        """Draw each line on from the step it was last drawn to (``ends``, brought up to
        date) up to ``step`` into the history, keeping the first lines' segments in ``tails``
        (the comets'); the regions drawn (one a line). Steps shorter than half a pixel join
        the next one (the head covers a trail that lags it by less): the same picture, a
        fraction of the work."""
        drawn = []
        last = self.last_segments.setdefault(id(lines), [None] * len(lines))  # each line's, as drawn
        for i, line in enumerate(lines):
            shapes = []
            for t in range(ends[i] + 1, step + 1):
                a, b = line.pixels[ends[i]], line.pixels[t]
                if abs(b[0] - a[0]) < 0.5 and abs(b[1] - a[1]) < 0.5:
                    continue
                ends[i] = t
                shape = _segment(a, b, line.width, history.rgb.shape)
                if i < len(tails):
                    tails[i][t] = shape
                if shape is not None:
                    if line.casing is not None:  # the edge first; the last segment's colour again over its joint
                        edge = _segment(a, b, line.width + 2 * max(1.0, line.width / 4), history.rgb.shape)
                        history.blend(edge, line.casing, CASING * line.strength, lasting=True)
                        shapes.append(edge)
                        if last[i] is not None:
                            history.blend(last[i], line.colour, line.strength, lasting=True)
                    last[i] = shape
                    history.blend(shape, line.colour, line.strength, lasting=True)
                    shapes.append(shape)
            if shapes:
                drawn.append(history.settle(shapes))
        return drawn

    def _in_full(self, history: "_Layer", step: int) -> list[Region]:
        """The paths in their own colour up to ``step``, drawn over their faint trails: the
        last frame (and so the poster) shows the finished picture."""
        full = [replace(line, strength=1.0) for line in self.lines[: len(self.comets)]]
        return self._advance(history, full, [0] * len(full), step)

    def _frame(self, overlay: "_Overlay", step: int, band: int, sides: dict[int, int],
               tails: list[dict[int, Shape]]) -> tuple[np.ndarray, list]:
        """The frame's palette indices: the history with each path's comet (``tails``: its
        last segments, and its head) and label at ``step``, the strip's cursor and the
        read-out at step ``band``; and the regions those cover."""
        for comet, tail in zip(self.comets.values(), tails):
            self._comet_at(overlay, comet, step, tail)
        if self.glyphs is not None:
            self._state_at(overlay, step)
        for b, comet in self.comets.items():
            self._start(overlay, comet, self.rings[b])
        for text, at, _, colour in self._labels(step, sides):
            overlay.text(text, at, colour, self.theme.outline, self.font)
        self._readout(overlay, band)
        self._cursor(overlay, band)
        return overlay.finish()

    def _comet_at(self, overlay: "_Overlay", comet: _Comet, step: int, tail: dict[int, Shape]) -> None:
        """A path's tail (the segments of its last steps, ``tail``, brighter towards the head)
        and its head at ``step``."""
        shape = overlay.layer.rgb.shape
        head = comet.head(step)
        ring = _disc(head, self.head + 1.5, shape) if np.isfinite(head).all() else None
        overlay.cover(list(tail.values()) + [ring])
        tail_from = min(tail, default=step) - 1
        for t, segment in tail.items():
            overlay.paint(segment, comet.colour, TRAIL + (1 - TRAIL) * (t - tail_from) / max(1, step - tail_from))
        if ring is not None:
            overlay.paint(ring, _rgb(self.theme.casing or self.theme.outline))
            overlay.paint(_disc(head, self.head, shape), comet.colour)

    def _head_glyphs(self, state: str) -> HeadGlyphs:
        """The state's glyphs, scaled to the first map (the panels share a frame)."""
        ax = next(iter(self.maps.values()))
        (x0, _), (x1, _) = ax.transData.transform([[0.0, 0.0], [1.0, 0.0]])
        return HeadGlyphs(self.result, state, abs(x1 - x0), ax.get_window_extent().width)

    def _state_at(self, overlay: "_Overlay", step: int) -> None:
        """The optimizer's state at each moving head: each glyph's strokes over an outline,
        the head's dot drawn again on top."""
        shape, width = overlay.layer.rgb.shape, max(2.0, self.stroke * 0.8)
        outline = _rgb(self.theme.outline)
        for b, comet in self.comets.items():
            glyphs = self.glyphs.at(b, step)
            for glyph in glyphs:
                lines = outline_of(glyph, lambda xy, ax=self.maps[b]: self._to_pixels(ax, xy), head=3 * width)
                segments = [(a, c) for line in lines for a, c in zip(line[:-1], line[1:])]
                edges = [_segment(a, c, width + 2.5, shape) for a, c in segments]
                overlay.cover(edges)
                for edge in edges:
                    overlay.paint(edge, outline)
                colour = _rgb(self.theme.foreground) if glyph.kind == "gradient" else comet.colour
                for a, c in segments:
                    overlay.paint(_segment(a, c, width, shape), colour)
            head = comet.head(step)
            if glyphs and np.isfinite(head).all():
                rim = _disc(head, self.head + 1.5, shape)
                overlay.cover([rim])
                overlay.paint(rim, outline)
                overlay.paint(_disc(head, self.head, shape), comet.colour)

    def _start(self, overlay: "_Overlay", comet: _Comet, shapes: tuple) -> None:
        """A ring in the path's colour where it started (``shapes``: see _ring), over its
        trail (the paths leave from it)."""
        outer, ring, inner = shapes
        if outer is not None:
            overlay.cover([outer])
            outline = _rgb(self.theme.outline)
            overlay.paint(outer, outline)
            overlay.paint(ring, comet.colour)
            overlay.paint(inner, outline)

    def _ring(self, comet: _Comet) -> tuple[Shape | None, Shape | None, Shape | None]:
        """The start ring's shapes: its outline, its colour, its open middle."""
        start = comet.last_drawn(0)
        if start is None or not np.isfinite(comet.head(0)).all():
            return None, None, None
        shape, radius = (self.height, self.width), self.head * 0.8
        return _disc(start, radius + 1.5, shape), _disc(start, radius, shape), _disc(start, radius - self.stroke, shape)

    def _labels(self, step: int, sides: dict[int, int]) -> list[tuple[str, tuple[float, float], tuple, str]]:
        """Each label at ``step``: its text, where pillow draws it, its box and its colour;
        beside its path's head (or where the path ran out), clear of every path, head and
        other label. ``sides`` keeps the side of its head each label took, to stay there."""
        taken = self.kept_clear + [_box_around(head, self.head + 2) for c in self.comets.values()
                                   if np.isfinite(head := c.head(step)).all()]
        placed = []
        for b, comet in self.comets.items():
            text, anchor = comet.label(step), comet.last_drawn(step)
            if text is None or anchor is None:
                continue
            x, y, box, sides[b] = self._place(text, anchor, comet.box, taken, sides.get(b))
            taken.append(box)
            placed.append((text, (x, y), box, self._hex(comet.colour)))
        return placed

    def _readout(self, overlay: "_Overlay", step: int) -> None:
        """"step k / n" and, under it, f - f* (the lowest of several paths', in its colour)."""
        values = self.strip_values[step]
        finite = np.flatnonzero(np.isfinite(values))
        x, y = self.readout_at
        overlay.text(f"step {step} / {self.result.steps}", (x, y), self.theme.foreground, None, self.big, "left")
        if len(finite):
            b = int(finite[np.argmin(values[finite])])
            words = f"{_GAP if len(values) == 1 else _BEST + _GAP} = {_number(float(values[b]))}" \
                if self.result.function.minima else f"{'f' if len(values) == 1 else 'lowest f'} = {values[b]:.3g}"
            colour = self._hex(self.comets[b].colour)
            if len(values) == 1 or not reads_on(colour, self.theme):
                colour = self.theme.foreground  # a pale colour (yellow on white) would not read
        else:
            words, colour = "diverged", self.theme.foreground
        overlay.text(words, (x, y + self.big.size * 1.2), colour, None, self.big, "left")

    def _cursor(self, overlay: "_Overlay", step: int) -> None:
        """A vertical line across the strip at ``step``."""
        x0, y0, x1, y1 = self.strip_box
        x = float(self.strip_axes.transData.transform((step, self.strip_axes.get_ylim()[0]))[0])
        where = _region(x - 1.5, x + 1.5, self.height - y1, self.height - y0, overlay.layer.rgb.shape)
        if where is None:
            return
        xs = np.arange(where[1].start, where[1].stop, dtype=np.float32) + 0.5
        coverage = np.clip(1.5 - np.abs(xs - x), 0, 1)[None, :].repeat(where[0].stop - where[0].start, axis=0)
        overlay.cover([(where, coverage)])
        overlay.paint((where, coverage), _rgb(self.theme.foreground))

    def _place(self, text: str, anchor: np.ndarray, inside: tuple[float, float, float, float], taken: list,
               side: int | None) -> tuple[float, float, tuple, int]:
        """Where a label beside ``anchor`` goes: on the side it took last if that is still
        clear, else on the side that covers the fewest path pixels and no other label or
        head, inside its map. Returns its top left corner, its box and its side."""
        left, top, right, bottom = _MEASURE.multiline_textbbox((0, 0), text, font=self.font, stroke_width=3,
                                                               align="center")
        w, h = right - left, bottom - top

        def box(s: int) -> tuple[float, float, float, float]:
            (dx, dy), reach = _SIDES[s % len(_SIDES)], _REACH[s // len(_SIDES)]
            gap = reach * (self.head + 4)
            x = anchor[0] + dx * gap - (w if dx < 0 else w / 2 if dx == 0 else 0)
            y = anchor[1] + dy * gap - (h if dy < 0 else h / 2 if dy == 0 else 0)
            return x, y, x + w, y + h

        def cost(s: int) -> float:
            x0, y0, x1, y1 = box(s)
            outside = x0 < inside[0] or y0 < inside[1] or x1 > inside[2] or y1 > inside[3]
            crowded = any(x0 < b[2] and b[0] < x1 and y0 < b[3] and b[1] < y1 for b in taken)
            return 1e9 * outside + 1e6 * crowded + 10 * self._inked(x0, y0, x1, y1) + s // len(_SIDES)

        if side is None or cost(side) >= len(_REACH):  # the side it took, while it is still clear
            side = min(range(len(_SIDES) * len(_REACH)), key=cost)
        x0, y0, x1, y1 = box(side)
        return x0 - left, y0 - top, (x0, y0, x1, y1), side

    def _inked(self, x0: float, y0: float, x1: float, y1: float) -> int:
        """How many pixels in the box a path covers (at any step)."""
        x0, x1 = (int(np.clip(v, 0, self.width)) for v in (math.floor(x0), math.ceil(x1)))
        y0, y1 = (int(np.clip(v, 0, self.height)) for v in (math.floor(y0), math.ceil(y1)))
        t = self.ink
        return int(t[y1, x1] - t[y0, x1] - t[y1, x0] + t[y0, x0])

    def _hex(self, colour: np.ndarray) -> str:
        return "#" + "".join(f"{int(round(c)):02x}" for c in colour)

    def _palette(self, colours: int) -> tuple[list[int], "_Lookup"]:
        """A palette for the background and the lines drawn on it (their colours, and their
        antialiased and faint blends with the background under them), with each path's own
        colour, the text and outline colours exactly; and the lookup from RGB to it."""
        exact = [c.colour for c in self.comets.values()]
        exact += [_rgb(c) for c in (self.theme.foreground, self.theme.outline, self.theme.background,
                                    self.theme.casing or self.theme.outline)]
        exact = np.unique(np.round(np.array(exact)).astype(np.uint8), axis=0)
        strokes = [self.background.reshape(-1, 3)]
        for line in self.lines + self.curves:
            points = line.pixels[np.isfinite(line.pixels).all(axis=1)].astype(int)
            points = points[(points[:, 0] >= 0) & (points[:, 0] < self.width)
                            & (points[:, 1] >= 0) & (points[:, 1] < self.height)]
            under = self.background[points[:, 1], points[:, 0]]
            repeat = max(1, round(self.stroke))  # as many samples as the stroke covers pixels, about
            for share in sorted({0.25, CONTEXT, TRAIL, 0.5, 0.75, 1.0}):
                strokes.append(np.repeat(under + share * (line.colour - under), repeat, axis=0))
                if line.casing is not None:
                    strokes += [under + share * (line.casing - under), under + CASING * share * (line.casing - under)]
        sample = np.clip(np.concatenate(strokes), 0, 255).astype(np.uint8)[None]
        quantized = Image.fromarray(sample).quantize(colors=max(2, colours - len(exact)), method=Image.Quantize.MEDIANCUT)
        entries = np.array(quantized.getpalette()[: 3 * (colours - len(exact))], dtype=np.uint8).reshape(-1, 3)
        # entries that nearly repeat an exact colour would take its pixels: let the exact one win
        near = (np.abs(entries[:, None, :].astype(int) - exact[None, :, :].astype(int)).sum(axis=-1) < 24).any(axis=1)
        table = np.concatenate([entries[~near], exact])
        listed = table.reshape(-1).tolist()
        if self.clear is not None:  # CLEAR's entry: the background colour, taken by no lookup
            listed += [0] * (3 * CLEAR - len(listed)) + [round(255 * c) for c in to_rgb(self.theme.background)]
        return listed, _Lookup(table)


_GAP = "f − f*"
_BEST = "best "
_SIDES = [(1, -1), (1, 1), (-1, -1), (-1, 1), (0, -1), (0, 1), (1, 0), (-1, 0)]  # a label's places around its anchor
_REACH = (1, 2, 3, 5, 8)  # how far from it, in head radii and a little: the nearest that is clear


def _scaled(strip: Any, finite: np.ndarray, gap: bool) -> None:
    """The strip's y scale and a few ticks for its finite values: log for f - f*, symmetric
    log for f that falls far below zero (a saddle's), linear otherwise."""
    if not len(finite):
        return
    positive = finite[finite > 0]
    spread = np.abs(finite)
    small = max(float(np.percentile(spread, 10)), 1e-12)
    if gap and len(positive):
        strip.set_yscale("log")
        strip.set_ylim(max(positive.min(), positive.max() * 1e-14) / 2, positive.max() * 2)
        strip.yaxis.set_major_locator(LogLocator(numticks=3))
    elif finite.min() < 0 and spread.max() > 1000 * small:
        strip.set_yscale("symlog", linthresh=small)
        lo, hi = float(finite.min()), float(finite.max())
        strip.set_ylim(lo * 2, hi * 2 if hi > 0 else small)
        ends = [-10 ** math.floor(math.log10(-lo)), 0.0]
        ends += [10 ** math.floor(math.log10(hi))] if hi > 1000 * small else []
        strip.yaxis.set_major_locator(FixedLocator(ends))
    else:
        pad = 0.05 * (finite.max() - finite.min()) or 1.0
        strip.set_ylim(finite.min() - pad, finite.max() + pad)
        strip.yaxis.set_major_locator(MaxNLocator(3))


def band_steps(steps: list[int], durations: list[int]) -> list[int]:
    """The step the band under the maps (the strip and the read-out) shows in each frame: the
    frame's own, at most READOUT_RATE times a second (the number stays readable, and most
    frames then change only where the paths move) and in the last frame; the last one shown
    in between. ``durations``: each frame's milliseconds."""
    shown, since, band = [], math.inf, steps[0]
    for k, (step, duration) in enumerate(zip(steps, durations)):
        if since >= 1000 / READOUT_RATE or k == len(steps) - 1:
            since, band = 0, step
        since += duration
        shown.append(band)
    return shown


def _number(value: float) -> str:
    """3.1e-2 for 0.031: two digits, a short exponent."""
    if value == 0:
        return "0"
    mantissa, exponent = f"{value:.1e}".split("e")
    return f"{mantissa}e{int(exponent)}"


def _rgb(colour: str) -> np.ndarray:
    return 255 * np.array(to_rgb(colour), dtype=np.float32)


def _runs(pixels: np.ndarray) -> list[np.ndarray]:
    """The stretches of a polyline between its missing points, each of two points or more."""
    finite = np.isfinite(pixels).all(axis=1)
    cuts = np.flatnonzero(np.diff(finite.astype(int)) != 0) + 1
    return [run for run, ok in zip(np.split(pixels, cuts), np.split(finite, cuts)) if ok.all() and len(run) > 1]


def _box_around(centre: np.ndarray, radius: float) -> tuple[float, float, float, float]:
    return centre[0] - radius, centre[1] - radius, centre[0] + radius, centre[1] + radius


def _image(index: np.ndarray, palette: list[int]) -> Image.Image:
    image = Image.frombuffer("P", (index.shape[1], index.shape[0]), np.ascontiguousarray(index), "raw", "P", 0, 1)
    image.putpalette(palette)
    return image


def _whole(index: np.ndarray, palette: list[int], duration: int, disposal: int = 1,
           transparency: int | None = None) -> bytes:
    """A whole frame as GIF data."""
    clear = {"transparency": transparency} if transparency is not None else {}
    return b"".join(GifImagePlugin.getdata(_image(index, palette), duration=duration, disposal=disposal, **clear))


def _delta(shown: np.ndarray, index: np.ndarray, touched: list, palette: list[int], duration: int) -> bytes:
    """One frame as GIF data: the smallest box around the pixels that changed among the
    regions touched, the unchanged ones in it transparent."""
    touched = [where for where in touched if where is not None]
    if touched:
        y0, y1 = min(w[0].start for w in touched), max(w[0].stop for w in touched)
        x0, x1 = min(w[1].start for w in touched), max(w[1].stop for w in touched)
        changed = shown[y0:y1, x0:x1] != index[y0:y1, x0:x1]
    if not touched or not changed.any():  # nothing moved: one transparent pixel keeps the timing
        y0, x0, changed = 0, 0, np.zeros((1, 1), dtype=bool)
        y1, x1 = 1, 1
    rows, cols = np.flatnonzero(changed.any(axis=1)), np.flatnonzero(changed.any(axis=0))
    if len(rows):
        changed = changed[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
        y0, y1, x0, x1 = y0 + rows[0], y0 + rows[-1] + 1, x0 + cols[0], x0 + cols[-1] + 1
    crop = np.where(changed, index[y0:y1, x0:x1], np.uint8(TRANSPARENT))
    data = GifImagePlugin.getdata(_image(crop, palette), offset=(int(x0), int(y0)), duration=duration, disposal=1,
                                  transparency=TRANSPARENT)
    return b"".join(data)


Region = tuple[slice, slice]
Shape = tuple[Region, np.ndarray]  # a region and each of its pixels' coverage, 0 to 1


class _Layer:
    """An RGB picture over its background, and its palette indices, kept in step region by region."""

    def __init__(self, rgb: np.ndarray, base: np.ndarray, lookup: "_Lookup", clear: np.ndarray | None = None) -> None:
        self.rgb, self.base, self.lookup = rgb, base, lookup
        self.clear = clear.copy() if clear is not None else None  # pixels with nothing behind them, as yet
        self.index = self._indices((slice(None), slice(None)), rgb)

    def _indices(self, where: Region, rgb: np.ndarray) -> np.ndarray:
        """The palette indices of RGB pixels at ``where``: CLEAR where they are clear."""
        index = self.lookup(rgb)
        return index if self.clear is None else np.where(self.clear[where], np.uint8(CLEAR), index)

    def blend(self, shape: Shape, colour: np.ndarray, strength: float = 1.0, lasting: bool = False) -> None:
        """Blend into the picture, by the shape's coverage, the colour at ``strength`` over the
        background (so a faint line crossing itself stays as faint). A ``lasting`` mark's
        pixels are clear no more (settle() then brings the indices up to date)."""
        where, coverage = shape
        region = self.rgb[where]
        target = colour if strength >= 1 else self.base[where] + strength * (colour - self.base[where])
        region += coverage[..., None] * (target - region)
        if lasting and self.clear is not None:
            self.clear[where] &= coverage <= 0

    def settle(self, shapes: list[Shape]) -> Region:
        """The indices brought up to date with the picture in one box around the shapes; that box."""
        where = _around([s[0] for s in shapes])
        self.index[where] = self._indices(where, self.rgb[where])
        return where

    def paint(self, shape: Shape | None, colour: np.ndarray, strength: float = 1.0) -> Region | None:
        """Blend for good (see blend); the region painted."""
        if shape is None:
            return None
        self.blend(shape, colour, strength, lasting=True)
        return self.settle([shape])


class _Overlay:
    """Marks drawn over a layer for one frame: painted into its picture, read into a copy of
    its indices, then taken away again."""

    def __init__(self, layer: _Layer, texts: dict) -> None:
        self.layer = layer
        self.saved: list[tuple[Region, np.ndarray]] = []
        self.texts = texts  # (text, place, look) -> the pixels under it and drawn: a frame's text is mostly the last's

    def cover(self, shapes: list[Shape | None]) -> None:
        """Keep what is under the shapes (one box around them all), to put it back."""
        shapes = [s for s in shapes if s is not None]
        if shapes:
            where = _around([s[0] for s in shapes])
            self.saved.append((where, self.layer.rgb[where].copy()))

    def paint(self, shape: Shape | None, colour: np.ndarray, strength: float = 1.0) -> None:
        """Blend (see _Layer.blend) inside what cover() kept."""
        if shape is not None:
            self.layer.blend(shape, colour, strength)

    def text(self, text: str, at: tuple[float, float], colour: str, halo: str | None, font: ImageFont.FreeTypeFont,
             align: str = "center") -> None:
        """Antialiased text, its first line's top left at ``at`` (as pillow draws it), with a halo if given."""
        key = (text, at, colour, halo, font.size, align)
        kept = self.texts.get(key)
        if kept is None:
            stroke = 3 if halo else 0
            left, top, right, bottom = _MEASURE.multiline_textbbox(at, text, font=font, stroke_width=stroke,
                                                                   align=align)
            kept = (_region(left, right, top, bottom, self.layer.rgb.shape), None, None)
        where = kept[0]
        if where is None:
            return
        under = self.layer.rgb[where].copy()
        self.saved.append((where, under))
        if kept[1] is None or not np.array_equal(kept[1], under):
            y0, x0 = where[0].start, where[1].start
            region = Image.fromarray(np.clip(under, 0, 255).astype(np.uint8))
            ImageDraw.Draw(region).multiline_text((at[0] - x0, at[1] - y0), text, font=font, fill=colour, align=align,
                                                  stroke_width=3 if halo else 0, stroke_fill=halo)
            kept = self.texts[key] = (where, under, np.asarray(region, dtype=np.float32))
        self.layer.rgb[where] = kept[2]

    def finish(self) -> tuple[np.ndarray, list[Region]]:
        """The layer's indices with the marks in them, and their regions; the picture as it was."""
        index = self.layer.index.copy()
        for where, _ in self.saved:
            index[where] = self.layer._indices(where, self.layer.rgb[where])
        for where, before in reversed(self.saved):
            self.layer.rgb[where] = before
        return index, [where for where, _ in self.saved]


_MEASURE = ImageDraw.Draw(Image.new("RGB", (1, 1)))  # for text sizes


def _segment(a: np.ndarray, b: np.ndarray, width: float, shape: tuple[int, ...]) -> Shape | None:
    """A round-capped stroke from a to b: its region and each pixel's coverage."""
    ax, ay, bx, by = float(a[0]), float(a[1]), float(b[0]), float(b[1])
    if not math.isfinite(ax + ay + bx + by):
        return None
    pad = width / 2 + 1.5
    where = _region(min(ax, bx) - pad, max(ax, bx) + pad, min(ay, by) - pad, max(ay, by) + pad, shape)
    if where is None:
        return None
    xs, ys = _centres(where)
    dx, dy = bx - ax, by - ay
    length = dx * dx + dy * dy
    if length > 0:  # the nearest point of the segment to each pixel, as a share of the way from a to b
        t = ((xs - ax) * (dx / length) + (ys - ay) * (dy / length)).clip(0, 1)
        distance = np.hypot(xs - ax - t * dx, ys - ay - t * dy)
    else:
        distance = np.hypot(xs - ax, ys - ay)
    return where, (width / 2 + 0.5 - distance).clip(0, 1)


def _disc(centre: np.ndarray, radius: float, shape: tuple[int, ...]) -> Shape | None:
    cx, cy = float(centre[0]), float(centre[1])
    where = _region(cx - radius - 1, cx + radius + 1, cy - radius - 1, cy + radius + 1, shape)
    if where is None:
        return None
    xs, ys = _centres(where)
    return where, (radius + 0.5 - np.hypot(xs - cx, ys - cy)).clip(0, 1)


def _centres(where: Region) -> tuple[np.ndarray, np.ndarray]:
    """The pixel centres of a region: x as a row, y as a column (they broadcast to its shape)."""
    return (np.arange(where[1].start, where[1].stop, dtype=np.float32)[None, :] + 0.5,
            np.arange(where[0].start, where[0].stop, dtype=np.float32)[:, None] + 0.5)


def _around(regions: list[Region]) -> Region:
    """One box around every region."""
    return (slice(min(r[0].start for r in regions), max(r[0].stop for r in regions)),
            slice(min(r[1].start for r in regions), max(r[1].stop for r in regions)))


def _region(x0: float, x1: float, y0: float, y1: float, shape: tuple[int, ...]) -> Region | None:
    height, width = shape[:2]
    x0, x1 = max(0, int(np.floor(x0))), min(width, int(np.ceil(x1)))
    y0, y1 = max(0, int(np.floor(y0))), min(height, int(np.ceil(y1)))
    return (slice(y0, y1), slice(x0, x1)) if x1 > x0 and y1 > y0 else None


class _Lookup:
    """RGB to the nearest palette entry, at 5 bits a channel, each colour worked out the first
    time it is met (a picture meets a few thousand of the 32,768)."""

    def __init__(self, table: np.ndarray) -> None:
        self.entries = table.astype(np.float32)
        self.nearest = np.full(1 << 15, -1, dtype=np.int16)

    def __call__(self, rgb: np.ndarray) -> np.ndarray:
        q = rgb.clip(0, 255).astype(np.uint16) >> 3
        codes = (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]
        found = self.nearest[codes]
        if (found < 0).any():
            missing = np.unique(codes[found < 0])
            centres = np.stack([(missing >> 10) & 31, (missing >> 5) & 31, missing & 31], axis=1) * 8.0 + 4
            distances = ((centres[:, None, :] - self.entries[None]) ** 2).sum(axis=-1)
            self.nearest[missing] = distances.argmin(axis=1)
            found = self.nearest[codes]
        return found.astype(np.uint8)
