"""Optimizers side by side on one function, as ``optviz compare`` runs them: each at the
learning rate given, or at the one :func:`~optviz.analyses.studies.tune_lrs` finds best for
the function, all in one simulation from one start.

With no optimizers named, the six of the course notes: on :data:`DEFAULT_FUNCTION` at
learning rates picked by hand (:data:`SIX`), on any other function tuned for it.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import torch

from ..core.functions import TestFunction, get_function
from ..core.optimizers.registry import get_optimizer, scheduled
from ..core.optimizers.schedules import ScheduleError, schedule
from ..core.simulation.result import Result
from ..core.simulation.runs import Progress, simulate
from .studies import tune_lrs

Spec = tuple[str, dict[str, Any]]  # an optimizer's name and hyperparameters

DEFAULT_FUNCTION = "ill_conditioned"
# The six optimizers of the course notes, with their own defaults; on any function but the
# default one their learning rates are tuned for it in one batched search.
SIX_NAMES = ("sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
# On the default function, each at a learning rate that shows it at its best there (chosen
# by looking, not by tuning, which favours bold jumps).
SIX: tuple[Spec, ...] = (
    ("sgd", {"lr": 0.4}),
    ("momentum", {"lr": 0.6, "momentum": 0.5}),
    ("nesterov", {"lr": 0.3, "momentum": 0.5}),
    ("adagrad", {"lr": 2.0}),
    ("rmsprop", {"lr": 0.1, "alpha": 0.9}),
    ("adam", {"lr": 0.5}),
)


class Comparison(NamedTuple):
    """A comparison's paths, and one line on the learning rates tuned for it ("" if none were)."""

    result: Result
    tuning: str


def compare(function: TestFunction | str, specs: Sequence[Spec] = (), start: Sequence[float] | None = None,
            steps: int = 100, *, schedules: Sequence[dict[str, Any]] = (), noise: float | None = None, seed: int = 0,
            tune: bool = False, fast: bool = False, state: bool = False, progress: Progress | None = None) -> Comparison:
    """Run ``specs``, (name, hyperparameters) pairs, side by side on ``function`` from
    ``start`` (default: the function's own) for ``steps`` steps.

    No specs: the six of the course notes, at the learning rates of :data:`SIX` or, with
    ``tune``, at their defaults. ``tune`` first picks each learning rate with ``tune_lrs``
    (every optimizer at every grid value in one batch). ``schedules``: scheduler specs (see
    optviz.schedules) for every optimizer; ``noise``, ``seed``, ``fast``, ``state`` and ``progress`` go
    to :func:`~optviz.simulate`.

    Raises ScheduleError where an optimizer cannot take the schedules, and ValueError where
    the run is refused before its first step: two optimizers alike, or simulate's checks.
    """
    function = get_function(function)
    specs = tuple(specs) or (tuple((name, {}) for name in SIX_NAMES) if tune else SIX)
    tuning = ""
    if tune:
        lrs = tune_lrs(function, specs, start, steps, progress=progress)
        specs = tuple((name, {**hypers, "lr": lr}) for (name, hypers), lr in zip(specs, lrs))
        tuning = (f"learning rates tuned for {function.name} ({len(lrs)} optimizers x 1e-4..10, one batch): "
                  + ", ".join(f"{name} lr={hypers['lr']:.3g}" for name, hypers in specs))
    made = [get_optimizer(name, allow_import=True, **hypers) for name, hypers in specs]
    if schedules:
        try:
            made = [scheduled(opt, *schedules) for opt in made]
        except ValueError as error:  # an optimizer with no torch.optim class, or one a scheduler cannot drive
            raise ScheduleError(str(error)) from error
    named = {opt.label: opt for opt in made}
    if len(named) < len(made):
        raise ValueError("two optimizers have the same name and hyperparameters")
    result = simulate(function, named, start, steps, noise=noise, seed=seed, progress=progress, fast=fast,
                      state=state)
    return Comparison(result, tuning)


def check_schedules(specs: Sequence[dict[str, Any]]) -> None:
    """ScheduleError unless every scheduler of ``specs`` can be made, on a plain SGD with
    momentum: a schedule's own mistakes, found before any work."""
    schedule(specs).attach(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9))
