"""Formulas to functions: whitelisted, compiled to torch ops, gradients by autograd."""

import pytest
import torch

import optviz
from optviz.core.functions.formulas import ExpressionError, parse_expression


def test_value_and_gradient():
    fn = parse_expression("x**2 + 10*sin(y)")
    p = torch.tensor([[1.0, 0.5], [-2.0, 3.0]], dtype=torch.float64)
    assert torch.allclose(fn(p), p[:, 0] ** 2 + 10 * torch.sin(p[:, 1]))
    expected = torch.stack([2 * p[:, 0], 10 * torch.cos(p[:, 1])], dim=1)
    assert torch.allclose(fn.grad(p), expected)
    assert fn.dim == 2 and fn.minima == () and fn.start == (-4.0, -4.0)  # a corner: its path shows


def test_one_dimensional_constants_and_functions():
    fn = parse_expression("x*cos(0.15*pi*x) + exp(-abs(x)) - e", bounds=[(-13, 13)])
    x = torch.tensor([[10.0]], dtype=torch.float64)
    expected = 10 * torch.cos(torch.tensor(1.5 * torch.pi, dtype=torch.float64)) + torch.exp(torch.tensor(-10.0, dtype=torch.float64)) - torch.e
    assert fn(x).item() == pytest.approx(expected.item())
    assert fn.dim == 1


def test_constant_formula_is_flat():
    fn = parse_expression("3")
    p = torch.zeros(4, 2, dtype=torch.float64)
    assert fn(p).tolist() == [3.0] * 4 and torch.equal(fn.grad(p), torch.zeros(4, 2, dtype=torch.float64))


def test_runs_in_simulate_like_any_function():
    fn = parse_expression("(x - 1)**2 + (y + 2)**2", start=[3, 3])
    result = optviz.simulate(fn, optviz.adam(lr=0.1), steps=300)
    assert torch.allclose(result.positions[-1, 0], torch.tensor([1.0, -2.0], dtype=torch.float64), atol=1e-2)


@pytest.mark.parametrize(
    "text,message",
    [
        ("__import__('os').system('ls')", "cannot call"),
        ("x.real", "an attribute is not allowed"),
        ("x[0]", "a subscript is not allowed"),
        ("(lambda: 1)()", "cannot call"),
        ("lambda x: x", "a lambda is not allowed"),
        ("x**1000", "exponent 1000 is too large"),
        ("x**-500", "exponent 500 is too large"),
        ("'abc'", "the constant 'abc' is not allowed"),
        ("z + 1", "unknown name 'z'"),
        ("open('f')", "cannot call 'open'"),
        ("sin(x, y)", "sin() takes exactly one argument"),
        ("x if y else 1", "an if expression is not allowed"),
        ("x < y", "a comparison is not allowed"),
        ("x // y", "the operator FloorDiv is not allowed"),
        ("x +", "is not a formula"),
        ("x" * 600, "the limit is 500"),
        ("True", "the constant True is not allowed"),
    ],
)
def test_anything_outside_the_whitelist_is_refused(text, message):
    with pytest.raises(ExpressionError, match=message.replace("(", r"\(").replace(")", r"\)")):
        parse_expression(text)


def test_errors_point_at_the_part():
    with pytest.raises(ExpressionError, match=r"at 'foo\(y\)' \(column 8\)"):
        parse_expression("x**2 + foo(y)")


def test_y_needs_two_dimensions():
    with pytest.raises(ExpressionError, match="unknown name 'y'"):
        parse_expression("x + y", bounds=[(-1, 1)])
    with pytest.raises(ExpressionError, match="lo < hi"):
        parse_expression("x", bounds=[(1, -1)])
