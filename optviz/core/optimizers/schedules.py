"""Learning-rate schedules from ``torch.optim.lr_scheduler``, stepped once per step.

A :class:`Schedule` is one or more scheduler factories, each ``factory(optimizer) ->
scheduler``: ``functools.partial(StepLR, step_size=20, gamma=0.5)``, a lambda that builds a
warm-up ``SequentialLR``, or a spec as scenario files write it::

    {"name": "CosineAnnealingLR", "T_max": 100}
    {"name": "SequentialLR", "milestones": [5],
     "schedulers": [{"name": "LinearLR", "start_factor": 0.1, "total_iters": 5},
                    {"name": "CosineAnnealingLR", "T_max": 95}]}

Several factories are chained: all of them step after every optimizer step, in order, as
``ChainedScheduler`` does. The schedulers act on a real torch optimizer, so a scheduled path
is torch's own: the optimizer steps, then each scheduler steps, once per step.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import torch
from torch.optim import lr_scheduler

from ..names import did_you_mean, one_line

Factory = Callable[[torch.optim.Optimizer], Any]

# Schedulers made from text. LambdaLR and MultiplicativeLR take Python functions (give them
# as factories from Python); ReduceLROnPlateau steps on a metric, not once per step.
NAMED = {
    cls.__name__: cls
    for cls in (
        lr_scheduler.StepLR, lr_scheduler.MultiStepLR, lr_scheduler.ConstantLR, lr_scheduler.LinearLR,
        lr_scheduler.ExponentialLR, lr_scheduler.PolynomialLR, lr_scheduler.CosineAnnealingLR,
        lr_scheduler.CosineAnnealingWarmRestarts, lr_scheduler.CyclicLR, lr_scheduler.OneCycleLR,
        lr_scheduler.SequentialLR, lr_scheduler.ChainedScheduler,
    )
}
_BY_LOWER = {name.lower(): cls for name, cls in NAMED.items()}


class ScheduleError(ValueError):
    """A schedule that cannot be made, with the scheduler and the reason."""


@dataclass(frozen=True)
class Schedule:
    """Scheduler factories stepped after every optimizer step; ``label`` names them."""

    factories: tuple[Factory, ...]
    label: str

    def attach(self, optimizer: torch.optim.Optimizer) -> list[Any]:
        """This schedule's schedulers on ``optimizer``."""
        schedulers = []
        for factory in self.factories:
            try:
                schedulers.append(factory(optimizer))
            except (TypeError, ValueError, KeyError) as error:
                raise ScheduleError(f"{self.label}: {one_line(error)}") from None
        for scheduler in schedulers:
            if isinstance(scheduler, lr_scheduler.ReduceLROnPlateau):
                raise ScheduleError("ReduceLROnPlateau steps on a metric, not once per optimizer step")
            if not hasattr(scheduler, "step"):
                raise ScheduleError(f"{self.label}: a factory returned {type(scheduler).__name__}, not a scheduler")
        return schedulers


def schedule(*parts: Any) -> Schedule:
    """A Schedule from factories and specs (dicts with a scheduler ``name``, or a list of them
    to chain); a Schedule passes through."""
    if len(parts) == 1 and isinstance(parts[0], Schedule):
        return parts[0]
    flat: list[Any] = []
    for part in parts:
        flat.extend(part if isinstance(part, (list, tuple)) else [part])
    if not flat:
        raise ScheduleError("a schedule needs at least one scheduler")
    factories = tuple(_factory(part) for part in flat)
    return Schedule(factories, " + ".join(_describe(part) for part in flat))


def _factory(spec: Any) -> Factory:
    if isinstance(spec, Mapping):
        cls, arguments = _named(spec)
        return lambda optimizer: _build(cls, arguments, optimizer)
    if callable(spec):
        return spec
    raise ScheduleError(f"a schedule is a scheduler factory or a {{name = ...}} table, got {type(spec).__name__}")


def _named(spec: Mapping[str, Any]) -> tuple[type, dict[str, Any]]:
    """The scheduler class a spec names and its checked arguments."""
    name = spec.get("name")
    if not isinstance(name, str):
        raise ScheduleError(f"a schedule table needs a scheduler name, e.g. name = \"StepLR\" (got {dict(spec)!r})")
    cls = _BY_LOWER.get(name.lower())
    if cls is None:
        why = {"reducelronplateau": ": it steps on a metric, not once per step",
               "lambdalr": ": it takes a Python function (pass a factory from Python)",
               "multiplicativelr": ": it takes a Python function (pass a factory from Python)"}.get(name.lower())
        raise ScheduleError(f"unknown scheduler {name!r}" + (why or did_you_mean(name, NAMED)))
    arguments = {key: value for key, value in spec.items() if key != "name"}
    allowed = [p for p in inspect.signature(cls).parameters if p not in ("optimizer", "last_epoch")]
    for key in arguments:
        if key not in allowed:
            raise ScheduleError(f"{cls.__name__} has no argument {key!r}{did_you_mean(key, allowed)}")
    if "schedulers" in arguments:
        inner = arguments["schedulers"]
        if not isinstance(inner, (list, tuple)) or not all(isinstance(s, Mapping) for s in inner):
            raise ScheduleError(f"{cls.__name__}'s schedulers must be a list of {{name = ...}} tables")
        arguments["schedulers"] = [_named(s) for s in inner]
    return cls, arguments


def _build(cls: type, arguments: dict[str, Any], optimizer: torch.optim.Optimizer) -> Any:
    arguments = dict(arguments)
    if "schedulers" in arguments:
        arguments["schedulers"] = [_build(c, a, optimizer) for c, a in arguments["schedulers"]]
    arguments = {k: list(v) if isinstance(v, tuple) else v for k, v in arguments.items()}
    if cls is lr_scheduler.ChainedScheduler:
        return cls(arguments["schedulers"], optimizer=optimizer)
    try:
        return cls(optimizer, **arguments)
    except (TypeError, ValueError, KeyError, ZeroDivisionError) as error:
        raise ScheduleError(f"{cls.__name__}: {one_line(error)}") from None


def _describe(spec: Any) -> str:
    """A short name for a legend: "StepLR(step_size=20, gamma=0.5)"."""
    if isinstance(spec, Mapping):
        arguments = ", ".join(f"{k}={_describe(v) if isinstance(v, (Mapping, list)) else v}"
                              for k, v in spec.items() if k != "name")
        name = spec.get("name")
        return f"{getattr(_BY_LOWER.get(str(name).lower()), '__name__', name)}({arguments})"
    if isinstance(spec, list):
        return "[" + ", ".join(_describe(s) for s in spec) + "]"
    func = getattr(spec, "func", None)  # functools.partial
    if isinstance(func, type):
        arguments = ", ".join(f"{k}={v}" for k, v in spec.keywords.items())
        return f"{func.__name__}({arguments})"
    return getattr(spec, "__name__", type(spec).__name__)


def step_all(schedulers: Sequence[Any]) -> None:
    """One step of every scheduler, in order."""
    for scheduler in schedulers:
        scheduler.step()
