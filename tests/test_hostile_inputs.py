"""Input that would recurse without end, run for hours or misuse the API: refused with one line
(exit 2 on the command line) before any work; and one-element tensor hyperparameters of any
shape taken as torch.optim takes them."""

import ast
import time

import pytest
import torch
from click.testing import CliRunner

import optviz
from optviz import render
from optviz.analyses.conformance import optviz_path, torch_path
from optviz.core.functions.formulas import ExpressionError, nesting, parse_expression
from optviz.core.limits import (ALLOW_LARGE, MAX_FILE_GRID_WORK, MAX_FILE_OPTIMIZERS, MAX_FILE_PATH_STEPS,
                                MAX_LENGTH, MAX_NESTING)
from optviz.documents import landscapes as documents_landscapes
from optviz.documents.scenario import ScenarioError, load
from optviz.interface.cli import main
from test_scenario import GOOD, write


@pytest.fixture(autouse=True)
def no_override(monkeypatch):
    monkeypatch.delenv(ALLOW_LARGE, raising=False)


def refusal(args):
    """The command line's one line for bad input: exit 2, nothing else on stderr."""
    out = CliRunner().invoke(main, [str(a) for a in args])
    assert out.exit_code == 2, out.output
    lines = [line for line in out.stderr.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("optviz: error: ") and "Traceback" not in out.output, out.output
    return lines[0]


# --- formulas nested too deep --------------------------------------------------------------

@pytest.mark.parametrize("text,depth", [
    ("x", 1), ("sin(x)", 2), ("-x", 2), ("x**y**x", 3), ("x + y - x + y + 1", 2), ("x*y*x*y", 2),
    ("x*y + 1", 3), ("x/y/x", 3), ("x - (y - (x - y))", 4), ("(1 - x)**2 + 100*(y - x**2)**2", 6),
])
def test_nesting_counts_levels_as_on_paper(text, depth):
    assert nesting(ast.parse(text, mode="eval").body) == depth


def nested(kind, levels):
    """A formula of ``kind`` nested exactly ``levels`` deep, each wrapping one level more,
    positive near the origin."""
    wraps = {"power": "(x**({}))", "fraction": "1/({})", "root": "sqrt({})", "call": "sin({})", "sign": "-({})",
             "bracket": "y - ({})"}
    text, turn = "x**2 + y**2 + 1", 0
    while nesting(ast.parse(text, mode="eval").body) < levels:
        wrap = wraps[kind] if kind != "mixed" else ("sqrt({})", "1/({})", "({})**2")[turn % 3]
        text, turn = wrap.format(text), turn + 1
    return text


KINDS = ["power", "fraction", "root", "call", "sign", "bracket", "mixed"]


@pytest.mark.parametrize("kind", KINDS)
def test_formulas_at_the_ceiling_are_drawn_and_one_more_level_is_refused(kind, tmp_path):
    at_ceiling = nested(kind, MAX_NESTING)
    assert nesting(ast.parse(at_ceiling, mode="eval").body) == MAX_NESTING
    picture = tmp_path / "f.png"
    out = CliRunner().invoke(main, ["compare", "--steps", "3", "--png", str(picture), "--quiet", "--", at_ceiling,
                                    "sgd:lr=0.001"])
    # drawn, title and all (the title's typesetting is what gives out first), or refused for
    # its values, never for its depth
    assert out.exit_code in (0, 2) and "RecursionError" not in out.output, out.output
    if out.exit_code == 0:
        assert picture.stat().st_size > 10_000
    else:
        assert "nests" not in out.output and "not finite" in out.output
    deeper = nested(kind, MAX_NESTING + 1)
    with pytest.raises(ExpressionError, match=rf"nests {MAX_NESTING + 1} levels deep .* the limit is {MAX_NESTING}$"):
        parse_expression(deeper)


def test_the_ceiling_holds_where_the_title_is_hardest_to_typeset(tmp_path):
    """Fractions and roots nest the title deepest: at the ceiling both are drawn."""
    for kind in ("fraction", "root"):
        picture = tmp_path / f"{kind}.png"
        out = CliRunner().invoke(main, ["compare", nested(kind, MAX_NESTING), "sgd:lr=0.001", "--steps", "3",
                                        "--png", str(picture), "--quiet"])
        assert out.exit_code == 0, out.output
        assert picture.stat().st_size > 10_000


@pytest.mark.parametrize("text", [
    "x" + "**x" * 166,  # 499 characters of powers: RecursionError and exit 1 before the ceiling
    "-" * 400 + "x",
    "x - (" * 80 + "x" + ")" * 80,
    "sin(" * 90 + "x" + ")" * 90,
    "x" + "/x" * 100,
])
def test_deep_formulas_are_one_line_and_exit_2(text, tmp_path):
    assert len(text) <= MAX_LENGTH
    started = time.perf_counter()
    line = refusal(["compare", "--png", tmp_path / "f.png", "--", text, "sgd"])
    assert f"the limit is {MAX_NESTING}" in line and "levels deep" in line and len(line) < 300
    assert time.perf_counter() - started < 5 and not (tmp_path / "f.png").exists()


def test_long_flat_formulas_are_not_deep():
    sum_of_terms = " + ".join(f"{k}*x**2*y" for k in range(1, 40))
    assert len(sum_of_terms) <= MAX_LENGTH
    fn = parse_expression(sum_of_terms)
    assert fn(torch.tensor([[1.0, 2.0]], dtype=torch.float64)).item() == sum(range(1, 40)) * 2


def test_a_deep_formula_in_a_scenario_file(tmp_path):
    path = write(tmp_path, GOOD.replace('function = "rosenbrock"', f'expression = "{"x" + "**x" * 40}"'))
    line = refusal(["run", path, "--out", tmp_path])
    assert f"{path}: expression: formula 'x**x**x" in line and "nests 41 levels deep" in line


# --- work a file asks for ------------------------------------------------------------------

def scenario(tmp_path, starts=1, steps=10, optimizers=1):
    points = ", ".join(f"[{-1.5 + 1e-4 * i:.4f}, 2]" for i in range(starts))
    entries = "".join(f'\n[[optimizers]]\nname = "adam"\nlr = {0.01 + 0.001 * i:.3f}\n' for i in range(optimizers))
    return write(tmp_path, f'function = "rosenbrock"\nstarts = [{points}]\nsteps = {steps}\n{entries}')


@pytest.mark.parametrize("starts,steps,optimizers,counted", [
    (7600, 10_000, 1, "7,600 starts x 10,000 steps x 1 optimizers = 76,000,000 path steps"),
    (1, 100_000, 11, "1 starts x 100,000 steps x 11 optimizers = 1,100,000 path steps"),
    (101, 10_000, 1, "101 starts x 10,000 steps x 1 optimizers = 1,010,000 path steps"),
])
def test_a_scenario_s_paths_are_counted_before_any_work(tmp_path, starts, steps, optimizers, counted):
    path = scenario(tmp_path, starts, steps, optimizers)
    started = time.perf_counter()
    line = refusal(["run", path, "--out", tmp_path / "out"])
    assert line.startswith(f"optviz: error: {path}: steps: {counted}, more than the {MAX_FILE_PATH_STEPS:,} a file "
                           f"may ask for without {ALLOW_LARGE}=1 (set it to run this anyway)")
    assert time.perf_counter() - started < 30
    assert not (tmp_path / "out").exists() or not list((tmp_path / "out").iterdir())


def test_a_scenario_of_hundreds_of_optimizers_is_refused(tmp_path):
    path = scenario(tmp_path, optimizers=300)
    line = refusal(["run", path, "--out", tmp_path])
    assert f"{path}: optimizers: 300 optimizers, more than the {MAX_FILE_OPTIMIZERS} a file may ask for without " \
           f"{ALLOW_LARGE}=1" in line


def test_the_gallery_refuses_before_rendering_anything(tmp_path):
    folder = tmp_path / "scenarios"
    folder.mkdir()
    write(folder, GOOD, "a.toml")
    scenario(folder, starts=200, steps=10_000).rename(folder / "b.toml")
    line = refusal(["gallery", "--scenarios", folder, "--out", tmp_path / "site", "--jobs", "1"])
    assert "b.toml: steps: 200 starts x 10,000 steps x 1 optimizers = 2,000,000 path steps" in line
    assert not (tmp_path / "site" / "a.png").exists()


def test_within_the_ceilings_and_with_the_override_a_scenario_loads(tmp_path, monkeypatch):
    assert len(load(scenario(tmp_path, starts=100, steps=10_000)).starts) == 100  # exactly the ceiling
    assert len(load(scenario(tmp_path, optimizers=MAX_FILE_OPTIMIZERS)).optimizers) == MAX_FILE_OPTIMIZERS
    large = scenario(tmp_path, starts=300, steps=10_000, optimizers=MAX_FILE_OPTIMIZERS + 1)
    with pytest.raises(ScenarioError):
        load(large)
    monkeypatch.setenv(ALLOW_LARGE, "yes")  # only 1 lifts the ceilings
    with pytest.raises(ScenarioError):
        load(large)
    monkeypatch.setenv(ALLOW_LARGE, "1")
    loaded = load(large)
    assert len(loaded.starts) * loaded.steps * len(loaded.optimizers) == 300 * 10_000 * 17


def test_a_landscape_scenario_s_grid_is_counted(tmp_path, monkeypatch):
    path = write(tmp_path, 'experiment = "landscape"\n[settings]\nresolution = 401\n')
    line = refusal(["run", path, "--out", tmp_path])
    assert (f"{path}: settings.resolution: 160,801 grid points x 500 examples x 2,945 weights = 236,779,472,500 "
            f"multiply-adds, more than the {MAX_FILE_GRID_WORK:,} a file may ask for without {ALLOW_LARGE}=1") in line
    monkeypatch.setenv(ALLOW_LARGE, "1")
    assert load(path).settings["resolution"] == 401


SPEC = """
import torch
torch.manual_seed(0)
model = torch.nn.Sequential(torch.nn.Linear(20, 30), torch.nn.Tanh(), torch.nn.Linear(30, 1))
loss = torch.nn.functional.mse_loss
data = (torch.randn(64, 20), torch.randn(64, 1))
"""


def test_a_landscape_spec_file_s_grid_is_counted_before_training(tmp_path, monkeypatch):
    spec = tmp_path / "spec.py"
    spec.write_text(SPEC)
    picture = tmp_path / "l.png"
    args = ["landscape", spec, "sgd:lr=0.01", "--epochs", "1", "--resolution", "5", "--png", picture, "--quiet"]
    monkeypatch.setattr(documents_landscapes, "MAX_FILE_GRID_WORK", 100_000)  # a ceiling this small model is over
    line = refusal(args)
    assert line.startswith("optviz: error: 25 grid points x 64 examples x 661 weights = 1,057,600 multiply-adds, "
                           f"more than the 100,000 a file may ask for without {ALLOW_LARGE}=1 (set it to run this anyway)")
    assert not picture.exists()
    monkeypatch.setenv(ALLOW_LARGE, "1")
    out = CliRunner().invoke(main, [str(a) for a in args])
    assert out.exit_code == 0, out.output
    assert picture.stat().st_size > 10_000


def test_the_built_in_landscape_from_the_command_line_has_no_file_ceiling(monkeypatch):
    """The ceiling is for files; the command line's own flags are the user's choice."""
    seen = {}
    monkeypatch.setattr(documents_landscapes, "landscape", lambda **kw: seen.update(kw) or None)
    monkeypatch.setattr(documents_landscapes, "rank_and_world", lambda: (1, 1, 0))  # not rank 0: nothing returned
    documents_landscapes.model_landscape(None, [("sgd", {"lr": 0.1})], resolution=401)
    assert seen["max_work"] is None


# --- the API misused -----------------------------------------------------------------------

MISUSES = {
    "save": (lambda: render.save("not a figure", "x.png"), "save: fig must be a matplotlib Figure"),
    "png": (lambda: render.png(42), "png: fig must be a matplotlib Figure"),
    "contour": (lambda: render.contour("rosenbrock"), "contour: function must be a TestFunction"),
    "function_curve": (lambda: render.function_curve(None), "function_curve: function must be a TestFunction"),
    "line_chart": (lambda: render.line_chart([1, 2]), "line_chart: line must be a Line"),
    "sweep_map": (lambda: render.sweep_map({}), "sweep_map: study must be a Sweep"),
    "basin_map": (lambda: render.basin_map("basins"), "basin_map: study must be a Basins"),
    "penalty_paths": (lambda: render.penalty_paths(1.0), "penalty_paths: paths must be a RegularizationPaths"),
    "training": (lambda: render.training({"train": {}}), "training: curves must be the Curves of an experiment"),
    "path_colours": (lambda: render.path_colours("result"), "result: expected an optviz Result"),
    "ax": (lambda: render.contour(optviz.get_function("rosenbrock"), ax="left"), "contour: ax must be a matplotlib Axes"),
}


@pytest.mark.parametrize("call,message", MISUSES.values(), ids=MISUSES)
def test_render_functions_name_the_argument_they_were_given_wrong(call, message, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(TypeError, match=f"^{message}.*, got [a-zA-Z]+$"):
        call()
    assert list(tmp_path.iterdir()) == []


# --- one-element tensor hyperparameters ----------------------------------------------------

ONE_ELEMENT = [torch.tensor([[[0.01]]]), torch.tensor([0.01], dtype=torch.float64), torch.tensor([[0.01]]).T]
TENSOR_LR = [("sgd", {}), ("momentum", {"momentum": 0.9}), ("nesterov", {"momentum": 0.9, "nesterov": True}),
             ("adagrad", {}), ("rmsprop", {"momentum": 0.5}), ("adam", {}), ("adamw", {"amsgrad": True})]


@pytest.mark.parametrize("lr", ONE_ELEMENT, ids=lambda t: f"{tuple(t.shape)}-{t.dtype}")
@pytest.mark.parametrize("name,options", TENSOR_LR, ids=[n for n, _ in TENSOR_LR])
def test_a_one_element_lr_of_any_shape_steps_as_torch_does(name, options, lr):
    function = optviz.get_function("quadratic")
    start = torch.tensor([[1.5, -2.0], [0.5, 1.0]], dtype=torch.float64)
    factory = getattr(optviz, "sgd" if name in ("momentum", "nesterov") else name)
    mine = optviz_path(factory(lr=lr, **options), function, start, 40)
    torch_name = {"sgd": "sgd", "momentum": "sgd", "nesterov": "sgd"}.get(name, name)
    theirs = torch_path(torch_name, {"lr": lr, **options}, function, start, 40)
    assert torch.equal(mine, theirs)
    assert not torch.equal(mine[-1], mine[0])  # it moved


def test_one_element_betas_of_any_shape_step_as_torch_does():
    function = optviz.get_function("rosenbrock")
    start = torch.tensor([-1.5, 2.0], dtype=torch.float64)
    betas = (torch.tensor([0.8]), torch.tensor([[0.99]]))
    mine = optviz_path(optviz.adam(lr=0.01, betas=betas), function, start, 40)
    assert torch.equal(mine, torch_path("adam", {"lr": 0.01, "betas": betas}, function, start, 40))


def test_the_drop_in_class_takes_them_too():
    function = optviz.get_function("rosenbrock")
    ours, theirs = (torch.tensor([-1.5, 2.0], dtype=torch.float64, requires_grad=True) for _ in range(2))
    lr = torch.tensor([[[0.01]]])
    steppers = [optviz.optim.Adam([ours], lr=lr), torch.optim.Adam([theirs], lr=lr, foreach=False)]
    for _ in range(30):
        for param, opt in zip((ours, theirs), steppers):
            param.grad = function.grad(param.detach())
            opt.step()
    assert torch.equal(ours, theirs)


def test_a_bad_one_element_tensor_is_refused_in_torch_s_words():
    with pytest.raises(ValueError) as ours:
        optviz.adam(lr=torch.tensor([[[-0.1]]]))
    with pytest.raises(ValueError) as theirs:
        torch.optim.Adam([torch.zeros(2, requires_grad=True)], lr=torch.tensor([[[-0.1]]]))
    assert str(ours.value).startswith(str(theirs.value))  # "Invalid learning rate: tensor([[[-0.1000]]])"


def test_a_sweep_tensor_still_broadcasts():
    lrs = torch.tensor([[0.01], [0.1]], dtype=torch.float64)
    opt = optviz.sgd(lr=lrs)
    params = torch.ones(2, 2, dtype=torch.float64)
    moved, _ = opt.step(params, torch.ones(2, 2, dtype=torch.float64), opt.init(params))
    assert moved.tolist() == [[0.99, 0.99], [0.9, 0.9]]


def test_the_override_lifts_the_work_ceiling_not_the_memory_budget(tmp_path, monkeypatch):
    monkeypatch.setenv(ALLOW_LARGE, "1")
    monkeypatch.setenv("OPTVIZ_MAX_MEMORY", "16M")
    with pytest.raises(ScenarioError, match=r"steps: 2000 steps x 2000 paths needs about .* MiB at its peak"):
        load(scenario(tmp_path, starts=2000, steps=2000))
