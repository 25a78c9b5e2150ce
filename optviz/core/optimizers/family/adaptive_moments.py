"""Adam (Kingma & Ba 2015) with its bias correction, and AdamW's decoupled weight decay
(Loshchilov & Hutter 2019), as torch.optim.Adam and AdamW compute them."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from ..base import Entry, Optimizer, Rule, StateGlyphs, decayed, decays, hyperparams_of, made
from ..checks import check, check_betas, check_flags
from ..drop_in import StepFunctionOptimizer, arguments_of, check_tensor_betas, check_tensor_lr, squeezed
from ..ops import Hyper

__all__ = ["AdamState", "adam", "adamw"]


class AdamState(NamedTuple):
    step: int
    exp_avg: Tensor
    exp_avg_sq: Tensor
    max_exp_avg_sq: Tensor | None  # only with amsgrad


def adam(
    lr: Hyper = 1e-3,
    betas: tuple[Hyper, Hyper] = (0.9, 0.999),
    eps: Hyper = 1e-8,
    weight_decay: Hyper = 0.0,
    amsgrad: bool = False,
    *,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
) -> Optimizer:
    """Adam, with bias correction (and AdamW's decoupled weight decay as an option).

    g <- grad + weight_decay * p  (decoupled: p <- p * (1 - lr * weight_decay) instead);
    m <- lerp(m, g, 1 - beta1);  v <- beta2 * v + (1 - beta2) * g * g;
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps),
    with v replaced by its running maximum under amsgrad.

    >>> opt = adam(lr=0.16, betas=(0.9, 0.999))
    """
    return _made(lr, betas, eps, weight_decay, amsgrad, maximize, decoupled_weight_decay)


def adamw(
    lr: Hyper = 1e-3,
    betas: tuple[Hyper, Hyper] = (0.9, 0.999),
    eps: Hyper = 1e-8,
    weight_decay: Hyper = 1e-2,
    amsgrad: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    """AdamW: Adam with decoupled weight decay (weight_decay 1e-2 by default).

    p <- p * (1 - lr * weight_decay) before the moments, as torch.optim.AdamW.

    >>> opt = adamw(lr=1e-3, weight_decay=0.01)
    """
    return _made(lr, betas, eps, weight_decay, amsgrad, maximize, True)


def _made(lr: Any, betas: Any, eps: Any, weight_decay: Any, amsgrad: Any, maximize: Any,
          decoupled_weight_decay: Any) -> Optimizer:
    """Adam or AdamW, checked in torch's order; AdamW whichever factory asked for it, with the
    hyperparameters of AdamW's own (its rule keeps the decoupling)."""
    lr = check("lr", lr, "learning rate", low=0.0)
    eps = check("eps", eps, "epsilon value", low=0.0)
    betas = check_betas(betas)
    weight_decay = check("weight_decay", weight_decay, "weight_decay value", low=0.0)
    check_flags(amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
    name, factory = ("adamw", adamw) if decoupled_weight_decay else ("adam", adam)
    return made(name, _ENTRY[name], RULE, hyperparams_of(factory, locals()),
                dict(lr=lr, beta1=betas[0], beta2=betas[1], eps=eps, weight_decay=weight_decay),
                decoupled_weight_decay=decoupled_weight_decay)


def _constants(h: dict[str, Any], xp: Any) -> dict[str, Any]:
    # what torch computes in doubles from the hyperparameters alone
    beta1, beta2 = h["betas"]
    on = decays(h["weight_decay"], xp)
    decoupled = on and h["decoupled_weight_decay"]
    shrink = xp.double(lambda lr, wd: 1 - lr * wd, h["lr"], h["weight_decay"]) if decoupled else None
    return {**h, "beta1": beta1, "beta2": beta2, "decays": on and not decoupled, "shrink": shrink,
            "one_minus_beta1": xp.double(lambda b: 1 - b, beta1), "one_minus_beta2": xp.double(lambda b: 1 - b, beta2)}


def _init(params: Any, h: dict[str, Any], xp: Any) -> AdamState:
    zeros = torch.zeros_like
    return AdamState(0, zeros(params), zeros(params), zeros(params) if h["amsgrad"] else None)


def _step(params: Any, grad: Any, state: AdamState, h: dict[str, Any], xp: Any) -> tuple[Any, AdamState]:
    t = state.step + 1
    beta1, beta2 = h["beta1"], h["beta2"]
    grad = -grad if h["maximize"] else grad
    if h["shrink"] is not None:  # decoupled: the parameters decay, not the gradient
        params = xp.mul(params, h["shrink"])
    grad = decayed(grad, params, h, xp)
    exp_avg = xp.lerp(state.exp_avg, grad, xp.lerp_weight(beta1, h["one_minus_beta1"], grad))
    exp_avg_sq = xp.addcmul(xp.mul(state.exp_avg_sq, beta2), grad, grad, h["one_minus_beta2"], fresh=True)
    # torch computes the bias corrections in Python doubles on the step count
    step_size = xp.double(lambda lr, b1: lr / (1 - b1**t), h["lr"], beta1)
    correction2_sqrt = xp.double(lambda b2: (1 - b2**t) ** 0.5, beta2)
    max_exp_avg_sq = torch.maximum(state.max_exp_avg_sq, exp_avg_sq) if h["amsgrad"] else state.max_exp_avg_sq
    second = max_exp_avg_sq if h["amsgrad"] else exp_avg_sq
    denom = xp.plus(xp.over(second.sqrt(), correction2_sqrt), h["eps"])
    new_params = xp.addcdiv(params, exp_avg, denom, xp.double(lambda x: -x, step_size))
    return new_params, AdamState(t, exp_avg, exp_avg_sq, max_exp_avg_sq)


RULE = Rule(_constants, _init, _step)


class Adam(StepFunctionOptimizer):
    """torch.optim.Adam on :func:`optviz.adam`."""

    factory = staticmethod(adam)
    state_type = AdamState

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
        decoupled_weight_decay: bool = False,
    ) -> None:
        check_tensor_lr(lr, foreach, capturable)
        adam(squeezed(lr), squeezed(tuple(betas)), eps, weight_decay)  # torch's value checks first
        check_tensor_betas(betas, foreach, capturable)
        super().__init__(params, arguments_of(locals()))


class AdamW(Adam):
    """torch.optim.AdamW on :func:`optviz.adamw` (weight_decay 1e-2 by default)."""

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        betas: tuple[float | Tensor, float | Tensor] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        capturable: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
            capturable=capturable, differentiable=differentiable, fused=fused, decoupled_weight_decay=True,
        )


def _step_size(s: dict[str, Tensor], t: Tensor, lr: Any, h: dict[str, Any]) -> Tensor:
    """lr / (sqrt(v / (1 - beta2^t)) + eps): what multiplies the corrected first moment."""
    second = s["max_exp_avg_sq"] if h.get("amsgrad") else s["exp_avg_sq"]
    return lr / ((second / (1 - h["betas"][1] ** t)).sqrt() + h["eps"])


_GLYPHS = StateGlyphs(step_size=_step_size)

ENTRIES = (
    Entry("adam", "Adam", adam, torch.optim.Adam, Adam, 5, dict(lr=1e-2, amsgrad=True), glyphs=_GLYPHS),
    Entry("adamw", "AdamW", adamw, torch.optim.AdamW, AdamW, 6, dict(lr=1e-2, weight_decay=0.1), glyphs=_GLYPHS),
)
_ENTRY = {entry.name: entry for entry in ENTRIES}
