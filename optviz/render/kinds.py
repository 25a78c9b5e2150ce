"""What can be drawn and written, by name: one vocabulary each, read by the API, the command
line and the scenario reader alike (importing it loads nothing)."""

from ..core.limits import MAX_HOLD

# every kind of picture of a result, and what it shows
PICTURES = {
    "auto": "paths on the contours in 2D, on the curve in 1D",
    "paths": "the paths on the function's contours (or its curve)",
    "curve": "a 1D function's curve with the iterates on it",
    "loss": "f - f* per step, on a log scale",
    "distance": "the distance to the nearest minimum per step",
    "lr": "the learning rate per step",
    "spectrum": "a matrix problem's singular values per step, one panel per optimizer, against the optimum's",
    "sharpness": "the top Hessian eigenvalue per step, against each SGD-family optimizer's stable limit (2/lr)",
    "surface": "the function as a 3D surface with the paths on it",
    "grid": "small multiples: one panel per optimizer, on identical axes",
    "regularization": "the L1 and L2 penalised minima as lambda grows, with their level sets",
}
PLOT_KINDS = ("auto", "paths", "curve", "loss", "distance", "lr", "spectrum", "sharpness", "surface")  # what plot(result, kind) draws
STILL_KINDS = tuple(kind for kind in PICTURES if kind not in ("auto", "curve"))  # a scenario's outputs.kinds
STILL_FORMATS = ("png", "svg", "pdf")
GIF_PANELS = ("auto", "single", "optimizer")  # one panel, or one per optimizer ("auto": four or more)
# what state=... draws at the points of a path (True is "state")
STATE_GLYPHS = {
    "state": "the optimizer's state: velocity arrows, per-coordinate step-size ellipses",
    "gradient": "the gradient step (-lr times the gradient) against the step actually taken",
    "both": "the state and the gradient",
    "stability": "each step coloured by the curvature along it against the optimizer's stable limit (stills only)",
}
GIF_LOOPS = ("forever", "once")  # or a whole number: how often a GIF plays
MAX_LOOPS = 65_536  # a GIF's loop count is 16 bits: it repeats at most 65,535 times after the first


def loop_count(loop: object) -> int | None:
    """A GIF's loop count for ``loop`` ("forever", "once", or n: plays n times in all, the
    count being the repeats after the first): 0 for forever, None for once (no loop block)."""
    if loop == "forever":
        return 0
    if isinstance(loop, int) and not isinstance(loop, bool) and 1 <= loop <= MAX_LOOPS:
        return None if loop == 1 else loop - 1
    if loop == "once":
        return None
    raise ValueError(f"loop must be forever, once or a whole number of plays from 1 to {MAX_LOOPS:,}, got {loop!r}")


def check_hold(hold: object) -> float:
    """Seconds a GIF's last frame is held, if ``hold`` is a number of them from 0 to MAX_HOLD."""
    if isinstance(hold, (int, float)) and not isinstance(hold, bool) and 0 <= hold <= MAX_HOLD:
        return float(hold)
    raise ValueError(f"hold must be a number of seconds from 0 to {MAX_HOLD}, got {hold!r}")
