"""JavaScript made from optviz's own definitions, for the interactive page.

The built-in functions (their value and hand-written gradient), formulas (their value, and
their gradient by forward-mode dual numbers) and the built-in optimizers' rules (each written
once in its block, run here on plain arithmetic as fast mode runs it) are run once on
symbols instead of tensors: every operation they make is written down as a line of
JavaScript, in the same order, so the page steps the arithmetic fast mode steps (IEEE doubles
in both). Nothing is maintained by hand in parallel: a definition that changes changes the
page.

    source = javascript.function_source(get_function("rosenbrock"))  # {value(p), grad(p)}
    source, sliders = javascript.rule_source(adam(lr=0.1))            # {init, step}, {"lr": 0.1, ...}

A definition that branches on a value, or calls an operation not translated here, raises
Untranslatable, and the page plays back without live controls.
"""

from __future__ import annotations

import math
import operator
from typing import Any

import torch

from ..core.functions import TestFunction
from ..core.optimizers.base import Optimizer
from ..core.optimizers.ops import PLAIN
from ..core.simulation.compiled import hyperparameters

SLIDERS = ("lr", "momentum", "beta1", "beta2")  # the hyperparameters a page may move


class Untranslatable(Exception):
    """The definition cannot be written as JavaScript (the message says what stopped it)."""


class _Tape:
    """The lines of one JavaScript function body, each defining one value."""

    def __init__(self) -> None:
        self.lines: list[str] = []

    def define(self, expression: str) -> "Sym":
        name = f"v{len(self.lines)}"
        self.lines.append(f"const {name} = {expression};")
        return Sym(name, self)


def _literal(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, torch.Tensor):
        if value.numel() != 1:
            raise Untranslatable("a tensor constant of more than one number")
        value = value.item()
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
        return repr(value)  # the shortest text that reads back as the same double, in JS too
    raise Untranslatable(f"a constant of type {type(value).__name__}")


def _code(value: Any) -> str:
    return value.code if isinstance(value, Sym) else _literal(value)


# torch functions and the JavaScript that does the same to one number
_UNARY = {"cos": "Math.cos", "sin": "Math.sin", "tan": "Math.tan", "exp": "Math.exp", "sqrt": "Math.sqrt",
          "log": "Math.log", "tanh": "Math.tanh", "abs": "Math.abs", "sign": "Math.sign", "atan": "Math.atan",
          "cosh": "Math.cosh", "sinh": "Math.sinh"}


class Sym:
    """One number of the traced computation: the name of the JavaScript value that holds it."""

    def __init__(self, code: str, tape: _Tape) -> None:
        self.code, self.tape = code, tape

    def _op(self, template: str, *others: Any) -> Any:
        if any(isinstance(o, Vec) for o in others):
            return NotImplemented  # a number with a point: the point's operation maps it
        return self.tape.define(template.format(self.code, *map(_code, others)))

    __add__ = lambda self, o: self._op("({} + {})", o)  # noqa: E731
    __radd__ = lambda self, o: self._op("({1} + {0})", o)  # noqa: E731
    __sub__ = lambda self, o: self._op("({} - {})", o)  # noqa: E731
    __rsub__ = lambda self, o: self._op("({1} - {0})", o)  # noqa: E731
    __mul__ = lambda self, o: self._op("({} * {})", o)  # noqa: E731
    __rmul__ = lambda self, o: self._op("({1} * {0})", o)  # noqa: E731
    __truediv__ = lambda self, o: self._op("({} / {})", o)  # noqa: E731
    __rtruediv__ = lambda self, o: self._op("({1} / {0})", o)  # noqa: E731
    __neg__ = lambda self: self._op("(-{})")  # noqa: E731
    __eq__ = lambda self, o: self._op("({} === {})", o)  # type: ignore[assignment]  # noqa: E731
    __gt__ = lambda self, o: self._op("({} > {})", o)  # noqa: E731
    __ge__ = lambda self, o: self._op("({} >= {})", o)  # noqa: E731
    __lt__ = lambda self, o: self._op("({} < {})", o)  # noqa: E731
    __le__ = lambda self, o: self._op("({} <= {})", o)  # noqa: E731
    __hash__ = object.__hash__

    def __pow__(self, exponent: Any) -> "Sym":
        # torch computes small whole powers by multiplying (and 0.5 as a root): so does the page
        forms = {2: "({0} * {0})", 3: "({0} * {0} * {0})", 0.5: "Math.sqrt({0})", -1: "(1 / {0})",
                 -2: "(1 / ({0} * {0}))"}
        if not isinstance(exponent, Sym) and exponent in forms:
            return self._op(forms[exponent])
        return self._op("Math.pow({}, {})", exponent)

    def __rpow__(self, base: Any) -> "Sym":
        return self._op("Math.pow({1}, {0})", base)

    def __bool__(self) -> bool:
        raise Untranslatable("a branch on a value that changes from step to step")

    def sqrt(self) -> "Sym":
        return self._op("Math.sqrt({})")

    def unsqueeze(self, dim: int) -> "Sym":
        return self  # a number broadcasts over a point's coordinates as it is

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        return _torch(func, args, kwargs or {})


