"""optviz: see how optimizers move.

Pure optimizer step functions equal bit for bit to torch.optim, a zoo of test functions,
batched simulation, and renders of the paths. Names load on first use, so that
``import optviz`` (and ``optviz --help``) does not pay for torch until it is needed.
"""

import importlib
import sys
import types

__version__ = "0.1.0"

_EXPORTS = {
    "functions": ["FUNCTIONS", "Minimum", "TestFunction", "get_function"],
    "optimizers": [
        "OPTIMIZERS", "AdagradState", "AdamState", "Optimizer", "RMSpropState", "SGDState",
        "adagrad", "adam", "adamw", "get_optimizer", "momentum", "nesterov", "rmsprop", "sgd",
    ],
    "simulate": ["Result", "simulate"],
    "render": ["animate", "plot", "save"],
}
_HOME = {name: module for module, names in _EXPORTS.items() for name in names}

__all__ = sorted(_HOME)


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module 'optviz' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted(list(globals()) + __all__)


class _Package(types.ModuleType):
    # Importing the submodule optviz.simulate would set the package attribute `simulate` to
    # the module, hiding the function of the same name: keep exported names for the exports.
    def __setattr__(self, name: str, value) -> None:
        if not (name in _HOME and isinstance(value, types.ModuleType)):
            super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


def _register_notebook_display() -> None:
    """In IPython, a Result displays as its plot; the plot is drawn only when displayed."""
    ipython = sys.modules.get("IPython")
    shell = ipython.get_ipython() if ipython is not None else None
    if shell is not None:
        formatter = shell.display_formatter.formatters["image/png"]
        formatter.for_type_by_name("optviz.simulate", "Result", _result_png)


def _result_png(result) -> bytes:
    from .render import png, plot

    return png(plot(result).figure)


_register_notebook_display()
