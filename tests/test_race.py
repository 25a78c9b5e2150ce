"""optviz race: its rows are the distributions of direct runs, its tuning the best of its
grids, its starts reproducible, its gradient clipping torch's, its files and picture true."""

import dataclasses
import io
import math

import numpy as np
import pytest
import torch
from click.testing import CliRunner
from PIL import Image

import optviz
from optviz.analyses.races import (COARSE, WINDOWS, ZOOMS, objective_values, race, random_starts, zoom_lrs,
                                   zoomed)
from optviz.core.files import read_table
from optviz.core.functions import get_function
from optviz.core.functions.clipping import clipped
from optviz.interface.cli import main
from optviz.render.canvas import png
from optviz.render.races import race_colours, race_picture
from optviz.render.style import get_theme

SETTINGS = dict(starts=7, budget=40, tune_starts=3, seed=3, clip=1.0)


@pytest.fixture(scope="module")
def tiny():
    return race(["rosenbrock", "himmelblau"], ["sgd", "adam"], **SETTINGS)


def global_minima(fn):
    best = min(m.value for m in fn.minima)
    return best, torch.tensor([m.point for m in fn.minima if m.value == best], dtype=torch.float64)


def test_rows_are_the_distributions_of_direct_runs(tiny):
    for fn in tiny.functions:
        starts = tiny.starts[fn.name]
        # start k is row k of the documented draw
        bounds = torch.tensor(fn.bounds, dtype=torch.float64)
        drawn = torch.rand((7, 2), generator=torch.Generator().manual_seed(3), dtype=torch.float64)
        assert torch.equal(starts, bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * drawn)
        best, minima = global_minima(fn)
        rows = tiny.ranked(fn.name)
        assert [row.rank for row in rows] == [1, 2] and rows[0].median <= rows[1].median
        for row in rows:
            result = optviz.simulate(fn, {"x": row.made}, starts, 40, clip=1.0)
            distance = torch.cdist(result.positions[-1], minima).min(dim=1).values.numpy()
            assert (row.q1, row.median, row.q3) == tuple(np.percentile(distance, [25, 50, 75]))
            assert np.array_equal(tiny.scores[fn.name, row.optimizer].numpy(), distance)
            gap = (fn(result.positions) - best).numpy()
            assert row.success == np.mean(gap[-1] <= 1e-3)
            reached = [int(np.argmax(column <= 1e-3)) for column in gap.T if (column <= 1e-3).any()]
            if reached:
                assert row.steps == np.median(reached)
            else:
                assert math.isnan(row.steps)
            assert row.diverged == 0 and row.error == ""


