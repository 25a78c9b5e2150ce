"""What the commands print, and where: the context object the root group makes and every
command takes (as click's examples/repo hands its Repo to each command)."""

from __future__ import annotations

import contextlib
import warnings
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import click

from ..core.errors import FastModeWarning, StateWarning

if TYPE_CHECKING:  # the signature only: the library loads when a command runs
    from ..documents.outputs import Written


@dataclass
class Terminal:
    """Results go to stdout and advice to stderr, so that stdout stays the command's table;
    with --quiet (before or after the command) neither is printed."""

    quiet: bool = False

    def say(self, text: str) -> None:
        if not self.quiet:
            click.echo(text)

    def hint(self, text: str) -> None:
        if not self.quiet:
            click.echo(text, err=True)

    def wrote(self, written: Iterable[Written]) -> None:
        """A line for each file written: "wrote PATH (what it is)"."""
        for entry in written:
            self.say(str(entry))

    @contextlib.contextmanager
    def fast_notes(self) -> Iterator[None]:
        """Around a run or its drawing: fast mode's one-line notes (why it ran in exact mode) and
        the state's (which optimizers keep none to draw) on stderr."""
        with warnings.catch_warnings(record=True) as caught:
            warnings.filterwarnings("always", category=FastModeWarning)
            warnings.filterwarnings("always", category=StateWarning)
            yield
        for warning in caught:
            if issubclass(warning.category, (FastModeWarning, StateWarning)):
                self.hint(str(warning.message))

    def compiled(self, mode: str) -> None:
        """What fast mode's compiling cost: "fast mode: compiled in 2.1 s"."""
        if mode.startswith("fast ("):
            self.hint("fast mode: " + mode.removeprefix("fast (").removesuffix(")"))


pass_terminal = click.make_pass_decorator(Terminal, ensure=True)


def quiet_option(command: Any) -> Any:
    """-q/--quiet after the command too (optviz compare ... --quiet)."""

    def set_quiet(ctx: click.Context, param: Any, value: bool) -> None:
        if value:
            ctx.ensure_object(Terminal).quiet = True

    return click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=set_quiet,
                        help="Print nothing but errors.")(command)
