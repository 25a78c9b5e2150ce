"""Options several commands share, and the checks that turn their text into what the library
takes, each failing as click's BadParameter naming the option, before any work starts."""

from __future__ import annotations

import math
import os
import re
from pathlib import Path
from typing import Any

import click

from ..core.limits import MAX_SIZE_TEXT
from ..render.style import SIZES, THEMES
from .types import bounds_pairs

fast_option = click.option(
    "--fast", is_flag=True,
    help="Fuse each step into one compiled kernel (torch.compile): up to 2x faster on big batches once "
         "compiled, but compiling takes seconds, so it pays on long runs; within 1e-12 of the exact paths in "
         "float64, not bit-equal to torch.optim. Built-in functions and optviz's own optimizers only; anything "
         "else runs exactly, with a note.")


data_option = click.option(
    "--data", default=None, metavar="FILE",
    help="Also write the numbers as data: .csv, .json or .npz (read back with optviz.Result.load for paths).")


def _checked(check: Any, hint: str) -> Any:
    """A click callback that turns an option's text through ``check`` (None stays None)."""

    def callback(ctx: Any, param: Any, value: Any) -> Any:
        if value is None:
            return None
        try:
            return check(value)
        except (TypeError, ValueError) as error:
            raise click.BadParameter(str(error), param_hint=hint) from None

    return callback


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{text!r} is not a number") from None


def _dpi(text: str) -> float:
    from ..render.style import check_dpi

    return check_dpi(_number(text))


def _scale(text: str) -> float:
    from ..render.style import check_scale

    return check_scale(_number(text))


def _colour(text: str) -> str:
    from ..render.style import check_colour

    return check_colour(text)


def look_options(command: Any) -> Any:
    """--dpi, --scale, --background and --transparent: how any picture looks."""
    command = click.option("--transparent", is_flag=True, default=None,
                           help="No fill behind the pictures (a GIF's background-colour pixels show through).")(command)
    command = click.option("--background", default=None, metavar="COLOUR", callback=_checked(_colour, "--background"),
                           help="Background colour (a name like black or #rrggbb) instead of the theme's.")(command)
    command = click.option("--scale", default=None, metavar="X", callback=_checked(_scale, "--scale"),
                           help="Text, lines and markers X times as large (2 for a picture shown half a slide "
                                "wide).")(command)
    command = click.option("--dpi", default=None, metavar="N", callback=_checked(_dpi, "--dpi"),
                           help="Pixels per inch: more pixels with the same look (the slide is 13.333x7.5 in at "
                                "144); PNGs are tagged with it.")(command)
    return command


def state_option(command: Any) -> Any:
    """--state [state|gradient|both|stability]: the optimizer's state drawn on the paths ("state" alone)."""
    from ..render.kinds import STATE_GLYPHS

    return click.option("--state", type=click.Choice(list(STATE_GLYPHS)), is_flag=False, flag_value="state",
                        default=None, help="Draw why each path moves: alone (or 'state'), momentum's velocity as "
                                           "arrows and an adaptive method's per-coordinate step size as ellipses; "
                                           "'gradient', -lr times the gradient against the step taken; 'both'; 'stability', a dot "
                                           "at each step coloured by the curvature along it over the optimizer's "
                                           "stable limit (red past the edge; stills only).")(command)


def _loop(text: str) -> str | int:
    from ..render.kinds import loop_count

    value = int(text) if text.strip().isdigit() else text
    loop_count(value)
    return value


def _hold(text: str) -> float:
    from ..render.kinds import check_hold

    return check_hold(_number(text))


def motion_options(command: Any) -> Any:
    """--loop and --hold: how a GIF plays."""
    command = click.option("--hold", default=None, metavar="SECONDS", callback=_checked(_hold, "--hold"),
                           help="Seconds the GIF's last frame is held (default 3).")(command)
    command = click.option("--loop", default=None, metavar="forever|once|N", callback=_checked(_loop, "--loop"),
                           help="How often the GIF plays: forever (the default), once, or N times.")(command)
    return command


def motion(loop: str | int | None, hold: float | None) -> dict[str, Any]:
    """--loop and --hold as the library takes them (only those given)."""
    return {key: value for key, value in (("loop", loop), ("hold", hold)) if value is not None}


def style_options(command: Any) -> Any:
    command = look_options(command)
    command = click.option("--theme", type=click.Choice(list(THEMES)), default="light", show_default=True,
                           help="Colours: light, dark for dark slides, or projector (light, with larger text and thicker lines).")(command)
    command = click.option("--size", default=None, metavar="NAME|WxH",
                           help="slide (1920x1080, 13.333x7.5 in; GIFs and pages 1280x720), square, paper (one "
                                "column) or WIDTHxHEIGHT pixels.")(command)
    return command


