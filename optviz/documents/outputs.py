"""Files from runs: each picture, animation, page and data file asked for, written once, and
scenarios rendered into a folder one after another. Every writer returns what it wrote, in
order, as :class:`Written` entries that say themselves ("wrote a.gif (87 frames, 412 kB)")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..analyses.curvature import save_sharpness
from ..analyses.studies import Basins, Sweep
from ..core.files import TABLE_FORMATS
from ..core.files import atomic
from ..core.simulation.runs import Progress
from ..render import animate, basin_map, grid, landscape_sharpness, line_chart, picture, plot, save, sweep_map
from ..render.page import html_page
from .gallery import render_outputs

if TYPE_CHECKING:  # for the signatures only: a run's writer need not load the models' code
    from ..analyses.models.landscapes import Landscape
    from ..core.simulation.result import Result
    from .scenario import ExperimentScenario, Scenario

FilePath = str | Path


@dataclass(frozen=True)
class Written:
    """A file written, and what to say about it besides its path."""

    path: Path
    note: str = ""

    def __str__(self) -> str:
        return f"wrote {self.path}" + (f" ({self.note})" if self.note else "")


def write_run(result: Result, *, data: FilePath | None = None, png: FilePath | None = None,
              svg: FilePath | None = None, pdf: FilePath | None = None, loss: FilePath | None = None,
              spectrum: FilePath | None = None, sharpness: FilePath | None = None, gif: FilePath | None = None, html: FilePath | None = None,
              bounds: Any = None,
              theme: str = "light", size: Any = "slide", state: Any = None, loop: str | int = "forever",
              hold: float = 3.0, **look: Any) -> list[Written]:
    """Write ``result`` to each file given: its paths as data (.csv, .json or .npz), the paths
    picture (drawn once for png, svg and pdf; ``bounds`` frames it, the GIF and the page), the loss
    curves (.png, .svg or .pdf), a matrix problem's spectrum (.png, .svg or .pdf: one panel per
    optimizer), the sharpness per step against each optimizer's stable limit (.png, .svg or
    .pdf; as data, .csv, .json or .npz: see analyses.curvature.save_sharpness), an animation (.gif: played ``loop`` times, its last frame held
    ``hold`` seconds) and the interactive page (.html).
    ``state`` draws the optimizer's state on the paths picture and at the GIF's and the
    page's moving points (see optviz.render.glyphs).
    ``look``: dpi, scale, background, transparent (optviz.render.figure)."""
    style = {"theme": theme, "size": size, **look}
    written = [Written(result.save(data))] if data else []
    if png or svg or pdf:
        written += _stills(picture(result, bounds=bounds, state=state, **style), png, svg, pdf)
    if loss:
        written.append(Written(save(plot(result, "loss", **style).figure, loss)))
    if spectrum:
        written.append(Written(save(grid(result, kind="spectrum", **style), spectrum)))
    if sharpness and Path(sharpness).suffix.lower()[1:] in TABLE_FORMATS:
        written.append(Written(save_sharpness(result, sharpness)))
    elif sharpness:
        written.append(Written(save(plot(result, "sharpness", **style).figure, sharpness)))
    if gif:
        animation = animate(result, gif, bounds=bounds, state=state, loop=loop, hold=hold, **style)
        frames = f"{animation.frames} frame{'s' if animation.frames != 1 else ''}"
        written.append(Written(animation.path, f"{frames}, {animation.bytes / 1e3:.0f} kB"))
    if html:
        html_page(result, html, bounds=bounds, state=state, **style)
        written.append(Written(Path(html), f"{Path(html).stat().st_size / 1e3:.0f} kB, interactive"))
    return written


def write_map(study: Sweep | Basins, path: FilePath, *, data: FilePath | None = None, theme: str = "light",
              size: Any = "slide", **look: Any) -> list[Written]:
    """Write a sweep's heatmap or a basins map to ``path`` (.png, .svg or .pdf), after its
    numbers as data if ``data`` is given; ``look`` as for write_run."""
    chart = sweep_map if isinstance(study, Sweep) else basin_map
    written = [Written(study.save(data))] if data else []
    return written + [Written(save(chart(study, theme=theme, size=size, **look).figure, path))]


def write_landscape(study: Landscape, *, data: FilePath | None = None, png: FilePath | None = None,
                    svg: FilePath | None = None, surface: FilePath | None = None, line: FilePath | None = None,
                    gif: FilePath | None = None, directions: FilePath | None = None,
                    sharpness: FilePath | None = None, theme: str = "light",
                    size: Any = "slide", **look: Any) -> list[Written]:
    """Write a loss landscape to each file given: its projected paths as data, the contours
    with the paths (drawn once for png and svg), the 3D surface, the 1D line (the study must
    have one: landscape(line=n)), an animation of the paths, and the slice's directions (.pt,
    to draw another model on the same slice); the contours carry the trust report's note
    (Landscape.trust), the sharpness along the paths (the study must
    have it: landscape(sharpness_every=k); with ``data`` its numbers go beside it, as
    NAME-sharpness.csv); ``look`` as for write_run."""
    style = {"theme": theme, "size": size, **look}
    result = study.result()
    written = [Written(study.save(data))] if data else []
    if data and study.sharpness:
        table = Path(data).with_name(Path(data).stem + "-sharpness.csv")
        with atomic(table) as tmp:
            tmp.write_text(study.sharpness_table())
        written.append(Written(table))
    if png or svg:
        written += _stills(picture(result, note=study.trust.note() if study.trust else None, **style), png, svg)
    if surface:
        written.append(Written(save(plot(result, "surface", **style).figure, surface)))
    if line:
        written.append(Written(save(line_chart(study.line, **style).figure, line)))
    if gif:
        written.append(Written(animate(result, gif, **style).path))
    if directions:
        written.append(Written(study.basis.save(directions)))
    if sharpness:
        written.append(Written(save(landscape_sharpness(study, **style).figure, sharpness)))
    return written


def render_scenarios(scenarios: Sequence[Scenario | ExperimentScenario], folder: FilePath,
                     data: Sequence[FilePath | None] | None = None, page: FilePath | None = None,
                     progress: Progress | None = None) -> list[Written]:
    """Render each scenario into ``folder`` (see optviz.gallery.render_outputs), its data into
    its entry of ``data`` if that is given, and its page into ``page``; ``progress`` hears of
    each scenario done."""
    targets = data if data is not None else [None] * len(scenarios)
    written = []
    for done, (scenario, target) in enumerate(zip(scenarios, targets), start=1):
        written += render_outputs(scenario, folder, target, page)
        if progress is not None:
            progress("scenarios", done, len(scenarios))
    return [Written(path) for path in written]


def _stills(figure: Any, *paths: FilePath | None) -> list[Written]:
    """One figure saved to each path given, in its format."""
    return [Written(save(figure, path)) for path in paths if path]
