"""A race's files in one folder: its table as race.csv and race.json, its distributions as
race.png (a panel per function), and for each 2D function a page of the median start's paths."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..analyses.races import Race
from ..render import save
from ..render.page import html_page
from ..render.races import race_picture
from .outputs import Written


def write_race(race: Race, folder: str | Path, *, theme: str = "light", size: Any = "slide", **look: Any) -> list[Written]:
    """Write the race into ``folder`` (which must exist): race.csv, race.json, race.png and,
    for each 2D function, race-FUNCTION.html: every optimizer that finished, run again from
    the function's median start (Race.median_start). ``look`` as for optviz.render.figure."""
    folder = Path(folder)
    written = [Written(race.save(folder / "race.csv")), Written(race.save(folder / "race.json"))]
    written.append(Written(save(race_picture(race, theme=theme, size=size, **look), folder / "race.png"),
                           "the distributions"))
    for fn in race.functions:
        if fn.dim != 2 or all(row.error for row in race.ranked(fn.name)):
            continue
        k = race.median_start(fn.name)
        page = folder / f"race-{fn.name}.html"
        point = ", ".join(f"{v:.3g}" for v in race.starts[fn.name][k].tolist())
        html_page(race.paths(fn.name), page, theme=theme, size=size,
                  title=f"{fn.title or fn.name}: the median start, ({point}), start {k}", **look)
        written.append(Written(page, f"the paths from the median start, start {k}"))
    return written
