"""The optviz command line. Nothing imports this module; torch loads only when a command runs."""

from __future__ import annotations

import contextlib
import math
import os
import sys
import time
import warnings
from pathlib import Path
from collections.abc import Iterator
from typing import Any

import click

from ..core import __version__
from ..core.errors import BadInput, FastModeWarning
from ..core.limits import MAX_MESSAGE
from ..render.kinds import STILL_FORMATS as STILLS
from ..render.style import SIZES, THEMES

DEFAULT_FUNCTION = "ill_conditioned"
# The six optimizers of the course notes, with their own defaults; on any function but the
# default one their learning rates are tuned for it in one batched search.
SIX_NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
# On the default function, each at a learning rate that shows it at its best there (chosen
# by looking, not by --tune, which favours bold jumps).
SIX = (
    ("sgd", {"lr": 0.4}),
    ("momentum", {"lr": 0.6, "momentum": 0.5}),
    ("nesterov", {"lr": 0.3, "momentum": 0.5}),
    ("adagrad", {"lr": 2.0}),
    ("rmsprop", {"lr": 0.1, "alpha": 0.9}),
    ("adam", {"lr": 0.5}),
)


class OneLineErrors(click.Group):
    """Every failure is one line on stderr: exit 2 for bad usage or input, 1 for a failed
    run, 130 on Ctrl-C. Set OPTVIZ_DEBUG=1 to see a traceback instead."""

    def main(self, args: Any = None, prog_name: Any = None, complete_var: Any = None,
             standalone_mode: bool = True, **extra: Any) -> Any:
        if not standalone_mode:
            return super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        try:
            with warnings.catch_warnings():
                if not os.environ.get("OPTVIZ_DEBUG"):  # numpy's and torch's warnings are not for the terminal
                    warnings.simplefilter("ignore")
                code = super().main(args, prog_name, complete_var, standalone_mode=False, **extra)
        except click.UsageError as error:
            hint = f" (see '{error.ctx.command_path} --help')" if error.ctx else ""
            _die(f"{error.format_message()}{hint}", error.exit_code)
        except click.ClickException as error:
            _die(error.format_message(), error.exit_code)
        except BadInput as error:
            _die(str(error), 2)
        except (click.Abort, KeyboardInterrupt):
            _die("interrupted", 130)
        except Exception as error:  # noqa: BLE001 - the terminal gets one line, not a traceback
            if os.environ.get("OPTVIZ_DEBUG"):
                raise
            _die(f"{type(error).__name__}: {error}", 1)
        sys.exit(code if isinstance(code, int) else 0)


def _die(message: str, code: int) -> None:
    one_line = " ".join(message.split())  # click's choice lists span lines
    if len(one_line) > MAX_MESSAGE:  # whatever a message echoes (a huge name, a tensor), one short line
        one_line = one_line[: MAX_MESSAGE - 1] + "…"
    click.echo(f"optviz: error: {one_line}", err=True)
    sys.exit(code)


class Finite(click.FloatRange):
    """A finite float in a range: click's FloatRange lets nan and inf through."""

    def convert(self, value: Any, param: Any, ctx: Any) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number", param, ctx)
        return number


class OptimizerSpec(click.ParamType):
    """``NAME[:key=value,...]``: a built-in, a torch.optim class in any case, or an import
    path (``package.module:Class``), e.g. ``adam:lr=0.05,betas=0.9/0.999``,
    ``nadam:lr=0.01``, ``pytorch_optimizer:Lion:lr=1e-3``."""

    name = "OPT[:k=v,...]"

    def convert(self, value: Any, param: Any, ctx: Any) -> tuple[str, dict[str, Any]]:
        if isinstance(value, tuple):
            return value
        name, kwargs = parse_spec(value, lambda message: self.fail(message, param, ctx))
        from ..core.optimizers.registry import get_optimizer

        try:
            get_optimizer(name, allow_import=True, **kwargs)
        except (TypeError, ValueError) as error:
            self.fail(f"{value!r}: {error}", param, ctx)
        return name, kwargs


def parse_spec(value: str, fail: Any) -> tuple[str, dict[str, Any]]:
    """``NAME[:key=value,...]`` -> (NAME, {key: value}); the options follow the last colon,
    so NAME may be an import path with one. Values are numbers, true/false, none, tuples
    written a/b, or words (line_search_fn=strong_wolfe)."""
    from ..core.optimizers.registry import known_names

    head, colon, tail = value.rpartition(":")
    options_follow = colon and ("=" in tail or not tail or head.lower() in known_names())
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


def _point(text: str | None, fn: Any, option: str = "--start") -> tuple[float, ...] | None:
    if text is None:
        return None
    try:
        point = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a point like -1.5,2", param_hint=option) from None
    if len(point) != fn.dim:
        raise click.BadParameter(f"{fn.name} is {fn.dim}D, got {len(point)} coordinates", param_hint=option)
    for (lo, hi), v in zip(fn.bounds, point):
        if not lo <= v <= hi:
            raise click.BadParameter(f"{text} lies outside {fn.name}'s bounds {[list(b) for b in fn.bounds]}",
                                     param_hint=option)
    return point


def _function(text: str, bounds: str | None, dim: int | None = None) -> Any:
    """A registered function (in ``dim`` dimensions, for those that come in any), or a formula
    such as 'x**2 + 10*sin(y)' over --bounds."""
    from ..core.functions import FUNCTIONS, get_function

    if not text.strip():
        raise click.BadParameter("is empty: give a function name or a formula", param_hint="FUNCTION")
    if text in FUNCTIONS and bounds is not None:
        raise click.BadParameter(f"{text} has its own bounds; --bounds is for a formula FUNCTION", param_hint="--bounds")
    pairs = None
    if bounds is not None:
        try:
            values = [float(v) for v in bounds.split(",")]
        except ValueError:
            raise click.BadParameter(f"{bounds!r} is not x0,x1[,y0,y1,...]", param_hint="--bounds") from None
        if not values or len(values) % 2:
            raise click.BadParameter(f"{bounds!r}: give a lo,hi pair per coordinate", param_hint="--bounds")
        pairs = tuple(zip(values[::2], values[1::2]))
    try:
        return get_function(text, bounds=pairs, dim=dim)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="FUNCTION") from None


