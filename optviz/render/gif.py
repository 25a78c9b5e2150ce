"""Animated GIFs of paths: matplotlib draws the still background once, numpy draws each frame.

The background is the still picture without its paths (landscape, colour bar, legend,
titles: the same look at the same size). The paths are then drawn step by step as
antialiased strokes into an RGB copy of it, and each touched region is mapped onto one
shared 256-colour palette (taken from the finished picture) through a lookup table, so
every frame is a palette image that differs from the last only where a path moved, and
pillow stores only that. Pacing follows the run: a short lesson plays at a few frames per
second, a long run at up to 20, and frames where nothing moves by a pixel are dropped.
"""

from __future__ import annotations

import base64
import io
import math
from dataclasses import dataclass, replace
from numbers import Real
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.colors import to_rgb
from PIL import GifImagePlugin, Image, ImageDraw, ImageFont

from ..core.errors import BadInput
from ..core.files import atomic, writable_path
from ..core.limits import (MAX_FPS, MAX_FRAMES, MAX_GIF_PIXELS, MAX_HOLD, MIN_FPS, MIN_FRAMES, MIN_GIF_BYTES,
                           check_memory)
from ..core.simulation.result import Result
from .canvas import figure, titled
from .figures import panel_grid, shared_frame
from .frames import exit_point, ink
from .kinds import GIF_PANELS
from .style import Size, Theme, get_theme, screen_size
from .trajectories import Trace, clear_label, divergence_text, draw, drawable, legend_label, path_colours, scene, two_lines

TRANSPARENT = 255  # the palette index no colour takes: a frame's unchanged pixels
CLEAR = 254  # in a transparent GIF, the index of the pixels with nothing behind them
GIF_BYTES_PER_PIXEL = 56  # the peak while a GIF is composed: measured 46 to 50 (frames are streamed)


@dataclass(frozen=True)
class Animation:
    """A written GIF. Shows itself inline in a notebook: animated where HTML is shown, and
    as its last frame (a PNG) where only images are (PDF exports, static viewers)."""

    path: Path
    frames: int
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
    hold: float = 1.5,
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
) -> Animation:
    """Write an animated GIF of every path advancing together; returns an Animation.

    ``size`` is the whole GIF's, laid out as the still of that size: a named size at two
    thirds of the still's dpi (the slide is 1280x720: a GIF has no dpi, and it stays
    quick to make and small) unless ``dpi`` says otherwise; ``scale`` as for stills. On
    ``background`` (a colour) if given; ``transparent``: the pixels of the background
    colour show what is behind the GIF (one palette index; edges stay blended with the
    background colour, paths' heads stop at it, the step counter sits on a plate of it).
    ``fps`` defaults
    to the run's own pace: a quarter of the steps per second, from 2.5 (a 10-step lesson
    takes 4 s) to 20. ``every=k`` draws every k-th step and ``max_frames`` caps the frame
    count (steps are then spread evenly); frames where no path moves by a pixel are dropped;
    the last frame is held ``hold`` seconds and the GIF loops. ``panels="optimizer"`` gives
    each optimizer its own panel, on identical axes with the others faint where their frames
    are alike; "auto" (the default) does so for four or more optimizers from one start. With ``max_bytes`` the
    palette and then the frame count shrink until the file fits. ``palette`` and ``title`` as
    for stills; ``bounds`` frames it as it frames a still.
    """
    result = drawable(result)
    path = writable_path(path, ("gif",))
    _check_options(fps, every, max_frames, hold, panels, max_bytes)
    size = check_gif_size(screen_size(size, dpi, scale))
    fps = float(fps) if fps is not None else min(20.0, max(2.5, result.steps / 4))
    film = _Film(result, panels, get_theme(theme, background, transparent), size, title, palette, bounds)
    steps = film.moving(_frame_steps(result.steps, every, max_frames))
    colours = CLEAR if transparent else TRANSPARENT  # indices left free: a frame's unchanged pixels (and clear ones)
    while True:
        data = film.encode(steps, colours, fps, hold)
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
    return Animation(path, len(steps), len(steps) / fps + hold, film.width, film.height)


