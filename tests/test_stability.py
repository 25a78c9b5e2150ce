"""The edge of stability, reproduced: on the bundled scenario's run, full-batch gradient descent's
sharpness rises to 2/lr and stays near it while the loss keeps falling, and Adam's preconditioned
sharpness does the same against 38/lr; the per-step estimate agrees with the dense Hessian."""

import math

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.colors import to_hex
from torch import nn
from torch.func import functional_call

import bundled_runs
from groups import BUNDLED_RUNS
from optviz import experiments, landscape, optim, render
from optviz.analyses.models import stability
from optviz.core.files import read_table

NAME = "30-edge-of-stability"


def study():
    return bundled_runs.outcome(NAME)  # run once for this file, test_looks and test_captions


def late_ratios(run):
    return np.array(run.last()) / run.threshold


@BUNDLED_RUNS
@pytest.mark.parametrize("optimizer", ["sgd", "adam"])
def test_the_sharpness_rises_to_its_limit_and_stays_near_it_while_the_loss_falls(optimizer):
    runs = study().family(optimizer)
    assert runs[0].sharpness[0] < 0.8 * runs[0].threshold  # the smallest lr's limit is far above the start
    assert [run.lr for run in runs] == ([0.28, 0.32, 0.36] if optimizer == "sgd" else [0.02, 0.03, 0.05])
    for run in runs:
        limit = 2 / run.lr if optimizer == "sgd" else 38 / run.lr  # (2 + 2 beta1) / ((1 - beta1) lr), beta1 = 0.9
        assert run.threshold == pytest.approx(limit, rel=1e-12)
        assert run.sharpness[0] < run.threshold  # it starts under the limit, and rises to it
        crossed = run.crossing()
        assert crossed is not None and crossed < 0.5 * (len(run.loss) - 1)
        ratios = late_ratios(run)
        assert len(ratios) >= 10  # the last quarter: 75 steps, measured every 7
        assert abs(ratios.mean() - 1) <= 0.15, (run.name, ratios.mean())  # the mean within 15% of the limit
        assert 0.75 <= ratios.min() and ratios.max() <= 1.25, (run.name, ratios)  # and never far from it
        assert run.loss[-1] < run.loss[crossed]  # the loss keeps falling past the crossing,
        assert run.rises(crossed) >= 10  # but not monotonically
        assert all(math.isfinite(v) for v in run.loss)


CHECKED = (7, 42, 49, 56)  # the second measurement, and around gradient descent's crossing (step 49)


@pytest.fixture(scope="module")
def checked_runs():
    """Short runs of gradient descent and Adam past their crossings, with the dense Hessian
    (and Adam's preconditioner) at some of the steps the sharpness was measured."""
    data = stability.stability_data()
    found = {}
    for kind, lr in (("sgd", 0.28), ("adam", 0.05)):
        model = stability.stability_model()
        opt = optim.SGD(model.parameters(), lr=lr) if kind == "sgd" else optim.Adam(model.parameters(), lr=lr)
        rows = []
        for step in stability.sharpness_steps(model, opt, nn.functional.mse_loss, data, steps=56, every=7):
            if step.step in CHECKED:
                hessian = dense_hessian(model, data)
                if kind == "adam":
                    scale = stability.preconditioner(opt, list(model.parameters())).rsqrt()
                    hessian = scale[:, None] * hessian * scale[None, :]
                rows.append((step, torch.linalg.eigvalsh(hessian)[-1].item()))
        found[kind] = (model, rows)
    return found


def dense_hessian(model, data):
    x, y = data
    names = [n for n, _ in model.named_parameters()]
    shapes = [p.shape for _, p in model.named_parameters()]
    flat = torch.cat([p.detach().reshape(-1) for p in model.parameters()])

    def loss(w):
        parts = dict(zip(names, (part.view(shape) for part, shape in
                                 zip(torch.split(w, [s.numel() for s in shapes]), shapes))))
        return nn.functional.mse_loss(functional_call(model, parts, (x,)), y)

    return torch.func.hessian(loss)(flat)


@pytest.mark.parametrize("kind", ["sgd", "adam"])
def test_the_warm_started_estimate_is_the_dense_hessian_s_top_eigenvalue(checked_runs, kind):
    model, rows = checked_runs[kind]
    assert [s.step for s, _ in rows] == list(CHECKED)
    for step, top in rows:
        assert step.sharpness == pytest.approx(top, rel=1e-6), step.step
    if kind == "sgd":  # it went past the limit, where the top direction turns: the estimate followed it
        assert rows[-1][1] > stability.stable_limit("sgd", 0.28)


def test_the_estimate_agrees_with_lanczos_to_convergence(checked_runs):
    model, rows = checked_runs["sgd"]  # the model as it was at the last step measured
    full = landscape.top_eigenvalues(model, nn.functional.mse_loss, stability.stability_data(), k=1)
    assert full.converged and rows[-1][0].sharpness == pytest.approx(full.values[0].item(), rel=1e-6)


