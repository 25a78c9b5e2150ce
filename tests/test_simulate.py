"""Batched simulation: equal to per-start torch.optim runs, divergence marked, bad input refused."""

import pytest
import torch

import optviz
from conftest import assert_bit_equal, starts_for, torch_path

SIX = {
    "sgd": optviz.sgd(lr=0.4),
    "momentum": optviz.momentum(lr=0.6, momentum=0.5),
    "adagrad": optviz.adagrad(lr=2.0),
    "rmsprop": optviz.rmsprop(lr=0.4, alpha=0.9),
    "adam": optviz.adam(lr=0.16),
    "nesterov": optviz.nesterov(lr=0.1),
}
TORCH_KWARGS = {
    "sgd": ("sgd", dict(lr=0.4)),
    "momentum": ("sgd", dict(lr=0.6, momentum=0.5)),
    "adagrad": ("adagrad", dict(lr=2.0)),
    "rmsprop": ("rmsprop", dict(lr=0.4, alpha=0.9)),
    "adam": ("adam", dict(lr=0.16)),
    "nesterov": ("sgd", dict(lr=0.1, momentum=0.9, nesterov=True)),
}


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_batched_run_equals_separate_torch_optim_runs(dtype):
    fn = optviz.get_function("ill_conditioned")
    starts = starts_for(fn, n=5, dtype=dtype)
    result = optviz.simulate(fn, SIX, starts, steps=200, dtype=dtype)
    assert result.positions.shape == (201, 6 * 5, 2)
    for name, (torch_name, kwargs) in TORCH_KWARGS.items():
        for s in range(5):
            expected = torch_path(torch_name, kwargs, fn, starts[s], 200)
            assert_bit_equal(result.path(name, s), expected)


def test_losses_and_gradient_norms_follow_the_positions():
    fn = optviz.get_function("rosenbrock")
    result = optviz.simulate(fn, {"adam": optviz.adam(lr=0.05)}, steps=500)
    assert torch.equal(result.losses, fn(result.positions))
    assert torch.equal(result.grad_norms, torch.linalg.vector_norm(fn.grad(result.positions), dim=-1))
    assert result.losses[0, 0].item() == fn(torch.tensor(fn.start, dtype=torch.float64)).item()
    assert result.losses[0, 0].item() == 12.5 and result.losses[-1, 0].item() < 0.2


def test_seeds_quadratic_runs():
    """SEEDS.md section 2: SGD lr 0.4 crawls along x1, lr 0.6 diverges along x2."""
    fn = optviz.get_function("ill_conditioned")
    result = optviz.simulate(fn, {"slow": optviz.sgd(lr=0.4), "wild": optviz.sgd(lr=0.6)}, steps=20)
    slow, wild = result.path("slow"), result.path("wild")
    # x1 shrinks by (1 - 0.4 * 0.2) per step, x2 by (1 - 0.4 * 4) in absolute value
    assert slow[-1, 0].item() == pytest.approx(-5 * 0.92**20)
    assert abs(wild[18, 1].item()) == pytest.approx(2 * 1.4**18)
    # 2 * 1.4^19 = 1195 is past 100 spans (1100) of the bounds' centre: diverged at step 19
    assert result.diverged_at.tolist() == [-1, 19]
    assert abs(wild[19, 1].item()) == pytest.approx(2 * 1.4**19) and torch.isnan(wild[20]).all()


def test_divergence_is_marked_and_spoils_nothing_else():
    fn = optviz.get_function("parabola")
    result = optviz.simulate(
        fn, {"good": optviz.sgd(lr=0.2), "bad": optviz.sgd(lr=50.0)}, starts=[[10.0], [1.0]], steps=30
    )
    good, bad = result.index("good", 1), result.index("bad", 0)
    assert result.diverged_at[result.index("good", 0)] == -1 and result.diverged_at[good] == -1
    # x <- (1 - 2 lr) x = -99 x: beyond 100 spans (2400) of the centre at step 2
    assert result.diverged_at[bad].item() == 2
    assert result.positions[2, bad, 0].item() == 10 * 99.0**2
    assert torch.isnan(result.positions[3:, bad]).all() and torch.isnan(result.losses[3:, bad]).all()
    assert torch.isfinite(result.positions[:, good]).all()
    alone = optviz.simulate(fn, {"good": optviz.sgd(lr=0.2)}, starts=[[10.0], [1.0]], steps=30)
    assert torch.equal(alone.positions, result.positions[:, :2])


def test_non_finite_step_is_recorded_as_nan():
    fn = optviz.get_function("sphere")
    result = optviz.simulate(fn, optviz.sgd(lr=1e300), starts=[1.0, 1.0], steps=5)
    # step 1 lands at -2e300 (finite, escaped: kept); step 2 overflows (no data)
    assert result.diverged_at.tolist() == [1]
    assert result.positions[1, 0].tolist() == [-2e300, -2e300]
    assert torch.isnan(result.positions[2:]).all()


def test_tensor_hyperparameter_sweep_in_simulate():
    fn = optviz.get_function("quadratic")
    lrs = torch.tensor([[0.05], [0.2], [0.6]], dtype=torch.float64)
    result = optviz.simulate(fn, {"sgd": optviz.sgd(lr=lrs)}, starts=[list(fn.start)] * 3, steps=20)
    for i, lr in enumerate([0.05, 0.2, 0.6]):
        single = optviz.simulate(fn, {"sgd": optviz.sgd(lr=lr)}, steps=20)
        assert_bit_equal(result.path("sgd", i), single.path("sgd"))


