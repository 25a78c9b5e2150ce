"""Themes, sizes and colours: how a figure looks, decided in one place."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from matplotlib.colors import LinearSegmentedColormap

from ..names import did_you_mean

# Okabe & Ito's colour-blind-safe palette; each optimizer keeps its colour in every figure.
PALETTE = {
    "sgd": "#0072B2",
    "momentum": "#E69F00",
    "nesterov": "#CC79A7",
    "adagrad": "#009E73",
    "rmsprop": "#D55E00",
    "adam": "#56B4E9",
    "adamw": "#F0E442",
}
EXTRA_COLOURS = ["#999999", "#882255", "#44AA99", "#117733", "#332288", "#AA4499", "#DDCC77"]


@dataclass(frozen=True)
class Theme:
    background: str
    foreground: str
    muted: str  # contour lines, grid, secondary text
    fill_low: str  # the contour fill at the minimum ...
    fill_high: str  # ... and at the top of the range
    outline: str  # the halo around paths, so any colour reads on the fill

    @property
    def colormap(self) -> LinearSegmentedColormap:
        return LinearSegmentedColormap.from_list("optviz", [self.fill_low, self.fill_high])


THEMES = {
    "light": Theme("#ffffff", "#1f2328", "#8c959f", "#b8cde0", "#f7f8fa", "#ffffff"),
    "dark": Theme("#0f1419", "#e6edf3", "#6e7681", "#3b5068", "#151b22", "#0f1419"),
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
    "gif": Size(640, 480, 100, 10),
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
    if not (64 <= width <= 10_000 and 64 <= height <= 10_000):
        raise ValueError(f"size must be between 64 and 10000 pixels a side, got {width}x{height}")
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
        "legend.framealpha": 0.85,
        "grid.color": theme.muted,
        "font.size": size.font,
        "axes.titlesize": size.font * 1.15,
        "axes.labelsize": size.font,
        "legend.fontsize": size.font * 0.85,
        "xtick.labelsize": size.font * 0.85,
        "ytick.labelsize": size.font * 0.85,
        "lines.linewidth": max(1.0, size.font / 7),
        "axes.spines.top": False,
        "axes.spines.right": False,
    }


def colours(kinds: list[str]) -> list[str]:
    """One colour per path: the first of each optimizer kind gets the kind's own colour;
    repeats take the colours of kinds absent from the figure, then spare ones."""
    own = {kind: PALETTE[kind] for kind in kinds if kind in PALETTE}
    free = [c for k, c in PALETTE.items() if k not in own] + EXTRA_COLOURS
    chosen, seen = [], set()
    for kind in kinds:
        if kind in own and kind not in seen:
            chosen.append(own[kind])
        else:
            chosen.append(free.pop(0) if free else "#777777")
        seen.add(kind)
    return chosen


def _known(what: str, name: Any, known: dict) -> str:
    if not isinstance(name, str) or name not in known:
        raise ValueError(f"unknown {what} {name!r}{did_you_mean(name, known)}")
    return name