def test_measuring_does_not_change_the_training():
    """The losses are those of plain torch.optim.SGD on the same model and data."""
    data = stability.stability_data()
    model = stability.stability_model()
    measured = [s.loss for s in stability.sharpness_steps(model, optim.SGD(model.parameters(), lr=0.32),
                                                          nn.functional.mse_loss, data, steps=20, every=3)]
    model = stability.stability_model()
    opt = torch.optim.SGD(model.parameters(), lr=0.32, foreach=False)
    plain = []
    for step in range(21):
        opt.zero_grad()
        loss = nn.functional.mse_loss(model(data[0]), data[1])
        plain.append(loss.item())
        if step < 20:
            loss.backward()
            opt.step()
    assert measured == plain


def test_a_diverging_run_ends_at_its_first_infinite_loss():
    model = stability.stability_model()
    steps = list(stability.sharpness_steps(model, optim.SGD(model.parameters(), lr=10.0), nn.functional.mse_loss,
                                           stability.stability_data(), steps=400, every=50))
    assert len(steps) < 401 and not math.isfinite(steps[-1].loss) and steps[-1].sharpness is None
    assert all(math.isfinite(s.loss) for s in steps[:-1])


@BUNDLED_RUNS
@pytest.mark.parametrize("fmt", ["csv", "json", "npz"])
def test_save_reads_back(tmp_path, fmt):
    found = study()
    columns, meta, _ = read_table(found.save(tmp_path / f"eos.{fmt}"))
    assert meta["kind"] == "optviz.EdgeOfStability" and meta["numbers"]["GD lr 0.28"]["threshold"] == 2 / 0.28
    for run in found.runs:
        mine = columns["run"] == run.name
        assert columns["loss"][mine].tolist() == list(run.loss)
        assert columns["step"][mine].tolist() == list(range(len(run.loss)))
        measured = ~np.isnan(columns["sharpness"][mine].astype(float))
        assert columns["step"][mine][measured].tolist() == list(run.measured)
        assert columns["sharpness"][mine][measured].astype(float).tolist() == list(run.sharpness)
        assert set(columns["threshold"][mine].tolist()) == {run.threshold}


@BUNDLED_RUNS
@pytest.mark.parametrize("optimizer,formula", [("sgd", "2/lr"), ("adam", "38/lr")])
def test_the_chart_draws_each_run_with_its_limit_in_its_colour(optimizer, formula):
    found = study()
    fig = render.stability(found, optimizer=optimizer)
    loss_ax, sharp_ax = fig.axes
    runs = found.family(optimizer)
    assert loss_ax.get_yscale() == "log" and [t.get_text() for t in loss_ax.get_legend().get_texts()] == [
        f"lr {run.lr:g}" for run in runs]
    labels = {t.get_gid(): t for t in sharp_ax.texts}
    for run in runs:
        (loss_line,) = [line for line in loss_ax.lines if line.get_gid() == f"loss:{run.name}"]
        (curve,) = [line for line in sharp_ax.lines if line.get_gid() == f"sharpness:{run.name}"]
        (limit,) = [line for line in sharp_ax.lines if line.get_gid() == f"limit:{run.name}"]
        assert loss_line.get_ydata().tolist() == list(run.loss)
        assert curve.get_xdata().tolist() == list(run.measured) and curve.get_ydata().tolist() == list(run.sharpness)
        assert set(limit.get_ydata()) == {run.threshold} and limit.get_linestyle() == "--"
        assert to_hex(limit.get_color()) == to_hex(curve.get_color()) == to_hex(loss_line.get_color())
        label = labels[f"limit-label:{run.name}"]
        value = f"{run.threshold:.0f}" if optimizer == "adam" else f"{run.threshold:.3g}"
        assert label.get_text().replace("\n", " ") == f"{formula} = {value}"
        assert ("\n" in label.get_text()) == (optimizer == "adam")  # two lines where the limits leave room
        assert to_hex(label.get_color()) == to_hex(curve.get_color())
    assert len({to_hex(line.get_color()) for line in loss_ax.lines}) == len(runs)
    plt.close(fig)


@BUNDLED_RUNS
def test_the_chart_refuses_what_it_cannot_draw():
    with pytest.raises(ValueError, match="optimizer must be 'sgd' or 'adam', got 'rmsprop'"):
        render.stability(study(), optimizer="rmsprop")
    with pytest.raises(TypeError, match="stability: study must be an EdgeOfStability"):
        render.stability([1, 2])
    only_gd = experiments.EdgeOfStability("t", study().family("sgd"))
    with pytest.raises(ValueError, match="this study has no Adam runs"):
        render.stability_sharpness(only_gd, optimizer="adam")


def test_bad_arguments_are_refused_before_any_training():
    with pytest.raises(ValueError, match="every must be a whole number >= 1, got 0"):
        experiments.edge_of_stability(every=0)
    with pytest.raises(ValueError, match="adam_lrs: every learning rate must be a number above 0 .*, got 0"):
        experiments.edge_of_stability(adam_lrs=(0.02, 0))
    with pytest.raises(ValueError, match="give at least one learning rate in gd_lrs or adam_lrs"):
        experiments.edge_of_stability(gd_lrs=(), adam_lrs=[])
    with pytest.raises(experiments.SettingError, match="gd_lrs: give at least one learning rate"):
        experiments.check_settings("edge_of_stability", {"gd_lrs": (), "adam_lrs": ()})