def look(dpi: float | None, scale: float | None, background: str | None, transparent: bool | None) -> dict[str, Any]:
    """The look options as the library takes them (only those given)."""
    given = {"dpi": dpi, "scale": scale, "background": background, "transparent": transparent}
    return {key: value for key, value in given.items() if value is not None}


def function_argument(text: str, bounds: str | None, dim: int | str | None = None) -> Any:
    """A registered function (in ``dim`` dimensions, for those that come in any), or a formula
    such as 'x**2 + 10*sin(y)' over --bounds; --bounds given for a registered function frame
    its pictures (its bounds become them)."""
    import dataclasses

    from ..core.functions import FUNCTIONS, get_function

    if not text.strip():
        raise click.BadParameter("is empty: give a function name or a formula", param_hint="FUNCTION")
    pairs = None if bounds is None else bounds_pairs(bounds)
    named = text in FUNCTIONS
    try:
        fn = get_function(text, bounds=None if named else pairs, dim=dim)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint="--dim" if named and dim is not None else "FUNCTION") from None
    if named and pairs is not None:
        if len(pairs) != fn.dim or not all(math.isfinite(lo) and math.isfinite(hi) and lo < hi for lo, hi in pairs):
            raise click.BadParameter(f"{bounds!r}: {fn.name} is {fn.dim}D: give {fn.dim} finite pairs lo,hi with lo < hi",
                                     param_hint="--bounds")
        fn = dataclasses.replace(fn, bounds=pairs)
    return fn


def start_point(text: str | None, fn: Any) -> tuple[float, ...] | None:
    """A --start point, or None for the function's own start. Outside the function's bounds
    is fine (the picture's frame widens to take it in), but not infinitely far."""
    if text is None:
        return None
    from ..core.functions.surface import unreachable

    try:
        point = tuple(float(part) for part in text.split(","))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a point like -1.5,2", param_hint="--start") from None
    if len(point) != fn.dim:
        raise click.BadParameter(f"{fn.name} is {fn.dim}D, got {len(point)} coordinates", param_hint="--start")
    problem = unreachable(point, fn.bounds)
    if problem is not None:
        raise click.BadParameter(f"{text} cannot start {fn.name}: {problem}", param_hint="--start")
    return point


def output_path(path: str | None, formats: tuple[str, ...], option: str) -> Path | None:
    """An output path with one of the suffixes ``formats``, in a writable folder."""
    if path is None:
        return None
    from ..core.files import writable_path

    try:
        return writable_path(path, formats)
    except ValueError as error:
        raise click.BadParameter(str(error), param_hint=option) from None


def data_path(path: str | None) -> Path | None:
    """A --data file: .csv, .json or .npz."""
    from ..core.files import TABLE_FORMATS

    return output_path(path, TABLE_FORMATS, "--data")


def output_folder(path: str) -> Path:
    """An --out folder, made if missing, that can be written to."""
    folder = Path(path)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise click.BadParameter(f"cannot make folder {folder}: {error.strerror}", param_hint="--out") from None
    if not os.access(folder, os.W_OK):
        raise click.BadParameter(f"folder {folder} is not writable", param_hint="--out")
    return folder


def picture_size(text: str | None, default: str, gif: bool = False, dpi: float | None = None,
                 scale: float | None = None) -> Any:
    """A named size or (width, height), checked as the renderer will check it (at ``dpi``),
    and for a GIF against the memory budget."""
    from ..render.style import get_size, screen_size

    size: Any = default if text is None else _size_text(text)
    for option, check in (("--size", lambda: get_size(size)), ("--dpi", lambda: get_size(size, dpi, scale))):
        try:
            check()
        except (TypeError, ValueError) as error:
            raise click.BadParameter(str(error), param_hint=option) from None
    if gif:
        from ..render.gif import check_gif_size

        try:
            check_gif_size(screen_size(size, dpi, scale))
        except ValueError as error:
            raise click.BadParameter(str(error), param_hint="--size") from None
    return size


def _size_text(text: str) -> Any:
    """--size's text as a name or (width, height)."""
    size: Any = text
    if len(text) > MAX_SIZE_TEXT:
        raise click.BadParameter(f"{text[:20]!r}…: not a size name or WIDTHxHEIGHT", param_hint="--size")
    other = re.fullmatch(r"\s*(\d+)\s*[*×X,:/ ]\s*(\d+)\s*", text)
    if text not in SIZES and other:  # 1920*1080, 1920,1080: the size meant, in the form that reads it
        raise click.BadParameter(f"{text!r}: write a size as WIDTHxHEIGHT, as {other[1]}x{other[2]} "
                                 f"(or a name: {', '.join(SIZES)})", param_hint="--size")
    if text not in SIZES and "x" in text.lower():
        try:
            size = tuple(int(v) for v in text.lower().split("x"))
        except ValueError:
            raise click.BadParameter(f"{text!r} is not WIDTHxHEIGHT", param_hint="--size") from None
    return size
