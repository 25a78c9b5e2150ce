"""Scenario files found and read: the bundled ones, a name or a path made a file, and a file's
bytes made TOML data within the ceilings, with no validation of what the data says (that is
optviz.scenario's). Nothing here loads torch, so the command line refuses a missing or
malformed file at once.
"""

from __future__ import annotations

import hashlib
import re
import tomllib
from pathlib import Path
from typing import Any

from ..core.files import read_regular
from ..core.limits import MAX_DEPTH, MAX_SCENARIO_BYTES
from ..core.names import cut, did_you_mean

BUNDLED = Path(__file__).parent.parent / "scenarios"  # shipped with the package, in optviz/scenarios


class ScenarioError(ValueError):
    """A scenario file that cannot be run, with the place and the reason."""


def bundled() -> list[Path]:
    """The scenario files shipped with optviz, in gallery order."""
    return sorted(BUNDLED.glob("*.toml"))


def listing() -> str:
    """The bundled scenarios: each file's name and title."""
    return "\n".join(f"{path.stem:<34} {tomllib.loads(path.read_text(encoding='utf-8')).get('title', '')}"
                     for path in bundled())


def find(name: str | Path) -> Path:
    """A scenario file: the path itself if it exists, else the bundled scenario of that name,
    with or without its number, or its number alone ("rosenbrock", "11-rosenbrock", "11")."""
    path = Path(name)
    if path.exists():
        return path
    files, names = bundled(), {}
    for p in files:
        number, _, rest = p.stem.partition("-")
        names.update({p.stem: p, rest: p, number: p})
    if path.suffix == ".toml" and path.stem in names:  # a checkout's path, run where the checkout is not
        raise ScenarioError(f"{name}: no such file; the bundled scenario is found by its name: "
                            f"{names[path.stem].stem}")
    if path.suffix == ".toml" or len(path.parts) > 1:
        return path
    if str(name) in names:
        return names[str(name)]
    raise ScenarioError(f"{name}: no such file, and no bundled scenario of that name"
                        f"{did_you_mean(name, [p.stem.split('-', 1)[-1] for p in files])}")


_SPECIAL = re.compile(r"[\"'#\[\]{}.,=\n]")
_STRING_ENDS = {  # the rest of a string after its opening quotes
    '"""': re.compile(r'(?:[^"\\]|\\.|"(?!""))*""""{0,2}', re.S),
    '"': re.compile(r'(?:[^"\\\n]|\\.)*"'),
    "'''": re.compile(r"(?:[^']|'(?!''))*''''{0,2}"),
    "'": re.compile(r"[^'\n]*'"),
}


def nesting(text: str, limit: float = float("inf")) -> int:
    """How deep TOML text nests: open brackets and braces plus the dots of a dotted key,
    counted outside strings and comments, without parsing; it stops counting past limit."""
    depth = dots = deepest = 0
    pos = 0
    while match := _SPECIAL.search(text, pos):
        char, pos = match.group(), match.end()
        if char in "\"'":
            quote = char * 3 if text.startswith(char * 3, match.start()) else char
            end = _STRING_ENDS[quote].match(text, match.start() + len(quote))
            pos = end.end() if end else len(text)
        elif char == "#":
            newline = text.find("\n", pos)
            pos = len(text) if newline < 0 else newline
        elif char == ".":
            dots += 1
        else:
            dots = 0  # a dotted key ends at =, a comma, a bracket or a line's end
            depth = depth + 1 if char in "[{" else max(depth - 1, 0) if char in "]}" else depth
        deepest = max(deepest, depth + dots)
        if deepest > limit:
            break
    return deepest


def read(path: Path) -> tuple[dict[str, Any], str]:
    """A scenario file's TOML data and a hash of its bytes (unchanged files need no
    re-render); ScenarioError for a file that cannot be read, is too big or too deep, or is
    not TOML."""
    try:
        raw = read_regular(path, MAX_SCENARIO_BYTES, "scenario file")
    except ValueError as error:
        raise ScenarioError(str(error)) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ScenarioError(f"{path}: not valid TOML: {error}") from None
    if nesting(text, MAX_DEPTH) > MAX_DEPTH:  # before parsing: tomllib's time grows with a key's depth squared
        raise ScenarioError(f"{path}: nested more than {MAX_DEPTH} deep")
    try:
        data = tomllib.loads(text)
    except (ValueError, RecursionError) as error:  # TOMLDecodeError, and ints of 5,000 digits
        raise ScenarioError(f"{path}: not valid TOML: {cut(str(error), 200)}") from None
    return data, hashlib.sha256(raw).hexdigest()
