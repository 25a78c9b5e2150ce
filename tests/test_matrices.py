"""The optimizers built for matrices step a matrix problem in its own shape, through simulate."""

import pytest
import torch

import optviz
from optviz.core.optimizers.registry import get_optimizer


def test_muon_shampoo_soap_and_kron_step_each_start_as_its_matrix():
    pytest.importorskip("pytorch_optimizer", reason="the test extra pytorch-optimizer")
    fn = optviz.get_function("low_rank", dim="5x4r2")  # the point: [U; V], a 9 x 2 matrix
    chosen = {"muon": 0.05, "pytorch_optimizer:Shampoo": 0.05, "pytorch_optimizer:SOAP": 0.05,
              "pytorch_optimizer:Kron": 0.01}
    result = optviz.simulate(fn, {name: get_optimizer(name, allow_import=True, lr=lr) for name, lr in chosen.items()},
                             steps=10)
    assert set(result.modes.values()) == {"per-start (9 x 2 matrix)"}
    first, last = result.losses[0], result.losses[-1]
    assert (last < first).all() and torch.isfinite(result.positions).all()
    muon = result.path("muon")
    step, grad = (muon[1] - muon[0]).reshape(9, 2), fn.grad(muon[0]).reshape(9, 2)
    spread = lambda m: (lambda s: (s[0] / s[-1]).item())(torch.linalg.svdvals(m))  # noqa: E731
    # Muon's update is the gradient orthogonalised: its singular values near one another, not 3 apart
    assert spread(grad) > 2.5 and spread(step) < 1.6


def test_built_ins_step_a_matrix_problem_as_a_flat_batch_and_reach_its_optimum():
    fn = optviz.get_function("least_squares", dim="3x4")
    result = optviz.simulate(fn, {"adam": optviz.adam(lr=0.1), "sgd": optviz.sgd(lr=0.5)}, steps=300)
    assert set(result.modes.values()) == {"batched"}
    optimum = torch.tensor(fn.minima[0].point, dtype=result.positions.dtype)
    assert torch.linalg.vector_norm(result.path("adam")[-1] - optimum) < 1e-3
    assert result.losses[-1].max() < result.losses[0].min() / 100
