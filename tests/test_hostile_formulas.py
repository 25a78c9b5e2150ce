"""Hostile formulas: constant parts, exponents, long text and functions with nothing to draw are
refused with one short line; valid formulas with constants keep their values."""

import math
import re
import warnings

import numpy as np
import pytest
import torch
from click.testing import CliRunner

from optviz import render
from optviz.interface.cli import main
from optviz.core.functions.formulas import MAX_LENGTH, ExpressionError, parse_expression
from optviz.render.contours import NothingToDraw


def refused(text, **kwargs):
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text, **kwargs)
    return str(caught.value)


CONSTANTS = [
    ("9**9**9", "in '9**9**9' at '9**9' (column 4): exponent 387420489 is too large (at most 100)"),
    ("1/0 + x", "in '1/0 + x' at '1/0' (column 1): division by zero"),
    ("0**-1 + x", "at '0**-1' (column 1): division by zero"),
    ("(-1)**0.5 + x", "at '(-1)**0.5' (column 1): not a real number"),
    ("sqrt(-1)*x", "at 'sqrt(-1)' (column 1): not a real number"),
    ("exp(1000) + x", "at 'exp(1000)' (column 1): not finite (inf)"),
    ("log(0) + y", "in 'log(0) + y' at 'log(0)' (column 1): not finite (-inf)"),
    ("1e400*x", "at '1e400' (column 1): not finite (inf)"),
    ("1" + "0" * 400 + "*x", "(column 1): too large for a float64"),
    ("1e300**2 + x", "at '1e300**2' (column 1): too large for a float64"),
    ("x + 1e308*10", "at '1e308*10' (column 5): not finite (inf)"),
]


@pytest.mark.parametrize("text,message", CONSTANTS, ids=[t[:20] for t, _ in CONSTANTS])
def test_constant_parts_are_evaluated_once_and_refused(text, message):
    assert message in refused(text)


EXPONENTS = [
    ("x**--1000", "at '--1000' (column 4): exponent 1000 is too large (at most 100)"),
    ("x**-(1000)", "at '-(1000)' (column 4): exponent 1000 is too large"),
    ("x**(10*10*10)", "at '10*10*10' (column 5): exponent 1000 is too large"),
    ("x**(2**10)", "at '2**10' (column 5): exponent 1024 is too large"),
    ("x**1e3", "at '1e3' (column 4): exponent 1000 is too large"),
    ("x**(+1000)", "at '+1000' (column 5): exponent 1000 is too large"),
    ("y + sin(x**(40*pi))", "at '40*pi' (column 13): exponent 125.664 is too large"),
    ("x**100.5", "exponent 100.5 is too large"),
]


@pytest.mark.parametrize("text,message", EXPONENTS, ids=[t for t, _ in EXPONENTS])
def test_the_exponent_limit_holds_however_the_exponent_is_written(text, message):
    assert message in refused(text)


@pytest.mark.parametrize("text", ["x**100", "x**-100", "x**(2*50)", "x**-(10*10)", "x**y", "x**(y*1000)"])
def test_exponents_within_the_limit_and_exponents_of_the_point_pass(text):
    assert parse_expression(text, bounds=[(0.5, 1.5), (0.5, 1.5)]).dim == 2


def test_valid_formulas_with_constants_keep_their_values():
    p = torch.tensor([[1.5, -0.5], [-2.0, 3.0], [0.25, 0.75]], dtype=torch.float64)
    x, y = p[:, 0], p[:, 1]
    expected = {
        "2**3*x + y": 8.0 * x + y,
        "x**-2 + y**2": x ** -2.0 + y ** 2.0,
        "pi*x": math.pi * x,
        "exp(1)*y": torch.exp(torch.tensor(1.0, dtype=torch.float64)) * y,
        "x**(2*50)": x ** 100.0,
    }
    for text, values in expected.items():
        assert torch.equal(parse_expression(text)(p), values), text  # bit for bit: nothing refolded
    assert parse_expression("exp(1)*y")(p)[0].item() == pytest.approx(math.e * -0.5)


