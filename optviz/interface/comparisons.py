"""``optviz compare``: optimizers side by side on one function, as a table and pictures."""

from __future__ import annotations

from typing import Any

import click

from ..core.limits import MAX_ASKED_STEPS, MAX_SEED
from ..render.kinds import STILL_FORMATS as STILLS
from .options import (data_option, data_path, fast_option, function_argument, look, motion, motion_options,
                      output_path, picture_size, start_point, state_option, style_options)
from .progress import ProgressBar
from .terminal import Terminal, pass_terminal, quiet_option
from .types import Dimension, Finite, OptimizerSpec, check_function_text, made, parse_spec


@click.command()
@click.argument("function", required=False)
@click.argument("optimizers", nargs=-1, type=OptimizerSpec())
@click.option("--steps", type=click.IntRange(0, MAX_ASKED_STEPS), default=100, show_default=True,
              help="Steps per optimizer.")
@click.option("--start", default=None, help="Start point as x,y (default: the function's own start).")
@click.option("--bounds", default=None, help="x0,x1,y0,y1 for a formula FUNCTION (default -5,5,-5,5), a lo,hi pair "
                                               "per coordinate.")
@click.option("--dim", type=Dimension(), default=None,
              help="Dimensions, for the functions that come in any (sphere, quadratic, ill_conditioned, "
                   "rosenbrock, rastrigin, ackley, styblinski_tang) and formulas in x1..xn; for a matrix "
                   "problem its size ROWSxCOLS, with the rank as ROWSxCOLSrRANK (low_rank --dim 20x10r3).")
@click.option("--schedule", "schedules", multiple=True, metavar="NAME[:k=v,...]",
              help="A torch.optim.lr_scheduler for every optimizer, stepped once per step, e.g. "
                   "StepLR:step_size=20,gamma=0.5 or CosineAnnealingLR:T_max=100; repeat to chain.")
@click.option("--noise", type=Finite(min=0), default=None, help="Gaussian gradient noise of this standard deviation, the "
                                                       "same draws for every optimizer from a start.")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
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
@click.option("--spectrum", "spectrum", default=None,
              help="Write a matrix problem's singular values per step here (.png/.svg/.pdf), one panel per optimizer.")
@click.option("--sharpness", "sharpness", default=None,
              help="Write the top Hessian eigenvalue per step here (.png/.svg/.pdf), against 2/lr for SGD "
                   "(and momentum's and Nesterov's own limits; an adaptive method's P⁻¹H against its own, 38/lr "
                   "for Adam), or its numbers per step as data (.csv/.json/.npz).")
@click.option("--gif", "gif", default=None, help="Write an animation here (.gif).")
@click.option("--html", "page", default=None,
              help="Write the interactive page here (.html): play the paths back, hover for numbers, and (built-in "
                   "functions and optimizers) drag the start or move lr, momentum and betas to recompute them live.")
