"""The protocol any torch optimizer is stepped by: factories, closures, second derivatives,
a random generator per start, matrices where a vector is refused, and one line for any failure."""

import functools
import random

import numpy as np
import pytest
import pytorch_optimizer as po
import torch
from click.testing import CliRunner
from conftest import assert_bit_equal
from torch.optim import SGD

import optviz
from optviz.core.optimizers.foreign import OptimizerError, StepFailed
from optviz.interface.cli import main

ROSENBROCK = optviz.get_function("rosenbrock")
STARTS = torch.tensor([[-1.5, 2.0], [0.5, -0.5], [1.2, 1.4]], dtype=torch.float64)


def solo_gravity(start, seed, steps):
    """Gravity alone from one start, after seeding torch, numpy and Python's random with ``seed``."""
    torch.manual_seed(seed)
    np.random.seed(seed)
    random.seed(seed)
    param = start.clone().requires_grad_(True)
    opt = po.Gravity([param], lr=1e-3)
    path = [start.clone()]
    for _ in range(steps):
        opt.zero_grad()
        param.grad = ROSENBROCK.grad(param.detach())
        opt.step()
        path.append(param.detach().clone())
    return torch.stack(path)


def test_a_random_optimizer_steps_each_start_with_its_own_generator():
    gravity = functools.partial(po.Gravity, lr=1e-3)
    torch.manual_seed(123)
    before = torch.get_rng_state()
    result = optviz.simulate(ROSENBROCK, {"g": gravity}, STARTS, 6, seed=7)
    assert torch.equal(torch.get_rng_state(), before)  # the caller's generator is left alone
    again = optviz.simulate(ROSENBROCK, {"g": gravity}, STARTS, 6, seed=7)
    assert torch.equal(result.positions, again.positions)
    other = optviz.simulate(ROSENBROCK, {"g": gravity}, STARTS, 6, seed=8)
    assert not torch.equal(result.path("g", 0), other.path("g", 0))
    for k, start in enumerate(STARTS):
        solo = solo_gravity(start, 7 + k, 6)
        assert_bit_equal(result.path("g", k), solo)  # start k: seed + k
        alone = optviz.simulate(ROSENBROCK, {"g": gravity}, start, 6, seed=7 + k)
        assert_bit_equal(alone.path("g", 0), solo)  # whatever the other starts
    assert not torch.equal(result.path("g", 0)[1], solo_gravity(STARTS[0], 8, 6)[1])  # the draws matter


@pytest.mark.filterwarnings("error")  # and quietly: looking for an optimizer's generators reads deprecated names
def test_the_readme_examples_run_as_documented():
    sam = optviz.torch_optimizer(functools.partial(po.SAM, base_optimizer=SGD, lr=1e-3))
    lookahead = optviz.torch_optimizer(lambda params: po.Lookahead(SGD(params, lr=1e-3), k=5, alpha=0.5))
    sophia = optviz.torch_optimizer(po.SophiaH, lr=1e-3)
    muon = optviz.torch_optimizer(lambda params: po.Muon([{"params": params, "use_muon": True}], lr=0.02))
    assert sophia.hessian and not sam.hessian and not lookahead.hessian
    result = optviz.simulate("rosenbrock", [sam, lookahead, sophia, muon], STARTS, 20)
    assert list(result.optimizers) == ["SAM base_optimizer=SGD lr=0.001", "Lookahead(SGD lr=0.001)",
                                       "SophiaH lr=0.001", "Muon lr=0.02"]
    assert set(result.modes.values()) == {"per-start"}
    assert (result.diverged_at < 0).all()
    assert bool(result.losses.isfinite().all())
    kinds = {opt.kind for opt in result.optimizers.values()}
    assert "pytorch_optimizer.optimizer.lookahead.lookahead" in kinds


class _Newton1D(torch.optim.Optimizer):
    """p <- p - lr g / |diag H|, the diagonal by autograd from a gradient that carries a graph."""

    def __init__(self, params, lr=0.5):
        super().__init__(params, dict(lr=lr))

    def step(self, closure=None):
        for group in self.param_groups:
            for p in group["params"]:
                (curvature,) = torch.autograd.grad(p.grad.sum(), p)
                with torch.no_grad():
                    p.sub_(group["lr"] * p.grad / curvature.abs().clamp(min=1.0))


def test_hessian_true_gives_a_gradient_with_a_graph():
    with pytest.raises(OptimizerError, match=r"^_Newton1D lr=0.5 failed to step: element 0 of tensors does not "
                                             r"require grad"):
        optviz.simulate(ROSENBROCK, _Newton1D, STARTS, 3)
    result = optviz.simulate(ROSENBROCK, optviz.torch_optimizer(_Newton1D, hessian=True), STARTS, 3)
    param = STARTS[1].clone().requires_grad_(True)
    opt = _Newton1D([param])
    for _ in range(3):
        opt.zero_grad()
        ROSENBROCK(param).backward(create_graph=True)
        opt.step()
    assert_bit_equal(result.path("_Newton1D lr=0.5", 1)[-1], param.detach())