def test_the_tuned_lr_is_the_best_of_a_coarse_grid_then_of_finer_ones(tiny):
    fn = tiny.function("rosenbrock")
    points = random_starts(fn, 3, 4)  # the tuning starts: seed + 1

    def ranked(windows):  # each lr from each tuning start, by plain optimizers: best median distance first
        grid = sorted({lr for window in windows for lr in window}, key=[lr for w in windows for lr in w].index)
        result = optviz.simulate(fn, {f"{k}": optviz.sgd(lr=lr) for k, lr in enumerate(grid)}, points, 40, clip=1.0)
        scores = objective_values(result, "distance", 1e-3).numpy().reshape(len(grid), 3)
        medians = np.median(scores, axis=1)
        home = {lr: next(w for w in windows if lr in w) for lr in grid}
        return [(medians[k], grid[k], home[grid[k]]) for k in np.argsort(medians, kind="stable")]

    rounds = [ranked([COARSE["lr"]])]
    for _ in range(ZOOMS):
        rounds.append(ranked([zoomed("lr", window, lr) for _, lr, window in rounds[-1][:WINDOWS]]))
    best = min((r[0] for r in rounds), key=lambda scored: scored[0])[1]
    row = next(row for row in tiny.ranked("rosenbrock") if row.optimizer == "sgd")
    assert row.hypers == {"lr": best} and row.made.hyperparams["lr"] == best
    # each zoomed window spans one step of the round before either side of its centre, finer
    for wide, fine in zip(rounds, rounds[1:]):
        window, centre = wide[0][2], wide[0][1]
        finer = zoomed("lr", window, centre)
        step = math.log(window[1] / window[0])
        assert math.log(finer[-1] / finer[0]) == pytest.approx(2 * step) and centre == pytest.approx(finer[len(finer) // 2])
        assert np.diff(np.log(finer)).max() < step / 10
        assert len({lr for _, lr, _ in fine}) > len(finer)  # several windows


def test_momentum_is_zoomed_between_its_neighbours():
    assert zoomed("momentum", COARSE["momentum"], 0.9) == pytest.approx(np.linspace(0.85, 0.925, 5))
    assert zoomed("momentum", COARSE["momentum"], 0.99) == pytest.approx(np.linspace(0.97, 0.99, 5))
    # a zoomed round keeps within its paths: fewer learning rates a window with momentum and 8 starts
    assert zoom_lrs({"lr": COARSE["lr"]}, 8) == 65 and zoom_lrs({"lr": (), "momentum": ()}, 8) == 25
    assert zoom_lrs({"lr": (), "beta1": (), "beta2": ()}, 8) == 9


def test_a_race_is_reproducible_from_its_seed():
    first = race("rosenbrock", ["sgd"], starts=5, budget=20, tune_starts=2, seed=9)
    again = race("rosenbrock", ["sgd"], starts=5, budget=20, tune_starts=2, seed=9)
    other = race("rosenbrock", ["sgd"], starts=5, budget=20, tune_starts=2, seed=10)
    assert first.table() == again.table()
    assert torch.equal(first.scores["rosenbrock", "sgd"], again.scores["rosenbrock", "sgd"])
    assert not torch.equal(first.starts["rosenbrock"], other.starts["rosenbrock"])


def test_clip_is_clip_grad_norm_bit_for_bit():
    fn = get_function("rosenbrock")
    starts = random_starts(fn, 3, 0)
    result = optviz.simulate(fn, optviz.adam(lr=0.05), starts, 25, clip=0.5)
    for k, start in enumerate(starts):
        p = start.clone().requires_grad_(True)
        opt = torch.optim.Adam([p], lr=0.05)
        for t in range(25):
            p.grad = fn.grad(p.detach()).clone()
            torch.nn.utils.clip_grad_norm_(p, 0.5)
            opt.step()
            assert torch.equal(p.detach(), result.positions[t + 1, k])
    for dtype in (torch.float32, torch.float64):
        for dim in (1, 2, 5, 33):
            identity = dataclasses.replace(get_function("sphere"), grad_fn=lambda g: g, bounds=((-1.0, 1.0),) * dim)
            grads = torch.randn(12, dim, dtype=dtype, generator=torch.Generator().manual_seed(dim))
            grads *= torch.logspace(-3, 3, 12, dtype=dtype)[:, None]
            out = clipped(identity, 1.5).grad(grads)
            for g, o in zip(grads, out):
                p = torch.zeros(dim, dtype=dtype, requires_grad=True)
                p.grad = g.clone()
                torch.nn.utils.clip_grad_norm_(p, 1.5)
                assert torch.equal(p.grad, o)


def test_the_table_reads_back_from_csv_and_json(tiny, tmp_path):
    for suffix in ("csv", "json"):
        columns, meta, _ = read_table(tiny.save(tmp_path / f"race.{suffix}"))
        assert meta["kind"] == "optviz.Race" and meta["objective"] == "distance" and meta["clip"] == 1.0
        assert list(columns["function"]) == [row.function for row in tiny.rows]
        assert list(columns["optimizer"]) == [row.optimizer for row in tiny.rows]
        assert list(columns["rank"]) == [row.rank for row in tiny.rows]
        for name in ("median", "q1", "q3", "success", "lr"):
            want = [getattr(row, name) if name != "lr" else row.hypers["lr"] for row in tiny.rows]
            assert list(columns[name]) == want


def test_the_picture_gives_each_optimizer_its_colour_in_every_panel(tiny):
    fig = race_picture(tiny, size=(960, 540))
    image = np.asarray(Image.open(io.BytesIO(png(fig))).convert("RGB"))
    palette = race_colours(tiny, get_theme("light"))
    assert list(palette) == ["sgd", "adam"] and len(set(palette.values())) == 2
    boxes = [ax.get_window_extent() for ax in fig.axes[:2]]
    height = image.shape[0]
    for colour in palette.values():
        rgb = np.array([int(colour[i:i + 2], 16) for i in (1, 3, 5)])
        for box in boxes:  # matplotlib's y runs up, the image's down
            panel = image[int(height - box.y1):int(height - box.y0), int(box.x0):int(box.x1)]
            assert (np.abs(panel.astype(int) - rgb).max(axis=-1) == 0).sum() > 30, colour


def test_a_failing_optimizer_keeps_a_row_and_the_rest_is_ranked(tmp_path, monkeypatch):
    (tmp_path / "failing_optimizers.py").write_text(
        "import torch\n\n"
        "class Exploding(torch.optim.SGD):\n"
        "    steps = 0\n\n"
        "    def step(self, closure=None):\n"
        "        self.steps += 1\n"
        "        if self.steps > 2:\n"
        "            raise RuntimeError('it exploded')\n"
        "        return super().step(closure)\n\n"
        "class Broken(torch.optim.SGD):\n"
        "    def step(self, closure=None):\n"
        "        raise RuntimeError('it never stepped')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    result = race("rosenbrock", ["failing_optimizers:Exploding", "sgd"], starts=4, budget=10, tune_starts=1)
    failed, ok = result.rows[1], result.rows[0]
    assert (ok.optimizer, ok.rank, ok.error) == ("sgd", 1, "")
    assert failed.optimizer == "failing_optimizers:Exploding" and failed.rank == 0
    assert failed.error.startswith("failed while tuning:") and "it exploded" in failed.error
    assert "it exploded" in result.table()
    out = CliRunner().invoke(main, ["race", "rosenbrock", "failing_optimizers:Exploding", "sgd", "--starts", "4",
                                    "--budget", "10", "--tune-starts", "1"])
    assert out.exit_code == 0 and "it exploded" in out.output and "\n1     sgd" in out.output, out.output
    # one that cannot take its first step is known before any work: one line, exit 2
    out = CliRunner().invoke(main, ["race", "rosenbrock", "failing_optimizers:Broken", "sgd", "--starts", "4",
                                    "--budget", "10", "--tune-starts", "1"])
    assert out.exit_code == 2 and out.output.count("\n") == 1, out.output
    assert "Broken lr=0.001 failed to step: it never stepped" in out.output


@pytest.mark.parametrize("args, message", [
    (["rosenbrok", "adam"], "'rosenbrok' is not one; did you mean 'rosenbrock'?"),
    (["rosenbrock", "adm"], "unknown optimizer 'adm'; did you mean 'adam'?"),
    (["rosenbrock", "adam", "--objective", "far"], "'far' is not one of 'final', 'distance', 'steps', 'area'"),
    (["rosenbrock", "adam", "--tune", "lr,beta"], "cannot tune 'beta'"),
    (["saddle", "adam"], "a race needs functions with a known global minimum; saddle has none"),
    (["rosenbrock", "sgd:lr=1e9", "--budget", "5"], "no finite distance at any setting tried for sgd:lr=1e+09 on "
                                                     "rosenbrock"),
])
def test_bad_input_is_one_line_and_exit_2(args, message):
    out = CliRunner().invoke(main, ["race", *args])
    assert out.exit_code == 2, out.output
    assert out.output.count("\n") == 1 and out.output.startswith("optviz: error: ") and message in out.output


def test_the_command_writes_its_folder(tmp_path):
    out = CliRunner().invoke(main, ["race", "rosenbrock", "sgd", "adam", "--starts", "5", "--budget", "20",
                                    "--tune-starts", "2", "--clip", "1", "--size", "640x360", "--out", str(tmp_path)])
    assert out.exit_code == 0, out.output
    expected = race("rosenbrock", ["sgd", "adam"], starts=5, budget=20, tune_starts=2, clip=1.0)
    assert expected.table() in out.output
    for name in ("race.csv", "race.json", "race.png", "race-rosenbrock.html"):
        assert f"wrote {tmp_path / name}" in out.output
    assert Image.open(tmp_path / "race.png").size == (640, 360)
    page = (tmp_path / "race-rosenbrock.html").read_text()
    k = expected.median_start("rosenbrock")
    assert f"start {k}" in page and "Live controls are off: rosenbrock's gradients were clipped" in page


def test_unique_rows_is_torch_unique_over_rows():
    from optviz.core.optimizers.ops import unique_rows

    generator = torch.Generator().manual_seed(0)
    for n, k in ((1, 1), (6, 2), (300, 1), (300, 3)):
        table = torch.randint(0, 5, (n, k), generator=generator).double() * 0.3 - 0.5
        distinct, inverse = unique_rows(table)
        want = torch.unique(table, dim=0, return_inverse=True)
        assert torch.equal(distinct, want[0]) and torch.equal(inverse, want[1])


def test_a_class_of_ones_own_races_by_its_import_path():
    by_class = race("rosenbrock", [(torch.optim.NAdam, {"momentum_decay": 0.01})], starts=3, budget=8, tune_starts=1)
    by_name = race("rosenbrock", [("torch.optim.nadam:NAdam", {"momentum_decay": 0.01})], starts=3, budget=8,
                   tune_starts=1)
    assert by_class.rows[0].optimizer == "torch.optim.nadam:NAdam:momentum_decay=0.01"
    assert by_class.rows[0].hypers == by_name.rows[0].hypers and torch.equal(
        by_class.scores["rosenbrock", by_class.rows[0].optimizer], by_name.scores["rosenbrock", by_name.rows[0].optimizer])
    with pytest.raises(TypeError, match="a factory sets its own lr"):
        race("rosenbrock", [lambda params: torch.optim.NAdam(params)], starts=3, budget=8)
