"""Custom test functions from text: ``"x**2 + 10*sin(y)"`` -> TestFunction.

The text is parsed with Python's ``ast`` and checked against a whitelist: numbers, the names
``x`` and ``y`` (in 1 or 2 dimensions) or ``x1 ... xn`` (in any), the constants ``pi`` and ``e``, + - * / ** and unary minus, and calls of the
math functions below. Nothing is ever passed to ``eval`` or ``exec``: the checked tree is
turned into a closure of torch ops, and its gradient comes from autograd. The checks need no
torch (:func:`check_expression`), so the command line refuses a bad formula before it loads.

Hostile text is refused with one line before anything runs: every constant part is evaluated
once at parse time in float64 and must be a finite real number, every exponent whose value is
constant must lie within +-MAX_EXPONENT however it is written, the formula nests at most
MAX_NESTING levels deep (a chain of sums or products, as written on paper, is one level), and
messages quote at most about 60 characters of the text.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from typing import Callable, Sequence

from typing import TYPE_CHECKING

from ..limits import MAX_DIM, MAX_EXPONENT, MAX_LENGTH, MAX_NESTING
from ..names import quoted

if TYPE_CHECKING:
    import torch
    from torch import Tensor

    from .surface import TestFunction

CALLS: dict[str, str] = {  # the math functions a formula may call -> torch's function of each
    "sin": "sin", "cos": "cos", "tan": "tan", "exp": "exp", "log": "log", "sqrt": "sqrt", "abs": "abs",
    "tanh": "tanh", "sinh": "sinh", "cosh": "cosh", "arctan": "atan", "atan": "atan", "sign": "sign",
}
CONSTANTS = {"pi": math.pi, "e": math.e}
OPERATORS = {
    ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul,
    ast.Div: operator.truediv, ast.Pow: operator.pow,
}
QUOTED = 61  # characters of a formula a message repeats, the ellipsis included: hostile text is not echoed whole
DEFAULT_BOUNDS = (-5.0, 5.0)  # per coordinate, when none are given

Compiled = Callable[["Tensor"], "Tensor | float"]  # points (..., dim) -> values


class ExpressionError(ValueError):
    """A function text outside the whitelist, with the offending part named."""


def parse_expression(
    text: str,
    bounds: Sequence[Sequence[float]] | None = None,
    *,
    start: Sequence[float] | None = None,
    name: str | None = None,
) -> TestFunction:
    """A TestFunction from ``text``: of x (1 pair of bounds), x and y (2 pairs), or x1 ... xn
    (n pairs). Without bounds, each coordinate spans -5..5 and the dimension is 2, or the
    highest xk the formula names."""
    import torch

    from .surface import TestFunction

    tree, bounds, compiled = _checked(text, bounds)

    def value(points: Tensor) -> Tensor:
        result = compiled(points)
        if isinstance(result, float):  # a constant formula
            return torch.full(points.shape[:-1], result, dtype=points.dtype)
        return result

    def grad(points: Tensor) -> Tensor:
        with torch.enable_grad():
            p = points.detach().clone().requires_grad_(True)
            out = value(p)
            if not out.requires_grad:  # a constant: flat everywhere
                return torch.zeros_like(points)
            (g,) = torch.autograd.grad(out.sum(), p)
        return g

    return TestFunction(
        title=name if name and name != text else "",
        tex=f"${to_tex(tree.body)}$",
        name=name or text,
        value_fn=value,
        grad_fn=grad,
        bounds=bounds,
        minima=(),
        start=tuple(float(v) for v in start) if start is not None else shown_start(value, bounds),
        description=f"custom: {text}",
        formula=text,
        recipe={"expression": text},
    )


START_REACH = 0.8  # a formula's own start: this share of the way from the frame's centre to a corner
START_GRID = 41  # points per side of the grid that looks for the frame's lowest point (1D and 2D)


def shown_start(value: Callable[[Tensor], Tensor], bounds: tuple[tuple[float, float], ...]) -> tuple[float, ...]:
    """A formula's start, chosen so that its path shows: of the points START_REACH of the
    way from the frame's centre to its corners (its ends in 1D, two opposite corners beyond
    2D), the one farthest from the lowest point found (on a grid in 1D and 2D, among those
    points and the centre beyond), where f is finite; the first of equals. The centre if f
    is finite at none."""
    import itertools

    import torch

    lo, hi = (torch.tensor(side, dtype=torch.float64) for side in zip(*bounds))
    centre, half = (lo + hi) / 2, (hi - lo) / 2
    signs = list(itertools.product((-1.0, 1.0), repeat=len(bounds))) if len(bounds) <= 2 else \
        [(-1.0,) * len(bounds), (1.0,) * len(bounds)]
    candidates = centre + START_REACH * half * torch.tensor(signs, dtype=torch.float64)
    if len(bounds) <= 2:
        axes = [torch.linspace(a, b, START_GRID, dtype=torch.float64) for a, b in bounds]
        grid = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1).reshape(-1, len(bounds))
    else:
        grid = torch.cat([centre[None], candidates])
    with torch.no_grad():
        values = value(grid).double()
    values = torch.where(values.isfinite(), values, torch.inf)
    if not values.isfinite().any():
        return tuple(round(v, 12) for v in centre.tolist())
    lowest = grid[int(values.argmin())]
    with torch.no_grad():
        usable = value(candidates).isfinite()
    distances = torch.where(usable, (candidates - lowest).norm(dim=-1), -1.0)
    best = int(torch.argmax(torch.round(distances, decimals=9)))
    chosen = candidates[best] if distances[best] >= 0 else centre
    return tuple(round(v, 12) for v in chosen.tolist())  # -2.4, not -2.4000000000000004


def check_expression(text: str, bounds: Sequence[Sequence[float]] | None = None) -> int:
    """The dimension of the formula ``text`` over ``bounds``, or ExpressionError: every check
    :func:`parse_expression` makes, without torch (but for a function called on a constant,
    such as sin(2), which torch evaluates)."""
    return len(_checked(text, bounds)[1])


def _checked(text: str, bounds: Sequence[Sequence[float]] | None) -> tuple[ast.Expression, tuple, Compiled]:
    """The formula's tree, its bounds and its closure, every part checked."""
    if not isinstance(text, str):
        raise TypeError(f"expression must be a string, got {type(text).__name__}")
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"formula {quoted(text, QUOTED)} is {len(text):,} characters long; the limit is {MAX_LENGTH}")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as error:
        raise ExpressionError(f"{quoted(text, QUOTED)} is not a formula: {error.msg} at column {error.offset}") from None
    if bounds is None:
        highest = max([2, *_indices(tree)])
        if highest > MAX_DIM:  # x999999 would otherwise make a million coordinates
            raise ExpressionError(f"in {quoted(text, QUOTED)}: x{highest} is beyond the {MAX_DIM:,} coordinates a point may have")
        bounds = (DEFAULT_BOUNDS,) * highest
    bounds = tuple((float(lo), float(hi)) for lo, hi in bounds)
    if not 1 <= len(bounds) <= MAX_DIM or any(not (math.isfinite(lo) and math.isfinite(hi) and lo < hi)
                                                for lo, hi in bounds):
        raise ExpressionError(f"bounds must be 1 to {MAX_DIM:,} finite pairs (lo, hi) with lo < hi, "
                              f"got {quoted(bounds, QUOTED)}")
    names = {f"x{k + 1}": k for k in range(len(bounds))}
    names.update({"x": 0, "y": 1} if len(bounds) == 2 else {"x": 0} if len(bounds) == 1 else {})
    if (depth := nesting(tree.body)) > MAX_NESTING:  # before anything walks the tree by recursion
        raise ExpressionError(f"formula {quoted(text, QUOTED)} nests {depth} levels deep (brackets, powers, fractions, "
                              f"calls or signs within each other); the limit is {MAX_NESTING}")
    compiled = _compile(tree.body, text, names)  # the whitelist first: nothing else is evaluated
    _constant(tree.body, text)
    return tree, bounds, compiled