def _output(path: str | None, formats: tuple[str, ...], option: str) -> Path | None:
    """An output path, checked before any work starts."""
    if path is None:
        return None
    from ..core.files import writable_path

    try:
        return writable_path(path, formats)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=option) from None


def _data_path(path: str | None) -> Path | None:
    """A --data file, checked before any work starts."""
    from ..core.files import TABLE_FORMATS

    return _output(path, TABLE_FORMATS, "--data")


def _quiet(ctx: click.Context) -> bool:
    return bool(ctx.find_root().obj and ctx.find_root().obj.get("quiet"))


def _say(ctx: click.Context, text: str) -> None:
    if not _quiet(ctx):
        click.echo(text)


def _hint(ctx: click.Context, text: str) -> None:
    """Advice on stderr, so that stdout stays the command's table."""
    if not _quiet(ctx):
        click.echo(text, err=True)


def _quiet_option(command: Any) -> Any:
    """-q/--quiet after the command too (optviz compare ... --quiet)."""

    def set_quiet(ctx: click.Context, param: Any, value: bool) -> None:
        if value:
            ctx.find_root().obj["quiet"] = True

    return click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=set_quiet,
                        help="Print nothing but errors.")(command)


_fast_option = click.option(
    "--fast", is_flag=True,
    help="Fuse each step into one compiled kernel (torch.compile): up to 2x faster on big batches once "
         "compiled, but compiling takes seconds, so it pays on long runs; within 1e-12 of the exact paths in "
         "float64, not bit-equal to torch.optim. Built-in functions and optviz's own optimizers only; anything "
         "else runs exactly, with a note.")


@contextlib.contextmanager
def _fast_notes(ctx: click.Context) -> Iterator[None]:
    """Around a run: fast mode's one-line notes (why it ran in exact mode) on stderr."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.filterwarnings("always", category=FastModeWarning)
        yield
    for warning in caught:
        if issubclass(warning.category, FastModeWarning):
            _hint(ctx, str(warning.message))


def _compiled(ctx: click.Context, mode: str) -> None:
    """What fast mode's compiling cost: "fast mode: compiled in 2.1 s"."""
    if mode.startswith("fast ("):
        _hint(ctx, "fast mode: " + mode.removeprefix("fast (").removesuffix(")"))


class _Bar:
    """A progress line on stderr, drawn only on a terminal: done/total, rate and time left.

    Called as progress(what, done, total) by the library; a new ``what`` starts a new phase.
    """

    def __init__(self, ctx: click.Context, label: str) -> None:
        self.label, self.shown = label, not _quiet(ctx) and _on_terminal()
        self.what, self.started, self.drawn, self.width = None, 0.0, 0.0, 0

    def __call__(self, what: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if what != self.what:
            self.what, self.started = what, now
        if not self.shown or (done < total and now - self.drawn < 0.1):
            return
        self.drawn = now
        rate = done / max(now - self.started, 1e-9)
        filled = round(20 * done / max(total, 1))
        line = (f"{self.label} [{'#' * filled}{'.' * (20 - filled)}] {done:,}/{total:,} {what}, "
                f"{_rate(rate)} {what}/s, {(total - done) / max(rate, 1e-9):.0f} s left")
        click.echo("\r" + line.ljust(self.width), err=True, nl=False)
        self.width = len(line)

    def __enter__(self) -> "_Bar":
        return self

    def __exit__(self, *exc: object) -> None:
        if self.width:
            click.echo("\r" + " " * self.width + "\r", err=True, nl=False)


def _on_terminal() -> bool:
    return sys.stderr.isatty()


def _rate(per_second: float) -> str:
    for size, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if per_second >= size:
            return f"{per_second / size:.1f}{suffix}"
    return f"{per_second:.1f}"


def _data_option(command: Any) -> Any:
    return click.option("--data", default=None, metavar="FILE",
                        help="Also write the numbers as data: .csv, .json or .npz (read back with "
                             "optviz.Result.load for paths).")(command)


def _style_options(command: Any) -> Any:
    command = click.option("--theme", type=click.Choice(list(THEMES)), default="light", show_default=True,
                           help="Colours: light, or dark for dark slides.")(command)
    command = click.option("--size", default=None, metavar="NAME|WxH",
                           help="slide (1280x720), square, paper (one column) or WIDTHxHEIGHT pixels.")(command)
    return command


def _size(text: str | None, default: str, gif: bool = False) -> Any:
    """A named size or (width, height), checked as the renderer will check it, and for a GIF
    against the memory budget before any work."""
    if text is None:
        return default
    from ..render.style import get_size

    size: Any = text
    if len(text) > 40:
        raise click.BadParameter(f"{text[:20]!r}…: not a size name or WIDTHxHEIGHT", param_hint="--size")
    if text not in SIZES and "x" in text.lower():
        try:
            size = tuple(int(v) for v in text.lower().split("x"))
        except ValueError:
            raise click.BadParameter(f"{text!r} is not WIDTHxHEIGHT", param_hint="--size") from None
    try:
        get_size(size)
    except (TypeError, ValueError) as error:
        raise click.BadParameter(str(error), param_hint="--size") from None
    if gif:
        from ..render.gif import check_gif_size

        check_gif_size(get_size(size))
    return size


# --- the commands -----------------------------------------------------------------------------


@click.group(cls=OneLineErrors, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="optviz")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors (also after a command).")
@click.pass_context
def main(ctx: click.Context, quiet: bool) -> None:
    """See how optimizers move.

    Runs SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam and AdamW (equal bit for bit to
    torch.optim) on test functions, and draws their paths as pictures and GIFs.

    \b
    Examples:
      optviz compare                   # the six optimizers -> ./compare.png and .gif
      optviz compare rosenbrock        # the six, each at a lr tuned for rosenbrock
      optviz compare rosenbrock sgd:lr=1e-3 adam:lr=0.05 --steps 500 --png out.png
      optviz run rosenbrock            # a bundled scenario (see: optviz list scenarios)
      optviz gallery --out gallery/    # every bundled scenario, with an index page
      optviz list functions

    Exit codes: 0 success, 1 failed run, 2 bad usage or input, 130 interrupted.
    Shell completion: eval "$(optviz completion bash)" (or zsh, fish).
    """
    ctx.obj = {"quiet": quiet}
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())


