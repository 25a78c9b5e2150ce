"""Fast mode (optviz.fast): compiled paths within 1e-12 of exact mode's, and exact mode where
it cannot run.

The bound is for runs that do not amplify rounding: a path that is sensitive to its last bit
(Adam hovering at a minimum for hundreds of steps, Nesterov on Rosenbrock's walls) parts
from the exact one as it would from a start one ulp away; docs/api.md says so with figures."""

import warnings

import pytest
import torch

import optviz
from groups import COMPILED
from optviz.core.simulation import compiled as fast

pytestmark = COMPILED  # with test_family's kernels, in one process

# every rule, with the branches it has: momentum, Nesterov, dampening, decay, centring, amsgrad,
# decoupled decay while maximizing
OPTIMIZERS = {
    "sgd": optviz.sgd(lr=0.002),
    "momentum": optviz.sgd(lr=0.001, momentum=0.9, dampening=0.1, weight_decay=0.01),
    "nesterov": optviz.nesterov(lr=0.001),
    "adagrad": optviz.adagrad(lr=0.3, lr_decay=0.01, initial_accumulator_value=0.1),
    "rmsprop": optviz.rmsprop(lr=0.01, momentum=0.5, centered=True),
    "adam": optviz.adam(lr=0.05, amsgrad=True, maximize=False),
    "adamw": optviz.adamw(lr=0.05, weight_decay=0.1),
    "adamw_up": optviz.adamw(lr=0.01, weight_decay=0.1, maximize=True),
    "adam_notes": optviz.get_optimizer("adam_notes", lr=0.05),
}


def starts(fn, n=40):
    g = torch.Generator().manual_seed(1)
    (x0, x1), (y0, y1) = fn.bounds
    return torch.stack([x0 + (x1 - x0) * torch.rand(n, generator=g), y0 + (y1 - y0) * torch.rand(n, generator=g)], 1)


def close(fast_result, exact_result):
    """Within 1e-12 relative to the points' size (absolute below 1), on the paths that stay."""
    kept = exact_result.diverged_at < 0
    a, b = exact_result.positions[:, kept], fast_result.positions[:, kept]
    return ((a - b).abs() / a.abs().clamp_min(1)).max().item()


@pytest.mark.parametrize("function", ["himmelblau", "ill_conditioned", "beale"])
def test_every_rule_stays_within_1e_12_of_exact_mode(function):
    fn = optviz.get_function(function)
    points = starts(fn)
    exact = optviz.simulate(fn, OPTIMIZERS, points, 60)
    quick = optviz.simulate(fn, OPTIMIZERS, points, 60, fast=True)
    assert all(mode.startswith("fast") for mode in quick.modes.values())
    assert torch.equal(quick.diverged_at, exact.diverged_at)
    for label in OPTIMIZERS:
        one = [exact.index(label, s) for s in range(len(points))]
        kept = [b for b in one if exact.diverged_at[b] < 0]
        a, b = exact.positions[:, kept], quick.positions[:, kept]
        assert ((a - b).abs() / a.abs().clamp_min(1)).max().item() < 1e-12, label


def test_a_sweep_of_tensor_hyperparameters_runs_fast():
    lrs = torch.logspace(-3, -2, 12, dtype=torch.float64)[:, None]
    momenta = torch.linspace(0, 0.9, 12, dtype=torch.float64)[:, None]
    opt = optviz.sgd(lr=lrs, momentum=momenta)
    point = torch.tensor([[-1.0, 1.5]], dtype=torch.float64).repeat(12, 1)
    exact = optviz.simulate("himmelblau", opt, point, 60)
    quick = optviz.simulate("himmelblau", opt, point, 60, fast=True)
    assert close(quick, exact) < 1e-12


def test_divergence_found_in_a_slab_of_steps_as_in_exact_mode():
    # lr 0.6 diverges on the ill-conditioned quadratic at step 19 (SEEDS.md section 2)
    runs = [optviz.simulate("ill_conditioned", {"slow": optviz.sgd(lr=0.4), "wild": optviz.sgd(lr=0.6)},
                            steps=23, fast=quick) for quick in (False, True)]
    exact, quick = runs
    assert quick.diverged_at.tolist() == exact.diverged_at.tolist() == [-1, 19]
    assert torch.isnan(quick.path("wild")[20:]).all() and quick.positions.shape == exact.positions.shape
    assert close(quick, exact) < 1e-12


def test_the_compiled_kernel_is_kept_for_the_process():
    points = starts(optviz.get_function("rosenbrock"), 8)
    optviz.simulate("rosenbrock", {"adam": optviz.adam(lr=0.02)}, points, 20, fast=True)
    again = optviz.simulate("rosenbrock", {"adam": optviz.adam(lr=0.02)}, points, 20, fast=True)
    assert again.modes["adam"] == "fast (compiled earlier in this process)"


