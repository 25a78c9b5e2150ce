"""Penalties: values and (sub)gradients, weight decay = the L2 penalty, L1 sparsity."""

from pathlib import Path

import pytest
import torch

import optviz
from optviz.analyses.penalties import (
    Penalty,
    elastic_net,
    l1,
    l2,
    penalise,
    penalised,
    penalised_minimum,
    regularization_paths,
)
from optviz.documents.scenario import load

W = torch.tensor([[1.0, -2.0], [0.0, 0.5]], dtype=torch.float64)


def test_values_and_gradients():
    assert l2(0.5).value(W).tolist() == [0.25 * 5, 0.25 * 0.25]
    assert l1(2.0).value(W).tolist() == [6.0, 1.0]
    assert torch.equal(l1(2.0).grad(W), torch.tensor([[2.0, -2.0], [0.0, 2.0]], dtype=torch.float64))
    net = elastic_net(1.0, 3.0)
    assert torch.allclose(net.grad(W), torch.sign(W) + 3.0 * W)
    assert net.label == "L1 λ=1 + L2 λ=3" and Penalty().label == "no penalty"


def test_penalised_function_matches_autograd_away_from_zero():
    fn = penalise(optviz.get_function("rosenbrock"), elastic_net(0.3, 0.7))
    p = torch.tensor([[0.5, -1.5], [-1.0, 2.0]], dtype=torch.float64, requires_grad=True)
    (auto,) = torch.autograd.grad(fn(p).sum(), p)
    assert torch.allclose(fn.grad(p.detach()), auto)
    assert fn.minima == ()


def test_sgd_weight_decay_walks_the_l2_penalised_path():
    """torch puts weight_decay on the optimizer because it is the L2 penalty's gradient."""
    fn = optviz.get_function("rosenbrock")
    decayed = optviz.simulate(fn, {"wd": optviz.momentum(lr=1e-3, weight_decay=0.1)}, steps=600)
    on_penalty = optviz.simulate(penalise(fn, l2(0.1)), {"pen": optviz.momentum(lr=1e-3)}, steps=600)
    via_optimizer = optviz.simulate(fn, {"pen": penalised(optviz.momentum(lr=1e-3), l2(0.1))}, steps=600)
    # equal to rounding: weight decay is one fused multiply-add, the penalty a separate sum
    torch.testing.assert_close(decayed.positions, on_penalty.positions, rtol=1e-10, atol=1e-12)
    assert torch.equal(on_penalty.positions, via_optimizer.positions)
    assert (decayed.positions[-1] - decayed.positions[0]).abs().max() > 1.0  # it went somewhere


def test_l1_lands_on_an_axis_and_l2_does_not():
    fn = optviz.get_function("offset_ellipse")
    paths = regularization_paths(fn, lambdas=[0.0, 1.0, 5.0, 20.0], highlight=5.0)
    l1_at, l2_at = paths.at(5.0)
    assert l1_at[0].item() == 0.0 and l1_at[1].item() > 0.1  # exactly on the y axis
    assert (l2_at.abs() > 0.1).all()
    assert torch.equal(paths.l1_path[-1], torch.zeros(2, dtype=torch.float64))
    assert torch.allclose(paths.l2_path[0], torch.tensor([2.0, 1.0], dtype=torch.float64), atol=1e-8)


def test_penalised_minimum_is_stationary():
    fn = optviz.get_function("offset_ellipse")
    (w,) = penalised_minimum(fn, [l2(2.0)])
    assert torch.linalg.vector_norm(fn.grad(w) + 2.0 * w).item() < 1e-8


def test_weight_decay_labels_and_scenarios():
    opt = penalised(optviz.sgd(lr=0.1), l2(0.5))
    assert opt.label == "SGD lr=0.1 penalty=L2 λ=0.5"
    scenario = load(Path(__file__).resolve().parent.parent / "scenarios" / "19-weight-decay.toml")
    assert len(scenario.optimizers) == 5 and {o.kind for o in scenario.optimizers.values()} == {"adam", "adamw", "momentum"}


@pytest.mark.parametrize("bad", [-1.0, float("nan"), "big", True])
def test_bad_lambdas(bad):
    with pytest.raises(ValueError, match="penalty l2 must be a number >= 0"):
        l2(bad)
