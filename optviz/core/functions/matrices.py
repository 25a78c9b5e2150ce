"""Matrix test problems: a point is a matrix, flattened row by row, so that the optimizers
built for matrices (Muon, Shampoo, SOAP, Kron) step it in its own shape.

- ``low_rank``: W = U Vᵀ fit to a rank-r target T; the point is the stacked factors [U; V].
- ``matrix_sensing``: X recovered from p = 2mn Gaussian measurements ⟨A_i, X*⟩ of a rank-r X*.
- ``least_squares``: a linear layer's weight W fit to outputs Y = X W*ᵀ of seeded inputs X.

Each comes in any size, ``dim="ROWSxCOLS"`` (the rank after an r: ``"8x8r2"``), made from
one fixed seed, so a size is the same problem everywhere; each has its optimum known (value 0)
and says which singular values a spectrum picture shows (``TestFunction.spectrum``).
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable

import torch
from torch import Tensor

from ..limits import MAX_DIM, MAX_PROBLEM_VALUES
from ..names import quoted
from .surface import Minimum, TestFunction, written_hessian

# name -> its size when dim= is not given (read by core/vocabulary.py without torch)
PROBLEMS = {
    "low_rank": "8x8r2",
    "matrix_sensing": "6x6r2",
    "least_squares": "4x8",
}
DEFAULT_RANK = 2  # where a size gives none (at most the smaller side)
SEED = 0  # every problem's data and start: the same numbers on every machine with the same torch
START_SCALE = 0.01  # the default start's entries: small, as a network's weights start
SIZE = re.compile(r"(\d{1,9})x(\d{1,9})(?:r(\d{1,9}))?")  # beyond 9 digits no size passes the ceilings


def matrix_problem(name: str, dim: Any = None) -> TestFunction:
    """The matrix problem ``name`` at size ``dim`` ("ROWSxCOLS", or "ROWSxCOLSrRANK" for the two
    with a rank; its default size if None). ValueError, in one line, for a size it cannot
    have."""
    rows, cols, rank = size_of(name, PROBLEMS[name] if dim is None else dim)
    if _canonical(rows, cols, rank) == PROBLEMS[name] and name in DEFAULTS:
        return DEFAULTS[name]
    return _MAKERS[name](rows, cols, rank)


def size_of(name: str, dim: Any) -> tuple[int, int, int]:
    """(rows, cols, rank) of ``dim`` for problem ``name`` (rank 0 for least_squares), checked
    against the problem's shape and the ceilings."""
    ranked = name != "least_squares"
    form = "ROWSxCOLS like '8x8', or ROWSxCOLSrRANK like '8x8r2'" if ranked else "OUTxIN like '4x8' (no rank)"
    found = SIZE.fullmatch(dim.replace(" ", "").lower()) if isinstance(dim, str) else None
    if found is None or (found[3] is not None and not ranked):
        raise ValueError(f"{name} takes dim as {form}, got {quoted(dim)}")
    rows, cols = int(found[1]), int(found[2])
    if rows < 1 or cols < 1:
        raise ValueError(f"{name} needs at least 1 row and 1 column, got {quoted(dim)}")
    rank = (int(found[3]) if found[3] is not None else min(DEFAULT_RANK, rows, cols)) if ranked else 0
    if ranked and not 1 <= rank <= min(rows, cols):
        raise ValueError(f"{name}: rank {rank} must be from 1 to the smaller side, {min(rows, cols)}, in {quoted(dim)}")
    coordinates, data = _sizes(name, rows, cols, rank)
    if coordinates > MAX_DIM:
        raise ValueError(f"{name} {dim}: a point of {coordinates:,} numbers, more than the {MAX_DIM:,} allowed")
    if data > MAX_PROBLEM_VALUES:
        raise ValueError(f"{name} {dim}: {data:,} numbers of data, more than the {MAX_PROBLEM_VALUES:,} allowed; "
                         f"use a smaller size")
    return rows, cols, rank


def _sizes(name: str, rows: int, cols: int, rank: int) -> tuple[int, int]:
    """The numbers in one point and in the problem's fixed data."""
    if name == "low_rank":
        return (rows + cols) * rank, rows * cols  # the target
    if name == "matrix_sensing":
        return rows * cols, 2 * (rows * cols) ** 2 + rows * cols  # the measurements, each a matrix
    return rows * cols, 4 * cols * (cols + rows)  # 4 x in examples of inputs and outputs


