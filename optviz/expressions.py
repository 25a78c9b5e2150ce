"""Custom test functions from text: ``"x**2 + 10*sin(y)"`` -> TestFunction.

The text is parsed with Python's ``ast`` and checked against a whitelist: numbers, the names
``x`` and ``y``, the constants ``pi`` and ``e``, + - * / ** and unary minus, and calls of the
math functions below. Nothing is ever passed to ``eval`` or ``exec``: the checked tree is
turned into a closure of torch ops, and its gradient comes from autograd.
"""

from __future__ import annotations

import ast
import math
import operator
from typing import Callable, Sequence

import torch
from torch import Tensor

from .functions import TestFunction

FUNCTIONS: dict[str, Callable[[Tensor], Tensor]] = {
    "sin": torch.sin, "cos": torch.cos, "tan": torch.tan, "exp": torch.exp, "log": torch.log,
    "sqrt": torch.sqrt, "abs": torch.abs, "tanh": torch.tanh, "sinh": torch.sinh,
    "cosh": torch.cosh, "arctan": torch.atan, "atan": torch.atan, "sign": torch.sign,
}
CONSTANTS = {"pi": math.pi, "e": math.e}
OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow,
}
MAX_EXPONENT = 100
MAX_LENGTH = 500

Compiled = Callable[[Tensor, Tensor], Tensor | float]


class ExpressionError(ValueError):
    """A function text outside the whitelist, with the offending part named."""


def parse_expression(
    text: str,
    bounds: Sequence[Sequence[float]] = ((-5.0, 5.0), (-5.0, 5.0)),
    *,
    start: Sequence[float] | None = None,
    name: str | None = None,
) -> TestFunction:
    """A TestFunction of x (1D bounds) or x and y (2D bounds) from ``text``."""
    if not isinstance(text, str):
        raise TypeError(f"expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"expression is {len(text)} characters long; the limit is {MAX_LENGTH}")
    bounds = tuple((float(lo), float(hi)) for lo, hi in bounds)
    if len(bounds) not in (1, 2) or any(not lo < hi for lo, hi in bounds):
        raise ExpressionError(f"bounds must be 1 or 2 pairs (lo, hi) with lo < hi, got {bounds}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"{text!r} is not a formula: {error.msg} at column {error.offset}") from None
    names = {"x", "y"} if len(bounds) == 2 else {"x"}
    compiled = _compile(tree.body, text, names)

    def value(points: Tensor) -> Tensor:
        result = compiled(points[..., 0], points[..., -1])
        if isinstance(result, Tensor):
            return result
        return torch.full(points.shape[:-1], result, dtype=points.dtype)  # a constant formula

    def grad(points: Tensor) -> Tensor:
        with torch.enable_grad():
            p = points.detach().clone().requires_grad_(True)
            out = value(p)
            if not out.requires_grad:  # a constant: flat everywhere
                return torch.zeros_like(points)
            (g,) = torch.autograd.grad(out.sum(), p)
        return g

    centre = tuple((lo + hi) / 2 for lo, hi in bounds)
    return TestFunction(
        name=name or text,
        value_fn=value,
        grad_fn=grad,
        bounds=bounds,
        minima=(),
        start=tuple(float(v) for v in start) if start is not None else centre,
        description=f"custom: {text}",
        formula=text,
        recipe={"expression": text},
    )


def _compile(node: ast.AST, text: str, names: set[str]) -> Compiled:
    """The node as a closure of torch ops, or ExpressionError naming the offending part."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        number = float(node.value)
        return lambda x, y: number
    if isinstance(node, ast.Name):
        if node.id in names:
            return (lambda x, y: x) if node.id == "x" else (lambda x, y: y)
        if node.id in CONSTANTS:
            number = CONSTANTS[node.id]
            return lambda x, y: number
        allowed = ", ".join(sorted(names | set(CONSTANTS)))
        raise _error(text, node, f"unknown name {node.id!r} (allowed: {allowed})")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _compile(node.operand, text, names)
        return (lambda x, y: -inner(x, y)) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        if isinstance(node.op, ast.Pow):
            _check_exponent(node.right, text)
        op = OPERATORS[type(node.op)]
        left, right = _compile(node.left, text, names), _compile(node.right, text, names)
        return lambda x, y: op(left(x, y), right(x, y))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in FUNCTIONS:
            called = ast.get_source_segment(text, node.func) or "this"
            raise _error(text, node, f"cannot call {called!r} (allowed: {', '.join(FUNCTIONS)})")
        if len(node.args) != 1 or node.keywords:
            raise _error(text, node, f"{node.func.id}() takes exactly one argument")
        fn, inner = FUNCTIONS[node.func.id], _compile(node.args[0], text, names)
        return lambda x, y: fn(torch.as_tensor(inner(x, y), dtype=x.dtype))
    raise _error(text, node, f"{_describe(node)} is not allowed in a formula")


def _check_exponent(node: ast.AST, text: str) -> None:
    value = node.operand if isinstance(node, ast.UnaryOp) else node
    if isinstance(value, ast.Constant) and isinstance(value.value, (int, float)) and abs(value.value) > MAX_EXPONENT:
        raise _error(text, node, f"exponent {value.value} is too large (at most {MAX_EXPONENT})")


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "an attribute", ast.Subscript: "a subscript", ast.Lambda: "a lambda",
        ast.Compare: "a comparison", ast.BoolOp: "a boolean operator", ast.IfExp: "an if expression",
        ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict", ast.JoinedStr: "an f-string",
        ast.ListComp: "a comprehension", ast.GeneratorExp: "a generator", ast.Starred: "a starred value",
    }
    if isinstance(node, ast.Constant):
        return f"the constant {node.value!r}"
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__}"
    return kinds.get(type(node), type(node).__name__)


def _error(text: str, node: ast.AST, message: str) -> ExpressionError:
    part = ast.get_source_segment(text.strip(), node) or ""
    where = f" at {part!r} (column {node.col_offset + 1})" if part else ""
    return ExpressionError(f"in {text!r}{where}: {message}")
