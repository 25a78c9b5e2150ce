"""What part of the plane a picture shows, and where its labels go.

A picture is cropped to its paths and the marked minima, plus a margin, so a 20-step path
fills the frame. A path that runs away is followed until it leaves the function's bounds
widened by ``REACH`` spans on each side: its first growing swings stay in the picture, and
it is labelled where it leaves. Labels go inside the axes at the first of several places
around their anchor that overlaps no other label and covers least of the paths.
"""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.text import Text
from matplotlib.transforms import Bbox

REACH = 2.0  # spans of the bounds beyond them that a runaway path is followed for
MARGIN = 0.08  # of the frame's span on each side


Box = tuple[float, float, float, float]  # x0, x1, y0, y1


def view(paths: Sequence[np.ndarray], bounds: Sequence[tuple[float, float]], marks: Sequence[Sequence[float]] = (),
         margin: float = MARGIN) -> Box:
    """The box around every path (each (steps + 1, 2), NaN where it stopped) and every mark,
    with a margin; runaway paths are followed to REACH spans beyond the bounds, widened to
    take in every start (a start outside the bounds is in the picture)."""
    (bx0, bx1), (by0, by1) = spanning(bounds, [xy[0] for xy in paths if len(xy)])
    reach = (bx0 - REACH * (bx1 - bx0), bx1 + REACH * (bx1 - bx0), by0 - REACH * (by1 - by0), by1 + REACH * (by1 - by0))
    points = [followed(xy, reach) for xy in paths] + [np.asarray(marks, dtype=float).reshape(-1, 2)]
    points = np.concatenate([p for p in points if len(p)]) if any(len(p) for p in points) else np.empty((0, 2))
    if not len(points):
        return bx0, bx1, by0, by1
    (x0, y0), (x1, y1) = points.min(axis=0), points.max(axis=0)
    # a path that barely moves still gets a frame a twentieth of the bounds across
    least = 0.05 * max(bx1 - bx0, by1 - by0)
    x0, x1 = _widened(x0, x1, least)
    y0, y1 = _widened(y0, y1, least)
    dx, dy = margin * (x1 - x0), margin * (y1 - y0)
    return x0 - dx, x1 + dx, y0 - dy, y1 + dy


def spanning(bounds: Sequence[tuple[float, float]], points: Sequence[np.ndarray]) -> tuple[tuple[float, float], ...]:
    """The 2D bounds widened to take in each finite point."""
    found = np.asarray([p for p in points if np.isfinite(p).all()], dtype=float).reshape(-1, 2)
    if not len(found):
        return tuple((float(lo), float(hi)) for lo, hi in bounds)
    low, high = found.min(axis=0), found.max(axis=0)
    return tuple((min(float(lo), float(a)), max(float(hi), float(b))) for (lo, hi), a, b in zip(bounds, low, high))


