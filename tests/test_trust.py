"""The trust report every landscape carries: its centre against the model's own loss, the
slice's lowest point, the grid's resolution against the slice's curvature, a second seed's
slice, and the report printed, saved and written under the picture. Tiny models, small grids."""

import json
import math

import matplotlib.pyplot as plt
import pytest
import torch
from click.testing import CliRunner
from torch import nn
from torch.func import functional_call

import optviz
from looks import outside_figure, text_collisions
from optviz.analyses.models.trust import MIN_STEPS, Agreement, Trust
from optviz.analyses.models.weights import Directions, Layout
from optviz.core.simulation.result import Result
from optviz.interface.cli import main
from optviz.render import picture

landscape = optviz.landscape.landscape


def small_net():
    """A net whose eval mode matters (BatchNorm with running statistics of its own, dropout)."""
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 8), nn.BatchNorm1d(8), nn.Tanh(), nn.Dropout(0.5), nn.Linear(8, 1))
    x = torch.randn(40, 3)
    model.train()(x)  # running statistics that are not the defaults
    return model, (x, x.sum(1, keepdim=True))


def linear(shift=(0.0, 0.0), sharpness=None):
    """y = w.x on the four unit inputs, in float64, its slice spanned by the first two weights
    (unit directions): the loss is lowest where the weights are w0 + shift[0] e1 + shift[1] e2,
    squared error by default, else 1 - exp(-error^2 / sharpness^2) (a basin that narrow)."""
    model = nn.Linear(4, 1, bias=False).double()
    with torch.no_grad():
        model.weight.copy_(torch.tensor([[0.3, -0.2, 0.5, 0.1]]))
    x = torch.eye(4, dtype=torch.float64)
    best = model.weight.detach()[0] + torch.tensor([*shift, 0.0, 0.0], dtype=torch.float64)
    y = (x @ best)[:, None]
    if sharpness is None:
        loss = nn.functional.mse_loss
    else:
        def loss(out, target):
            return (1 - torch.exp(-((out - target) ** 2) / sharpness**2)).mean()
    directions = Directions(torch.eye(4, dtype=torch.float64)[:2], "random", ("weight",), ((1, 4),))
    return model, loss, (x, y), directions


def test_the_centre_is_the_model_s_own_loss_and_the_curvature_is_the_slice_s_hessian():
    model, data = small_net()
    study = landscape(model, nn.functional.mse_loss, data, resolution=7)
    trust = study.trust
    plain = copy_eval(model)
    with torch.no_grad():
        own = nn.functional.mse_loss(plain(data[0]), data[1]).item()
    assert trust.own_loss == pytest.approx(own, rel=1e-6, abs=1e-6)
    assert trust.centre_loss == pytest.approx(trust.own_loss, rel=1e-6, abs=1e-6) and trust.centre_agrees
    # the centre is a grid point here (-1..1 in 7): the grid's own value there
    assert study.losses[3, 3].item() == pytest.approx(trust.centre_loss, rel=1e-6)
    # D'HD from two Hessian-vector products is the slice's own Hessian in (a, b), by autograd
    layout = Layout.of(model)
    centre, _ = layout.flatten(model.state_dict())
    vectors = study.basis.vectors

    def on_slice(ab):
        weights = layout.split(centre + ab[0] * vectors[0] + ab[1] * vectors[1])
        return nn.functional.mse_loss(functional_call(plain, weights, (data[0],)), data[1])

    exact = torch.autograd.functional.hessian(on_slice, torch.zeros(2))
    assert torch.allclose(torch.tensor(trust.curvature, dtype=torch.float32), exact, rtol=1e-4, atol=1e-5)
    assert trust.sharpest == pytest.approx(max(torch.linalg.eigvalsh(exact.double()).tolist(), key=abs), rel=1e-4)
    assert trust.heights == pytest.approx((study.losses.max() - study.losses.min()).item(), rel=1e-6)
    assert trust.off_plane == {}  # the model alone: no path to be off the plane
    assert trust.check is None and trust.missing == {}


