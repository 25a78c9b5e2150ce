"""Adam as the course notes wrote it, with a mistaken bias correction: kept to show the point
(optviz's own Adam corrects by 1 - beta^t, as torch does)."""

from __future__ import annotations

from typing import Any

import torch

from ..base import Entry, Optimizer, Rule, StateGlyphs, hyperparams_of, made
from ..checks import check, check_betas
from ..ops import Hyper
from .adaptive_moments import AdamState

__all__ = ["adam_notes"]


def adam_notes(
    lr: Hyper = 1e-3,
    betas: tuple[Hyper, Hyper] = (0.9, 0.999),
    eps: Hyper = 1e-8,
) -> Optimizer:
    """Adam with the course notes' mistaken bias correction, for comparison only.

    The moments are divided by 1 - beta1 and 1 - beta2 instead of 1 - beta1^t and
    1 - beta2^t: p <- p - lr * (m / (1 - beta1)) / (sqrt(v / (1 - beta2)) + eps).
    Step 1 agrees with Adam; the next few come out larger, and once beta^t has died away
    every step is sqrt(1 - beta2) / (1 - beta1) times Adam's (0.32 with the default betas).
    """
    lr = check("lr", lr, "learning rate", low=0.0)
    eps = check("eps", eps, "epsilon value", low=0.0)
    betas = check_betas(betas)
    return made("adam_notes", ENTRIES[0], RULE, hyperparams_of(adam_notes, locals()),
                dict(lr=lr, beta1=betas[0], beta2=betas[1], eps=eps))


def _constants(h: dict[str, Any], xp: Any) -> dict[str, Any]:
    beta1, beta2 = h["betas"]
    return {**h, "beta2": beta2, "one_minus_beta1": xp.double(lambda b: 1 - b, beta1),
            "one_minus_beta2": xp.double(lambda b: 1 - b, beta2)}


def _init(params: Any, h: dict[str, Any], xp: Any) -> AdamState:
    return AdamState(0, torch.zeros_like(params), torch.zeros_like(params), None)


def _step(params: Any, grad: Any, state: AdamState, h: dict[str, Any], xp: Any) -> tuple[Any, AdamState]:
    one_minus_b1, one_minus_b2 = xp.cast(h["one_minus_beta1"], params), xp.cast(h["one_minus_beta2"], params)
    exp_avg = xp.lerp(state.exp_avg, grad, one_minus_b1)
    exp_avg_sq = xp.addcmul(xp.mul(state.exp_avg_sq, h["beta2"]), grad, grad, h["one_minus_beta2"], fresh=True)
    denom = xp.plus((exp_avg_sq / one_minus_b2).sqrt(), h["eps"])
    new_params = params - xp.cast(h["lr"], params) * (exp_avg / one_minus_b1) / denom
    return new_params, AdamState(state.step + 1, exp_avg, exp_avg_sq, None)


RULE = Rule(_constants, _init, _step)

# the notes' mistake is no library's: torch has no class to check it against
def _step_size(s: dict[str, Any], t: Any, lr: Any, h: dict[str, Any]) -> Any:
    """lr / (sqrt(v / (1 - beta2)) + eps): the notes' correction, the same at every step."""
    return lr / ((s["exp_avg_sq"] / (1 - h["betas"][1])).sqrt() + h["eps"])


ENTRIES = (Entry("adam_notes", "Adam (notes' bias correction)", adam_notes, None, None, 7, {}, teaching=True,
                 glyphs=StateGlyphs(step_size=_step_size)),)
