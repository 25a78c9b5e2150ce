"""AdaGrad (Duchi, Hazan & Singer 2011), as torch.optim.Adagrad computes it."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from ..base import Entry, Optimizer, Rule, StateGlyphs, decayed, decays, hyperparams_of, made
from ..checks import check, check_flags
from ..drop_in import StepFunctionOptimizer, arguments_of, check_tensor_lr
from ..ops import Hyper

__all__ = ["AdagradState", "adagrad"]


class AdagradState(NamedTuple):
    step: int
    sum: Tensor


def adagrad(
    lr: Hyper = 1e-2,
    lr_decay: Hyper = 0.0,
    weight_decay: Hyper = 0.0,
    initial_accumulator_value: Hyper = 0.0,
    eps: Hyper = 1e-10,
    *,
    maximize: bool = False,
) -> Optimizer:
    """AdaGrad: per-coordinate steps that shrink with the sum of squared gradients.

    g <- grad + weight_decay * p;  r <- r + g * g;
    p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(r) + eps).

    >>> opt = adagrad(lr=0.4)
    """
    lr = check("lr", lr, "learning rate", low=0.0)
    lr_decay = check("lr_decay", lr_decay, "lr_decay value", low=0.0)
    weight_decay = check("weight_decay", weight_decay, "weight_decay value", low=0.0)
    initial_accumulator_value = check("initial_accumulator_value", initial_accumulator_value,
                                      "initial_accumulator_value value", low=0.0)
    eps = check("eps", eps, "epsilon value", low=0.0)
    check_flags(maximize=maximize)
    return made("adagrad", ENTRIES[0], RULE, hyperparams_of(adagrad, locals()),
                dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps,
                     initial_accumulator_value=initial_accumulator_value))


def _constants(h: dict[str, Any], xp: Any) -> dict[str, Any]:
    return {**h, "decays": decays(h["weight_decay"], xp)}  # the step's learning rate changes with t


def _init(params: Any, h: dict[str, Any], xp: Any) -> AdagradState:
    return AdagradState(0, xp.plus(torch.zeros_like(params), xp.cast(h["initial_accumulator_value"], params)))


def _step(params: Any, grad: Any, state: AdagradState, h: dict[str, Any], xp: Any) -> tuple[Any, AdagradState]:
    t = state.step + 1
    grad = -grad if h["maximize"] else grad
    grad = decayed(grad, params, h, xp)
    clr = xp.double(lambda lr, decay: lr / (1 + (t - 1) * decay), h["lr"], h["lr_decay"])
    total = xp.addcmul(state.sum, grad, grad, 1.0)
    std = xp.plus(total.sqrt(), h["eps"])
    return xp.addcdiv(params, grad, std, xp.double(lambda x: -x, clr)), AdagradState(t, total)


RULE = Rule(_constants, _init, _step)


class Adagrad(StepFunctionOptimizer):
    """torch.optim.Adagrad on :func:`optviz.adagrad`; like torch, its state exists from the start."""

    factory = staticmethod(adagrad)
    state_type = AdagradState

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_tensor_lr(lr)
        super().__init__(params, arguments_of(locals()))
        for group in self.param_groups:
            for p in group["params"]:
                self._store(self.state[p], self._make(group).init(p.detach()))


def _step_size(s: dict[str, Tensor], t: Tensor, lr: Any, h: dict[str, Any]) -> Tensor:
    """lr / (1 + (t - 1) * lr_decay) / (sqrt(sum) + eps): the sum of every squared gradient so far."""
    return lr / (1 + (t - 1) * h["lr_decay"]) / (s["sum"].sqrt() + h["eps"])


ENTRIES = (
    Entry("adagrad", "AdaGrad", adagrad, torch.optim.Adagrad, Adagrad, 3,
          dict(lr=0.1, lr_decay=1e-3, initial_accumulator_value=0.1), glyphs=StateGlyphs(step_size=_step_size)),
)
