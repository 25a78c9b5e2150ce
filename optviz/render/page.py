"""The interactive page: one self-contained HTML file that plays a result back and, where it
can, recomputes every path live in the browser.

The background (landscape, levels, colour bar, title) is the stills' own, drawn by
``scene`` into a PNG; the paths are drawn over it on a canvas. For the built-in 2D functions
and optviz's own optimizers the page carries JavaScript made from their definitions
(optviz.javascript), so a reader can drag a start or move a learning rate, momentum or beta
and watch every path follow. Anything else plays back, with the reason the live controls
are off. No network, no CDN: it works from file://, in a notebook cell and in an iframe.

The page draws a comet (a large head, a fading tail, the trail so far faint, nothing of the
future), a read-out of the step and f - f*, a loss strip with a cursor under the map, and
small multiples on identical axes at the press of a button; it keeps its state (starts,
sliders, step, panels) in the address, presents full-window and saves a frame at slide size.
"""

from __future__ import annotations

import base64
import html
import io
import json
import math
import re
from pathlib import Path
from typing import Any

import matplotlib
import numpy as np
from PIL import Image

from ..core.errors import BadInput
from ..core.files import atomic, writable_path
from ..core.limits import MAX_PATHS, MAX_POINTS
from ..core.optimizers.base import Optimizer
from ..core.simulation.result import Result
from . import javascript
from .canvas import figure, titled
from .glyphs import HeadGlyphs, check_state, legend
from .style import Theme, get_theme, luminance, screen_size
from .trajectories import drawable, legend_label, scene

TEMPLATE = Path(__file__).with_name("page.html")
STRIP = 0.08  # the loss strip's height, as a fraction of the picture's width
SAVED_WIDTH = 1920  # a saved frame's width in pixels: a 16:9 picture saves at 1920x1080
NO_FUNCTION = "{value: function () { return NaN; }, grad: function () { return [NaN, NaN]; }}"


def html_page(result: Result, path: str | Path | None = None, *, theme: str | Theme = "light", size: Any = "slide",
              title: str | None = None, bounds: Any = None, palette: dict[str, str] | None = None,
              divergence_factor: float = 100.0, dpi: Any = None, scale: Any = None, background: Any = None,
              transparent: bool = False, state: Any = None) -> "Page":
    """The page for ``result`` as text, written to ``path`` (.html) if given; ``theme``,
    ``size``, ``title``, ``bounds``, ``palette``, ``scale``, ``background`` and
    ``transparent`` as for the stills (optviz.render.picture); its picture is a screen's,
    as a GIF's (optviz.render.animate: the slide is 1280x720 unless ``dpi`` says otherwise).

    A result of more than MAX_PATHS paths is refused; one of more than MAX_POINTS points is
    thinned to every k-th step, with a note on the page. ``divergence_factor`` is the one the
    result was simulated with (the page stops a recomputed path where simulate would).
    ``state`` draws the optimizer's state at each moving point, as a GIF does (see
    optviz.render.glyphs), on the paths as recorded (not once recomputed live)."""
    state = check_state(state, moving=True)
    result = drawable(result)
    if result.function.dim != 2:
        raise BadInput(f"interactive pages are drawn for 2D functions; {result.function.name} is "
                       f"{result.function.dim}D (draw it with --png)")
    paths = result.positions.shape[1]
    if paths > MAX_PATHS:
        raise BadInput(f"an interactive page holds at most {MAX_PATHS:,} paths; this result has {paths:,}")
    target = writable_path(path, ("html", "htm")) if path is not None else None
    theme, size = get_theme(theme, background, transparent), screen_size(size, dpi, scale)
    image, axes, room, colours, strokes = _background(result, theme, size, title, bounds, palette)
    notes, every = [], max(1, math.ceil(paths * (result.steps + 1) / MAX_POINTS))
    if every > 1:
        nth = f"{every}{'rd' if every % 10 == 3 and every % 100 != 13 else 'nd' if every % 10 == 2 and every % 100 != 12 else 'th'}"
        notes.append(f"Thinned to every {nth} step to keep the page small ({paths:,} paths x {result.steps:,} steps).")
    function_js, rules_js, moving, why = _live(result)
    if why:
        notes.append(f"Live controls are off: {why}.")
    glyphs = _state_data(result, state, axes, every) if state else None
    if glyphs is not None:
        notes.append(glyphs["legend"])
    bounds = np.array(result.function.bounds, dtype=np.float64)
    data = {
        "title": title or "", "value": result.function.value, "steps": result.steps, "live": why is None,
        "image": {"width": image.width, "height": image.height}, "axes": axes, "room": room,
        "names": list(result.function.axes), "best": _best(result), "strip": STRIP, "saved": SAVED_WIDTH,
        # small multiples by default where the stills draw them (optviz.render.picture)
        "panels": len(result.optimizers) >= 4 and result.n_starts == 1,
        "optimizers": [{"label": legend_label(result, name), "colour": colours[name], "hypers": moving.get(name, {})}
                       for name in result.optimizers],
        "starts": result.starts.tolist(),
        "paths": [{**_path(result, b, every), **strokes[b]} for b in range(paths)],
        "centre": bounds.mean(axis=1).tolist(),
        "reach": divergence_factor * float((bounds[:, 1] - bounds[:, 0]).max()),
        "fps": min(20.0, max(2.5, result.steps / 4)), "stroke": 3.0 * size.render_dpi / 100,
        "font": round(size.font * size.pixels_per_point),
        "ink": theme.foreground, "paper": theme.background, "faint": theme.faint, "notes": notes, "state": glyphs,
        "outline": theme.casing or theme.outline,  # the edge under every path: the casing, where the theme has one
    }
    text = _fill(TEMPLATE.read_text(encoding="utf-8"), {
        "TITLE": html.escape(title or result.function.title or result.function.name), "INK": theme.foreground,
        "PAPER": theme.background, "BACKDROP": "transparent" if theme.transparent else theme.background,
        "SCHEME": "dark" if luminance(theme.background) < 0.2 else "light",
        "FIT": f"{1 / (image.height / image.width + STRIP):.4f}", "IMAGE": _png(image), "DATA": _script_json(data),
        "FUNCTION": function_js, "RULES": rules_js})
    if target is not None:
        with atomic(target) as part:
            Path(part).write_text(text, encoding="utf-8")
    return Page(text, image.height, f"{len(result.optimizers)} optimizer{'s' * (len(result.optimizers) != 1)}, "
                                    f"{result.steps} steps", live=why is None)


