"""Any torch optimizer as a path source: every path equals that optimizer run alone with
torch on its one start, whatever the optimizer does across a tensor."""

import functools
import math
import subprocess
import sys

import pytest
import torch
from click.testing import CliRunner
from conftest import assert_bit_equal, starts_for
from torch.optim import lr_scheduler

import optviz
from optviz.interface.cli import main
from optviz.core.optimizers.registry import BUILT_INS, get_optimizer, scheduled
from optviz.render.style import KINDS, THEMES
from optviz.documents.scenario import ScenarioError, load
from optviz.core.optimizers.schedules import ScheduleError, schedule
from optviz.core.optimizers.foreign import ELEMENTWISE, TORCH_CLASSES, OptimizerError

HIMMELBLAU = optviz.get_function("himmelblau")
STEPS = 40

# a setting per torch.optim class that stays finite on Himmelblau from anywhere in its bounds
SETTINGS = {
    "asgd": dict(lr=1e-3), "adadelta": dict(lr=1.0), "adafactor": dict(lr=0.05), "adagrad": dict(lr=0.1),
    "adam": dict(lr=0.05, amsgrad=True), "adamw": dict(lr=0.05), "adamax": dict(lr=0.05),
    "lbfgs": dict(lr=0.5, max_iter=4), "muon": dict(lr=0.05), "nadam": dict(lr=0.05), "radam": dict(lr=1e-3),
    "rmsprop": dict(lr=0.01, centered=True), "rprop": dict(lr=0.01), "sgd": dict(lr=1e-3, momentum=0.9),
}


def alone(cls, kwargs, fn, start, steps, schedulers=(), matrix=False, closure=False):
    """The optimizer run by hand on one start as one parameter tensor, the way a torch user
    would: the gradient into .grad (or a closure that puts it there), step, then the schedulers."""
    param = (start.clone().reshape(1, -1) if matrix else start.clone()).requires_grad_(True)
    opt = cls([param], **kwargs)
    attached = [make(opt) for make in schedulers]
    path = [param.detach().reshape(-1).clone()]
    for _ in range(steps):
        def evaluate():
            point = param.detach().reshape(-1)
            param.grad = fn.grad(point).reshape(param.shape)
            return fn(point)

        if closure:
            opt.step(evaluate)
        else:
            evaluate()
            opt.step()
        for s in attached:
            s.step()
        path.append(param.detach().reshape(-1).clone())
    return torch.stack(path)


class _Descent(torch.optim.Optimizer):
    """p <- p - lr direction(g): optimizers of the tests' own, outside the proven family."""

    def __init__(self, params, lr=0.1):
        super().__init__(params, dict(lr=lr))

    @torch.no_grad()
    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                p.add_(self.direction(p.grad), alpha=-group["lr"])


class NormalisedSGD(_Descent):
    """Every step has length lr: the norm is taken over the whole tensor."""

    direction = staticmethod(lambda g: g / g.norm())


class PlainSGD(_Descent):
    """SGD, but run per start."""

    direction = staticmethod(lambda g: g)


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_torch_class_equals_separate_runs(name):
    assert set(SETTINGS) == set(TORCH_CLASSES)  # every class torch has here is covered
    cls, kwargs = TORCH_CLASSES[name], SETTINGS[name]
    starts = starts_for(HIMMELBLAU)
    result = optviz.simulate(HIMMELBLAU, {name: optviz.torch_optimizer(name, **kwargs)}, starts, STEPS)
    assert (result.diverged_at < 0).all()
    expected_mode = "batched" if cls in ELEMENTWISE else "per-start (1 x 2 matrix)" if name == "muon" else "per-start"
    assert result.modes[name] == expected_mode
    for s, start in enumerate(starts):
        theirs = alone(cls, kwargs, HIMMELBLAU, start, STEPS, matrix=name == "muon", closure=name == "lbfgs")
        assert_bit_equal(result.path(name, s), theirs)