def followed(xy: np.ndarray, reach: Box) -> np.ndarray:
    """The finite points of a path up to (not past) the first one outside ``reach``."""
    xy = np.asarray(xy, dtype=float)
    finite = np.isfinite(xy).all(axis=1)
    x0, x1, y0, y1 = reach
    inside = finite & (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
    gone = np.flatnonzero(~inside)
    return xy[: gone[0]] if len(gone) else xy


def _widened(lo: float, hi: float, least: float) -> tuple[float, float]:
    if hi - lo >= least:
        return lo, hi
    middle = (lo + hi) / 2
    return middle - least / 2, middle + least / 2


def fit(box: Box, aspect: float) -> Box:
    """The box widened along one side to ``aspect`` (width / height), about its centre."""
    x0, x1, y0, y1 = box
    width, height = x1 - x0, y1 - y0
    if width / height < aspect:
        grow = (aspect * height - width) / 2
        return x0 - grow, x1 + grow, y0, y1
    grow = (width / aspect - height) / 2
    return x0, x1, y0 - grow, y1 + grow


def box_aspect(ax: Axes, reserve: float = 0.0) -> float:
    """The width / height of the axes' place in its figure, less a share of its width kept
    for a colour bar (before layout: the subplot's nominal place)."""
    position = ax.get_position()
    width, height = ax.figure.get_size_inches()
    return (position.width * width * (1 - reserve)) / (position.height * height)


def clip_segment(a: np.ndarray, b: np.ndarray, box: Box) -> tuple | None:
    """The part of segment a-b inside box = (x0, x1, y0, y1), by Liang-Barsky, or None."""
    if not (np.isfinite(a).all() and np.isfinite(b).all()):
        return None
    with np.errstate(over="ignore", divide="ignore", invalid="ignore"):  # a far escape: a ratio of inf is right
        return _liang_barsky(a, b - a, box)


def _liang_barsky(a: np.ndarray, d: np.ndarray, box: Box) -> tuple | None:
    x0, x1, y0, y1 = box
    lo, hi = 0.0, 1.0
    for p, q in ((-d[0], a[0] - x0), (d[0], x1 - a[0]), (-d[1], a[1] - y0), (d[1], y1 - a[1])):
        if p == 0:
            if q < 0:
                return None
            continue
        r = q / p
        if p < 0:
            lo = max(lo, r)
        else:
            hi = min(hi, r)
        if lo > hi:
            return None
    return a + lo * d, a + hi * d


def exit_point(xy: np.ndarray, box: Box) -> np.ndarray | None:
    """Where a path last is inside the box: the end of its last visible segment."""
    for t in range(len(xy) - 1, 0, -1):
        segment = clip_segment(xy[t - 1], xy[t], box)
        if segment is not None:
            return segment[1]
    return None


# --- labels ------------------------------------------------------------------------------------

# offsets (in font sizes) of a label's centre from its anchor: inward first, then around
_PLACES = [(0, 1.4), (0, -1.4), (1, 1.4), (-1, 1.4), (1, -1.4), (-1, -1.4), (0, 2.8), (0, -2.8),
           (1.5, 0), (-1.5, 0), (2, 2.8), (-2, 2.8), (2, -2.8), (-2, -2.8),
           (3, 1.4), (-3, 1.4), (3, -1.4), (-3, -1.4)]  # clear of a line through the anchor


def place(ax: Axes, text: str, anchor: Sequence[float], taken: list[Bbox], ink: np.ndarray | None = None,
          spread: float = 3.0, **style) -> Text:
    """Put ``text`` near ``anchor`` (data coordinates), inside the axes, clear of the boxes in
    ``taken`` (which it joins) and over as few ``ink`` points (display coordinates) as it can;
    places beside the anchor are at least ``spread`` font sizes from it across. The label
    keeps its offset from the anchor in points, so a later layout moves it along."""
    renderer = ax.figure.canvas.get_renderer()
    inside = ax.get_window_extent(renderer)
    px, py = ax.transData.transform(anchor)
    label = ax.annotate(text, xy=anchor, xycoords="data", xytext=(0, 0), textcoords="offset pixels",
                        ha="center", va="center", annotation_clip=False, **style)
    label.set_in_layout(False)
    size = label.get_fontsize() * ax.figure.dpi / 72
    best, best_cost = None, None
    for dx, dy in _PLACES:
        offset = (dx * size * max(spread, len(text) / 4), dy * size)
        label.xyann = offset
        offset = _nudged_inside(label.get_window_extent(renderer), inside, offset)
        label.xyann = offset
        box = label.get_window_extent(renderer)
        cost = sum(box.overlaps(other) for other in taken) * 1000
        if ink is not None and len(ink):
            cost += int(box.count_contains(ink))
        if best_cost is None or cost < best_cost:
            best, best_cost = offset, cost
        if cost == 0:
            break
    label.xyann = best
    label.set_annotation_clip(False)
    # offsets in points from here on: the same on screen whatever the axes' final size
    label.set_anncoords("offset points")
    label.xyann = (best[0] * 72 / ax.figure.dpi, best[1] * 72 / ax.figure.dpi)
    taken.append(label.get_window_extent(renderer))
    return label


def apart(lines: Sequence[np.ndarray]) -> np.ndarray:
    """Lines of points (n, 2) one after another, a NaN row after each: for ``ink``, each a
    line of its own."""
    return np.concatenate([row for xy in lines for row in (np.asarray(xy, dtype=float).reshape(-1, 2),
                                                            np.full((1, 2), np.nan))])


def ink(ax: Axes, paths: Sequence[np.ndarray], spacing: float = 4.0) -> np.ndarray:
    """Points every ``spacing`` pixels along each path (data coordinates, NaN where it
    stopped), in display coordinates: what a label must not cover, long steps included."""
    found = [np.empty((0, 2))]
    for xy in paths:
        with np.errstate(over="ignore", invalid="ignore"):  # a far escape: off the picture, left out
            points = ax.transData.transform(np.asarray(xy, dtype=float).reshape(-1, 2))
        finite = np.isfinite(points).all(axis=1)
        whole = finite[:-1] & finite[1:]
        a, b = _inside_figure(points[:-1][whole], points[1:][whole], ax.figure.bbox)
        n = (np.minimum(np.hypot(*(b - a).T) // spacing, 2000) + 1).astype(int)  # points on each segment
        segment = np.repeat(np.arange(len(a)), n)
        t = (np.arange(n.sum()) - np.repeat(np.cumsum(n) - n, n)) / np.repeat(n, n)
        found += [a[segment] + t[:, None] * (b - a)[segment], points[finite]]
    return np.concatenate(found)


def _inside_figure(a: np.ndarray, b: np.ndarray, box: Bbox) -> tuple[np.ndarray, np.ndarray]:
    """The segments a-b (display coordinates) cut to the part inside the box (a segment
    wholly outside shrinks to a point): a far escape's long step is sampled where it is seen."""
    d = b - a
    lo, hi = np.zeros(len(a)), np.ones(len(a))
    with np.errstate(divide="ignore", invalid="ignore"):
        for k, (low, high) in enumerate(((box.x0, box.x1), (box.y0, box.y1))):
            t0, t1 = (low - a[:, k]) / d[:, k], (high - a[:, k]) / d[:, k]
            moving = d[:, k] != 0
            lo = np.where(moving, np.maximum(lo, np.minimum(t0, t1)), lo)
            hi = np.where(moving, np.minimum(hi, np.maximum(t0, t1)), hi)
    hi = np.maximum(hi, lo)
    return a + lo[:, None] * d, a + hi[:, None] * d


def _nudged_inside(box: Bbox, inside: Bbox, offset: tuple[float, float]) -> tuple[float, float]:
    """The offset moved so that the box lies inside, with a few pixels to spare."""
    pad = 6
    x, y = offset
    if box.x0 < inside.x0 + pad:
        x += inside.x0 + pad - box.x0
    if box.x1 > inside.x1 - pad:
        x -= box.x1 - (inside.x1 - pad)
    if box.y0 < inside.y0 + pad:
        y += inside.y0 + pad - box.y0
    if box.y1 > inside.y1 - pad:
        y -= box.y1 - (inside.y1 - pad)
    return x, y


CORNERS = ("upper right", "upper left", "lower right", "lower left")  # a legend's places inside the axes, in order


def legend_clear_of(ax: Axes, handles: list, avoid: np.ndarray | None, **style: Any) -> Any:
    """A legend where it covers least: in optviz's own one-panel figures, inside the axes in
    the first corner clear of the points to ``avoid`` (data coordinates), else beside them
    (right of a landscape, whose equal units leave room there; under a chart, which takes
    the whole width); in other figures, where matplotlib finds least in the way. ``avoid``
    is covered along its lines between points too; NaN rows break it (see apart). ``style``
    goes to the legend (a title, ...)."""
    if not (hasattr(ax.figure, "optviz_theme") and len(ax.figure.axes) == 1):
        return ax.legend(handles=handles, loc="best", **style)
    if avoid is not None:
        renderer = ax.figure.canvas.get_renderer()
        ax.apply_aspect()
        points = ink(ax, [avoid])
        chart = ax.get_aspect() != 1.0  # a chart's room is its width: a legend under it costs the slide a third
        for ncols, corner in _places(len(handles) if chart else 1):
            legend = ax.legend(handles=handles, loc=corner, ncols=ncols, **style)
            if not legend.get_window_extent(renderer).padded(8).count_contains(points):
                return legend
            legend.remove()
        if chart:
            return _under_the_lines(ax, handles, avoid, **style)
    if ax.get_aspect() == 1.0:
        return ax.figure.legend(handles=handles, loc="outside right upper", frameon=False, **style)
    return figure_legend(ax.figure, handles, "outside lower center", most=2, **style)


def _under_the_lines(ax: Axes, handles: list, avoid: np.ndarray, **style: Any) -> Any:
    """A chart's legend in the lower corner that asks least, the y axis lowered (in its own
    scale, so in decades on a log axis) until the lines above the legend clear it: a band of
    the chart for the key rather than a strip of the slide under it."""
    renderer = ax.figure.canvas.get_renderer()
    box = ax.get_window_extent(renderer)
    points = ink(ax, [avoid])
    scale = ax.yaxis.get_transform()
    lo, hi = scale.transform(np.asarray(ax.get_ylim(), dtype=float))
    lowest = {}
    for corner in ("lower left", "lower right"):
        legend = ax.legend(handles=handles, loc=corner, **style)
        span = legend.get_window_extent(renderer).padded(8)
        need = 1.25 * (span.y1 - box.y0) / box.height  # a margin for the title's room yet to come
        over = points[(points[:, 0] >= span.x0) & (points[:, 0] <= span.x1), 1]
        v = lo + (over.min() - box.y0) / box.height * (hi - lo) if over.size else hi
        lowest[corner] = (v - need * hi) / (1 - need) if need < 0.75 else lo - 3 * (hi - lo)  # v at the legend's top
        legend.remove()
    corner = max(lowest, key=lowest.get)
    legend = ax.legend(handles=handles, loc=corner, **style)
    if lowest[corner] < lo:
        ax.set_ylim(scale.inverted().transform(np.array([lowest[corner], hi]))[0], ax.get_ylim()[1])
    return legend


EDGES = ("center right", "center left", "upper center", "lower center")  # a chart legend's further places


def _places(n: int) -> list[tuple[int, str]]:
    """(columns, place) to try for a legend of n entries inside the axes, best first: one
    column in a corner, then two columns (a shorter block) in a corner, then the edges' middles."""
    if n < 2:
        return [(1, corner) for corner in CORNERS]
    return [(ncols, place) for ncols in (1, 2) for place in CORNERS + EDGES]


def figure_legend(fig: Any, handles: list, loc: str, most: int | None = None, **style: Any) -> Any:
    """A legend of the figure's without a frame, in as many columns (up to ``most``) as fit
    across the figure: long entries go one under the other rather than off its sides."""
    renderer = fig.canvas.get_renderer()
    for ncols in range(min(most or len(handles), len(handles)), 0, -1):
        legend = fig.legend(handles=handles, loc=loc, frameon=False, ncols=ncols, **style)
        if ncols == 1 or legend.get_window_extent(renderer).width <= fig.bbox.width - 16:
            return legend
        legend.remove()


def clear_corner(ax: Axes, avoid: np.ndarray) -> None:
    """Once the figure is laid out (the axes may have narrowed under their legend since it
    was placed), move the axes' legend to the corner where it covers least of ``avoid`` (as
    for legend_clear_of), if it now covers some; no new layout: it stays inside the axes."""
    legend = ax.get_legend()
    if legend is None or not hasattr(ax.figure, "optviz_theme"):
        return
    renderer = ax.figure.canvas.get_renderer()
    points = ink(ax, [avoid])

    def covered() -> int:
        return int(legend.get_window_extent(renderer).padded(8).count_contains(points))

    if not covered():
        return
    costs = {}
    for corner in CORNERS:
        legend.set_loc(corner)
        costs[corner] = covered()
        if not costs[corner]:
            return
    legend.set_loc(min(CORNERS, key=costs.get))
