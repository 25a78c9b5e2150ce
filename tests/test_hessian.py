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


def trained_checkpoints(steps=3):
    """A short full-batch SGD run of the tiny MLP: its state after every step."""
    model = tiny_mlp()
    opt = torch.optim.SGD(model.parameters(), lr=0.5)
    saved = [{k: v.clone() for k, v in model.state_dict().items()}]
    for _ in range(steps):
        opt.zero_grad()
        loss_fn(model(X), Y).backward()
        opt.step()
        saved.append({k: v.clone() for k, v in model.state_dict().items()})
    return saved


def test_sharpness_along_checkpoints_is_the_top_eigenvalue_at_every_kth_and_the_last():
    saved = trained_checkpoints()
    found = landscape.sharpness_along(tiny_mlp(), loss_fn, (X, Y), saved, every=2, k=2)
    assert found.steps.tolist() == [0, 2, 3] and found.values.shape == (3, 2) and found.converged
    for step, values in zip(found.steps.tolist(), found.values):
        model = tiny_mlp()
        model.load_state_dict(saved[step])
        assert torch.equal(values, top_eigenvalues(model, loss_fn, (X, Y), k=2).values)
    assert torch.equal(found.top, found.values[:, 0]) and len(set(found.top.tolist())) == 3  # it does move


def test_sharpness_along_a_trained_landscape_path_its_chart_and_table():
    from optviz.render import landscape_sharpness

    study = landscape.landscape(tiny_mlp(), loss_fn, (X, Y), optimizers=[("sgd", {"lr": 0.5})], epochs=2, batch=4,
                                resolution=3, sharpness_every=3, directions="hessian", span=0.1)
    found = study.sharpness["SGD lr=0.5"]
    assert found.steps.tolist() == [0, 3, 6]  # 3 steps an epoch, 2 epochs: 7 points
    first = top_eigenvalues(tiny_mlp(), loss_fn, (X, Y)).values[0]
    assert found.top[0] == first
    # the path's end is the slice's centre (Lanczos for two eigenvalues stops later: the last bits differ)
    assert found.top[-1].item() == pytest.approx(study.basis.eigenvalues[0], rel=1e-12)
    assert study.summary().splitlines()[-1] == (f"SGD lr=0.5: sharpness (top Hessian eigenvalue) {first:.4g} at "
                                                f"step 0, {found.top[-1]:.4g} at step 6")
    assert study.sharpness_table().splitlines()[:2] == ["path,step,eigenvalue_1", f"SGD lr=0.5,0,{float(first)!r}"]
    ax = landscape_sharpness(study)
    drawn = {line.get_gid(): line.get_xydata() for line in ax.lines}
    assert drawn["path:0"].tolist() == [[s, v] for s, v in zip(found.steps.tolist(), found.top.tolist())]
    assert drawn["limit:SGD lr=0.5"][:, 1].tolist() == [4.0, 4.0]  # 2/lr
    assert ax.texts[0].get_text() == "2/lr = 4" and ax.get_xlabel() == "training step"


def test_hessian_directions_are_the_top_eigenvectors_and_the_grid_curves_by_their_eigenvalues():
    model = tiny_mlp()
    top = top_eigenvalues(model, loss_fn, (X, Y), k=2)
    h = 1e-3
    study = landscape.landscape(model, loss_fn, (X, Y), directions="hessian", resolution=3, span=h)
    assert study.directions == "hessian" and study.basis.kind == "hessian"
    assert torch.equal(study.basis.vectors, top.flat)
    assert study.basis.eigenvalues == tuple(top.values.tolist())
    assert study.axis_labels == (f"Hessian eigenvector 1 (λ = {top.values[0]:.3g})",
                                 f"Hessian eigenvector 2 (λ = {top.values[1]:.3g})")
    L = study.losses  # L[i, j] at betas[i], alphas[j]
    along = [(L[1, 2] - 2 * L[1, 1] + L[1, 0]) / h**2, (L[2, 1] - 2 * L[1, 1] + L[0, 1]) / h**2]
    assert torch.allclose(torch.stack(along), top.values, rtol=1e-5, atol=0)
    mixed = (L[2, 2] - L[2, 0] - L[0, 2] + L[0, 0]) / (4 * h**2)  # eigenvectors: no cross term
    assert abs(mixed.item()) < 1e-5 * top.values[0].item()


def test_hessian_directions_restricted_by_params_are_the_blocks_eigenvectors():
    model = tiny_mlp()
    block = top_eigenvalues(model, loss_fn, (X, Y), k=2, params="2.*")
    assert block.names == ("2.weight", "2.bias") and block.flat.shape == (2, 5)
    study = landscape.landscape(model, loss_fn, (X, Y), directions="hessian", params="2.*", resolution=3, span=0.1)
    assert torch.equal(study.basis.vectors[:, :16], torch.zeros(2, 16, dtype=torch.float64))  # the first layer fixed
    assert torch.equal(study.basis.vectors[:, 16:], block.flat)
    dense = dense_hessian(model)[16:, 16:]  # the block of the last layer's 5 parameters
    assert torch.allclose(block.values, torch.linalg.eigvalsh(dense).flip(0)[:2], rtol=1e-6, atol=0)


