"""The bundled scenarios, each loaded and run at most once per process: test_looks draws every
run and test_captions checks their numbers against the captions. Their tests share the
BUNDLED_RUNS group, so one worker runs each scenario once in the whole test run."""

from functools import cache

from optviz.documents.scenario import bundled, load

NAMES = [path.stem for path in bundled()]  # in gallery order; loaded only when a test asks


@cache
def scenario(name: str):
    """The bundled scenario of that file name (without .toml)."""
    return load(next(path for path in bundled() if path.stem == name))


@cache
def outcome(name: str):
    """The scenario's run: a Result, or what its experiment returns."""
    return scenario(name).run()
