"""Scenario files: the shipped ones load, and every kind of mistake is named precisely."""

from pathlib import Path

import pytest
import torch

import optviz
from optviz.documents.scenario import LESSONS, ExperimentScenario, Scenario, ScenarioError, bundled, find, load

ROOT = Path(__file__).resolve().parent.parent
SHIPPED = sorted((ROOT / "scenarios").glob("*.toml"))

GOOD = """
title = "t"
function = "rosenbrock"
start = [-1.5, 2]
steps = 10

[[optimizers]]
name = "adam"
lr = 0.05
"""


EVENT = """
[[events]]
name = "out"
optimizer = "Adam lr=0.05"
kind = "passes"
coordinate = 2
value = 1
"""


def test_events_fill_the_description_from_the_run(tmp_path):
    text = GOOD.replace('title = "t"', 'title = "t"\ndescription = "y passes 1 at step {out}; {{braces}} stay"')
    scenario = load(write(tmp_path, text.replace("[-1.5, 2]", "[-1.5, 0.5]").replace("steps = 10", "steps = 60") + EVENT))
    result = scenario.run()
    y = result.path("Adam lr=0.05")[:, 1]
    step = int((y.abs() > 1).nonzero()[0])
    assert step > 0 and y[step - 1].abs() <= 1
    assert scenario.caption(result) == f"y passes 1 at step {step}; {{braces}} stay"
    assert scenario.events_in(result)["out"].point == tuple(result.path("Adam lr=0.05")[step].tolist())


def write(tmp_path, text, name="s.toml"):
    path = tmp_path / name
    path.write_text(text)
    return path


def test_shipped_scenarios_cover_the_notes():
    assert len(SHIPPED) >= 22
    loaded = {p.stem: s for p in SHIPPED if isinstance(s := load(p), Scenario)}
    experiments = {load(p).experiment for p in SHIPPED if isinstance(load(p), ExperimentScenario)}
    assert experiments == {"linear_regression", "mlp", "landscape", "edge_of_stability"}
    functions = {s.function.name for s in loaded.values()}
    assert {"parabola", "xcos", "quadratic", "ill_conditioned", "rosenbrock", "beale", "saddle",
            "rastrigin", "himmelblau", "goldstein_price"} <= functions
    kinds = {opt.kind for s in loaded.values() for opt in s.optimizers.values()}
    assert {"sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam", "adam_notes"} <= kinds
    for scenario in loaded.values():
        assert scenario.title and scenario.description


def test_seeds_section_1_numbers():
    """x <- (1 - 2 lr) x: after 10 steps from 10, lr 0.2 -> 10 * 0.6^10, lr 1.1 -> 10 * 1.2^10."""
    result = load(ROOT / "scenarios" / "01-gd-1d-learning-rates.toml").run()
    finals = dict(zip(result.optimizers, result.positions[-1, :, 0].tolist()))
    assert finals["SGD lr=0.2"] == pytest.approx(10 * 0.6**10)
    assert finals["SGD lr=0.05"] == pytest.approx(10 * 0.9**10)
    assert finals["SGD lr=1.1"] == pytest.approx(10 * 1.2**10)


def test_a_scenario_runs_what_it_says(tmp_path):
    scenario = load(write(tmp_path, GOOD))
    result = scenario.run()
    direct = optviz.simulate("rosenbrock", {"adam": optviz.adam(lr=0.05)}, [-1.5, 2.0], 10)
    assert torch.equal(result.positions, direct.positions)
    assert scenario.outputs.png and not scenario.outputs.gif and scenario.outputs.size == "slide"


def test_custom_labels_and_expressions(tmp_path):
    text = GOOD.replace('function = "rosenbrock"', 'expression = "x**2 + y**2"\nbounds = [[-3, 3], [-3, 3]]')
    text += '\n[[optimizers]]\nname = "sgd"\nlr = 0.1\nlabel = "plain"\n'
    scenario = load(write(tmp_path, text))
    assert list(scenario.optimizers) == ["Adam lr=0.05", "plain"]
    assert scenario.function.bounds == ((-3.0, 3.0), (-3.0, 3.0))