def test_result_helpers():
    fn = optviz.get_function("quadratic")
    result = optviz.simulate(fn, [optviz.sgd(lr=0.1), optviz.sgd(lr=0.1), optviz.adam(lr=0.5)], steps=40)
    assert list(result.optimizers) == ["SGD lr=0.1", "SGD lr=0.1 #2", "Adam lr=0.5"]
    assert result.names == list(result.optimizers) and result.steps == 40 and result.n_starts == 1
    reached = result.steps_to(1e-3)
    gap = result.gap()[:, 0]
    k = reached[0].item()
    assert gap[k] <= 1e-3 < gap[k - 1]
    assert optviz.simulate(fn, optviz.sgd(lr=1e-4), steps=3).steps_to(1e-3).tolist() == [-1]
    assert "Result(quadratic" in repr(result)
    with pytest.raises(KeyError, match="no optimizer 'rmsprop'"):
        result.path("rmsprop")
    with pytest.raises(IndexError, match="start 3 out of range"):
        result.path("Adam lr=0.5", 3)


def test_default_start_and_zero_steps():
    fn = optviz.get_function("beale")
    result = optviz.simulate("beale", optviz.adam(), steps=0)
    assert result.positions.shape == (1, 1, 2)
    assert result.positions[0, 0].tolist() == list(fn.start)


@pytest.mark.parametrize(
    "kwargs,error,message",
    [
        (dict(function="nope"), ValueError, "unknown function 'nope'"),
        (dict(optimizers={}), ValueError, "at least one optimizer"),
        (dict(optimizers={"x": 3}), TypeError, "optimizer 'x': an optimizer must be an optviz optimizer"),
        (dict(optimizers=3.5), TypeError, "optimizers must be an optimizer, a list of them"),
        (dict(starts=[1.0, 2.0, 3.0]), ValueError, r"starts must have shape \(2,\) or \(n, 2\) for quadratic, got \(3,\)"),
        (dict(starts=[[1.0, float("nan")]]), ValueError, "starts must be finite"),
        (dict(starts="here"), TypeError, "starts must be numbers"),
        (dict(steps=-1), ValueError, "steps must be from 0 to 1,000,000, got -1"),
        (dict(steps=10**9), ValueError, "steps must be from 0 to 1,000,000, got 1,000,000,000"),
        (dict(starts=torch.tensor([True, False])), TypeError, "starts must be real numbers, got torch.bool"),
        (dict(starts=[[1 + 2j, 0]]), TypeError, "starts must be real numbers, got torch.complex"),
        (dict(steps=2.5), TypeError, "steps must be an int"),
        (dict(steps=900_000, starts=torch.zeros(5000, 2)), ValueError,
         r"900000 steps x 5000 paths in 2D needs about 147.5 GiB at its peak, more than the .* allowed: use fewer steps"),
        (dict(dtype=torch.int32), TypeError, "dtype must be torch.float32 or torch.float64"),
    ],
)
def test_bad_input(kwargs, error, message):
    args = dict(function="quadratic", optimizers={"sgd": optviz.sgd()}, starts=None, steps=5) | kwargs
    with pytest.raises(error, match=message):
        optviz.simulate(args.pop("function"), args.pop("optimizers"), **args)


def test_gradient_norms_and_divergence_found_in_slabs_match_a_step_by_step_look():
    # the loop keeps the norms of the gradients it computes and looks for divergence every
    # CHECK_EVERY steps; both must be what a look at every recorded point gives
    # on the saddle, paths leave along y at rates set by their start and lr: steps 32 to 71
    starts = torch.tensor([[0.5, 1e-1], [0.5, 1e-2], [0.5, 1e-3], [0.5, 0.0]], dtype=torch.float64)
    result = optviz.simulate("saddle", {"a": optviz.sgd(lr=0.1), "b": optviz.sgd(lr=0.15)}, starts, 90)
    fn = result.function
    expected = torch.linalg.vector_norm(fn.grad(result.positions), dim=-1)
    assert torch.equal(result.grad_norms.isnan(), expected.isnan())
    assert torch.equal(result.grad_norms.nan_to_num(), expected.nan_to_num())
    bounds = torch.tensor(fn.bounds, dtype=torch.float64)
    reach = 100 * float((bounds[:, 1] - bounds[:, 0]).max())
    for b in range(result.positions.shape[1]):
        far = ~((result.positions[:, b] - bounds.mean(dim=1)).abs() <= reach).all(dim=-1)
        first = int(far.nonzero()[0]) if far.any() else -1
        assert result.diverged_at[b].item() == first
    assert result.diverged_at.tolist() == [46, 59, 71, -1, 32, 41, 50, -1]


def test_a_path_at_the_edge_of_the_reach_is_judged_by_the_exact_test():
    # a path a hair inside the reach never diverged; one a hair outside did, at the first step
    # looked at (the start itself is not judged)
    fn = optviz.get_function("x**2 + y**2", bounds=((-1, 1), (-1, 1)))
    reach = 100 * 2.0
    edge = torch.tensor([[reach * (1 - 1e-9), 0.0], [reach * (1 + 1e-9), 0.0]], dtype=torch.float64)
    result = optviz.simulate(fn, optviz.sgd(lr=0.0), edge, 20)
    assert result.diverged_at.tolist() == [-1, 1]