def test_one_kernel_serves_every_value_of_the_hyperparameters():
    # the numbers are the kernel's inputs; what they switch on (momentum, decay) is compiled in
    points = starts(optviz.get_function("beale"), 8)
    first = optviz.simulate("beale", {"adam": optviz.adam(lr=0.01)}, points, 20, fast=True)
    other = optviz.simulate("beale", {"adam": optviz.adam(lr=0.03, betas=(0.8, 0.99))}, points, 20, fast=True)
    assert first.modes["adam"].startswith("fast (compiled") and other.modes["adam"] == "fast (compiled earlier in this process)"
    exact = optviz.simulate("beale", {"adam": optviz.adam(lr=0.03, betas=(0.8, 0.99))}, points, 20)
    assert close(other, exact) < 1e-12 and close(other, first) > 1e-3  # its own numbers, not the first run's
    decayed = optviz.simulate("beale", {"adam": optviz.adam(lr=0.03, weight_decay=0.1)}, points, 20, fast=True)
    assert decayed.modes["adam"].startswith("fast (compiled in")  # another branch of the rule: another kernel


@pytest.mark.parametrize("case, reason", [
    (dict(function=lambda p: (p**2).sum(-1), bounds=[(-1, 1), (-1, 1)]), "not a built-in function"),
    (dict(function="x**2 + y**2", bounds=[(-1, 1), (-1, 1)]), "not a built-in function"),
    (dict(optimizers={"nadam": torch.optim.NAdam}), "nadam is not one of optviz's own optimizers"),
    (dict(noise=0.1), "gradient noise"),
])
def test_what_cannot_run_fast_runs_exact_with_a_one_line_warning(case, reason):
    args = dict(function="himmelblau", optimizers={"sgd": optviz.sgd(lr=0.01)}, starts=[0.5, 0.5], steps=10)
    args.update(case)
    exact = optviz.simulate(**args)
    with pytest.warns(UserWarning, match=reason) as caught:
        quick = optviz.simulate(**args, fast=True)
    assert len(caught) == 1 and "\n" not in str(caught[0].message) and "running in exact mode" in str(caught[0].message)
    assert torch.equal(quick.positions, exact.positions)
    assert not any(mode.startswith("fast") for mode in quick.modes.values())


def test_a_compiler_that_fails_falls_back_to_exact_mode(monkeypatch):
    def broken(*args, **kwargs):
        def kernel(*a, **k):
            raise RuntimeError("InvalidCxxCompiler: No working C++ compiler found\nmore lines")
        return kernel

    monkeypatch.setattr(torch, "compile", broken)
    monkeypatch.setattr(fast, "_KERNELS", {})
    args = ("rosenbrock", {"adam": optviz.adam(lr=0.02)}, [[0.0, 0.0]], 40)
    with pytest.warns(UserWarning, match=r"torch.compile failed \(InvalidCxxCompiler: No working C\+\+ compiler found more lines\)"):
        quick = optviz.simulate(*args, fast=True)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        exact = optviz.simulate(*args)
    assert torch.equal(quick.positions, exact.positions) and quick.modes == exact.modes


def test_the_command_line_says_what_compiling_cost_and_why_it_fell_back(tmp_path):
    from click.testing import CliRunner

    from optviz.interface.cli import main

    quick = CliRunner().invoke(main, ["compare", "himmelblau", "adam:lr=0.1", "--steps", "30", "--fast"])
    exact = CliRunner().invoke(main, ["compare", "himmelblau", "adam:lr=0.1", "--steps", "30"])
    assert quick.exit_code == 0 and "fast mode: compiled" in quick.stderr
    assert quick.stdout.split("\n")[1:] == exact.stdout.split("\n")[1:]  # the same table, to its printed digits
    fallback = CliRunner().invoke(main, ["compare", "x**2 + y**2", "sgd:lr=0.1", "--steps", "5", "--fast"])
    assert fallback.exit_code == 0
    assert fallback.stderr.splitlines()[0] == "fast mode: x**2 + y**2 is not a built-in function; running in exact mode"
    basins = CliRunner().invoke(main, ["basins", "himmelblau", "sgd:lr=0.01", "--n", "8", "--steps", "20", "--fast",
                                       "--png", str(tmp_path / "b.png")])
    assert basins.exit_code == 0 and "fast mode: compiled" in basins.stderr and (tmp_path / "b.png").exists()


def test_a_penalised_optimizer_adds_its_penalty_in_fast_mode_too():
    from optviz.analyses.penalties import Penalty, penalised

    runs = {"l1": penalised(optviz.adam(lr=0.05), Penalty(l1=0.5)), "l2": penalised(optviz.sgd(lr=0.01), Penalty(l2=1.0)),
            "plain": optviz.adam(lr=0.05)}
    exact = optviz.simulate("himmelblau", runs, [[1.0, 1.0], [-2.0, 2.0]], 60)
    quick = optviz.simulate("himmelblau", runs, [[1.0, 1.0], [-2.0, 2.0]], 60, fast=True)
    assert close(quick, exact) < 1e-12
    assert not torch.allclose(exact.path("l1"), exact.path("plain"))  # the penalty moved the path
