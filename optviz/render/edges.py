"""Each step of a path coloured by how close it came to its optimizer's edge of stability:
the curvature along the step over the optimizer's stable limit (lr·λ/2 for SGD), a dot at
the step's start, blue below 1 (stable, paler nearer the edge), yellow just under it, and red
past it (the step overshoots): the colour jumps at the edge, where a reader must see it.
See optviz.analyses.curvature.edge_ratios."""

from __future__ import annotations

import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm, ListedColormap

from ..analyses.curvature import edge_ratios
from ..core.simulation.result import Result
from .style import Theme

# the ratio's bins: four blues below the edge (paler nearer it), a yellow just under it, and
# reds past it, deeper the further (twice the limit and beyond the deepest): a jump at 1
EDGE_BINS = (0.0, 0.25, 0.5, 0.75, 0.9, 1.0, 1.1, 1.25, 1.5, 2.0)
EDGE_COLOURS = ListedColormap(["#313695", "#4575b4", "#74add1", "#abd9e9", "#fdd835",
                               "#f46d43", "#d73027", "#a50026", "#67001f"])
EDGE_COLOURS.set_over("#3d0011")
EDGE_NORM = BoundaryNorm(EDGE_BINS, EDGE_COLOURS.N)
DOT = 5.5  # points


def draw_edges(ax: Axes, result: Result, paths: dict[int, str], box: tuple[float, float, float, float],
               theme: Theme) -> int:
    """A dot at the start of every step of the paths ``paths`` names (path index -> colour)
    inside ``box`` (on a 1D function's curve, at (x, f(x))), coloured by its edge ratio, with a line under the figure that says what
    the colours mean. Returns the number of dots drawn (none for optimizers with no known
    limit)."""
    ratios = edge_ratios(result).numpy()
    points = result.positions.numpy()[:-1]
    if points.shape[-1] == 1:  # a curve's picture: the points sit on f
        points = np.concatenate([points, result.losses.numpy()[:-1, :, None]], axis=-1)
    x0, x1, y0, y1 = box
    drawn = 0
    for b in paths:
        xy, ratio = points[:, b], ratios[:, b]
        keep = np.isfinite(ratio) & (xy[:, 0] >= x0) & (xy[:, 0] <= x1) & (xy[:, 1] >= y0) & (xy[:, 1] <= y1)
        if not keep.any():
            continue
        ax.scatter(xy[keep, 0], xy[keep, 1], c=ratio[keep], cmap=EDGE_COLOURS, norm=EDGE_NORM, s=DOT**2,
                   edgecolors=theme.foreground, linewidths=0.6, zorder=6, gid=f"edge:{b}")
        drawn += int(keep.sum())
    if drawn:
        note = ax.figure.text(0.01, 0.005, "dots: curvature ÷ stable limit; red past the edge", ha="left", va="bottom",
                              fontsize="small", color=theme.muted, gid="edge:caption")
        note.set_in_layout(False)
    return drawn
