"""The command line: commands do what they say, numbers match the library, bad input is one line."""

import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
import torch
from PIL import Image

import optviz
from optviz.interface.cli import main

ROOT = Path(__file__).resolve().parent.parent


def invoke(*args, cwd=None):
    runner = CliRunner()
    if cwd is None:
        return runner.invoke(main, list(args))
    with runner.isolated_filesystem(temp_dir=cwd):
        return runner.invoke(main, list(args))


def test_compare_numbers_are_the_simulations():
    out = invoke("compare", "rosenbrock", "adam:lr=0.05,betas=0.9/0.99", "--steps", "300", "--start", "-1.5,2")
    assert out.exit_code == 0, out.output
    result = optviz.simulate("rosenbrock", {"a": optviz.adam(lr=0.05, betas=(0.9, 0.99))}, [-1.5, 2.0], 300)
    row = next(line for line in out.output.splitlines() if line.startswith("Adam lr=0.05 betas=(0.9,0.99)"))
    assert f"{result.losses[-1, 0].item():.4g}" in row.split()


def test_compare_writes_every_format(tmp_path):
    out = invoke("compare", "beale", "sgd:lr=1e-3", "adam:lr=0.05", "--steps", "40",
                 "--png", str(tmp_path / "a.png"), "--svg", str(tmp_path / "a.svg"), "--pdf", str(tmp_path / "a.pdf"),
                 "--loss", str(tmp_path / "l.png"), "--gif", str(tmp_path / "a.gif"), "--theme", "dark", "--size", "800x450")
    assert out.exit_code == 0, out.output
    assert Image.open(tmp_path / "a.png").size == (800, 450)
    assert (tmp_path / "a.svg").read_text().lstrip().startswith("<?xml")
    assert (tmp_path / "a.pdf").read_bytes()[:4] == b"%PDF"
    assert Image.open(tmp_path / "a.gif").size == (800, 450) and 2 < Image.open(tmp_path / "a.gif").n_frames <= 42
    assert out.output.count("wrote ") == 5


def test_tune_picks_the_best_learning_rate_of_the_grid():
    from optviz.analyses.studies import LR_GRID

    out = invoke("compare", "quadratic", "sgd", "--tune", "lr", "--steps", "30")
    assert out.exit_code == 0, out.output
    chosen = float(out.output.split("sgd lr=")[1].split()[0].rstrip(","))
    finals = {lr: optviz.simulate("quadratic", optviz.sgd(lr=lr), steps=30).losses[-1, 0].item() for lr in LR_GRID}
    stable = {lr: f for lr, f in finals.items() if f == f and lr < 1.0}  # lr >= 1 leaves the bounds
    assert chosen == pytest.approx(min(stable, key=stable.get), rel=1e-2)


def test_formula_as_function(tmp_path):
    out = invoke("compare", "x**2 + 10*sin(y)", "adam:lr=0.1", "--start", "3,1", "--steps", "20",
                 "--png", str(tmp_path / "f.png"))
    assert out.exit_code == 0, out.output
    assert (tmp_path / "f.png").exists()


def test_run_renders_scenarios(tmp_path):
    out = invoke("run", str(ROOT / "scenarios" / "03-gd-2d-quadratic.toml"), "--out", str(tmp_path / "figs"))
    assert out.exit_code == 0, out.output
    names = sorted(p.name for p in (tmp_path / "figs").iterdir())
    assert names == ["03-gd-2d-quadratic-loss.png", "03-gd-2d-quadratic.gif", "03-gd-2d-quadratic.html",
                     "03-gd-2d-quadratic.png"]


def test_gallery_command_builds_and_reruns_only_what_changed(tmp_path):
    source = tmp_path / "scn"
    source.mkdir()
    for name in ("03-gd-2d-quadratic.toml", "07-rmsprop.toml"):
        (source / name).write_text((ROOT / "scenarios" / name).read_text())
    out = invoke("gallery", "--scenarios", str(source), "--out", str(tmp_path / "g"), "--no-gif")
    assert out.exit_code == 0 and "2 of 2 scenarios rendered" in out.output, out.output
    out = invoke("gallery", "--scenarios", str(source), "--out", str(tmp_path / "g"), "--no-gif")
    assert "0 of 2 scenarios rendered" in out.output
    (source / "07-rmsprop.toml").write_text((source / "07-rmsprop.toml").read_text().replace("steps = 20", "steps = 25"))
    out = invoke("gallery", "--scenarios", str(source), "--out", str(tmp_path / "g"), "--no-gif")
    assert "1 of 2 scenarios rendered" in out.output
    index = (tmp_path / "g" / "index.html").read_text()
    assert "RMSProp with lr 0.4 and α = 0.9" in index and 'src="07-rmsprop.png"' in index


