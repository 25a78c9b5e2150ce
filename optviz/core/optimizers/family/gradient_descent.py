"""SGD, heavy-ball momentum and Nesterov momentum, as torch.optim.SGD computes them."""

from __future__ import annotations

from functools import partial
from typing import Any, NamedTuple

import torch
from torch import Tensor

from ...names import short_value
from ..base import Entry, Optimizer, Rule, StateGlyphs, decayed, decays, hyperparams_of, made
from ..checks import check, check_flags
from ..drop_in import StepFunctionOptimizer, arguments_of, check_tensor_lr
from ..ops import Hyper, any_of

__all__ = ["SGDState", "momentum", "nesterov", "sgd"]


class SGDState(NamedTuple):
    momentum_buffer: Tensor | None  # None until the first step, as in torch.optim


def sgd(
    lr: Hyper = 1e-3,
    momentum: Hyper = 0.0,
    dampening: Hyper = 0.0,
    weight_decay: Hyper = 0.0,
    nesterov: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    g <- grad + weight_decay * p;  b <- g on step 1, else momentum * b + (1 - dampening) * g;
    d <- g + momentum * b if nesterov else b;  p <- p - lr * d.

    >>> opt = sgd(lr=0.1, momentum=0.9)
    """
    lr = check("lr", lr, "learning rate", low=0.0)
    momentum = check("momentum", momentum, "momentum value", low=0.0)
    weight_decay = check("weight_decay", weight_decay, "weight_decay value", low=0.0)
    dampening = check("dampening", dampening, "dampening value")
    check_flags(nesterov=nesterov, maximize=maximize)
    if nesterov and (any_of(momentum, lambda m: m <= 0) or any_of(dampening, lambda d: d != 0)):
        raise ValueError(
            "Nesterov momentum requires a momentum and zero dampening "
            f"(got momentum={short_value(momentum)}, dampening={short_value(dampening)})"
        )
    kind = "nesterov" if nesterov else "momentum" if any_of(momentum, lambda m: m != 0) else "sgd"
    return made("sgd", _ENTRY[kind], RULE, hyperparams_of(sgd, locals()),
                dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay))


momentum = partial(sgd, momentum=0.9)
momentum.__doc__ = "SGD with heavy-ball momentum (``sgd`` with momentum=0.9 by default)."
nesterov = partial(sgd, momentum=0.9, nesterov=True)
nesterov.__doc__ = "SGD with Nesterov momentum (``sgd`` with momentum=0.9, nesterov=True)."


def _constants(h: dict[str, Any], xp: Any) -> dict[str, Any]:
    # what torch computes in doubles from the hyperparameters alone
    return {**h, "decays": decays(h["weight_decay"], xp), "uses_momentum": xp.anywhere(h["momentum"], lambda m: m != 0),
            "grad_weight": xp.double(lambda d: 1 - d, h["dampening"]), "neg_lr": xp.double(lambda x: -x, h["lr"])}


def _init(params: Any, h: dict[str, Any], xp: Any) -> SGDState:
    return SGDState(momentum_buffer=None)


def _step(params: Any, grad: Any, state: SGDState, h: dict[str, Any], xp: Any) -> tuple[Any, SGDState]:
    grad = -grad if h["maximize"] else grad
    grad = decayed(grad, params, h, xp)
    buf = state.momentum_buffer
    if h["uses_momentum"]:
        buf = xp.clone(grad) if buf is None else xp.add(xp.mul(buf, h["momentum"]), grad, h["grad_weight"], fresh=True)
        direction = xp.add(grad, buf, h["momentum"]) if h["nesterov"] else buf
        # where momentum is a sweep (or the page's slider), its zeros take torch's momentum-free branch
        grad = torch.where(xp.cast(h["momentum"], grad) == 0, grad, direction) if xp.varies(h["momentum"]) \
            else direction
    return xp.add(params, grad, h["neg_lr"]), SGDState(buf)


RULE = Rule(_constants, _init, _step)


class SGD(StepFunctionOptimizer):
    """torch.optim.SGD on :func:`optviz.sgd`."""

    factory = staticmethod(sgd)
    state_type = SGDState

    def __init__(
        self,
        params: Any,
        lr: float | Tensor = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float | Tensor = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
        differentiable: bool = False,
        fused: bool | None = None,
    ) -> None:
        check_tensor_lr(lr)
        super().__init__(params, arguments_of(locals()))

    def _keeps_state(self, group: dict[str, Any]) -> bool:
        return group["momentum"] != 0  # plain SGD has no state, and torch records none


def _velocity(s: dict[str, Tensor], t: Tensor, lr: Any, h: dict[str, Any]) -> Tensor:
    """-lr * b: the step the buffer carries (all of heavy ball's step, the part of Nesterov's
    that is not this step's gradient)."""
    return -lr * s["momentum_buffer"]


_GLYPHS = StateGlyphs(velocity=_velocity)

ENTRIES = (
    Entry("sgd", "SGD", sgd, torch.optim.SGD, SGD, 0, dict(lr=1e-3, weight_decay=0.01)),
    Entry("momentum", "Momentum", momentum, torch.optim.SGD, SGD, 1, dict(lr=1e-3, momentum=0.9, dampening=0.1),
          glyphs=_GLYPHS),
    Entry("nesterov", "Nesterov", nesterov, torch.optim.SGD, SGD, 2, dict(lr=1e-3, momentum=0.9), glyphs=_GLYPHS),
)
_ENTRY = {entry.name: entry for entry in ENTRIES}