@main.command()
@click.argument("function", required=False)
@click.argument("optimizers", nargs=-1, type=OptimizerSpec())
@click.option("--steps", type=click.IntRange(0, 100_000), default=100, show_default=True, help="Steps per optimizer.")
@click.option("--start", default=None, help="Start point as x,y (default: the function's own start).")
@click.option("--bounds", default=None, help="x0,x1,y0,y1 for a formula FUNCTION (default -5,5,-5,5), a lo,hi pair "
                                               "per coordinate.")
@click.option("--dim", type=int, default=None,
              help="Dimensions, for the functions that come in any (sphere, quadratic, ill_conditioned, "
                   "rosenbrock, rastrigin, ackley, styblinski_tang) and formulas in x1..xn.")
@click.option("--schedule", "schedules", multiple=True, metavar="NAME[:k=v,...]",
              help="A torch.optim.lr_scheduler for every optimizer, stepped once per step, e.g. "
                   "StepLR:step_size=20,gamma=0.5 or CosineAnnealingLR:T_max=100; repeat to chain.")
@click.option("--noise", type=Finite(min=0), default=None, help="Gaussian gradient noise of this standard deviation, the "
                                                       "same draws for every optimizer from a start.")
@click.option("--seed", type=click.IntRange(0, 2**63 - 1), default=0, show_default=True,
              help="Seed of the gradient noise.")
@click.option("--tune", type=click.Choice(["lr"]), default=None,
              help="Pick each optimizer's lr from a log grid (1e-4..10, one batch): the lowest final f "
                   "among runs that stay near the bounds.")
@click.option("--tol", type=Finite(min=0, min_open=True), default=1e-6, show_default=True,
              help="Count the steps until f is within this of the minimum.")
@click.option("--png", "png", default=None, help="Write the paths picture here (.png).")
@click.option("--svg", "svg", default=None, help="Write the paths picture here (.svg).")
@click.option("--pdf", "pdf", default=None, help="Write the paths picture here (.pdf).")
@click.option("--loss", "loss", default=None, help="Write the loss curves here (.png/.svg/.pdf).")
@click.option("--gif", "gif", default=None, help="Write an animation here (.gif).")
@click.option("--html", "page", default=None,
              help="Write the interactive page here (.html): play the paths back, hover for numbers, and (built-in "
                   "functions and optimizers) drag the start or move lr, momentum and betas to recompute them live.")
