"""Themes, sizes and colours: how a figure looks, decided in one place.

The themes and sizes are plain data, read by the API, the command line and the scenario
reader alike; importing this module loads neither matplotlib nor torch (the command line
checks ``--theme`` and ``--size`` with it before any work).

Every theme pairs a sequential multi-hue fill for the landscape (darkest at the low values)
with a path palette whose colours keep at least 3:1 contrast (WCAG) against every colour of
that fill, one hue family per optimizer, so that no two optimizers in a figure look alike
and none fades into the background.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from typing import Any

from ..core.limits import MAX_SIDE, MIN_SIDE
from ..core.names import did_you_mean

MIN_CONTRAST = 3.0  # every path colour against every fill colour


@functools.cache
def palette_slots() -> dict[str, int]:
    """Each built-in optimizer's place in every theme's palette, its entry's colour slot
    (read from the registry on first use: it loads torch)."""
    from ..core.optimizers.registry import BUILT_INS

    return {name: entry.colour for name, entry in BUILT_INS.items()}


def palette_order() -> tuple[str, ...]:
    """The built-in optimizers in the order of their palette places."""
    slots = palette_slots()
    return tuple(sorted(slots, key=slots.get))


def __getattr__(name: str) -> Any:
    if name == "KINDS":  # palette_order() as a constant, for those who read it as one
        return palette_order()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@dataclass(frozen=True)
class Theme:
    background: str
    foreground: str
    muted: str  # axes, grid, secondary text
    outline: str  # the thin halo around paths and markers
    fill: tuple[str, ...]  # the landscape, from the lowest values to the highest
    palette: tuple[str, ...]  # path colours, one hue family each: a built-in's at its entry's colour slot
    faint: str  # paths shown for context in small multiples

    @property
    def colormap(self) -> Any:
        from matplotlib.colors import LinearSegmentedColormap

        return LinearSegmentedColormap.from_list("optviz", list(self.fill))


THEMES = {
    "light": Theme(
        background="#ffffff", foreground="#1f2328", muted="#6e7781", outline="#ffffff",
        # the light part of YlGnBu: teal at the minimum through green to pale yellow at the top
        # (matplotlib's YlGnBu_r from 0.58 to 1 in 8 steps)
        fill=("#69c5be", "#87d0ba", "#abdeb7", "#caeab4", "#dcf1b2", "#eef8b3", "#f7fcc6", "#ffffd9"),
        # blue, orange, magenta, green, red, purple, black, olive, petrol
        palette=("#1f4eb4", "#a04000", "#a0126f", "#17692a", "#c0141c", "#6a2ca0", "#222222", "#5e5200",
                 "#00607a"),
        faint="#6e7781",
    ),
    "dark": Theme(
        background="#0d1117", foreground="#e6edf3", muted="#8b949e", outline="#0d1117",
        fill=("#0a0f2c", "#0f1c40", "#12264d", "#143457", "#15405f", "#175063", "#1a5566"),
        palette=("#8fb8ff", "#ffb454", "#ff8fd8", "#7ee07e", "#ff8a80", "#c9a4ff", "#f2f2f2", "#f0e442",
                 "#6fe3ec"),
        faint="#8b949e",
    ),
}


@dataclass(frozen=True)
class Size:
    width: int  # pixels
    height: int
    dpi: int
    font: float  # points; chosen to read on a projector for slides, at column size for papers

    @property
    def inches(self) -> tuple[float, float]:
        return self.width / self.dpi, self.height / self.dpi


SIZES = {
    "slide": Size(1280, 720, 100, 15),
    "square": Size(1080, 1080, 100, 16),
    "paper": Size(1050, 750, 300, 7),  # 3.5 x 2.5 in: one column
}


def get_theme(theme: str | Theme) -> Theme:
    if isinstance(theme, Theme):
        return theme
    return THEMES[_known("theme", theme, THEMES)]


def get_size(size: str | tuple[int, int] | Size) -> Size:
    """A named size, or (width, height) in pixels at 100 dpi with a font scaled to match."""
    if isinstance(size, Size):
        return size
    if isinstance(size, str):
        return SIZES[_known("size", size, SIZES)]
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise TypeError(f"size must be a name ({', '.join(SIZES)}) or (width, height) in pixels, got {size!r}") from None
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ValueError(f"size must be between {MIN_SIDE} and {MAX_SIDE} pixels a side, got {width}x{height}")
    return Size(width, height, 100, round(max(6.0, 15 * min(width / 1280, height / 720)), 1))


def rc(theme: Theme, size: Size) -> dict[str, Any]:
    """matplotlib settings for a theme at a size."""
    return {
        "figure.facecolor": theme.background,
        "axes.facecolor": theme.background,
        "savefig.facecolor": theme.background,
        "axes.edgecolor": theme.muted,
        "axes.labelcolor": theme.foreground,
        "axes.titlecolor": theme.foreground,
        "xtick.color": theme.muted,
        "ytick.color": theme.muted,
        "xtick.labelcolor": theme.foreground,
        "ytick.labelcolor": theme.foreground,
        "text.color": theme.foreground,
        "legend.facecolor": theme.background,
        "legend.edgecolor": theme.muted,
        "legend.labelcolor": theme.foreground,
        "legend.framealpha": 0.9,
        "grid.color": theme.muted,
        "font.size": size.font,
        "axes.titlesize": size.font * 1.1,
        "figure.titlesize": size.font * 1.3,
        "figure.titleweight": "bold",
        "axes.labelsize": size.font,
        "legend.fontsize": size.font * 0.9,
        "xtick.labelsize": size.font * 0.85,
        "ytick.labelsize": size.font * 0.85,
        "lines.linewidth": max(1.0, size.font / 7),
        "axes.spines.top": False,
        "axes.spines.right": False,
        "mathtext.fontset": "dejavusans",
        "svg.fonttype": "none",  # text stays text in SVG: a slide author can edit a label
        "pdf.fonttype": 42,
        "savefig.dpi": size.dpi,
    }


# the order in which repeats take free colours: the families most unlike each other first
# (places a palette has beyond these come after them, in order)
_FREE_ORDER = (0, 4, 3, 1, 5, 2, 6, 7, 8)


def _free_order(theme: Theme) -> list[int]:
    return [*_FREE_ORDER, *range(len(_FREE_ORDER), len(theme.palette))]


def colours(kinds: list[str], theme: Theme) -> list[str]:
    """One colour per path, each in its own hue family: the first of each built-in kind gets
    the kind's own colour; another kind (torch's, a third party's, a built-in whose slot the
    palette has not) the free colour its name picks, the same in every picture where that
    one is free; repeats take the colours no kind in the figure uses, blue, red and green
    first."""
    from ..core.optimizers.foreign import colour_rank

    slots = {kind: slot for kind, slot in palette_slots().items() if slot < len(theme.palette)}
    own = {kind: theme.palette[slots[kind]] for kind in kinds if kind in slots}
    order = _free_order(theme)
    free = [theme.palette[i] for i in order if theme.palette[i] not in own.values()]
    chosen, seen = [], set()
    for kind in kinds:
        if kind in own and kind not in seen:
            chosen.append(own[kind])
        elif not free:
            chosen.append(theme.faint)
        else:
            preferred = theme.palette[order[colour_rank(kind) % len(order)]]
            pick = preferred if kind not in slots and kind not in seen and preferred in free else free[0]
            chosen.append(pick)
            free.remove(pick)
        seen.add(kind)
    return chosen


def series_colours(n: int, theme: Theme) -> list[str]:
    """Colours for n things of one kind (the starts of one optimizer, the minima of a basin
    map): the free order, blue, red and green first, then the faint colour."""
    order = [theme.palette[i] for i in _free_order(theme)]
    return [order[i] if i < len(order) else theme.faint for i in range(n)]


def check_colour(colour: Any) -> str:
    """A colour matplotlib knows, or ValueError naming it."""
    from matplotlib.colors import is_color_like, to_hex

    if not isinstance(colour, str) or not is_color_like(colour):
        raise ValueError(f"unknown colour {colour!r} (a name like 'crimson' or a hex code like '#1f4eb4')")
    return to_hex(colour)


def luminance(colour: Any) -> float:
    """WCAG relative luminance of a colour."""
    import numpy as np
    from matplotlib.colors import to_rgb

    channels = np.array(to_rgb(colour))
    linear = np.where(channels <= 0.03928, channels / 12.92, ((channels + 0.055) / 1.055) ** 2.4)
    return float(linear @ np.array([0.2126, 0.7152, 0.0722]))


def contrast(a: Any, b: Any) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def _known(what: str, name: Any, known: dict) -> str:
    if not isinstance(name, str) or name not in known:
        raise ValueError(f"unknown {what} {name!r}{did_you_mean(name, known)}")
    return name