def nesting(node: ast.AST) -> int:
    """How many levels deep the formula nests: 1 for ``x``, 2 for ``sin(x)`` or ``-x``, 3 for
    ``x**y**z``. A chain of sums or of products continues one level, as on paper: ``a + b - c``
    and ``a*b*c`` are 2 however long. Walked without recursion: the tree may be hundreds deep."""
    deepest, todo = 0, [(node, 1)]
    while todo:
        node, depth = todo.pop()
        deepest = max(deepest, depth)
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.expr):
                todo.append((child, depth if _continues(node, child) else depth + 1))
    return deepest


def _continues(parent: ast.AST, child: ast.AST) -> bool:
    """Whether child is the left side of parent's chain: a + b + c is (a + b) + c, a*b*c is (a*b)*c."""
    chains = ((ast.Add, ast.Sub), (ast.Mult,))
    return (isinstance(parent, ast.BinOp) and isinstance(child, ast.BinOp) and child is parent.left
            and any(isinstance(parent.op, ops) and isinstance(child.op, ops) for ops in chains))


def _indices(tree: ast.AST) -> list[int]:
    """The k of every xk the formula names."""
    return [int(node.id[1:]) for node in ast.walk(tree)
            if isinstance(node, ast.Name) and re.fullmatch(r"x[1-9][0-9]{0,5}", node.id)]


