"""Test functions: 1D and 2D landscapes with analytic gradients, bounds and known minima.

Every function takes points of shape (..., dim) and returns values of shape (...); its
gradient returns (..., dim). Gradients are written out by hand (the tests check them against
autograd) so that a simulation needs no autograd graph and runs as plain batched tensor ops.
"""

from __future__ import annotations

import math
from typing import Any, Callable

import torch
from torch import Tensor

from ..limits import MAX_DIM
from ..vocabulary import check_function_name
from .callables import function
from .formulas import parse_expression
from .matrices import DEFAULTS as MATRIX_PROBLEMS, PROBLEMS as MATRIX_SIZES, matrix_problem
from .surface import Minimum, TestFunction, written_hessian

PI = math.pi


def _xy(p: Tensor) -> tuple[Tensor, Tensor]:
    return p[..., 0], p[..., 1]


def _stack(*parts: Tensor) -> Tensor:
    return torch.stack(parts, dim=-1)


# --- 1D ----------------------------------------------------------------------------------------

_C = 0.15 * PI


def _xcos(p: Tensor) -> Tensor:
    x = p[..., 0]
    return x * torch.cos(_C * x)


def _xcos_grad(p: Tensor) -> Tensor:
    x = p[..., 0]
    return _stack(torch.cos(_C * x) - _C * x * torch.sin(_C * x))


# --- 2D ----------------------------------------------------------------------------------------


def _quadratic(a: float, b: float) -> tuple[Callable, Callable]:
    def f(p: Tensor) -> Tensor:
        x, y = _xy(p)
        return a * x**2 + b * y**2

    def grad(p: Tensor) -> Tensor:
        x, y = _xy(p)
        return _stack(2 * a * x, 2 * b * y)

    return f, grad


