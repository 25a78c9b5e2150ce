"""Animated GIFs of paths: matplotlib draws the still background once, pillow draws each frame.

The background (contours, axes, legend, titles) is rendered by matplotlib a single time and
quantized to a palette that keeps spare entries for the paths' colours. Each frame is then a
copy of an indexed image with the paths drawn on it as polylines through the axes' own
data-to-pixel transform, so every frame shares one palette and pillow stores only the pixels
that changed: the same picture as redrawing the figure per frame, far faster and smaller.
"""

from __future__ import annotations

import base64
import io
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import to_rgb
from matplotlib.lines import Line2D
from PIL import Image, ImageDraw, ImageFont

from ..result import Result
from ..files import atomic, writable_path
from .stills import _check, clip_segment, contour, figure, function_curve, legend_label, path_colours
from .style import Theme, get_size, get_theme

TINTS = (1.0, 0.78, 0.6, 0.45)  # the trail fades through these mixes of colour and background


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
    fps: float = 20,
    every: int = 1,
    max_frames: int | None = 200,
    hold: float = 1.5,
    trail: int = 15,
    panels: str = "single",
    theme: str | Theme = "light",
    size: Any = None,
    max_bytes: int | None = None,
) -> Animation:
    """Write an animated GIF of every path advancing together; returns an Animation.

    ``every=k`` draws every k-th step and ``max_frames`` caps the frame count (steps are
    then spread evenly); the last frame is held ``hold`` seconds and the GIF loops.
    ``panels="optimizer"`` gives each optimizer its own panel, in step. ``size`` is the
    whole GIF's (default 640x480, or "slide" with panels). With ``max_bytes`` the palette
    and then the frame count shrink until the file fits.
    """
    result = _check(result)
    path = writable_path(path, ("gif",))
    _check_options(fps, every, max_frames, hold, trail, panels, max_bytes)
    steps = _frame_steps(result.steps, every, max_frames)
    size = get_size(size or ("gif" if panels == "single" else "slide"))
    scene = _Scene(result, panels, get_theme(theme), size, trail)
    colours = 200
    while True:
        data = scene.encode(steps, colours, fps, hold)
        if max_bytes is None or len(data) <= max_bytes:
            break
        if colours > 16:
            colours //= 2
        elif len(steps) > 2:
            steps = steps[:: 2] if steps[::2][-1] == steps[-1] else steps[::2] + [steps[-1]]
        else:
            raise ValueError(f"cannot fit the GIF in {max_bytes} bytes: 2 frames take {len(data)}")
    with atomic(path) as tmp:
        tmp.write_bytes(data)
    duration = len(steps) / fps + hold
    return Animation(path, len(steps), duration, scene.width, scene.height)


def _check_options(fps, every, max_frames, hold, trail, panels, max_bytes) -> None:
    if not 1 <= fps <= 100:
        raise ValueError(f"fps must be between 1 and 100, got {fps}")
    if not isinstance(every, int) or every < 1:
        raise ValueError(f"every must be a whole number >= 1, got {every!r}")
    if max_frames is not None and (not isinstance(max_frames, int) or max_frames < 2):
        raise ValueError(f"max_frames must be a whole number >= 2, got {max_frames!r}")
    if hold < 0:
        raise ValueError(f"hold must be >= 0 seconds, got {hold}")
    if not isinstance(trail, int) or trail < 0:
        raise ValueError(f"trail must be a whole number of steps >= 0, got {trail!r}")
    if panels not in ("single", "optimizer"):
        raise ValueError(f"panels must be 'single' or 'optimizer', got {panels!r}")
    if max_bytes is not None and max_bytes < 1024:
        raise ValueError(f"max_bytes must be at least 1024, got {max_bytes}")


def _frame_steps(steps: int, every: int, max_frames: int | None) -> list[int]:
    chosen = list(range(0, steps + 1, every))
    if chosen[-1] != steps:
        chosen.append(steps)
    if max_frames is not None and len(chosen) > max_frames:
        picks = np.linspace(0, len(chosen) - 1, max_frames).round().astype(int)
        chosen = [chosen[i] for i in np.unique(picks)]
    return chosen


