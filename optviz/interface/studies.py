"""``optviz sweep`` and ``optviz basins``: grids of runs as one batch, drawn as maps."""

from __future__ import annotations

import math

import click

from ..core.limits import MAX_ASKED_STEPS, MAX_BASIN_RESOLUTION, MAX_SWEEP_VALUES
from ..render.kinds import STILL_FORMATS as STILLS
from .options import (data_option, data_path, fast_option, look, output_path, picture_size, start_point, style_options,
                      function_argument)
from .progress import ProgressBar
from .terminal import Terminal, pass_terminal, quiet_option
from .types import OptimizerSpec, check_function_text, made


@click.command(context_settings={"ignore_unknown_options": True, "allow_extra_args": True})
@click.argument("function")
@click.argument("optimizer", type=OptimizerSpec())
@click.option("--n", "resolution", type=click.IntRange(2, MAX_SWEEP_VALUES), default=24, show_default=True,
              help="Values per hyperparameter.")
@click.option("--steps", type=click.IntRange(1, MAX_ASKED_STEPS), default=200, show_default=True, help="Steps per run.")
@click.option("--start", default=None, help="Start point as x,y.")
@click.option("--png", default=None, help="Where to write the heatmap (default sweep-FUNCTION-OPT.png).")
@fast_option
@data_option
@style_options
@quiet_option
@pass_terminal
@click.pass_context
def sweep(ctx: click.Context, terminal: Terminal, function: str, optimizer: tuple, resolution: int, steps: int,
          start: str | None, png: str | None, fast: bool, data: str | None,
        theme: str, size: str | None, dpi: float | None, scale: float | None, background: str | None,
        transparent: bool | None) -> None:
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
    check_function_text(function)  # every check that needs no torch first
    ranges = _ranges(ctx.args)
    name, hypers = optimizer
    data_file = data_path(data)
    size = picture_size(size, "slide", dpi=dpi, scale=scale)
    fn = function_argument(function, None)
    point = start_point(start, fn)
    target = output_path(png or f"sweep-{fn.name}-{name}.png", STILLS, "--png")
    made([optimizer], function=fn)

    from ..analyses.studies import check_sweep
    from ..analyses.studies import sweep as run_sweep
    from ..documents.outputs import write_map

    values = {key: _spaced(key, bounds, resolution) for key, bounds in ranges.items()}
    try:
        check_sweep(name, hypers, values)
    except (TypeError, ValueError) as error:
        raise click.UsageError(str(error)) from None
    (xn, xs), (yn, ys) = values.items()
    with ProgressBar(terminal, f"sweep of {resolution}x{resolution} runs") as bar, terminal.fast_notes():
        study = run_sweep(fn, name, (xn, xs), (yn, ys), start=point, steps=steps, hypers=hypers, progress=bar,
                          fast=fast)
    terminal.compiled(study.mode)
    bx, by, best = study.best
    terminal.say(f"best: {xn}={bx:.4g}, {yn}={by:.4g}, final f={best:.4g}")
    terminal.wrote(write_map(study, target, data=data_file, theme=theme, size=size,
                             **look(dpi, scale, background, transparent)))


def _ranges(args: list[str]) -> dict[str, tuple[float, float]]:
    """The two --NAME LOW:HIGH pairs after the options click knows."""
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
    """n values from LOW to HIGH, as the help says: lr and eps (when positive) spaced
    logarithmically, the rest linearly."""
    import numpy as np

    low, high = bounds
    if name in ("lr", "eps") and low > 0:
        return np.geomspace(low, high, n).tolist()
    return np.linspace(low, high, n).tolist()


@click.command()
@click.argument("function")
@click.argument("optimizer", type=OptimizerSpec())
@click.option("--n", "resolution", type=click.IntRange(2, MAX_BASIN_RESOLUTION), default=80, show_default=True,
              help="Start points per side of the grid.")
@click.option("--steps", type=click.IntRange(1, MAX_ASKED_STEPS), default=300, show_default=True, help="Steps per run.")
@click.option("--png", default=None, help="Where to write the map (default basins-FUNCTION-OPT.png).")
@fast_option
@data_option
@style_options
@quiet_option
@pass_terminal
def basins(terminal: Terminal, function: str, optimizer: tuple, resolution: int, steps: int, png: str | None,
           fast: bool, data: str | None,
        theme: str, size: str | None, dpi: float | None, scale: float | None, background: str | None,
        transparent: bool | None) -> None:
    """Map the basins of attraction of OPTIMIZER on FUNCTION.

    Starts on a grid over the bounds, all run as one batch, each coloured by the minimum it
    reaches (grey: none).

    \b
    Examples:
      optviz basins himmelblau adam:lr=0.1
      optviz basins himmelblau sgd:lr=0.01 --n 120 --steps 500 --data basins.csv
      optviz basins himmelblau adam:lr=0.1 --n 400 --fast
    """
    check_function_text(function)  # every check that needs no torch first
    name, hypers = optimizer
    data_file = data_path(data)
    size = picture_size(size, "slide", dpi=dpi, scale=scale)
    fn = function_argument(function, None)
    target = output_path(png or f"basins-{fn.name}-{name}.png", STILLS, "--png")
    made([optimizer], function=fn)
    if fn.dim != 2 or not fn.minima:
        raise click.UsageError(f"basins are mapped on 2D functions with known minima; {fn.name} is {fn.dim}D "
                               f"with {len(fn.minima) or 'no'} known minima")

    from ..analyses.studies import basins as run_basins
    from ..documents.outputs import write_map

    with ProgressBar(terminal, f"basins of {resolution}x{resolution} starts") as bar, terminal.fast_notes():
        study = run_basins(fn, name, hypers, resolution=resolution, steps=steps, progress=bar, fast=fast)
    terminal.compiled(study.mode)
    terminal.say("share of starts per minimum: " + ", ".join(f"{s:.0%}" for s in study.shares()))
    terminal.wrote(write_map(study, target, data=data_file, theme=theme, size=size,
                             **look(dpi, scale, background, transparent)))
