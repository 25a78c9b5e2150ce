"""Themes, sizes and colours: how a figure looks, decided in one place.

The themes and sizes are plain data, read by the API, the command line and the scenario
reader alike; importing this module loads neither matplotlib nor torch (the command line
checks ``--theme`` and ``--size`` with it before any work).

Every theme pairs a landscape fill even in lightness (CIE L* rising in equal steps from the
darkest basin to the highest values) with a colour-blind-safe path palette (Okabe and Ito's
colours and a few more, one optimizer a colour in every picture). Every path keeps at least
3:1 contrast (WCAG) against every colour of the fill as it is drawn: on the dark theme by its
own colour, on the light ones, whose fill runs from dark basins to near white (L* 38 to 97,
which no single colour can stand out from at both ends), by a black casing under the colour,
which itself keeps 3:1 against that casing.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass, replace
from numbers import Real
from typing import Any

from ..core.limits import MAX_DPI, MAX_SCALE, MAX_SIDE, MIN_DPI, MIN_SCALE, MIN_SIDE
from ..core.names import did_you_mean

MIN_CONTRAST = 3.0  # every path colour against every fill colour
# Text in SVG files names these in turn: DejaVu Sans draws the PNGs, and a slide program
# without it (PowerPoint, Keynote) takes the next it has, keeping the text editable
FONT_STACK = ("DejaVu Sans", "Helvetica Neue", "Helvetica", "Arial", "Segoe UI", "Liberation Sans")


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
    casing: str | None = None  # the edge under every path, where the fill is both lighter and darker than it
    text: float = 1.0  # every text size times this
    lines: float = 1.0  # every line width times this
    transparent: bool = False  # no fill behind the picture: the background colour only edges text and paths

    @property
    def colormap(self) -> Any:
        from matplotlib.colors import LinearSegmentedColormap

        return LinearSegmentedColormap.from_list("optviz", list(self.fill))


# The light fill: L* from 38 (a slate-blue basin, still 3:1 against the black casing) to 97
# (a warm white) in equal steps, its hue turning from blue through sea green to cream at a low
# chroma, so the paths are the vivid things in the picture
_LIGHT_FILL = ("#245f82", "#2c748c", "#428893", "#5e9b9a", "#7eaea1", "#9fc0aa", "#c0d2b8", "#e0e4c9", "#fef6df")
# slots as the registry gives them: SGD, momentum, Nesterov, AdaGrad, RMSProp, Adam, AdamW,
# Adam (notes), Lion. Blue, bluish green, sky blue, yellow, reddish purple and vermilion are
# Okabe and Ito's; the six that meet most often are all theirs, so no two of them are a close
# pair for a reader with a red-green deficiency either
_LIGHT_PALETTE = ("#0072b2", "#009e73", "#56b4e9", "#f0e442", "#cc79a7", "#d55e00", "#12b0c4", "#aa3377", "#a0a0a0")
_LIGHT = Theme(
    background="#ffffff", foreground="#1f2328", muted="#6e7781", outline="#ffffff",
    fill=_LIGHT_FILL, palette=_LIGHT_PALETTE, faint="#6e7781", casing="#000000",
)

THEMES = {
    "light": _LIGHT,
    "dark": Theme(
        background="#0d1117", foreground="#e6edf3", muted="#8b949e", outline="#0d1117",
        # L* from 10 to 34 in equal steps, navy to deep teal: light paths stand out by themselves
        fill=("#0b1d28", "#0f2631", "#13303a", "#173942", "#1c434a", "#234d51", "#2a5758"),
        # the light palette's hues at L* 70 or more
        palette=("#68b0f6", "#3fc092", "#b0def2", "#f0e442", "#e691bf", "#fe8d47", "#5ed8dc", "#cdabf1", "#e6e6e6"),
        faint="#8b949e",
    ),
    # the light theme for the back of a lecture hall: text 15% larger (no text under 18 pt on a
    # slide), lines half as thick again
    "projector": replace(_LIGHT, text=1.15, lines=1.5),
}


@dataclass(frozen=True)
class Size:
    """A picture's pixels, the dpi its PNG is tagged with (so that it drops into a document
    at width / dpi inches), its text size in points at that size, and ``scale``: text,
    lines, markers, arrowheads and halos are drawn that many times their size in points."""

    width: int  # pixels
    height: int
    dpi: float
    font: float  # points; chosen to read on a projector for slides, at column size for papers
    scale: float = 1.0

    @property
    def inches(self) -> tuple[float, float]:
        """Its size where it is placed: as its PNG's dpi tag says."""
        return self.width / self.dpi, self.height / self.dpi

    @property
    def render_dpi(self) -> float:
        """Pixels per inch of the figure matplotlib draws: a point there is scale points here."""
        return self.dpi * self.scale

    @property
    def figsize(self) -> tuple[float, float]:
        """The figure's inches, in which every size in points is laid out."""
        return self.width / self.render_dpi, self.height / self.render_dpi

    @property
    def pixels_per_point(self) -> float:
        return self.render_dpi / 72


