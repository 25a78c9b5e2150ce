"""Why each path moves, as vectors at its points: what the optimizer's state holds there
(its velocity, its per-coordinate step size), the gradient, and the step it took.

Read from a run with ``simulate(..., state=True)``; what a state means is declared by each
optimizer's block (``Entry.glyphs``), so nothing here knows an optimizer by name. torch's
own optimizers are read through the built-in that runs the same rule (torch.optim.SGD with
momentum as momentum), their state keys being the built-ins' field names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import Tensor

from ..core.optimizers.base import Entry, Optimizer, StateGlyphs
from ..core.optimizers.registry import BUILT_INS, entry_of
from ..core.optimizers.foreign import TorchOptimizer
from ..core.simulation.result import Result


@dataclass(frozen=True)
class StateVectors:
    """Per point of every path, (steps + 1, paths, 2) arrays in the parameters' units, NaN
    where there is nothing to show. Row t is at the point after step t:

    - ``velocity``: the step the momentum carries (-lr times the buffer), from its state;
    - ``step_size``: per coordinate, the step a unit gradient would take (lr over the root of
      the second moment, bias-corrected for Adam): an axis-aligned ellipse's half-axes;
    - ``gradient``: -lr times the gradient there, the step plain gradient descent would take;
    - ``taken``: the step the optimizer took from there (NaN at the last point).

    ``missing`` names the optimizers whose state shows nothing (no state it keeps is known,
    or the run kept none: ``simulate(state=True)``).
    """

    velocity: np.ndarray
    step_size: np.ndarray
    gradient: np.ndarray
    taken: np.ndarray
    missing: tuple[str, ...]


def state_vectors(result: Result) -> StateVectors:
    """The vectors of every path of a 2D result (see StateVectors)."""
    positions = result.positions
    if positions.shape[-1] != 2:
        raise ValueError(f"the optimizer's state is drawn on 2D landscapes; {result.function.name} is "
                         f"{positions.shape[-1]}D")
    velocity, step_size, gradient, taken = (torch.full(positions.shape, float("nan"), dtype=torch.float64)
                                            for _ in range(4))
    n, missing = result.n_starts, []
    grad = result.function.grad(positions).to(torch.float64)
    for k, (label, source) in enumerate(result.optimizers.items()):
        block = slice(k * n, (k + 1) * n)
        lr_before, lr_after = learning_rates(result, label, source)
        gradient[:, block] = -lr_after * grad[:, block]
        shown = _state(result, label, source, lr_before)
        if shown is None:
            missing.append(label)
            continue
        if shown[0] is not None:
            velocity[:, block] = shown[0]
        if shown[1] is not None:
            step_size[:, block] = shown[1]
    taken[:-1] = (positions[1:] - positions[:-1]).to(torch.float64)
    return StateVectors(velocity.numpy(), step_size.numpy(), gradient.numpy(), taken.numpy(), tuple(missing))


def glyphs_of(source: Any) -> StateGlyphs | None:
    """What the state of an optimizer (a built-in, or a torch class that runs a built-in's
    rule) shows in a picture, if anything."""
    entry = built_in_entry(source)
    return entry.glyphs if entry is not None else None


def built_in_entry(source: Any) -> Entry | None:
    if isinstance(source, Optimizer):
        return source.entry
    if isinstance(source, TorchOptimizer):
        for entry in BUILT_INS.values():
            if source.cls in (entry.torch_class, entry.optim_class):
                return entry_of(entry.name, source.hyperparams)
    return None


def preconditioners(result: Result) -> dict[str, Tensor]:
    """Each adaptive optimizer's inverse preconditioner P⁻¹ at every point, per coordinate:
    label -> (steps + 1, paths, dim), its step size per unit gradient over its learning rate
    (1/(√v̂ + ε) for Adam), from the state after each step (row 0, before any step: NaN).
    Only the optimizers whose state shows a step size, in a run with ``simulate(state=True)``."""
    out = {}
    for label, source in result.optimizers.items():
        lr_before, _ = learning_rates(result, label, source)
        shown = _state(result, label, source, lr_before)
        if shown is not None and shown[1] is not None:
            out[label] = shown[1] / lr_before
    return out


def _state(result: Result, label: str, source: Any, lr: Tensor) -> tuple[Tensor | None, Tensor | None] | None:
    """(velocity, step size) of one optimizer's block from its recorded state, or None where
    it shows nothing; row 0, before any step, shows nothing."""
    glyphs, fields = glyphs_of(source), result.state.get(label)
    if glyphs is None or not fields:
        return None
    fields = {name: value.to(torch.float64) for name, value in fields.items()}
    t = torch.arange(result.steps + 1, dtype=torch.float64)[:, None, None]
    h = source.hyperparams
    try:
        shown = [None if make is None else make(fields, t, lr, h) for make in (glyphs.velocity, glyphs.step_size)]
    except KeyError:  # a torch class that keeps other keys than the rule it was taken for
        return None
    if all(value is None for value in shown):
        return None
    for value in shown:
        if value is not None:
            value[0] = float("nan")
    return shown[0], shown[1]


def learning_rates(result: Result, label: str, source: Any) -> tuple[Tensor, Tensor]:
    """The learning rate of the step that led to each point (for the state held there) and of
    the step taken from it (for the gradient), broadcastable to (steps + 1, n, 1)."""
    steps = result.steps
    lrs = result.lrs.get(label)
    if lrs is not None and len(lrs) == steps and steps > 0:
        lrs = lrs.to(torch.float64)
        before = torch.cat([lrs[:1], lrs])[:, None, None]
        after = torch.cat([lrs, lrs[-1:]])[:, None, None]
        return before, after
    lr = getattr(source, "hyperparams", {}).get("lr")
    if isinstance(lr, Tensor):  # a sweep: one per start, (n, 1)
        lr = lr.to(torch.float64).reshape(1, -1, 1) if lr.numel() > 1 else lr.to(torch.float64).reshape(1, 1, 1)
    elif isinstance(lr, (int, float)) and not isinstance(lr, bool):
        lr = torch.tensor(float(lr), dtype=torch.float64)
    else:
        lr = torch.tensor(float("nan"), dtype=torch.float64)
    return lr, lr
