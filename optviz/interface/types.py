"""The command line's own parameter types: finite numbers, and optimizers written as
``NAME[:key=value,...]``."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import click


class Finite(click.FloatRange):
    """A finite float in a range: click's FloatRange lets nan and inf through."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class Dimension(click.ParamType):
    """--dim: a whole number of coordinates, or a matrix problem's size ROWSxCOLS (with its
    rank: ROWSxCOLSrRANK); the function it is for checks the rest."""

    name = "N|ROWSxCOLS"

    def convert(self, value: Any, param: Any, ctx: Any) -> int | str:
        text = str(value).strip()
        if text.isdigit():
            return int(text)
        if "x" in text.lower():
            return text
        self.fail(f"{value!r} is neither a whole number nor a matrix size like 8x8 or 8x8r2", param, ctx)


class OptimizerSpec(click.ParamType):
    """``NAME[:key=value,...]``: a built-in, a torch.optim class in any case, or an import
    path (``package.module:Class``), e.g. ``adam:lr=0.05,betas=0.9/0.999``,
    ``nadam:lr=0.01``, ``pytorch_optimizer:Lion:lr=1e-3``."""

    name = "OPT[:k=v,...]"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, dict[str, Any]]:
        """(NAME, {key: value}), its name and keys checked without torch; its values are
        torch's to check, by :func:`made`, once every other argument has passed."""
        if isinstance(value, tuple):
            return value
        name, kwargs = parse_spec(value, lambda message: self.fail(message, param, ctx))
        from ..core.vocabulary import check_hyperparameters

        try:
            check_hyperparameters(name, kwargs)
        except ValueError as error:
            self.fail(f"{value!r}: {error}", param, ctx)
        return name, kwargs


def optimizer_specs(texts: Sequence[str]) -> list[tuple[str, dict[str, Any]]]:
    """OPTs that came as plain arguments (after a file name), checked as OptimizerSpec checks
    an argument of its type."""
    ctx = click.get_current_context()
    return [OptimizerSpec().convert(text, None, ctx) for text in texts]


def made(specs: Sequence[tuple[str, dict[str, Any]]], param_hint: str = "OPTIMIZERS", function: Any = None) -> None:
    """Each OPT made once, so that torch's own checks of its values (lr=-1) fail as bad
    input before any work; with the ``function``, a torch optimizer also takes one step on
    it (see :func:`first_steps`). The last check of a command, as it loads torch."""
    from ..core.optimizers.registry import get_optimizer

    for name, kwargs in specs:
        try:
            first_steps(function, {name: get_optimizer(name, allow_import=True, **kwargs)})
        except (TypeError, ValueError) as error:
            raise click.BadParameter(f"{_written(name, kwargs)!r}: {error}", param_hint=param_hint) from None


def first_steps(function: Any, optimizers: dict[str, Any]) -> None:
    """Each torch optimizer stepped once on ``function`` from its start, so that one that
    cannot step fails (an OptimizerError naming it) before any work; nothing without a test function."""
    from ..core.functions import TestFunction
    from ..core.optimizers.foreign import TorchOptimizer

    torch_ones = {label: opt for label, opt in optimizers.items() if isinstance(opt, TorchOptimizer)}
    if isinstance(function, TestFunction) and torch_ones:
        from ..core.simulation.runs import simulate

        for label, opt in torch_ones.items():
            simulate(function, {label: opt}, steps=1)


def _written(name: str, kwargs: dict[str, Any]) -> str:
    """An OPT as the command line takes it: adam:lr=0.1,betas=0.9/0.99."""
    shown = ",".join(f"{key}={'/'.join(map(str, v)) if isinstance(v, tuple) else v}" for key, v in kwargs.items())
    return f"{name}:{shown}" if shown else name


def parse_spec(value: str, fail: Any) -> tuple[str, dict[str, Any]]:
    """``NAME[:key=value,...]`` -> (NAME, {key: value}); the options follow the last colon,
    so NAME may be an import path with one. Values are numbers, true/false, none, tuples
    written a/b, or words (line_search_fn=strong_wolfe)."""
    from ..core.vocabulary import optimizer_names

    head, colon, tail = value.rpartition(":")
    options_follow = colon and ("=" in tail or not tail or head.lower() in optimizer_names())
    name, options = (head, tail) if options_follow else (value, "")
    kwargs = {}
    for item in filter(None, options.split(",")):
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            fail(f"{value!r}: expected key=value, got {item!r}")
        kwargs[key.strip()] = _value(raw.strip()) if raw.strip() else fail(f"{value!r}: {key.strip()}= has no value")
        if not _finite(kwargs[key.strip()]):  # torch allows lr=inf; a picture of it shows nothing
            fail(f"{value!r}: {key.strip()}={raw.strip()} is not finite; every number must be")
    if not name.strip():
        fail(f"{value!r}: no optimizer name")
    return name.strip(), kwargs


def _finite(value: Any) -> bool:
    if isinstance(value, tuple):
        return all(map(_finite, value))
    return not isinstance(value, float) or math.isfinite(value)


def _value(raw: str) -> Any:
    if raw.lower() in ("true", "false"):
        return raw.lower() == "true"
    if raw.lower() == "none":
        return None
    if "/" in raw:
        return tuple(_value(part) for part in raw.split("/"))
    for number in (int, float):  # 5 stays whole: max_iter=5, ns_steps=5
        try:
            return number(raw)
        except ValueError:
            pass
    return raw  # a word: the optimizer says whether it takes one


def check_function_text(text: str, bounds: str | None = None, dim: int | str | None = None) -> None:
    """FUNCTION checked without torch: a zoo name, or a formula that passes every check of
    the formula parser (over --bounds, or the parser's default bounds in ``dim``
    coordinates); else BadParameter naming the problem. The function itself is made later,
    with torch."""
    from ..core.functions.formulas import DEFAULT_BOUNDS, check_expression
    from ..core.vocabulary import check_function_name

    try:
        if not text.strip() or check_function_name(text):
            return
        if isinstance(dim, str):
            raise click.BadParameter(f"a size like {dim} is for the matrix problems (low_rank, matrix_sensing, "
                                     f"least_squares); a formula takes --dim as a whole number", param_hint="--dim")
        check_expression(text.strip(), _pairs(bounds) or ((DEFAULT_BOUNDS,) * dim if dim else None))
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="FUNCTION") from None


def bounds_pairs(bounds: str) -> tuple[tuple[float, float], ...]:
    """--bounds x0,x1[,y0,y1,...] as lo,hi pairs; else BadParameter naming the problem."""
    try:
        values = [float(v) for v in bounds.split(",")]
    except ValueError:
        raise click.BadParameter(f"{bounds!r} is not x0,x1[,y0,y1,...]", param_hint="--bounds") from None
    if not values or len(values) % 2:
        raise click.BadParameter(f"{bounds!r}: give a lo,hi pair per coordinate", param_hint="--bounds")
    return tuple(zip(values[::2], values[1::2]))


def _pairs(bounds: str | None) -> tuple[tuple[float, float], ...] | None:
    """--bounds as lo,hi pairs, if it reads as them (its own check names what is wrong)."""
    try:
        return None if bounds is None else bounds_pairs(bounds)
    except click.BadParameter:
        return None