SIZES = {
    # a 16:9 slide (13.333 x 7.5 in) at 1080p, so that a projector shows it pixel for pixel
    "slide": Size(1920, 1080, 144, 22),
    "square": Size(1080, 1080, 144, 20),  # the slide's height
    "paper": Size(1050, 750, 300, 7),  # 3.5 x 2.5 in: one column
}
SCREEN_SHARE = 2 / 3  # GIFs and pages: a named size at this share of its dpi (the slide's 1280x720)


def get_theme(theme: str | Theme, background: Any = None, transparent: bool = False) -> Theme:
    """A theme by name, on ``background`` (a colour) if given, with no fill behind it if
    ``transparent``."""
    if not isinstance(theme, Theme):
        theme = THEMES[_known("theme", theme, THEMES)]
    if background is not None:
        colour = check_colour(background)
        halo = colour if theme.outline == theme.background else theme.outline  # halos that matched the page still do
        theme = replace(theme, background=colour, outline=halo)
    if not isinstance(transparent, bool):
        raise TypeError(f"transparent must be True or False, got {transparent!r}")
    return replace(theme, transparent=True) if transparent else theme


def get_size(size: str | tuple[int, int] | Size, dpi: Any = None, scale: Any = None) -> Size:
    """A named size, or (width, height) in pixels laid out as the slide is (text, lines
    and markers in proportion to the picture).

    ``dpi`` changes a named size's pixels, not its inches or its look (the slide at
    dpi=288 is 3840x2160); a (width, height) keeps its pixels and is tagged with it
    (default the slide's 144). ``scale`` draws text, lines and markers that many times
    larger (2 for a picture shown half a slide wide)."""
    dpi = None if dpi is None else check_dpi(dpi)
    scale = 1.0 if scale is None else check_scale(scale)
    if isinstance(size, Size):
        named = size
    elif isinstance(size, str):
        named = SIZES[_known("size", size, SIZES)]
    else:
        return _pixels(size, dpi, scale)
    if dpi is not None and dpi != named.dpi:
        width, height = round(named.width * dpi / named.dpi), round(named.height * dpi / named.dpi)
        _check_side(width, height, f" (at dpi {dpi:g})")
        named = replace(named, width=width, height=height, dpi=dpi)
    return replace(named, scale=named.scale * scale)


def screen_size(size: str | tuple[int, int] | Size, dpi: Any = None, scale: Any = None) -> Size:
    """The size of a picture for a screen (a GIF, a page): a named size at SCREEN_SHARE of
    its dpi unless ``dpi`` says otherwise, with the still's layout; others as get_size."""
    if dpi is None and isinstance(size, str) and size in SIZES:
        dpi = SIZES[size].dpi * SCREEN_SHARE
    return get_size(size, dpi, scale)


def _pixels(size: Any, dpi: float | None, scale: float) -> Size:
    try:
        width, height = (int(v) for v in size)
    except (TypeError, ValueError):
        raise TypeError(f"size must be a name ({', '.join(SIZES)}) or (width, height) in pixels, got {size!r}") from None
    _check_side(width, height)
    slide = SIZES["slide"]
    # laid out as the slide: its figure, in inches, only as much smaller as the picture is
    render = max(36.0, slide.render_dpi * min(width / slide.width, height / slide.height))
    dpi = slide.dpi if dpi is None else dpi
    return Size(width, height, dpi, slide.font, render / dpi * scale)