BAD = [
    ("steps = 10\n[[optimizers]]\nname = \"adam\"\n", "function: give exactly one of function"),
    (GOOD.replace("rosenbrock", "rosenbrok"), "function: unknown function 'rosenbrok'; did you mean 'rosenbrock'"),
    (GOOD.replace('name = "adam"', 'name = "adma"'), r"optimizers\[0\].name: unknown optimizer 'adma'; did you mean 'adam'"),
    (GOOD.replace("lr = 0.05", "lr = -1"), r"optimizers\[0\]: Invalid learning rate: -1"),
    (GOOD.replace("lr = 0.05", "lrr = 0.05"), r"optimizers\[0\].lrr: unknown key; did you mean 'lr'"),
    (GOOD.replace("lr = 0.05", 'lr = "fast"'), "lr must be a float or a tensor, got str"),
    (GOOD.replace("steps = 10", "stepz = 10"), "stepz: unknown key; did you mean 'steps'"),
    (GOOD.replace("steps = 10", "steps = -3"), "steps: must be between 0 and 100000, got -3"),
    (GOOD.replace("steps = 10", "steps = 100000\nstarts = " + str([[0.0, 0.0]] * 30000)).replace("start = [-1.5, 2]\n", ""), "path steps"),
    (GOOD.replace("steps = 10", 'steps = "ten"'), "steps: expected int, got 'ten'"),
    (GOOD.replace("[-1.5, 2]", "[1e9, 5]"), r"start: \[1000000000.0, 5\] cannot start a run: 1e\+09 lies more than 10 times"),
    (GOOD.replace("[-1.5, 2]", "[1, 2, 3]"), "start: expected a point of 2 numbers"),
    (GOOD + "[outputs]\nsize = \"huge\"\n", "outputs.size: expected slide, square, paper"),
    (GOOD + "[outputs]\ntheme = \"neon\"\n", "outputs.theme: expected one of light, dark, projector, got 'neon'"),
    (GOOD.replace("steps = 10", 'steps = 10\nlesson = "calculus"'),
     "lesson: expected one of basics, conditioning, adaptive methods, landscapes, regularization, beyond, got 'calculus'"),
    (GOOD + "[outputs]\nkinds = [\"pie\"]\n", "outputs.kinds: expected a list drawn from"),
    (GOOD + "[outputs]\ngiff = true\n", "outputs.giff: unknown key; did you mean 'gif'"),
    (GOOD + "[outputs]\nframes = 1\n", "outputs.frames: must be between 2 and 2000"),
    (GOOD + "[outputs]\npng = \"yes\"\n", "outputs.png: expected bool"),
    (GOOD.replace('function = "rosenbrock"', 'expression = "x + __import__(1)"'), "expression: .*cannot call '__import__'"),
    (GOOD.replace('function = "rosenbrock"', 'function = "rosenbrock"\nbounds = [[2, -2]]'), "bounds: expected"),
    ("title = 'x\n", "not valid TOML"),
    (GOOD.replace("[[optimizers]]\nname = \"adam\"\nlr = 0.05\n", ""), "optimizers: expected one or more"),
    (GOOD + '\n[[optimizers]]\nname = "adam"\nlr = 0.05\n', "is used twice"),
    (GOOD.replace("rosenbrock", "saddle").replace("[-1.5, 2]", "[-1.5, 0.1]") + "[outputs]\nkinds = [\"distance\"]\n",
     "outputs.kinds: 'distance' needs known minima to measure to; saddle has none"),
    (GOOD.replace("rosenbrock", "parabola").replace("[-1.5, 2]", "[3]") + "[outputs]\nkinds = [\"surface\"]\n",
     "outputs.kinds: 'surface' draws 2D functions; parabola is 1D"),
    (GOOD + "[outputs]\nkinds = [\"spectrum\"]\n",
     "outputs.kinds: 'spectrum' draws a matrix problem's singular values .*; rosenbrock is none"),
    (GOOD.replace('function = "rosenbrock"', 'function = "low_rank"\ndim = "4x8r5"').replace("start = [-1.5, 2]\n", ""),
     "dim: low_rank: rank 5 must be from 1 to the smaller side, 4, in '4x8r5'"),
    (GOOD.replace('function = "rosenbrock"', 'expression = "x1**2"\ndim = "3x3"').replace("start = [-1.5, 2]\n", ""),
     "dim: a formula takes dim as a whole number; '3x3' is a matrix problem's size"),
    (GOOD.replace("lr = 0.05", 'lr = 0.05\ncolour = "blurple"'), r"optimizers\[0\].colour: unknown colour 'blurple'"),
    (GOOD.replace('title = "t"', 'title = "t"\ndescription = "out at {out}"') + EVENT.replace("Adam lr=0.05", "Adam"),
     r"events\[0\].optimizer: no optimizer labelled 'Adam' \(labels: Adam lr=0.05\)"),
    (GOOD.replace('title = "t"', 'title = "t"\ndescription = "out at {gone}"') + EVENT,
     r"description: \{gone\} names no event \(events: out\)"),
    (GOOD + EVENT.replace('"passes"', '"leaves"'), r"events\[0\].kind: expected one of diverges, passes, step, got 'leaves'"),
    (GOOD + EVENT.replace("value = 1", "values = 1"), r"events\[0\].values: unknown key; did you mean 'value'\?"),
    (GOOD + EVENT.replace('name = "out"\n', ""), r"events\[0\].name: missing"),
]


