"""Test functions: the zoo of classics with hand-written gradients, formulas, Python
callables, and functions known on a grid; ``get_function`` finds any of them."""

from .callables import function
from .surface import Minimum, TestFunction, sampled_function
from .zoo import FUNCTIONS, get_function

__all__ = ["FUNCTIONS", "Minimum", "TestFunction", "function", "get_function", "sampled_function"]