def test_the_elementwise_family_in_float32_too():
    starts = starts_for(HIMMELBLAU, dtype=torch.float32)
    for cls in (torch.optim.NAdam, torch.optim.Rprop, torch.optim.ASGD):
        result = optviz.simulate(HIMMELBLAU, {"o": cls}, starts, STEPS, dtype=torch.float32)
        for s, start in enumerate(starts):
            assert_bit_equal(result.path("o", s), alone(cls, {}, HIMMELBLAU, start, STEPS))


def test_a_rule_that_uses_the_whole_tensor_is_not_mixed_across_starts():
    starts = starts_for(HIMMELBLAU, n=3)
    result = optviz.simulate(HIMMELBLAU, {"n": functools.partial(NormalisedSGD, lr=0.1)}, starts, 10)
    assert result.modes["n"] == "per-start"
    for s, start in enumerate(starts):
        path = result.path("n", s)
        assert_bit_equal(path, alone(NormalisedSGD, dict(lr=0.1), HIMMELBLAU, start, 10))
        lengths = torch.linalg.vector_norm(path[1:] - path[:-1], dim=-1)
        assert torch.allclose(lengths, torch.full_like(lengths, 0.1), rtol=1e-12)
    # stacked in one tensor the norm would have been the batch's: the steps would be shorter
    grads = HIMMELBLAU.grad(starts)
    together = starts - 0.1 * grads / grads.norm()
    assert not torch.allclose(together, result.positions[1])


def test_classes_partials_names_and_torch_optimizer_are_the_same_source():
    ways = {"class": torch.optim.NAdam, "partial": functools.partial(torch.optim.NAdam, lr=0.002),
            "made": optviz.torch_optimizer(torch.optim.NAdam), "name": optviz.torch_optimizer("NADAM"),
            "string": "nadam"}
    result = optviz.simulate("rosenbrock", ways, steps=20)
    paths = [result.path(label) for label in ways]
    for path in paths[1:]:
        assert_bit_equal(path, paths[0])
    assert result.optimizers["made"].label == "NAdam lr=0.002"
    assert get_optimizer("NAdam", lr=0.01, momentum_decay=0.01).label == "NAdam lr=0.01 momentum_decay=0.01"


def test_schedules_equal_torch_with_the_scheduler_stepped_every_step():
    sphere = optviz.get_function("sphere")
    start = torch.tensor(sphere.start, dtype=torch.float64)
    step_lr = functools.partial(lr_scheduler.StepLR, step_size=5, gamma=0.5)
    result = optviz.simulate(sphere, {"sgd": scheduled(optviz.sgd(lr=0.1), step_lr)}, start, 20)
    assert_bit_equal(result.path("sgd"), alone(torch.optim.SGD, dict(lr=0.1), sphere, start, 20, [step_lr]))
    assert result.lrs["sgd"].tolist() == [0.1] * 5 + [0.05] * 5 + [0.025] * 5 + [0.0125] * 5
    assert result.optimizers["sgd"].label == "SGD lr=0.1 · StepLR(step_size=5, gamma=0.5)"

    # a warm-up then a cosine, written as a scenario file writes it
    spec = {"name": "SequentialLR", "milestones": [5], "schedulers": [
        {"name": "LinearLR", "start_factor": 0.1, "total_iters": 5}, {"name": "CosineAnnealingLR", "T_max": 15}]}
    warm = scheduled(optviz.adam(lr=0.2), spec)

    def by_hand(opt):
        return lr_scheduler.SequentialLR(opt, [lr_scheduler.LinearLR(opt, start_factor=0.1, total_iters=5),
                                               lr_scheduler.CosineAnnealingLR(opt, T_max=15)], milestones=[5])

    result = optviz.simulate(HIMMELBLAU, {"adam": warm}, starts_for(HIMMELBLAU, n=2), 20)
    for s, start in enumerate(starts_for(HIMMELBLAU, n=2)):
        assert_bit_equal(result.path("adam", s), alone(torch.optim.Adam, dict(lr=0.2), HIMMELBLAU, start, 20, [by_hand]))

    # chained schedulers on an optimizer that runs per start; OneCycleLR moves Adam's betas too
    chain = [functools.partial(lr_scheduler.ExponentialLR, gamma=0.9),
             functools.partial(lr_scheduler.StepLR, step_size=3, gamma=0.5)]
    one_cycle = functools.partial(lr_scheduler.OneCycleLR, max_lr=0.3, total_steps=20)
    result = optviz.simulate(HIMMELBLAU, {
        "factor": optviz.scheduled(optviz.torch_optimizer("adafactor", lr=0.1), *chain),
        "cycle": optviz.scheduled(torch.optim.Adam, one_cycle)}, starts_for(HIMMELBLAU, n=2), 20)
    assert result.modes == {"factor": "per-start", "cycle": "batched"}
    for s, start in enumerate(starts_for(HIMMELBLAU, n=2)):
        assert_bit_equal(result.path("factor", s), alone(torch.optim.Adafactor, dict(lr=0.1), HIMMELBLAU, start, 20, chain))
        assert_bit_equal(result.path("cycle", s), alone(torch.optim.Adam, {}, HIMMELBLAU, start, 20, [one_cycle]))