def test_long_formulas_are_quoted_briefly():
    message = refused("x+" * 50_000 + "x")
    assert message.startswith("formula 'x+x+x+") and "…" in message
    assert message.endswith(f"is 100,001 characters long; the limit is {MAX_LENGTH}")
    assert len(message) < 140
    near_the_end = "x + " * 120 + "foo(y)"  # within the limit, the error at its end
    message = refused(near_the_end)
    assert "cannot call 'foo'" in message and len(message) < 260
    assert refused("x + " * 120 + "'" + "a" * 20 + "'").count("a") <= 60


def test_formulas_name_at_most_max_dim_coordinates():
    assert refused("x999999 + 1") == "in 'x999999 + 1': x999999 is beyond the 100,000 coordinates a point may have"
    assert "finite pairs" in refused("x", bounds=[(-math.inf, 1.0)])


@pytest.mark.parametrize("text,bounds,frame", [
    ("log(-1 - x**2)", [(-2, 2), (-2, 2)], "[-2, 2] x [-2, 2]"),
    ("sqrt(-1-x**2-y**2)", [(-2, 2), (-1, 3)], "[-2, 2] x [-1, 3]"),
    ("log(-1 - x**2)", [(-2, 2)], "[-2, 2]"),
])
def test_a_function_not_finite_anywhere_is_refused_before_drawing(text, bounds, frame, capfd):
    fn = parse_expression(text, bounds=bounds)
    draw = render.contour if fn.dim == 2 else render.function_curve
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # no RuntimeWarning on the way
        with pytest.raises(NothingToDraw, match=rf"^f is not finite anywhere in the frame {re.escape(frame)}: "
                                                r"nothing to draw$"):
            draw(fn)
    assert capfd.readouterr().err == ""


def test_refusals_are_value_errors():
    assert issubclass(ExpressionError, ValueError) and issubclass(NothingToDraw, ValueError)


def test_a_curve_with_gaps_is_drawn_over_its_finite_part():
    ax = render.function_curve(parse_expression("log(x)", bounds=[(-2, 2)]))
    low, high = ax.get_ylim()
    assert np.isfinite([low, high]).all() and high > math.log(2)


def one_line(out):
    text = out.stderr if hasattr(out, "stderr") else out.output
    lines = [line for line in text.splitlines() if line]
    assert len(lines) == 1 and lines[0].startswith("optviz: error: "), text
    assert "Traceback" not in out.output
    return lines[0]


@pytest.mark.parametrize("text,message", [
    ("1/0 + x", "in '1/0 + x' at '1/0' (column 1): division by zero"),
    ("9**9**9", "exponent 387420489 is too large (at most 100)"),
    ("x**(2**10)", "exponent 1024 is too large"),
    ("log(0) + y", "not finite (-inf)"),
    ("x+" * 50_000 + "x", "is 100,001 characters long; the limit is 500"),
])
def test_hostile_formulas_are_one_line_and_exit_2_on_the_command_line(text, message, tmp_path):
    out = CliRunner().invoke(main, ["compare", text, "--png", str(tmp_path / "a.png")])
    assert out.exit_code == 2, out.output
    line = one_line(out)
    assert message in line and len(line) < 300
    assert not (tmp_path / "a.png").exists()


def test_nothing_to_draw_is_one_line_on_the_command_line(tmp_path):
    out = CliRunner().invoke(main, ["compare", "log(-1 - x**2)", "sgd", "--steps", "3", "--bounds", "-2,2,-2,2",
                                    "--png", str(tmp_path / "a.png")])
    assert out.exit_code != 0  # the command line decides the code: a ValueError subclass from the library
    assert one_line(out).endswith("f is not finite anywhere in the frame [-2, 2] x [-2, 2]: nothing to draw")
    assert not (tmp_path / "a.png").exists()