@pytest.mark.parametrize("text,message", BAD)
def test_mistakes_name_the_file_and_key(tmp_path, text, message):
    path = write(tmp_path, text, "broken.toml")
    with pytest.raises(ScenarioError, match=message) as error:
        load(path)
    assert str(error.value).startswith(f"{path}: ")
    assert "\n" not in str(error.value)


def test_missing_file(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load(tmp_path / "nope.toml")


def test_a_colour_of_ones_own(tmp_path):
    from optviz.documents.gallery import stills

    scenario = load(write(tmp_path, GOOD.replace("lr = 0.05", 'lr = 0.05\ncolour = "crimson"')))
    assert scenario.colours == {"Adam lr=0.05": "#dc143c"}
    fig = stills(scenario, scenario.run())["s"]
    lines = [line for line in fig.axes[0].lines if line.get_gid() == "path:0" and len(line.get_xdata()) > 2]
    assert lines[0].get_color() == "#dc143c"


def test_a_checkout_path_run_elsewhere_points_to_the_bundled_name(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ScenarioError, match=r"^scenarios/11-rosenbrock.toml: no such file; the bundled scenario "
                                            r"is found by its name: 11-rosenbrock$"):
        find("scenarios/11-rosenbrock.toml")
    assert find("11-rosenbrock").name == "11-rosenbrock.toml"
    assert find("mine.toml") == Path("mine.toml")  # not bundled: load says it cannot be read


def test_lesson_groups_a_scenario_in_the_gallery_and_defaults_to_beyond(tmp_path):
    assert load(write(tmp_path, GOOD)).lesson == "beyond"
    assert load(write(tmp_path, GOOD.replace("steps = 10", 'steps = 10\nlesson = "conditioning"'))).lesson == "conditioning"
    assert {load(path).lesson for path in bundled()} == set(LESSONS)  # every group has its scenarios


def test_a_matrix_problem_is_sized_by_dim_and_rebuilt_from_its_saved_recipe(tmp_path):
    path = write(tmp_path, 'title = "m"\nfunction = "matrix_sensing"\ndim = "3x4r1"\nsteps = 3\n'
                           '[[optimizers]]\nname = "adam"\nlr = 0.1\n[outputs]\nkinds = ["spectrum"]\n')
    result = load(path).run()
    assert result.function.name == "matrix_sensing_3x4r1" and result.function.matrix == (3, 4)
    again = optviz.Result.load(result.save(tmp_path / "run.json"))
    assert again.function.recipe == {"name": "matrix_sensing", "dim": "3x4r1"}
    torch.testing.assert_close(again.function(result.positions), result.losses)