def _compile(node: ast.AST, text: str, names: dict[str, int]) -> Compiled:
    """The node as a closure of torch ops on the points, or ExpressionError naming the
    offending part."""
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float)) and not isinstance(node.value, bool):
        number = _finite(lambda: float(node.value), node, text)  # 10**400 written out overflows
        return lambda p: number
    if isinstance(node, ast.Name):
        if node.id in names:
            k = names[node.id]
            return lambda p: p[..., k]
        if node.id in CONSTANTS:
            number = CONSTANTS[node.id]
            return lambda p: number
        dim = len(names) - ("x" in names) - ("y" in names)
        shown = [n for n in ("x", "y") if n in names] + ["x1" if dim == 1 else f"x1..x{dim}"]
        allowed = ", ".join(shown + sorted(CONSTANTS))
        raise _error(text, node, f"unknown name {quoted(node.id, QUOTED)} (allowed: {allowed})")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        inner = _compile(node.operand, text, names)
        return (lambda p: -inner(p)) if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        op = OPERATORS[type(node.op)]
        left, right = _compile(node.left, text, names), _compile(node.right, text, names)
        return lambda p: op(left(p), right(p))
    if isinstance(node, ast.Call):
        if not isinstance(node.func, ast.Name) or node.func.id not in CALLS:
            called = ast.get_source_segment(text.strip(), node.func) or "this"  # offsets of the parsed text
            raise _error(text, node, f"cannot call {quoted(called, QUOTED)} (allowed: {', '.join(CALLS)})")
        if len(node.args) != 1 or node.keywords:
            raise _error(text, node, f"{node.func.id}() takes exactly one argument")
        call, inner = CALLS[node.func.id], _compile(node.args[0], text, names)
        return lambda p: _torch_call(call)(_argument(inner(p), p.dtype))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitXor):  # x^2 as written by hand or in LaTeX
        raise _error(text, node, "^ is not a power here: use ** for powers, as in x**2")
    raise _error(text, node, f"{_describe(node)} is not allowed in a formula")


def _torch_call(name: str) -> Callable[[Tensor], Tensor]:
    """torch's function of that name, once points are evaluated (and torch is loaded)."""
    import torch

    return getattr(torch, name)


def _argument(value: Tensor | float, dtype: torch.dtype) -> Tensor:
    """A function's argument: a constant made a tensor (torch's functions take no floats), a
    value of the points as it is."""
    import torch

    return torch.tensor(value, dtype=dtype) if isinstance(value, float) else value


def _constant(node: ast.AST, text: str) -> float | None:
    """The value of a checked node that does not depend on the point, in float64, or None if
    it does. Visits every node, so that each constant part is a finite real number and each
    exponent with a constant value lies within MAX_EXPONENT, or ExpressionError names it.

    It only checks: the compiled closures still compute every value as before (Python floats
    between constants, the same torch op on a function of a constant), so a valid formula's
    numbers do not change."""
    if isinstance(node, ast.Constant):
        return float(node.value)  # a number _compile found finite
    if isinstance(node, ast.Name):
        return CONSTANTS.get(node.id)  # None for the coordinates
    if isinstance(node, ast.UnaryOp):
        inner = _constant(node.operand, text)
        return None if inner is None else -inner if isinstance(node.op, ast.USub) else inner
    if isinstance(node, ast.BinOp):
        left, right = _constant(node.left, text), _constant(node.right, text)
        if isinstance(node.op, ast.Pow) and right is not None and abs(right) > MAX_EXPONENT:
            raise _error(text, node.right, f"exponent {_number(abs(right))} is too large (at most {MAX_EXPONENT})")
        if left is None or right is None:
            return None
        return _finite(lambda: OPERATORS[type(node.op)](left, right), node, text)
    if isinstance(node, ast.Call):
        inner = _constant(node.args[0], text)
        if inner is None:
            return None
        import torch  # a function of a constant, evaluated as the points' values will be

        fn = _torch_call(CALLS[node.func.id])  # type: ignore[attr-defined]
        return _finite(lambda: fn(torch.tensor(inner, dtype=torch.float64)).item(), node, text)
    raise AssertionError(f"{type(node).__name__} passed the whitelist")  # _compile refuses the rest


def _finite(compute: Callable[[], float | complex], node: ast.AST, text: str) -> float:
    """compute() as a finite real float, or ExpressionError naming the node and why not."""
    try:
        value = compute()
    except ZeroDivisionError:  # 1/0, 0**-1
        reason = "division by zero"
    except OverflowError:  # 9.0**400.0, float(10**400)
        reason = "too large for a float64"
    except ValueError:
        reason = "not a real number"
    else:
        if isinstance(value, complex) or math.isnan(value):  # (-1)**0.5 is complex in Python
            reason = "not a real number"
        elif math.isinf(value):
            reason = f"not finite ({value})"
        else:
            return float(value)
    raise _error(text, node, reason)


