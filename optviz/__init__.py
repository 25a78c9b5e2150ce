"""optviz: see how optimizers move.

Pure optimizer step functions equal bit for bit to torch.optim, a zoo of test functions,
batched simulation, and renders of the paths. The package is built in five floors, each a
folder that imports only from the floors below it: ``core`` (functions, optimizers,
simulation), ``analyses`` (studies, penalties, models), ``render`` (pictures), ``documents``
(scenario files, the gallery) and ``interface`` (the command line).

Names and modules load on first use (``optviz.adam``, ``optviz.optim.Adam``,
``optviz.render.plot``, ``optviz.landscape.landscape``), so that ``import optviz`` (and
``optviz --help``) does not pay for torch until it is needed.
"""

import importlib
import sys

from .core import __version__  # noqa: F401 - optviz.__version__

# public names -> the module that defines them; besides these, every built-in optimizer's
# public names (optviz.adam, optviz.AdamState, optviz.Optimizer) come from its block
_EXPORTS = {
    "core.functions": ["FUNCTIONS", "Minimum", "TestFunction", "function", "get_function"],
    "core.optimizers.registry": ["OPTIMIZERS", "get_optimizer", "scheduled"],
    "core.optimizers.foreign": ["TorchOptimizer", "torch_optimizer"],
    "core.simulation.result": ["Result"],
    "core.simulation.runs": ["simulate"],
    "analyses.races": ["race"],
    "render": ["animate", "plot", "save"],
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}
# modules reached as attributes, by the names they had before the package took floors
_MODULES = {
    "conformance": "analyses.conformance", "experiments": "analyses.models.experiments",
    "expressions": "core.functions.formulas", "functions": "core.functions", "gallery": "documents.gallery",
    "landscape": "analyses.models.landscapes", "noise": "core.simulation.noise", "optim": "core.optimizers.optim",
    "optimizers": "core.optimizers.family", "penalties": "analyses.penalties", "projection": "analyses.projection",
    "registry": "core.optimizers.registry", "render": "render", "scenario": "documents.scenario",
    "schedules": "core.optimizers.schedules", "studies": "analyses.studies",
    "torch_optimizers": "core.optimizers.foreign",
}


def __getattr__(name: str):
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{_MODULES[name]}", __name__)
    elif name == "__all__":  # made on first use: the built-ins' names load torch
        value = sorted([*_HOME, *_built_ins()])
    elif not name.startswith("_") and name in _built_ins():
        value = getattr(importlib.import_module(".core.optimizers.family", __name__), name)
    else:
        raise AttributeError(f"module 'optviz' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_HOME, *_MODULES, *_built_ins()})


def _built_ins() -> list[str]:
    """The built-in optimizers' public names, but the teaching variants' (optviz.optimizers has those)."""
    family = importlib.import_module(".core.optimizers.family", __name__)
    teaching = {entry.name for entry in family.ENTRIES if entry.teaching}
    return [name for name in family.__all__ if name not in teaching]


def _register_notebook_display() -> None:
    """In IPython, what optviz draws displays as its picture, as seaborn's plots do, with no
    ``%matplotlib inline``: a Result as its plot, and the Axes and Figures optviz returns.
    Figures that optviz did not make keep IPython's usual display."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        formatter = shell.display_formatter.formatters["image/png"]
        formatter.for_type_by_name("optviz.core.simulation.result", "Result", _result_png)
        formatter.for_type_by_name("matplotlib.axes._base", "_AxesBase", lambda ax: _figure_png(ax.figure))
        formatter.for_type_by_name("matplotlib.figure", "Figure", _figure_png)


def _result_png(result) -> bytes:
    from .render import plot

    return _figure_png(plot(result).figure)


def _figure_png(figure) -> bytes | None:
    if not hasattr(figure, "optviz_theme"):
        return None  # not ours: IPython shows it as it would anyway
    from .render import png

    return png(figure)


_register_notebook_display()