def test_schedule_mistakes_are_named():
    with pytest.raises(ScheduleError, match=r"unknown scheduler 'StepLRR'; did you mean 'StepLR'"):
        schedule({"name": "StepLRR"})
    with pytest.raises(ScheduleError, match=r"StepLR has no argument 'step_sise'; did you mean 'step_size'"):
        schedule({"name": "StepLR", "step_sise": 3})
    with pytest.raises(ScheduleError, match="'ReduceLROnPlateau': it steps on a metric"):
        schedule({"name": "ReduceLROnPlateau"})
    with pytest.raises(ScheduleError, match="StepLR: .*step_size"):
        scheduled(optviz.sgd(lr=0.1), {"name": "StepLR"})  # its required argument, when it is made
    with pytest.raises(ValueError, match="a sweep of hyperparameters cannot take a schedule"):
        scheduled(optviz.sgd(lr=torch.tensor([[0.1], [0.2]])), {"name": "StepLR", "step_size": 2})


def test_noise_is_reproducible_and_the_same_for_every_optimizer_from_a_start():
    sphere = optviz.get_function("sphere")
    starts = torch.tensor([[-4.0, 3.0], [2.0, 1.0]], dtype=torch.float64)
    run = lambda optimizers, seed=0, noise=0.5: optviz.simulate(sphere, optimizers, starts, 30, noise=noise, seed=seed)  # noqa: E731
    both = {"fast": optviz.sgd(lr=0.1), "slow": optviz.sgd(lr=0.05), "own": PlainSGD}
    result = run(both)
    assert result.noise == "gradient noise σ=0.5" and result.modes["own"] == "per-start"
    assert torch.equal(result.positions, run(both).positions)
    assert not torch.equal(result.positions, run(both, seed=1).positions)
    # SGD alone sees the same draws as SGD beside others
    assert torch.equal(run({"fast": optviz.sgd(lr=0.1)}).path("fast", 1), result.path("fast", 1))

    def draws(label, lr, start):  # noise_t = (p_t - p_t+1) / lr - grad f(p_t)
        path = result.path(label, start)
        return (path[:-1] - path[1:]) / lr - sphere.grad(path[:-1])

    for start in (0, 1):
        torch.testing.assert_close(draws("fast", 0.1, start), draws("slow", 0.05, start), rtol=0, atol=1e-12)
        torch.testing.assert_close(draws("fast", 0.1, start), draws("own", 0.1, start), rtol=0, atol=1e-12)
    assert not torch.allclose(draws("fast", 0.1, 0), draws("fast", 0.1, 1))  # starts draw their own
    assert abs(draws("fast", 0.1, 0).std().item() - 0.5) < 0.1

    gaussian = lambda points, generator: torch.randn(points.shape, generator=generator, dtype=points.dtype) * 0.5  # noqa: E731
    assert torch.equal(run(both, noise=gaussian).positions, result.positions)
    for bad, message in [(-1.0, ">= 0"), (math.nan, "finite"), ([0.1, 0.2, 0.3], "one per coordinate"),
                         ("loud", "standard deviation")]:
        with pytest.raises((ValueError, TypeError), match=message):
            run(both, noise=bad)


