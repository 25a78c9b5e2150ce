"""The curvature under a run: Hessian eigenvalues, the sharpness per step, each SGD-family
optimizer's stable limit, the sharpness chart and compare --sharpness."""

import math

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import optviz
from optviz.analyses.curvature import hessian_eigenvalues, sharpness, stability_thresholds, stable_limit
from optviz.core.functions.zoo import get_function
from optviz.interface.cli import main
from optviz.render import plot


def points(*rows):
    return torch.tensor(rows, dtype=torch.float64)


def test_the_ill_conditioned_quadratics_eigenvalues_are_its_diagonal_everywhere():
    values = hessian_eigenvalues(get_function("ill_conditioned"), points([1.0, 2.0], [-3.0, 0.5], [0.0, 0.0]))
    torch.testing.assert_close(values, points([0.2, 4.0], [0.2, 4.0], [0.2, 4.0]))  # 0.1x² + 2y²: ascending


def test_rosenbrocks_eigenvalues_at_its_minimum_are_those_of_the_analytic_hessian():
    analytic = torch.linalg.eigvalsh(points([802.0, -400.0], [-400.0, 200.0]))
    values = hessian_eigenvalues(get_function("rosenbrock"), points([1.0, 1.0]))
    torch.testing.assert_close(values[0], analytic)
    assert values[0].tolist() == pytest.approx([501 - math.sqrt(501**2 - 400), 501 + math.sqrt(501**2 - 400)])


def test_eigenvalues_keep_the_batch_shape_and_are_nan_where_the_point_or_the_hessian_is_not_finite():
    sphere = get_function("sphere", dim=3)
    batch = torch.ones(4, 5, 3, dtype=torch.float64)
    batch[1, 2] = float("nan")
    values = hessian_eigenvalues(sphere, batch)
    assert values.shape == (4, 5, 3)
    assert values[1, 2].isnan().all() and values.isnan().sum() == 3
    assert values[0, 0].tolist() == pytest.approx([2.0, 2.0, 2.0])
    cone = get_function("sqrt(x**2 + y**2)")  # no second derivative at its tip
    values = hessian_eigenvalues(cone, points([0.0, 0.0], [2.0, 0.0]))
    assert values[0].isnan().all()
    assert values[1].tolist() == pytest.approx([0.0, 0.5])  # along the radius 0, across it 1/r


def test_sharpness_is_the_top_eigenvalue_per_step_and_nan_after_divergence():
    run = optviz.simulate("ill_conditioned", [optviz.sgd(lr=0.3), optviz.sgd(lr=0.6)], starts=[[1.0, 1.0]], steps=40)
    top = sharpness(run)
    assert top.shape == (41, 2)
    assert run.diverged_at.tolist() == [-1, 21]  # lr = 0.6 > 2/4
    assert top[:, 0].tolist() == pytest.approx([4.0] * 41)
    assert top[:21, 1].tolist() == pytest.approx([4.0] * 21) and top[22:, 1].isnan().all()


@pytest.mark.parametrize("make", [optviz.sgd, optviz.momentum, optviz.nesterov,
                                  lambda lr: optviz.sgd(lr=lr, momentum=0.5, dampening=0.5, weight_decay=0.3)],
                         ids=["sgd", "momentum", "nesterov", "damped-decayed"])
def test_the_stable_limit_is_where_the_quadratic_starts_to_diverge(make):
    # the sharpness 4 of 0.1x² + 2y² is the limit at the lr solving limit(lr) = 4: just under it
    # the run converges, just over it it diverges
    decay = float(make(lr=1.0).hyperparams["weight_decay"])
    edge = (stable_limit(make(lr=1.0)) + decay) / (4.0 + decay)
    assert stable_limit(make(lr=edge)) == pytest.approx(4.0)
    under, over = (optviz.simulate("ill_conditioned", [make(lr=edge * f)], starts=[[1.0, 1.0]], steps=400)
                   for f in (0.95, 1.05))
    assert under.diverged_at.item() == -1 and under.positions[-1].abs().max() < 1e-6
    assert over.diverged_at.item() > 0


def test_thresholds_are_2_over_lr_for_sgd_and_2_plus_2mu_over_lr_for_heavy_ball_and_none_for_adam():
    run = optviz.simulate("ill_conditioned", [optviz.sgd(lr=0.4), optviz.momentum(lr=0.1, momentum=0.9),
                                              optviz.adam(lr=0.1)], steps=5)
    limits = stability_thresholds(run)
    assert list(limits) == ["SGD lr=0.4", "Momentum lr=0.1"]
    assert limits["SGD lr=0.4"].tolist() == pytest.approx([5.0] * 6)
    assert limits["Momentum lr=0.1"].tolist() == pytest.approx([38.0] * 6)


def test_the_chart_draws_each_path_and_its_optimizers_2_over_lr_dashed_in_its_colour():
    run = optviz.simulate("ill_conditioned", [optviz.sgd(lr=0.4), optviz.adam(lr=0.1)], steps=8)
    ax = plot(run, "sharpness")
    lines = {line.get_gid(): line for line in ax.lines}
    assert set(lines) == {"path:0", "path:1", "limit:SGD lr=0.4"}
    limit = lines["limit:SGD lr=0.4"]
    assert limit.get_ydata().tolist() == pytest.approx([2 / 0.4] * 9)
    assert limit.get_color() == lines["path:0"].get_color() and limit.get_linestyle() == "--"
    assert lines["path:1"].get_ydata().tolist() == pytest.approx([4.0] * 9)
    assert "2/lr = 5" in [text.get_text() for text in ax.texts]  # the formula and its value, lr 0.4


def test_compare_sharpness_writes_a_picture_and_refuses_a_wrong_suffix_in_one_line(tmp_path):
    out = CliRunner().invoke(main, ["compare", "rosenbrock", "sgd:lr=0.001", "--steps", "10",
                                    "--sharpness", str(tmp_path / "s.png")])
    assert out.exit_code == 0, out.output
    assert Image.open(tmp_path / "s.png").size == (1920, 1080)
    out = CliRunner().invoke(main, ["compare", "rosenbrock", "sgd", "--sharpness", str(tmp_path / "s.txt")])
    assert out.exit_code == 2 and len(out.output.strip().splitlines()) == 1
    assert "Invalid value for --sharpness" in out.output and ".png, .svg, .pdf" in out.output
    assert not (tmp_path / "s.txt").exists()


def test_the_closed_form_for_two_by_two_matrices_is_eigvalsh_within_rounding():
    from optviz.analyses.curvature import _eigenvalues_2x2

    gen = torch.Generator().manual_seed(0)
    m = torch.randn(500, 2, 2, generator=gen, dtype=torch.float64) * 10.0 ** torch.randint(-3, 4, (500, 1, 1), generator=gen)
    m = (m + m.mT) / 2
    exact = torch.linalg.eigvalsh(m)
    assert torch.allclose(_eigenvalues_2x2(m), exact, rtol=1e-13, atol=1e-13 * exact.abs().max().item())
