"""Cost before work: an estimate that counts a landscape's work exactly and times it on one
chunk without doing any of it, and a refined grid equal to the full one wherever it evaluates."""

import pytest
import torch
from click.testing import CliRunner
from torch import nn

from optviz import landscape
from optviz.analyses.models.cost import Estimate, busiest, coarse_knots, duration, refined
from optviz.interface.cli import main

SPEC = """
import torch
from torch import nn
torch.manual_seed(0)
x = torch.randn(48, 4)
data = (x, (x[:, 0] > 0).long())
model = nn.Sequential(nn.Linear(4, 6), nn.ReLU(), nn.Linear(6, 2))
loss = nn.functional.cross_entropy
"""


def tiny():
    names: dict = {}
    exec(SPEC, names)
    return names["model"], names["loss"], names["data"]


def test_an_estimate_counts_the_work_exactly_and_does_none_of_it(tmp_path):
    model, loss, data = tiny()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    heard = []
    found = landscape.landscape(model, loss, data, optimizers=[("sgd", {"lr": 0.1}), ("adam", {"lr": 0.01})],
                                epochs=2, batch=16, resolution=9, chunk=8, line=5, estimate=True,
                                save=tmp_path / "grid", progress=lambda *report: heard.append(report))
    assert isinstance(found, Estimate)
    assert (found.grid_points, found.line_points, found.path_points) == (81, 5, (7, 7))  # 2 epochs x 3 steps + 1
    assert (found.training_steps, found.batch, found.examples, found.weights) == (12, 16, 48, 4 * 6 + 6 + 6 * 2 + 2)
    assert found.evaluations == (81 + 5 + 14) * 48
    # memory: a chunk of 8 points' weights (made in three terms), the ReLU's 48 x 6 input and output
    # for each of the 8 points, both paths' weights, the data (float inputs, long targets)
    assert found.chunk_bytes == 3 * 8 * 44 * 4 and found.activation_bytes == 8 * 2 * 48 * 6 * 4
    assert found.path_bytes == 2 * 14 * 44 * 4 and found.data_bytes == 48 * 4 * 4 + 48 * 8
    assert found.memory == found.chunk_bytes + found.activation_bytes + found.path_bytes + found.data_bytes
    # the time: training in full on every rank, the points dealt out by chunks (81 = 10 x 8 + 1)
    per_point = found.chunk_seconds / found.chunk_points
    assert found.chunk_points == 8 and found.chunk_seconds > 0 and found.step_seconds > 0
    training = 12 * found.step_seconds + found.pca_seconds  # both on every rank; PCA: the default with a path
    assert found.pca_seconds > 0
    assert found.seconds() == pytest.approx(training + per_point * (81 + 5 + 7 + 7))
    assert found.seconds(2) == pytest.approx(training + per_point * (41 + 5 + 7 + 7))
    assert found.seconds(8) == pytest.approx(training + per_point * (16 + 5 + 7 + 7))
    # nothing trained, evaluated on the grid, reported or written; the model untouched
    assert heard == [] and not (tmp_path / "grid").exists()
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    lines = str(found).splitlines()
    assert lines[:5] == ["grid      9 x 9 = 81 points in 11 chunks of 8, 48 examples each", "line      5 points",
                         "paths     2 of 7/7 points, each at its own weights",
                         "passes    4,800 examples through a model of 44 weights",
                         "training  12 steps of up to 16 examples"]
    assert lines[5] == ("memory    about 28.1 KiB at the peak: a chunk's weights 4.1 KiB, its activations 18.0 KiB, "
                        "the paths 4.8 KiB, the data 1.1 KiB")
    assert lines[6].startswith("measured  one chunk of 8 points ")
    assert lines[8].startswith("ranks     1: ") and "   8: " in lines[8]


def test_work_is_dealt_out_as_the_evaluator_deals_chunks():
    assert busiest(81, 8, 1) == 81 and busiest(81, 8, 2) == 41 and busiest(81, 8, 3) == 32  # chunks 0, 3, 6, 9
    assert busiest(5, 32, 4) == 5 and busiest(0, 8, 2) == 0
    assert [duration(s) for s in (0.0004, 0.25, 7.04, 190, 7500)] == ["400 µs", "250 ms", "7.0 s", "3 min 10 s",
                                                                      "2 h 05 min"]


