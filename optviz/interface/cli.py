"""The optviz command line: the root group, its global options and its one-line errors.

Only ``python -m optviz`` (optviz/__main__.py) and the console script import this module; the
commands live in the modules named for what they do, and each imports the library only once its arguments are parsed, so that
``optviz --help`` and bad input never wait for torch.
"""

from __future__ import annotations

import os
import sys
import warnings
from typing import Any

import click

from ..core import __version__
from ..core.errors import BadInput
from ..core.limits import MAX_MESSAGE
from .comparisons import compare
from .info import check, completion, list_
from .landscapes import landscape
from .scenarios import gallery, run
from .decks import slides
from .races import race
from .studies import basins, sweep
from .terminal import Terminal


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
            _die(_option_meant(error) or f"{error.format_message()}{hint}", error.exit_code)
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


def _option_meant(error: click.UsageError) -> str:
    """For an unknown option that is a value of a known one (--dark for --theme dark,
    --slide for --size slide), a message naming the option meant; else nothing."""
    if not isinstance(error, click.NoSuchOption) or error.ctx is None:
        return ""
    word = error.option_name.lstrip("-").split("=")[0]
    from ..render.style import SIZES

    for param in error.ctx.command.params:
        values = list(param.type.choices) if isinstance(param.type, click.Choice) else \
            list(SIZES) if param.name == "size" else []
        if word in values and param.opts:
            return f"no such option '{error.option_name}'; did you mean '{param.opts[-1]} {word}'?"
    return ""


def _die(message: str, code: int) -> None:
    one_line = " ".join(message.split())  # click's choice lists span lines
    if len(one_line) > MAX_MESSAGE:  # whatever a message echoes (a huge name, a tensor), one short line
        one_line = one_line[: MAX_MESSAGE - 1] + "…"
    click.echo(f"optviz: error: {one_line}", err=True)
    sys.exit(code)


@click.group(cls=OneLineErrors, invoke_without_command=True,
             commands=[compare, run, gallery, slides, list_, check, sweep, basins, race, landscape, completion],
             context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="optviz")
@click.option("-q", "--quiet", is_flag=True, help="Print nothing but errors (also after a command).")
@click.pass_context
def main(ctx: click.Context, quiet: bool) -> None:
    """See how optimizers move.

    Runs SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW and Lion (equal bit for bit
    to torch.optim, or for Lion to pytorch_optimizer) on test functions, and draws their paths
    as pictures and GIFs.

    \b
    Examples:
      optviz compare                   # the six optimizers -> ./compare.png and .gif
      optviz compare rosenbrock        # the six, each at a lr tuned for rosenbrock -> the same files
      optviz compare rosenbrock sgd:lr=1e-3 adam:lr=0.05 --steps 500 --png out.png
      optviz race rastrigin rosenbrock adam sgd rmsprop --starts 100   # tuned, then 100 starts each
      optviz run rosenbrock            # a bundled scenario (see: optviz list scenarios)
      optviz gallery --out gallery/    # every bundled scenario, with an index page
      optviz slides 05-momentum 08-adam -o deck.pptx   # a 16:9 deck (needs optviz[slides])
      optviz list functions

    Exit codes: 0 success, 1 failed run, 2 bad usage or input, 130 interrupted.
    Shell completion: eval "$(optviz completion bash)" (or zsh, fish).
    """
    ctx.obj = Terminal(quiet)
    if ctx.invoked_subcommand is None:
        click.echo(ctx.get_help())

