"""optviz: see how optimizers move.

Pure optimizer step functions equal bit for bit to torch.optim, a zoo of test functions,
batched simulation, and renders of the paths. Names and subpackages load on first use
(``optviz.adam``, ``optviz.optim.Adam``, ``optviz.render.plot``), so that ``import optviz``
(and ``optviz --help``) does not pay for torch until it is needed.
"""

import importlib
import sys
import types

__version__ = "0.2.0"

_EXPORTS = {
    "functions": ["FUNCTIONS", "Minimum", "TestFunction", "function", "get_function"],
    "optimizers": [
        "AdagradState", "AdamState", "Optimizer", "RMSpropState", "SGDState",
        "adagrad", "adam", "adamw", "momentum", "nesterov", "rmsprop", "sgd",
    ],
    "registry": ["OPTIMIZERS", "get_optimizer", "scheduled"],
    "torch_optimizers": ["TorchOptimizer", "torch_optimizer"],
    "result": ["Result"],
    "simulate": ["simulate"],
    "render": ["animate", "plot", "save"],
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}
# submodules reached as attributes (optviz.simulate and optviz.functions' names stay the exports)
_MODULES = (
    "conformance", "experiments", "expressions", "functions", "gallery", "landscape", "optim",
    "noise", "optimizers", "penalties", "projection", "registry", "render", "scenario", "schedules", "studies",
    "torch_optimizers",
)

__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name in _HOME:
        value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    elif name in _MODULES:
        value = importlib.import_module(f".{name}", __name__)
    else:
        raise AttributeError(f"module 'optviz' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__ + list(_MODULES))


class _Package(types.ModuleType):
    # Importing the submodule optviz.simulate would set the package attribute `simulate` to
    # the module, hiding the function of the same name: keep exported names for the exports.
    def __setattr__(self, name: str, value) -> None:
        if not (name in _HOME and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def _register_notebook_display() -> None:
    """In IPython, what optviz draws displays as its picture, as seaborn's plots do, with no
    ``%matplotlib inline``: a Result as its plot, and the Axes and Figures optviz returns.
    Figures that optviz did not make keep IPython's usual display."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        formatter = shell.display_formatter.formatters["image/png"]
        formatter.for_type_by_name("optviz.result", "Result", _result_png)
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
