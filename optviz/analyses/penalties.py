"""Regularization penalties: a function turned into its penalised version, and optimizers that
follow the penalised gradient.

    l2(lam):          lam/2 * ||w||^2,   gradient lam * w
    l1(lam):          lam * ||w||_1,     subgradient lam * sign(w) (0 where w = 0)
    elastic_net(a, b): a * ||w||_1 + b/2 * ||w||^2

For L1 the subgradient sign(w) keeps gradient methods hopping across 0 instead of landing on
it; ``penalised_minimum`` therefore uses proximal gradient steps (soft thresholding), which put
a weight exactly at 0 when the penalty wins: the sparsity L1 is known for.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass
from typing import Any

import torch
from torch import Tensor

from ..core.functions import TestFunction
from ..core.optimizers.base import Optimizer


@dataclass(frozen=True)
class Penalty:
    """l1 * ||w||_1 + l2 / 2 * ||w||^2."""

    l1: float = 0.0
    l2: float = 0.0

    def __post_init__(self) -> None:
        for name in ("l1", "l2"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < math.inf:
                raise ValueError(f"penalty {name} must be a number >= 0, got {value!r}")

    @property
    def label(self) -> str:
        parts = [f"L1 λ={self.l1:g}" if self.l1 else "", f"L2 λ={self.l2:g}" if self.l2 else ""]
        return " + ".join(p for p in parts if p) or "no penalty"

    @property
    def tex(self) -> str:
        """The penalty term as mathtext, without the dollar signs."""
        parts = [rf"{self.l1:g}\|w\|_1" if self.l1 else "", rf"\frac{{{self.l2:g}}}{{2}}\|w\|^2" if self.l2 else ""]
        return " + ".join(p for p in parts if p) or "0"

    def value(self, w: Tensor) -> Tensor:
        return self.l1 * w.abs().sum(-1) + self.l2 / 2 * (w**2).sum(-1)

    def grad(self, w: Tensor) -> Tensor:
        """The (sub)gradient: l1 * sign(w) + l2 * w, with sign(0) = 0."""
        return self.l1 * torch.sign(w) + self.l2 * w


def l2(lam: float) -> Penalty:
    return Penalty(l2=lam)


def l1(lam: float) -> Penalty:
    return Penalty(l1=lam)


def elastic_net(l1_lam: float, l2_lam: float) -> Penalty:
    return Penalty(l1=l1_lam, l2=l2_lam)


def penalise(function: TestFunction, penalty: Penalty) -> TestFunction:
    """f + penalty, with gradient grad f + the penalty's (sub)gradient."""
    return dataclasses.replace(
        function,
        name=f"{function.name}+{penalty.label}",
        value_fn=lambda w: function.value_fn(w) + penalty.value(w),
        grad_fn=lambda w: function.grad_fn(w) + penalty.grad(w),
        minima=(),  # the penalised minimum moves; penalised_minimum() finds it
        description=f"{function.description}, with {penalty.label}",
        formula=f"{function.formula} + {penalty.label}",
        recipe=None,  # made by code: a saved result keeps a sampled copy of its surface
        title=f"{function.title or function.name}, {penalty.label}",
        tex=f"{function.tex[:-1]} + {penalty.tex}$" if function.tex else "",
    )


def penalised(opt: Optimizer, penalty: Penalty) -> Optimizer:
    """The optimizer run on f + penalty: it is handed grad f and adds the penalty's gradient,
    as backpropagating through a penalty term in the loss would."""

    def step(params: Tensor, grad: Tensor, state: Any) -> tuple[Tensor, Any]:
        return opt.step(params, grad + penalty.grad(params), state)

    rule = opt.rule.adding(penalty.grad) if opt.rule is not None else None  # for fast mode and the page
    return Optimizer(opt.init, step, opt.name, {**opt.hyperparams, "penalty": penalty}, rule, opt.entry)


