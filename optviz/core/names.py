"""How names and values are shown: the one "did you mean" of every registry, option and key,
the short form of a hyperparameter in a label, and an error's message on one line."""

from __future__ import annotations

import difflib
from typing import Any, Iterable


def closest(name: Any, known: Iterable[str]) -> str | None:
    """The known name nearest to ``name``, if any is near."""
    matches = difflib.get_close_matches(str(name), list(known), n=1)
    return matches[0] if matches else None


def cut(text: str, limit: int = 60) -> str:
    """``text`` for a message, cut to ``limit`` characters with an ellipsis: an error names
    what was given without echoing all of a huge input."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def quoted(value: Any, limit: int = 60) -> str:
    """``repr(value)``, cut as by :func:`cut`."""
    return cut(repr(value), limit)


def did_you_mean(name: Any, known: Iterable[str]) -> str:
    """The tail of an unknown-name error: "; did you mean 'adam'? (known: sgd, adam)"."""
    known = list(known)
    match = closest(name, known)
    hint = f"; did you mean {match!r}?" if match else ""
    return f"{hint} (known: {', '.join(known)})"


def short_value(value: Any) -> str:
    """A hyperparameter as a label shows it: 0.05, (0.9,0.99), [0.001..1] for a sweep."""
    if hasattr(value, "label"):
        return str(value.label)
    if hasattr(value, "numel") and hasattr(value, "min"):  # a tensor
        low, high = value.min().item(), value.max().item()
        return f"[{low:.4g}..{high:.4g}]" if value.numel() > 1 else f"{low:.4g}"
    if isinstance(value, (tuple, list)):
        return "(" + ",".join(short_value(v) for v in value) + ")"
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def same_value(value: Any, default: Any) -> bool:
    """Whether a hyperparameter is at its default (a tensor never is: it was given)."""
    if hasattr(value, "numel"):
        return False
    if isinstance(value, (tuple, list)) and isinstance(default, (tuple, list)):
        return len(value) == len(default) and all(same_value(v, d) for v, d in zip(value, default))
    try:
        return bool(value == default)
    except (TypeError, ValueError, RuntimeError):
        return False


def one_line(error: BaseException) -> str:
    """An error's message with its whitespace runs (newlines included) as single spaces; its
    type's name where it has no message."""
    return " ".join(str(error).split()) or type(error).__name__