def test_a_third_party_optimizer_by_import_path_from_the_command_line():
    pytest.importorskip("pytorch_optimizer", reason="the test extra pytorch-optimizer")
    from pytorch_optimizer import Lion

    for spec in ("pytorch_optimizer:Lion:lr=0.01", "pytorch_optimizer.Lion:lr=0.01"):
        out = CliRunner().invoke(main, ["compare", "himmelblau", spec, "--steps", "30"])
        assert out.exit_code == 0, out.output
        assert "Lion lr=0.01 " in out.output and "Lion lr=0.01: per-start, one torch instance per start" in out.output
    opt = get_optimizer("pytorch_optimizer:Lion", allow_import=True, lr=0.01)
    starts = starts_for(HIMMELBLAU, n=3)
    result = optviz.simulate(HIMMELBLAU, [opt], starts, 30)
    for s, start in enumerate(starts):
        assert_bit_equal(result.path("Lion lr=0.01", s), alone(Lion, dict(lr=0.01), HIMMELBLAU, start, 30))


def test_a_scenario_imports_only_with_allow_import(tmp_path):
    pytest.importorskip("pytorch_optimizer", reason="the test extra pytorch-optimizer")
    path = tmp_path / "lion.toml"
    path.write_text('title = "Lion"\nfunction = "himmelblau"\nsteps = 20\n\n'
                    '[[optimizers]]\nname = "pytorch_optimizer:Lion"\nlr = 0.05\n')
    with pytest.raises(ScenarioError, match=r"optimizers\[0\].name: .*is an import path.*--allow-import"):
        load(path)
    refused = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path)])
    assert refused.exit_code == 2 and "--allow-import" in refused.stderr
    assert not (tmp_path / "lion.png").exists()
    allowed = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path), "--allow-import", "--quiet"])
    assert allowed.exit_code == 0, allowed.output
    assert (tmp_path / "lion.png").stat().st_size > 10_000


def test_scenario_files_take_torch_names_schedules_noise_and_dimensions(tmp_path):
    path = tmp_path / "s.toml"
    path.write_text('function = "rosenbrock"\ndim = 4\nsteps = 30\nnoise = 0.1\nseed = 3\n\n'
                    '[[optimizers]]\nname = "NAdam"\nlr = 0.01\n'
                    'schedule = { name = "StepLR", step_size = 10, gamma = 0.5 }\n\n'
                    '[[optimizers]]\nname = "lbfgs"\nlr = 0.1\nmax_iter = 3\n')
    scenario = load(path)
    result = scenario.run()
    assert result.function.dim == 4 and result.modes == {"NAdam lr=0.01 · StepLR(step_size=10, gamma=0.5)": "batched",
                                                         "LBFGS lr=0.1 max_iter=3": "per-start"}
    assert torch.equal(result.positions, scenario.run().positions)  # the seed makes it reproducible
    for text, message in [('name = "nadam"\nlrr = 0.1', r"optimizers\[0\].lrr: unknown key; did you mean 'lr'"),
                          ('name = "nadam"\nlr = -1.0', "NAdam: Invalid learning rate: -1.0"),
                          ('name = "sgd"\nschedule = { name = "StepLRR" }', "did you mean 'StepLR'"),
                          ('name = "nadam"\npenalty = { l2 = 0.1 }', "a penalty works with optviz's own optimizers")]:
        path.write_text(f'function = "sphere"\n[[optimizers]]\n{text}\n')
        with pytest.raises(ScenarioError, match=message):
            load(path)


