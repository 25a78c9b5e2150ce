"""Measures of how a figure looks: what a lecturer checks at the back of the room, in numbers.

- ``visible_shares``: of each path's own pixels, the share still visible in the whole
  figure (the figure with and without that path differ there);
- ``text_collisions``: pairs of texts whose boxes intersect;
- ``ink_under_text``: the share of each path's pixels covered by text;
- ``aspect_error``: how far a 2D picture's units are from equal on both axes;
- ``worst_contrast``: the lowest WCAG contrast of a path's colour against the fill under it;
- ``data_share``: the share of the figure its axes (panels and colour bars) take;
- ``empty_cells``: the places of a grid left blank;
- ``paths_under_labels``: per path, the share of its pixels under a text or a legend, drawn
  with no text or legend over it;
- ``minima_under_labels``: the marked minima a text or a legend covers.

Each measure draws the figure several times over. Inside ``with held(fig):``, where the figure
is measured and not changed, each arrangement of shown and hidden paths is drawn once.
"""

import io
import itertools
from contextlib import contextmanager

import numpy as np
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.text import Text
from matplotlib.transforms import Bbox
from PIL import Image

from optviz.render.style import contrast

MEASURED_AT = 0.5  # of the figure's dpi, once laid out: shares of pixels read the same at a quarter of them
_HELD: dict[int, dict[tuple, np.ndarray]] = {}  # id(figure) -> its drawings by the paths shown


@contextmanager
def held(fig):
    """A block in which the figure is only measured: its drawings are kept until the block ends."""
    _HELD[id(fig)] = {}
    dpi = fig.dpi
    try:
        yield
    finally:
        del _HELD[id(fig)]
        fig.set_dpi(dpi)


def pixels(fig) -> np.ndarray:
    """The figure as a read-only RGB array, as it would be saved. The first call lays the
    figure out and then holds that layout, so that showing or hiding a path changes only its
    pixels."""
    drawings = _HELD.get(id(fig), {})
    shown = tuple(a.get_visible() for a in path_artists(fig)) + tuple(a.get_visible() for a in labels(fig))
    if shown not in drawings:
        canvas = fig.canvas if isinstance(fig.canvas, FigureCanvasAgg) else FigureCanvasAgg(fig)
        if id(fig) in _HELD and not drawings:  # laid out at its own dpi, then held and drawn at fewer pixels
            canvas.draw()
            fig.set_layout_engine("none")
            fig.set_dpi(fig.dpi * MEASURED_AT)
        canvas.draw()
        fig.set_layout_engine("none")
        drawings[shown] = np.asarray(canvas.buffer_rgba())[..., :3].copy()
        drawings[shown].flags.writeable = False
    return drawings[shown]


def labels(fig) -> list:
    """Every legend and text of the figure: what may lie over the paths."""
    return [*(list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]),
            *fig.findobj(Text)]


def path_artists(fig, index=None):
    def wanted(artist):
        gid = artist.get_gid() or ""
        return gid.startswith("path:") and (index is None or gid == f"path:{index}")

    return fig.findobj(wanted)


def path_indices(fig):
    return sorted({int(a.get_gid().split(":")[1]) for a in path_artists(fig)})


def _showing(fig, artists, visible):
    before = [a.get_visible() for a in artists]
    for a in artists:
        a.set_visible(visible)
    return before


def visible_shares(fig) -> dict[int, float]:
    """Per path index: |pixels the path changes alone, and still changes in the whole| /
    |pixels the path changes alone|."""
    everything = path_artists(fig)
    whole = pixels(fig)
    shares = {}
    for index, own, alone in _each_alone(fig, everything):
        _showing(fig, everything, True)
        _showing(fig, own, False)
        without = pixels(fig)
        _showing(fig, everything, False)
        seen = (whole != without).any(axis=-1) & alone
        shares[index] = seen.sum() / max(alone.sum(), 1)
    _showing(fig, everything, True)
    return shares


def _each_alone(fig, everything):
    """(path index, its artists, the pixels it changes when drawn alone), with every path
    hidden between the yields."""
    _showing(fig, everything, False)
    empty = pixels(fig)
    for index in path_indices(fig):
        own = path_artists(fig, index)
        _showing(fig, own, True)
        alone = (pixels(fig) != empty).any(axis=-1)
        _showing(fig, own, False)
        yield index, own, alone