@_fast_option
@_data_option
@_style_options
@_quiet_option
@click.pass_context
def compare(ctx: click.Context, function: str | None, optimizers: tuple, steps: int, start: str | None,
            bounds: str | None, dim: int | None, schedules: tuple[str, ...], noise: float | None, seed: int,
            tune: str | None, tol: float, png: str | None, svg: str | None, pdf: str | None, loss: str | None,
            gif: str | None, page: str | None, fast: bool, data: str | None, theme: str, size: str | None) -> None:
    """Run optimizers side by side on FUNCTION and print how each did.

    FUNCTION is a name from `optviz list functions` or a formula in x and y (or x1..xn)
    such as "x**2 + 10*sin(y)". Each OPT is a name from `optviz list optimizers` (optviz's
    own, or any torch.optim class in any case: nadam, LBFGS) or an import path
    (pytorch_optimizer:Lion), with optional hyperparameters: adam:lr=0.05,betas=0.9/0.999.

    With no arguments at all: the six optimizers on the ill-conditioned quadratic
    0.1 x1^2 + 2 x2^2, each at a learning rate chosen by hand to show it at its best, drawn
    into compare.png and compare.gif in the current folder. With a FUNCTION and no OPTs:
    the same six, each at the learning rate that does best on FUNCTION (one batched search,
    as --tune lr).

    \b
    Examples:
      optviz compare
      optviz compare rosenbrock --png rosenbrock.png
      optviz compare rosenbrock sgd:lr=1e-3 momentum:lr=1e-3,momentum=0.9 adam:lr=0.05 \\
          --steps 500 --start -1.5,2 --png out.png --gif out.gif --data paths.csv
      optviz compare beale sgd adam rmsprop --tune lr --steps 300
      optviz compare "x**2 + 10*sin(y)" adam:lr=0.1 --bounds -5,5,-5,5 --png custom.png
      optviz compare rosenbrock nadam:lr=0.01 lbfgs:lr=0.5 pytorch_optimizer:Lion:lr=1e-3
      optviz compare sphere sgd:lr=0.1 --noise 0.5 --schedule StepLR:step_size=25,gamma=0.5
      optviz compare rosenbrock adam:lr=0.01 --dim 10 --steps 2000 --png rosenbrock10d.png
      optviz compare rastrigin adam:lr=0.05 --steps 5000 --fast
      optviz compare himmelblau sgd:lr=0.01 momentum:lr=0.01 adam:lr=0.1 --html himmelblau.html
    """
    if function is None and not optimizers:
        png, gif = png or "compare.png", gif or "compare.gif"
    fn = _function(DEFAULT_FUNCTION if function is None else function, bounds, dim)
    point = _point(start, fn)
    schedule = _schedule(schedules)
    if noise is not None:
        from ..core.simulation.noise import check_noise

        try:
            check_noise(noise, fn.dim)
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--noise") from None
    outputs = {"png": _output(png, ("png",), "--png"), "svg": _output(svg, ("svg",), "--svg"),
               "pdf": _output(pdf, ("pdf",), "--pdf"), "loss": _output(loss, STILLS, "--loss"),
               "gif": _output(gif, ("gif",), "--gif"), "html": _output(page, ("html",), "--html")}
    if page and fn.dim != 2:
        raise click.BadParameter(f"interactive pages are drawn for 2D functions; {fn.name} is {fn.dim}D",
                                 param_hint="--html")
    data_path = _data_path(data)
    size = _size(size, "slide", gif=bool(gif))
    specs = optimizers or (SIX if function is None else tuple((name, {}) for name in SIX_NAMES))

    from ..core.optimizers.registry import get_optimizer, scheduled
    from ..core.simulation.runs import simulate
    from ..analyses.studies import tune_lrs

    with _Bar(ctx, "compare") as bar:
        if tune or not optimizers and function is not None:
            lrs = tune_lrs(fn, specs, point, steps, progress=bar)
            specs = tuple((name, {**kw, "lr": lr}) for (name, kw), lr in zip(specs, lrs))
            _say(ctx, f"learning rates tuned for {fn.name} ({len(lrs)} optimizers x 1e-4..10, one batch): "
                      + ", ".join(f"{name} lr={kw['lr']:.3g}" for name, kw in specs) + "\n")
        made = [get_optimizer(n, allow_import=True, **kw) for n, kw in specs]
        try:
            made = [scheduled(opt, *schedule) for opt in made] if schedule else made
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--schedule") from None
        named = {opt.label: opt for opt in made}
        if len(named) < len(specs):
            raise click.UsageError("two optimizers have the same name and hyperparameters")
        try:
            with _fast_notes(ctx):
                result = simulate(fn, named, point, steps, noise=noise, seed=seed, progress=bar, fast=fast)
        except ValueError as error:  # simulate checks its input, and the memory it needs, before it runs
            raise click.UsageError(str(error)) from None
    _compiled(ctx, next(iter(result.modes.values())))
    _say(ctx, _comparison_table(result, tol))
    if data_path:
        _say(ctx, f"wrote {result.save(data_path)}")
    frame = fn.bounds if bounds is not None else None  # a formula's bounds, as given, frame its pictures
    _draw(ctx, result, outputs, dict(theme=theme, size=size), frame)
    if not any(outputs.values()):
        _hint(ctx, "To draw it, add --png FILE (or --svg, --pdf, --loss, --gif, --html).")


def _schedule(texts: tuple[str, ...]) -> list[dict[str, Any]]:
    """--schedule NAME[:k=v,...] options as scheduler specs, checked before any work."""
    specs = []
    for text in texts:
        def fail(message: str) -> Any:
            raise click.BadParameter(message, param_hint="--schedule")

        name, kwargs = parse_spec(text, fail)
        specs.append({"name": name, **{k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}})
    if specs:
        import torch

        from ..core.optimizers.schedules import ScheduleError, schedule

        try:
            schedule(specs).attach(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9))
        except ScheduleError as error:
            raise click.BadParameter(str(error), param_hint="--schedule") from None
    return specs


def _draw(ctx: click.Context, result: Any, outputs: dict[str, Path | None], style: dict[str, Any],
          bounds: Any = None) -> None:
    from ..render import animate, picture, plot, save

    stills = [outputs[key] for key in ("png", "svg", "pdf") if outputs[key]]
    figure = picture(result, bounds=bounds, **style) if stills else None  # drawn once, saved in each format
    for path in stills:
        _say(ctx, f"wrote {save(figure, path)}")
    if outputs["loss"]:
        _say(ctx, f"wrote {save(plot(result, 'loss', **style).figure, outputs['loss'])}")
    if outputs["gif"]:
        anim = animate(result, outputs["gif"], **style)
        _say(ctx, f"wrote {anim.path} ({anim.frames} frames, {anim.bytes / 1e3:.0f} kB)")
    if outputs.get("html"):
        from ..render import html

        html(result, outputs["html"], bounds=bounds, **style)
        _say(ctx, f"wrote {outputs['html']} ({outputs['html'].stat().st_size / 1e3:.0f} kB, interactive)")


def _comparison_table(result: Any, tol: float) -> str:
    fn = result.function
    reached = result.steps_to(tol)
    rows = [("optimizer", "final point", "final f", f"steps to f-f*<={tol:g}")]
    for b, name in enumerate(result.names):
        if result.diverged_at[b] >= 0:
            rows.append((name, "-", "-", f"diverged at step {int(result.diverged_at[b])}"))
            continue
        point = ", ".join(f"{x:.4g}" for x in result.positions[-1, b].tolist())
        steps = "-" if not fn.minima else (str(int(reached[b])) if reached[b] >= 0 else "not reached")
        rows.append((name, f"({point})", f"{result.losses[-1, b].item():.4g}", steps))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths)).rstrip() for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    header = f"{fn.name}: {fn.formula}, from {tuple(result.starts[0].tolist())}, {result.steps} steps"
    notes = [f"{label}: {mode}, one torch instance per start" for label, mode in result.modes.items()
             if mode.startswith("per-start")]
    if result.noise:
        notes.append(f"{result.noise} (the same draws for every optimizer)")
    return header + "\n\n" + "\n".join(lines + ([""] + notes if notes else []))


