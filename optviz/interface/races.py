"""``optviz race``: optimizers tuned for each function, then raced from many seeded starts."""

from __future__ import annotations

import click

from ..core.errors import BadInput
from ..core.limits import MAX_ASKED_STEPS, MAX_SEED, MAX_STARTS
from ..core.names import did_you_mean
from ..core.vocabulary import RACE_OBJECTIVES, RACE_TUNABLE, function_names
from .options import look, output_folder, picture_size, style_options
from .progress import ProgressBar
from .terminal import Terminal, pass_terminal, quiet_option
from .types import Finite, made, optimizer_specs


@click.command()
@click.argument("entries", nargs=-1, metavar="FUNCTIONS... OPTS...")
@click.option("--starts", type=click.IntRange(1, MAX_STARTS), default=100, show_default=True,
              help="Random starts per function, drawn uniformly within its bounds from --seed.")
@click.option("--budget", type=click.IntRange(1, MAX_ASKED_STEPS), default=500, show_default=True,
              help="Steps of every run, tuning included.")
@click.option("--objective", type=click.Choice(RACE_OBJECTIVES), default="distance", show_default=True,
              help="What to minimize: final f - f*, distance to the global minimum, steps until f - f* <= --tol, "
                   "or the area under the f - f* curve.")
@click.option("--tune", default="lr", show_default=True, metavar="lr[,momentum][,betas]",
              help="What to tune, where an optimizer has it and the OPT does not give it.")
@click.option("--tune-starts", default="8", show_default=True, metavar="N|start",
              help="Tune on N random starts (drawn from --seed + 1), or on the function's own start.")
@click.option("--clip", type=Finite(min=0, min_open=True), default=None,
              help="Clip each path's gradient to this norm, as torch.nn.utils.clip_grad_norm_ does.")
@click.option("--tol", type=Finite(min=0, min_open=True), default=1e-3, show_default=True,
              help="Success: the path ends with f - f* <= tol; steps to tolerance count to it.")
@click.option("--seed", type=click.IntRange(0, MAX_SEED), default=0, show_default=True,
              help="Seed of the starts: the same seed, the same race.")
@click.option("--out", default=None, metavar="FOLDER",
              help="Write race.csv, race.json, race.png and a page of the median start's paths per 2D function.")
@style_options
@quiet_option
@pass_terminal
def race(terminal: Terminal, entries: tuple[str, ...], starts: int, budget: int, objective: str, tune: str,
         tune_starts: str, clip: float | None, tol: float, seed: int, out: str | None, theme: str, size: str | None,
         dpi: float | None, scale: float | None, background: str | None, transparent: bool | None) -> None:
    """Race OPTS on FUNCTIONS: each tuned per function, then run from many random starts.

    FUNCTIONS are names from `optviz list functions` (with a known minimum), then each OPT
    as for `optviz compare`. For every function and OPT, its lr (and momentum or betas
    with --tune) is tuned on a coarse grid (lr 1e-4..10, eight per decade), then twice on
    finer grids around the eight best settings so far, each round one batch, scored by the
    median objective over the tuning starts; then the tuned OPT runs from --starts random
    starts. The table ranks them per function by the median objective, with its quartiles,
    the success rate (ending within --tol of f*) and the median steps to --tol over the
    starts that reach it. An OPT that fails while it runs keeps a row saying why.

    \b
    Examples:
      optviz race rastrigin rosenbrock adam sgd rmsprop --starts 100 --budget 300 --clip 1.0
      optviz race rosenbrock sgd adam --tune lr,momentum --objective final --out race/
      optviz race himmelblau adam nadam --starts 50 --budget 200 --tune-starts start
    """
    functions, texts = _split(entries)
    specs = optimizer_specs(texts)
    tuned = tuple(name.strip() for name in tune.split(","))
    for name in tuned:
        if name not in RACE_TUNABLE:
            raise click.BadParameter(f"cannot tune {name!r}; tune any of {', '.join(RACE_TUNABLE)}",
                                     param_hint="--tune")
    tune_from = _tune_starts(tune_starts)
    size = picture_size(size, "slide", dpi=dpi, scale=scale)
    folder = output_folder(out) if out is not None else None
    from ..core.functions import get_function

    for name in functions:  # every OPT takes a step on every function before any work
        made(specs, "OPTS", function=get_function(name))

    from ..analyses.races import race as run_race

    with ProgressBar(terminal, "race") as bar:
        try:
            result = run_race(functions, specs, starts=starts, budget=budget, objective=objective, tune=tuned,
                              tune_starts=tune_from, clip=clip, tol=tol, seed=seed, progress=bar)
        except (TypeError, ValueError) as error:  # refused before the runs: one line, exit 2
            raise BadInput(str(error)) from None
    terminal.say(result.table())
    if folder is not None:
        from ..documents.races import write_race

        terminal.wrote(write_race(result, folder, theme=theme, size=size, **look(dpi, scale, background, transparent)))


def _split(entries: tuple[str, ...]) -> tuple[list[str], list[str]]:
    """The leading function names, then the OPTS."""
    names = function_names()
    functions = []
    for entry in entries:
        if entry not in names:
            break
        functions.append(entry)
    texts = list(entries[len(functions):])
    if not functions:
        first = f": {entries[0]!r} is not one{did_you_mean(entries[0].lower(), names)}" if entries else ""
        raise click.UsageError(f"a race needs FUNCTIONS first, names from `optviz list functions`{first}")
    if not texts:
        raise click.UsageError("a race needs OPTS after its FUNCTIONS, e.g. adam sgd:momentum=0.9")
    misplaced = [text for text in texts if text in names]
    if misplaced:
        raise click.UsageError(f"FUNCTIONS come before the OPTS: move {misplaced[0]!r} to the front")
    return functions, texts


def _tune_starts(text: str) -> int | str:
    if text == "start":
        return text
    try:
        n = int(text)
    except ValueError:
        n = 0
    if not 1 <= n <= 1000:
        raise click.BadParameter(f"{text!r}: give a number of starts from 1 to 1000, or 'start'",
                                 param_hint="--tune-starts")
    return n