def _canonical(rows: int, cols: int, rank: int) -> str:
    return f"{rows}x{cols}" + (f"r{rank}" if rank else "")


def _random(gen: torch.Generator, *shape: int) -> Tensor:
    return torch.randn(*shape, generator=gen, dtype=torch.float64)


def _orthonormal(gen: torch.Generator, rows: int, cols: int) -> Tensor:
    """``cols`` orthonormal columns, each signed by its R's diagonal: one answer however QR runs."""
    q, r = torch.linalg.qr(_random(gen, rows, cols))
    return q * torch.sign(torch.diagonal(r))


def _rank_r(gen: torch.Generator, rows: int, cols: int, rank: int) -> tuple[Tensor, Tensor, Tensor]:
    """P (rows, rank), Q (cols, rank) orthonormal and singular values s halving from √(rows·cols),
    so that P diag(s) Qᵀ has entries of order 1 and a spectrum spread over decades."""
    s = math.sqrt(rows * cols) * 0.5 ** torch.arange(rank, dtype=torch.float64)
    return _orthonormal(gen, rows, rank), _orthonormal(gen, cols, rank), s


def _problem(name: str, rows: int, cols: int, rank: int, *, value: Callable, grad: Callable, optimum: Tensor,
             start: Tensor, spectrum: Callable | None, title: str, description: str, formula: str,
             tex: str, isolated: bool = True) -> TestFunction:
    """The TestFunction of a matrix problem: a point is ``optimum``'s shape, flattened."""
    size = _canonical(rows, cols, rank)
    default = size == PROBLEMS[name]
    reach = 1.5 * max(optimum.abs().max().item(), start.abs().max().item())
    bound = max(1.0, math.ceil(2 * reach) / 2)  # a frame around the optimum and the start
    return TestFunction(
        name=name if default else f"{name}_{size}", value_fn=value, grad_fn=grad, hessian_fn=written_hessian(grad),
        bounds=((-bound, bound),) * optimum.numel(),
        minima=(Minimum(tuple(optimum.flatten().tolist()), 0.0),), start=tuple(start.flatten().tolist()),
        description=description, formula=formula, axes=tuple(f"x{i + 1}" for i in range(optimum.numel())),
        recipe={"name": name} if default else {"name": name, "dim": size},
        title=f"{title} ({size})", tex=tex, matrix=tuple(optimum.shape), spectrum_fn=spectrum,
        isolated_minima=isolated,
    )


def _as(points: Tensor, rows: int, cols: int) -> Tensor:
    return points.reshape(*points.shape[:-1], rows, cols)


def _low_rank(rows: int, cols: int, rank: int) -> TestFunction:
    """½‖UVᵀ − T‖²/(rows·cols) over the factors U (rows, rank) and V (cols, rank), stacked as
    one (rows + cols, rank) matrix; T is rank-``rank`` with singular values √(rows·cols)·2⁻ᵏ.
    Its minimum 0 is reached at U = P√s, V = Q√s (and along every U G, V G⁻ᵀ)."""
    gen = torch.Generator().manual_seed(SEED)
    p, q, s = _rank_r(gen, rows, cols, rank)
    target = (p * s) @ q.T
    optimum = torch.cat([p * s.sqrt(), q * s.sqrt()])
    start = START_SCALE * _random(gen, rows + cols, rank)
    scale = rows * cols

    def factors(points: Tensor) -> tuple[Tensor, Tensor]:
        stacked = _as(points, rows + cols, rank)
        return stacked[..., :rows, :], stacked[..., rows:, :]

    def residual(points: Tensor) -> tuple[Tensor, Tensor, Tensor]:
        u, v = factors(points)
        return u @ v.mT - target.to(points.dtype), u, v

    def value(points: Tensor) -> Tensor:
        return (residual(points)[0] ** 2).sum((-2, -1)) / (2 * scale)

    def grad(points: Tensor) -> Tensor:
        r, u, v = residual(points)
        return (torch.cat([r @ v, r.mT @ u], dim=-2) / scale).reshape(points.shape)

    def spectrum(points: Tensor) -> Tensor:
        """The singular values of W = UVᵀ: those of R_U R_Vᵀ, from U = Q_U R_U and V = Q_V R_V
        (rank of them, with none of the rows + cols - rank zeros an SVD of W would add)."""
        u, v = factors(points)
        return torch.linalg.svdvals(torch.linalg.qr(u)[1] @ torch.linalg.qr(v)[1].mT)

    return _problem(
        "low_rank", rows, cols, rank, value=value, grad=grad, optimum=optimum, start=start, spectrum=spectrum,
        isolated=False,  # every U G, V G⁻ᵀ (G invertible) is a minimum too
        title="Low-rank factorization",
        description=f"fit W = UVᵀ ({rows} x {cols}) to a rank-{rank} target T; the point is the factors [U; V], "
                    f"a {rows + cols} x {rank} matrix, from a small random start",
        formula="½‖UVᵀ - T‖²/(mn)", tex=r"$\frac{1}{2mn}\,\|UV^\top - T\|_F^2$",
    )


