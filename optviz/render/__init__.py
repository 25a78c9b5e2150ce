"""Pictures of optimizer paths: stills for slides and papers, and fast animated GIFs."""

from .gif import Animation, animate
from .stills import (
    contour,
    curve,
    figure,
    function_curve,
    grid,
    loss,
    path_colours,
    paths,
    plot,
    png,
    save,
    surface,
)
from .style import PALETTE, SIZES, THEMES

__all__ = [
    "Animation", "PALETTE", "SIZES", "THEMES", "animate", "contour", "curve", "figure",
    "function_curve", "grid", "loss", "path_colours", "paths", "plot", "png", "save", "surface",
]
