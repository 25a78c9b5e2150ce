"""Bad input is refused in one line, exit 2, before torch loads; and the refusals say what
would work (the option, key, hyperparameter or form meant)."""

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent

# runs the command line as `optviz` does, then says whether torch was loaded when it exited
PROBE = """
import sys
from optviz.interface.cli import main
try:
    main(sys.argv[1:], prog_name="optviz")
finally:
    print("torch loaded" if "torch" in sys.modules else "torch not loaded", file=sys.stderr)
"""

REFUSED = [
    (["compare", "rosenbrok"], "unknown function 'rosenbrok'; did you mean 'rosenbrock'?"),
    (["compare", "rosenbrock", "adma"], "unknown optimizer 'adma'; did you mean 'adam'?"),
    (["compare", "rosenbrock", "nadamm:lr=0.1"], "unknown optimizer 'nadamm'; did you mean 'nadam'?"),
    (["compare", "rosenbrock", "adam:speed=2"], "adam has no hyperparameter 'speed'"),
    (["compare", "rosenbrock", "adam:learning_rate=0.1"],
     "adam has no hyperparameter 'learning_rate': torch calls it lr, as adam:lr=0.1"),
    (["compare", "rosenbrock", "adam:beta1=0.8"],
     "adam has no hyperparameter 'beta1': betas holds both, as adam:betas=0.8/0.999"),
    (["compare", "rosenbrock", "sgd:momentun=0.9"], "sgd has no hyperparameter 'momentun'; did you mean 'momentum'?"),
    (["compare", "rosenbrock", "nadam:momentum_decai=0.004"], "did you mean 'momentum_decay'?"),
    (["compare", "rosenbrock", "adam:lr"], "expected key=value"),
    (["compare", "x^2 + y^2"], "^ is not a power here: use ** for powers, as in x**2"),
    (["compare", "x**2 + z"], "unknown name 'z'"),
    (["compare", "x + __import__('os')"], "cannot call '__import__'"),
    (["compare", "sin(x"], "is not a formula"),
    (["compare", "--size", "1920*1080"], "'1920*1080': write a size as WIDTHxHEIGHT, as 1920x1080"),
    (["compare", "--size", "huge"], "unknown size 'huge'"),
    (["compare", "--dark"], "no such option '--dark'; did you mean '--theme dark'?"),
    (["compare", "--slide"], "no such option '--slide'; did you mean '--size slide'?"),
    (["compare", "--stpes", "5"], "'--steps'"),
    (["compare", "--steps", "-5"], "-5 is not in the range"),
    (["compare", "--theme", "neon"], "'neon' is not one of"),
    (["compare", "rosenbrock", "--png", "a.jpg"], "suffix must be one of .png"),
    (["compare", "rosenbrock", "--png", "/nonexistent/a.png"], "folder /nonexistent does not exist"),
    (["run", "missing.toml"], "missing.toml: cannot read"),
    (["run", "broken.toml"], "broken.toml: not valid TOML"),
    (["run", "rosenbrok"], "no bundled scenario of that name; did you mean 'rosenbrock'?"),
    (["sweep", "rosenbrock", "sgdd", "--lr", "1e-3:1", "--momentum", "0:0.9"], "unknown optimizer 'sgdd'"),
    (["sweep", "rosenbrock", "sgd", "--lr", "1:abc", "--momentum", "0:1"], "expected LOW:HIGH"),
    (["sweep", "rosenbrok", "sgd", "--lr", "1e-3:1", "--momentum", "0:0.9"], "did you mean 'rosenbrock'?"),
    (["basins", "himmelblau", "adam:learning_rate=0.1"], "torch calls it lr"),
    (["landscape", "adma"], "unknown optimizer 'adma'"),
    (["list", "colours"], "'colours' is not one of"),
]


@pytest.mark.parametrize("args,message", REFUSED, ids=[" ".join(a) for a, _ in REFUSED])
def test_bad_input_is_refused_before_torch_loads(args, message, tmp_path):
    (tmp_path / "broken.toml").write_text("title = \n")
    done = subprocess.run([sys.executable, "-c", PROBE, *args], cwd=tmp_path, capture_output=True, text=True)
    *said, torch_state = done.stderr.splitlines()
    assert done.returncode == 2, done.stderr
    assert len(said) == 1 and said[0].startswith("optviz: error: "), done.stderr
    assert message in said[0]
    assert torch_state == "torch not loaded", said[0]
    assert done.stdout == "" and list(tmp_path.iterdir()) == [tmp_path / "broken.toml"]


def test_values_only_torch_can_check_are_refused_once_it_loads(tmp_path):
    """lr=-1 is torch's to refuse (its own words), still before any work."""
    done = subprocess.run([sys.executable, "-c", PROBE, "compare", "rosenbrock", "adam:lr=-1"], cwd=tmp_path,
                          capture_output=True, text=True)
    said, torch_state = done.stderr.splitlines()
    assert done.returncode == 2 and "'adam:lr=-1': Invalid learning rate: -1" in said
    assert torch_state == "torch loaded" and list(tmp_path.iterdir()) == []


def test_good_input_still_runs_after_the_torch_free_checks(tmp_path):
    done = subprocess.run([sys.executable, "-c", PROBE, "compare", "rosenbrock", "adam:lr=0.05,betas=0.9/0.99",
                           "nadam:lr=0.01", "--steps", "20"], cwd=tmp_path, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Adam lr=0.05 betas=(0.9,0.99)" in done.stdout and "NAdam lr=0.01" in done.stdout
