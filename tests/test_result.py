"""Results as data: every format gives back the same paths, and a loaded result draws the same."""

import csv
import json

import numpy as np
import pytest
import torch

import optviz
from optviz import Result, render
from optviz.analyses.penalties import l2, penalise, penalised

FORMATS = ["csv", "json", "npz"]


def same(a, b):
    return torch.equal(a.nan_to_num(nan=7.5), b.nan_to_num(nan=7.5)) and torch.equal(a.isnan(), b.isnan())


def assert_same_result(back, result):
    for field in ("positions", "losses", "grad_norms", "starts", "diverged_at"):
        assert same(getattr(back, field), getattr(result, field)), field
        assert getattr(back, field).dtype == getattr(result, field).dtype, field
    assert list(back.optimizers) == list(result.optimizers)
    assert back.function.bounds == result.function.bounds and back.function.start == result.function.start


@pytest.fixture
def result():
    """Two optimizers from two starts; one of them diverges."""
    return optviz.simulate("rosenbrock", {"adam": optviz.adam(lr=0.05, betas=(0.9, 0.99)), "wild": optviz.sgd(lr=0.01)},
                           starts=[[-1.5, 2.0], [0.5, -0.5]], steps=40)


@pytest.mark.parametrize("fmt", FORMATS)
def test_every_format_gives_back_the_same_paths(tmp_path, result, fmt):
    assert (result.diverged_at >= 0).any() and (result.diverged_at < 0).any()
    back = Result.load(result.save(tmp_path / f"r.{fmt}"))
    assert_same_result(back, result)
    # the optimizers are made again: they step exactly as the originals
    params = torch.tensor([[0.3, 0.2]], dtype=torch.float64)
    grad = torch.tensor([[1.0, -2.0]], dtype=torch.float64)
    for mine, theirs in zip(back.optimizers.values(), result.optimizers.values()):
        assert mine.hyperparams == theirs.hyperparams
        assert torch.equal(mine.step(params, grad, mine.init(params))[0], theirs.step(params, grad, theirs.init(params))[0])


def test_csv_has_one_row_per_optimizer_start_and_step(tmp_path, result):
    path = result.save(tmp_path / "r.csv")
    lines = path.read_text().splitlines()
    assert lines[0].startswith("# optviz {") and json.loads(lines[0][len("# optviz "):])["kind"] == "optviz.Result"
    rows = list(csv.DictReader(lines[1:]))
    assert list(rows[0]) == ["optimizer", "start", "step", "x", "y", "f", "grad_norm"]
    assert len(rows) == 2 * 2 * 41
    row = rows[41 + 5]  # Adam from the second start, step 5
    assert (row["optimizer"], row["start"], row["step"]) == ("adam", "1", "5")
    assert float(row["x"]) == result.path("adam", 1)[5, 0].item()
    assert float(row["f"]) == result.losses[5, 1].item()


@pytest.mark.parametrize("fmt", FORMATS)
def test_float32_1d_and_formula_results(tmp_path, fmt):
    one_d = optviz.simulate("xcos", {"lr 2": optviz.sgd(lr=2.0)}, starts=[10.0], steps=10, dtype=torch.float32)
    assert_same_result(Result.load(one_d.save(tmp_path / f"a.{fmt}")), one_d)
    formula = optviz.simulate(optviz.expressions.parse_expression("x**2 + 10*sin(y)", ((-4, 4), (-3, 3))),
                              optviz.adam(lr=0.1), starts=[3.0, 1.0], steps=15)
    back = Result.load(formula.save(tmp_path / f"b.{fmt}"))
    assert_same_result(back, formula)
    assert back.function.recipe == {"expression": "x**2 + 10*sin(y)"}


def test_a_loaded_result_draws_the_same_picture(tmp_path, result):
    back = Result.load(result.save(tmp_path / "r.npz"))
    for kind in ("paths", "loss"):
        original, loaded = render.png(render.plot(result, kind).figure), render.png(render.plot(back, kind).figure)
        assert np.array_equal(np.asarray(_image(original)), np.asarray(_image(loaded))), kind


def _image(data):
    import io

    from PIL import Image

    return Image.open(io.BytesIO(data)).convert("RGB")


@pytest.mark.parametrize("fmt", ["json", "npz"])
def test_a_function_made_by_code_comes_back_as_its_surface(tmp_path, fmt):
    fn = penalise(optviz.get_function("offset_ellipse"), l2(5.0))
    result = optviz.simulate(fn, {"pen": penalised(optviz.sgd(lr=0.05), l2(1.0))}, steps=30)
    back = Result.load(result.save(tmp_path / f"p.{fmt}"))
    assert_same_result(back, result)
    # the surface is sampled on a 201 x 201 grid: values agree between the samples
    points = torch.tensor([[2.0, 1.0], [0.3, -0.4], [3.1, 2.2]], dtype=torch.float64)
    assert torch.allclose(back.function(points), fn(points), rtol=2e-3)
    # the penalised optimizer draws with its label, but will not pretend to step
    assert list(back.optimizers) == ["pen"]
    with pytest.raises(RuntimeError, match="loaded from a file and cannot step"):
        back.optimizers["pen"].step(points, points, None)
    render.plot(back)  # it draws


def test_csv_of_a_function_made_by_code_needs_the_function(tmp_path):
    fn = penalise(optviz.get_function("offset_ellipse"), l2(5.0))
    result = optviz.simulate(fn, optviz.sgd(lr=0.05), steps=5)
    path = result.save(tmp_path / "p.csv")
    with pytest.raises(ValueError, match="was made by code and this file keeps no surface of it: pass Result.load"):
        Result.load(path)
    assert_same_result(Result.load(path, function=fn), result)


@pytest.mark.parametrize("content,message", [
    ("x,y\n1,2\n", "not an optviz data file"),
    ('# optviz {"kind": "optviz.Sweep", "columns": {"a": "f"}}\na\n1.0\n', "holds optviz.Sweep, not a Result"),
])
def test_foreign_files_are_refused_by_name(tmp_path, content, message):
    path = tmp_path / "bad.csv"
    path.write_text(content)
    with pytest.raises(ValueError, match=f"cannot read {path}.*{message}"):
        Result.load(path)


def test_bad_paths(tmp_path, result):
    with pytest.raises(ValueError, match="suffix must be one of .csv, .json, .npz"):
        result.save(tmp_path / "r.txt")
    with pytest.raises(ValueError, match="no such file"):
        Result.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(ValueError, match="not an optviz data file"):
        Result.load(tmp_path / "junk.npz")


def test_studies_and_curves_save_tables(tmp_path):
    from optviz.core.files import read_table
    from optviz.analyses.studies import basins, sweep

    study = sweep("quadratic", "sgd", ("lr", [0.01, 0.1, 0.6]), ("momentum", [0.0, 0.5]), steps=20)
    columns, meta, _ = read_table(study.save(tmp_path / "s.json"))
    assert meta["kind"] == "optviz.Sweep" and len(columns["final_f"]) == 6
    assert columns["final_f"].tolist() == study.final.reshape(-1).tolist()
    assert np.isinf(columns["final_f"]).any()  # a diverged cell stays inf through JSON
    mapped = basins("himmelblau", "adam", {"lr": 0.1}, resolution=6, steps=100)
    columns, meta, _ = read_table(mapped.save(tmp_path / "b.csv"))
    assert columns["minimum"].tolist() == mapped.labels.reshape(-1).tolist() and len(meta["minima"]) == 4