def copy_eval(model):
    import copy

    return copy.deepcopy(model).eval()


def test_a_centre_that_disagrees_with_the_model_s_loss_says_so():
    trust = Trust(own_loss=1.0, centre_loss=1.0001, lowest=(0.0, 0.0), lowest_loss=1.0001, lowest_at_edge=False,
                  off_plane={}, spacing=(0.1, 0.1), heights=0.5, curvature=None,
                  missing={"curvature": "no second derivative"})
    assert trust.centre_gap == pytest.approx(1e-4) and not trust.centre_agrees
    assert trust.lines()[0] == ("centre: the slice's value 1.0001, the model's own loss 1 (difference 0.0001): "
                                "they DISAGREE")
    assert "curvature unknown: no second derivative" in trust.lines()[2]
    assert trust.resolved is None and trust.steps is None and trust.sharpest is None
    assert trust.note() == "centre ≠ the model's loss (1) · centre is the slice's lowest point"


def test_a_loss_without_a_second_derivative_leaves_the_curvature_unknown_and_the_slice_drawn():
    # the squared error's value, its gradient cut from the weights by a detach
    def cut(out, target):
        return ((out - target) * (out - target).detach()).mean()

    model, _, data, directions = linear(shift=(0.5, -0.25))
    study = landscape(model, cut, data, directions=directions, resolution=9, span=1)
    trust = study.trust
    assert trust.curvature is None and trust.resolved is None and torch.isfinite(study.losses).all()
    assert trust.missing["curvature"].startswith("the loss's gradient does not depend on the parameters")
    assert trust.lines()[-1].startswith("resolution: spacing 0.25 x 0.25; curvature unknown: the loss's gradient")
    assert trust.lowest == (0.5, -0.25) and trust.centre_agrees


def test_an_off_centre_minimum_is_reported_with_its_distance():
    model, loss, data, directions = linear(shift=(0.5, -0.25))
    study = landscape(model, loss, data, directions=directions, resolution=9, span=1, check=True)
    trust = study.trust
    assert trust.lowest == (0.5, -0.25) and trust.lowest_loss == pytest.approx(0.0, abs=1e-15)
    assert trust.distance == pytest.approx(math.hypot(0.5, 0.25), rel=1e-12) and not trust.lowest_at_edge
    assert trust.centre_loss == pytest.approx((0.5**2 + 0.25**2) / 4, rel=1e-12) and not trust.centre_is_lowest
    assert trust.lines()[1] == ("lowest point: (0.5, -0.25), 0.559 direction units from the centre, loss 0 "
                                "(0.0781 below the centre)")
    assert trust.note().startswith("centre = the model's loss (0.07812) · lowest point 0.56 units off the centre (0)")
    # a quadratic: its Hessian on the slice is 2/4 I; the picture's range is at the corner
    # (-1, 1), and the quadratic climbs it in sqrt(2 R / (0.5 h^2)) steps of h = 0.25
    assert sum(trust.curvature, ()) == pytest.approx((0.5, 0.0, 0.0, 0.5), abs=1e-12)
    assert trust.heights == pytest.approx((1.5**2 + 1.25**2) / 4, rel=1e-12)
    assert trust.steps == pytest.approx(math.sqrt(2 * trust.heights / (0.5 * 0.25**2)), rel=1e-9) and trust.resolved
    # saved directions are no seed's: the check does not apply, and says why
    assert trust.check is None and "loaded from a file" in trust.missing["check"]
    centred = landscape(*linear()[:3], directions=linear()[3], resolution=9, span=1).trust
    assert centred.centre_is_lowest and centred.distance == 0.0
    assert centred.lines()[1] == "lowest point: the centre is the lowest point of the slice"