class Vec:
    """A point's coordinates, traced one number each: what a function receives as ``p``."""

    dtype = torch.float64  # as a formula asks of its points

    def __init__(self, items: list[Any]) -> None:
        self.items = items

    @property
    def shape(self) -> tuple[int]:
        return (len(self.items),)

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, tuple) and len(index) == 2 and index[0] is Ellipsis and isinstance(index[1], int):
            return self.items[index[1]]
        raise Untranslatable(f"indexing a point by {index!r}")

    def _map(self, fn: Any, other: Any = None) -> "Vec":
        if isinstance(other, Vec):
            return Vec([fn(a, b) for a, b in zip(self.items, other.items)])
        return Vec([fn(a, other) for a in self.items])

    __add__ = lambda self, o: self._map(lambda a, b: a + b, o)  # noqa: E731
    __radd__ = lambda self, o: self._map(lambda a, b: b + a, o)  # noqa: E731
    __sub__ = lambda self, o: self._map(lambda a, b: a - b, o)  # noqa: E731
    __rsub__ = lambda self, o: self._map(lambda a, b: b - a, o)  # noqa: E731
    __mul__ = lambda self, o: self._map(lambda a, b: a * b, o)  # noqa: E731
    __rmul__ = lambda self, o: self._map(lambda a, b: b * a, o)  # noqa: E731
    __truediv__ = lambda self, o: self._map(lambda a, b: a / b, o)  # noqa: E731
    __pow__ = lambda self, o: self._map(lambda a, b: a**b, o)  # noqa: E731
    __neg__ = lambda self: self._map(lambda a, _: -a)  # noqa: E731

    def sum(self, dim: int = -1) -> Any:
        total = self.items[0]
        for item in self.items[1:]:
            total = total + item
        return total

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        return _torch(func, args, kwargs or {})


_BINARY = {"add": operator.add, "sub": operator.sub, "mul": operator.mul, "div": operator.truediv,
           "truediv": operator.truediv, "true_divide": operator.truediv, "pow": operator.pow}


def _torch(func: Any, args: tuple, kwargs: dict) -> Any:
    name = getattr(func, "__name__", str(func))
    plain = name.strip("_").removeprefix("r") if name.startswith("__r") else name.strip("_")
    if plain in _BINARY and len(args) == 2:  # a tensor constant with a traced number: as two numbers
        a, b = (float(v) if isinstance(v, torch.Tensor) else v for v in args)
        return _BINARY[plain](b, a) if name.startswith("__r") else _BINARY[plain](a, b)
    if any(isinstance(a, Dual) for a in args):
        return Dual.apply(name, *args)
    if name in _UNARY:
        (x,) = args
        if isinstance(x, Vec):
            return Vec([_torch(func, (item,), {}) for item in x.items])
        if not isinstance(x, Sym):
            raise Untranslatable(f"torch.{name} of a constant")
        return x._op(_UNARY[name] + "({})")
    if name == "stack":
        return Vec(list(args[0]))
    if name == "where":
        cond, a, b = args
        tape = next(v.tape for v in (cond, a, b) if isinstance(v, Sym))
        return tape.define(f"({_code(cond)} ? {_code(a)} : {_code(b)})")
    if name in ("maximum", "minimum"):
        a, b = args
        return a._op(f"Math.{name[:3]}({{}}, {{}})", b) if isinstance(a, Sym) else b._op(f"Math.{name[:3]}({{1}}, {{0}})", a)
    if name in ("zeros_like", "ones_like"):
        return 0.0 if name == "zeros_like" else 1.0
    raise Untranslatable(f"torch.{name} has no translation")