def ramp(calls):
    """A loss for refined(): 5 + a + b^2 / 10, 3 higher where b > 0.75, NaN where a and b are
    both over 0.9; every point asked for is counted."""

    def evaluate(coords, what):
        calls.append((what, coords.clone()))
        a, b = coords[:, 0].double(), coords[:, 1].double()
        value = 5 + a + b**2 / 10 + 3 * (b > 0.75)
        return torch.where((a > 0.9) & (b > 0.9), torch.nan, value)

    return evaluate


def test_refined_cells_are_the_paths_the_minimum_the_steep_and_the_undefined():
    axis = torch.linspace(-1, 1, 17, dtype=torch.float64)  # knots 0, 4, 8, 12, 16: 4 x 4 cells
    assert coarse_knots(17).tolist() == [0, 4, 8, 12, 16] and coarse_knots(19).tolist() == [0, 4, 8, 12, 16, 18]
    calls = []
    path = torch.tensor([[0.2, -0.9], [0.2, 0.45]], dtype=torch.float64)  # cell rows 0 and 2 of column 2
    losses, evaluated = refined(ramp(calls), axis, axis, [path])
    assert [what for what, _ in calls] == ["coarse grid points", "refined grid points"] and len(calls[0][1]) == 25
    cells = torch.zeros(4, 4, dtype=torch.bool)
    for i in range(4):
        for j in range(4):
            inside = evaluated[4 * i + 1:4 * i + 4, 4 * j + 1:4 * j + 4]
            cells[i, j] = bool(inside.all())
            assert cells[i, j] or not bool(inside.any())  # whole cells, or none of one
    expected = torch.zeros(4, 4, dtype=torch.bool)
    expected[:, 0] = True  # the lowest knot (a, b) = (-1, 0) and, beside it, heights above it from 0 to 0.5+
    expected[3, :] = True  # steep: b from 0.5 to 1 crosses the step of 3 (and the corner (1, 1) is NaN)
    expected[0:3, 2] = True  # the path: its two points and the segment's crossing of the row between them
    assert torch.equal(cells, expected), cells
    # evaluated points hold their true values; the others the bilinear interpolation of their cell's corners
    grid = torch.stack(torch.meshgrid(axis, axis, indexing="xy"), -1).reshape(-1, 2)
    truth = ramp([])(grid, "").reshape(17, 17)
    assert torch.equal(losses[evaluated].nan_to_num(-1), truth[evaluated].nan_to_num(-1))  # the NaN corner too
    # not evaluated: the 6 cells' insides, the 4 edges two of them share, the 5 edges they have on the border
    assert int(evaluated.sum()) == 25 + len(calls[1][1]) == 289 - 6 * 9 - 4 * 3 - 5 * 3
    # (b, a) = (-0.875, -0.25) in cell (0, 1): b^2 / 10 runs linearly from 0.1 to 0.025, a quarter of the way
    assert losses[1, 6].item() == pytest.approx(5 - 0.25 + 0.75 * 0.1 + 0.25 * 0.025, abs=1e-12)
    assert truth[1, 6].item() == pytest.approx(5 - 0.25 + 0.875**2 / 10, abs=1e-12)


def test_a_refined_landscape_equals_the_full_one_where_it_evaluates():
    model, loss, data = tiny()
    net, checkpoints = nn.Sequential(*[m for m in tiny()[0]]), []
    opt = torch.optim.SGD(net.parameters(), lr=0.5)
    for _ in range(4):
        checkpoints.append({k: v.clone() for k, v in net.state_dict().items()})
        opt.zero_grad()
        loss(net(data[0]), data[1]).backward()
        opt.step()
    full = landscape.landscape(model, loss, data, checkpoints=checkpoints, resolution=17)
    part = landscape.landscape(model, loss, data, checkpoints=checkpoints, resolution=17, refine=True)
    assert isinstance(part, landscape.Landscape) and full.evaluated is None
    done = part.evaluated
    assert torch.equal(part.losses[done], full.losses[done])  # the very same numbers, bit for bit
    assert 25 < int(done.sum()) < 289
    assert torch.equal(part.paths["checkpoints"], full.paths["checkpoints"])
    assert torch.equal(part.path_losses["checkpoints"], full.path_losses["checkpoints"])
    assert part.summary() == full.summary() + (f"\nrefined: {int(done.sum())} of 289 grid points evaluated "
                                               f"({int(done.sum()) / 289:.0%}), the rest interpolated")
    assert part.result().positions.shape == full.result().positions.shape
    assert (part.losses - full.losses).abs().max() < 0.05 * (full.losses.max() - full.losses.min())