class _Refuses(torch.optim.Optimizer):
    """Plain SGD that accepts only matrices, and says so only when it steps; or that breaks
    at a given step."""

    def __init__(self, params, lr=0.1, break_at=0):
        super().__init__(params, dict(lr=lr))
        self.break_at, self.steps = break_at, 0

    @torch.no_grad()
    def step(self, closure=None):
        self.steps += 1
        if self.steps == self.break_at:
            raise KeyError("the state went missing")
        for group in self.param_groups:
            for p in group["params"]:
                if p.ndim != 2:
                    raise ValueError("only matrices")
                p.add_(p.grad, alpha=-group["lr"])


def test_a_refusal_at_step_time_is_retried_as_a_matrix_and_failures_are_one_line():
    result = optviz.simulate(ROSENBROCK, functools.partial(_Refuses, lr=1e-3), STARTS, 4)
    plain = optviz.simulate(ROSENBROCK, optviz.sgd(lr=1e-3), STARTS, 4)
    assert result.modes == {"_Refuses lr=0.001": "per-start (1 x 2 matrix)"}
    assert_bit_equal(result.positions, plain.positions)
    with pytest.raises(StepFailed, match=r"^_Refuses lr=0.001 break_at=3 failed to step: 'the state went missing'$"):
        optviz.simulate(ROSENBROCK, functools.partial(_Refuses, lr=1e-3, break_at=3), STARTS, 4)
    for bad, message in [
        (lambda params: [SGD(params, lr=0.1)], r"^<lambda>: the factory returned a list, not a torch.optim.Optimizer$"),
        (lambda params: po.Lookahead(params), r"^Lookahead: .*params"),
        (po.GSAM, r"^GSAM: .*missing 3 required positional arguments"),
        (SGD([STARTS[0].clone().requires_grad_(True)]), r"is not a torch.optim.Optimizer class or a callable that makes "
                                                       r"one: pass a function of the parameters that makes it$"),
    ]:
        with pytest.raises(OptimizerError, match=message):
            optviz.torch_optimizer(bad)
    with pytest.raises(OptimizerError, match=r"^Lion has no hyperparameter 'lrr'; did you mean 'lr'"):
        optviz.torch_optimizer(po.Lion, lrr=0.1)  # a **kwargs that forwards nothing still checks names


def test_the_command_line_checks_every_optimizer_before_any_work(tmp_path):
    out = CliRunner().invoke(main, ["compare", "rosenbrock", "sgd:lr=1e-3", "pytorch_optimizer:FAdam",
                                    "--steps", "5", "--png", str(tmp_path / "c.png")])
    assert out.exit_code == 2, out.output
    assert out.stderr.startswith("optviz: error: Invalid value for OPTIMIZERS: 'pytorch_optimizer:FAdam': FAdam "
                                 "lr=0.001 failed to step: expected dtype float for `end` but got dtype double (see ")
    assert len(out.stderr.strip().splitlines()) == 1
    assert out.stdout == "" and not (tmp_path / "c.png").exists()


def test_a_scenario_whose_optimizer_cannot_step_writes_nothing(tmp_path):
    path = tmp_path / "fadam.toml"
    path.write_text('function = "rosenbrock"\nsteps = 5\n\n[[optimizers]]\nname = "sgd"\nlr = 0.001\n\n'
                    '[[optimizers]]\nname = "pytorch_optimizer:FAdam"\n')
    out = CliRunner().invoke(main, ["run", str(path), "--out", str(tmp_path / "out"), "--allow-import"])
    assert out.exit_code == 2, out.output
    assert out.stderr.startswith("optviz: error: fadam: FAdam lr=0.001 failed to step: expected dtype float")
    assert len(out.stderr.strip().splitlines()) == 1 and not (tmp_path / "out").exists()


def test_clip_is_refused_where_the_optimizer_takes_its_gradient_from_f_itself():
    with pytest.raises(OptimizerError, match=r"^SophiaH lr=0.001 takes its gradient from f itself .*leave clip out"):
        optviz.simulate("rosenbrock", optviz.torch_optimizer(po.SophiaH, lr=1e-3), STARTS, 3, clip=1.0)


def test_an_optimizer_class_argument_is_named_by_a_word_on_the_command_line():
    from optviz.core.optimizers.registry import get_optimizer

    worded = get_optimizer("pytorch_optimizer:SAM", allow_import=True, base_optimizer="SGD", lr=1e-3)
    given = optviz.torch_optimizer(functools.partial(po.SAM, base_optimizer=SGD, lr=1e-3))
    assert worded.label == given.label == "SAM base_optimizer=SGD lr=0.001"
    assert_bit_equal(optviz.simulate(ROSENBROCK, worded, STARTS, 4).positions,
                     optviz.simulate(ROSENBROCK, given, STARTS, 4).positions)
    out = CliRunner().invoke(main, ["compare", "rosenbrock", "pytorch_optimizer:SAM", "--steps", "3"])
    assert out.exit_code == 2 and out.output.count("\n") == 1, out.output
    assert "SAM takes an optimizer class as base_optimizer: base_optimizer=SGD on the command line" in out.output