def texts(fig) -> list:
    """Every text the figure draws (tick labels only for ticks inside the view), with its
    box in pixels."""
    pixels(fig)  # lay out
    renderer = fig.canvas.get_renderer()
    ticks, drawn = set(), []
    for ax in fig.axes:
        if not ax.get_visible():  # an empty place in a grid draws nothing
            ticks.update(id(t) for a in (ax.xaxis, ax.yaxis) for tick in a.get_major_ticks() + a.get_minor_ticks()
                         for t in (tick.label1, tick.label2))
            continue
        for axis in (ax.xaxis, ax.yaxis):
            scaled = axis.get_transform().transform  # in the axis's own scale: a log axis's slack in decades
            lo, hi = sorted(scaled(np.asarray(axis.get_view_interval(), dtype=float)))
            slack = 1e-9 * max(1.0, hi - lo)
            for locs, made in ((axis.get_majorticklocs(), axis.get_major_ticks), (axis.get_minorticklocs(), axis.get_minor_ticks)):
                for loc, tick in zip(scaled(np.asarray(locs, dtype=float)), made(len(locs))):
                    for label in (tick.label1, tick.label2):
                        ticks.add(id(label))
                        if label.get_visible() and lo - slack <= loc <= hi + slack:
                            drawn.append(label)
    found = []
    for text in fig.findobj(Text):
        if (id(text) not in ticks or text in drawn) and text.get_visible() and text.get_text().strip() and _shown(text):
            found.append((text.get_text(), text.get_window_extent(renderer)))
    return found


def _shown(text) -> bool:
    """Not in a hidden panel (an empty place in a grid)."""
    return text.axes is None or text.axes.get_visible()


def text_collisions(fig, slack: float = 1.0) -> list[tuple[str, str]]:
    """Pairs of texts whose boxes (shrunk by ``slack`` pixels) intersect."""
    boxes = texts(fig)
    clashes = []
    for (a, box_a), (b, box_b) in itertools.combinations(boxes, 2):
        if (min(box_a.x1, box_b.x1) - max(box_a.x0, box_b.x0) > slack
                and min(box_a.y1, box_b.y1) - max(box_a.y0, box_b.y0) > slack):
            clashes.append((a, b))
    return clashes


def ink_under_text(fig) -> dict[int, float]:
    """Per path index: the share of its pixels (drawn with no text over it) that lie under
    some text's box."""
    return _under(fig, [box for _, box in texts(fig)])


def _under(fig, boxes) -> dict[int, float]:
    """Per path index: the share of its pixels under the boxes, each path drawn alone with
    every text and legend hidden (the drawings the measures of cover share)."""
    height = int(fig.bbox.height)
    under = np.zeros(pixels(fig).shape[:2], dtype=bool)
    for box in boxes:
        under[max(0, height - int(np.ceil(box.y1))):height - int(box.y0), max(0, int(box.x0)):int(np.ceil(box.x1))] = True
    hidden = _showing(fig, labels(fig), False)
    everything = path_artists(fig)
    shares = {index: (alone & under).sum() / max(alone.sum(), 1) for index, _, alone in _each_alone(fig, everything)}
    _showing(fig, everything, True)
    for artist, visible in zip(labels(fig), hidden):
        artist.set_visible(visible)
    return shares


def aspect_error(ax) -> float:
    """|data units per pixel along x / along y - 1| once the figure is laid out."""
    pixels(ax.figure)
    box = ax.get_window_extent()
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    return abs(((x1 - x0) / box.width) / ((y1 - y0) / box.height) - 1)


def worst_contrast(ax, result) -> dict[str, float]:
    """Per path colour: the lowest contrast against the fill at the path's points in frame, of
    the path as drawn (its colour, or the casing under it where that stands out more)."""
    filled = next(c for c in ax.collections if hasattr(c, "optviz_log"))
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    worst = {}
    for line in path_artists(ax.figure):
        if not hasattr(line, "get_xydata") or line.get_alpha() not in (None, 1):
            continue
        xy = line.get_xydata()
        keep = np.isfinite(xy).all(axis=1) & (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        if not keep.any():
            continue
        import torch

        values = result.function(torch.tensor(xy[keep], dtype=torch.float64)).numpy()
        fills = filled.cmap(filled.norm(values))
        colour, edge = line.get_color(), casing_colour(line)
        seen = [max(contrast(colour, f[:3]), contrast(edge, f[:3]) if edge else 1.0) for f in fills]
        worst[colour] = min(worst.get(colour, 21.0), min(seen))
    return worst


def casing_colour(line):
    """The colour of the edge drawn around a line (its first stroke effect), or around a
    marker drawn alone (its rim), if it has one."""
    from matplotlib.patheffects import Stroke

    strokes = [e for e in line.get_path_effects() if isinstance(e, Stroke)]
    if strokes:
        return strokes[0]._gc["foreground"]
    no_line = line.get_linestyle() in ("None", "none", "") or len(line.get_xydata()) < 2
    alone = no_line and line.get_marker() not in (None, "None", "")
    return line.get_markeredgecolor() if alone and line.get_markeredgewidth() > 0 else None


def legend_texts(fig) -> list[str]:
    """The entries of every legend, in the figure or in its axes."""
    legends = list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None]
    return [t.get_text() for legend in legends for t in legend.get_texts()]


def png_size(fig) -> tuple[int, int]:
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return Image.open(out).size


def legends(fig) -> list:
    """Every legend shown: the figure's and its visible axes'."""
    return list(fig.legends) + [ax.get_legend() for ax in fig.axes if ax.get_visible() and ax.get_legend() is not None]


