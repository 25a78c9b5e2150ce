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


@pytest.mark.parametrize("fn", [get_function(n) for n in NAMES] + [get_function("rosenbrock", dim=5),
                                                                   get_function("ill_conditioned", dim=4)],
                         ids=lambda fn: fn.name)
def test_the_hessian_from_the_written_gradient_is_autograds_of_the_value(fn):
    from torch.func import hessian, vmap
    assert fn.hessian_fn is not None  # every function with a written-out gradient has it
    lo, hi = torch.tensor(fn.bounds, dtype=torch.float64).T
    points = lo + (hi - lo) * torch.rand(4, 8, fn.dim, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    found = fn.hessian(points)
    assert found.shape == (4, 8, fn.dim, fn.dim)
    torch.testing.assert_close(found.reshape(-1, fn.dim, fn.dim), vmap(hessian(fn.value_fn))(points.reshape(-1, fn.dim)),
                               rtol=1e-10, atol=1e-9)


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


# xcos is unbounded below: its minima are the local ones inside the bounds (tested below); the
# matrix problems are sums of squares at 0 on their minimum, in too many dimensions for a grid
@pytest.mark.parametrize("name", [n for n in NAMES if FUNCTIONS[n].minima and n != "xcos" and not FUNCTIONS[n].matrix])
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


MATRIX_SIZES = [("low_rank", "5x3r2", (8, 2)), ("matrix_sensing", "3x4r1", (3, 4)), ("least_squares", "2x5", (2, 5))]


@pytest.mark.parametrize("name,size,shape", MATRIX_SIZES)
def test_a_matrix_problem_at_any_size_has_its_gradient_and_its_optimum(name, size, shape):
    fn = get_function(name, dim=size)
    assert fn.matrix == shape and fn.dim == shape[0] * shape[1] and fn.point_shape == shape
    assert fn.name == f"{name}_{size}" and fn.recipe == {"name": name, "dim": size}
    points = torch.randn(3, 4, fn.dim, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    points.requires_grad_(True)
    (auto,) = torch.autograd.grad(fn(points).sum(), points)
    torch.testing.assert_close(fn.grad(points.detach()), auto, rtol=1e-10, atol=1e-12)
    optimum = torch.tensor(fn.minima[0].point, dtype=torch.float64)
    assert fn.minima[0].value == 0 and fn(optimum).item() < 1e-25 and fn.grad(optimum).abs().max() < 1e-13
    assert fn(points.detach()).min() > 0  # a sum of squares, zero only at the data's own answer
    again = get_function(name, dim=size)  # made again from the seed: the same problem
    assert torch.equal(again(points.detach()), fn(points.detach())) and again.start == fn.start


def test_low_rank_is_the_factors_fit_to_a_target_with_halving_singular_values():
    fn = get_function("low_rank", dim="6x4r3")
    optimum = torch.tensor(fn.minima[0].point, dtype=torch.float64).reshape(10, 3)
    u, v = optimum[:6], optimum[6:]
    target = u @ v.T
    assert torch.linalg.matrix_rank(target) == 3
    torch.testing.assert_close(torch.linalg.svdvals(target)[:3], torch.tensor([24**0.5, 24**0.5 / 2, 24**0.5 / 4],
                                                                               dtype=torch.float64))
    start = torch.tensor(fn.start, dtype=torch.float64)
    su, sv = start.reshape(10, 3)[:6], start.reshape(10, 3)[6:]
    assert fn(start).item() == pytest.approx(((su @ sv.T - target) ** 2).sum().item() / (2 * 24), rel=1e-12)
    assert start.abs().max() < 0.05  # a small start, as a network's weights start


def test_a_spectrum_is_the_iterate_matrixs_singular_values():
    low_rank, sensing = get_function("low_rank", dim="6x4r3"), get_function("matrix_sensing")
    points = torch.randn(5, 2, low_rank.dim, generator=torch.Generator().manual_seed(3), dtype=torch.float64)
    stacked = points.reshape(5, 2, 10, 3)
    w = stacked[..., :6, :] @ stacked[..., 6:, :].mT  # W = UVᵀ: its 3 singular values, not W's 4
    torch.testing.assert_close(low_rank.spectrum(points), torch.linalg.svdvals(w)[..., :3])
    x = torch.randn(7, sensing.dim, dtype=torch.float64)
    torch.testing.assert_close(sensing.spectrum(x), torch.linalg.svdvals(x.reshape(7, 6, 6)))
    optimum = torch.tensor(sensing.minima[0].point, dtype=torch.float64)
    assert sensing.spectrum(optimum)[:2].tolist() == pytest.approx([6.0, 3.0])  # X*: rank 2, √36 halving
    assert sensing.spectrum(optimum)[2:].abs().max() < 1e-12
    with pytest.raises(ValueError, match="rosenbrock is no matrix problem"):
        get_function("rosenbrock").spectrum(torch.zeros(2))


@pytest.mark.parametrize("name,size,message", [
    ("low_rank", "0x8", "low_rank needs at least 1 row and 1 column, got '0x8'"),
    ("low_rank", "4x8r5", "low_rank: rank 5 must be from 1 to the smaller side, 4, in '4x8r5'"),
    ("matrix_sensing", 8, "matrix_sensing takes dim as ROWSxCOLS like '8x8', or ROWSxCOLSrRANK like '8x8r2', got 8"),
    ("least_squares", "4x8r2", "least_squares takes dim as OUTxIN like '4x8' (no rank), got '4x8r2'"),
    ("matrix_sensing", "60x60", "matrix_sensing 60x60: 25,923,600 numbers of data, more than the 10,000,000 allowed"),
    ("low_rank", "60000x50000r1", "low_rank 60000x50000r1: a point of 110,000 numbers, more than the 100,000"),
])
def test_a_matrix_problem_of_impossible_size_is_refused_in_one_line(name, size, message):
    with pytest.raises(ValueError) as refused:
        get_function(name, dim=size)
    assert str(refused.value).startswith(message) and "\n" not in str(refused.value)