def test_list():
    out = invoke("list", "functions")
    assert out.exit_code == 0
    assert "rosenbrock" in out.output and "minima: f(1, 1) = 0" in out.output
    assert "none (unbounded below)" in out.output
    assert "a 16 x 2 matrix with entries in [-3, 3] at --dim 8x8r2, any size with another" in out.output  # low_rank
    out = invoke("list", "optimizers")
    assert "adam" in out.output and "betas=(0.9, 0.999)" in out.output and "adam_notes" in out.output


def test_check_reports_zero_differences():
    out = invoke("check", "--steps", "20")
    assert out.exit_code == 0, out.output
    rows = [line.split() for line in out.output.splitlines() if line.split()[:1] and line.split()[0] in optviz.OPTIMIZERS]
    assert len(rows) == 16 and all(float(row[-1]) == 0 for row in rows)


def test_sweep_and_basins(tmp_path):
    out = invoke("sweep", "quadratic", "momentum", "--lr", "1e-3:1", "--momentum", "0:0.9", "--n", "6",
                 "--steps", "30", "--png", str(tmp_path / "s.png"))
    assert out.exit_code == 0, out.output
    assert "best: lr=" in out.output and (tmp_path / "s.png").exists()
    out = invoke("basins", "himmelblau", "adam:lr=0.1", "--n", "12", "--steps", "150", "--png", str(tmp_path / "b.png"))
    assert out.exit_code == 0, out.output
    shares = [int(s.rstrip("%,")) for s in out.output.split("minimum: ")[1].split()[:4]]
    assert sum(shares) >= 97 and all(s > 10 for s in shares)


def test_landscape_command(tmp_path):
    out = invoke("landscape", "adam:lr=0.005", "--n", "9", "--epochs", "1", "--png", str(tmp_path / "l.png"),
                 "--gif", str(tmp_path / "l.gif"))
    assert out.exit_code == 0, out.output
    assert "pca directions, explained variance" in out.output and "projection error" in out.output
    assert Image.open(tmp_path / "l.png").size == (1920, 1080) and Image.open(tmp_path / "l.gif").n_frames > 2


