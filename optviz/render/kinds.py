"""What can be drawn and written, by name: one vocabulary each, read by the API, the command
line and the scenario reader alike (importing it loads nothing)."""

# every kind of picture of a result, and what it shows
PICTURES = {
    "auto": "paths on the contours in 2D, on the curve in 1D",
    "paths": "the paths on the function's contours (or its curve)",
    "curve": "a 1D function's curve with the iterates on it",
    "loss": "f - f* per step, on a log scale",
    "distance": "the distance to the nearest minimum per step",
    "lr": "the learning rate per step",
    "surface": "the function as a 3D surface with the paths on it",
    "grid": "small multiples: one panel per optimizer, on identical axes",
    "regularization": "the L1 and L2 penalised minima as lambda grows, with their level sets",
}
PLOT_KINDS = ("auto", "paths", "curve", "loss", "distance", "lr", "surface")  # what plot(result, kind) draws
STILL_KINDS = tuple(kind for kind in PICTURES if kind not in ("auto", "curve"))  # a scenario's outputs.kinds
STILL_FORMATS = ("png", "svg", "pdf")
GIF_PANELS = ("auto", "single", "optimizer")  # one panel, or one per optimizer ("auto": four or more)
# what state=... draws at the points of a path (True is "state")
STATE_GLYPHS = {
    "state": "the optimizer's state: velocity arrows, per-coordinate step-size ellipses",
    "gradient": "the gradient step (-lr times the gradient) against the step actually taken",
    "both": "the state and the gradient",
}
