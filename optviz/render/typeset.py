"""Formulas and powers of ten as plain text: superscripts and the minus sign of Unicode, so
that an SVG holds each label as one run of text in its font stack, which a slide program
shows and edits without the font that drew the PNG (mathtext would write it glyph by glyph
in DejaVu Sans alone)."""

from __future__ import annotations

import math
import re
from typing import Any

from matplotlib.axis import Axis
from matplotlib.figure import Figure
from matplotlib.ticker import LogFormatterSciNotation

SUPERSCRIPTS = str.maketrans("0123456789-+=()ni", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻⁺⁼⁽⁾ⁿⁱ")
MINUS = "\u2212"
# a power written x^2, x**2, x^-1 or x^n: the exponent has a superscript form
_POWER = re.compile(r"(\*\*|\^)(-?(?:\d+|n|i))(?![\w.])")


def superscript(text: str) -> str:
    """``text`` in superscript characters (digits, signs, parentheses, n and i)."""
    return text.translate(SUPERSCRIPTS)


def power_of_ten(exponent: int) -> str:
    """10 to the power, as text: 10⁻³."""
    return "10" + superscript(str(int(exponent)))


def formula_text(formula: str) -> str:
    """A formula as it reads in a title: powers as superscripts, products as dots, the minus
    sign for hyphens, exp( for e^( (x**2 - 3*x*y: x² − 3·x·y)."""
    text = _POWER.sub(lambda match: superscript(match.group(2)), formula).replace("e^(", "exp(")
    return text.replace("*", "·").replace("-", MINUS)


class PowerLabels(LogFormatterSciNotation):
    """Log-axis labels as plain text (10⁻³, 2×10⁻³), on the ticks matplotlib's own labels."""

    def __call__(self, x: float, pos: Any = None) -> str:
        if not super().__call__(x, pos):
            return ""
        if x == 0:
            return "0"
        sign = MINUS if x < 0 else ""
        exponent = math.floor(math.log10(abs(x)) + 1e-9)
        mantissa = abs(x) / 10.0 ** exponent
        if abs(mantissa - round(mantissa)) < 1e-6 and round(mantissa) == 1:
            return sign + power_of_ten(exponent)
        return f"{sign}{mantissa:.3g}×{power_of_ten(exponent)}"


def plain_log_labels(fig: Figure) -> Figure:
    """Every log axis of the figure labelled in plain text rather than mathtext (where its
    labels are matplotlib's own); returns the figure."""
    for ax in fig.axes:
        for axis in (ax.xaxis, ax.yaxis):
            _plain(axis)
    return fig


def _plain(axis: Axis) -> None:
    if axis.get_scale() not in ("log", "symlog"):
        return
    for formatter, setter in ((axis.get_major_formatter(), axis.set_major_formatter),
                              (axis.get_minor_formatter(), axis.set_minor_formatter)):
        if type(formatter) is LogFormatterSciNotation:
            labels = PowerLabels(base=formatter._base, labelOnlyBase=formatter.labelOnlyBase,
                                 minor_thresholds=formatter.minor_thresholds, linthresh=formatter._linthresh)
            setter(labels)