def check_gif_size(size: Size) -> Size:
    """The size, if a GIF of it is within MAX_GIF_PIXELS and the memory budget."""
    if size.width * size.height > MAX_GIF_PIXELS:
        raise BadInput(f"a {size.width}x{size.height} GIF has {size.width * size.height:,} pixels a frame; at most "
                       f"{MAX_GIF_PIXELS:,} (4000x4000)")
    check_memory(GIF_BYTES_PER_PIXEL * size.width * size.height, f"a {size.width}x{size.height} GIF", "use a smaller size")
    return size


def _check_options(fps: Any, every: Any, max_frames: Any, hold: Any, panels: Any, max_bytes: Any) -> None:
    def number(value: Any) -> bool:
        return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)

    if fps is not None and not (number(fps) and MIN_FPS <= fps <= MAX_FPS):
        raise ValueError(f"fps must be a number from {MIN_FPS} to {MAX_FPS}, got {fps!r}")
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ValueError(f"every must be a whole number >= 1, got {every!r}")
    if max_frames is not None and (not isinstance(max_frames, int) or isinstance(max_frames, bool)
                                   or not MIN_FRAMES <= max_frames <= MAX_FRAMES):
        raise ValueError(f"max_frames must be a whole number from {MIN_FRAMES} to {MAX_FRAMES}, got {max_frames!r}")
    if not (number(hold) and 0 <= hold <= MAX_HOLD):
        raise ValueError(f"hold must be a number of seconds from 0 to {MAX_HOLD}, got {hold!r}")
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


