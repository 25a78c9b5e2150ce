"""The optimizer's state drawn at the points of its paths: why it moves, not only where.

``state="state"`` (or True) draws what the optimizer holds: momentum's velocity as an arrow,
an adaptive method's per-coordinate step size as an axis-aligned ellipse; ``"gradient"``
draws -lr times the gradient (the step plain gradient descent would take) against the step
actually taken; ``"both"`` draws all of it. The vectors come from the run's own state
(``simulate(..., state=True)``, see optviz.analyses.state).

A still draws them every k steps, k the smallest that keeps most of them apart, and leaves
out any that would touch one already drawn: glyphs never overlap. Each kind of glyph has one
scale for the whole picture, a round number chosen so that it reads at slide size; a line
under the picture says what each glyph is and its scale where it is not 1.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.patches import Ellipse, FancyArrowPatch

from ..analyses.state import StateVectors, state_vectors
from ..core.errors import StateWarning
from ..core.simulation.result import Result
from .contours import halo
from .edges import draw_edges
from .kinds import STATE_GLYPHS
from .style import Theme

MIN_PIXELS = 3.0  # a glyph shorter than this says nothing: it is left out
READABLE = (0.025, 0.12)  # the longest glyphs' length, as a share of the axes' width, before they are scaled
TRUE_SIZE = 0.35  # arrows in the parameters' own units keep them up to this share of the axes' width
KEPT = 0.8  # every k steps, k the smallest at which this share of the glyphs can be drawn apart
ARROWHEAD = 11.0  # arrowheads' size, in points
GAP = 2.0  # pixels between two glyphs
STAR = 8.0  # points: a marked minimum's star reaches this far from its centre


def check_state(state: Any, *, moving: bool = False) -> str | None:
    """``state=`` as one of STATE_GLYPHS, or None for nothing; anything else raises one line.
    ``moving``: for a GIF's or a page's moving heads, which draw no "stability" (a still's)."""
    if state is None or state is False:
        return None
    if state is True:
        return "state"
    if not isinstance(state, str):
        raise TypeError(f"state must be True, False or one of {', '.join(STATE_GLYPHS)}, got {type(state).__name__}")
    if state not in STATE_GLYPHS:
        raise ValueError(f"unknown state {state!r} (known: {', '.join(STATE_GLYPHS)}, or True)")
    return None if moving and state == "stability" else state


@dataclass(frozen=True)
class Glyph:
    """One arrow or ellipse, in data coordinates: ``vector`` is an arrow's displacement or an
    ellipse's half-axes, already scaled."""

    kind: str  # velocity, step_size, gradient, taken
    path: int
    step: int
    centre: tuple[float, float]
    vector: tuple[float, float]


@dataclass(frozen=True)
class Scales:
    """One factor per kind of glyph (gradient and step taken share one, to compare them)."""

    velocity: float = 1.0
    step_size: float = 1.0
    gradient: float = 1.0

    def of(self, kind: str) -> float:
        return self.gradient if kind in ("gradient", "taken") else getattr(self, kind)


def kinds_of(state: str) -> tuple[str, ...]:
    """The glyph kinds a ``state=`` value draws."""
    own, gradient = ("velocity", "step_size"), ("gradient", "taken")
    return {"state": own, "gradient": gradient, "both": own + gradient}[state]


def vectors(result: Result, state: str) -> StateVectors:
    """The run's state vectors, with a one-line StateWarning naming the optimizers whose state
    shows nothing where the state is asked for."""
    found = state_vectors(result)
    if found.missing and state in ("state", "both"):
        warnings.warn(f"state: {', '.join(found.missing)} keep{'s' if len(found.missing) == 1 else ''} no state "
                      f"optviz can draw{_why(result)}; drawn without it", StateWarning, stacklevel=3)
    return found


def _why(result: Result) -> str:
    return "" if result.state else " (the run kept none: simulate(..., state=True))"


def scales(found: StateVectors, kinds: Sequence[str], per_unit: float, width: float,
           steps: slice = slice(1, None)) -> Scales:
    """Round factors (1, 2 or 5 times a power of ten) that bring the longest glyphs of each
    kind (their 95th percentile, in pixels at ``per_unit`` pixels a data unit) to a readable
    share of ``width`` pixels; 1 where they already read. Arrows are steps in the
    parameters' units: they keep their true length up to TRUE_SIZE of the width."""
    factors = {}
    for name, members in (("velocity", ("velocity",)), ("step_size", ("step_size",)), ("gradient", ("gradient", "taken"))):
        arrays = [getattr(found, kind)[steps] for kind in members if kind in kinds]
        lengths = np.concatenate([np.hypot(*a.reshape(-1, 2).T) for a in arrays]) if arrays else np.array([])
        lengths = lengths[np.isfinite(lengths) & (lengths > 0)] * per_unit
        longest = float(np.percentile(lengths, 95)) if len(lengths) else 0.0
        factors[name] = _factor(longest, width, name != "step_size") if longest > 0 else 1.0
    return Scales(**factors)


def _factor(longest: float, width: float, true_units: bool) -> float:
    """1 where the longest glyphs read as they are; else the round factor at or below the one
    that brings them to the top of the readable range (too long) or its middle (too short)."""
    low, high = READABLE[0] * width, (TRUE_SIZE if true_units else READABLE[1]) * width
    if low <= longest <= high:
        return 1.0
    wanted = (high if longest > high else (low * READABLE[1] * width) ** 0.5) / longest
    power = 10.0 ** math.floor(math.log10(wanted))
    return max((m * power for m in (1, 2, 5, 10) if m * power <= wanted), default=power)


def candidates(found: StateVectors, kinds: Sequence[str], paths: Sequence[int], scale: Scales,
               positions: np.ndarray, box: tuple[float, float, float, float]) -> dict[tuple[int, int], list[Glyph]]:
    """Every point's glyphs, scaled, by (path, step), from step 1: what its state holds there."""
    x0, x1, y0, y1 = box
    out: dict[tuple[int, int], list[Glyph]] = {}
    for b in paths:
        for t in range(1, len(positions)):
            x, y = positions[t, b]
            if not (np.isfinite(x) and np.isfinite(y) and x0 <= x <= x1 and y0 <= y <= y1):
                continue
            here = [Glyph(kind, b, t, (float(x), float(y)), tuple(float(v) * scale.of(kind) for v in vector))
                    for kind in kinds if np.isfinite(vector := getattr(found, kind)[t, b]).all()]
            here = [g for g in here if _inside(g, box)]  # one that would leave the frame is left out
            if here:
                out[(b, t)] = here
    return out


def extent(glyph: Glyph, to_pixels: Any, dpi: float) -> np.ndarray:
    """The glyph's box in pixels (x0, y0, x1, y1), with room for its line and arrowhead."""
    cx, cy = glyph.centre
    dx, dy = glyph.vector
    if glyph.kind == "step_size":
        corners = to_pixels(np.array([[cx - dx, cy - dy], [cx + dx, cy + dy]]))
        pad = 2 * dpi / 72
    else:
        corners = to_pixels(np.array([[cx, cy], [cx + dx, cy + dy]]))
        pad = 0.25 * ARROWHEAD * dpi / 72 + 2 * dpi / 72
    low, high = corners.min(axis=0) - pad, corners.max(axis=0) + pad
    return np.concatenate([low, high])


def length(glyph: Glyph, to_pixels: Any) -> float:
    """The glyph's size in pixels (an ellipse's larger half-axis)."""
    cx, cy = glyph.centre
    a, b = to_pixels(np.array([[cx, cy], [cx + glyph.vector[0], cy + glyph.vector[1]]]))
    d = np.abs(b - a)
    return float(d.max()) if glyph.kind == "step_size" else float(np.hypot(*d))


def spaced(points: dict[tuple[int, int], list[Glyph]], to_pixels: Any, dpi: float) -> tuple[int, list[list[Glyph]]]:
    """Every k-th step's glyphs, less any that would touch one kept before it (step by step,
    path by path): k the smallest at which KEPT of them lie apart, unless that keeps less
    than half as many as the k that keeps the most (then that k). (k, the glyphs kept, by point)."""
    boxes = {}
    for key, glyphs in points.items():
        seen = [g for g in glyphs if length(g, to_pixels) >= MIN_PIXELS]
        if seen:
            boxes[key] = (seen, _union([extent(g, to_pixels, dpi) for g in seen]))
    if not boxes:
        return 1, []
    order = sorted(boxes, key=lambda key: (key[1], key[0]))
    tried = []
    for k in range(1, max(t for _, t in boxes) + 1):
        kept = _apart([boxes[key] for key in order if key[1] % k == 0])
        tried.append((k, kept, len(kept) >= KEPT * sum(1 for _, t in boxes if t % k == 0)))
    most = max(len(kept) for _, kept, _ in tried)
    regular = [(k, kept) for k, kept, apart in tried if apart and 2 * len(kept) >= most]
    return regular[0] if regular else next((k, kept) for k, kept, _ in tried if len(kept) == most)


def _apart(ordered: list[tuple[list[Glyph], np.ndarray]]) -> list[list[Glyph]]:
    """In order, each point's glyphs whose box keeps GAP pixels from every box kept before."""
    kept, taken = [], np.empty((len(ordered), 4))
    for glyphs, box in ordered:
        other = taken[: len(kept)]
        if not np.any((box[2] + GAP > other[:, 0]) & (other[:, 2] + GAP > box[0])
                      & (box[3] + GAP > other[:, 1]) & (other[:, 3] + GAP > box[1])):
            taken[len(kept)] = box
            kept.append(glyphs)
    return kept


def _covers(box: np.ndarray, points: np.ndarray, reach: float) -> bool:
    """Whether a pixel box comes within ``reach`` pixels of any of the points."""
    return bool(np.any((points[:, 0] > box[0] - reach) & (points[:, 0] < box[2] + reach)
                       & (points[:, 1] > box[1] - reach) & (points[:, 1] < box[3] + reach)))


def _union(boxes: list[np.ndarray]) -> np.ndarray:
    stacked = np.array(boxes)
    return np.concatenate([stacked[:, :2].min(axis=0), stacked[:, 2:].max(axis=0)])


def draw_state(ax: Axes, result: Result, state: Any, colours: dict[int, str], box: tuple[float, float, float, float],
               theme: Theme) -> list[list[Glyph]]:
    """The state's glyphs on a paths picture, at the points of the paths ``colours`` names
    (path index -> its colour), every k steps and never overlapping, with a line under the
    axes that says what each glyph is. Call it once the figure is laid out. Returns the
    glyphs drawn, by point."""
    state = check_state(state)
    if state is None:
        return []
    if state == "stability":
        draw_edges(ax, result, colours, box, theme)
        return []
    if result.function.dim != 2:
        warnings.warn(f"state: drawn on 2D landscapes only; {result.function.name} is {result.function.dim}D",
                      StateWarning, stacklevel=3)
        return []
    found = vectors(result, state)
    kinds = kinds_of(state)
    fig = ax.figure
    to_pixels = ax.transData.transform
    (px0, _), (px1, _) = to_pixels(np.array([[box[0], box[2]], [box[1], box[2]]]))
    per_unit = abs(px1 - px0) / (box[1] - box[0])
    scale = scales(found, kinds, per_unit, ax.get_window_extent().width)
    points = candidates(found, kinds, list(colours), scale, result.positions.numpy(), box)
    minima = [m.point[:2] for m in result.function.minima]
    if minima:  # a glyph over a marked minimum would hide where the paths are going
        stars = to_pixels(np.array(minima, dtype=float))
        points = {key: glyphs for key, glyphs in points.items()
                  if not any(_covers(extent(g, to_pixels, fig.dpi), stars, STAR * fig.dpi / 72) for g in glyphs)}
    k, drawn = spaced(points, to_pixels, fig.dpi)
    for glyphs in drawn:
        for glyph in glyphs:
            _glyph(ax, glyph, colours[glyph.path], theme)
    if drawn:
        _note(ax, {g.kind for glyphs in drawn for g in glyphs}, scale, k, theme)
    return drawn


def _note(ax: Axes, kinds: set[str], scale: Scales, k: int, theme: Theme) -> None:
    """One line under the figure for all its panels (which share a frame, so a scale): it
    says what the glyphs of every panel drawn so far are."""
    fig = ax.figure
    seen = fig.__dict__.setdefault("optviz_state", {"kinds": set(), "every": set()})
    seen["kinds"] |= kinds
    seen["every"].add(k)
    for text in [t for t in fig.texts if t.get_gid() == "state:caption"]:
        text.remove()
    note = fig.text(0.01, 0.005, caption(seen["kinds"], scale, sorted(seen["every"])), ha="left", va="bottom",
                    fontsize="small", color=theme.muted, gid="state:caption")
    note.set_in_layout(False)


def caption(kinds: set[str], scale: Scales, every: Sequence[int]) -> str:
    """What the glyphs are, and how often: "every 3rd step: arrows, velocity (×2); ellipses, ..."."""
    low, high = min(every), max(every)
    steps = "every step" if high == 1 else f"every {_ordinal(low)} step" if low == high else \
        f"every {low}th to {_ordinal(high)} step" if low > 1 else f"every 1 to {high} steps"
    return f"{steps}: {legend(kinds, scale)}"


def legend(kinds: set[str] | Sequence[str], scale: Scales) -> str:
    """What each kind of glyph is, with its scale where it is not 1."""
    kinds, parts = set(kinds), []
    if "velocity" in kinds:
        parts.append(f"arrows, velocity{_times(scale.velocity)}")
    if "step_size" in kinds:
        parts.append(f"ellipses, step per unit gradient lr/(√v+ε) per coordinate{_times(scale.step_size)}")
    if kinds & {"gradient", "taken"}:
        parts.append(f"dark arrows, −lr·gradient; coloured, the step taken{_times(scale.gradient)}")
    return "; ".join(parts)


def _times(factor: float) -> str:
    return "" if factor == 1 else f" (×{factor:g})"


def _ordinal(k: int) -> str:
    return f"{k}{'th' if 10 <= k % 100 <= 20 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"


def _glyph(ax: Axes, glyph: Glyph, colour: str, theme: Theme) -> None:
    cx, cy = glyph.centre
    dx, dy = glyph.vector
    gid = f"state:{glyph.path}:{glyph.step}:{glyph.kind}"
    if glyph.kind == "step_size":
        patch = Ellipse((cx, cy), 2 * dx, 2 * dy, fill=False, edgecolor=colour, linewidth=1.8, zorder=6, gid=gid,
                        path_effects=halo(theme, 1.8))
    else:
        stroke = theme.foreground if glyph.kind == "gradient" else colour
        patch = FancyArrowPatch((cx, cy), (cx + dx, cy + dy), arrowstyle="-|>", mutation_scale=ARROWHEAD, color=stroke,
                                linewidth=2.0, shrinkA=0, shrinkB=0, zorder=6.2 if glyph.kind == "gradient" else 6.1,
                                gid=gid, path_effects=halo(theme, 2.0))
    patch.set_in_layout(False)
    patch.set_clip_on(True)
    ax.add_patch(patch)


class HeadGlyphs:
    """The glyphs at each path's point after each step, scaled once for the whole run: what
    an animation draws at its moving heads (``at``), and the page at its own."""

    def __init__(self, result: Result, state: str, per_unit: float, width: float) -> None:
        self.found, self.kinds = vectors(result, state), kinds_of(state)
        self.scale = scales(self.found, self.kinds, per_unit, width)
        self.positions = result.positions.numpy()

    def at(self, path: int, step: int) -> list[Glyph]:
        """The glyphs at path's point after ``step`` (none before the first step or past its end)."""
        if not 1 <= step < len(self.positions):
            return []
        centre = self.positions[step, path]
        if not np.isfinite(centre).all():
            return []
        return [Glyph(kind, path, step, (float(centre[0]), float(centre[1])),
                      tuple(float(v) * self.scale.of(kind) for v in vector))
                for kind in self.kinds if np.isfinite(vector := getattr(self.found, kind)[step, path]).all()]


def outline(glyph: Glyph, to_pixels: Any, head: float = 14.0) -> list[np.ndarray]:
    """The glyph as polylines in the pixels ``to_pixels`` maps data to: an arrow's shaft and
    its head (two barbs of up to ``head`` pixels), or an ellipse's closed loop."""
    cx, cy = glyph.centre
    dx, dy = glyph.vector
    if glyph.kind == "step_size":
        angle = np.linspace(0, 2 * np.pi, 49)
        return [to_pixels(np.column_stack([cx + dx * np.cos(angle), cy + dy * np.sin(angle)]))]
    start, tip = to_pixels(np.array([[cx, cy], [cx + dx, cy + dy]]))
    along = tip - start
    size = float(np.hypot(*along))
    if size < MIN_PIXELS:
        return []
    back = -along / size * min(head, 0.45 * size)
    barbs = [tip + _turned(back, turn) for turn in (0.45, -0.45)]
    return [np.array([start, tip]), np.array([barbs[0], tip, barbs[1]])]


def _inside(glyph: Glyph, box: tuple[float, float, float, float]) -> bool:
    """Whether the glyph stays in the frame: an arrow's tip, an ellipse's extent."""
    (cx, cy), (dx, dy), (x0, x1, y0, y1) = glyph.centre, glyph.vector, box
    reach = [(cx + dx, cy + dy)] if glyph.kind != "step_size" else [(cx - dx, cy - dy), (cx + dx, cy + dy)]
    return all(x0 <= x <= x1 and y0 <= y <= y1 for x, y in reach)


def _turned(vector: np.ndarray, angle: float) -> np.ndarray:
    c, s = math.cos(angle), math.sin(angle)
    return np.array([c * vector[0] - s * vector[1], s * vector[0] + c * vector[1]])
