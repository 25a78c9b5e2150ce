"""Pictures of optimizer paths: stills for slides and papers, and fast animated GIFs.

``style`` decides the look, ``canvas`` makes and writes figures, ``frames`` chooses what
part of the plane to show and where labels go, ``contours`` draws the landscape,
``trajectories`` the paths on it, ``charts`` the numbers, ``gif`` the animations, and
``page`` the interactive HTML page.
"""

from .canvas import figure, png, save
from .charts import basin_map, learning_rates, line_chart, loss, penalty_paths, sweep_map, training
from .contours import contour, function_curve
from .gif import Animation, animate
from .page import html_page as html
from .style import SIZES, THEMES
from .trajectories import curve, grid, path_colours, paths, picture, plot, surface

__all__ = [
    "SIZES", "THEMES", "Animation", "animate", "basin_map", "contour", "curve", "figure", "function_curve", "grid",
    "html", "learning_rates", "line_chart", "loss", "path_colours", "paths", "penalty_paths", "picture", "plot", "png", "save", "surface", "sweep_map", "training",
]