@pytest.mark.parametrize("resolution,resolved", [(7, False), (11, True)])
def test_a_grid_too_coarse_for_the_curvature_is_flagged(resolution, resolved):
    # a basin of width 0.5 in a plateau: the loss is (2 - exp(-a^2 / 0.25) - exp(-b^2 / 0.25)) / 4,
    # its curvature at the centre 1 / (2 0.5^2) = 2 along both axes, its range on -1..1 the
    # corners' (1 - exp(-4)) / 2; the quadratic climbs it in sqrt(2 R / (2 h^2)) steps
    model, loss, data, directions = linear(sharpness=0.5)
    trust = landscape(model, loss, data, directions=directions, resolution=resolution, span=1).trust
    h = 2 / (resolution - 1)
    assert trust.spacing == pytest.approx((h, h), rel=1e-6)
    assert sum(trust.curvature, ()) == pytest.approx((2.0, 0.0, 0.0, 2.0), rel=1e-9, abs=1e-12)
    assert trust.heights == pytest.approx((1 - math.exp(-4)) / 2, rel=1e-12)
    assert trust.steps == pytest.approx(math.sqrt(2 * trust.heights / (2 * trust.spacing[0] ** 2)), rel=1e-9)
    assert trust.steps == pytest.approx({7: 2.1018, 11: 3.5030}[resolution], abs=1e-4)
    assert trust.resolved is resolved and (trust.steps >= MIN_STEPS) is resolved
    assert ("TOO COARSE" in trust.lines()[-1]) is not resolved
    assert trust.note().endswith("grid resolves the curvature" if resolved else "grid too coarse for the curvature")


def test_check_compares_a_second_seed_s_slice_and_pca_says_it_does_not_apply():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(3, 6), nn.Tanh(), nn.Linear(6, 1))
    data = (torch.randn(20, 3), torch.randn(20, 1))
    study = landscape(model, nn.functional.mse_loss, data, resolution=7, check=True)
    check = study.trust.check
    # the second slice is the slice seed 2 draws, on the same grid
    other = landscape(model, nn.functional.mse_loss, data, resolution=7, seed=2)
    assert check.seed == 2 and torch.equal(check.losses, other.losses)
    a, b = torch.sort(study.losses.double().flatten()).values, torch.sort(other.losses.double().flatten()).values
    spread = a[-1] - a[0]
    assert check.gap == pytest.approx(((a - b).abs() / spread).mean().item(), rel=1e-12)
    assert check.widest == pytest.approx(((a - b).abs() / spread).max().item(), rel=1e-12)
    assert check.agrees == (check.gap <= 0.1)
    # a path's PCA directions are drawn by no seed
    moved = {k: v + 0.05 for k, v in model.state_dict().items() if v.is_floating_point()}
    path = [model.state_dict(), {**model.state_dict(), **moved}, model.state_dict()]
    pca = landscape(model, nn.functional.mse_loss, data, checkpoints=path, resolution=5, check=True).trust
    assert pca.check is None and pca.missing["check"].startswith("does not apply: the directions are pca")
    assert list(pca.off_plane) == ["checkpoints"] and 0 <= pca.off_plane["checkpoints"] < 1


def test_the_saved_data_keeps_the_report(tmp_path):
    # .npz keeps its header as .json does (the same JSON text): .json and .csv cover both
    model, loss, data, directions = linear(shift=(0.5, -0.25))
    study = landscape(model, loss, data, directions=directions, resolution=5, span=1)
    with_check = Trust(**{**study.trust.__dict__, "check": Agreement(2, 0.031, 0.25, torch.zeros(5, 5))})
    for suffix in ("json", "csv"):
        path = optviz.landscape.Landscape(**{**study.__dict__, "trust": with_check}).save(tmp_path / f"l.{suffix}")
        assert Trust.read(path) == with_check  # every number to the bit; the check's grid is not kept
        assert str(Trust.read(path)) == str(with_check)
        # the paths read back as before
        assert Result.load(path, function=study.function()).positions.shape == (1, 1, 2)


