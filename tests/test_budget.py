"""The memory budget and the ceilings: checked before any work, one line naming the request."""

import resource
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from click.testing import CliRunner

import optviz
from optviz import render, studies
from optviz.core import limits as budget
from optviz.core.limits import BudgetError
from optviz.interface.cli import main
from optviz.core.simulation.runs import peak_bytes

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("text, size", [("8G", 8 * 2**30), ("512M", 512 * 2**20), ("1.5GiB", int(1.5 * 2**30)),
                                        ("2000000", 2_000_000), ("4 g", 4 * 2**30)])
def test_the_limit_is_read_from_the_environment(monkeypatch, text, size):
    monkeypatch.setenv("OPTVIZ_MAX_MEMORY", text)
    assert budget.limit() == size


@pytest.mark.parametrize("text", ["abc", "10", "-5G", "8X", "1e999G"])
def test_a_bad_limit_is_named(monkeypatch, text):
    monkeypatch.setenv("OPTVIZ_MAX_MEMORY", text)
    with pytest.raises(BudgetError, match="OPTVIZ_MAX_MEMORY=.* is not a size of at least 1M"):
        budget.limit()


def test_the_default_is_half_of_the_available_memory(monkeypatch):
    monkeypatch.delenv("OPTVIZ_MAX_MEMORY", raising=False)
    assert abs(budget.limit() - budget.available() / 2) < 2**28  # memory moves a little between the two reads


def test_the_simulation_estimate_covers_the_measured_peak(tmp_path):
    # a child measures its own peak, values and gradient norms read: the estimate must be
    # above it, and not wildly above what the run holds (the measured peak itself can come out
    # low on a loaded machine, whose kernel pages out cold memory)
    script = ("import resource, torch, optviz; s = torch.rand(20000, 2); "
              "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss; "
              "r = optviz.simulate('rosenbrock', ['adam', 'sgd'], s, 1000); r.losses; "
              "print((resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - base) * 1024)")
    # the child runs as many torch threads as this process (in a worker, its share of the cores)
    env = {"PYTHONPATH": str(ROOT), "OPTVIZ_MAX_MEMORY": "8G", "OMP_NUM_THREADS": str(torch.get_num_threads())}
    peak = int(subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True,
                              env=env).stdout)
    estimate = peak_bytes(1000, 40_000, 2, 8)
    held = 1001 * 40_000 * (2 + 2) * 8  # positions, values and gradient norms
    assert peak < estimate < 1.2 * held


@pytest.mark.parametrize("call, message", [
    (lambda: optviz.simulate("rosenbrock", "adam", torch.zeros(200_000, 2), 1000),
     "1000 steps x 200000 paths in 2D needs about 6.6 GiB at its peak, more than the 1.0 GiB allowed: use fewer "
     "steps or starts (or raise OPTVIZ_MAX_MEMORY)"),
    (lambda: studies.basins("himmelblau", "adam", resolution=1000, steps=300),
     "a basins map of 1000 x 1000 starts and 300 steps needs about 10.1 GiB"),
    (lambda: studies.sweep("himmelblau", "sgd", ("lr", [0.1] * 1000), ("momentum", [0.5] * 1000), steps=200),
     "a sweep of 1000 x 1000 values and 200 steps needs about 6.8 GiB"),
    (lambda: render.animate(optviz.simulate("sphere", "sgd", steps=3), "a.gif", size=render.style.Size(4000, 4000, 100, 15)),
     "a 4000x4000 GIF needs about 854.5 MiB"),
])
def test_over_the_budget_is_refused_before_any_work(monkeypatch, call, message):
    monkeypatch.setenv("OPTVIZ_MAX_MEMORY", "1G" if "GIF" not in message else "100M")
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with pytest.raises(BudgetError, match="^" + message.replace("(", r"\(").replace(")", r"\)")):
        call()
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 200 * 1024  # nothing big was allocated


@pytest.mark.parametrize("call, message", [
    (lambda: optviz.simulate("rosenbrock", "adam", steps=2_000_000), "steps must be from 0 to 1,000,000"),
    (lambda: optviz.simulate("rosenbrock", "adam", divergence_factor=float("nan")), "divergence_factor must be a finite"),
    (lambda: studies.basins("himmelblau", "adam", resolution=5000), "resolution must be a whole number from 2 to 2000"),
    (lambda: studies.basins("himmelblau", "adam", tolerance=float("inf")), "tolerance must be a positive finite"),
    (lambda: render.animate(optviz.simulate("sphere", "sgd", steps=3), "a.gif", size=render.style.Size(5000, 5000, 100, 15)),
     "a 5000x5000 GIF has 25,000,000 pixels a frame; at most 16,000,000"),
])
def test_ceilings(call, message):
    with pytest.raises(ValueError, match=message):
        call()


def _line(args, env=None):
    out = CliRunner().invoke(main, args, env=env)
    lines = out.stderr.strip().splitlines()
    assert out.exit_code == 2 and len(lines) == 1 and lines[0].startswith("optviz: error: "), out.stderr
    return lines[0]


@pytest.mark.parametrize("args, message", [
    (["compare", "rosenbrock", "adam:lr=inf"], "'adam:lr=inf': lr=inf is not finite; every number must be"),
    (["compare", "rosenbrock", "sgd:lr=1e400"], "lr=1e400 is not finite"),
    (["compare", "rosenbrock", "adam:betas=0.9/nan"], "betas=0.9/nan is not finite"),
    (["compare", "rosenbrock", "--tol", "nan"], "'nan' is not a finite number"),
    (["compare", "rosenbrock", "--noise", "inf"], "'inf' is not a finite number"),
    (["compare", ""], "FUNCTION: is empty: give a function name or a formula"),
    (["compare", "rosenbrock", ":lr=1"], "no optimizer name"),
    (["sweep", "himmelblau", "sgd", "--lr", "0.01:inf", "--momentum", "0:0.9"], "LOW and HIGH must be finite numbers"),
    (["compare", "rosenbrock", "adam", "--gif", "a.gif", "--size", "10000x10000"],
     "a 10000x10000 GIF has 100,000,000 pixels a frame; at most 16,000,000 (4000x4000)"),
    (["compare", "sphere", "sgd", "--gif", "a.gif", "--size", "3000x3000"], "a 3000x3000 GIF needs about 480.7 MiB"),
])
def test_bad_numbers_and_sizes_on_the_command_line(args, message):
    assert message in _line(args, env={"OPTVIZ_MAX_MEMORY": "100M"})


def test_a_huge_name_comes_back_short():
    line = _line(["compare", "x" * 100_000])
    assert len(line) <= 320 and "…" in line
    line = _line(["compare", "rosenbrock", "y" * 100_000])
    assert len(line) <= 320 and "…" in line
    assert len(_line(["compare", "rosenbrock", "adam:" + "z" * 50_000 + "=1"])) <= 320


def test_a_scenario_over_the_budget_names_its_key(tmp_path):
    scenario = tmp_path / "big.toml"
    scenario.write_text('function = "rosenbrock"\nsteps = 100000\nstarts = [' + ", ".join(["[0.5, 0.5]"] * 2000)
                        + ']\n[[optimizers]]\nname = "adam"\n')
    # OPTVIZ_ALLOW_LARGE lifts the ceiling on a file's work, not the memory budget
    line = _line(["run", str(scenario), "--out", str(tmp_path / "out")],
                 env={"OPTVIZ_MAX_MEMORY": "2G", "OPTVIZ_ALLOW_LARGE": "1"})
    assert "big.toml: steps: 100000 steps x 2000 paths needs about 6.6 GiB at its peak" in line
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