def _offset_ellipse(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return (x - 2) ** 2 + 2 * (y - 1) ** 2 + (x - 2) * (y - 1)


def _offset_ellipse_grad(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return _stack(2 * (x - 2) + (y - 1), 4 * (y - 1) + (x - 2))


def _rosenbrock(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return (1 - x) ** 2 + 100 * (y - x**2) ** 2


def _rosenbrock_grad(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return _stack(-2 * (1 - x) - 400 * x * (y - x**2), 200 * (y - x**2))


def _beale_terms(p: Tensor) -> tuple[Tensor, Tensor, Tensor, Tensor, Tensor]:
    x, y = _xy(p)
    return x, y, 1.5 - x + x * y, 2.25 - x + x * y**2, 2.625 - x + x * y**3


def _beale(p: Tensor) -> Tensor:
    _, _, a, b, c = _beale_terms(p)
    return a**2 + b**2 + c**2


def _beale_grad(p: Tensor) -> Tensor:
    x, y, a, b, c = _beale_terms(p)
    gx = 2 * a * (y - 1) + 2 * b * (y**2 - 1) + 2 * c * (y**3 - 1)
    gy = 2 * a * x + 4 * b * x * y + 6 * c * x * y**2
    return _stack(gx, gy)


def _booth(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return (x + 2 * y - 7) ** 2 + (2 * x + y - 5) ** 2


def _booth_grad(p: Tensor) -> Tensor:
    x, y = _xy(p)
    a, b = x + 2 * y - 7, 2 * x + y - 5
    return _stack(2 * a + 4 * b, 4 * a + 2 * b)


def _himmelblau(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return (x**2 + y - 11) ** 2 + (x + y**2 - 7) ** 2


def _himmelblau_grad(p: Tensor) -> Tensor:
    x, y = _xy(p)
    a, b = x**2 + y - 11, x + y**2 - 7
    return _stack(4 * x * a + 2 * b, 2 * a + 4 * y * b)


def _rastrigin(p: Tensor) -> Tensor:
    return 10 * p.shape[-1] + (p**2 - 10 * torch.cos(2 * PI * p)).sum(-1)


def _rastrigin_grad(p: Tensor) -> Tensor:
    return 2 * p + 20 * PI * torch.sin(2 * PI * p)


def _ackley_parts(p: Tensor) -> tuple[Tensor, Tensor, Tensor]:
    share = 1 / p.shape[-1]  # means over the coordinates (0.5 in 2D: exact either way)
    r = torch.sqrt(share * (p**2).sum(-1))
    return r, torch.exp(-0.2 * r), torch.exp(share * torch.cos(2 * PI * p).sum(-1))


def _ackley(p: Tensor) -> Tensor:
    _, radial, wave = _ackley_parts(p)
    return -20 * radial - wave + math.e + 20


def _ackley_grad(p: Tensor) -> Tensor:
    r, radial, wave = _ackley_parts(p)
    n = p.shape[-1]
    # the cone's tip at the origin has no gradient: take the subgradient 0 there
    safe_r = torch.where(r > 0, r, torch.ones_like(r))
    cone = torch.where(r > 0, (4 / n) * radial / safe_r, torch.zeros_like(r)).unsqueeze(-1) * p
    return cone + (2 * PI / n) * torch.sin(2 * PI * p) * wave.unsqueeze(-1)


def _goldstein_price_parts(p: Tensor):
    x, y = _xy(p)
    s, u = x + y + 1, 2 * x - 3 * y
    P = 19 - 14 * x + 3 * x**2 - 14 * y + 6 * x * y + 3 * y**2
    Q = 18 - 32 * x + 12 * x**2 + 48 * y - 36 * x * y + 27 * y**2
    return x, y, s, u, P, Q, 1 + s**2 * P, 30 + u**2 * Q


def _goldstein_price(p: Tensor) -> Tensor:
    *_, A, B = _goldstein_price_parts(p)
    return A * B


def _goldstein_price_grad(p: Tensor) -> Tensor:
    x, y, s, u, P, Q, A, B = _goldstein_price_parts(p)
    dA = 2 * s * P + s**2 * (-14 + 6 * x + 6 * y)  # the same along x and y
    dBx = 4 * u * Q + u**2 * (-32 + 24 * x - 36 * y)
    dBy = -6 * u * Q + u**2 * (48 - 36 * x + 54 * y)
    return _stack(dA * B + A * dBx, dA * B + A * dBy)


def _matyas(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return 0.26 * (x**2 + y**2) - 0.48 * x * y


def _matyas_grad(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return _stack(0.52 * x - 0.48 * y, 0.52 * y - 0.48 * x)


def _three_hump_camel(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return 2 * x**2 - 1.05 * x**4 + x**6 / 6 + x * y + y**2


def _three_hump_camel_grad(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return _stack(4 * x - 4.2 * x**3 + x**5 + y, x + 2 * y)


def _levi13(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return (
        torch.sin(3 * PI * x) ** 2
        + (x - 1) ** 2 * (1 + torch.sin(3 * PI * y) ** 2)
        + (y - 1) ** 2 * (1 + torch.sin(2 * PI * y) ** 2)
    )


def _levi13_grad(p: Tensor) -> Tensor:
    x, y = _xy(p)
    gx = 3 * PI * torch.sin(6 * PI * x) + 2 * (x - 1) * (1 + torch.sin(3 * PI * y) ** 2)
    gy = (
        3 * PI * (x - 1) ** 2 * torch.sin(6 * PI * y)
        + 2 * (y - 1) * (1 + torch.sin(2 * PI * y) ** 2)
        + 2 * PI * (y - 1) ** 2 * torch.sin(4 * PI * y)
    )
    return _stack(gx, gy)


def _styblinski_tang(p: Tensor) -> Tensor:
    return 0.5 * (p**4 - 16 * p**2 + 5 * p).sum(-1)


def _styblinski_tang_grad(p: Tensor) -> Tensor:
    return 2 * p**3 - 16 * p + 2.5


def _diagonal_quadratic(weights: Tensor) -> tuple[Callable, Callable]:
    """sum_i w_i x_i^2."""

    def f(p: Tensor) -> Tensor:
        return (weights.to(p.dtype) * p**2).sum(-1)

    def grad(p: Tensor) -> Tensor:
        return 2 * weights.to(p.dtype) * p

    return f, grad


def _rosenbrock_nd(p: Tensor) -> Tensor:
    x, after = p[..., :-1], p[..., 1:]
    return (100 * (after - x**2) ** 2 + (1 - x) ** 2).sum(-1)


def _rosenbrock_nd_grad(p: Tensor) -> Tensor:
    x, after = p[..., :-1], p[..., 1:]
    grad = torch.zeros_like(p)
    grad[..., :-1] = -400 * x * (after - x**2) - 2 * (1 - x)
    grad[..., 1:] += 200 * (after - x**2)
    return grad


def _saddle(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return x**2 - y**2


def _saddle_grad(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return _stack(2 * x, -2 * y)


def _monkey_saddle(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return x**3 - 3 * x * y**2


def _monkey_saddle_grad(p: Tensor) -> Tensor:
    x, y = _xy(p)
    return _stack(3 * x**2 - 3 * y**2, -6 * x * y)


# --- the registry ------------------------------------------------------------------------------

_ST = -2.903534027771177  # Styblinski-Tang's minimiser along each axis


def _fn(name, f, grad, bounds, minima, start, description, formula, *, title, tex="") -> TestFunction:
    return TestFunction(
        name=name,
        value_fn=f,
        grad_fn=grad,
        hessian_fn=written_hessian(grad),
        bounds=tuple(tuple(map(float, b)) for b in bounds),
        minima=tuple(Minimum(tuple(map(float, p)), float(v)) for p, v in minima),
        start=tuple(map(float, start)),
        description=description,
        formula=formula,
        recipe={"name": name},
        title=title,
        tex=tex,
    )


FUNCTIONS: dict[str, TestFunction] = {
    fn.name: fn
    for fn in [
        _fn(
            "parabola", lambda p: p[..., 0] ** 2, lambda p: 2 * p, [(-12, 12)], [((0,), 0)],
            (10,), "f(x) = x^2: the 1D bowl; lr 0.2 converges, 0.05 crawls, 1.1 diverges",
            "x^2",
            title="Parabola", tex=r"$x^2$",
        ),
        _fn(
            "xcos", _xcos, _xcos_grad, [(-13, 13)],
            [((7.269388146311475,), -6.9781408310704744), ((-1.8256845786723397,), -1.190683410318222)],
            (10,), "f(x) = x cos(0.15 pi x): unbounded below; a large step lands in a poor local minimum",
            "x cos(0.15πx)",
            title="A wavy slope", tex=r"$x\,\cos(0.15\pi x)$",
        ),
        _fn(
            "sphere", *_quadratic(1.0, 1.0), [(-5, 5), (-5, 5)], [((0, 0), 0)], (-4, 3),
            "x^2 + y^2: the round bowl every optimizer solves", "x² + y²",
            title="Round bowl", tex=r"$x^2 + y^2$",
        ),
        _fn(
            "quadratic", *_quadratic(1.0, 2.0), [(-5.5, 5.5), (-3, 3)], [((0, 0), 0)], (-5, -2),
            "x1^2 + 2 x2^2: a mildly elongated bowl", "x₁² + 2x₂²",
            title="Quadratic bowl", tex=r"$x^2 + 2y^2$",
        ),
        _fn(
            "ill_conditioned", *_quadratic(0.1, 2.0), [(-5.5, 5.5), (-3, 3)], [((0, 0), 0)],
            (-5, -2), "0.1 x1^2 + 2 x2^2: flat along x1, steep along x2 (condition number 20)",
            "0.1x₁² + 2x₂²",
            title="Ill-conditioned quadratic", tex=r"$0.1x^2 + 2y^2$",
        ),
        _fn(
            "offset_ellipse", _offset_ellipse, _offset_ellipse_grad, [(-1.5, 3.5), (-1.5, 2.5)],
            [((2, 1), 0)], (2, 1),
            "a tilted elliptic loss away from the origin: where L1 and L2 penalties pull its minimum",
            "(x-2)² + 2(y-1)² + (x-2)(y-1)",
            title="Tilted ellipse", tex=r"$(x-2)^2 + 2(y-1)^2 + (x-2)(y-1)$",
        ),
        _fn(
            "rosenbrock", _rosenbrock, _rosenbrock_grad, [(-2, 2), (-1, 3)], [((1, 1), 0)],
            (-1.5, 2), "a curved banana valley: easy to reach, slow to follow", "(1-x)² + 100(y-x²)²",
            title="Rosenbrock", tex=r"$(1-x)^2 + 100(y-x^2)^2$",
        ),
        _fn(
            "beale", _beale, _beale_grad, [(-4.5, 4.5), (-4.5, 4.5)], [((3, 0.5), 0)], (1, 1.5),
            "sharp ridges and a flat, narrow valley towards (3, 0.5)",
            "(1.5-x+xy)² + (2.25-x+xy²)² + (2.625-x+xy³)²",
            title="Beale", tex=r"$(1.5-x+xy)^2 + (2.25-x+xy^2)^2 + (2.625-x+xy^3)^2$",
        ),
        _fn(
            "booth", _booth, _booth_grad, [(-10, 10), (-10, 10)], [((1, 3), 0)], (-7, -8),
            "a tilted, elongated bowl", "(x+2y-7)² + (2x+y-5)²",
            title="Booth", tex=r"$(x+2y-7)^2 + (2x+y-5)^2$",
        ),
        _fn(
            "himmelblau", _himmelblau, _himmelblau_grad, [(-5, 5), (-5, 5)],
            [
                ((3, 2), 0),
                ((-2.805118086952745, 3.131312518250573), 0),
                ((-3.779310253377747, -3.283185991286169), 0),
                ((3.5844283403304917, -1.8481265269644034), 0),
            ],
            (-0.5, -0.5), "four equal minima: which one you reach depends on the start",
            "(x²+y-11)² + (x+y²-7)²",
            title="Himmelblau", tex=r"$(x^2+y-11)^2 + (x+y^2-7)^2$",
        ),
        _fn(
            "rastrigin", _rastrigin, _rastrigin_grad, [(-5.12, 5.12), (-5.12, 5.12)],
            [((0, 0), 0)], (4.4, -3.6), "a bowl covered in a regular grid of local minima",
            "20 + Σ(x² - 10cos(2πx))",
            title="Rastrigin", tex=r"$20 + \sum_i\,(x_i^2 - 10\cos 2\pi x_i)$",
        ),
        _fn(
            "ackley", _ackley, _ackley_grad, [(-5, 5), (-5, 5)], [((0, 0), 0)], (3.2, -2.4),
            "a nearly flat, rippled plate with a deep hole at the origin",
            "-20e^(-0.2√(½(x²+y²))) - e^(½(cos2πx+cos2πy)) + e + 20",
            title="Ackley", tex=r"$-20e^{-0.2\sqrt{(x^2+y^2)/2}} - e^{(\cos 2\pi x + \cos 2\pi y)/2} + e + 20$",
        ),
        _fn(
            "goldstein_price", _goldstein_price, _goldstein_price_grad, [(-2, 2), (-2, 2)],
            [((0, -1), 3)], (0.5, -1.8), "values spanning six decades, minimum 3 at (0, -1)",
            "[1+(x+y+1)²(19-14x+3x²-14y+6xy+3y²)]·[30+(2x-3y)²(18-32x+12x²+48y-36xy+27y²)]",
            title="Goldstein–Price",
        ),
        _fn(
            "matyas", _matyas, _matyas_grad, [(-10, 10), (-10, 10)], [((0, 0), 0)], (-8, 6),
            "a flat, diagonal plate: gradients are small everywhere", "0.26(x²+y²) - 0.48xy",
            title="Matyas", tex=r"$0.26(x^2+y^2) - 0.48xy$",
        ),
        _fn(
            "three_hump_camel", _three_hump_camel, _three_hump_camel_grad, [(-3, 3), (-3, 3)],
            [((0, 0), 0)], (-2, 2.2), "three valleys: one global minimum, two local ones",
            "2x² - 1.05x⁴ + x⁶/6 + xy + y²",
            title="Three-hump camel", tex=r"$2x^2 - 1.05x^4 + x^6/6 + xy + y^2$",
        ),
        _fn(
            "levi13", _levi13, _levi13_grad, [(-4, 6), (-4, 6)], [((1, 1), 0)], (-3, -2.5),
            "Levi N.13: a ribbed bowl with many local minima",
            "sin²(3πx) + (x-1)²(1+sin²(3πy)) + (y-1)²(1+sin²(2πy))",
            title="Lévi N.13", tex=r"$\sin^2 3\pi x + (x-1)^2(1+\sin^2 3\pi y) + (y-1)^2(1+\sin^2 2\pi y)$",
        ),
        _fn(
            "styblinski_tang", _styblinski_tang, _styblinski_tang_grad, [(-5, 5), (-5, 5)],
            [((_ST, _ST), -78.33233140754282)], (4.5, 4.5),
            "four basins of different depths; the deepest at (-2.90, -2.90)", "½Σ(x⁴ - 16x² + 5x)",
            title="Styblinski–Tang", tex=r"$\frac{1}{2}\sum_i\,(x_i^4 - 16x_i^2 + 5x_i)$",
        ),
        _fn(
            "saddle", _saddle, _saddle_grad, [(-2, 2), (-2, 2)], [], (-1.8, 0.05),
            "x^2 - y^2: a saddle point at the origin, unbounded below", "x² - y²",
            title="Saddle", tex=r"$x^2 - y^2$",
        ),
        _fn(
            "monkey_saddle", _monkey_saddle, _monkey_saddle_grad, [(-2, 2), (-2, 2)], [],
            (1.5, 0.1), "x^3 - 3xy^2: a flat saddle with three downhill valleys", "x³ - 3xy²",
            title="Monkey saddle", tex=r"$x^3 - 3xy^2$",
        ),
    ]
}
FUNCTIONS.update(MATRIX_PROBLEMS)  # a point that is a matrix: any size, dim="ROWSxCOLS" (see matrices.py)


# The classics that come in any dimension (dim=): sum over coordinates, or neighbours for
# Rosenbrock. In 2D they are the registered functions themselves.
_ANY_DIMENSION: dict[str, tuple[str, str, float]] = {  # name -> (TeX, formula, per-coordinate minimum)
    "sphere": (r"$\sum_i x_i^2$", "Σ xᵢ²", 0.0),
    "quadratic": (r"$\sum_i a_i x_i^2$", "Σ aᵢxᵢ², a from 1 to the condition number", 0.0),
    "ill_conditioned": (r"$\sum_i a_i x_i^2$", "Σ aᵢxᵢ², a from 0.1 to 0.1 x the condition number", 0.0),
    "rosenbrock": (r"$\sum_i 100(x_{i+1}-x_i^2)^2 + (1-x_i)^2$", "Σ 100(xᵢ₊₁-xᵢ²)² + (1-xᵢ)²", 0.0),
    "rastrigin": (r"$10n + \sum_i\,(x_i^2 - 10\cos 2\pi x_i)$", "10n + Σ(xᵢ² - 10cos(2πxᵢ))", 0.0),
    "ackley": (r"$-20e^{-0.2\sqrt{\overline{x^2}}} - e^{\overline{\cos 2\pi x}} + e + 20$",
               "-20e^(-0.2√mean(x²)) - e^mean(cos2πx) + e + 20", 0.0),
    "styblinski_tang": (r"$\frac{1}{2}\sum_i\,(x_i^4 - 16x_i^2 + 5x_i)$", "½Σ(xᵢ⁴ - 16xᵢ² + 5xᵢ)",
                        -78.33233140754282 / 2),
}
_CONDITION = {"quadratic": (1.0, 2.0), "ill_conditioned": (0.1, 20.0)}  # first weight, default condition


def get_function(name: Any, *, bounds: Any = None, dim: int | None = None,
                 condition: float | None = None) -> TestFunction:
    """A test function from what a user has in hand.

    - a TestFunction passes through;
    - a registered name ("rosenbrock"), with ``dim=`` for the classics that come in any
      dimension (sphere, quadratic, ill_conditioned, rosenbrock, rastrigin, ackley,
      styblinski_tang) and ``condition=`` for the quadratics' condition number;
    - a matrix problem (low_rank, matrix_sensing, least_squares) with ``dim="ROWSxCOLS"``
      for its size, ``"ROWSxCOLSrRANK"`` with a rank ("8x8r2"; see optviz.core.functions.matrices);
    - a formula ("x**2 + 3*y**2", "x1**2 + x2**2 + x3**2") over ``bounds`` (default -5..5 per
      coordinate; see optviz.expressions);
    - a Python callable of one point, with ``bounds`` (see :func:`function`).

    Unknown names raise ValueError with the closest known name.
    """
    if isinstance(name, TestFunction):
        if dim is not None and dim != name.dim:
            raise ValueError(f"{name.name} is {name.dim}D, not {dim}D")
        return name
    if callable(name) and not isinstance(name, str):
        if bounds is None:
            raise ValueError("a Python function needs bounds=[(lo, hi), ...], one pair per coordinate")
        return function(name, bounds)
    if not isinstance(name, str):
        raise TypeError(f"a function is a name, a formula, a TestFunction or a callable, got {type(name).__name__}")
    if name in MATRIX_PROBLEMS:  # before dim's check: a matrix problem's dim is its size, "8x8r2"
        if bounds is not None or condition is not None:
            raise ValueError(f"{name} takes dim= alone: its size as ROWSxCOLS, like dim='8x8'")
        return matrix_problem(name, dim)
    if dim is not None and (isinstance(dim, bool) or not isinstance(dim, int) or not 1 <= dim <= MAX_DIM):
        raise ValueError(f"dim must be a whole number from 1 to {MAX_DIM:,}, got {dim!r}")
    if name in FUNCTIONS:
        if bounds is not None:
            raise ValueError(f"{name} has its own bounds; bounds are for a formula or a Python function")
        return _in_dimensions(name, dim, condition)
    check_function_name(name)  # a word that is no name is no formula either
    text = name.strip()
    if bounds is None and dim is not None:
        bounds = ((-5.0, 5.0),) * dim
    return parse_expression(text, bounds)


def _in_dimensions(name: str, dim: int | None, condition: float | None) -> TestFunction:
    base = FUNCTIONS[name]
    if condition is not None and name not in _CONDITION:
        raise ValueError(f"condition= is for the quadratics ({', '.join(_CONDITION)}), not {name}")
    if condition is not None and not (isinstance(condition, (int, float)) and math.isfinite(condition)
                                      and condition >= 1):
        raise ValueError(f"condition must be a finite number >= 1, got {condition!r}")
    if (dim is None or dim == base.dim) and condition is None:
        return base
    if name not in _ANY_DIMENSION:
        any_dim = ", ".join(_ANY_DIMENSION)
        raise ValueError(f"{name} is {base.dim}D only; these come in any dimension: {any_dim}")
    n = base.dim if dim is None else dim
    if name == "rosenbrock" and n < 2:
        raise ValueError("rosenbrock needs dim >= 2 (it couples neighbouring coordinates)")
    tex, formula, per_coordinate = _ANY_DIMENSION[name]
    if name in _CONDITION:
        first, default = _CONDITION[name]
        kappa = float(condition if condition is not None else default)
        weights = first * kappa ** (torch.arange(n, dtype=torch.float64) / max(n - 1, 1))
        value, grad = _diagonal_quadratic(weights)
        formula = f"{formula}, condition number {kappa:g}"
    elif name == "sphere":
        value, grad = _diagonal_quadratic(torch.ones(n, dtype=torch.float64))
    elif name == "rosenbrock":
        value, grad = _rosenbrock_nd, _rosenbrock_nd_grad
    else:
        value, grad = base.value_fn, base.grad_fn  # written for any number of coordinates
    low = base.minima[0].point[0]  # every classic here has its minimum on the diagonal
    recipe = {"name": name, "dim": n, **({"condition": condition} if condition is not None else {})}
    return TestFunction(
        name=f"{name}_{n}d", value_fn=value, grad_fn=grad, hessian_fn=written_hessian(grad),
        bounds=tuple(base.bounds[i % base.dim] for i in range(n)),
        minima=(Minimum((float(low),) * n, per_coordinate * n),),
        start=tuple(base.start[i % base.dim] for i in range(n)),
        description=f"{base.description} ({n} dimensions)", formula=formula,
        axes=tuple(f"x{i + 1}" for i in range(n)) if n != 2 else base.axes,
        recipe=recipe, title=f"{base.title} in {n}D", tex=tex,
    )


def listing() -> str:
    """Every registered function: its name, dimension and description, its bounds and minima."""
    lines = []
    for fn in FUNCTIONS.values():
        lines.append(f"{fn.name:<17} {f'{fn.dim}D':<4} {fn.description}")
        if fn.matrix is not None:  # its size is the user's: the default's coordinates say little
            (lo, hi), (rows, cols) = fn.bounds[0], fn.matrix
            lines.append(f"{'':<23}a {rows} x {cols} matrix with entries in [{lo:g}, {hi:g}] at --dim "
                         f"{MATRIX_SIZES[fn.name]}, any size with another; minimum: f = 0 at its known optimum")
            continue
        bounds = " x ".join(f"[{lo:g}, {hi:g}]" for lo, hi in fn.bounds)
        minima = "; ".join(f"f({', '.join(f'{v:.4g}' for v in m.point)}) = {m.value:.4g}" for m in fn.minima)
        lines.append(f"{'':<23}bounds {bounds}; minima: {minima or 'none (unbounded below)'}")
    return "\n".join(lines)
