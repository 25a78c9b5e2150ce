"""The xdist groups. Tests that share something costly to make run together in one worker,
so it is made once per test run; everything else goes to whichever worker is free.

LONGEST_FIRST is the order conftest hands the groups out in (before any other test): a long
group started last would keep one worker busy while the other has nothing left to do.
"""

import pytest

# the wheel and the fresh venv it is installed into (module fixtures), and the gallery rendered there
WHEEL = pytest.mark.xdist_group("wheel")
# the bundled scenarios' runs (bundled_runs: a run holds closures, so it cannot be handed to another process)
BUNDLED_RUNS = pytest.mark.xdist_group("bundled-runs")
# every fast-mode kernel, compiled once, and torch.compile's warm-up paid once
COMPILED = pytest.mark.xdist_group("compiled")
# the interactive page's tests and their module's chromium
PAGE = pytest.mark.xdist_group("page")
# a Jupyter kernel that runs every cell once for the module
NOTEBOOK = pytest.mark.xdist_group("notebook")
# the decks optviz slides writes, made once for the module's tests
SLIDES = pytest.mark.xdist_group("slides")
# the GIFs test_gif's module fixtures write, written once for all its tests
GIF = pytest.mark.xdist_group("gif")

LONGEST_FIRST = [mark.args[0] for mark in (WHEEL, BUNDLED_RUNS, COMPILED, PAGE, NOTEBOOK, SLIDES, GIF)]