def test_quiet_version_completion_and_module_entry():
    assert invoke("--quiet", "compare", "sphere", "sgd:lr=0.1").output == ""
    assert invoke("--version").output.strip() == f"optviz, version {optviz.__version__}"
    assert "_optviz_completion" in invoke("completion", "bash").output
    done = subprocess.run([sys.executable, "-m", "optviz", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "compare" in done.stdout


@pytest.mark.parametrize("command", ["compare", "run", "gallery", "list", "check", "sweep", "basins", "landscape",
                                     "completion"])
def test_every_command_has_help_with_examples(command):
    out = invoke(command, "--help")
    assert out.exit_code == 0 and "Usage: main " + command in out.output.replace("optviz", "main")
    if command not in ("check", "completion"):
        assert "Examples:" in out.output


def test_subpackages_are_attributes_of_optviz():
    code = ("import sys, optviz\nassert 'torch' not in sys.modules\n"
            "print(optviz.optim.Adam.__name__, optviz.render.plot.__name__, optviz.landscape.__name__, optviz.Result.__name__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["Adam", "plot", "optviz.analyses.models.landscapes", "Result"]


def test_help_does_not_import_torch():
    code = "import sys\nfrom optviz.interface.cli import main\nprint('torch' in sys.modules, 'matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]


BAD = [
    (["compare", "rosenbrok"], 2, "did you mean 'rosenbrock'"),
    (["compare", "rosenbrock", "adma"], 2, "unknown optimizer 'adma'; did you mean 'adam'"),
    (["compare", "rosenbrock", "adam:lr=abc"], 2, "lr must be a float or a tensor, got str 'abc'"),
    (["compare", "rosenbrock", "adam:lr=-1"], 2, "Invalid learning rate: -1"),
    (["compare", "rosenbrock", "adam:speed=2"], 2, "adam has no hyperparameter 'speed'"),
    (["compare", "rosenbrock", "adam:lr"], 2, "expected key=value"),
    (["compare", "rosenbrock", "--start", "1,2,3"], 2, "rosenbrock is 2D, got 3 coordinates"),
    (["compare", "rosenbrock", "--start", "1e9,0"], 2, "cannot start rosenbrock: 1e+09 lies more than 10 times"),
    (["compare", "rosenbrock", "--start", "0,nan"], 2, "cannot start rosenbrock: nan is not a finite number"),
    (["compare", "rosenbrock", "--start", "a,b"], 2, "is not a point"),
    (["compare", "--steps", "-5"], 2, "-5 is not in the range"),
    (["compare", "--steps", "100000000"], 2, "is not in the range"),
    (["compare", "x + __import__('os')"], 2, "cannot call '__import__'"),
    (["compare", "rosenbrock", "--png", "/nonexistent/a.png"], 2, "folder /nonexistent does not exist"),
    (["compare", "rosenbrock", "--png", "a.jpg"], 2, "suffix must be one of .png"),
    (["compare", "rosenbrock", "--size", "huge"], 2, "unknown size 'huge'"),
    (["compare", "rosenbrock", "--theme", "neon"], 2, "'neon' is not one of"),
    (["run", "missing.toml"], 2, "missing.toml: cannot read"),
    (["list", "colours"], 2, "'colours' is not one of 'functions', 'optimizers', 'scenarios'"),
    (["sweep", "rosenbrock", "sgd", "--lr", "1:abc", "--momentum", "0:1"], 2, "expected LOW:HIGH"),
    (["sweep", "rosenbrock", "sgd", "--lr", "1e-3:1"], 2, "exactly two ranges"),
    (["sweep", "rosenbrock", "sgd", "--lr", "1e-3:1", "--speed", "0:1"], 2, "sgd has no number hyperparameter 'speed'"),
    (["sweep", "rosenbrock", "adam", "--lr", "1e-3:1", "--betas", "0:1"], 2,
     "adam has no number hyperparameter 'betas' to sweep; did you mean 'beta"),
    (["sweep", "rosenbrock", "adam", "--lr", "1e-3:1", "--beta1", "0:1"], 2, "Invalid beta parameter at index 0: 1.0"),
    (["basins", "saddle", "adam"], 2, "saddle is 2D with no known minima"),
    (["basins", "parabola", "adam"], 2, "basins are mapped on 2D functions with known minima; parabola is 1D"),
    (["compare", "rosenbrock", "sgd", "--bounds", "0,1"], 2, "rosenbrock is 2D: give 2 finite pairs lo,hi"),
    (["compare", "rosenbrock", "sgd", "--bounds", "0,1,1,0"], 2, "rosenbrock is 2D: give 2 finite pairs lo,hi with lo < hi"),
    (["compare", "rosenbrock", "sgd", "--size", "0x0"], 2, "size must be between 64 and 10000 pixels a side, got 0x0"),
    (["compare", "rosenbrock", "sgd", "--size", "wide"], 2, "unknown size 'wide'"),
    (["compare", "rosenbrock", "sgd", "--data", "paths.txt"], 2, "--data: cannot write paths.txt: the suffix must be"),
    (["run", "rosenbrok"], 2, "no bundled scenario of that name; did you mean 'rosenbrock'"),
    (["run", "rosenbrock", "saddle", "--data", "both.csv"], 2, "one file for 2 scenarios: give a format"),
    (["nonsense"], 2, "No such command 'nonsense'"),
    (["landscape", "--directions", "diagonal"], 2, "'diagonal' is not pca, random, hessian or a directions FILE.pt"),
    (["landscape", "adam:lr=-1"], 2, "Invalid learning rate: -1"),
    (["landscape", "--png", "/nonexistent/l.png"], 2, "does not exist"),
]


@pytest.mark.parametrize("args,code,message", BAD, ids=[" ".join(a) for a, _, _ in BAD])
def test_bad_input_is_one_line_on_stderr(args, code, message):
    out = CliRunner().invoke(main, args)
    assert out.exit_code == code, out.output
    text = out.stderr if hasattr(out, "stderr") else out.output
    lines = [line for line in text.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("optviz: error: "), text
    assert message in lines[0]
    assert out.stdout == ""  # checked before any work: nothing printed, nothing written
    assert "Traceback" not in out.output


def test_broken_scenarios_are_usage_errors(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("title = 'x'\nfunction = 'rosenbrock'\n[[optimizers]]\nname = 'adam'\nlr = -1\n")
    out = CliRunner().invoke(main, ["run", str(bad)])
    assert out.exit_code == 2 and "bad.toml: optimizers[0]: Invalid learning rate: -1" in out.output
    broken = tmp_path / "broken.toml"
    broken.write_text("title = \n")
    out = CliRunner().invoke(main, ["run", str(broken)])
    assert out.exit_code == 2 and "not valid TOML" in out.output


def test_a_failed_run_exits_1_without_a_traceback(monkeypatch):
    import optviz.analyses.comparisons as sim_module  # noqa: F401 - the function, see optviz/__init__

    def boom(*args, **kwargs):
        raise RuntimeError("out of memory")

    monkeypatch.setattr(sys.modules["optviz.analyses.comparisons"], "simulate", boom)
    out = CliRunner().invoke(main, ["compare", "sphere", "sgd"])
    assert out.exit_code == 1
    assert out.output.strip() == "optviz: error: RuntimeError: out of memory"


def test_a_table_without_a_picture_says_how_to_get_one(tmp_path):
    assert "add --png FILE" in invoke("compare", "sphere", "sgd:lr=0.1").stderr
    assert "add --png" not in invoke("compare", "sphere", "sgd:lr=0.1", "--png", str(tmp_path / "a.png")).stderr


def test_data_files_from_the_commands(tmp_path):
    out = invoke("compare", "rosenbrock", "adam:lr=0.05", "sgd:lr=1e-3", "--steps", "30", "--data", str(tmp_path / "c.csv"))
    assert out.exit_code == 0, out.output
    back = optviz.Result.load(tmp_path / "c.csv")
    direct = optviz.simulate("rosenbrock", {"a": optviz.adam(lr=0.05), "s": optviz.sgd(lr=1e-3)}, steps=30)
    assert torch.equal(back.positions, direct.positions) and list(back.optimizers) == ["Adam lr=0.05", "SGD lr=0.001"]
    # (the pictures are other tests' business: these runs write data only where they can)
    out = invoke("run", "saddle", "--out", str(tmp_path / "r"), "--data", "json", "--no-gif")
    assert out.exit_code == 0, out.output
    assert optviz.Result.load(tmp_path / "r" / "13-saddle.json").function.name == "saddle"
    out = invoke("run", "20-overfitting-linear-regression", "--out", str(tmp_path / "r"), "--data", str(tmp_path / "lr.npz"),
                 "--no-gif")
    assert out.exit_code == 0 and (tmp_path / "lr.npz").exists(), out.output
    for command in (["sweep", "quadratic", "sgd", "--lr", "1e-2:0.5", "--momentum", "0:0.9", "--n", "4", "--steps", "20"],
                    ["basins", "himmelblau", "adam:lr=0.1", "--n", "5", "--steps", "50"]):
        target = tmp_path / f"{command[0]}.csv"
        out = invoke(*command, "--png", str(tmp_path / f"{command[0]}.png"), "--data", str(target))
        assert out.exit_code == 0 and f"wrote {target}" in out.stdout, out.output


def test_run_finds_bundled_scenarios_by_name(tmp_path):
    from optviz.documents.scenario import find

    assert find("rosenbrock").name == find("11-rosenbrock").name == "11-rosenbrock.toml"
    out = invoke("run", "gd-2d-quadratic", "--out", str(tmp_path), "--no-gif")  # its GIF: test_run_renders_scenarios
    assert out.exit_code == 0, out.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["03-gd-2d-quadratic-loss.png", "03-gd-2d-quadratic.html",
                                                          "03-gd-2d-quadratic.png"]


def test_gallery_renders_the_bundled_scenarios_by_default(tmp_path, monkeypatch):
    import optviz

    picked = [f for f in optviz.scenario.bundled() if f.stem == "07-rmsprop"]
    monkeypatch.setattr(optviz.scenario, "bundled", lambda: picked)
    monkeypatch.chdir(tmp_path)
    out = invoke("gallery", "--jobs", "1")
    assert out.exit_code == 0 and "1 of 1 scenarios rendered" in out.stdout, out.output
    assert (tmp_path / "gallery" / "index.html").exists() and (tmp_path / "gallery" / "07-rmsprop.png").exists()


def test_progress_bars_show_on_a_terminal(monkeypatch, tmp_path):
    import optviz.interface.progress

    monkeypatch.setattr(optviz.interface.progress, "_on_terminal", lambda: True)
    out = invoke("compare", "rosenbrock", "sgd:lr=1e-3", "--steps", "2000")
    assert out.exit_code == 0
    assert "compare [####################] 2,000/2,000 steps, " in out.stderr and " steps/s, 0 s left" in out.stderr
    assert "steps/s" not in out.stdout
    out = invoke("basins", "himmelblau", "adam:lr=0.1", "--n", "5", "--steps", "30", "--png", str(tmp_path / "b.png"))
    assert "basins of 5x5 starts [" in out.stderr
    assert "steps/s" not in invoke("--quiet", "compare", "sphere", "sgd:lr=0.1").stderr
    monkeypatch.setattr(optviz.interface.progress, "_on_terminal", lambda: False)
    assert "steps/s" not in invoke("compare", "rosenbrock", "sgd:lr=1e-3").stderr


def test_progress_rates_are_timed_from_when_the_work_starts(monkeypatch, tmp_path, capsys):
    import re
    import time

    import optviz.interface.progress
    from optviz.interface.progress import ProgressBar
    from optviz.interface.terminal import Terminal

    def rates(text, what):
        units = {"": 1, "k": 1e3, "M": 1e6, "G": 1e9}
        return [float(n) * units[u] for n, u in re.findall(rf"([\d.]+)([kMG]?) {what}/s", text)]

    monkeypatch.setattr(optviz.interface.progress, "_on_terminal", lambda: True)
    # one scenario reported once, when it is done: it took far more than 10 ms, not a nanosecond
    out = invoke("run", "gd-2d-quadratic", "--out", str(tmp_path), "--no-gif")
    assert out.exit_code == 0, out.output
    assert rates(out.stderr, "scenarios") and max(rates(out.stderr, "scenarios")) < 100, out.stderr
    # a later phase is timed from the last report of the one before
    with ProgressBar(Terminal(), "two phases") as bar:
        time.sleep(0.05)
        bar("training steps", 1, 1)
        time.sleep(0.05)
        bar("grid points", 1, 1)
    stderr = capsys.readouterr().err
    assert all(0 < rate < 100 for what in ("training steps", "grid points") for rate in rates(stderr, what)), stderr
    assert len(rates(stderr, "grid points")) == 1


def test_quiet_after_the_command_and_bare_optviz():
    assert invoke("compare", "sphere", "sgd:lr=0.1", "--quiet").output == ""
    assert invoke("compare", "sphere", "sgd:lr=0.1", "-q").output == ""
    out = invoke()
    assert out.exit_code == 0 and out.stdout.startswith("Usage:") and "Commands:" in out.stdout


def test_list_everything_and_whole_summaries():
    out = invoke("list")
    assert out.exit_code == 0
    assert all(f"{kind}:" in out.stdout for kind in ("functions", "optimizers", "scenarios"))
    assert "11-rosenbrock" in invoke("list", "scenarios").stdout
    rows = [line.split(None, 1) for line in invoke("list", "optimizers").stdout.splitlines() if not line.startswith(" ")]
    names = [name for name, _ in rows]
    assert names[:9] == list(optviz.registry.BUILT_INS) and all(s.endswith(".") for _, s in rows), rows
    # every torch.optim class by name, its defaults read from its signature
    assert {"nadam", "radam", "adamax", "adadelta", "asgd", "rprop", "lbfgs", "adafactor", "muon"} <= set(names)
    listing = invoke("list", "optimizers").stdout
    assert "momentum_decay=0.004" in listing and "history_size=100" in listing and "foreach" not in listing
    third = invoke("list", "optimizers", "--from", "pytorch_optimizer")
    assert third.exit_code == 0 and "pytorch_optimizer:Lion " in third.stdout and "pytorch_optimizer:Prodigy " in third.stdout
    bad = invoke("list", "optimizers", "--from", "no_such_module_here")
    assert bad.exit_code == 2 and "cannot import 'no_such_module_here'" in bad.stderr


def test_list_optimizers_prints_plain_text():
    out = invoke("list", "optimizers")
    assert out.exit_code == 0 and "`" not in out.output and ":func:" not in out.output
    assert "momentum    SGD with heavy-ball momentum (sgd with momentum=0.9 by default)." in out.output.splitlines()


def test_an_optimizer_without_lr_that_barely_moves_says_so():
    out = invoke("compare", "rosenbrock", "adam", "sgd:lr=1e-3")
    assert out.exit_code == 0, out.output
    path = optviz.simulate("rosenbrock", {"a": optviz.adam()}, steps=100).positions[:, 0]
    moved = float((path[-1] - path[0]).norm())
    notes = [line for line in out.stderr.splitlines() if "default lr" in line]
    assert notes == [f"adam ran at its default lr=0.001 and moved {moved:.3g} in 100 steps (the frame is 4 wide): "
                     "add --tune lr to pick one, or give one (adam:lr=0.05)"]
    assert "default lr" not in invoke("compare", "rosenbrock", "adam:lr=0.05").stderr  # given: nothing to say
    assert "default lr" not in invoke("compare", "rosenbrock", "adam", "--tune", "lr").stderr  # tuned: chosen


def test_a_formula_starts_where_its_path_shows(tmp_path):
    out = invoke("compare", "x**2 + y**2", "adam:lr=0.1", "--png", str(tmp_path / "f.png"))
    assert out.exit_code == 0, out.output
    assert out.stdout.startswith("x**2 + y**2: x**2 + y**2, from (-4.0, -4.0), 100 steps")
    fn = optviz.get_function("(x - 4)**2 + (y + 4)**2")  # its lowest point at a corner: the opposite one
    assert fn.start == (-4.0, 4.0)
    assert optviz.get_function("(x - 1)**2", bounds=[(-5, 5)]).start == (-4.0,)
    assert optviz.get_function("x1**2 + x2**2 + (x3 - 4)**2").start == (-4.0, -4.0, -4.0)


def test_an_interactive_page_shows_short_in_text():
    result = optviz.simulate("himmelblau", {"sgd": optviz.sgd(lr=0.01), "adam": optviz.adam(lr=0.1)}, steps=30)
    page = optviz.render.html(result)
    size = len(str(page).encode("utf-8"))
    assert size > 10_000 and repr(page) == f"<optviz page: 2 optimizers, 30 steps, {size / 1000:.0f} kB>"
    from IPython.lib.pretty import pretty

    assert pretty(page) == repr(page)


def test_compare_runs_matrix_optimizers_on_a_matrix_problem_and_draws_its_spectrum(tmp_path):
    out = invoke("compare", "low_rank", "muon:lr=0.02", "adam:lr=0.05",
                 "--dim", "4x3r2", "--steps", "6", "--spectrum", str(tmp_path / "s.png"))
    assert out.exit_code == 0, out.output
    assert "low_rank_4x3r2: ½‖UVᵀ - T‖²/(mn), from (" in out.output and ": 14 numbers), 6 steps" in out.output
    assert "Muon lr=0.02: per-start (7 x 2 matrix), one torch instance per start" in out.output
    assert Image.open(tmp_path / "s.png").size == (1920, 1080)


@pytest.mark.parametrize("args,message", [
    (("low_rank", "adam", "--dim", "0x8"), "Invalid value for --dim: low_rank needs at least 1 row and 1 column, got '0x8'"),
    (("low_rank", "adam", "--dim", "3x5r4"), "Invalid value for --dim: low_rank: rank 4 must be from 1 to the smaller side, 3"),
    (("least_squares", "adam", "--dim", "600x600"), "Invalid value for --dim: least_squares 600x600: a point of 360,000 numbers"),
    (("low_rank", "adam", "--dim", "eight"), "'eight' is neither a whole number nor a matrix size like 8x8 or 8x8r2"),
    (("rosenbrock", "adam", "--spectrum", "s.png"), "Invalid value for --spectrum: a spectrum is drawn for the matrix problems"),
])
def test_a_matrix_problem_of_impossible_size_exits_2_in_one_line(tmp_path, args, message):
    out = invoke("compare", *args, cwd=tmp_path)
    assert out.exit_code == 2 and message in out.output and len(out.output.strip().splitlines()) == 1, out.output
    assert not list(tmp_path.rglob("*.png"))