@state_option
@fast_option
@data_option
@motion_options
@style_options
@quiet_option
@pass_terminal
def compare(terminal: Terminal, function: str | None, optimizers: tuple, steps: int, start: str | None,
            bounds: str | None, dim: int | str | None, schedules: tuple[str, ...], noise: float | None, seed: int,
            tune: str | None, tol: float, png: str | None, svg: str | None, pdf: str | None, loss: str | None,
            spectrum: str | None, sharpness: str | None, gif: str | None, page: str | None, state: str | None,
            fast: bool, data: str | None,
        loop: str | int | None, hold: float | None, theme: str, size: str | None, dpi: float | None,
        scale: float | None, background: str | None, transparent: bool | None) -> None:
    """Run optimizers side by side on FUNCTION and print how each did.

    FUNCTION is a name from `optviz list functions` or a formula in x and y (or x1..xn)
    such as "x**2 + 10*sin(y)". Each OPT is a name from `optviz list optimizers` (optviz's
    own, or any torch.optim class in any case: nadam, LBFGS) or an import path
    (pytorch_optimizer:Lion), with optional hyperparameters: adam:lr=0.05,betas=0.9/0.999.

    With no arguments at all: the six optimizers on the ill-conditioned quadratic
    0.1 x1^2 + 2 x2^2, each at a learning rate chosen by hand to show it at its best, drawn
    into compare.png and compare.gif in the current folder (or only the files asked for).
    With a FUNCTION and no OPTs: the same six, each at the learning rate that does best on
    FUNCTION (one batched search, as --tune lr), drawn in the same way. With OPTs, the
    table alone unless a picture is asked for; an OPT without lr runs at its default lr,
    and if its path barely moves a line says so.

    A formula starts, unless --start says otherwise, at the corner of its frame farthest
    from the lowest point of the frame, so that its path shows.

    \b
    Examples:
      optviz compare
      optviz compare rosenbrock
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
      optviz compare ill_conditioned momentum:lr=0.1 adam:lr=0.3 --steps 40 --state --png state.png
    """
    if not optimizers and not any((png, svg, pdf, loss, spectrum, sharpness, gif, page)):  # the six, bare or on a FUNCTION: drawn
        png, gif = "compare.png", "compare.gif"
    # every check that needs no torch first: a mistake is refused before torch loads
    if function is not None:
        check_function_text(function, bounds, dim)
    outputs = {"png": output_path(png, ("png",), "--png"), "svg": output_path(svg, ("svg",), "--svg"),
               "pdf": output_path(pdf, ("pdf",), "--pdf"), "loss": output_path(loss, STILLS, "--loss"),
               "spectrum": output_path(spectrum, STILLS, "--spectrum"),
               "sharpness": output_path(sharpness, STILLS + ("csv", "json", "npz"), "--sharpness"),
               "gif": output_path(gif, ("gif",), "--gif"), "html": output_path(page, ("html",), "--html")}
    data_file = data_path(data)
    size = picture_size(size, "slide", gif=bool(gif), dpi=dpi, scale=scale)

    from ..analyses import comparisons
    from ..core.optimizers.schedules import ScheduleError

    fn = function_argument(comparisons.DEFAULT_FUNCTION if function is None else function, bounds, dim)
    point = start_point(start, fn)
    schedule = _schedules(schedules)
    _check_noise(noise, fn.dim)
    if spectrum and fn.matrix is None:
        raise click.BadParameter(f"a spectrum is drawn for the matrix problems (low_rank, matrix_sensing, "
                                 f"least_squares); {fn.name} is none", param_hint="--spectrum")
    if page and fn.dim != 2:
        raise click.BadParameter(f"interactive pages are drawn for 2D functions; {fn.name} is {fn.dim}D",
                                 param_hint="--html")
    made(optimizers, function=fn)

    from ..documents.outputs import write_run

    tuned = bool(tune) or (function is not None and not optimizers)  # a FUNCTION alone: the six, tuned for it
    with ProgressBar(terminal, "compare") as bar, terminal.fast_notes():
        try:
            result, tuning = comparisons.compare(fn, optimizers, point, steps, schedules=schedule, noise=noise, seed=seed,
                                                tune=tuned, fast=fast, progress=bar,
                                                 state=state is not None or sharpness is not None)
        except ScheduleError as error:
            raise click.BadParameter(str(error), param_hint="--schedule") from None
        except ValueError as error:  # refused before the first step
            raise click.UsageError(str(error)) from None
        if tuning:
            terminal.say(tuning + "\n")
    terminal.compiled(next(iter(result.modes.values())))
    terminal.say(result.table(tol))
    frame = fn.bounds if bounds is not None else None  # a formula's bounds, as given, frame its pictures
    with terminal.fast_notes():  # the state's note: an optimizer that keeps none to draw
        written = write_run(result, data=data_file, **outputs, bounds=frame, theme=theme, size=size, state=state,
                            **motion(loop, hold), **look(dpi, scale, background, transparent))
    terminal.wrote(written)
    for note in [] if tuned else _default_lr_notes(result, optimizers):
        terminal.hint(note)
    if not any(outputs.values()):
        spectrum = ", --spectrum" if fn.matrix is not None else ""
        terminal.hint(f"To draw it, add --png FILE (or --svg, --pdf, --loss{spectrum}, --gif, --html).")


def _schedules(texts: tuple[str, ...]) -> list[dict[str, Any]]:
    """--schedule NAME[:k=v,...] options as scheduler specs, each scheduler made once to check it."""

    def fail(message: str) -> Any:
        raise click.BadParameter(message, param_hint="--schedule")

    specs = []
    for text in texts:
        name, kwargs = parse_spec(text, fail)
        specs.append({"name": name, **{k: list(v) if isinstance(v, tuple) else v for k, v in kwargs.items()}})
    if specs:
        from ..analyses.comparisons import check_schedules
        from ..core.optimizers.schedules import ScheduleError

        try:
            check_schedules(specs)
        except ScheduleError as error:
            fail(str(error))
    return specs


def _check_noise(noise: float | None, dim: int) -> None:
    """--noise, checked against the function's dimensions."""
    if noise is None:
        return
    from ..core.simulation.noise import check_noise

    try:
        check_noise(noise, dim)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--noise") from None


BARELY = 0.05  # a path shorter than this share of the frame's widest side has barely moved


def _default_lr_notes(result: Any, specs: tuple) -> list[str]:
    """A line for each OPT given without lr whose path barely moved: how far it went at its
    default lr, and how to pick one."""
    widest = max(hi - lo for lo, hi in result.function.bounds)
    notes = []
    for (name, kwargs), (label, opt) in zip(specs, result.optimizers.items()):
        lr = getattr(opt, "hyperparams", {}).get("lr")
        if "lr" in kwargs or not isinstance(lr, (int, float)):
            continue
        path = result.path(label)
        moved = float((path[-1] - path[0]).norm()) if bool(path[-1].isfinite().all()) else float("inf")
        if moved < BARELY * widest:
            notes.append(f"{name} ran at its default lr={lr:g} and moved {moved:.3g} in {result.steps} steps "
                         f"(the frame is {widest:g} wide): add --tune lr to pick one, or give one ({name}:lr=0.05)")
    return notes