def outside_figure(fig, slack: float = 1.0) -> list[str]:
    """The texts and legends that run past the figure's edges (by more than ``slack`` pixels)."""
    pixels(fig)
    edge = fig.bbox.padded(slack)
    boxes = texts(fig) + [(f"legend {legend_texts_of(legend)}", legend_box(legend)) for legend in legends(fig)]
    return [name for name, box in boxes if not (edge.x0 <= box.x0 and box.x1 <= edge.x1 and edge.y0 <= box.y0
                                                 and box.y1 <= edge.y1)]


def legend_texts_of(legend) -> list[str]:
    return [t.get_text() for t in legend.get_texts()]


def legend_box(legend):
    """What a legend covers: its frame, or without one its entries' texts and line samples."""
    renderer = legend.figure.canvas.get_renderer()
    if legend.get_frame_on():
        return legend.get_window_extent(renderer)
    parts = [t.get_window_extent(renderer) for t in legend.get_texts()]
    parts += [h.get_window_extent(renderer) for h in legend.legend_handles if h is not None]
    return Bbox.union(parts)


def legend_clashes(fig, slack: float = 1.0) -> list[tuple[str, str]]:
    """A legend over a text not its own (a tick label, a title, another axes' label), and an
    axes' legend that reaches out of its axes: (the legend's entries, what it runs into)."""
    pixels(fig)
    renderer = fig.canvas.get_renderer()
    clashes = []
    for legend in legends(fig):
        box = legend_box(legend).padded(-slack)
        own = {t.get_text() for t in legend.get_texts()} | {legend.get_title().get_text()}
        name = ", ".join(legend_texts_of(legend))
        clashes += [(name, text) for text, other in texts(fig) if text not in own and box.overlaps(other)]
        if legend in [ax.get_legend() for ax in fig.axes]:
            inside = legend.axes.get_window_extent(renderer)
            if not (inside.x0 <= box.x0 and box.x1 <= inside.x1 and inside.y0 <= box.y0 and box.y1 <= inside.y1):
                clashes.append((name, "outside its axes"))
    return clashes


def bar_label_gaps(fig) -> dict[str, float]:
    """Per colour bar label: its gap in points to the farthest of its bar's tick labels."""
    pixels(fig)
    renderer = fig.canvas.get_renderer()
    gaps = {}
    for ax in fig.axes + [child for ax in fig.axes for child in ax.child_axes]:
        if not (ax.get_visible() and hasattr(ax, "_colorbar")):
            continue
        for axis in (ax.xaxis, ax.yaxis):
            label = axis.label
            ticks = [t.get_window_extent(renderer) for t in axis.get_ticklabels() if t.get_visible() and t.get_text()]
            if not (label.get_visible() and label.get_text() and ticks):
                continue
            box = label.get_window_extent(renderer)
            if axis is ax.yaxis:
                gap = box.x0 - max(t.x1 for t in ticks) if box.x0 >= ax.bbox.x1 else min(t.x0 for t in ticks) - box.x1
            else:
                gap = box.y1 - max(t.y1 for t in ticks) if box.y0 >= ax.bbox.y1 else min(t.y0 for t in ticks) - box.y1
            gaps[label.get_text()] = gap * 72 / fig.dpi
    return gaps


def title_margins(fig) -> float:
    """The figure title's least distance to the figure's sides, in points (inf without one)."""
    title = fig._suptitle
    if title is None or not title.get_text():
        return float("inf")
    pixels(fig)
    box = title.get_window_extent(fig.canvas.get_renderer())
    return min(box.x0, fig.bbox.width - box.x1) * 72 / fig.dpi


def data_share(fig) -> float:
    """The share of the figure's area its visible axes take: the panels, with their colour
    bars (the data's key), once the figure is laid out."""
    pixels(fig)
    shown = [a for ax in fig.axes if ax.get_visible() for a in [ax, *ax.child_axes] if a.get_visible()]
    return sum(a.bbox.width * a.bbox.height for a in shown) / (fig.bbox.width * fig.bbox.height)


def empty_cells(fig) -> int:
    """The places of the figure's grid left blank: hidden axes."""
    return sum(not ax.get_visible() for ax in fig.axes)


def _label_boxes(fig) -> list:
    """The boxes of every text and legend drawn (in pixels)."""
    return [box for _, box in texts(fig)] + [legend_box(legend) for legend in legends(fig)]


def paths_under_labels(fig) -> dict[int, float]:
    """Per path index: the share of its pixels (drawn alone, with no text or legend over it)
    that some text's or legend's box covers."""
    return _under(fig, _label_boxes(fig))


def minima_under_labels(fig) -> list[tuple[float, float]]:
    """The marked minima (stars) whose marker a text's or a legend's box touches."""
    boxes = _label_boxes(fig)
    covered = []
    for star in fig.findobj(lambda a: a.get_gid() == "minimum"):
        if not (star.axes.get_visible() and star.get_visible()):
            continue
        radius = star.get_markersize() * fig.dpi / 72 / 2
        for x, y in star.get_xydata():
            px, py = star.axes.transData.transform((x, y))
            if star.axes.bbox.contains(px, py) and any(box.padded(radius).contains(px, py) for box in boxes):
                covered.append((float(x), float(y)))
    return covered