class _Film:
    """The background, each path in pixels, and the palette: ready to compose frames."""

    def __init__(self, result: Result, panels: str, theme: Theme, size: Size, title: str | None,
                 palette: dict[str, str] | None = None, bounds: Any = None) -> None:
        self.result, self.theme = result, theme
        opaque = replace(theme, transparent=False)  # edges blend with the background colour
        names = list(result.optimizers)
        n = result.n_starts
        if panels == "auto":  # as the stills: small multiples for four or more optimizers from one start
            panels = "optimizer" if result.function.dim == 2 and len(names) >= 4 and n == 1 else "single"
        groups = [list(range(result.positions.shape[1]))] if panels == "single" else \
            [list(range(k * n, (k + 1) * n)) for k in range(len(names))]
        subsets = [result] if panels == "single" else [result.select([name]) for name in names]
        fig, axes = figure(opaque, size, 1, 1) if panels == "single" else figure(
            opaque, size, *panel_grid(len(groups), result, size))
        self.traces: dict[int, Trace] = {}
        self.axes_of: dict[int, Any] = {}
        titled(fig, title, centre=False)  # first: the frames and the legend are fitted to the room it leaves
        with matplotlib.rc_context(fig.optviz_rc):
            box = None if panels == "single" else shared_frame(result, "paths", axes.flat[0], bounds)
            for ax, group, subset in zip(axes.flat, groups, subsets):
                if panels == "single":
                    _, laid = scene(result, ax, theme, palette=palette, starts=False, bounds=bounds)
                elif box is not None:  # identical axes: the other paths faint behind this one's
                    _, laid = scene(result, ax, theme, highlight=group, box=box, legend=False, colorbar=False,
                                    palette=palette)
                    draw(ax, [t for t in laid if t.index not in group], theme, result.steps, faint=True)
                else:  # frames too unlike to share: each panel its own
                    _, laid = scene(subset, ax, theme, legend=False, colorbar=False, bounds=bounds,
                                    palette={k: v for k, v in {**path_colours(result, theme), **(palette or {})}.items()
                                             if k in subset.optimizers})
                    laid = [replace(t, index=group[t.index]) for t in laid]
                if panels != "single":
                    own = next(t for t in laid if t.index == group[0])
                    ax.set_title(two_lines(legend_label(result, result.names[group[0]])), fontsize="medium",
                                 color=own.colour)
                for trace in laid:
                    if trace.index in group:
                        self.traces[trace.index] = trace
                        self.axes_of[trace.index] = ax
            for ax in axes.flat[len(groups):]:
                ax.set_visible(False)
            titled(fig, title)
            self.labels = self._divergence_labels()
            fig.canvas.draw()
        self.background = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(np.float32)
        self.height, self.width = self.background.shape[:2]
        self.pixels = {b: self._to_pixels(b) for b in self.traces}
        scale = size.pixels_per_point
        self.stroke = max(2.5, fig.optviz_rc["lines.linewidth"] * 1.25 * scale)
        self.head = self.stroke * 1.9
        self.font = ImageFont.truetype(font_manager.findfont("DejaVu Sans"), round(size.font * 0.95 * scale))
        bold = font_manager.findfont(font_manager.FontProperties(family="DejaVu Sans", weight="bold"))
        # each runaway label in the size it was placed at: a narrow panel's smaller
        self.labels = {b: (text, centre, colour, ImageFont.truetype(bold, round(points * scale)))
                       for b, (text, centre, colour, points) in self.labels.items()}
        self.counter_at = (self.width - 10, self.height - 8)  # the bottom right corner, clear of the axes
        self.clear = self._clear()

    def _clear(self) -> np.ndarray | None:
        """In a transparent GIF, the pixels of the background colour, but for a plate under
        the step counter (its text changes, and a GIF cannot make a pixel clear again)."""
        if not self.theme.transparent:
            return None
        colour = np.round(255 * np.array(to_rgb(self.theme.background), dtype=np.float32))
        clear = (np.round(self.background) == colour).all(axis=-1)
        widest = f"step {self.result.steps}/{self.result.steps}"
        left, top, right, bottom = _MEASURE.textbbox((0, 0), widest, font=self.font)
        x, y = self.counter_at[0] - right, self.counter_at[1] - bottom
        clear[max(0, math.floor(y + top) - 2):, max(0, math.floor(x + left) - 2):] = False
        return clear

    def _to_pixels(self, b: int) -> np.ndarray:
        """Path b in image pixels (x right, y down); NaN where it has no point."""
        display = self.axes_of[b].transData.transform(self.traces[b].xy)
        return np.column_stack([display[:, 0], self.height - display[:, 1]]) if len(display) else display

    def _divergence_labels(self) -> dict[int, tuple[str, tuple[float, float], str, float]]:
        """Where each runaway path's label goes (placed as on the still, then lifted off so
        that it appears only once the path has run away): text, pixel centre, colour, points."""
        found = {}
        taken: list = []
        if not (self.result.diverged_at >= 0).any():
            return found
        next(iter(self.axes_of.values())).figure.draw_without_rendering()  # measured where they end up
        for b, trace in self.traces.items():
            step = int(self.result.diverged_at[b])
            ax = self.axes_of[b]
            (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
            where = exit_point(trace.xy, (x0, x1, y0, y1)) if step >= 0 else None
            if where is None:
                continue
            words = divergence_text(ax, step, bool(self.result.function.minima))
            covered = ink(ax, [t.xy for c, t in self.traces.items() if self.axes_of[c] is ax])
            text = clear_label(ax, words, where, taken, covered)
            box = text.get_window_extent(ax.figure.canvas.get_renderer())
            found[b] = (text.get_text(), ((box.x0 + box.x1) / 2, ax.figure.bbox.height - (box.y0 + box.y1) / 2),
                        trace.colour, text.get_fontsize())
            text.remove()
        return found

    def moving(self, steps: list[int]) -> list[int]:
        """The steps worth a frame: the first, the last, and those where some path's current
        point has moved a pixel or more since the last frame kept."""
        kept = [steps[0]]
        for step in steps[1:-1]:
            moved = max((np.nan_to_num(np.abs(self._head(b, step) - self._head(b, kept[-1])), nan=1e9).max()
                         for b in self.traces), default=0.0)
            if moved >= 1.0:
                kept.append(step)
        return kept + [steps[-1]] if steps[-1] != kept[-1] else kept

    def _head(self, b: int, step: int) -> np.ndarray:
        """Path b's current point at ``step``: its last finite pixel up to then; none once
        the path has run out of the frame."""
        points = self.pixels[b][: step + 1]
        finite = np.flatnonzero(np.isfinite(points).all(axis=1))
        if not len(finite) or (self.traces[b].left and finite[-1] == np.isfinite(self.pixels[b]).all(axis=1).sum() - 1):
            return np.array([np.nan, np.nan])
        return points[finite[-1]]

    # --- composing ---------------------------------------------------------------------------

    def encode(self, steps: list[int], colours: int, fps: float, hold: float) -> bytes:
        """The GIF: the first frame whole, then each frame as the box of what changed, its
        unchanged pixels transparent (so they show the frame before)."""
        palette, lookup = self._palette(colours)
        history = _Layer(self.background.copy(), lookup, self.clear)
        out = io.BytesIO()
        shown, overlay, drawn_to = None, [], 0
        durations = [round(1000 / fps)] * len(steps)
        durations[-1] += round(1000 * hold)
        # the step counter changes at most five times a second, on the last frame too: it stays readable,
        # and most frames then hold only what moved
        every = max(1, round(fps / 5))
        counted = {step for k, step in enumerate(steps) if k % every == 0} | {steps[-1]}
        counter = steps[0]
        for step, duration in zip(steps, durations):
            counter = step if step in counted else counter
            touched = list(overlay)  # last frame's heads and texts go away
            for t in range(drawn_to + 1, step + 1):
                for b in self.traces:
                    a, c = self.pixels[b][t - 1], self.pixels[b][t]
                    if np.isfinite(a).all() and np.isfinite(c).all():
                        touched.append(history.paint(_segment(a, c, self.stroke, history.rgb.shape), self._colour(b)))
            drawn_to = max(drawn_to, step)
            index, overlay = self._frame(history, step, counter)
            if shown is None:
                image = _image(index, palette)
                header, _ = GifImagePlugin.getheader(image, info={"loop": 0, "duration": duration})
                out.write(b"".join(header))
                clear = {"transparency": CLEAR} if self.clear is not None else {}
                out.write(b"".join(GifImagePlugin.getdata(image, duration=duration, disposal=1, **clear)))
            else:
                out.write(_delta(shown, index, touched + overlay, palette, duration))
            shown = index
        out.write(b";")
        return out.getvalue()

    def _colour(self, b: int) -> np.ndarray:
        return 255 * np.array(to_rgb(self.traces[b].colour), dtype=np.float32)

    def _frame(self, history: "_Layer", step: int, counter: int) -> tuple[np.ndarray, list]:
        """The frame's palette indices: the history with each path's current point, the step
        counter (at ``counter``) and, once a path has run away, its label; and the regions
        those cover."""
        index = history.index.copy()
        outline = 255 * np.array(to_rgb(self.theme.outline), dtype=np.float32)
        overlay = []
        for b in self.traces:
            head = self._head(b, step)
            if np.isfinite(head).all():
                overlay.append(history.stamp(index, head, self.head, self._colour(b), outline))
        texts = [(f"step {counter}/{self.result.steps}", self.counter_at, self.theme.foreground, None, "rd", self.font,
                  False)]
        # a runaway path's label stays once shown: it may cover clear pixels for good
        texts += [(text, centre, colour, self.theme.outline, "mm", font, True)
                  for b, (text, centre, colour, font) in self.labels.items() if 0 <= int(self.result.diverged_at[b]) <= step]
        for text, at, colour, halo, anchor, font, lasting in texts:
            overlay.append(history.write(index, text, at, colour, halo, font, anchor, lasting))
        return index, [where for where in overlay if where is not None]

    def _palette(self, colours: int) -> tuple[list[int], "_Lookup"]:
        """A palette for the background and the paths drawn on it (their colours, and their
        antialiased edges: blends with the background under them), with each path's own
        colour, the text and outline colours exactly; and the lookup from RGB to it."""
        exact = [self._colour(b) for b in self.traces]
        exact += [255 * np.array(to_rgb(c), dtype=np.float32)
                  for c in (self.theme.foreground, self.theme.outline, self.theme.background)]
        exact = np.unique(np.round(np.array(exact)).astype(np.uint8), axis=0)
        strokes = [self.background.reshape(-1, 3)]
        for b in self.traces:
            points = self.pixels[b][np.isfinite(self.pixels[b]).all(axis=1)].astype(int)
            points = points[(points[:, 0] >= 0) & (points[:, 0] < self.width)
                            & (points[:, 1] >= 0) & (points[:, 1] < self.height)]
            under = self.background[points[:, 1], points[:, 0]]
            repeat = max(1, round(self.stroke))  # as many samples as the stroke covers pixels, about
            for share in (0.25, 0.5, 0.75, 1.0):
                strokes.append(np.repeat(under + share * (self._colour(b) - under), repeat, axis=0))
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


def _image(index: np.ndarray, palette: list[int]) -> Image.Image:
    image = Image.frombuffer("P", (index.shape[1], index.shape[0]), np.ascontiguousarray(index), "raw", "P", 0, 1)
    image.putpalette(palette)
    return image


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
        y0, y1, x0, x1 = y0 + rows[0], y0 + rows[-1] + 1, x0 + cols[0], x0 + cols[-1] + 1
    crop = np.where(shown[y0:y1, x0:x1] == index[y0:y1, x0:x1], TRANSPARENT, index[y0:y1, x0:x1]).astype(np.uint8)
    data = GifImagePlugin.getdata(_image(crop, palette), offset=(int(x0), int(y0)), duration=duration, disposal=1,
                                  transparency=TRANSPARENT)
    return b"".join(data)


Region = tuple[slice, slice]


class _Layer:
    """An RGB picture and its palette indices, kept in step region by region."""

    def __init__(self, rgb: np.ndarray, lookup: "_Lookup", clear: np.ndarray | None = None) -> None:
        self.rgb, self.lookup = rgb, lookup
        self.clear = clear.copy() if clear is not None else None  # pixels with nothing behind them, as yet
        self.index = self._indices((slice(None), slice(None)), rgb)

    def _indices(self, where: Region, rgb: np.ndarray) -> np.ndarray:
        """The palette indices of RGB pixels at ``where``: CLEAR where they are clear."""
        index = self.lookup(rgb)
        return index if self.clear is None else np.where(self.clear[where], np.uint8(CLEAR), index)

    def paint(self, shape: tuple[tuple[slice, slice], np.ndarray] | None, colour: np.ndarray) -> Region | None:
        """Blend colour into the picture by the shape's coverage (0 to 1 per pixel)."""
        if shape is None:
            return None
        where, coverage = shape
        region = self.rgb[where]
        region += coverage[..., None] * (colour - region)
        if self.clear is not None:  # a path, once drawn, stays: its pixels are clear no more
            self.clear[where] &= coverage <= 0
        self.index[where] = self._indices(where, region)
        return where

    def stamp(self, index: np.ndarray, centre: np.ndarray, radius: float, colour: np.ndarray,
              outline: np.ndarray) -> Region | None:
        """A dot with an outline into a frame's ``index``, leaving the picture as it is (and
        its clear pixels: the dot moves on, and a GIF cannot clear them again)."""
        ring = _disc(centre, radius + 1.5, self.rgb.shape)
        if ring is None:
            return None
        where, coverage = ring
        region = self.rgb[where].copy()
        region += coverage[..., None] * (outline - region)
        inner = _disc(centre, radius, self.rgb.shape)
        inner_coverage = np.zeros_like(coverage)
        (ys, xs), values = inner[0], inner[1]
        inner_coverage[ys.start - where[0].start: ys.stop - where[0].start,
                       xs.start - where[1].start: xs.stop - where[1].start] = values
        region += inner_coverage[..., None] * (colour - region)
        index[where] = self._indices(where, region)
        return where

    def write(self, index: np.ndarray, text: str, at: tuple[float, float], colour: str, halo: str | None,
              font: ImageFont.FreeTypeFont, anchor: str, lasting: bool = False) -> Region | None:
        """Antialiased text, one or more centred lines (with a halo, if given), into a frame's
        ``index``, leaving the picture as it is; over clear pixels only if it is ``lasting``
        (in every frame from now on). ``anchor``: "mm" (centred on ``at``) or "rd" (its
        bottom right corner at ``at``)."""
        height, width = index.shape
        stroke = 3 if halo else 0
        left, top, right, bottom = _MEASURE.multiline_textbbox((0, 0), text, font=font, stroke_width=stroke,
                                                               align="center")
        x = at[0] - (right + left) / 2 if anchor == "mm" else at[0] - right
        y = at[1] - (bottom + top) / 2 if anchor == "mm" else at[1] - bottom
        x0, y0 = max(0, math.floor(x + left)), max(0, math.floor(y + top))
        x1, y1 = min(width, math.ceil(x + right)), min(height, math.ceil(y + bottom))
        if x1 <= x0 or y1 <= y0:
            return None
        under = np.clip(self.rgb[y0:y1, x0:x1], 0, 255).astype(np.uint8)
        region = Image.fromarray(under)
        ImageDraw.Draw(region).multiline_text((x - x0, y - y0), text, font=font, fill=colour, align="center",
                                              stroke_width=stroke, stroke_fill=halo)
        where = slice(y0, y1), slice(x0, x1)
        drawn = np.asarray(region)
        index[where] = self._indices(where, drawn.astype(np.float32))
        if lasting and self.clear is not None:  # the text's own pixels, not its box
            inked = (drawn != under).any(axis=-1)
            index[where] = np.where(inked, self.lookup(drawn.astype(np.float32)), index[where])
        return where


_MEASURE = ImageDraw.Draw(Image.new("RGB", (1, 1)))  # for text sizes


def _segment(a: np.ndarray, b: np.ndarray, width: float, shape: tuple[int, ...]):
    """A round-capped stroke from a to b: its region and each pixel's coverage."""
    pad = width / 2 + 1.5
    where = _region(min(a[0], b[0]) - pad, max(a[0], b[0]) + pad, min(a[1], b[1]) - pad, max(a[1], b[1]) + pad, shape)
    if where is None:
        return None
    ys, xs = np.mgrid[where[0], where[1]].astype(np.float32) + 0.5
    d = b - a
    length = float(d @ d)
    t = np.clip(((xs - a[0]) * d[0] + (ys - a[1]) * d[1]) / length, 0, 1) if length > 0 else 0.0
    distance = np.hypot(xs - (a[0] + t * d[0]), ys - (a[1] + t * d[1]))
    return where, np.clip(width / 2 + 0.5 - distance, 0, 1)


def _disc(centre: np.ndarray, radius: float, shape: tuple[int, ...]):
    where = _region(centre[0] - radius - 1, centre[0] + radius + 1, centre[1] - radius - 1, centre[1] + radius + 1,
                    shape)
    if where is None:
        return None
    ys, xs = np.mgrid[where[0], where[1]].astype(np.float32) + 0.5
    return where, np.clip(radius + 0.5 - np.hypot(xs - centre[0], ys - centre[1]), 0, 1)


def _region(x0: float, x1: float, y0: float, y1: float, shape: tuple[int, ...]) -> tuple[slice, slice] | None:
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
        q = np.clip(rgb, 0, 255).astype(np.uint16) >> 3
        codes = (q[..., 0] << 10) | (q[..., 1] << 5) | q[..., 2]
        missing = np.unique(codes[self.nearest[codes] < 0])
        if len(missing):
            centres = np.stack([(missing >> 10) & 31, (missing >> 5) & 31, missing & 31], axis=1) * 8.0 + 4
            distances = ((centres[:, None, :] - self.entries[None]) ** 2).sum(axis=-1)
            self.nearest[missing] = distances.argmin(axis=1)
        return self.nearest[codes].astype(np.uint8)
