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
from dataclasses import dataclass
from numbers import Real
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.colors import to_rgb
from PIL import Image, ImageDraw, ImageFont

from ..files import atomic, writable_path
from ..result import Result
from .canvas import figure
from .frames import exit_point, place
from .style import Size, Theme, get_size, get_theme
from .trajectories import Trace, _check, divergence_text, draw, scene

PANELS = ("single", "optimizer")
MAX_FRAMES = 2000
MAX_FPS = 50  # GIF delays are in hundredths of a second: faster is not kept by viewers


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
    panels: str = "single",
    theme: str | Theme = "light",
    size: Any = "slide",
    max_bytes: int | None = None,
    title: str | None = None,
) -> Animation:
    """Write an animated GIF of every path advancing together; returns an Animation.

    ``size`` is the whole GIF's, as for stills (default "slide", 1280x720). ``fps`` defaults
    to the run's own pace: a quarter of the steps per second, from 2.5 (a 10-step lesson
    takes 4 s) to 20. ``every=k`` draws every k-th step and ``max_frames`` caps the frame
    count (steps are then spread evenly); frames where no path moves by a pixel are dropped;
    the last frame is held ``hold`` seconds and the GIF loops. ``panels="optimizer"`` gives
    each optimizer its own panel on identical axes, the others faint. With ``max_bytes`` the
    palette and then the frame count shrink until the file fits.
    """
    result = _check(result)
    path = writable_path(path, ("gif",))
    _check_options(fps, every, max_frames, hold, panels, max_bytes)
    size = get_size(size)
    fps = float(fps) if fps is not None else min(20.0, max(2.5, result.steps / 4))
    film = _Film(result, panels, get_theme(theme), size, title)
    steps = film.moving(_frame_steps(result.steps, every, max_frames))
    colours = 255  # one index stays free: pillow marks a frame's unchanged pixels with it
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