class Dual:
    """A traced number and its derivatives by each coordinate (forward mode): how a formula,
    whose Python gradient comes from autograd, gets its gradient in the page."""

    def __init__(self, value: Any, d: tuple[Any, ...]) -> None:
        self.value, self.d = value, d

    @staticmethod
    def lift(x: Any, n: int) -> "Dual":
        return x if isinstance(x, Dual) else Dual(x, (0.0,) * n)

    def _pair(self, other: Any) -> tuple["Dual", "Dual"]:
        return self, Dual.lift(other, len(self.d))

    def __add__(self, o: Any) -> "Dual":
        a, b = self._pair(o)
        return Dual(a.value + b.value, tuple(_plus(x, y) for x, y in zip(a.d, b.d)))

    def __sub__(self, o: Any) -> "Dual":
        a, b = self._pair(o)
        return Dual(a.value - b.value, tuple(_plus(x, _times(-1.0, y)) for x, y in zip(a.d, b.d)))

    def __mul__(self, o: Any) -> "Dual":
        a, b = self._pair(o)
        return Dual(a.value * b.value, tuple(_plus(_times(x, b.value), _times(a.value, y)) for x, y in zip(a.d, b.d)))

    def __truediv__(self, o: Any) -> "Dual":
        a, b = self._pair(o)
        value = a.value / b.value
        return Dual(value, tuple(_over(_plus(x, _times(_times(-1.0, value), y)), b.value) for x, y in zip(a.d, b.d)))

    def __pow__(self, o: Any) -> "Dual":
        a, b = self._pair(o)
        value = a.value**b.value
        if not isinstance(o, Dual):  # a constant exponent: c a^(c-1) da
            slope = _times(o, a.value ** (o - 1)) if o != 0 else 0.0
            return Dual(value, tuple(_times(slope, x) for x in a.d))
        log_a = _unary("log", a.value)
        return Dual(value, tuple(_times(value, _plus(_times(y, log_a), _over(_times(b.value, x), a.value)))
                                 for x, y in zip(a.d, b.d)))

    __radd__ = lambda self, o: Dual.lift(o, len(self.d)) + self  # noqa: E731
    __rsub__ = lambda self, o: Dual.lift(o, len(self.d)) - self  # noqa: E731
    __rmul__ = lambda self, o: Dual.lift(o, len(self.d)) * self  # noqa: E731
    __rtruediv__ = lambda self, o: Dual.lift(o, len(self.d)) / self  # noqa: E731
    __rpow__ = lambda self, o: Dual.lift(o, len(self.d)) ** self  # noqa: E731
    __neg__ = lambda self: Dual(-self.value, tuple(_times(-1.0, x) for x in self.d))  # noqa: E731

    # the derivative of each function, in terms of its argument v and its value y
    SLOPES = {
        "sin": lambda v, y: _unary("cos", v), "cos": lambda v, y: -_unary("sin", v),
        "tan": lambda v, y: 1.0 + y * y, "exp": lambda v, y: y, "log": lambda v, y: 1.0 / v,
        "sqrt": lambda v, y: 0.5 / y, "abs": lambda v, y: _unary("sign", v), "tanh": lambda v, y: 1.0 - y * y,
        "sinh": lambda v, y: _unary("cosh", v), "cosh": lambda v, y: _unary("sinh", v),
        "atan": lambda v, y: 1.0 / (1.0 + v * v), "sign": lambda v, y: 0.0,
    }

    @staticmethod
    def apply(name: str, x: "Dual") -> "Dual":
        if name not in Dual.SLOPES:
            raise Untranslatable(f"torch.{name} has no derivative here")
        value = _unary(name, x.value)
        slope = Dual.SLOPES[name](x.value, value)
        return Dual(value, tuple(_times(slope, d) for d in x.d))

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: tuple = (), kwargs: dict | None = None) -> Any:
        return _torch(func, args, kwargs or {})


def _unary(name: str, x: Any) -> Any:
    if isinstance(x, Sym):
        return x._op(_UNARY[name] + "({})")
    return float(getattr(math, {"abs": "fabs", "sign": "copysign"}.get(name, name))(*((1.0, x) if name == "sign" else (x,))))


# arithmetic that drops the zero derivatives of constants instead of writing them out
def _plus(a: Any, b: Any) -> Any:
    return b if _zero(a) else a if _zero(b) else a + b


def _times(a: Any, b: Any) -> Any:
    return 0.0 if _zero(a) or _zero(b) else a * b


def _over(a: Any, b: Any) -> Any:
    return 0.0 if _zero(a) else a / b


def _zero(x: Any) -> bool:
    return not isinstance(x, Sym) and x == 0


def function_source(function: TestFunction) -> str:
    """``{value(p), grad(p)}`` of a 2D function as a JavaScript object literal: a built-in's
    value and hand-written gradient traced, a formula's gradient by forward-mode duals."""
    if function.dim != 2:
        raise Untranslatable(f"{function.name} is {function.dim}D; the page recomputes 2D functions")
    recipe = function.recipe or {}
    if "clip" in recipe:
        raise Untranslatable(f"{function.name}'s gradients were clipped")
    if "name" not in recipe and "expression" not in recipe:
        raise Untranslatable(f"{function.name} is computed by Python code (a function or a model's loss), "
                             "not from a formula")
    value = _trace(function.value_fn, Sym)
    grad = _trace(function.grad_fn, Sym) if "name" in recipe else _trace(function.value_fn, Dual)
    return f"{{value: {value}, grad: {grad}}}"


