"""``optviz run`` and ``optviz gallery``: scenario files rendered into a folder."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click

from ..core.limits import MAX_JOBS
from ..render.style import THEMES
from .options import data_path, look_options, motion_options, output_folder, output_path, picture_size, state_option
from .progress import ProgressBar
from .terminal import Terminal, pass_terminal, quiet_option
from .types import first_steps

def look_and_theme_options(command: Any) -> Any:
    """The options that restyle scenarios' pictures without editing them: how they look."""
    command = look_options(command)
    command = click.option("--size", default=None, metavar="NAME|WxH",
                           help="Every picture's size: slide, square, paper or WIDTHxHEIGHT pixels.")(command)
    command = click.option("--theme", type=click.Choice(list(THEMES)), default=None,
                           help="Every picture's colours: light, dark, or projector (light, with larger text and thicker lines).")(command)
    return command


def restyle_options(command: Any) -> Any:
    """The options that restyle scenarios without editing them: what they write and how it looks."""
    for still in ("gif", "pdf", "svg", "png"):
        command = click.option(f"--{still}/--no-{still}", default=None,
                               help=f"Write (or not) each scenario's {still.upper()} files, whatever its "
                                    "[outputs] say.")(command)
    return motion_options(look_and_theme_options(command))


def overrides(given: dict[str, Any]) -> dict[str, Any]:
    """The restyling options given (those not None), with --size, --dpi and --scale checked
    together (against a GIF's limits too, if GIFs are asked for)."""
    chosen = {key: value for key, value in given.items() if value is not None}
    if {"size", "dpi", "scale"} & set(chosen):
        size = picture_size(chosen.get("size"), "slide", gif=bool(chosen.get("gif")), dpi=chosen.get("dpi"),
                            scale=chosen.get("scale"))
        if "size" in chosen:
            chosen["size"] = size
    return chosen


def restyle_all(scenarios: list, chosen: dict[str, Any]) -> list:
    """Each scenario restyled by the options chosen; a UsageError naming one that cannot be."""
    from ..documents.scenario import ScenarioError, restyled

    try:
        return [restyled(scenario, **chosen) for scenario in scenarios]
    except ScenarioError as error:
        raise click.UsageError(str(error)) from None


allow_import_option = click.option(
    "--allow-import", is_flag=True,
    help="Let scenario files name optimizers by import path (package.module:Class); without it a file that does is "
         "refused: a scenario from elsewhere must not import modules by itself.")


@click.command()
@click.argument("scenarios", nargs=-1, required=True)
@click.option("--out", type=click.Path(file_okay=False), default=".", show_default=True,
              help="Folder for the outputs (made if missing).")
@click.option("--data", default=None, metavar="FILE|FORMAT",
              help="Also write each scenario's paths (or training curves) as data: a .csv, .json or .npz "
                   "FILE for one scenario, or a FORMAT (csv, json, npz) for OUT/NAME.FORMAT each.")
@click.option("--html", "page", default=None, metavar="FILE",
              help="Also write the scenario's interactive page (.html) here; for several scenarios, set "
                   "html = true in their [outputs] to write OUT/NAME.html each.")
@state_option
@restyle_options
@allow_import_option
@quiet_option
@pass_terminal
def run(terminal: Terminal, scenarios: tuple[str, ...], out: str, data: str | None, page: str | None,
        allow_import: bool, **restyle: Any) -> None:
    """Render SCENARIOS: TOML files, or names of bundled scenarios, into --out.

    A name finds a scenario shipped with optviz (`optviz list scenarios`), with or without
    its number; anything else is a path. Every file is validated before any work starts.
    --theme, --size, --dpi, --scale, --background, --transparent and --png/--svg/--pdf/--gif
    restyle every scenario without editing its file; --state draws the optimizers' state on
    its paths.

    \b
    Examples:
      optviz run rosenbrock
      optviz run 09-adam-bias-correction saddle --out figures/ --data csv
      optviz run rosenbrock --html rosenbrock.html
      optviz run rosenbrock --theme dark --background black --svg --out slides/
      optviz run momentum --state --out figures/
    """
    from ..documents.sources import ScenarioError, find, read

    try:  # found and read as TOML without torch: a missing or broken file is refused at once
        paths = [find(name) for name in scenarios]
        for path in paths:
            read(path)
    except ScenarioError as error:
        raise click.UsageError(str(error)) from None

    from ..documents.outputs import render_scenarios
    from ..documents.scenario import load

    chosen = overrides(restyle)
    try:
        loaded = [load(path, allow_import=allow_import) for path in paths]
    except ScenarioError as error:
        raise click.UsageError(str(error)) from None
    loaded = restyle_all(loaded, chosen)
    for scenario in loaded:  # an optimizer that cannot step is refused before any file is written
        try:
            first_steps(getattr(scenario, "function", None), getattr(scenario, "optimizers", None) or {})
        except ValueError as error:
            raise click.UsageError(f"{scenario.name}: {error}") from None
    targets = _data_targets(data, [s.name for s in loaded], Path(out))
    if page is not None and len(loaded) > 1:
        raise click.BadParameter(f"{page!r} is one page for {len(loaded)} scenarios: set html = true in their "
                                 "[outputs] to write one page each", param_hint="--html")
    page_path = output_path(page, ("html",), "--html")
    folder = output_folder(out)
    with ProgressBar(terminal, "run") as bar, terminal.fast_notes():
        written = render_scenarios(loaded, folder, targets, page_path, progress=bar)
    terminal.wrote(written)


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
    return [data_path(data)]


@click.command()
@click.option("--out", type=click.Path(file_okay=False), default="gallery", show_default=True,
              help="Folder for the gallery.")
@click.option("--scenarios", "source", type=click.Path(file_okay=False, exists=True), default=None,
              help="Folder of scenario files (default: the scenarios bundled with optviz).")
@click.option("--jobs", type=click.IntRange(1, MAX_JOBS), default=2, show_default=True, help="Processes to render with.")
@click.option("--force", is_flag=True, help="Render everything, changed or not.")
@restyle_options
@allow_import_option
@quiet_option
@pass_terminal
def gallery(terminal: Terminal, out: str, source: str | None, jobs: int, force: bool, allow_import: bool,
            **restyle: Any) -> None:
    """Render every scenario into the gallery, with an index page.

    Only scenarios whose file changed since the last build (or whose outputs are missing)
    are rendered again; --force renders all. --theme, --size, --dpi, --scale, --background,
    --transparent and --png/--svg/--pdf/--gif restyle every scenario without editing its
    file (a build restyled otherwise than the last renders everything again).

    \b
    Examples:
      optviz gallery
      optviz gallery --out site/ --force
      optviz gallery --out dark/ --theme dark --transparent
    """
    from ..documents.gallery import build
    from ..documents.scenario import ScenarioError, bundled

    chosen = overrides(restyle)
    files = sorted(Path(source).glob("*.toml")) if source else bundled()
    if not files:
        raise click.UsageError(f"no scenario files (*.toml) in {source}")
    folder = output_folder(out)
    started = time.perf_counter()
    with ProgressBar(terminal, "gallery") as bar:
        try:
            entries, rendered = build(files, folder, jobs=jobs, force=force, allow_import=allow_import, progress=bar,
                                      overrides=chosen)
        except ScenarioError as error:
            raise click.UsageError(str(error)) from None
    seconds = time.perf_counter() - started
    terminal.say(f"{len(rendered)} of {len(entries)} scenarios rendered in {seconds:.1f} s; "
                 f"index: {folder / 'index.html'}")