def _check_options(fps: Any, every: Any, max_frames: Any, hold: Any, panels: Any, max_bytes: Any) -> None:
    def number(value: Any) -> bool:
        return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)

    if fps is not None and not (number(fps) and 0.5 <= fps <= MAX_FPS):
        raise ValueError(f"fps must be a number from 0.5 to {MAX_FPS}, got {fps!r}")
    if not isinstance(every, int) or isinstance(every, bool) or every < 1:
        raise ValueError(f"every must be a whole number >= 1, got {every!r}")
    if max_frames is not None and (not isinstance(max_frames, int) or isinstance(max_frames, bool)
                                   or not 2 <= max_frames <= MAX_FRAMES):
        raise ValueError(f"max_frames must be a whole number from 2 to {MAX_FRAMES}, got {max_frames!r}")
    if not (number(hold) and 0 <= hold <= 60):
        raise ValueError(f"hold must be a number of seconds from 0 to 60, got {hold!r}")
    if panels not in PANELS:
        raise ValueError(f"panels must be one of {', '.join(PANELS)}, got {panels!r}")
    if max_bytes is not None and (not isinstance(max_bytes, int) or isinstance(max_bytes, bool) or max_bytes < 1024):
        raise ValueError(f"max_bytes must be a whole number >= 1024, got {max_bytes!r}")


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

    def __init__(self, result: Result, panels: str, theme: Theme, size: Size, title: str | None) -> None:
        self.result, self.theme = result, theme
        names = list(result.optimizers)
        n = result.n_starts
        groups = [None] if panels == "single" else [list(range(k * n, (k + 1) * n)) for k in range(len(names))]
        ncols = min(len(groups), 3)
        fig, axes = figure(theme, size, -(-len(groups) // ncols), ncols)
        self.traces: dict[int, Trace] = {}
        self.axes_of: dict[int, Any] = {}
        box = None
        with matplotlib.rc_context(fig.optviz_rc):
            for ax, group in zip(axes.flat, groups):
                box, laid = scene(result, ax, theme, highlight=group, box=box, legend=group is None,
                                  colorbar=group is None)
                if group is not None:
                    draw(ax, [t for t in laid if t.index not in group], theme, result.steps, faint=True)
                    ax.set_title(laid[[t.index for t in laid].index(group[0])].label or "", fontsize="medium",
                                 color=laid[[t.index for t in laid].index(group[0])].colour)
                for trace in laid:
                    if group is None or trace.index in group:
                        self.traces[trace.index] = trace
                        self.axes_of[trace.index] = ax
            for ax in axes.flat[len(groups):]:
                ax.set_visible(False)
            if title:
                fig.suptitle(title)
            self.labels = self._divergence_labels(box)
            fig.canvas.draw()
        self.background = np.asarray(fig.canvas.buffer_rgba())[..., :3].astype(np.float32)
        self.height, self.width = self.background.shape[:2]
        self.pixels = {b: self._to_pixels(b) for b in self.traces}
        scale = size.dpi / 72
        self.stroke = max(2.5, fig.optviz_rc["lines.linewidth"] * 1.25 * scale)
        self.head = self.stroke * 1.9
        self.font = ImageFont.truetype(font_manager.findfont("DejaVu Sans"), round(size.font * 0.95 * scale))
        bold = font_manager.FontProperties(family="DejaVu Sans", weight="bold")
        self.bold = ImageFont.truetype(font_manager.findfont(bold), round(size.font * scale))
        self.counter_at = (self.width - 10, self.height - 8)  # the bottom right corner, clear of the axes

    def _to_pixels(self, b: int) -> np.ndarray:
        """Path b in image pixels (x right, y down); NaN where it has no point."""
        display = self.axes_of[b].transData.transform(self.traces[b].xy)
        return np.column_stack([display[:, 0], self.height - display[:, 1]]) if len(display) else display

    def _divergence_labels(self, box: Any) -> dict[int, tuple[str, tuple[float, float], str]]:
        """Where each runaway path's label goes (placed as on the still, then lifted off so
        that it appears only once the path has run away): text, pixel centre, colour."""
        found = {}
        taken: list = []
        next(iter(self.axes_of.values())).figure.draw_without_rendering()  # measured where they end up
        for b, trace in self.traces.items():
            step = int(self.result.diverged_at[b])
            ax = self.axes_of[b]
            (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
            where = exit_point(trace.xy, (x0, x1, y0, y1)) if step >= 0 else None
            if where is None:
                continue
            text = place(ax, divergence_text(ax, step), where, taken, fontweight="bold")
            box = text.get_window_extent(ax.figure.canvas.get_renderer())
            found[b] = (text.get_text(), ((box.x0 + box.x1) / 2, ax.figure.bbox.height - (box.y0 + box.y1) / 2),
                        trace.colour)
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
        """Path b's current point at ``step``: its last finite pixel up to then."""
        points = self.pixels[b][: step + 1]
        finite = np.flatnonzero(np.isfinite(points).all(axis=1))
        return points[finite[-1]] if len(finite) else np.array([np.nan, np.nan])

    # --- composing ---------------------------------------------------------------------------

    def encode(self, steps: list[int], colours: int, fps: float, hold: float) -> bytes:
        palette, lookup = self._palette(colours)
        history = _Layer(self.background.copy(), lookup)
        drawn_to = 0
        frames = []
        for step in steps:
            for t in range(drawn_to + 1, step + 1):
                for b in self.traces:
                    a, c = self.pixels[b][t - 1], self.pixels[b][t]
                    if np.isfinite(a).all() and np.isfinite(c).all():
                        history.paint(_segment(a, c, self.stroke, history.rgb.shape), self._colour(b))
            drawn_to = max(drawn_to, step)
            frames.append(self._frame(history, step, palette))
        durations = [round(1000 / fps)] * len(frames)
        durations[-1] += round(1000 * hold)
        out = io.BytesIO()
        frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=durations, loop=0,
                       optimize=True, disposal=1)
        return out.getvalue()

    def _colour(self, b: int) -> np.ndarray:
        return 255 * np.array(to_rgb(self.traces[b].colour), dtype=np.float32)

    def _frame(self, history: "_Layer", step: int, palette: list[int]) -> Image.Image:
        """The history with each path's current point and, once a path has run away, its label."""
        index = history.index.copy()
        outline = 255 * np.array(to_rgb(self.theme.outline), dtype=np.float32)
        for b in self.traces:
            head = self._head(b, step)
            if np.isfinite(head).all():
                history.stamp(index, head, self.head, self._colour(b), outline)
        texts = [(f"step {step}/{self.result.steps}", self.counter_at, self.theme.foreground, "rd", self.font)]
        texts += [(text, centre, colour, "mm", self.bold) for b, (text, centre, colour) in self.labels.items()
                  if 0 <= int(self.result.diverged_at[b]) <= step]
        for text, at, colour, anchor, font in texts:
            history.write(index, text, at, colour, self.theme.outline, font, anchor)
        image = Image.frombuffer("P", (self.width, self.height), index.tobytes(), "raw", "P", 0, 1)
        image.putpalette(palette)
        return image

    def _palette(self, colours: int) -> tuple[list[int], np.ndarray]:
        """A palette from the finished picture (every path drawn), with each path's own colour,
        the text and outline colours exactly; and the lookup from 5-bit RGB to it."""
        finished = _Layer(self.background.copy(), None)
        for b in self.traces:
            for a, c in zip(self.pixels[b][:-1], self.pixels[b][1:]):
                if np.isfinite(a).all() and np.isfinite(c).all():
                    finished.paint(_segment(a, c, self.stroke, finished.rgb.shape), self._colour(b))
        exact = [self._colour(b) for b in self.traces]
        exact += [255 * np.array(to_rgb(c), dtype=np.float32)
                  for c in (self.theme.foreground, self.theme.outline, self.theme.background)]
        exact = np.unique(np.round(np.array(exact)).astype(np.uint8), axis=0)
        picture = Image.fromarray(np.clip(finished.rgb, 0, 255).astype(np.uint8))
        quantized = picture.quantize(colors=max(2, colours - len(exact)), method=Image.Quantize.MEDIANCUT)
        entries = np.array(quantized.getpalette()[: 3 * (colours - len(exact))], dtype=np.uint8).reshape(-1, 3)
        # entries that nearly repeat an exact colour would take its pixels: let the exact one win
        near = (np.abs(entries[:, None, :].astype(int) - exact[None, :, :].astype(int)).sum(axis=-1) < 24).any(axis=1)
        table = np.concatenate([entries[~near], exact])
        return table.reshape(-1).tolist(), _lookup(table)


class _Layer:
    """An RGB picture and its palette indices, kept in step region by region."""

    def __init__(self, rgb: np.ndarray, lookup: np.ndarray | None) -> None:
        self.rgb, self.lookup = rgb, lookup
        self.index = _indices(rgb, lookup) if lookup is not None else None

    def paint(self, shape: tuple[tuple[slice, slice], np.ndarray] | None, colour: np.ndarray) -> None:
        """Blend colour into the picture by the shape's coverage (0 to 1 per pixel)."""
        if shape is None:
            return
        where, coverage = shape
        region = self.rgb[where]
        region += coverage[..., None] * (colour - region)
        if self.lookup is not None:
            self.index[where] = _indices(region, self.lookup)

    def stamp(self, index: np.ndarray, centre: np.ndarray, radius: float, colour: np.ndarray,
              outline: np.ndarray) -> None:
        """A dot with an outline into a frame's ``index``, leaving the picture as it is."""
        ring = _disc(centre, radius + 1.5, self.rgb.shape)
        if ring is None:
            return
        where, coverage = ring
        region = self.rgb[where].copy()
        region += coverage[..., None] * (outline - region)
        inner = _disc(centre, radius, self.rgb.shape)
        inner_coverage = np.zeros_like(coverage)
        (ys, xs), values = inner[0], inner[1]
        inner_coverage[ys.start - where[0].start: ys.stop - where[0].start,
                       xs.start - where[1].start: xs.stop - where[1].start] = values
        region += inner_coverage[..., None] * (colour - region)
        index[where] = _indices(region, self.lookup)

    def write(self, index: np.ndarray, text: str, at: tuple[float, float], colour: str, halo: str,
              font: ImageFont.FreeTypeFont, anchor: str) -> None:
        """Antialiased text with a halo into a frame's ``index``, leaving the picture as it is."""
        height, width = index.shape
        box = ImageDraw.Draw(Image.new("RGB", (1, 1))).textbbox(at, text, font=font, anchor=anchor, stroke_width=3)
        x0, y0 = max(0, math.floor(box[0])), max(0, math.floor(box[1]))
        x1, y1 = min(width, math.ceil(box[2])), min(height, math.ceil(box[3]))
        if x1 <= x0 or y1 <= y0:
            return
        region = Image.fromarray(np.clip(self.rgb[y0:y1, x0:x1], 0, 255).astype(np.uint8))
        ImageDraw.Draw(region).text((at[0] - x0, at[1] - y0), text, font=font, anchor=anchor, fill=colour,
                                    stroke_width=3, stroke_fill=halo)
        index[y0:y1, x0:x1] = _indices(np.asarray(region, dtype=np.float32), self.lookup)


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


def _lookup(table: np.ndarray) -> np.ndarray:
    """For every colour at 5 bits a channel, the index of the nearest palette entry."""
    levels = (np.arange(32, dtype=np.float32) * 8 + 4)
    grid = np.stack(np.meshgrid(levels, levels, levels, indexing="ij"), axis=-1).reshape(-1, 1, 3)
    entries = table.astype(np.float32).reshape(1, -1, 3)
    nearest = np.empty(len(grid), dtype=np.uint8)
    for start in range(0, len(grid), 4096):
        chunk = grid[start:start + 4096]
        nearest[start:start + 4096] = ((chunk - entries) ** 2).sum(axis=-1).argmin(axis=1)
    return nearest.reshape(32, 32, 32)


def _indices(rgb: np.ndarray, lookup: np.ndarray) -> np.ndarray:
    q = np.clip(rgb, 0, 255).astype(np.uint8) >> 3
    return lookup[q[..., 0], q[..., 1], q[..., 2]]
