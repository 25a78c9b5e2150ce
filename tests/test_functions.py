"""The function zoo: values, analytic gradients against autograd, minima, bounds."""

import pytest
import torch

import optviz
from optviz import FUNCTIONS, get_function

NAMES = list(FUNCTIONS)
TWO_D = {
    "sphere", "quadratic", "ill_conditioned", "rosenbrock", "beale", "booth", "himmelblau",
    "rastrigin", "ackley", "goldstein_price", "matyas", "three_hump_camel", "levi13",
    "styblinski_tang", "saddle", "monkey_saddle",
}


def test_the_zoo_has_what_the_notes_need():
    assert TWO_D <= set(FUNCTIONS)
    assert {name for name, fn in FUNCTIONS.items() if fn.dim == 2} >= TWO_D
    assert FUNCTIONS["parabola"].dim == 1 and FUNCTIONS["xcos"].dim == 1


@pytest.mark.parametrize("name", NAMES)
def test_gradient_matches_autograd(name):
    fn = get_function(name)
    g = torch.Generator().manual_seed(1)
    lo, hi = torch.tensor(fn.bounds, dtype=torch.float64).T
    points = (lo + (hi - lo) * torch.rand(64, fn.dim, generator=g, dtype=torch.float64)).requires_grad_(True)
    (auto,) = torch.autograd.grad(fn(points).sum(), points)
    torch.testing.assert_close(fn.grad(points.detach()), auto, rtol=1e-10, atol=1e-9)


@pytest.mark.parametrize("name", NAMES)
def test_minima_have_the_stated_value_and_zero_gradient(name):
    fn = get_function(name)
    for minimum in fn.minima:
        point = torch.tensor(minimum.point, dtype=torch.float64)
        assert fn(point).item() == pytest.approx(minimum.value, abs=1e-9)
        assert torch.linalg.vector_norm(fn.grad(point)).item() < 1e-6
        for (lo, hi), x in zip(fn.bounds, minimum.point):
            assert lo <= x <= hi


@pytest.mark.parametrize("name", NAMES)
def test_each_function_is_described_and_starts_inside_its_bounds(name):
    fn = get_function(name)
    assert fn.name == name and fn.description and fn.formula
    assert len(fn.start) == fn.dim
    for (lo, hi), x in zip(fn.bounds, fn.start):
        assert lo < hi and lo <= x <= hi


# xcos is unbounded below: its minima are the local ones inside the bounds (tested below)
@pytest.mark.parametrize("name", [n for n in NAMES if FUNCTIONS[n].minima and n != "xcos"])
def test_global_minima_are_lowest_on_a_grid(name):
    fn = get_function(name)
    axes = [torch.linspace(lo, hi, 201, dtype=torch.float64) for lo, hi in fn.bounds]
    grid = torch.stack(torch.meshgrid(*axes, indexing="ij"), dim=-1)
    lowest = min(m.value for m in fn.minima)
    assert fn(grid).min().item() >= lowest - 1e-9


def test_xcos_minima_are_local_minima():
    fn = get_function("xcos")
    for minimum in fn.minima:
        x = torch.tensor([minimum.point[0]], dtype=torch.float64)
        for dx in (-1e-3, 1e-3):
            assert fn(x + dx).item() > minimum.value


def test_known_values():
    f = lambda name, *p: get_function(name)(torch.tensor(p, dtype=torch.float64)).item()
    assert f("rosenbrock", 0.0, 0.0) == 1.0
    assert f("quadratic", -5.0, -2.0) == 33.0
    assert f("ill_conditioned", -5.0, -2.0) == pytest.approx(10.5)
    assert f("parabola", 10.0) == 100.0
    assert f("goldstein_price", 0.0, -1.0) == pytest.approx(3.0)
    assert f("saddle", 1.0, 2.0) == -3.0


def test_functions_work_on_any_batch_shape():
    fn = get_function("beale")
    points = torch.zeros(3, 4, 2)
    assert fn(points).shape == (3, 4) and fn.grad(points).shape == (3, 4, 2)


def test_unknown_name_suggests_the_closest():
    with pytest.raises(ValueError, match="unknown function 'rosenbrok'; did you mean 'rosenbrock'"):
        get_function("rosenbrok")
    with pytest.raises(TypeError, match="a function is a name, a formula, a TestFunction or a callable"):
        get_function(3)
    assert get_function(FUNCTIONS["booth"]) is FUNCTIONS["booth"]
    assert isinstance(FUNCTIONS["booth"], optviz.TestFunction)


def test_bad_points_are_refused():
    fn = get_function("rosenbrock")
    with pytest.raises(ValueError, match=r"rosenbrock takes points of shape \(..., 2\), got \(3,\)"):
        fn(torch.zeros(3))
    with pytest.raises(TypeError, match="floating-point points, got torch.int64"):
        fn.grad(torch.zeros(2, dtype=torch.int64))
    with pytest.raises(TypeError, match="takes a torch.Tensor of points, got list"):
        fn([1.0, 2.0])
