"""The third floor: pictures of optimizer paths, stills for slides and papers, fast animated
GIFs and the interactive page.

``style`` decides the look, ``kinds`` what can be drawn, ``canvas`` makes and writes
figures, ``frames`` chooses what part of the plane to show and where labels go,
``contours`` draws the landscape, ``trajectories`` the paths on it (axes-level), ``charts``
the numbers, ``figures`` the figure-level pictures (``plot``, ``grid``, ``picture``), ``gif``
the animations, and ``page`` the interactive HTML page (with ``javascript``, its code made
from optviz's own definitions). Names load on first use: ``import optviz.render.style``
loads neither matplotlib nor torch.
"""

import importlib

# public names -> the module of this folder that defines them (and its name there)
_HOMES = {
    "canvas": ["figure", "png", "save"],
    "charts": ["basin_map", "landscape_sharpness", "learning_rates", "line_chart", "loss", "penalty_paths", "sharpness",
               "spectrum", "stability", "stability_loss", "stability_sharpness", "sweep_map", "training"],
    "contours": ["contour", "function_curve"],
    "gif": ["Animation", "animate"],
    "page": ["html=html_page"],
    "style": ["SIZES", "THEMES"],
    "trajectories": ["curve", "path_colours", "paths", "surface"],
    "figures": ["grid", "picture", "plot"],
}
_HOME = {entry.split("=")[0]: (module, entry.split("=")[-1]) for module, names in _HOMES.items() for entry in names}

__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attribute = _HOME[name]
    value = getattr(importlib.import_module(f".{module}", __name__), attribute)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)
