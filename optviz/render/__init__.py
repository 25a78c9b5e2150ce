"""Pictures of optimizer paths: stills for slides and papers, and fast animated GIFs."""

from .gif import Animation, animate
from .stills import (
    basin_map,
    contour,
    curve,
    figure,
    function_curve,
    grid,
    loss,
    path_colours,
    paths,
    penalty_paths,
    plot,
    png,
    save,
    surface,
    training,
    sweep_map,
)
from .style import PALETTE, SIZES, THEMES

__all__ = [
    "PALETTE", "SIZES", "THEMES", "Animation", "animate", "basin_map", "contour", "curve", "figure",
    "function_curve", "grid", "loss", "path_colours", "paths", "penalty_paths", "plot", "png", "save",
    "surface", "sweep_map", "training",
]