def _check_side(width: int, height: int, why: str = "") -> None:
    if not (MIN_SIDE <= width <= MAX_SIDE and MIN_SIDE <= height <= MAX_SIDE):
        raise ValueError(f"size must be between {MIN_SIDE} and {MAX_SIDE} pixels a side, got {width}x{height}{why}")


def check_dpi(dpi: Any) -> float:
    """A dpi from MIN_DPI to MAX_DPI, or ValueError saying so."""
    if not _number(dpi) or not MIN_DPI <= dpi <= MAX_DPI:
        raise ValueError(f"dpi must be a number from {MIN_DPI} to {MAX_DPI}, got {dpi!r}")
    return float(dpi)


def check_scale(scale: Any) -> float:
    """A scale from MIN_SCALE to MAX_SCALE, or ValueError saying so."""
    if not _number(scale) or not MIN_SCALE <= scale <= MAX_SCALE:
        raise ValueError(f"scale must be a number from {MIN_SCALE} to {MAX_SCALE}, got {scale!r}")
    return float(scale)


def _number(value: Any) -> bool:
    return isinstance(value, Real) and not isinstance(value, bool) and math.isfinite(value)


def rc(theme: Theme, size: Size) -> dict[str, Any]:
    """matplotlib settings for a theme at a size."""
    fill = "none" if theme.transparent else theme.background
    font = size.font * theme.text
    return {
        "figure.facecolor": fill,
        "axes.facecolor": fill,
        "savefig.facecolor": fill,
        "savefig.transparent": theme.transparent,
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
        "font.size": font,
        "axes.titlesize": font * 1.1,
        "figure.titlesize": font * 1.3,
        "figure.titleweight": "bold",
        "axes.labelsize": font,
        # gaps that grow with the type: a fixed few points vanish between large labels
        "axes.labelpad": font * 0.3,
        "axes.titlepad": font * 0.3,
        "legend.fontsize": font * 0.9,
        "xtick.labelsize": font * 0.85,
        "ytick.labelsize": font * 0.85,
        "lines.linewidth": max(1.0, size.font / 10) * theme.lines,  # as thick on the slide as at 1280x720 before its text grew
        "axes.spines.top": False,
        "axes.spines.right": False,
        "font.family": "sans-serif",
        "font.sans-serif": list(FONT_STACK),
        "mathtext.fontset": "dejavusans",
        "svg.fonttype": "none",  # text stays text in SVG: a slide author can edit a label
        "pdf.fonttype": 42,
        "savefig.dpi": size.render_dpi,
    }


# the order in which repeats take free colours: the families most unlike each other first,
# blue, vermilion, bluish green, reddish purple (places a palette has beyond these come after
# them, in order)
_FREE_ORDER = (0, 5, 1, 4, 3, 2, 6, 7, 8)


def _free_order(theme: Theme) -> list[int]:
    return [*_FREE_ORDER, *range(len(_FREE_ORDER), len(theme.palette))]


def colours(kinds: list[str], theme: Theme) -> list[str]:
    """One colour per path, each in its own hue family: the first of each built-in kind gets
    the kind's own colour; another kind (torch's, a third party's, a built-in whose slot the
    palette has not) the free colour its name picks, the same in every picture where that
    one is free; repeats take the colours no kind in the figure uses, blue, vermilion and
    green first."""
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
    map): the free order, blue, vermilion and green first, then the faint colour."""
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


def reads_on(colour: Any, theme: "Theme") -> bool:
    """Whether the colour reads as text on the theme's background (MIN_CONTRAST)."""
    return contrast(colour, theme.background) >= MIN_CONTRAST


def contrast(a: Any, b: Any) -> float:
    """WCAG contrast ratio of two colours, 1 to 21."""
    la, lb = sorted((luminance(a), luminance(b)))
    return (lb + 0.05) / (la + 0.05)


def _known(what: str, name: Any, known: dict) -> str:
    if not isinstance(name, str) or name not in known:
        raise ValueError(f"unknown {what} {name!r}{did_you_mean(name, known)}")
    return name
