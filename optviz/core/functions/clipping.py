"""A function whose gradient is clipped: each path's gradient scaled to norm at most
``max_norm``, as ``torch.nn.utils.clip_grad_norm_(param, max_norm)`` scales the gradient of
one parameter, bit for bit."""

from __future__ import annotations

import dataclasses
import math

import torch
from torch import Tensor

from .surface import TestFunction


def clipped(function: TestFunction, max_norm: float) -> TestFunction:
    """``function`` with its gradient clipped per point (the last axis): norm = ||g||,
    coef = min(max_norm / (norm + 1e-6), 1), g * coef, each as torch computes it.

    Its values are the function's, its title says it is clipped, and its recipe is only
    ``{"clip": max_norm}``: fast mode and the page's live controls know no clipped gradient,
    and a saved result keeps a sampled copy of its surface, as for a function made by code."""
    if isinstance(max_norm, bool) or not isinstance(max_norm, (int, float)) or not 0 < max_norm < math.inf:
        raise ValueError(f"clip must be a positive finite number (a gradient norm), got {max_norm!r}")
    max_norm = float(max_norm)
    grad_fn = function.grad_fn

    def grad(points: Tensor) -> Tensor:
        g = grad_fn(points)
        norms = torch.linalg.vector_norm(g, 2, dim=-1)
        # the norm of the one norm, as torch totals a list of parameters' norms
        total = torch.linalg.vector_norm(norms.unsqueeze(-1), 2, dim=-1)
        coef = torch.clamp(max_norm / (total + 1e-6), max=1.0)
        return g * coef.unsqueeze(-1)

    title = f"{function.title or function.name}, gradients clipped to norm {max_norm:g}"
    return dataclasses.replace(function, grad_fn=grad, recipe={"clip": max_norm}, title=title)