@main.command()
@click.argument("scenarios", nargs=-1, required=True)
@click.option("--out", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Folder for the outputs (made if missing).")
@click.option("--data", default=None, metavar="FILE|FORMAT",
              help="Also write each scenario's paths (or training curves) as data: a .csv, .json or .npz "
                   "FILE for one scenario, or a FORMAT (csv, json, npz) for OUT/NAME.FORMAT each.")
@click.option("--html", "page", default=None, metavar="FILE",
              help="Also write the scenario's interactive page (.html) here; for several scenarios, set "
                   "html = true in their [outputs] to write OUT/NAME.html each.")
@click.option("--allow-import", is_flag=True,
              help="Let scenario files name optimizers by import path (package.module:Class); without it "
                   "a file that does is refused: a scenario from elsewhere must not import modules by itself.")
@_quiet_option
@click.pass_context
def run(ctx: click.Context, scenarios: tuple[str, ...], out: str, data: str | None, page: str | None,
        allow_import: bool) -> None:
    """Render SCENARIOS: TOML files, or names of bundled scenarios, into --out.

    A name finds a scenario shipped with optviz (`optviz list scenarios`), with or without
    its number; anything else is a path. Every file is validated before any work starts.

    \b
    Examples:
      optviz run rosenbrock
      optviz run 09-adam-bias-correction saddle --out figures/ --data csv
      optviz run rosenbrock --html rosenbrock.html
    """
    from ..documents.gallery import render_outputs
    from ..documents.scenario import ScenarioError, find, load

    try:
        loaded = [load(find(name), allow_import=allow_import) for name in scenarios]
    except ScenarioError as error:
        raise click.UsageError(str(error)) from None
    folder = Path(out)
    targets = _data_targets(data, [s.name for s in loaded], folder)
    if page is not None and len(loaded) > 1:
        raise click.BadParameter(f"{page!r} is one page for {len(loaded)} scenarios: set html = true in their "
                                 "[outputs] to write one page each", param_hint="--html")
    page_path = _output(page, ("html",), "--html")
    folder = _folder(out)
    written = []
    with _Bar(ctx, "run") as bar:
        for done, (scenario, target) in enumerate(zip(loaded, targets), start=1):
            written += render_outputs(scenario, folder, target, page_path)
            bar("scenarios", done, len(loaded))
    for path in written:
        _say(ctx, f"wrote {path}")


def _data_targets(data: str | None, names: list[str], folder: Path) -> list[Path | None]:
    """Where each scenario's data goes: nowhere, the one FILE, or OUT/NAME.FORMAT."""
    from ..core.files import TABLE_FORMATS

    if data is None:
        return [None] * len(names)
    if data.lower() in TABLE_FORMATS:
        return [folder / f"{name}.{data.lower()}" for name in names]
    if len(names) > 1:
        raise click.BadParameter(f"{data!r} is one file for {len(names)} scenarios: give a format "
                                 f"({', '.join(TABLE_FORMATS)}) to write one file each", param_hint="--data")
    return [_data_path(data)]


def _folder(path: str) -> Path:
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise click.BadParameter(f"cannot make folder {folder}: {error.strerror}", param_hint="--out") from None
    if not os.access(folder, os.W_OK):
        raise click.BadParameter(f"folder {folder} is not writable", param_hint="--out")
    return folder


@main.command()
@click.option("--out", type=click.Path(file_okay=False), default="gallery", show_default=True,
              help="Folder for the gallery.")
@click.option("--scenarios", "source", type=click.Path(file_okay=False, exists=True), default=None,
              help="Folder of scenario files (default: the scenarios bundled with optviz).")
@click.option("--jobs", type=click.IntRange(1, 64), default=2, show_default=True, help="Processes to render with.")
@click.option("--force", is_flag=True, help="Render everything, changed or not.")
@click.option("--allow-import", is_flag=True,
              help="Let scenario files name optimizers by import path (package.module:Class); without it "
                   "a file that does is refused: a scenario from elsewhere must not import modules by itself.")
@_quiet_option
@click.pass_context
def gallery(ctx: click.Context, out: str, source: str | None, jobs: int, force: bool, allow_import: bool) -> None:
    """Render every scenario into the gallery, with an index page.

    Only scenarios whose file changed since the last build (or whose outputs are missing)
    are rendered again; --force renders all.

    \b
    Examples:
      optviz gallery
      optviz gallery --out site/ --force
    """
    from ..documents.gallery import build
    from ..documents.scenario import ScenarioError, bundled

    files = sorted(Path(source).glob("*.toml")) if source else bundled()
    if not files:
        raise click.UsageError(f"no scenario files (*.toml) in {source}")
    folder = _folder(out)
    started = time.perf_counter()
    with _Bar(ctx, "gallery") as bar:
        try:
            entries, rendered = build(files, folder, jobs=jobs, force=force, allow_import=allow_import, progress=bar)
        except ScenarioError as error:
            raise click.UsageError(str(error)) from None
    seconds = time.perf_counter() - started
    _say(ctx, f"{len(rendered)} of {len(entries)} scenarios rendered in {seconds:.1f} s; "
              f"index: {folder / 'index.html'}")


@main.command(name="list")
@click.argument("what", type=click.Choice(["functions", "optimizers", "scenarios"]), required=False)
@click.option("--from", "module", default=None, metavar="MODULE",
              help="With optimizers: the torch.optim.Optimizer classes of MODULE (imported to look), "
                   "named as compare and scenario files take them.")
def list_(what: str | None, module: str | None) -> None:
    """List the test functions, the optimizers or the bundled scenarios (all three without
    an argument).

    The optimizers are optviz's own and every torch.optim class, with their defaults
    (torch's read from their signatures); any other installed optimizer is named by its
    import path, as --from MODULE lists them.

    \b
    Examples:
      optviz list functions
      optviz list optimizers
      optviz list optimizers --from pytorch_optimizer
      optviz list scenarios
    """
    if module is not None and what != "optimizers":
        raise click.UsageError("--from MODULE lists the optimizers of MODULE: use `optviz list optimizers --from MODULE`")
    for kind in [what] if what else ["functions", "optimizers", "scenarios"]:
        if not what:
            click.echo(f"{kind}:")
        click.echo(_listing(kind, module) + ("\n" if not what else ""))


def _listing(kind: str, module: str | None) -> str:
    from ..core.functions.zoo import listing as functions
    from ..core.optimizers.registry import listing as optimizers
    from ..documents.scenario import listing as scenarios

    if kind != "optimizers":
        return {"functions": functions, "scenarios": scenarios}[kind]()
    try:
        return optimizers(module)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--from") from None


@main.command()
@click.option("--steps", type=click.IntRange(1, 10_000), default=200, show_default=True, help="Steps per run.")
@_quiet_option
@click.pass_context
def check(ctx: click.Context, steps: int) -> None:
    """Compare every optimizer with the installed torch.optim, bit for bit.

    Runs each on Rosenbrock from four starts in float32 and float64 and prints the largest
    difference from torch.optim (foreach=False); exits 1 if any is not zero.
    """
    import torch

    from ..analyses.conformance import check_all

    rows = check_all(steps)
    _say(ctx, f"torch {torch.__version__}, {steps} steps on rosenbrock from 4 starts\n")
    _say(ctx, f"{'optimizer':<10} {'dtype':<8} {'max |optviz - torch.optim|':>26}")
    for name, dtype, diff in rows:
        _say(ctx, f"{name:<10} {dtype:<8} {diff:>26.3g}")
    if any(diff != 0 for _, _, diff in rows):
        raise click.ClickException("some optimizers differ from torch.optim")
    _say(ctx, "\nall equal bit for bit")


@main.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("function")
@click.argument("optimizer", type=OptimizerSpec())
@click.option("--n", "resolution", type=click.IntRange(2, 200), default=24, show_default=True,
              help="Values per hyperparameter.")
@click.option("--steps", type=click.IntRange(1, 100_000), default=200, show_default=True, help="Steps per run.")
@click.option("--start", default=None, help="Start point as x,y.")
@click.option("--png", default=None, help="Where to write the heatmap (default sweep-FUNCTION-OPT.png).")
@_fast_option
@_data_option
@_style_options
@_quiet_option
@click.pass_context
def sweep(ctx: click.Context, function: str, optimizer: tuple, resolution: int, steps: int, start: str | None,
          png: str | None, fast: bool, data: str | None, theme: str, size: str | None) -> None:
    """Sweep two hyperparameters of OPTIMIZER as one batch: a heatmap of final f.

    Give the two ranges as --NAME LOW:HIGH (Adam's betas as --beta1 and --beta2); lr and
    eps are spaced logarithmically, the rest linearly. Diverged runs are crossed out; the
    best cell is starred. optviz's own optimizers run the grid as tensor hyperparameters; a
    torch optimizer (nadam, an import path) runs one instance per cell.

    \b
    Examples:
      optviz sweep rosenbrock sgd --lr 1e-4:1e-1 --momentum 0:0.99
      optviz sweep ill_conditioned adam --lr 1e-3:1 --beta1 0:0.99 --n 32 --data sweep.csv
      optviz sweep himmelblau nadam --lr 1e-3:1e-1 --momentum-decay 0.001:0.01 --n 8
      optviz sweep rosenbrock sgd --lr 1e-4:1e-2 --momentum 0:0.99 --n 64 --steps 1000 --fast
    """
    fn = _function(function, None)
    ranges = _ranges(ctx.args)
    name, hypers = optimizer
    point = _point(start, fn)
    target = _output(png or f"sweep-{fn.name}-{name}.png", STILLS, "--png")
    data_path = _data_path(data)
    size = _size(size, "slide")

    from ..analyses.studies import check_sweep
    from ..analyses.studies import sweep as run_sweep

    values = {key: _spaced(key, bounds, resolution) for key, bounds in ranges.items()}
    try:
        check_sweep(name, hypers, values)
    except (TypeError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    from ..render import save, sweep_map

    (xn, xs), (yn, ys) = values.items()
    with _Bar(ctx, f"sweep of {resolution}x{resolution} runs") as bar, _fast_notes(ctx):
        study = run_sweep(fn, name, (xn, xs), (yn, ys), start=point, steps=steps, hypers=hypers, progress=bar,
                          fast=fast)
    _compiled(ctx, study.mode)
    bx, by, best = study.best
    _say(ctx, f"best: {xn}={bx:.4g}, {yn}={by:.4g}, final f={best:.4g}")
    if data_path:
        _say(ctx, f"wrote {study.save(data_path)}")
    _say(ctx, f"wrote {save(sweep_map(study, theme=theme, size=size).figure, target)}")


def _ranges(args: list[str]) -> dict[str, tuple[float, float]]:
    ranges: dict[str, tuple[float, float]] = {}
    items = list(args)
    while items:
        flag = items.pop(0)
        if not flag.startswith("--") or not items:
            raise click.UsageError(f"expected --NAME LOW:HIGH pairs, got {flag!r}")
        text = items.pop(0)
        try:
            low, high = (float(v) for v in text.split(":"))
        except ValueError:
            raise click.UsageError(f"{flag} {text!r}: expected LOW:HIGH, e.g. 1e-4:1") from None
        if not (math.isfinite(low) and math.isfinite(high)):
            raise click.UsageError(f"{flag} {text}: LOW and HIGH must be finite numbers")
        if not low < high:
            raise click.UsageError(f"{flag} {text}: LOW must be below HIGH")
        ranges[flag[2:].replace("-", "_")] = (low, high)
    if len(ranges) != 2:
        raise click.UsageError(f"sweep needs exactly two ranges like --lr 1e-4:1 --momentum 0:0.99, got {len(ranges)}")
    return ranges


def _spaced(name: str, bounds: tuple[float, float], n: int) -> list[float]:
    import numpy as np

    low, high = bounds
    if name in ("lr", "eps") and low > 0:
        return np.geomspace(low, high, n).tolist()
    return np.linspace(low, high, n).tolist()


@main.command()
@click.argument("function")
@click.argument("optimizer", type=OptimizerSpec())
@click.option("--n", "resolution", type=click.IntRange(4, 400), default=80, show_default=True,
              help="Start points per side of the grid.")
@click.option("--steps", type=click.IntRange(1, 100_000), default=300, show_default=True, help="Steps per run.")
@click.option("--png", default=None, help="Where to write the map (default basins-FUNCTION-OPT.png).")
@_fast_option
@_data_option
@_style_options
@_quiet_option
@click.pass_context
def basins(ctx: click.Context, function: str, optimizer: tuple, resolution: int, steps: int, png: str | None,
           fast: bool, data: str | None, theme: str, size: str | None) -> None:
    """Map the basins of attraction of OPTIMIZER on FUNCTION.

    Starts on a grid over the bounds, all run as one batch, each coloured by the minimum it
    reaches (grey: none).

    \b
    Examples:
      optviz basins himmelblau adam:lr=0.1
      optviz basins himmelblau sgd:lr=0.01 --n 120 --steps 500 --data basins.csv
      optviz basins himmelblau adam:lr=0.1 --n 400 --fast
    """
    fn = _function(function, None)
    name, hypers = optimizer
    target = _output(png or f"basins-{fn.name}-{name}.png", STILLS, "--png")
    data_path = _data_path(data)
    size = _size(size, "slide")
    if fn.dim != 2 or not fn.minima:
        raise click.UsageError(f"basins are mapped on 2D functions with known minima; {fn.name} is {fn.dim}D "
                               f"with {len(fn.minima) or 'no'} known minima")

    from ..render import basin_map, save
    from ..analyses.studies import basins as run_basins

    with _Bar(ctx, f"basins of {resolution}x{resolution} starts") as bar, _fast_notes(ctx):
        study = run_basins(fn, name, hypers, resolution=resolution, steps=steps, progress=bar, fast=fast)
    _compiled(ctx, study.mode)
    _say(ctx, "share of starts per minimum: " + ", ".join(f"{s:.0%}" for s in study.shares()))
    if data_path:
        _say(ctx, f"wrote {study.save(data_path)}")
    _say(ctx, f"wrote {save(basin_map(study, theme=theme, size=size).figure, target)}")


@main.command()
@click.argument("arguments", nargs=-1, metavar="[SPEC.py] [OPT[:k=v,...]]...")
@click.option("--checkpoints", multiple=True, metavar="FILE",
              help="Your own training's checkpoints (state_dict files), in order: the path to draw. Repeat, "
                   "or give a quoted glob like 'ckpt/*.pt' (sorted).")
@click.option("--directions", default="pca", show_default=True, metavar="pca|random|FILE.pt",
              help="pca: top two principal components of the paths; random: filter-normalised (Li et al.); or a "
                   "directions file saved with --save-directions, to draw another model on the same slice.")
@click.option("--resolution", "--n", "resolution", type=click.IntRange(3, 401), default=51, show_default=True,
              help="Grid points per side of the slice.")
@click.option("--span", default=None, metavar="S|A0,A1,B0,B1",
              help="The grid's extent in direction units (default: the paths' extent plus 15%).")
@click.option("--device", default=None, help="cpu, cuda or cuda:N (default: cuda:LOCAL_RANK where there is a GPU).")
@click.option("--save", "save_dir", default=None, metavar="DIR",
              help="Keep finished grid points (and trained paths) in DIR; the same command again resumes a "
                   "killed run.")
@click.option("--epochs", type=click.IntRange(1, 1000), default=20, show_default=True,
              help="Training epochs for the OPTs.")
@click.option("--examples", type=click.IntRange(1, None), default=None,
              help="Average the loss over the first N examples only.")
@click.option("--png", default="landscape.png", show_default=True, help="Where to write the contours and paths.")
@click.option("--svg", default=None, help="Also write the picture as .svg.")
@click.option("--surface", default=None, help="Also write the 3D surface here (.png/.svg/.pdf).")
@click.option("--line", default=None,
              help="Also write the 1D interpolation from the path's first point to its last here (.png/.svg/.pdf).")
@click.option("--gif", default=None, help="Also write an animation of the paths here (.gif).")
@click.option("--save-directions", default=None, metavar="FILE.pt", help="Write the slice's directions here.")
@_data_option
@_style_options
@_quiet_option
@click.pass_context
def landscape(ctx: click.Context, arguments: tuple[str, ...], checkpoints: tuple[str, ...], directions: str,
              resolution: int, span: str | None, device: str | None, save_dir: str | None, epochs: int,
              examples: int | None, png: str, svg: str | None, surface: str | None, line: str | None,
              gif: str | None, save_directions: str | None, data: str | None, theme: str, size: str | None) -> None:
    """Draw the loss landscape of a model around its weights, with training paths on it.

    With no SPEC.py: the built-in MLP (12 -> 64 -> 32 -> 1) on synthetic data, trained by
    OPTs (default: momentum SGD, Adam and RMSProp) from the same initial weights.

    SPEC.py is your own Python file; it must define `model` (an nn.Module: the initial
    weights to train from, or the architecture of your checkpoints), `loss` (loss(outputs,
    targets) -> a batch mean, e.g. torch.nn.functional.cross_entropy) and `data` (a
    DataLoader, a Dataset or an (inputs, targets) pair of tensors: the loss is averaged over
    all of it at every grid point, in eval mode). It may define `train_data` (for the OPTs;
    default `data`) and `checkpoints` (a list of state_dicts or files). optviz runs the file,
    as python would.

    The path is your checkpoints (--checkpoints or the file's), or the OPTs trained from the
    model's weights. Under torchrun the grid is split across the processes and gathered:
    torchrun --nproc-per-node 2 -m optviz landscape SPEC.py --checkpoints 'ckpt/*.pt'.

    \b
    Examples:
      optviz landscape
      optviz landscape sgd:lr=0.02,momentum=0.9 adam:lr=0.005 --directions random --gif paths.gif
      optviz landscape my_model.py --checkpoints 'runs/ckpt-*.pt' --resolution 41 --save grid/
      optviz landscape my_model.py adam:lr=1e-3 nadam --epochs 5 --surface surface.png --line line.png
    """
    from ..analyses.models.evaluation import join_process_group, leave_process_group

    distributed = join_process_group()
    try:
        _landscape(ctx, arguments, checkpoints, directions, resolution, span, device, save_dir, epochs, examples,
                   dict(png=png, svg=svg, surface=surface, line=line, gif=gif, directions=save_directions), data,
                   theme, size, distributed)
    finally:
        leave_process_group()


def _landscape(ctx: click.Context, arguments: tuple[str, ...], checkpoints: tuple[str, ...], directions: str,
               resolution: int, span: str | None, device: str | None, save_dir: str | None, epochs: int,
               examples: int | None, targets: dict[str, str | None], data: str | None, theme: str, size: str | None,
               distributed: bool) -> None:
    from ..analyses.models.evaluation import rank_and_world

    spec_path, specs = (arguments[0], arguments[1:]) if arguments and arguments[0].endswith(".py") else (None, arguments)
    optimizers = [OptimizerSpec().convert(text, None, ctx) for text in specs]
    kinds = {"png": STILLS, "svg": ("svg",), "surface": STILLS, "line": STILLS, "gif": ("gif",), "directions": ("pt",)}
    outputs = {key: _output(targets[key], kinds[key], f"--{'save-directions' if key == 'directions' else key}")
               for key in kinds}
    data_path = _data_path(data)
    size = _size(size, "slide", gif=bool(outputs["gif"]))
    from ..analyses.models.landscapes import from_spec
    from ..analyses.models.landscapes import landscape as run_landscape
    from ..render import animate, line_chart, picture, plot, save
    from ..analyses.models.weights import Directions

    try:
        spec = from_spec(spec_path) if spec_path else {}
        files = sorted(p for pattern in checkpoints for p in _glob(pattern))
        path = files or spec.get("checkpoints")
        if spec and not path and not optimizers:
            raise click.UsageError(f"{spec_path} defines no checkpoints: give --checkpoints FILES or OPTs to train")
        if directions not in ("pca", "random") and not directions.endswith(".pt"):
            raise click.BadParameter(f"{directions!r} is not pca, random or a directions FILE.pt",
                                     param_hint="--directions")
        chosen = Directions.load(directions) if directions.endswith(".pt") else directions
        settings = dict(optimizers=optimizers or None, checkpoints=path or None, directions=chosen,
                        resolution=resolution, span=_span(span), device=device, epochs=epochs, examples=examples,
                        save=save_dir)
        if spec:
            settings.update(model=spec["model"], loss_fn=spec["loss"], data=spec["data"],
                            train_data=spec.get("train_data"))
        with _Bar(ctx, "landscape") as bar:
            study = run_landscape(**settings, line=51 if outputs["line"] else 0,
                                  progress=bar if rank_and_world()[0] == 0 else None)
    except ValueError as error:  # every check of the inputs comes before the grid starts
        raise click.UsageError(" ".join(str(error).split())) from None
    if rank_and_world()[0] != 0:
        return  # one process writes
    _say(ctx, study.summary())
    if distributed:
        _say(ctx, f"grid split across {rank_and_world()[1]} processes")
    if data_path:
        _say(ctx, f"wrote {study.save(data_path)}")
    result = study.result()
    figure = picture(result, theme=theme, size=size)
    for key in ("png", "svg"):
        if outputs[key]:
            _say(ctx, f"wrote {save(figure, outputs[key])}")
    if outputs["surface"]:
        _say(ctx, f"wrote {save(plot(result, 'surface', theme=theme, size=size).figure, outputs['surface'])}")
    if study.line is not None:
        _say(ctx, f"wrote {save(line_chart(study.line, theme=theme, size=size).figure, outputs['line'])}")
    if outputs["gif"]:
        _say(ctx, f"wrote {animate(result, outputs['gif'], theme=theme, size=size).path}")
    if outputs["directions"]:
        _say(ctx, f"wrote {study.basis.save(outputs['directions'])}")


def _glob(pattern: str) -> list[Path]:
    import glob

    found = sorted(map(Path, glob.glob(pattern))) if any(c in pattern for c in "*?[") else [Path(pattern)]
    if not found:
        raise click.BadParameter(f"{pattern!r} matches no file", param_hint="--checkpoints")
    return found


def _span(text: str | None) -> Any:
    if text is None:
        return None
    try:
        values = [float(v) for v in text.split(",")]
    except ValueError:
        raise click.BadParameter(f"{text!r} is not S or A0,A1,B0,B1", param_hint="--span") from None
    return values[0] if len(values) == 1 else values


@main.command()
@click.argument("shell", type=click.Choice(["bash", "zsh", "fish"]))
def completion(shell: str) -> None:
    """Print the shell completion script: eval "$(optviz completion bash)"."""
    from click.shell_completion import get_completion_class

    cls = get_completion_class(shell)
    click.echo(cls(main, {}, "optviz", "_OPTVIZ_COMPLETE").source())