def penalised_minimum(function: TestFunction, penalties: list[Penalty], *, steps: int = 3000,
                      lr: float | None = None) -> Tensor:
    """The minimum of f + penalty for each penalty, by proximal gradient descent from the
    function's start, all penalties as one batch: (len(penalties), dim).

    Each step: w <- soft_threshold(w - lr * (grad f(w) + l2 * w), lr * l1).
    """
    if not penalties:
        raise ValueError("penalised_minimum needs at least one penalty")
    dtype = torch.float64
    l1s = torch.tensor([p.l1 for p in penalties], dtype=dtype).unsqueeze(1)
    l2s = torch.tensor([p.l2 for p in penalties], dtype=dtype).unsqueeze(1)
    w = torch.tensor(function.start, dtype=dtype).repeat(len(penalties), 1)
    step = lr if lr is not None else _safe_step(function, float(l2s.max()))
    for _ in range(steps):
        w = w - step * (function.grad(w) + l2s * w)
        w = torch.sign(w) * torch.clamp(w.abs() - step * l1s, min=0.0)
    return w


def _safe_step(function: TestFunction, l2_max: float) -> float:
    """About 1 / L, L the gradient's largest rate of change seen over the bounds (plus the L2
    term), estimated from gradient differences at random points."""
    g = torch.Generator().manual_seed(0)
    lo, hi = torch.tensor(function.bounds, dtype=torch.float64).T
    points = lo + (hi - lo) * torch.rand(512, function.dim, generator=g, dtype=torch.float64)
    delta = 1e-5 * (hi - lo) * torch.randn(512, function.dim, generator=g, dtype=torch.float64)
    change = torch.linalg.vector_norm(function.grad(points + delta) - function.grad(points), dim=1)
    curvature = (change / torch.linalg.vector_norm(delta, dim=1)).max().item()
    return 1.0 / (1.2 * curvature + l2_max)


@dataclass(frozen=True)
class RegularizationPaths:
    """Where the minimum of f + penalty sits as lambda grows, for L1 and for L2.

    ``l1_path[k]`` and ``l2_path[k]`` are the minima at ``lambdas[k]``; ``highlight`` is the
    lambda whose level sets (the L2 circle, the L1 diamond) are drawn touching the loss."""

    function: TestFunction
    lambdas: Tensor
    l1_path: Tensor
    l2_path: Tensor
    highlight: float

    def at(self, lam: float) -> tuple[Tensor, Tensor]:
        """The L1 and L2 minima at the grid's lambda nearest to ``lam``."""
        k = int(torch.argmin((self.lambdas - lam).abs()))
        return self.l1_path[k], self.l2_path[k]


def sparse_from(paths: RegularizationPaths, coordinate: int = 0, points: int = 101) -> float | None:
    """The least lambda at which the L1 minimum's ``coordinate`` is exactly 0 (and stays 0 for
    every larger lambda of the paths): found on the paths' grid, then refined on ``points``
    lambdas between the grid's last nonzero one and its first zero one. None if it never is."""
    zero = (paths.l1_path[:, coordinate] == 0).tolist()
    stays = [k for k in range(len(zero)) if all(zero[k:])]
    if not stays:
        return None
    k = stays[0]
    if k == 0:
        return float(paths.lambdas[0])
    between = torch.linspace(float(paths.lambdas[k - 1]), float(paths.lambdas[k]), points, dtype=torch.float64)
    minima = penalised_minimum(paths.function, [l1(v) for v in between.tolist()])
    return float(between[int(torch.nonzero(minima[:, coordinate] == 0)[0])])


def regularization_paths(function: TestFunction, lambdas: Any = None, highlight: float = 1.0) -> RegularizationPaths:
    """Penalised minima over a range of lambdas (default 0 and 1e-2 .. 1e2), one batch each."""
    if function.dim != 2:
        raise ValueError(f"regularization paths are drawn for 2D functions; {function.name} is {function.dim}D")
    if lambdas is None:
        lambdas = [0.0, *torch.logspace(-2, 2, 81, dtype=torch.float64).tolist()]
    lambdas = sorted({float(v) for v in lambdas} | {float(highlight)})
    if any(v < 0 or not math.isfinite(v) for v in lambdas):
        raise ValueError("lambdas must be finite numbers >= 0")
    return RegularizationPaths(
        function,
        torch.tensor(lambdas, dtype=torch.float64),
        penalised_minimum(function, [l1(v) for v in lambdas]),
        penalised_minimum(function, [l2(v) for v in lambdas]),
        float(highlight),
    )
