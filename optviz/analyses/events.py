"""Events on a path, found in the run: the steps a caption talks about ("diverges at step k",
"|y| passes 1 at step k", "step 5 is 0.40 long"). A scenario declares them; its caption
and its picture's numbered ticks are both made from what ``find`` returns, so they cannot
disagree.

Kinds:

- ``diverges``: the step at which the path diverged (the run's own ``diverged_at``);
- ``passes``: the first step at which ``|coordinate|`` exceeds ``value`` (coordinate 1 is
  x, 2 is y);
- ``step``: the given ``step`` itself, to point at (and measure) one step.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..core.simulation.result import Result

KINDS = ("diverges", "passes", "step")


@dataclass(frozen=True)
class EventSpec:
    """What to look for: on the path of ``optimizer`` (its label) from ``start``."""

    name: str  # the caption's placeholder: {name}
    optimizer: str
    kind: str
    coordinate: int = 2  # for passes: 1 is x, 2 is y
    value: float = 1.0  # for passes
    step: int = 0  # for step
    start: int = 0


@dataclass(frozen=True)
class Event:
    """What was found: the step (None if it never happens in the run), the path's index in
    the result, where the path is then, and how long that step was. In a caption ``{name}``
    reads as the step, ``{name.length:.2f}`` as the step's length."""

    spec: EventSpec
    step: int | None
    path: int
    point: tuple[float, ...] | None
    length: float | None

    def __format__(self, spec: str) -> str:
        return "never" if self.step is None else format(self.step, spec)


def find(result: Result, spec: EventSpec) -> Event:
    """The event in the run: ValueError naming the optimizer or the step if the run has none."""
    if spec.optimizer not in result.optimizers:
        raise ValueError(f"event {spec.name!r}: no optimizer labelled {spec.optimizer!r} "
                         f"(have: {', '.join(result.optimizers)})")
    path = result.index(spec.optimizer, spec.start)
    xy = result.positions[:, path].numpy()
    step = _step(result, spec, path, xy)
    if step is None:
        return Event(spec, None, path, None, None)
    length = float(np.hypot(*(xy[step] - xy[step - 1])[:2])) if step > 0 else 0.0
    return Event(spec, step, path, tuple(float(v) for v in xy[step]), length)


def _step(result: Result, spec: EventSpec, path: int, xy: np.ndarray) -> int | None:
    if spec.kind == "diverges":
        k = int(result.diverged_at[path])
        return k if k >= 0 else None
    if spec.kind == "passes":
        past = np.flatnonzero(np.abs(xy[:, spec.coordinate - 1]) > spec.value)
        return int(past[0]) if len(past) else None
    if spec.kind == "step":
        if not 0 <= spec.step <= result.steps:
            raise ValueError(f"event {spec.name!r}: step {spec.step} is not in the run (0 to {result.steps})")
        return spec.step
    raise ValueError(f"event {spec.name!r}: unknown kind {spec.kind!r} (known: {', '.join(KINDS)})")


def found(result: Result, specs: tuple[EventSpec, ...]) -> dict[str, Event]:
    """Every declared event in the run, by name."""
    return {spec.name: find(result, spec) for spec in specs}


def filled(text: str, events: dict[str, Event]) -> str:
    """A caption with its placeholders filled from the run's events (as is without events)."""
    return text.format_map(events) if events else text