SPEC = '''
import torch
from torch import nn
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 4), nn.Tanh(), nn.Linear(4, 1)).double()
_g = torch.Generator().manual_seed(1)
data = (torch.randn(12, 3, generator=_g, dtype=torch.float64), torch.randn(12, 1, generator=_g, dtype=torch.float64))
loss = {loss}
'''


def test_the_landscape_command_with_hessian_directions_and_sharpness(tmp_path):
    from click.testing import CliRunner
    from optviz.analyses.models.weights import Directions
    from optviz.interface.cli import main

    spec = tmp_path / "spec.py"
    spec.write_text(SPEC.format(loss="nn.functional.mse_loss"))
    out = CliRunner().invoke(main, ["landscape", str(spec), "sgd:lr=0.5", "--epochs", "1", "--directions", "hessian",
                                    "--resolution", "3", "--span", "0.1", "--sharpness", str(tmp_path / "s.png"),
                                    "--data", str(tmp_path / "d.json"), "--png", str(tmp_path / "l.png"),
                                    "--save-directions", str(tmp_path / "h.pt"), "--size", "480x270"])
    assert out.exit_code == 0, out.output
    assert out.output.startswith("hessian directions\n")
    first = top_eigenvalues(tiny_mlp(), loss_fn, (X, Y)).values[0].item()
    rows = (tmp_path / "d-sharpness.csv").read_text().splitlines()
    assert rows[:2] == ["path,step,eigenvalue_1", f"SGD lr=0.5,0,{first!r}"] and rows[2].startswith("SGD lr=0.5,1,")
    assert (tmp_path / "s.png").stat().st_size > 1000 and (tmp_path / "l.png").stat().st_size > 1000
    saved = Directions.load(tmp_path / "h.pt")
    assert saved.kind == "hessian" and len(saved.eigenvalues) == 2 and saved.eigenvalues[0] > saved.eigenvalues[1]
    bad = spec.with_name("bad.py")
    bad.write_text(SPEC.format(loss="lambda out, y: torch.cdist(out, y).mean()"))
    for args, message in (([str(bad), "--directions", "hessian"], "the loss is not twice differentiable: the "
                                                                   "derivative for '_cdist_backward' is not implemented."),
                          ([str(spec), "--directions", "hessian", "--params", "2.bias"],
                           "directions='hessian' needs two eigenvectors, and the parameters it moves have 1 number"),
                          ([str(spec), "--directions", "hessian", "--params", "fc.*"], "params='fc.*' matches no "
                                                                                          "parameter"),
                          ([str(spec), "--sharpness", str(tmp_path / "s.txt")], "--sharpness")):
        refused = CliRunner().invoke(main, ["landscape", *args, "--resolution", "3", "--png", str(tmp_path / "x.png")])
        assert refused.exit_code == 2 and message in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 or "Usage" in refused.stderr
    assert not (tmp_path / "x.png").exists()


@pytest.mark.parametrize("call,message", [
    (lambda: top_eigenvalues(tiny_mlp(), loss_fn, (X, Y), params="fc.*"),
     "params='fc.*' matches no parameter; the model's are 0.weight, 0.bias, 2.weight, 2.bias"),
    (lambda: top_eigenvalues(tiny_mlp(), loss_fn, (X, Y), k=6, params="2.*"),
     "k=6 is more than the model's 5 trainable parameters"),
    (lambda: landscape.sharpness_along(tiny_mlp(), loss_fn, (X, Y), [{}, {}]),
     "checkpoint 0: the model's '0.weight' (4, 3) is missing"),
    (lambda: landscape.sharpness_along(tiny_mlp(), loss_fn, (X, Y), trained_checkpoints(1), every=0),
     "every must be a whole number >= 1, got 0"),
    (lambda: landscape.landscape(tiny_mlp(), loss_fn, (X, Y), sharpness_every=0),
     "sharpness_every must be a whole number >= 1, got 0"),
    (lambda: landscape.landscape(tiny_mlp(), loss_fn, (X, Y), directions="hessian", params="2.bias"),
     "directions='hessian' needs two eigenvectors, and the parameters it moves have 1 number; select more with params="),
    (lambda: landscape.landscape(tiny_mlp(), lambda out, y: torch.cdist(out, y).mean(), (X, Y), sharpness_every=1),
     "the loss is not twice differentiable: the derivative for '_cdist_backward' is not implemented."),
])
def test_bad_hessian_requests_of_the_landscape_are_one_line(call, message):
    with pytest.raises(ValueError) as raised:
        call()
    assert str(raised.value).startswith(message) and "\n" not in str(raised.value)
