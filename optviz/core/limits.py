"""How much anything may ask for: every ceiling optviz keeps, and the memory budget.

The ceilings are fixed numbers, each named for what it bounds; the API, the command line and
the scenario reader all read them here. A scenario file may come from elsewhere, so its
numbers have ceilings of their own, lower than Python's where a file could start a run of
days.

A file from elsewhere also has its work estimated before anything runs (a scenario's paths,
``starts x steps x optimizers``, and how many optimizers it lists; a landscape's grid points
x examples x weights): over its ceiling it is refused with one line, unless ``OPTVIZ_ALLOW_LARGE=1``
is set (a large job asked for on purpose).

Every entry point that can be asked for too much (``simulate``, ``basins``, ``sweep``, the
landscape, the experiments, ``animate`` and ``save``) also estimates its peak memory, not
just its result, and refuses with one line naming the option and the estimate when the peak
is over the limit: half of the memory this machine has available when optviz starts, or
``OPTVIZ_MAX_MEMORY`` (bytes, or a number with K, M, G or T: ``OPTVIZ_MAX_MEMORY=8G``).
"""

from __future__ import annotations

import os
import re

from .errors import BadInput

# --- runs ------------------------------------------------------------------------------------
MAX_STEPS = 1_000_000  # steps of one run from Python (the memory budget is usually met first)
MAX_ASKED_STEPS = 100_000  # steps of one run the command line or a scenario file may ask for
MAX_STARTS = 10_000_000  # more is refused whatever the memory: a run would take hours
MAX_DIM = 100_000  # coordinates of one point; runs are bounded by memory
MAX_PROBLEM_VALUES = 10_000_000  # numbers a matrix problem's fixed data holds (targets, measurements, examples): 80 MB
MAX_START_WIDTHS = 10  # a start lies at most this many widths of the function's bounds beyond them (the frame takes it in)
MAX_SEED = 2**63 - 1
MAX_KERNELS = 256  # fast mode's compiled kernels a process keeps (dynamo's recompile limit is raised to it)
MAX_EXPONENT = 100  # |exponent| of a formula's constant powers
MAX_LENGTH = 500  # characters of a formula
MAX_NESTING = 16  # levels of a formula within each other (brackets, powers, fractions, calls, signs); its title's typesetting gives out past 20

# --- studies ---------------------------------------------------------------------------------
MAX_BASIN_RESOLUTION = 2000  # a basins map of 2000 x 2000 starts
MAX_SWEEP_VALUES = 1000  # values of one hyperparameter in a sweep from the command line
MAX_CELLS = MAX_SWEEP_VALUES**2  # cells of a sweep
MAX_LANDSCAPE_RESOLUTION = 401  # grid points per side of a landscape's slice
MIN_REFINED_RESOLUTION = 9  # a refined landscape's grid: its coarse grid (every 4th point) at least 3 x 3
MAX_CHECK_STEPS = 10_000  # steps of `optviz check`

# --- models (a scenario's [settings]; Python callers are not limited) ------------------------
MAX_EPOCHS = 10_000
MAX_INPUTS = 10_000  # linear_regression's d, the width of its one layer
MAX_EXAMPLES = 100_000  # n_train, n_test, batch; landscape's batch, examples, batch_size
MAX_DATA_VALUES = 10_000_000  # examples x inputs in one data set: 40 MB of float32
MAX_VARIANTS = 16  # lambdas, mlp variants, landscape optimizers
MAX_TRAINING_STEPS = 1_000_000  # optimizer steps over all variants
MAX_SHARPNESS_PRODUCTS = 1_000  # Hessian-vector products of one sharpness measurement (edge_of_stability's products)
MAX_WORK = 10**11  # epochs x examples x weights x variants: minutes on one core
MAX_PATH_POINTS = 20_000  # landscape keeps the weights after every step: 12 KB each for the MLP
MAX_LR = 10.0
MAX_DECAY = 1_000.0  # lambdas and weight_decay
MAX_CHUNK = 1024  # landscape grid points evaluated at once
MAX_LINE = 10_001  # landscape's line of points

