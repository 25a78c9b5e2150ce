"""Shared helpers: the same run through optviz's step functions and through torch.optim."""

import itertools

import torch

import optviz
from optviz.analyses.conformance import TORCH_CLASSES, optviz_path, torch_path  # noqa: F401 - shared with tests

def grid(**choices):
    """Every combination of the given values, as keyword dicts."""
    keys = list(choices)
    return [dict(zip(keys, values)) for values in itertools.product(*choices.values())]


def gradient_sign(kwargs):
    # maximize ascends: hand it -grad f, so both runs still descend f and stay finite
    return -1.0 if kwargs.get("maximize") else 1.0


def assert_bit_equal(actual, expected):
    torch.testing.assert_close(actual, expected, rtol=0, atol=0, equal_nan=True)


def starts_for(function, n=4, dtype=torch.float64, seed=0):
    """n start points spread over the function's bounds (the default start first)."""
    g = torch.Generator().manual_seed(seed)
    lo, hi = torch.tensor(function.bounds, dtype=torch.float64).T
    spread = lo + (hi - lo) * torch.rand(n - 1, function.dim, generator=g, dtype=torch.float64)
    return torch.cat([torch.tensor([function.start], dtype=torch.float64), spread]).to(dtype)


def factory(name):
    return optviz.OPTIMIZERS[name]
