"""RMSProp (Hinton's lecture notes, 2012), as torch.optim.RMSprop computes it."""

from __future__ import annotations

from typing import Any, NamedTuple

import torch
from torch import Tensor

from ..base import Entry, Optimizer, Rule, StateGlyphs, decayed, decays, hyperparams_of, made
from ..checks import check, check_flags
from ..drop_in import StepFunctionOptimizer, arguments_of, check_tensor_lr
from ..ops import Hyper

__all__ = ["RMSpropState", "rmsprop"]


class RMSpropState(NamedTuple):
    step: int
    square_avg: Tensor
    momentum_buffer: Tensor | None  # only with momentum > 0
    grad_avg: Tensor | None  # only when centered


def rmsprop(
    lr: Hyper = 1e-2,
    alpha: Hyper = 0.99,
    eps: Hyper = 1e-8,
    weight_decay: Hyper = 0.0,
    momentum: Hyper = 0.0,
    centered: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    """RMSProp: steps scaled by a running average of squared gradients.

    g <- grad + weight_decay * p;  v <- alpha * v + (1 - alpha) * g * g  (v starts at 0);
    centered: a <- lerp(a, g, 1 - alpha), v~ = v - a * a;  d <- g / (sqrt(v~) + eps);
    momentum > 0: b <- momentum * b + d, p <- p - lr * b;  else p <- p - lr * d.

    >>> opt = rmsprop(lr=0.4, alpha=0.9)
    """
    lr = check("lr", lr, "learning rate", low=0.0)
    eps = check("eps", eps, "epsilon value", low=0.0)
    momentum = check("momentum", momentum, "momentum value", low=0.0)
    weight_decay = check("weight_decay", weight_decay, "weight_decay value", low=0.0)
    alpha = check("alpha", alpha, "alpha value", low=0.0)
    check_flags(centered=centered, maximize=maximize)
    return made("rmsprop", ENTRIES[0], RULE, hyperparams_of(rmsprop, locals()),
                dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum))


def _constants(h: dict[str, Any], xp: Any) -> dict[str, Any]:
    return {**h, "decays": decays(h["weight_decay"], xp), "uses_momentum": xp.anywhere(h["momentum"], lambda m: m > 0),
            "one_minus_alpha": xp.double(lambda a: 1 - a, h["alpha"]), "neg_lr": xp.double(lambda x: -x, h["lr"])}


def _init(params: Any, h: dict[str, Any], xp: Any) -> RMSpropState:
    zeros = torch.zeros_like
    return RMSpropState(0, zeros(params), zeros(params) if h["uses_momentum"] else None,
                        zeros(params) if h["centered"] else None)


def _step(params: Any, grad: Any, state: RMSpropState, h: dict[str, Any], xp: Any) -> tuple[Any, RMSpropState]:
    grad = -grad if h["maximize"] else grad
    grad = decayed(grad, params, h, xp)
    square_avg = xp.addcmul(xp.mul(state.square_avg, h["alpha"]), grad, grad, h["one_minus_alpha"], fresh=True)
    grad_avg = state.grad_avg
    if h["centered"]:
        grad_avg = xp.lerp(grad_avg, grad, h["one_minus_alpha"])
        avg = xp.addcmul(square_avg, grad_avg, grad_avg, -1.0).sqrt()
    else:
        avg = square_avg.sqrt()
    avg = xp.plus(avg, h["eps"])
    buf = state.momentum_buffer
    if not h["uses_momentum"]:
        new_params = xp.addcdiv(params, grad, avg, h["neg_lr"])
    else:
        buf = xp.addcdiv(xp.mul(buf, h["momentum"]), grad, avg, 1.0, fresh=True)
        new_params = xp.add(params, buf, h["neg_lr"])
        if xp.varies(h["momentum"]):  # a sweep's (or the page's slider's) zeros take torch's momentum-free branch
            plain = xp.addcdiv(params, grad, avg, h["neg_lr"])
            new_params = torch.where(xp.cast(h["momentum"], params) > 0, new_params, plain)
    return new_params, RMSpropState(state.step + 1, square_avg, buf, grad_avg)


RULE = Rule(_constants, _init, _step)


class RMSprop(StepFunctionOptimizer):
    """torch.optim.RMSprop on :func:`optviz.rmsprop`."""

    factory = staticmethod(rmsprop)
    state_type = RMSpropState

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        check_tensor_lr(lr)
        super().__init__(params, arguments_of(locals()))


def _step_size(s: dict[str, Tensor], t: Tensor, lr: Any, h: dict[str, Any]) -> Tensor:
    """lr / (sqrt(v) + eps), with v less the squared mean gradient where it is centred."""
    second = s["square_avg"] - s["grad_avg"] * s["grad_avg"] if "grad_avg" in s else s["square_avg"]
    return lr / (second.sqrt() + h["eps"])


def _velocity(s: dict[str, Tensor], t: Tensor, lr: Any, h: dict[str, Any]) -> Tensor | None:
    """-lr * b where it keeps a momentum buffer (of steps already divided by the root)."""
    return -lr * s["momentum_buffer"] if "momentum_buffer" in s else None


ENTRIES = (
    Entry("rmsprop", "RMSProp", rmsprop, torch.optim.RMSprop, RMSprop, 4, dict(lr=1e-2, momentum=0.5, centered=True),
          glyphs=StateGlyphs(velocity=_velocity, step_size=_step_size)),
)
