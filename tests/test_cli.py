"""The command line: commands run, numbers match the library, bad input is one line, exit 2."""

import subprocess
import sys

import pytest
from click.testing import CliRunner

import optviz
from optviz.cli import main


def invoke(*args):
    return CliRunner().invoke(main, list(args))


def test_compare_with_no_arguments_prints_the_six_optimizers():
    out = invoke("compare")
    assert out.exit_code == 0, out.output
    lines = out.output.splitlines()
    assert lines[0].startswith("ill_conditioned: 0.1x₁² + 2x₂², from (-5.0, -2.0), 100 steps")
    for label in ["SGD lr=0.4", "Momentum lr=0.6 momentum=0.5", "Nesterov lr=0.3 momentum=0.5",
                  "AdaGrad lr=2", "RMSProp lr=0.4 alpha=0.9", "Adam lr=0.16"]:
        assert any(line.startswith(label + " ") for line in lines), label


def test_compare_numbers_are_the_simulations():
    out = invoke("compare", "rosenbrock", "adam:lr=0.05,betas=0.9/0.99", "--steps", "300", "--start", "-1.5,2")
    assert out.exit_code == 0, out.output
    result = optviz.simulate("rosenbrock", {"a": optviz.adam(lr=0.05, betas=(0.9, 0.99))}, [-1.5, 2.0], 300)
    row = next(line for line in out.output.splitlines() if line.startswith("Adam lr=0.05 betas=(0.9,0.99)"))
    assert f"{result.losses[-1, 0].item():.4g}" in row.split()


def test_compare_marks_divergence_and_quiet_prints_nothing():
    out = invoke("compare", "quadratic", "sgd:lr=2", "--steps", "40")
    assert out.exit_code == 0 and "diverged at step" in out.output
    assert invoke("--quiet", "compare").output == ""


@pytest.mark.parametrize(
    "args,message",
    [
        (["compare", "rosenbrok"], "did you mean 'rosenbrock'"),
        (["compare", "rosenbrock", "adma"], "unknown optimizer 'adma'; did you mean 'adam'"),
        (["compare", "rosenbrock", "adam:lr=abc"], "lr='abc' is not a number"),
        (["compare", "rosenbrock", "adam:lr=-1"], "Invalid learning rate: -1"),
        (["compare", "rosenbrock", "adam:speed=2"], "adam has no hyperparameter 'speed'"),
        (["compare", "rosenbrock", "adam:lr"], "expected key=value"),
        (["compare", "rosenbrock", "--start", "1,2,3"], "rosenbrock is 2D, got 3 coordinates"),
        (["compare", "rosenbrock", "--start", "a,b"], "is not a point"),
        (["compare", "--steps", "-5"], "-5 is not in the range"),
    ],
)
def test_bad_input_is_a_usage_error(args, message):
    out = invoke(*args)
    assert out.exit_code == 2
    assert message in out.output
    assert "Traceback" not in out.output


def test_version_and_module_entry_point():
    assert invoke("--version").output.strip() == f"optviz, version {optviz.__version__}"
    done = subprocess.run([sys.executable, "-m", "optviz", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "compare" in done.stdout


def test_help_does_not_import_torch():
    code = "import sys\nfrom optviz.cli import main\nprint('torch' in sys.modules, 'matplotlib' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "False"]