def test_a_file_without_a_report_and_notes_that_would_replace_the_header_are_refused(tmp_path):
    result = optviz.simulate("quadratic", optviz.sgd(lr=0.1), steps=3)
    path = result.save(tmp_path / "r.json")
    with pytest.raises(ValueError, match="keeps no landscape's trust report"):
        Trust.read(path)
    with pytest.raises(ValueError, match="notes cannot replace the header's own kind"):
        result.save(tmp_path / "s.json", notes={"kind": "other"})


def test_non_finite_numbers_are_saved_by_name(tmp_path):
    trust = Trust(own_loss=math.inf, centre_loss=math.nan, lowest=(0.0, 0.0), lowest_loss=math.inf,
                  lowest_at_edge=True, off_plane={"a": 0.5}, spacing=(0.5, 0.5), heights=math.nan,
                  curvature=((1.0, 0.0), (0.0, -math.inf)))
    back = Trust.from_dict(json.loads(json.dumps(trust.to_dict(), allow_nan=False)))
    assert back.own_loss == math.inf and math.isnan(back.centre_loss) and back.curvature[1][1] == -math.inf
    assert math.isnan(back.heights) and not back.centre_agrees and not back.resolved


SPEC = """
import torch
from torch import nn
torch.manual_seed(0)
model = nn.Sequential(nn.Linear(3, 8), nn.Tanh(), nn.Linear(8, 1))
data = (torch.randn(30, 3), torch.randn(30, 1))
loss = nn.functional.mse_loss
"""


def test_the_command_prints_saves_and_draws_the_report(tmp_path, monkeypatch):
    spec = tmp_path / "spec.py"
    spec.write_text(SPEC)
    names: dict = {}
    exec(SPEC, names)
    expected = landscape(names["model"], names["loss"], names["data"], resolution=7, check=True).trust
    drawn = []
    from optviz.documents import outputs

    monkeypatch.setattr(outputs, "picture", lambda result, **kw: drawn.append(picture(result, **kw)) or drawn[-1])
    out = CliRunner().invoke(main, ["landscape", str(spec), "--resolution", "7", "--check",
                                    "--data", str(tmp_path / "l.json"), "--png", str(tmp_path / "l.png")])
    assert out.exit_code == 0, out.output
    assert str(expected) in out.output and "check: a second slice (seed 2)" in out.output
    assert Trust.read(tmp_path / "l.json") == expected
    # the picture written has the note in small type, under the axes, clear of every other text
    (fig,) = drawn
    # with the check's verdict it is wider than the slide: two lines, broken at a " · "
    notes = [t for t in fig.texts if t.get_text().replace("\n", " · ") == expected.note()]
    assert len(notes) == 1 and notes[0].get_text().count("\n") == 1 and notes[0].get_fontsize() < min(t.get_fontsize() for ax in fig.axes
                                                            for t in ax.get_xticklabels())
    renderer = fig.canvas.get_renderer()
    box = notes[0].get_window_extent(renderer)
    assert all(box.y1 < ax.get_tightbbox(renderer).y0 for ax in fig.axes if ax.get_visible())
    assert text_collisions(fig) == [] and outside_figure(fig) == []
    plt.close(fig)


def test_a_note_keeps_four_paths_on_one_panel():
    # small multiples keep the figure's foot for their shared label and legend: a picture
    # with a note speaks of one landscape, in one panel
    four = optviz.simulate("quadratic", {name: getattr(optviz, name)(lr=0.1) for name in
                                         ("sgd", "adam", "rmsprop", "adagrad")}, steps=5)
    assert len([ax for ax in picture(four).axes if ax.get_label() != "<colorbar>"]) == 4
    fig = picture(four, note="a note · in small type")
    assert len([ax for ax in fig.axes if ax.get_label() != "<colorbar>"]) == 1
    assert [t.get_text() for t in fig.texts] == ["a note · in small type"]
    plt.close("all")