class Page(str):
    """The page's HTML. A notebook shows it in an iframe of its own (``srcdoc``), so that its
    script and styles cannot meet the notebook's or another page's. ``live``: whether its
    paths are recomputed in the browser (sliders, a draggable start), or only played back."""

    def __new__(cls, text: str, height: int, summary: str = "", live: bool = False) -> "Page":
        page = super().__new__(cls, text)
        page.height = height
        page.summary = summary
        page.live = live
        return page

    def __repr__(self) -> str:
        """Short, for a notebook's plain-text output and the console: the page itself is
        ``str(page)``, and ``_repr_html_`` shows it."""
        size = len(self.encode("utf-8"))
        shown = f"{size / 1000:.0f} kB" if size >= 1000 else f"{size} bytes"
        return f"<optviz page: {self.summary + ', ' if self.summary else ''}{shown}>"

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))

    def _repr_html_(self) -> str:
        return (f'<iframe srcdoc="{html.escape(self, quote=True)}" title="optviz interactive page" '
                f'style="width: 100%; height: {round(self.height * (1 + STRIP * 16 / 9)) + 220}px; border: 0;"></iframe>')


def _background(result: Result, theme: Theme, size: Any, title: str | None, bounds: Any,
                palette: dict[str, str] | None) -> tuple[Image.Image, dict, dict, dict, dict]:
    """The stills' landscape without the paths, where its axes sit in pixels, the room small
    multiples may take (below the title, left of the colour bar), each optimizer's colour,
    and how the still draws each path: its width in pixels (a path mostly hidden under others
    is wider, a rim), its dashes and its place in the drawing order."""
    fig, axes = figure(theme, size, 1, 1)
    ax = axes[0, 0]
    titled(fig, title, centre=False)
    with matplotlib.rc_context(fig.optviz_rc):
        box, laid = scene(result, ax, theme, bounds=bounds, legend=False, palette=palette)
        titled(fig, title)
        fig.canvas.draw()
    width, height = fig.canvas.get_width_height()
    image = Image.fromarray(np.asarray(fig.canvas.buffer_rgba())[..., :4 if theme.transparent else 3].copy())
    extent = ax.get_window_extent()
    axes = {"left": extent.x0, "top": height - extent.y1, "width": extent.width, "height": extent.height,
            "x": list(ax.get_xlim()), "y": list(ax.get_ylim())}
    # the colour bar stays where it is; its own tick labels are right of it
    right = min([other.get_window_extent().x0 for other in [*fig.axes, *ax.child_axes] if other is not ax] or [width])
    room = {"left": 0, "top": axes["top"], "width": right - 8 * size.pixels_per_point, "height": height - axes["top"]}
    colours, strokes = {}, {}
    pixels = size.pixels_per_point
    for order, trace in enumerate(laid):
        colours.setdefault(result.names[trace.index], trace.colour)
        dashes = trace.linestyle[1] if isinstance(trace.linestyle, tuple) else ()
        strokes[trace.index] = {"order": order, "width": round(trace.width * pixels, 2),
                                "dashes": [round(d * trace.width * pixels, 2) for d in dashes]}
    return image, axes, room, colours, strokes


