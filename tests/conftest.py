"""Shared helpers: the same run through optviz's step functions and through torch.optim; and
how the xdist workers share the machine: each its share of the cores, the groups first."""

import itertools
import os
import sys
import warnings

import pytest
import torch

import optviz
from groups import LONGEST_FIRST
from optviz.analyses.conformance import TORCH_CLASSES, optviz_path, torch_path  # noqa: F401 - shared with tests


def pytest_configure(config):
    """Each xdist worker takes its share of the cores, for torch and for the processes its tests
    start: with a thread per core in every worker, their threads wait on each other at every
    parallel op, and a test slows several times over."""
    if hasattr(config, "workerinput"):
        threads = max(1, os.cpu_count() // config.workerinput["workercount"])
        torch.set_num_threads(threads)
        os.environ["OMP_NUM_THREADS"] = str(threads)


@pytest.hookimpl(trylast=True)  # after xdist has written each grouped test's group into its node id
def pytest_collection_modifyitems(config, items):
    """The xdist groups first, longest first, then every other test in file order (xdist hands
    work out in collection order: see addopts in pyproject.toml). A group xdist did not see is
    split between the workers, each making what the group shares: the run says so."""
    if getattr(config.option, "loadgroup", False):  # set by xdist in its workers under --dist=loadgroup
        lost = [item.nodeid for item in items if item.get_closest_marker("xdist_group") and "@" not in item.nodeid]
        if lost:
            warnings.warn(pytest.PytestWarning(f"xdist lost the group of {lost[0]} and {len(lost) - 1} more "
                                               "tests: is pytest the version constraints.txt pins?"))

    def rank(item):
        groups = [mark.args[0] for mark in item.iter_markers("xdist_group")]
        return min((LONGEST_FIRST.index(group) for group in groups), default=len(LONGEST_FIRST))

    items.sort(key=rank)


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


@pytest.fixture(autouse=True)
def close_figures():
    """Every test starts with no figures of the one before open (pyplot keeps them)."""
    yield
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is not None:
        pyplot.close("all")