def _matrix_sensing(rows: int, cols: int, rank: int) -> TestFunction:
    """(1/2p) Σᵢ (⟨Aᵢ, X⟩ − yᵢ)² over X (rows, cols), from p = 2·rows·cols measurements
    yᵢ = ⟨Aᵢ, X*⟩ of a rank-``rank`` X*, with Aᵢ's entries of variance 1/(rows·cols) (so f
    is about half the mean squared error of X's entries); X* is the one minimum."""
    gen = torch.Generator().manual_seed(SEED)
    p, q, s = _rank_r(gen, rows, cols, rank)
    optimum = (p * s) @ q.T
    n = 2 * rows * cols
    sensing = _random(gen, n, rows * cols) / math.sqrt(rows * cols)  # one measurement a row
    measured = sensing @ optimum.flatten()
    start = START_SCALE * _random(gen, rows, cols)

    def errors(points: Tensor) -> Tensor:
        return points @ sensing.T.to(points.dtype) - measured.to(points.dtype)

    def value(points: Tensor) -> Tensor:
        return (errors(points) ** 2).sum(-1) / (2 * n)

    def grad(points: Tensor) -> Tensor:
        return errors(points) @ sensing.to(points.dtype) / n

    return _problem(
        "matrix_sensing", rows, cols, rank, value=value, grad=grad, optimum=optimum, start=start, spectrum=None,
        title="Matrix sensing",
        description=f"recover a rank-{rank} {rows} x {cols} matrix X* from {n} Gaussian measurements ⟨Aᵢ, X*⟩",
        formula="(1/2p) Σᵢ (⟨Aᵢ, X⟩ - yᵢ)²", tex=r"$\frac{1}{2p}\sum_i\,(\langle A_i, X\rangle - y_i)^2$",
    )


def _least_squares(rows: int, cols: int, rank: int = 0) -> TestFunction:
    """‖X Wᵀ − Y‖²/(2N) over a linear layer's weight W (rows outputs x cols inputs), on N =
    4·cols seeded examples whose input features have scales from 1 down to 0.1 (as real
    layers' inputs do: the loss is ill-conditioned), with Y = X W*ᵀ; W* is the one minimum."""
    gen = torch.Generator().manual_seed(SEED)
    n = 4 * cols
    features = 0.1 ** (torch.arange(cols, dtype=torch.float64) / max(cols - 1, 1))
    inputs = _random(gen, n, cols) * features
    optimum = _random(gen, rows, cols)
    outputs = inputs @ optimum.T
    start = START_SCALE * _random(gen, rows, cols)

    def errors(points: Tensor) -> Tensor:  # (..., N, rows)
        return inputs.to(points.dtype) @ _as(points, rows, cols).mT - outputs.to(points.dtype)

    def value(points: Tensor) -> Tensor:
        return (errors(points) ** 2).sum((-2, -1)) / (2 * n)

    def grad(points: Tensor) -> Tensor:
        return (errors(points).mT @ inputs.to(points.dtype) / n).reshape(points.shape)

    return _problem(
        "least_squares", rows, cols, rank, value=value, grad=grad, optimum=optimum, start=start, spectrum=None,
        title="A linear layer's least squares",
        description=f"fit a linear layer's {rows} x {cols} weight W to {n} examples Y = XW*ᵀ, "
                    f"input features scaled from 1 to 0.1",
        formula="‖XWᵀ - Y‖²/(2N)", tex=r"$\frac{1}{2N}\,\|XW^\top - Y\|_F^2$",
    )


_MAKERS = {"low_rank": _low_rank, "matrix_sensing": _matrix_sensing, "least_squares": _least_squares}
DEFAULTS: dict[str, TestFunction] = {}  # the zoo's entries: each problem at its default size
DEFAULTS.update({name: matrix_problem(name) for name in PROBLEMS})
