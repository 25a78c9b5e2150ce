"""The curvature under a run: Hessian eigenvalues, the sharpness per step, each SGD-family
optimizer's stable limit, the sharpness chart and compare --sharpness."""

import math

import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import optviz
from optviz.analyses.curvature import (edge_ratios, hessian_eigenvalues, preconditioned_limit, sharpness,
                                      stability_thresholds, stable_limit)
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
    assert "Invalid value for --sharpness" in out.output and ".png, .svg, .pdf, .csv, .json, .npz" in out.output
    assert not (tmp_path / "s.txt").exists()


def test_compare_sharpness_as_data_holds_each_points_sharpness_limit_and_edge_ratio(tmp_path):
    from optviz.core.files import read_table

    out = CliRunner().invoke(main, ["compare", "ill_conditioned", "sgd:lr=0.45", "adam:lr=0.3", "--start", "0,1",
                                    "--steps", "3", "--sharpness", str(tmp_path / "s.csv")])
    assert out.exit_code == 0, out.output
    columns, meta, _ = read_table(tmp_path / "s.csv")
    assert meta["kind"] == "optviz.Sharpness" and len(columns["step"]) == 8
    sgd = columns["optimizer"] == "SGD lr=0.45"
    assert columns["sharpness"][sgd].tolist() == [4.0] * 4 and set(columns["matrix"][sgd]) == {"H"}
    assert columns["limit"][sgd].tolist() == pytest.approx([2 / 0.45] * 4)
    assert columns["edge_ratio"][sgd][:3].tolist() == pytest.approx([0.9] * 3) and math.isnan(columns["edge_ratio"][sgd][3])
    adam = ~sgd
    assert set(columns["matrix"][adam]) == {"P⁻¹H"} and columns["limit"][adam].tolist() == pytest.approx([38 / 0.3] * 4)
    assert math.isnan(columns["sharpness"][adam][0]) and columns["sharpness"][adam][1] > 0


def test_the_closed_form_for_two_by_two_matrices_is_eigvalsh_within_rounding():
    from optviz.analyses.curvature import _eigenvalues_2x2

    gen = torch.Generator().manual_seed(0)
    m = torch.randn(500, 2, 2, generator=gen, dtype=torch.float64) * 10.0 ** torch.randint(-3, 4, (500, 1, 1), generator=gen)
    m = (m + m.mT) / 2
    exact = torch.linalg.eigvalsh(m)
    assert torch.allclose(_eigenvalues_2x2(m), exact, rtol=1e-13, atol=1e-13 * exact.abs().max().item())


def test_an_adaptive_methods_limit_is_its_momentums_bound_on_p_inverse_h():
    assert preconditioned_limit(optviz.adam(lr=0.1)) == pytest.approx(380.0)  # (2 + 2·0.9)/(0.1·0.1): 38/lr
    assert preconditioned_limit(optviz.adamw(lr=0.1, betas=(0.5, 0.999))) == pytest.approx(60.0)
    assert preconditioned_limit(optviz.rmsprop(lr=0.1, momentum=0.5)) == pytest.approx(30.0)
    assert preconditioned_limit(optviz.adagrad(lr=0.1)) == pytest.approx(20.0)
    assert preconditioned_limit(optviz.adam(lr=0.1), lr=1.0) == pytest.approx(38.0)
    assert preconditioned_limit(optviz.sgd(lr=0.1)) is None and stable_limit(optviz.adam(lr=0.1)) is None


def test_the_preconditioned_sharpness_is_the_top_eigenvalue_of_p_inverse_h_with_adams_own_state():
    run = optviz.simulate("ill_conditioned", [optviz.adam(lr=0.5), optviz.sgd(lr=0.4)], starts=[[-5.0, -2.0]],
                          steps=12, state=True)
    v = run.state["Adam lr=0.5"]["exp_avg_sq"][:, 0].to(torch.float64)  # (steps + 1, 2)
    t = torch.arange(13, dtype=torch.float64)[:, None]
    inverse = 1 / ((v / (1 - 0.999**t)).sqrt() + 1e-8)  # Adam's P⁻¹ after each step
    expected = torch.maximum(0.2 * inverse[:, 0], 4.0 * inverse[:, 1])  # H = diag(0.2, 4)
    top = sharpness(run, preconditioned=True)
    assert top[0, 0].isnan() and top[1:, 0].tolist() == pytest.approx(expected[1:].tolist(), rel=1e-12)
    assert top[:, 1].tolist() == pytest.approx([4.0] * 13)  # SGD: H's own
    limits = stability_thresholds(run, preconditioned=True)
    assert limits["Adam lr=0.5"].tolist() == pytest.approx([76.0] * 13) and limits["SGD lr=0.4"][0] == pytest.approx(5)