class _Scene:
    """The background, the palette and every path's pixels, ready to compose frames."""

    def __init__(self, result: Result, panels: str, theme: Theme, size: Any, trail: int) -> None:
        self.result, self.theme, self.trail = result, theme, trail
        names = list(result.optimizers)
        groups = [names] if panels == "single" else [[n] for n in names]
        ncols = min(len(groups), 3)
        nrows = -(-len(groups) // ncols)
        fig, axes = figure(theme, size, nrows, ncols)
        colours = path_colours(result)
        self.colours = [colours[n] for n in names]
        with matplotlib.rc_context(fig.optviz_rc):
            for ax, group in zip(axes.flat, groups):
                self._draw_background(ax, group, colours, titled_by_optimizer=len(groups) > 1)
        for ax in axes.flat[len(groups):]:
            ax.set_visible(False)
        canvas = FigureCanvasAgg(fig)
        canvas.draw()
        self.background = Image.fromarray(np.asarray(canvas.buffer_rgba())[..., :3].copy())
        self.width, self.height = self.background.size
        panel_of = {n: i for i, group in enumerate(groups) for n in group}
        self.pixels = [
            _pixel_path(axes.flat[panel_of[name]], self._xy(b), self.height)
            for b, name in enumerate(result.names)
        ]
        self.path_colour = [names.index(name) for name in result.names]
        box = axes.flat[0].get_window_extent()
        self.counter_at = (box.x0 + 6, self.height - box.y0 - 6)  # inside the first axes, bottom left
        self.font = ImageFont.truetype(font_manager.findfont("DejaVu Sans"), round(size.font * 1.1 * size.dpi / 72))

    def _xy(self, b: int) -> np.ndarray:
        if self.result.function.dim == 1:
            return np.stack([self.result.positions[:, b, 0].numpy(), self.result.losses[:, b].numpy()], 1)
        return self.result.positions[:, b].numpy()

    def _draw_background(self, ax: Any, names: list[str], colours: dict[str, str],
                         titled_by_optimizer: bool) -> None:
        function = self.result.function
        (contour if function.dim == 2 else function_curve)(function, ax)
        labels = [legend_label(self.result, n) for n in names]
        if titled_by_optimizer:
            ax.set_title(labels[0], color=colours[names[0]])
        else:
            handles = [Line2D([], [], color=colours[n], linewidth=3, label=l) for n, l in zip(names, labels)]
            ax.legend(handles=handles, loc="upper right")

    def palette(self, colours: int) -> tuple[Image.Image, dict[str, int]]:
        """The background on ``colours`` entries of its own plus the paths' reserved ones.

        The background is mapped onto the whole palette, so the legend's swatches take
        exactly the paths' colours.
        """
        entries = self.background.quantize(colors=colours, method=Image.Quantize.MEDIANCUT).getpalette()
        entries = entries[: 3 * colours]
        mix_with = np.array(to_rgb(self.theme.background))
        reserved = [("outline", to_rgb(self.theme.outline)), ("text", to_rgb(self.theme.foreground))] + [
            (f"{k}:{t}", tint * np.array(to_rgb(c)) + (1 - tint) * mix_with)
            for k, c in enumerate(self.colours)
            for t, tint in enumerate(TINTS)
        ]
        index: dict[str, int] = {}
        for name, rgb in reserved:
            index[name] = len(entries) // 3
            entries += [round(255 * v) for v in rgb]
        if len(entries) > 768:
            raise ValueError(f"too many paths for one GIF palette ({len(self.colours)} optimizers)")
        palette = Image.new("P", (1, 1))
        palette.putpalette(entries)
        return self.background.quantize(palette=palette, dither=Image.Dither.NONE), index

    def encode(self, steps: list[int], colours: int, fps: float, hold: float) -> bytes:
        base, index = self.palette(colours)
        history = base.copy()  # faint full paths so far, drawn once per step as time advances
        drawn_to = 0
        frames = []
        width = max(2, round(self.height / 220))
        for step in steps:
            draw = ImageDraw.Draw(history)
            for t in range(drawn_to + 1, step + 1):
                for b, segments in enumerate(self.pixels):
                    if segments[t] is not None:
                        draw.line(segments[t], fill=index[f"{self.path_colour[b]}:3"], width=width)
            drawn_to = max(drawn_to, step)
            frame = history.copy()
            self._draw_now(ImageDraw.Draw(frame), step, index, width)
            frames.append(frame)
        durations = [round(1000 / fps)] * len(frames)
        durations[-1] += round(1000 * hold)
        out = io.BytesIO()
        frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=durations,
                       loop=0, optimize=True, disposal=1)
        return out.getvalue()

    def _draw_now(self, draw: ImageDraw.ImageDraw, step: int, index: dict[str, int], width: int) -> None:
        """The fading trail, the current point, divergence labels and the step counter."""
        radius = width * 2 + 1
        for b, segments in enumerate(self.pixels):
            k = self.path_colour[b]
            first = max(1, step - self.trail + 1)
            for t in range(first, step + 1):
                if segments[t] is not None:
                    age = (step - t) / max(1, self.trail)
                    tint = min(len(TINTS) - 2, int(age * (len(TINTS) - 1)))
                    draw.line(segments[t], fill=index[f"{k}:{tint}"], width=width + 1)
            head = self._head(b, step)
            if head is not None:
                x, y = head
                draw.ellipse((x - radius - 1, y - radius - 1, x + radius + 1, y + radius + 1), fill=index["outline"])
                draw.ellipse((x - radius, y - radius, x + radius, y + radius), fill=index[f"{k}:0"])
            diverged = int(self.result.diverged_at[b])
            if 0 <= diverged <= step and head is not None:
                draw.text((head[0], head[1] - radius - 4), f"diverged at step {diverged}",
                          fill=index[f"{k}:0"], font=self.font, anchor="mb")
        counter = f"step {step}/{self.result.steps}"
        box = draw.textbbox(self.counter_at, counter, font=self.font, anchor="ld")
        draw.rectangle((box[0] - 4, box[1] - 3, box[2] + 4, box[3] + 3), fill=index["outline"])
        draw.text(self.counter_at, counter, fill=index["text"], font=self.font, anchor="ld")

    def _head(self, b: int, step: int) -> tuple[float, float] | None:
        """The current point of path b: its last drawn pixel at or before ``step``."""
        segments = self.pixels[b]
        for t in range(step, 0, -1):
            if segments[t] is not None:
                return segments[t][1]
        return segments[0][0] if segments[0] is not None else None


def _pixel_path(ax: Any, xy: np.ndarray, height: int) -> list:
    """Per step t, the segment from t-1 to t clipped to the axes, in image pixels.

    Entry 0 holds the start point as a zero-length segment; missing segments are None.
    """
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    to_pixels = ax.transData.transform
    segments: list = [None] * len(xy)
    if np.isfinite(xy[0]).all() and x0 <= xy[0, 0] <= x1 and y0 <= xy[0, 1] <= y1:
        p = to_pixels(xy[0])
        segments[0] = ((p[0], height - p[1]), (p[0], height - p[1]))
    for t in range(1, len(xy)):
        clipped = clip_segment(xy[t - 1], xy[t], (x0, x1, y0, y1))
        if clipped is not None:
            a, b = to_pixels(np.array(clipped))
            segments[t] = ((a[0], height - a[1]), (b[0], height - b[1]))
    return segments
