"""The Hessian of a real model, never formed, checked against the dense one: Lanczos's top
eigenpairs, Hutchinson's trace within its stated error, stochastic Lanczos quadrature's
moments, and the requests it refuses."""

import pytest
import torch
from torch import nn
from torch.func import functional_call

from optviz import landscape
from optviz.analyses.models.hessian import Hessian, HessianError, hessian_trace, top_eigenvalues


def tiny_mlp():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()  # 21 parameters


generator = torch.Generator().manual_seed(1)
X = torch.randn(12, 3, generator=generator, dtype=torch.float64)
Y = torch.randn(12, 1, generator=generator, dtype=torch.float64)
loss_fn = nn.functional.mse_loss


def dense_hessian(model, examples=len(X)):
    """The Hessian of the mean loss over the first examples, by autograd on the flat vector."""
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def loss(vector):
        parts, at = {}, 0
        for name, shape in zip(names, shapes):
            parts[name] = vector[at:at + shape.numel()].reshape(shape)
            at += shape.numel()
        return loss_fn(functional_call(model, parts, (X[:examples],)), Y[:examples])

    return torch.autograd.functional.hessian(loss, flat)


@pytest.fixture(scope="module")
def exact():
    values, vectors = torch.linalg.eigh(dense_hessian(tiny_mlp()))
    return values.flip(0), vectors.flip(1).T  # descending, one eigenvector a row


def test_products_equal_the_dense_hessian_over_uneven_batches():
    model = tiny_mlp()
    v = torch.randn(21, generator=torch.Generator().manual_seed(2), dtype=torch.float64)
    product = Hessian(model, loss_fn, (X, Y), batch_size=5)(v)  # batches of 5, 5 and 2
    assert torch.allclose(product, dense_hessian(model) @ v, rtol=0, atol=1e-12)


def test_top_three_eigenpairs_match_the_dense_hessian(exact):
    values, vectors = exact
    top = landscape.top_eigenvalues(tiny_mlp(), loss_fn, (X, Y), k=3)
    assert top.values.tolist() == sorted(top.values.tolist(), reverse=True)
    assert torch.allclose(top.values, values[:3], rtol=1e-6, atol=0)
    overlaps = (top.flat @ vectors[:3].T).abs()  # up to sign
    assert torch.allclose(overlaps, torch.eye(3, dtype=torch.float64), atol=1e-6)
    first = top.vectors[0]
    assert list(first) == ["0.weight", "0.bias", "2.weight", "2.bias"]
    assert first["0.weight"].shape == (4, 3) and first["2.bias"].shape == (1,)
    assert torch.equal(first["0.weight"].reshape(-1), top.flat[0, :12])
    assert top.converged and top.products <= 21


def test_a_run_cut_short_says_it_has_not_converged():
    top = top_eigenvalues(tiny_mlp(), loss_fn, (X, Y), k=2, max_steps=3)
    assert top.products == 3 and not top.converged


def test_a_subset_of_the_data_is_the_first_examples():
    model = tiny_mlp()
    top = top_eigenvalues(model, loss_fn, (X, Y), k=1, examples=5)
    assert top.values[0].item() == pytest.approx(torch.linalg.eigvalsh(dense_hessian(model, 5))[-1].item(), rel=1e-6)


def test_hutchinson_trace_is_within_three_standard_errors_and_seeded():
    exact_trace = torch.trace(dense_hessian(tiny_mlp())).item()
    found = landscape.hessian_trace(tiny_mlp(), loss_fn, (X, Y), probes=30, seed=3)
    assert found.standard_error > 0 and len(found.samples) == 30
    assert abs(found.estimate - exact_trace) <= 3 * found.standard_error
    again = hessian_trace(tiny_mlp(), loss_fn, (X, Y), probes=30, seed=3)
    assert again.estimate == found.estimate


def test_quadrature_over_the_whole_krylov_space_gives_each_probes_exact_moments():
    """With as many steps as parameters, sum(weights * nodes**2) is z'H^2 z / z'z exactly."""
    dense = dense_hessian(tiny_mlp())
    density = landscape.spectral_density(tiny_mlp(), loss_fn, (X, Y), steps=21, probes=2, seed=4)
    probes = torch.Generator().manual_seed(4)
    for nodes, weights in zip(density.nodes, density.weights):
        z = torch.randint(0, 2, (21,), generator=probes).double() * 2 - 1
        assert weights.sum().item() == pytest.approx(1.0, abs=1e-12)
        assert (weights * nodes ** 2).sum().item() == pytest.approx((z @ dense @ dense @ z / (z @ z)).item(), rel=1e-9)
    grid = torch.linspace(-5, 15, 2001, dtype=torch.float64)
    assert torch.trapezoid(density.at(grid, 0.2), grid).item() == pytest.approx(1.0, abs=1e-3)


def test_bad_requests_are_one_line_value_errors():
    with pytest.raises(ValueError, match=r"^k=22 is more than the model's 21 trainable parameters$"):
        top_eigenvalues(tiny_mlp(), loss_fn, (X, Y), k=22)
    frozen = tiny_mlp().requires_grad_(False)
    with pytest.raises(HessianError, match=r"^the model has no trainable parameters"):
        top_eigenvalues(frozen, loss_fn, (X, Y))
    with pytest.raises(HessianError, match=r"^the loss does not depend on the parameters"):
        hessian_trace(tiny_mlp(), lambda out, y: loss_fn(out.detach(), y), (X, Y), probes=2)

    class OnceDifferentiable(torch.autograd.Function):
        @staticmethod
        def forward(ctx, x):
            ctx.save_for_backward(x)
            return x ** 2

        @staticmethod
        @torch.autograd.function.once_differentiable
        def backward(ctx, grad):
            return 2 * ctx.saved_tensors[0] * grad

    distance = lambda out, y: torch.cdist(out, y).mean()  # noqa: E731 - torch has no second derivative for it
    with pytest.raises(HessianError, match=r"^the loss is not twice differentiable: the derivative for "
                                           r"'_cdist_backward' is not implemented\.$") as raised:
        top_eigenvalues(tiny_mlp(), distance, (X, Y))
    assert "\n" not in str(raised.value)
    cut = lambda out, y: OnceDifferentiable.apply(out - y).mean()  # noqa: E731 - its backward leaves the graph
    with pytest.raises(HessianError, match=r"^the loss's gradient does not depend on the parameters: .*once_diff"):
        top_eigenvalues(nn.Linear(3, 1).double(), cut, (X, Y))  # linear: all its curvature is the loss's


def test_a_parameter_whose_gradient_is_constant_has_a_zero_block_not_a_refusal():
    """A loss linear in the output: the last bias's gradient is the constant 3."""
    model = tiny_mlp()
    shifted = lambda out, y: 3 * out.mean()  # noqa: E731

    def dense(vector):
        names = [n for n, _ in model.named_parameters()]
        shapes = [p.shape for _, p in model.named_parameters()]
        parts = dict(zip(names, torch.split(vector, [s.numel() for s in shapes])))
        return shifted(functional_call(model, {n: parts[n].reshape(s) for n, s in zip(names, shapes)}, (X,)), Y)

    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])
    v = torch.randn(21, generator=torch.Generator().manual_seed(5), dtype=torch.float64)
    expected = torch.autograd.functional.hessian(dense, flat) @ v
    assert torch.allclose(Hessian(model, shifted, (X, Y))(v), expected, rtol=0, atol=1e-12)
