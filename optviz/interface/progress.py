"""The progress line long commands draw on stderr while the library works."""

from __future__ import annotations

import sys
import time
from typing import Self

import click

from .terminal import Terminal

CELLS = 20  # characters of the bar
REDRAW = 0.1  # seconds between two drawings of an unfinished phase


class ProgressBar:
    """A progress line on stderr, drawn only on a terminal: done/total, rate and time left.

    The library calls it as progress(what, done, total). A report that names another
    ``what`` or total, or counts back, starts a new phase. A phase's clock starts when its
    work does: when the bar is entered for the first phase, at the report before it (the
    last of the phase before) for the next, so that even a phase's first rate is real.
    """

    def __init__(self, terminal: Terminal, label: str) -> None:
        self.label, self.shown = label, not terminal.quiet and _on_terminal()
        self.phase: tuple[str, int] | None = None
        self.done, self.started, self.reported, self.drawn, self.width = 0, 0.0, 0.0, 0.0, 0

    def __call__(self, what: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if (what, total) != self.phase or done < self.done:
            self.phase, self.started = (what, total), self.reported
        self.done, self.reported = done, now
        if not self.shown or (done < total and now - self.drawn < REDRAW):
            return
        self.drawn = now
        rate = done / max(now - self.started, 1e-9)
        filled = round(CELLS * done / max(total, 1))
        line = (f"{self.label} [{'#' * filled}{'.' * (CELLS - filled)}] {done:,}/{total:,} {what}, "
                f"{_rate(rate)} {what}/s, {(total - done) / max(rate, 1e-9):.0f} s left")
        click.echo("\r" + line.ljust(self.width), err=True, nl=False)
        self.width = len(line)

    def __enter__(self) -> Self:
        self.reported = time.perf_counter()  # the first phase's work starts now
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