@pytest.mark.parametrize("args,message", [
    (["compare", "sphere", "nosuchpkg_xyz:Opt"], "cannot import 'nosuchpkg_xyz'"),
    (["compare", "sphere", "torch.optim:Nope"], "torch.optim has no 'Nope'"),
    (["compare", "sphere", "torch.nn:Linear"], "torch.nn:Linear is a type, not a torch.optim.Optimizer class"),
    (["compare", "sphere", "math:pi"], "math:pi is a float, not a torch.optim.Optimizer class"),
    (["compare", "sphere", "nadam:lr=-1"], "NAdam: Invalid learning rate: -1"),
    (["compare", "sphere", "nadamm"], "unknown optimizer 'nadamm'; did you mean 'nadam'"),
    (["compare", "sphere", "sgd", "--schedule", "StepLRR:step_size=3"], "did you mean 'StepLR'"),
    (["compare", "sphere", "sgd", "--schedule", "StepLR:step_sise=3"], "did you mean 'step_size'"),
    (["compare", "sphere", "sgd", "--noise", "-1"], "-1.0 is not in the range x>=0"),
    (["compare", "sphere", "sgd", "--noise", "nan"], "finite"),
    (["compare", "sphere", "sgd", "--dim", "0"], "dim must be a whole number from 1"),
    (["compare", "beale", "sgd", "--dim", "3"], "beale is 2D only"),
    (["compare", "sphere", "sgd", "--dim", "100000", "--steps", "100000"], "GiB"),
])
def test_bad_optimizers_schedules_noise_and_dimensions_are_one_line(args, message):
    out = CliRunner().invoke(main, args)
    assert out.exit_code == 2, (out.output, out.stderr)
    assert message in out.stderr and len(out.stderr.strip().splitlines()) == 1, out.stderr


def test_registry_records_are_complete_and_own_their_colours():
    colours = [entry.colour for entry in BUILT_INS.values()]
    assert len(set(colours)) == len(colours) and max(colours) < len(THEMES["light"].palette)
    assert KINDS == tuple(BUILT_INS)
    for name, entry in BUILT_INS.items():
        made = entry.factory()
        assert made.kind == name and entry.display in made.label and entry.summary.endswith(".")
        if entry.teaching:  # a teaching variant: no library's
            assert entry.torch_class is entry.optim_class is None and name in optviz.registry.TEACHING
            continue
        assert issubclass(entry.optim_class, torch.optim.Optimizer) and entry.check
    rows = optviz.conformance.check_all(steps=20)
    assert len(rows) == 2 * len(optviz.OPTIMIZERS) and all(diff == 0 for _, _, diff in rows)


def test_torch_optimizers_get_stable_colours_of_their_own():
    theme = THEMES["light"]
    alone_ = optviz.render.style.colours(["nadam"], theme)
    beside = optviz.render.style.colours(["sgd", "nadam", "radam"], theme)
    assert beside[1] == alone_[0] != beside[2] and len(set(beside)) == 3


def test_any_function_formula_or_python_and_results_say_how_they_ran(tmp_path):
    formula = optviz.simulate("x**2 + 3*y**2", optviz.sgd(lr=0.1), [1.0, 1.0], 5)
    assert formula.function.formula == "x**2 + 3*y**2" and formula.modes == {"SGD lr=0.1": "batched"}
    assert torch.allclose(formula.positions[1, 0], torch.tensor([0.8, 0.4], dtype=torch.float64))
    own = optviz.simulate(lambda p: p[0] ** 2 + 3 * p[1] ** 2, [optviz.sgd(lr=0.1), torch.optim.Rprop],
                          [1.0, 1.0], 5, bounds=[(-2, 2), (-2, 2)])
    assert_bit_equal(own.path("SGD lr=0.1"), formula.path("SGD lr=0.1"))
    back = optviz.Result.load(own.save(tmp_path / "own.json"))
    assert back.modes == own.modes and back.lrs.keys() == own.lrs.keys()
    assert back.optimizers["Rprop lr=0.01"].label == "Rprop lr=0.01"
    with pytest.raises(ValueError, match="a Python function needs bounds"):
        optviz.get_function(lambda p: p.sum())
    with pytest.raises(ValueError, match="fn must map one point"):
        optviz.function(lambda p: float(p[0]), bounds=[(-1, 1), (-1, 1)])
    with pytest.raises(ValueError, match="cannot call 'foo'"):
        optviz.get_function("x**2 + foo(y)")


