"""A race's distributions: for each function, every optimizer's objective from every start,
a box (quartiles, whiskers to the 5th and 95th percentiles) over its points, each optimizer
in its own colour in every panel."""

from __future__ import annotations

from typing import Any

import matplotlib
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.patches import Patch

from ..analyses.races import OBJECTIVE_TITLES, Race
from .canvas import axes_level, expect, figure, titled
from .style import Theme, colours, get_theme

JITTER = 0.22  # half the width over which a box's points are spread
JITTER_SEED = 0  # the points' spread is drawn, the same in every picture


def race_colours(race: Race, theme: Theme) -> dict[str, str]:
    """Each optimizer's colour, by its kind as everywhere, the same in every panel."""
    made = {label: None for label in race.optimizers}
    for row in race.rows:
        made[row.optimizer] = made.get(row.optimizer) or row.made
    kinds = [opt.kind if opt is not None else label for label, opt in made.items()]
    return dict(zip(made, colours(kinds, theme)))


@axes_level(takes=(Race, "a Race (optviz.race)"))
def race_strips(race: Any, ax: Axes, theme: Theme, *, function: str | None = None, legend: bool = True,
                ylabel: bool = True) -> None:
    """One function's distributions, best first: the objective from every start as a point,
    a box over each optimizer's points, its colour named in the legend; starts that diverged
    counted at the foot of its box."""
    name = function or race.functions[0].name
    if name not in race.starts:
        raise ValueError(f"no function {name!r} in this race (have: {', '.join(race.starts)})")
    palette = race_colours(race, theme)
    rows = [row for row in race.ranked(name) if not row.error]
    shown = [race.scores[name, row.optimizer].numpy() for row in rows]
    finite = np.concatenate([v[np.isfinite(v)] for v in shown] or [np.zeros(0)])
    positive = finite[finite > 0]
    log = race.objective != "steps" and len(positive) > 0 and positive.max() > 100 * positive.min()
    floor = positive.min() if len(positive) else 0.0  # a zero on a log axis is drawn at the smallest value
    jitter = np.random.default_rng(JITTER_SEED)
    for i, (row, values) in enumerate(zip(rows, shown)):
        colour = palette[row.optimizer]
        points = values[np.isfinite(values)]
        if log:
            points = np.maximum(points, floor)
        offsets = jitter.uniform(-JITTER, JITTER, len(points))
        ax.scatter(i + offsets, points, s=14, color=colour, alpha=0.55, linewidths=0, zorder=2)
        if len(points):
            ax.boxplot([points], positions=[i], widths=0.62, whis=(5, 95), showfliers=False, patch_artist=True,
                       boxprops=dict(facecolor="none", edgecolor=colour, linewidth=2.2),
                       whiskerprops=dict(color=colour, linewidth=1.8), capprops=dict(color=colour, linewidth=1.8),
                       medianprops=dict(color=colour, linewidth=3.2), zorder=3)
        missing = int((~np.isfinite(values)).sum())  # diverged, or (steps) never within tol
        if missing:
            what = f"{row.diverged}\ndiverged" if row.diverged == missing else f"{missing} not\nwithin tol"
            ax.annotate(what, (i, 0.02), xycoords=("data", "axes fraction"), ha="center",
                        fontsize="small", color=theme.foreground)
    ax.set_xticks([])
    ax.set_xlim(-0.6, max(len(rows), 1) - 0.4)
    if log:
        ax.set_yscale("log")
    if ylabel:
        ax.set_ylabel(OBJECTIVE_TITLES[race.objective])
    ax.grid(True, axis="y", alpha=0.25)
    fn = race.function(name)
    ax.set_title(fn.title or fn.name, fontsize="medium")  # the figure's title says the starts, best first
    if legend:
        ax.legend(handles=_keys(palette), loc="best", fontsize="small")


def _keys(palette: dict[str, str]) -> list[Patch]:
    return [Patch(facecolor=colour, edgecolor=colour, label=label) for label, colour in palette.items()]


def race_picture(race: Race, *, theme: str | Theme = "light", size: Any = "slide", title: str | None = None,
                 **look: Any) -> Figure:
    """Every function's distributions, a panel each side by side (see :func:`race_strips`),
    under a title naming the race; ``look``: dpi, scale, background, transparent."""
    expect(race, Race, "race_picture: race", "a Race (optviz.race)")
    theme = get_theme(theme)
    fig, axes = figure(theme, size, 1, len(race.functions), **look)
    with matplotlib.rc_context(fig.optviz_rc):
        for k, (ax, fn) in enumerate(zip(axes.flat, race.functions)):  # the title names the objective; the
            race_strips(race, ax, function=fn.name, legend=False, ylabel=k == 0)  # first panel's axis says it
        palette = race_colours(race, theme)
        fig.legend(handles=_keys(palette), loc="outside lower center", frameon=False,
                   ncols=len(palette) if len(palette) <= 4 else (len(palette) + 1) // 2)
    clip = f", gradients clipped to norm {race.clip:g}" if race.clip is not None else ""
    starts = len(next(iter(race.starts.values())))
    return titled(fig, title or f"Race: {OBJECTIVE_TITLES[race.objective]} after {race.budget} steps{clip}\n"
                                f"{starts} random starts each, best first")
