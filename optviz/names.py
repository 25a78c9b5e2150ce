"""Names that were not found: the one "did you mean" of every registry, option and key."""

from __future__ import annotations

import difflib
from typing import Any, Iterable


def closest(name: Any, known: Iterable[str]) -> str | None:
    """The known name nearest to ``name``, if any is near."""
    matches = difflib.get_close_matches(str(name), list(known), n=1)
    return matches[0] if matches else None


def did_you_mean(name: Any, known: Iterable[str]) -> str:
    """The tail of an unknown-name error: "; did you mean 'adam'? (known: sgd, adam)"."""
    known = list(known)
    match = closest(name, known)
    hint = f"; did you mean {match!r}?" if match else ""
    return f"{hint} (known: {', '.join(known)})"
