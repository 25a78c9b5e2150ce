"""The curvature under a run: the Hessian's eigenvalues at every point of every path, the
sharpness (the top one) per step, and the sharpness at which each optimizer's step stops
being stable on a quadratic.

Gradient descent with step size lr is stable along an eigendirection of curvature λ only
while lr·λ < 2; a run whose sharpness crosses its optimizer's threshold zig-zags outward
along that direction."""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor
from torch.func import hessian, vmap

from ..core.functions.surface import TestFunction
from ..core.simulation.result import Result


def hessian_eigenvalues(function: TestFunction, points: Tensor) -> Tensor:
    """The eigenvalues of f's Hessian at points (..., dim), ascending: shape (..., dim), in one
    batched call (second derivatives of the function's torch value by automatic
    differentiation). NaN at a point that is not finite or where the Hessian is not."""
    shape = points.shape
    flat = points.reshape(-1, shape[-1])
    finite = torch.isfinite(flat).all(dim=-1)
    whole = bool(finite.all())  # the common case: no copies to mask a point out
    matrices = vmap(hessian(function.value_fn))(flat if whole else torch.where(finite[:, None], flat, 0.0))
    usable = finite & torch.isfinite(matrices).flatten(1).all(dim=-1)
    whole = bool(usable.all())
    if not whole:
        matrices = torch.where(usable[:, None, None], matrices, 0.0)
    if shape[-1] == 2:
        values = _eigenvalues_2x2(matrices)
    else:
        values = torch.linalg.eigvalsh((matrices + matrices.transpose(-1, -2)) / 2)  # symmetric but for rounding
    if not whole:
        values = torch.where(usable[:, None], values, float("nan"))
    return values.reshape(shape)


def _eigenvalues_2x2(matrices: Tensor) -> Tensor:
    """Symmetric 2 x 2 matrices' eigenvalues, ascending, in closed form: (a + c)/2 ± the
    hypotenuse of (a - c)/2 and b (three times faster than a batched eigvalsh, within 1e-16)."""
    a, b, c = matrices[:, 0, 0], (matrices[:, 0, 1] + matrices[:, 1, 0]) / 2, matrices[:, 1, 1]
    middle, radius = (a + c) / 2, torch.hypot((a - c) / 2, b)
    return torch.stack([middle - radius, middle + radius], dim=-1)


def sharpness(result: Result) -> Tensor:
    """The Hessian's top eigenvalue at every recorded point: (steps + 1, paths), NaN after a
    path diverged (and at any point where the Hessian is not finite)."""
    return hessian_eigenvalues(result.function, result.positions)[..., -1]


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
    kind = getattr(getattr(optimizer, "entry", None), "name", None)
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


def stability_thresholds(result: Result) -> dict[str, Tensor]:
    """Each optimizer's stable limit (see stable_limit) at every recorded step: label ->
    (steps + 1,), from its learning rate at each step (a schedule's too; the last step's
    repeated for the final point). Optimizers with no known limit are left out."""
    out = {}
    for label, optimizer in result.optimizers.items():
        lrs = result.lrs.get(label)
        if lrs is None or lrs.numel() == 0:
            limit = stable_limit(optimizer)
            if limit is not None:
                out[label] = torch.full((result.steps + 1,), limit, dtype=torch.float64)
            continue
        per_step = [stable_limit(optimizer, float(lr)) for lr in torch.cat([lrs, lrs[-1:]])]
        if all(limit is not None for limit in per_step):
            out[label] = torch.tensor(per_step, dtype=torch.float64)
    return out