@pytest.mark.parametrize("change,message", [
    (dict(refine=True, resolution=7),
     "refine= needs a resolution of at least 9 (a coarse grid of 3 x 3 points), got 7"),
    (dict(refine=True, estimate=True), "estimate= counts the full grid; refine= evaluates a part known only after"),
])
def test_bad_cost_requests_are_one_line(change, message):
    model, loss, data = tiny()
    with pytest.raises(ValueError, match="^" + message.replace("(", r"\(").replace(")", r"\)")) as raised:
        landscape.landscape(model, loss, data, **{"resolution": 9, **change})
    assert "\n" not in str(raised.value)


def test_the_command_dry_runs_and_refines(tmp_path):
    spec = tmp_path / "tiny.py"
    spec.write_text(SPEC)
    png = tmp_path / "l.png"
    out = CliRunner().invoke(main, ["landscape", str(spec), "sgd:lr=0.1", "--epochs", "1", "--resolution", "9",
                                    "--dry-run", "--png", str(png), "--save", str(tmp_path / "grid")])
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0] == "grid      9 x 9 = 81 points in 3 chunks of 32, 48 examples each"
    assert lines[1:4] == ["paths     1 of 3 points, each at its own weights",
                          "passes    4,032 examples through a model of 44 weights",
                          "training  2 steps of up to 32 examples"]
    assert lines[-1].startswith("ranks     1: ") and len(lines) == 8
    assert not png.exists() and not (tmp_path / "grid").exists()
    for args, message in ((["--refine", "--resolution", "7"], "Invalid value for --resolution: --refine needs 9 or "
                                                               "more (a coarse grid of 3 x 3 points), got 7"),
                          (["--refine", "--dry-run"], "--dry-run estimates the full grid; --refine evaluates")):
        bad = CliRunner().invoke(main, ["landscape", str(spec), *args])
        assert bad.exit_code == 2 and message in bad.stderr and len(bad.stderr.strip().splitlines()) == 1, bad.stderr
    refined_run = CliRunner().invoke(main, ["landscape", str(spec), "--resolution", "9", "--refine", "--png", str(png)])
    assert refined_run.exit_code == 0, refined_run.output
    assert "grid points evaluated" in refined_run.output.splitlines()[2] and png.stat().st_size > 1000


def test_a_refined_run_keeps_both_passes_in_its_save_folder_and_resumes(tmp_path):
    model, loss, data = tiny()
    heard = []
    first = landscape.landscape(model, loss, data, resolution=9, refine=True, save=tmp_path / "grid")
    again = landscape.landscape(model, loss, data, resolution=9, refine=True, save=tmp_path / "grid",
                                progress=lambda *report: heard.append(report))
    assert torch.equal(first.losses, again.losses) and torch.equal(first.evaluated, again.evaluated)
    refined_points = int(first.evaluated.sum()) - 9
    # everything loaded from the folder: each pass reports itself done before any work
    assert heard == [("coarse grid points", 9, 9), ("refined grid points", refined_points, refined_points)]
    assert [p.name for p in sorted((tmp_path / "grid" / "coarse").glob("grid-*.pt"))] == ["grid-000000.pt"]
    with pytest.raises(ValueError, match="holds another run \\(its refine differ\\)"):
        landscape.landscape(model, loss, data, resolution=9, save=tmp_path / "grid")


def test_an_estimate_is_refused_as_its_run_would_be(monkeypatch):
    model, loss, data = tiny()
    monkeypatch.setenv("OPTVIZ_MAX_MEMORY", "1M")  # the check's count: (2 x 1 path point + 4 x 2,000) x 44 x 4 bytes
    with pytest.raises(ValueError, match="^a landscape with 1 path points and chunks of 2000 points of 44 weights "
                                         "needs about 1.3 MiB at its peak, more than the 1.0 MiB allowed"):
        landscape.landscape(model, loss, data, resolution=9, chunk=2000, estimate=True)
    monkeypatch.setenv("OPTVIZ_MAX_MEMORY", "2M")
    assert landscape.landscape(model, loss, data, resolution=9, chunk=2000, estimate=True).chunk_points == 81