# --- typesetting: a checked formula as matplotlib mathtext -------------------------------------

_TEX_CALLS = {"sin": r"\sin", "cos": r"\cos", "tan": r"\tan", "tanh": r"\tanh", "sinh": r"\sinh",
              "cosh": r"\cosh", "log": r"\ln", "arctan": r"\arctan", "atan": r"\arctan", "sign": r"\mathrm{sign}"}
_PRECEDENCE = {ast.Add: 1, ast.Sub: 1, ast.Mult: 2, ast.Div: 2, ast.Pow: 4}


def to_tex(node: ast.AST) -> str:
    """A checked formula's tree as mathtext: ``x**2 + 10*sin(y)`` -> ``x^{2} + 10\\,\\sin(y)``."""
    return _tex(node)[0]


def _tex(node: ast.AST) -> tuple[str, int]:
    """(mathtext, precedence): 5 for atoms, 4 powers, 2 products, 1 sums and negations."""
    if isinstance(node, ast.Constant):
        return _tex_number(float(node.value)), 5
    if isinstance(node, ast.Name):
        return {"pi": r"\pi"}.get(node.id, re.sub(r"^x([0-9]+)$", r"x_{\1}", node.id)), 5
    if isinstance(node, ast.UnaryOp):
        inner, precedence = _tex(node.operand)
        if isinstance(node.op, ast.UAdd):
            return inner, precedence
        return "-" + (inner if precedence > 1 else f"({inner})"), 1  # bracketed inside products
    if isinstance(node, ast.Call):
        inner = to_tex(node.args[0])
        name = node.func.id  # type: ignore[attr-defined]
        if name == "sqrt":
            return rf"\sqrt{{{inner}}}", 5
        if name == "abs":
            return rf"|{inner}|", 5
        if name == "exp":
            return rf"e^{{{inner}}}", 4
        return rf"{_TEX_CALLS[name]}({inner})", 5
    assert isinstance(node, ast.BinOp)
    precedence = _PRECEDENCE[type(node.op)]
    (left, lp), (right, rp) = _tex(node.left), _tex(node.right)
    if isinstance(node.op, ast.Div):
        return rf"\frac{{{left}}}{{{right}}}", 5
    if isinstance(node.op, ast.Pow):
        return f"{left if lp > 4 else f'({left})'}^{{{right}}}", 4
    left = left if lp >= precedence else f"({left})"
    # a - (b + c) and a * (b * c) keep their brackets: the right side binds as written
    right = right if rp > precedence or (rp == precedence and isinstance(node.op, (ast.Add,))) else f"({right})"
    if isinstance(node.op, ast.Mult):  # juxtaposed, as written by hand: 2x, xy, 10 sin(y); 2 · 3
        joint = (r" \cdot " if right[0].isdigit() or right[0] == "-"
                 else r"\," if right[0] == "\\" or re.search(r"\\[a-zA-Z]+$", left) else "")
        return f"{left}{joint}{right}", 2
    return f"{left} {'+' if isinstance(node.op, ast.Add) else '-'} {right}", 1


def _tex_number(value: float) -> str:
    text = f"{value:g}"
    if "e" not in text:
        return text
    mantissa, exponent = text.split("e")
    power = rf"10^{{{int(exponent)}}}"
    return power if mantissa == "1" else rf"{mantissa} \times {power}"


def _number(value: float) -> str:
    """1000.0 as 1000, 387420489.0 as 387420489, 1e300 as 1e+300."""
    return str(int(value)) if value.is_integer() and abs(value) < 1e15 else f"{value:g}"


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "an attribute", ast.Subscript: "a subscript", ast.Lambda: "a lambda",
        ast.Compare: "a comparison", ast.BoolOp: "a boolean operator", ast.IfExp: "an if expression",
        ast.List: "a list", ast.Tuple: "a tuple", ast.Dict: "a dict", ast.JoinedStr: "an f-string",
        ast.ListComp: "a comprehension", ast.GeneratorExp: "a generator", ast.Starred: "a starred value",
    }
    if isinstance(node, ast.Constant):
        return f"the constant {quoted(node.value, QUOTED)}"
    if isinstance(node, ast.BinOp):
        return f"the operator {type(node.op).__name__}"
    return kinds.get(type(node), type(node).__name__)


def _error(text: str, node: ast.AST, message: str) -> ExpressionError:
    part = ast.get_source_segment(text.strip(), node) or ""
    where = f" at {quoted(part, QUOTED)} (column {node.col_offset + 1})" if part else ""
    return ExpressionError(f"in {quoted(text, QUOTED)}{where}: {message}")
