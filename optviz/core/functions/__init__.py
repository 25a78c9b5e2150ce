"""Test functions: the zoo of classics with hand-written gradients, formulas, Python
callables, and functions known on a grid; ``get_function`` finds any of them.

The names load on first use, so that a formula is checked (``formulas.check_expression``)
without loading torch.
"""

import importlib

_HOME = {"function": "callables", "Minimum": "surface", "TestFunction": "surface", "sampled_function": "surface",
         "FUNCTIONS": "zoo", "get_function": "zoo"}

__all__ = ["FUNCTIONS", "Minimum", "TestFunction", "function", "get_function", "sampled_function"]


def __getattr__(name: str):
    if name not in _HOME:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{_HOME[name]}", __name__), name)
    globals()[name] = value
    return value


def __dir__():
    return sorted({*globals(), *_HOME})
