"""How much memory one run may use, checked before it allocates anything.

Every entry point that can be asked for too much (``simulate``, ``basins``, ``sweep``, the
landscape, the experiments, ``animate`` and ``save``) estimates its peak, not just its
result, and refuses with one line naming the option and the estimate when the peak is over
the limit: half of the memory this machine has available when optviz starts, or
``OPTVIZ_MAX_MEMORY`` (bytes, or a number with K, M, G or T: ``OPTVIZ_MAX_MEMORY=8G``).
"""

from __future__ import annotations

import os
import re

from .errors import BadInput

ENVIRONMENT = "OPTVIZ_MAX_MEMORY"
UNITS = {"": 1, "K": 2**10, "M": 2**20, "G": 2**30, "T": 2**40}
FALLBACK = 4 * 2**30  # where the machine does not say what it has


class BudgetError(BadInput):
    """A run whose estimated peak memory is over the limit, said before it starts."""


def limit() -> int:
    """The most bytes one run may use (see the module's docstring)."""
    text = os.environ.get(ENVIRONMENT, "").strip()
    if not text:
        return available() // 2
    match = re.fullmatch(r"(\d+(?:\.\d*)?)\s*([KMGT]?)(?:i?B)?", text, flags=re.IGNORECASE)
    if match is None or float(match[1]) * UNITS[match[2].upper()] < 2**20:
        raise BudgetError(f"{ENVIRONMENT}={text[:40]!r} is not a size of at least 1M, like 8G, 512M or 2000000")
    value = float(match[1]) * UNITS[match[2].upper()]
    return int(value)


def available() -> int:
    """Bytes of memory available now: MemAvailable on Linux, else physical memory."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return FALLBACK


def check(needed: float, what: str, advice: str) -> None:
    """BudgetError unless ``needed`` bytes fit the limit; ``what`` names the request (with its
    option) and ``advice`` says what to make smaller."""
    allowed = limit()
    if needed > allowed:
        raise BudgetError(f"{what} needs about {size(needed)} at its peak, more than the {size(allowed)} "
                          f"allowed: {advice} (or raise {ENVIRONMENT})")


def size(n: float) -> str:
    """Bytes for people: 512 MiB, 3.2 GiB."""
    for unit, scale in (("TiB", 2**40), ("GiB", 2**30), ("MiB", 2**20), ("KiB", 2**10)):
        if n >= scale:
            return f"{n / scale:.1f} {unit}"
    return f"{int(n)} bytes"
