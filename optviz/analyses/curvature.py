"""The curvature under a run: the Hessian's eigenvalues at every point of every path, the
sharpness (the top one) per step, and the sharpness at which each optimizer's step stops
being stable on a quadratic.

Gradient descent with step size lr is stable along an eigendirection of curvature λ only
while lr·λ < 2; a run whose sharpness crosses its optimizer's threshold zig-zags outward
along that direction. An adaptive method steps by P⁻¹ times its gradient (Adam's
P = diag(√v̂ + ε)), so what it sees is the preconditioned sharpness, the top eigenvalue of
P⁻¹H, against a threshold of its own: (2 + 2β₁)/((1 − β₁)·lr), 38/lr at β₁ = 0.9."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..core.files import write_table

from ..core.functions.surface import TestFunction
from ..core.simulation.result import Result
from .state import built_in_entry, preconditioners


def hessians(function: TestFunction, points: Tensor) -> Tensor:
    """f's Hessian at points (..., dim): shape (..., dim, dim), from the function's written-out
    gradient where it has one, else by automatic differentiation of its value; all of it in
    one batched call. NaN at a point that is not finite or where the Hessian is not."""
    shape = points.shape
    flat = points.reshape(-1, shape[-1])
    finite = torch.isfinite(flat).all(dim=-1)
    whole = bool(finite.all())  # the common case: no copies to mask a point out
    matrices = function.hessian(flat if whole else torch.where(finite[:, None], flat, 0.0))
    usable = finite & torch.isfinite(matrices).flatten(1).all(dim=-1)
    if not bool(usable.all()):
        matrices = torch.where(usable[:, None, None], matrices, float("nan"))
    return matrices.reshape(*shape, shape[-1])


def hessian_eigenvalues(function: TestFunction, points: Tensor) -> Tensor:
    """The eigenvalues of f's Hessian at points (..., dim), ascending: shape (..., dim). NaN
    at a point that is not finite or where the Hessian is not (see hessians)."""
    return symmetric_eigenvalues(hessians(function, points))


def symmetric_eigenvalues(matrices: Tensor) -> Tensor:
    """Ascending eigenvalues of symmetric matrices (..., n, n); NaN for a matrix with a NaN."""
    shape, n = matrices.shape, matrices.shape[-1]
    flat = matrices.reshape(-1, n, n)
    usable = torch.isfinite(flat).flatten(1).all(dim=-1)
    whole = bool(usable.all())
    if not whole:
        flat = torch.where(usable[:, None, None], flat, 0.0)
    if n == 2:
        values = _eigenvalues_2x2(flat)
    else:
        values = torch.linalg.eigvalsh((flat + flat.transpose(-1, -2)) / 2)  # symmetric but for rounding
    if not whole:
        values = torch.where(usable[:, None], values, float("nan"))
    return values.reshape(shape[:-1])


def _eigenvalues_2x2(matrices: Tensor) -> Tensor:
    """Symmetric 2 x 2 matrices' eigenvalues, ascending, in closed form: (a + c)/2 ± the
    hypotenuse of (a - c)/2 and b (three times faster than a batched eigvalsh, within 1e-16)."""
    a, b, c = matrices[:, 0, 0], (matrices[:, 0, 1] + matrices[:, 1, 0]) / 2, matrices[:, 1, 1]
    middle, radius = (a + c) / 2, torch.hypot((a - c) / 2, b)
    return torch.stack([middle - radius, middle + radius], dim=-1)


def sharpness(result: Result, *, preconditioned: bool = False) -> Tensor:
    """The Hessian's top eigenvalue at every recorded point: (steps + 1, paths), NaN after a
    path diverged (and at any point where the Hessian is not finite). ``preconditioned``: for
    the paths of an adaptive built-in whose state the run kept (``simulate(state=True)``),
    the top eigenvalue of P⁻¹H with its own preconditioner at that point instead (see
    preconditioned_limit; NaN at step 0, before it has one)."""
    matrices = hessians(result.function, result.positions)
    top = symmetric_eigenvalues(matrices)[..., -1]
    if preconditioned:
        for label, inverse in _preconditioned(result).items():
            block = _block(result, label)
            top[:, block] = symmetric_eigenvalues(_scaled(matrices[:, block], inverse, result.optimizers[label]))[..., -1]
    return top


def _block(result: Result, label: str) -> slice:
    """The paths of one optimizer."""
    first = result.index(label)
    return slice(first, first + result.n_starts)


def _preconditioned(result: Result) -> dict[str, Tensor]:
    """P⁻¹ per point for the optimizers whose preconditioned sharpness has a known limit."""
    return {label: inverse for label, inverse in preconditioners(result).items()
            if preconditioned_limit(result.optimizers[label]) is not None}


def _scaled(matrices: Tensor, inverse: Tensor, optimizer: Any) -> Tensor:
    """P^-½ (H + wd·I) P^-½: symmetric, with the eigenvalues of P⁻¹(H + wd·I) (see _decayed)."""
    matrices = _decayed(matrices, optimizer)
    root = inverse.to(matrices.dtype).sqrt()
    return root[..., :, None] * matrices * root[..., None, :]


def _decayed(matrices: Tensor, optimizer: Any) -> Tensor:
    """H + wd·I for an adaptive optimizer: an L2 decay, added to the gradient before it is
    preconditioned, is part of the curvature the step sees."""
    decay = _l2_decay(optimizer)
    return matrices + decay * torch.eye(matrices.shape[-1], dtype=matrices.dtype) if decay else matrices


def _l2_decay(optimizer: Any) -> float:
    entry = built_in_entry(optimizer)
    h = getattr(optimizer, "hyperparams", {})
    decoupled = entry is not None and entry.name == "adamw" or h.get("decoupled_weight_decay")
    return 0.0 if decoupled else (_number(h.get("weight_decay", 0.0)) or 0.0)


def _number(value: Any) -> float | None:
    """A hyperparameter as one float, or None where it is no single number (one per start)."""
    if isinstance(value, Tensor):
        return float(value) if value.numel() == 1 else None
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def stable_limit(optimizer: Any, lr: float | None = None) -> float | None:
    """The sharpness above which ``optimizer`` (a built-in sgd, momentum or nesterov) is
    unstable on a quadratic, at learning rate ``lr`` (its own if None); None for any other
    optimizer, or where its hyperparameters are not single numbers.

    On f = λx²/2 with weight decay wd the step sees curvature c = λ + wd. Plain SGD,
    x ← x - lr·c·x, is stable while lr·c < 2. Heavy-ball momentum as torch runs it,
    b ← μb + (1 - d)·c·x and x ← x - lr·b, is the linear map [[1 - a, -lr·μ], [(1 - d)c, μ]]
    with a = lr(1 - d)c: determinant μ, trace 1 + μ - a, and both eigenvalues lie inside the
    unit circle while a < 2(1 + μ). So λ < 2(1 + μ) / ((1 - d)·lr) - wd: (2 + 2μ)/lr with
    torch's dampening 0, and (2 + 2μ) / ((1 - μ)·lr) for an average (dampening = μ).
    Nesterov's x ← x - lr(c·x + μb') gives the map [[1 - a(1 + μ), -lr·μ²], [c, μ]] with
    a = lr·c: its determinant μ(1 - a) and 1 + trace + determinant = 2 + 2μ - a(1 + 2μ)
    > 0 bound a by 2(1 + μ)/(1 + 2μ)."""
    kind = getattr(built_in_entry(optimizer), "name", None)
    if kind not in ("sgd", "momentum", "nesterov"):
        return None
    h = optimizer.hyperparams
    numbers = [_number(h.get(key, 0.0)) for key in ("lr", "momentum", "dampening", "weight_decay")]
    if any(n is None for n in numbers):
        return None
    own_lr, mu, dampening, decay = numbers
    lr = own_lr if lr is None else lr
    if not lr or lr <= 0 or dampening >= 1:
        return None
    if h.get("nesterov"):
        return 2 * (1 + mu) / ((1 + 2 * mu) * lr) - decay
    return 2 * (1 + mu) / ((1 - dampening) * lr) - decay


# the momentum of each adaptive built-in's update direction: Adam's average m ← β₁m + (1 − β₁)g
# is heavy-ball momentum μ = β₁ with dampening β₁; RMSProp's buffer is torch's heavy ball
_ADAPTIVE = {"adam": ("betas", True), "adamw": ("betas", True), "adam_notes": ("betas", True),
             "rmsprop": ("momentum", False), "adagrad": (None, False)}


def preconditioned_limit(optimizer: Any, lr: float | None = None) -> float | None:
    """The preconditioned sharpness (top eigenvalue of P⁻¹H) above which an adaptive built-in
    (adam, adamw, rmsprop, adagrad) is unstable on a quadratic while its preconditioner P
    stays put, at learning rate ``lr`` (its own if None); None for any other optimizer.

    With P frozen the step x ← x − lr·P⁻¹·m is the SGD family's on the curvature P⁻¹H, so
    stable_limit's bound holds for its eigenvalues: (2 + 2β₁)/((1 − β₁)·lr) for Adam's
    averaged m (38/lr at β₁ = 0.9; the bias correction of m tends to 1 and is left out),
    (2 + 2μ)/lr for RMSProp with momentum μ, 2/lr for AdaGrad. AdamW's decoupled decay,
    a shrink by (1 − lr·wd) each step, is left out."""
    entry = built_in_entry(optimizer)
    if entry is None or entry.name not in _ADAPTIVE:
        return None
    key, averaged = _ADAPTIVE[entry.name]
    h = optimizer.hyperparams
    value = h.get(key, 0.0) if key != "betas" else h.get("betas", (0.9, 0.999))[0]
    mu, lr = _number(value), _number(h.get("lr")) if lr is None else lr
    if mu is None or not lr or lr <= 0 or (averaged and mu >= 1):
        return None
    return 2 * (1 + mu) / ((1 - mu if averaged else 1) * lr)


def stability_thresholds(result: Result, *, preconditioned: bool = False) -> dict[str, Tensor]:
    """Each optimizer's stable limit (see stable_limit) at every recorded step: label ->
    (steps + 1,), from its learning rate at each step (a schedule's too; the last step's
    repeated for the final point). ``preconditioned``: also each adaptive optimizer's limit
    on its preconditioned sharpness (see preconditioned_limit) where the run kept its state.
    Optimizers with no known limit are left out."""
    adaptive = _preconditioned(result) if preconditioned else {}
    out = {}
    for label, optimizer in result.optimizers.items():
        limit_at = preconditioned_limit if label in adaptive else stable_limit
        lrs = result.lrs.get(label)
        if lrs is None or lrs.numel() == 0:
            limit = limit_at(optimizer)
            if limit is not None:
                out[label] = torch.full((result.steps + 1,), limit, dtype=torch.float64)
            continue
        per_step = [limit_at(optimizer, float(lr)) for lr in torch.cat([lrs, lrs[-1:]])]
        if all(limit is not None for limit in per_step):
            out[label] = torch.tensor(per_step, dtype=torch.float64)
    return out


def edge_ratios(result: Result) -> Tensor:
    """How close each step came to its optimizer's edge of stability: (steps, paths), the
    curvature of f along step t (from the point after step t to the next), over the stable
    limit at that step's learning rate. Below 1 the step is stable along its direction;
    above 1 it overshoots. For SGD the curvature is dᵀHd/dᵀd and the ratio lr·that/2; for
    an adaptive method (its state kept) it is dᵀHd/dᵀPd, with the preconditioner P its step
    used, against preconditioned_limit. NaN where the optimizer has no known limit, the step
    is zero, or a point is not finite."""
    positions = result.positions.to(torch.float64)
    steps = positions[1:] - positions[:-1]
    matrices = hessians(result.function, positions[:-1])
    out = torch.full(steps.shape[:2], float("nan"), dtype=torch.float64)
    adaptive = _preconditioned(result)
    for label, limits in stability_thresholds(result, preconditioned=True).items():
        block = _block(result, label)
        d, h = steps[:, block], matrices[:, block]
        if label in adaptive:
            h = _decayed(h, result.optimizers[label])
            inverse = adaptive[label][1:].to(torch.float64)  # the preconditioner the step used
            across = (d * d / inverse).sum(-1)
        else:
            across = (d * d).sum(-1)
        along = torch.einsum("tpi,tpij,tpj->tp", d, h, d) / across
        out[:, block] = along / limits[:-1, None]
    return torch.where(torch.isfinite(out), out, float("nan"))


def save_sharpness(result: Result, path: str | Path) -> Path:
    """Write the curvature along a run as data, by the suffix (.csv, .json or .npz): one row
    per optimizer, start and step with the sharpness there, the top eigenvalue of ``matrix``
    (P⁻¹H where the optimizer's limit is on its preconditioned sharpness, else H), the stable
    limit it is held to (NaN where none is known) and the edge ratio of the step taken from
    there (NaN at the last point). Atomic."""
    values = sharpness(result, preconditioned=True)
    limits = stability_thresholds(result, preconditioned=True)
    steps, paths = values.shape
    limit = torch.full((steps, paths), float("nan"), dtype=torch.float64)
    for label, per_step in limits.items():
        limit[:, _block(result, label)] = per_step[:, None]
    ratios = torch.cat([edge_ratios(result), torch.full((1, paths), float("nan"), dtype=torch.float64)])
    adaptive = set(_preconditioned(result))
    per_path = np.repeat(np.arange(paths), steps)
    columns = {
        "optimizer": np.array(result.names)[per_path], "start": per_path % result.n_starts,
        "step": np.tile(np.arange(steps), paths), "sharpness": values.T.reshape(-1).numpy(),
        "matrix": np.array(["P⁻¹H" if name in adaptive else "H" for name in result.names])[per_path],
        "limit": limit.T.reshape(-1).numpy(), "edge_ratio": ratios.T.reshape(-1).numpy(),
    }
    return write_table(path, columns, {"kind": "optviz.Sharpness", "function": result.function.name})