# --- pictures --------------------------------------------------------------------------------
MIN_SIDE, MAX_SIDE = 64, 10_000  # pixels a side of a picture
MIN_FRAMES, MAX_FRAMES = 2, 2000  # frames of a GIF
MAX_EVERY = 10_000  # a GIF that shows every n-th step
MAX_GIF_PIXELS = 4000 * 4000  # beyond a 4K slide, and where numpy's buffers start to fail
MIN_FPS, MAX_FPS = 0.5, 50  # GIF delays are in hundredths of a second: faster is not kept by viewers
MIN_GIF_BYTES, MAX_GIF_BYTES = 1024, 10**10  # a GIF's byte budget
MAX_HIGHLIGHT = 1e6  # the lambda whose level sets a regularization still draws
MAX_HOLD = 60  # seconds a GIF's last frame is held
MAX_PATHS = 2_000  # paths an interactive page holds: more cannot be told apart on one picture
MAX_POINTS = 40_000  # points (path x step) a page carries; a longer result is thinned to fit

# --- files -----------------------------------------------------------------------------------
MAX_SCENARIO_BYTES = 1 << 20  # a scenario is a page of text; this is a thousand pages
MAX_DEPTH = 32  # tables and arrays within each other; the shipped files go 4 deep
MAX_STRING = 10_000  # characters in one string value: a long description fits
MAX_KEY = 100  # characters in one key
MAX_MANIFEST_BYTES = 16 << 20  # a gallery manifest: a thousand scenarios' entries fit many times over
MAX_NUMBERS_BYTES = 1 << 20  # an experiment's numbers are a few lines
MAX_PAGE_BYTES = 64 << 20  # an interactive page the gallery reads for its live flag: the pages are under 1 MB
MAX_MESSAGE = 300  # characters of an error line on the terminal
MAX_SIZE_TEXT = 40  # characters of a --size
MAX_JOBS = 64  # processes the gallery renders with

# --- work a file may ask for without OPTVIZ_ALLOW_LARGE=1 ----------------------------------
MAX_FILE_PATH_STEPS = 1_000_000  # starts x steps x optimizers of a scenario: a minute or more, most of it drawing
MAX_FILE_OPTIMIZERS = 16  # optimizers one scenario lists: 16 with a GIF take half a minute, 200 take many minutes
MAX_FILE_GRID_WORK = MAX_WORK  # grid points x examples x weights of a landscape from a file (one forward pass each)

ALLOW_LARGE = "OPTVIZ_ALLOW_LARGE"


class WorkError(BadInput):
    """A file that asks for more work than its ceiling, said before anything runs."""


def check_work(amount: int, ceiling: int, unit: str, how: str = "") -> None:
    """WorkError unless ``amount`` of ``unit`` is within ``ceiling`` or OPTVIZ_ALLOW_LARGE=1
    is set; ``how`` says how it was counted ("7,600 starts x 10,000 steps x 1 optimizers = ")."""
    if amount > ceiling and not large_allowed():
        raise WorkError(f"{how}{amount:,} {unit}, more than the {ceiling:,} a file may ask for without "
                        f"{ALLOW_LARGE}=1 (set it to run this anyway)")


def large_allowed() -> bool:
    """Whether OPTVIZ_ALLOW_LARGE=1 lifts the ceilings of a file's work."""
    return os.environ.get(ALLOW_LARGE, "").strip() == "1"


# --- memory ----------------------------------------------------------------------------------

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


def check_memory(needed: float, what: str, advice: str) -> None:
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
MIN_DPI, MAX_DPI = 10, 2400  # a picture's pixels per inch
MIN_SCALE, MAX_SCALE = 0.25, 8  # text, lines and markers, times their own size