def _best(result: Result) -> float | None:
    """What the read-out and the loss strip measure f against: the least known minimum's
    value f* (None where none is known, as for a saddle: they show f itself)."""
    minima = [m.value for m in result.function.minima]
    return min(minima) if minima else None


def _live(result: Result) -> tuple[str, str, dict[str, dict[str, float]], str | None]:
    """The function's and the optimizers' JavaScript, the hyperparameters each may move, and
    why the paths cannot be recomputed (None if they can)."""
    try:
        if result.noise:
            raise javascript.Untranslatable("the gradients were noisy")
        function_js = javascript.function_source(result.function)
        rules, moving = [], {}
        for name, opt in result.optimizers.items():
            if getattr(opt, "schedule", None):
                raise javascript.Untranslatable(f"{name} follows a learning-rate schedule")
            if not isinstance(opt, Optimizer):
                raise javascript.Untranslatable(f"{name} is not one of optviz's own optimizers")
            if name in result.lrs and result.lrs[name].unique().numel() > 1:
                raise javascript.Untranslatable(f"{name} followed a learning-rate schedule")
            source, moving[name] = javascript.rule_source(opt)
            rules.append(source)
    except javascript.Untranslatable as reason:
        return NO_FUNCTION, "[]", {}, str(reason)
    return function_js, "[" + ", ".join(rules) + "]", moving, None


def _state_data(result: Result, state: str, axes: dict, every: int) -> dict[str, Any]:
    """Per path, per point it keeps, the glyphs at that point as [kind, dx, dy] (data units,
    scaled), and the line that says what they are."""
    per_unit = axes["width"] / (axes["x"][1] - axes["x"][0])
    glyphs = HeadGlyphs(result, state, per_unit, axes["width"])
    kept = _kept(result.steps, every)
    paths = [[[[g.kind, *g.vector] for g in glyphs.at(b, t)] for t in kept] for b in range(result.positions.shape[1])]
    drawn = {glyph[0] for path in paths for point in path for glyph in point}  # the kinds this run has
    return {"paths": paths, "legend": "At the moving point: " + legend(drawn, glyphs.scale)}


def _kept(steps: int, every: int) -> list[int]:
    kept = list(range(0, steps + 1, every))
    return kept if kept[-1] == steps else kept + [steps]


def _path(result: Result, b: int, every: int) -> dict[str, Any]:
    kept = list(range(0, result.steps + 1, every))
    if kept[-1] != result.steps:
        kept.append(result.steps)
    return {"optimizer": b // result.n_starts, "start": b % result.n_starts, "every": every,
            "diverged": int(result.diverged_at[b]),
            "points": [_pair(p) for p in result.positions[kept, b].tolist()],
            "f": [_number(v) for v in result.losses[kept, b].tolist()],
            "g": [_number(v) for v in result.grad_norms[kept, b].tolist()]}


def _pair(point: list[float]) -> list[float] | None:
    return point if all(math.isfinite(v) for v in point) else None


def _number(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _fill(template: str, values: dict[str, str]) -> str:
    """The template with every %%NAME%% replaced (one pass, so no value is read as a name)."""
    return re.sub(r"%%([A-Z]+)%%", lambda match: values[match.group(1)], template)


def _script_json(data: dict) -> str:
    """JSON safe inside a <script> element: no "<", ">" or "&" that a title could close it with."""
    text = json.dumps(data, separators=(",", ":"), allow_nan=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def _png(image: Image.Image) -> str:
    out = io.BytesIO()
    # with an alpha channel (a transparent page), only the octree method keeps it
    method = Image.Quantize.FASTOCTREE if image.mode == "RGBA" else Image.Quantize.MEDIANCUT
    image.quantize(colors=256, method=method).save(out, format="PNG", optimize=True)
    return base64.b64encode(out.getvalue()).decode("ascii")
