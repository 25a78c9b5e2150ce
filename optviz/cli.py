"""The optviz command line. Nothing imports this module; torch loads only when a command runs."""

from __future__ import annotations

import sys
from typing import Any

import click

from . import __version__

# The six optimizers of the course notes on their ill-conditioned quadratic (SEEDS.md
# section 2), each with the learning rate the notes use for it.
DEFAULT_FUNCTION = "ill_conditioned"
DEFAULT_SPECS = (
    "sgd:lr=0.4",
    "momentum:lr=0.6,momentum=0.5",
    "nesterov:lr=0.3,momentum=0.5",
    "adagrad:lr=2",
    "rmsprop:lr=0.4,alpha=0.9",
    "adam:lr=0.16",
)


class OptimizerSpec(click.ParamType):
    """``NAME[:key=value,...]``, e.g. ``adam:lr=0.05,betas=0.9/0.999``."""

    name = "OPT[:k=v,...]"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, dict[str, Any]]:
        if isinstance(value, tuple):
            return value
        name, _, options = value.partition(":")
        kwargs = {}
        for item in filter(None, options.split(",")):
            key, sep, raw = item.partition("=")
            if not sep or not key:
                self.fail(f"{value!r}: expected key=value, got {item!r}", param, ctx)
            kwargs[key.strip()] = self._value(value, key.strip(), raw.strip(), param, ctx)
        from .optimizers import get_optimizer

        try:
            get_optimizer(name, **kwargs)
        except (TypeError, ValueError) as error:
            self.fail(f"{value!r}: {error}", param, ctx)
        return name, kwargs

    def _value(self, spec: str, key: str, raw: str, param: Any, ctx: Any) -> Any:
        if raw.lower() in ("true", "false"):
            return raw.lower() == "true"
        try:
            if "/" in raw:
                return tuple(float(part) for part in raw.split("/"))
            return float(raw)
        except ValueError:
            self.fail(f"{spec!r}: {key}={raw!r} is not a number", param, ctx)


def _point(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in text.split(","))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a point like -1.5,2") from None


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="optviz")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors.")
@click.pass_context
def main(ctx: click.Context, quiet: bool) -> None:
    """See how optimizers move.

    Runs SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam and AdamW (equal bit for bit to
    torch.optim) on test functions and compares them.

    \b
    Examples:
      optviz compare
      optviz compare rosenbrock sgd:lr=1e-3 adam:lr=0.05 --steps 500 --start -1.5,2
    """
    ctx.obj = {"quiet": quiet}


@main.command()
@click.argument("function", required=False, default=DEFAULT_FUNCTION)
@click.argument("optimizers", nargs=-1, type=OptimizerSpec())
@click.option("--steps", type=click.IntRange(0, 1_000_000), default=100, show_default=True,
              help="Steps per optimizer.")
@click.option("--start", type=str, default=None,
              help="Start point as x,y (default: the function's own start).")
@click.option("--tol", type=click.FloatRange(min=0, min_open=True), default=1e-6, show_default=True,
              help="Counts the steps until f is within this of the minimum.")
@click.pass_context
def compare(ctx: click.Context, function: str, optimizers: tuple, steps: int, start: str | None,
            tol: float) -> None:
    """Run optimizers side by side on FUNCTION and print how each did.

    Each OPT is a name from `optviz list optimizers` with optional hyperparameters,
    e.g. adam:lr=0.05,betas=0.9/0.999. With no arguments: the six optimizers of the
    course notes on the ill-conditioned quadratic 0.1 x1^2 + 2 x2^2.

    \b
    Examples:
      optviz compare
      optviz compare rosenbrock sgd:lr=1e-3 momentum:lr=1e-3,momentum=0.9 adam:lr=0.05 --steps 500
    """
    from .functions import get_function
    from .optimizers import get_optimizer
    from .simulate import simulate

    try:
        fn = get_function(function)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="FUNCTION") from None
    specs = optimizers or tuple(OptimizerSpec().convert(s, None, None) for s in DEFAULT_SPECS)
    named = _unique_names(specs)
    point = _point(start) if start else None
    if point is not None and len(point) != fn.dim:
        raise click.BadParameter(f"{fn.name} is {fn.dim}D, got {len(point)} coordinates", param_hint="--start")
    try:
        result = simulate(fn, {label: get_optimizer(n, **kw) for label, (n, kw) in named.items()}, point, steps)
    except (TypeError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    if not ctx.obj["quiet"]:
        click.echo(_comparison_table(result, tol))


def _unique_names(specs: tuple) -> dict[str, tuple[str, dict[str, Any]]]:
    named: dict[str, tuple[str, dict[str, Any]]] = {}
    for name, kwargs in specs:
        label, k = name, 2
        while label in named:
            label, k = f"{name}#{k}", k + 1
        named[label] = (name, kwargs)
    return named


def _comparison_table(result: Any, tol: float) -> str:
    fn = result.function
    reached = result.steps_to(tol)
    rows = [("optimizer", "final point", "final f", f"steps to f-f*<={tol:g}")]
    for b, name in enumerate(result.names):
        opt = result.optimizers[name]
        if result.diverged_at[b] >= 0:
            k = int(result.diverged_at[b])
            rows.append((opt.label, "-", "-", f"diverged at step {k}"))
            continue
        point = ", ".join(f"{x:.4g}" for x in result.positions[-1, b].tolist())
        steps = "-" if not fn.minima else (str(int(reached[b])) if reached[b] >= 0 else "not reached")
        rows.append((opt.label, f"({point})", f"{result.losses[-1, b].item():.4g}", steps))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    header = f"{fn.name}: {fn.formula}, from {tuple(result.starts[0].tolist())}, {result.steps} steps"
    return header + "\n\n" + "\n".join(lines)


def run() -> None:
    """The console script: click reports usage errors (exit 2); any other failure is one
    line on stderr and exit 1, never a traceback."""
    try:
        main()
    except Exception as error:  # noqa: BLE001 - the last line of defence for the terminal
        click.echo(f"optviz: error: {error}", err=True)
        sys.exit(1)
