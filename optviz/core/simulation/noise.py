"""Stochastic gradients: noise added to every gradient, the same for every optimizer.

``noise`` is a standard deviation (one number, or one per coordinate) of Gaussian noise, or a
callable ``noise(points, generator) -> Tensor`` of the points' shape (n, dim) that draws from
``generator``. At each step the generator is in one state for every optimizer, so paths from
the same start see the same random numbers (common random numbers: differences between
paths come from the optimizers, not the draws), while different starts draw different ones.
``seed`` makes every run reproducible.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import torch
from torch import Tensor

Draw = Callable[[Tensor, torch.Generator], Tensor]


class GradientNoise:
    """The noise of one run: ``begin_step()``, then ``draw(points)`` for each optimizer."""

    def __init__(self, noise: Any, seed: int, dim: int) -> None:
        self.describe = describe(noise)
        self._draw = _draw_of(noise, dim)
        check_seed(seed)
        self._generator = torch.Generator().manual_seed(seed)
        self._state = self._after = self._generator.get_state()

    def begin_step(self) -> None:
        """Move on to the next step's random numbers."""
        self._state = self._after
        self._generator.set_state(self._state)

    def draw(self, points: Tensor) -> Tensor:
        """This step's noise at ``points`` (n, dim): the same numbers for every caller."""
        self._generator.set_state(self._state)
        noise = self._draw(points, self._generator)
        if not isinstance(noise, Tensor) or noise.shape != points.shape:
            shape = tuple(noise.shape) if isinstance(noise, Tensor) else type(noise).__name__
            raise ValueError(f"noise must return a tensor of the points' shape {tuple(points.shape)}, got {shape}")
        self._after = self._generator.get_state()
        return noise.to(points.dtype)


def check_noise(noise: Any, dim: int) -> None:
    """ValueError for a noise level that is negative, not finite, or of the wrong length."""
    _draw_of(noise, dim)


def describe(noise: Any) -> str:
    if callable(noise):
        return getattr(noise, "__name__", "custom noise")
    return f"gradient noise σ={noise}"


def _draw_of(noise: Any, dim: int) -> Draw:
    if callable(noise):
        return noise
    if isinstance(noise, bool):
        raise TypeError(f"noise must be a standard deviation or a callable, got {noise!r}")
    levels = [noise] if isinstance(noise, (int, float)) else list(noise) if isinstance(noise, Sequence) else None
    if levels is None or not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in levels):
        raise TypeError(f"noise must be a standard deviation (a number, or one per coordinate) or a callable, "
                        f"got {noise!r}")
    if len(levels) not in (1, dim):
        raise ValueError(f"noise needs one standard deviation or {dim} (one per coordinate), got {len(levels)}")
    for v in levels:
        if not (math.isfinite(v) and v >= 0):
            raise ValueError(f"noise standard deviation must be a finite number >= 0, got {v}")

    def gaussian(points: Tensor, generator: torch.Generator) -> Tensor:
        std = torch.tensor(levels, dtype=points.dtype)
        return torch.randn(points.shape, generator=generator, dtype=points.dtype) * std

    return gaussian


def check_seed(seed: Any) -> int:
    """A seed: a whole number from 0 to 2**63 - 1 (torch's generators take no more)."""
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**63:
        raise ValueError(f"seed must be a whole number from 0 to 2**63 - 1, got {seed!r}")
    return seed
