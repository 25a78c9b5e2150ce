"""The spectrum of a matrix problem's iterates: the singular values of each path's matrix at
every step (for low_rank, those of W = UVᵀ), and those of its known optimum."""

from __future__ import annotations

from typing import NamedTuple

import torch
from torch import Tensor

from ..core.simulation.result import Result


class Spectra(NamedTuple):
    values: Tensor  # (steps + 1, paths, k): largest first, NaN where the path is not finite
    optimum: Tensor | None  # (k,): the known minimum's, if the function has one


def spectra(result: Result) -> Spectra:
    """Every recorded point's singular values, in one batched call (ValueError for a function
    whose point is no matrix)."""
    fn = result.function
    points = result.positions
    finite = torch.isfinite(points).all(dim=-1)
    values = fn.spectrum(torch.where(finite.unsqueeze(-1), points, torch.zeros_like(points)))
    values = torch.where(finite.unsqueeze(-1), values, torch.full_like(values, float("nan")))
    optimum = fn.spectrum(torch.tensor(fn.minima[0].point, dtype=points.dtype)) if fn.minima else None
    return Spectra(values, optimum)