def test_each_steps_edge_ratio_is_its_curvature_over_the_stable_limit():
    run = optviz.simulate("ill_conditioned", [optviz.sgd(lr=0.45), optviz.sgd(lr=0.55), optviz.momentum(lr=0.1),
                                              optviz.adam(lr=0.2), optviz.lion(lr=0.1)],
                          starts=[[0.0, 1.0]], steps=6, state=True)  # every step along y, of curvature 4
    ratios = edge_ratios(run)
    assert ratios.shape == (6, 5)
    assert ratios[:, 0].tolist() == pytest.approx([0.9] * 6) and ratios[:, 1].tolist() == pytest.approx([1.1] * 6)
    assert ratios[:, 2].tolist() == pytest.approx([4 / 38] * 6)  # heavy ball: (2 + 2·0.9)/lr
    v = run.state["Adam lr=0.2"]["exp_avg_sq"][1:, 0, 1].to(torch.float64)  # the state each step used
    t = torch.arange(1, 7, dtype=torch.float64)
    inverse = 1 / ((v / (1 - 0.999**t)).sqrt() + 1e-8)
    assert ratios[:, 3].tolist() == pytest.approx((4 * inverse / (38 / 0.2)).tolist(), rel=1e-12)
    assert ratios[:, 4].isnan().all()  # Lion: no known limit


def test_a_point_whose_hessian_is_not_finite_is_crossed_on_the_axis_and_the_rest_drawn():
    run = optviz.simulate("abs(x)**1.5 + y**2", [optviz.sgd(lr=0.1)], starts=[[0.0, 1.0], [1.0, 1.0]], steps=5)
    ax = plot(run, "sharpness")
    crosses = {line.get_gid(): line for line in ax.lines if str(line.get_gid()).startswith("undefined")}
    assert list(crosses) == ["undefined:0"] and crosses["undefined:0"].get_xdata().tolist() == list(range(6))
    path = next(line for line in ax.lines if line.get_gid() == "path:1")
    assert all(math.isfinite(y) for y in path.get_ydata())  # the other start's points are drawn
    assert "Hessian not finite there" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_stability_colours_each_step_by_its_ratio_on_the_paths_picture():
    from optviz.render.edges import EDGE_COLOURS, EDGE_NORM
    from optviz.render.glyphs import check_state

    run = optviz.simulate("ill_conditioned", [optviz.sgd(lr=0.4), optviz.sgd(lr=0.6)], starts=[[0.0, 1.0]], steps=4)
    fig = optviz.render.picture(run, state="stability")
    dots = {c.get_gid(): c for ax in fig.axes for c in ax.collections if str(c.get_gid()).startswith("edge:")}
    assert set(dots) == {"edge:0", "edge:1"}
    for gid, ratio in (("edge:0", 0.8), ("edge:1", 1.2)):  # lr·4/2
        assert dots[gid].get_array().tolist() == pytest.approx([ratio] * 4)  # a dot at each step's start
        assert {tuple(c) for c in dots[gid].to_rgba(dots[gid].get_array())} == {EDGE_COLOURS(EDGE_NORM(ratio))}
    assert EDGE_NORM(0.95) < EDGE_NORM(1.05)  # the colour changes at the edge
    assert "dots: curvature ÷ stable limit; red past the edge" in [t.get_text() for t in fig.texts]
    assert check_state("stability", moving=True) is None  # a GIF's moving heads draw none
    curve = optviz.simulate("parabola", [optviz.sgd(lr=1.05)], starts=[[3.0]], steps=3)  # f = x²: λ = 2
    ax = plot(curve, state="stability")
    dots = next(c for c in ax.collections if c.get_gid() == "edge:0")
    assert dots.get_array().tolist() == pytest.approx([1.05] * 3)
    assert dots.get_offsets().ravel().tolist() == pytest.approx([3.0, 9.0, -3.3, 10.89, 3.63, 13.1769])  # on the curve