def _trace(fn: Any, kind: type) -> str:
    """fn traced on a point of two symbols (``Sym``), or of two duals whose derivatives are
    the gradient (``Dual``), as a JavaScript function of p."""
    tape = _Tape()
    x, y = Sym("p[0]", tape), Sym("p[1]", tape)
    point = [x, y] if kind is Sym else [Dual(x, (1.0, 0.0)), Dual(y, (0.0, 1.0))]
    out = _traced(fn, Vec(point))
    if kind is Dual:
        out = list(Dual.lift(out, 2).d)
    result = f"[{', '.join(map(_code, out.items))}]" if isinstance(out, Vec) else (
        f"[{', '.join(map(_code, out))}]" if isinstance(out, list) else _code(out))
    return f"function (p) {{ {' '.join(tape.lines)} return {result}; }}"


def rule_source(opt: Optimizer) -> tuple[str, dict[str, float]]:
    """``opt``'s rule as fast mode runs it (plain arithmetic), as ``{init(p, h), step(p, g, s,
    t, h)}`` on one coordinate, with the hyperparameters the page may move (``h``, their
    values now) as inputs. The first step is traced on the state ``init`` makes (a buffer made
    from the first gradient, SGD's momentum, is None there), the later ones on a state of
    numbers; the step count travels in the state, as in the rule."""
    if opt.rule is None:
        raise Untranslatable(f"{opt.label} has no rule that can be recomputed")
    hypers = hyperparameters(opt, torch.zeros(1, dtype=torch.float64))
    if any(isinstance(v, torch.Tensor) for v in _flat(hypers.values())):
        raise Untranslatable(f"{opt.label} holds a tensor of hyperparameters (a sweep)")
    moving = {}
    for key in SLIDERS:
        holder, index = ("betas", SLIDERS.index(key) - 2) if key.startswith("beta") else (key, None)
        if holder not in hypers:
            continue
        value = hypers[holder] if index is None else hypers[holder][index]
        if key == "momentum" and value == 0:
            continue  # plain SGD stays plain: no momentum slider
        moving[key] = value
    rule = opt.rule

    def traced(body: Any, tape: _Tape, *args: Any) -> Any:
        return _traced(body, Sym("p", tape), *args, _traced(rule.constants, _symbolic(hypers, moving, tape), PLAIN), PLAIN)

    init_tape, first_tape, later_tape = _Tape(), _Tape(), _Tape()
    state = traced(rule.init, init_tape)
    first, first_state = traced(rule.step, first_tape, Sym("g", first_tape), _inputs(state, first_tape, counts=True))
    later, later_state = traced(rule.step, later_tape, Sym("g", later_tape), _inputs(first_state, later_tape))
    init_js = f"function (p, h) {{ {' '.join(init_tape.lines)} return {_list(state)}; }}"
    step_js = (f"function (p, g, s, t, h) {{ if (t === 1) {{ {' '.join(first_tape.lines)} "
               f"return [{_code(first)}, {_list(first_state)}]; }} {' '.join(later_tape.lines)} "
               f"return [{_code(later)}, {_list(later_state)}]; }}")
    return f"{{init: {init_js}, step: {step_js}}}", moving


def _inputs(state: Any, tape: _Tape, *, counts: bool = False) -> Any:
    """A rule's state as the page hands it to a step: each number the JavaScript value s[k],
    None kept (a buffer not made yet), and with ``counts`` the step count a constant (the
    first step's)."""
    def field(k: int, value: Any) -> Any:
        if value is None or (counts and isinstance(value, int)):
            return value
        return Sym(f"s[{k}]", tape)

    return type(state)(*(field(k, value) for k, value in enumerate(state)))


def _list(values: Any) -> str:
    return f"[{', '.join(map(_code, values))}]"


def _traced(fn: Any, *args: Any) -> Any:
    """fn run on symbols; any failure of an operation the tracer does not know is Untranslatable."""
    try:
        return fn(*args)
    except Untranslatable:
        raise
    except Exception as error:  # noqa: BLE001 - whatever the definition tried on a symbol
        raise Untranslatable(f"{type(error).__name__}: {error}") from None


def _symbolic(hypers: dict[str, Any], moving: dict[str, float], tape: _Tape) -> dict[str, Any]:
    """The hyperparameters with the moving ones as the symbols h.lr, h.beta1, ..."""
    h = dict(hypers)
    for key in moving:
        if key.startswith("beta"):
            betas = list(h["betas"])
            betas[int(key[-1]) - 1] = Sym(f"h.{key}", tape)
            h["betas"] = tuple(betas)
        else:
            h[key] = Sym(f"h.{key}", tape)
    return h


def _flat(values: Any) -> list[Any]:
    return [x for v in values for x in (v if isinstance(v, tuple) else (v,))]
