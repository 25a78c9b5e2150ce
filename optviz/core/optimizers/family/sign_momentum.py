"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"): the sign of an
interpolated momentum, with decoupled weight decay, as pytorch_optimizer.Lion computes it."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from ..base import Entry, Optimizer, Rule, decays, hyperparams_of, made
from ..checks import check, check_betas, check_flags
from ..drop_in import StepFunctionOptimizer, arguments_of, check_tensor_lr
from ..ops import Hyper

__all__ = ["LionState", "lion"]


class LionState(NamedTuple):
    exp_avg: Tensor


def lion(
    lr: Hyper = 1e-4,
    betas: tuple[Hyper, Hyper] = (0.9, 0.99),
    weight_decay: Hyper = 0.0,
    *,
    maximize: bool = False,
) -> Optimizer:
    """Lion: steps of one size in every coordinate, the sign of an interpolated momentum.

    p <- p * (1 - lr * weight_decay);  u <- sign(lerp(m, g, 1 - beta1));
    m <- lerp(m, g, 1 - beta2);  p <- p - lr * u.
    Every coordinate moves by exactly lr (or not at all): take a learning rate 3 to 10 times
    smaller than AdamW's, and a weight decay as much larger.

    >>> opt = lion(lr=1e-4, betas=(0.9, 0.99), weight_decay=0.1)
    """
    lr = check("lr", lr, "learning rate", low=0.0)
    betas = check_betas(betas)
    weight_decay = check("weight_decay", weight_decay, "weight_decay value", low=0.0)
    check_flags(maximize=maximize)
    return made("lion", ENTRIES[0], RULE, hyperparams_of(lion, locals()),
                dict(lr=lr, beta1=betas[0], beta2=betas[1], weight_decay=weight_decay))


def _constants(h: dict[str, Any], xp: Any) -> dict[str, Any]:
    # what pytorch_optimizer computes in doubles from the hyperparameters alone
    beta1, beta2 = h["betas"]
    shrink = xp.double(lambda lr, wd: 1.0 - wd * lr, h["lr"], h["weight_decay"]) if decays(h["weight_decay"], xp) else None
    return {**h, "shrink": shrink,
            "one_minus_beta1": xp.double(lambda b: 1 - b, beta1), "one_minus_beta2": xp.double(lambda b: 1 - b, beta2),
            "neg_lr": xp.double(lambda x: -x, h["lr"])}


def _init(params: Any, h: dict[str, Any], xp: Any) -> LionState:
    return LionState(torch.zeros_like(params))


def _step(params: Any, grad: Any, state: LionState, h: dict[str, Any], xp: Any) -> tuple[Any, LionState]:
    grad = -grad if h["maximize"] else grad
    if h["shrink"] is not None:  # decoupled weight decay
        params = xp.mul(params, h["shrink"])
    update = torch.sign(xp.lerp(state.exp_avg, grad, h["one_minus_beta1"]))
    exp_avg = xp.lerp(state.exp_avg, grad, h["one_minus_beta2"])
    return xp.add(params, update, h["neg_lr"]), LionState(exp_avg)


RULE = Rule(_constants, _init, _step)


class Lion(StepFunctionOptimizer):
    """pytorch_optimizer.Lion on :func:`optviz.lion` (decoupled weight decay)."""

    factory = staticmethod(lion)
    state_type = LionState

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-4,
        betas: tuple[float, float] = (0.9, 0.99),
        weight_decay: float = 0.0,
        *,
        maximize: bool = False,
    ) -> None:
        check_tensor_lr(lr)
        super().__init__(params, arguments_of(locals()))


ENTRIES = (
    Entry("lion", "Lion", lion, None, Lion, 8, dict(lr=1e-3, betas=(0.9, 0.95), weight_decay=0.1),
          reference="pytorch_optimizer:Lion"),
)
