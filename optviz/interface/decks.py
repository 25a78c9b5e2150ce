"""``optviz slides``: scenarios as a 16:9 PowerPoint deck, one slide per picture."""

from __future__ import annotations

from typing import Any

import click

from ..core.errors import BadInput
from ..core.extras import needs
from .options import output_path
from .progress import ProgressBar
from .scenarios import allow_import_option, look_and_theme_options, overrides, restyle_all
from .terminal import Terminal, pass_terminal, quiet_option

NEEDS_PPTX = needs("pptx", "optviz slides")


@click.command()
@click.argument("scenarios", nargs=-1, required=True)
@click.option("-o", "--out", default="deck.pptx", show_default=True, metavar="FILE",
              help="The deck to write (.pptx), replaced whole once every slide is made.")
@click.option("--build-up", is_flag=True,
              help="Before each scenario's pictures, five slides that tell it step by step on one frame: the bare "
                   "landscape, the start, the gradient there with the first step, the first optimizer's path, "
                   "every optimizer's path (scenarios on a test function; a real-model experiment gets its "
                   "pictures only).")
@look_and_theme_options
@allow_import_option
@quiet_option
@pass_terminal
def slides(terminal: Terminal, scenarios: tuple[str, ...], out: str, build_up: bool, allow_import: bool,
           **restyle: Any) -> None:
    """Put SCENARIOS (TOML files, or names of bundled scenarios) on slides: a 16:9 deck.

    One slide per picture each scenario draws (its stills, and its GIF, which plays in the
    slide show), the scenario's title over it, its description and what the picture shows
    in the speaker notes. A standard .pptx, for PowerPoint, Keynote or LibreOffice Impress.
    --theme, --size, --dpi, --scale, --background and --transparent restyle every scenario
    (a black slide: --theme dark --background black). Needs python-pptx: pip install
    'optviz[slides]'.

    \b
    Examples:
      optviz slides rosenbrock -o rosenbrock.pptx
      optviz slides 03-gd-2d-quadratic 05-momentum --build-up -o lecture.pptx
      optviz slides 05-momentum 08-adam --theme dark --background black -o dark.pptx
    """
    try:
        import pptx  # noqa: F401 - only whether it is there, before any work
    except ImportError:
        raise BadInput(NEEDS_PPTX) from None
    target = output_path(out, ("pptx",), "--out")
    from ..documents.deck import write_deck
    from ..documents.scenario import ScenarioError, find, load

    chosen = overrides(restyle)
    try:
        loaded = [load(find(name), allow_import=allow_import) for name in scenarios]
    except ScenarioError as error:
        raise click.UsageError(str(error)) from None
    loaded = restyle_all(loaded, chosen)
    with ProgressBar(terminal, "slides") as bar:
        written = write_deck(loaded, target, build_up=build_up, progress=bar)
    terminal.wrote([written])