def test_any_dimension_on_the_principal_plane(tmp_path):
    result = optviz.simulate(optviz.get_function("ill_conditioned", dim=5),
                             [optviz.sgd(lr=0.02), optviz.adam(lr=0.05), torch.optim.NAdam], steps=200)
    assert result.positions.shape == (201, 3, 5)
    fig = optviz.render.picture(result)
    ax = fig.axes[0]
    assert "% of variance" in ax.get_xlabel() and "% of variance" in ax.get_ylabel()
    # the projection error the legend states, worked out independently
    points = result.positions.reshape(-1, 5)
    mean = points.mean(dim=0)
    _, _, vh = torch.linalg.svd(points - mean, full_matrices=False)
    legend = fig.legends[0] if fig.legends else ax.get_legend()
    texts = [t.get_text() for t in legend.get_texts()]
    for label in result.optimizers:
        offsets = result.path(label) - mean
        lost = ((offsets - offsets @ vh[:2].T @ vh[:2]).pow(2).sum() / offsets.pow(2).sum()).item()
        assert (f"{label} · {lost:.0%} off the plane" if lost >= 0.005 else label) in texts, texts
    assert texts[0] == "SGD lr=0.02 · 3% off the plane"
    for kind in ("loss", "distance"):
        assert optviz.plot(result, kind).get_lines()
    assert optviz.render.animate(result, tmp_path / "a.gif", max_frames=10).frames >= 2
    formula = optviz.simulate("x1**2 + 2*x2**2 + 3*x3**2", optviz.sgd(lr=0.1), [1.0, 1.0, 1.0], 3)
    assert torch.allclose(formula.positions[1, 0], torch.tensor([0.8, 0.6, 0.4], dtype=torch.float64))


def test_studies_and_the_landscape_take_torch_optimizers():
    from optviz.analyses.models.landscapes import landscape
    from optviz.analyses.studies import basins, sweep, tune_lrs

    lrs = tune_lrs("himmelblau", [("nadam", {}), ("sgd", {})], None, 60)
    assert all(lr in optviz.studies.LR_GRID for lr in lrs)
    study = sweep("himmelblau", "nadam", ("lr", [0.01, 0.1]), ("momentum_decay", [0.002, 0.004]), steps=30)
    cell = optviz.simulate("himmelblau", optviz.torch_optimizer("nadam", lr=0.1, momentum_decay=0.002), steps=30)
    assert study.final[0, 1].item() == cell.losses[-1, 0].item()
    assert basins("himmelblau", "nadam", {"lr": 0.1}, resolution=4, steps=60).labels.shape == (4, 4)
    slice_ = landscape(optimizers=[("nadam", {"lr": 0.005}), ("lbfgs", {"lr": 0.1, "max_iter": 2})], epochs=1,
                       resolution=5)
    assert list(slice_.paths) == ["NAdam lr=0.005", "LBFGS lr=0.1 max_iter=2"]
    assert all(torch.isfinite(losses).all() for losses in slice_.path_losses.values())


def test_a_missing_extra_says_what_to_install():
    """Without pytorch-optimizer, naming one of its optimizers says which extra brings it, in one
    line, exit 2 (the import is blocked as an uninstalled package fails)."""
    blocked = ("import sys; sys.modules['pytorch_optimizer'] = None; from optviz.interface.cli import main; "
               "sys.argv = ['optviz', 'compare', 'rosenbrock', 'pytorch_optimizer:Lion:lr=1e-3', '--steps', '5']; main()")
    done = subprocess.run([sys.executable, "-c", blocked], capture_output=True, text=True)
    assert done.returncode == 2 and len(done.stderr.strip().splitlines()) == 1, done.stderr
    assert "pytorch-optimizer is not installed: pip install 'optviz[optimizers]'" in done.stderr
