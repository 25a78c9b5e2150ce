"""Every built-in is one block, and its one rule holds together however it runs: generated over
every entry of the registry, fast mode (the rule on plain arithmetic, compiled) stays within
1e-12 of exact mode (the rule on torch.optim's ops), and the page (the rule traced into
JavaScript, in a real browser) within 1e-12 of fast mode."""

import inspect
from functools import cache

import pytest
import torch

import optviz
from optviz import render
from optviz.core.optimizers.registry import BUILT_INS

from browser import browser, console_errors  # noqa: F401 - the fixture
from groups import COMPILED

pytestmark = COMPILED  # with test_fast's kernels, in one process

ENTRIES = list(BUILT_INS.values())
FUNCTIONS = ("himmelblau", "ill_conditioned")
STEPS = 40


def settings(entry):
    """Each entry at the setting `optviz check` runs: its branches (amsgrad, centring,
    dampening, decay), named in its own entry."""
    return entry.check


@cache
def runs(function):
    """Every entry from four starts, exact and fast, in one simulation each (one kernel)."""
    opts = {entry.name: entry.factory(**settings(entry)) for entry in ENTRIES}
    g = torch.Generator().manual_seed(3)
    fn = optviz.get_function(function)
    lo, hi = torch.tensor(fn.bounds, dtype=torch.float64).T
    starts = lo + (hi - lo) * (0.2 + 0.6 * torch.rand(4, 2, generator=g, dtype=torch.float64))
    return optviz.simulate(fn, opts, starts, STEPS), optviz.simulate(fn, opts, starts, STEPS, fast=True)


def relative(a, b):
    return ((a - b).abs() / a.abs().clamp_min(1)).nan_to_num(0).max().item()


@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.name for entry in ENTRIES])
def test_each_built_in_lives_in_one_block(entry):
    block = inspect.getmodule(entry.factory(**entry.check).rule.step)
    assert inspect.getmodule(inspect.unwrap(getattr(entry.factory, "func", entry.factory))) is block
    assert entry.optim_class is None or inspect.getmodule(entry.optim_class) is block
    assert entry in block.ENTRIES


@pytest.mark.parametrize("function", FUNCTIONS)
@pytest.mark.parametrize("entry", ENTRIES, ids=[entry.name for entry in ENTRIES])
def test_fast_mode_runs_the_rule_within_1e_12_of_exact_mode(entry, function):
    exact, fast = runs(function)
    assert fast.modes[entry.name].startswith("fast") and exact.modes[entry.name] == "batched"
    paths = [exact.index(entry.name, s) for s in range(exact.n_starts)]
    assert torch.equal(exact.diverged_at[paths], fast.diverged_at[paths])
    assert (exact.positions[-1, paths] - exact.positions[0, paths]).abs().max() > 1e-3  # the paths move
    assert relative(exact.positions[:, paths], fast.positions[:, paths]) < 1e-12


def test_the_page_runs_every_rule_within_1e_12_of_fast_mode(browser, tmp_path):
    exact, fast = runs("himmelblau")
    target = tmp_path / "family.html"
    render.html(exact, target)
    browser.get(target.as_uri())
    assert browser.execute_script("return window.optviz.data.live") is True
    browser.execute_script("window.optviz.recompute()")
    points = browser.execute_script("return window.optviz.paths.map(p => p.points)")
    assert console_errors(browser) == []
    for entry in ENTRIES:
        for s in range(exact.n_starts):
            b = exact.index(entry.name, s)
            page = torch.tensor([[float("nan") if v is None else v for v in q] for q in points[b]], dtype=torch.float64)
            assert relative(fast.positions[:, b], page) < 1e-12, entry.name
