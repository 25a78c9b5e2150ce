"""Fast mode: gradient and update fused by torch.compile into one kernel per step.

Exact mode (optviz.simulate's default) runs each built-in's rule on torch.optim's own ops,
one at a time in torch.optim's order, so its paths equal torch.optim's bit for bit. Fast mode
runs the same rule on plain arithmetic (optviz.core.optimizers.ops.PLAIN), with the step
count as a tensor, and lets torch.compile fuse the analytic gradient and the update of a step
into one pass over the points. Its rounding differs from torch's, so its paths are **not
bit-equal**: in float64 they stay within 1e-12 of exact mode's, relative to the points' size
(tests/test_fast.py, every rule on several functions), on runs that do not amplify rounding.
The interactive page traces these same rules into JavaScript (optviz.render.javascript).

The first step runs uncompiled: it makes the state a rule keeps from the first gradient
(SGD's momentum buffer), so that one kernel, compiled at the second step, serves every later
one. Only the built-in test functions (by name) and optviz's own optimizers run here;
anything else (a formula, a Python callable, a torch optimizer, gradient noise) runs in exact
mode, with a one-line note. Compiled kernels are kept for the rest of the process, one per
function, optimizers and what their hyperparameters switch on or off (their numbers are the
kernel's inputs, not compiled in), dtype and shape: the MAX_KERNELS most recent (dynamo's recompile limit is raised to it, since they all
compile one Python function).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

import torch
from torch import Tensor

from ..functions import TestFunction
from ..limits import MAX_KERNELS
from ..optimizers.base import Optimizer
from ..optimizers.ops import PLAIN


def unsupported(function: TestFunction, sources: dict[str, Any], noise: Any) -> str | None:
    """Why fast mode cannot run this, or None if it can."""
    if function.recipe and "clip" in function.recipe:
        return "its gradients are clipped"
    if not (function.recipe and "name" in function.recipe):
        return f"{function.name} is not a built-in function"
    for label, source in sources.items():
        if not isinstance(source, Optimizer) or source.rule is None:
            return f"{label} is not one of optviz's own optimizers"
    if noise is not None:
        return "gradient noise is drawn step by step"
    return None


class Stepper:
    """Every block of paths stepped by one compiled kernel.

    ``advance()`` returns the next row of positions, (paths, dim); the second call compiles
    (or finds the kernel compiled earlier in this process), and ``compile_seconds`` says what
    that cost (None when it was found).
    """

    def __init__(self, function: TestFunction, optimizers: list[Optimizer], starts: Tensor) -> None:
        """``starts``: (paths, dim), every optimizer's block of starts one after another."""
        self.hypers = [opt.rule.constants(_as_inputs(hyperparameters(opt, starts)), PLAIN) for opt in optimizers]
        self.params = starts.T.contiguous()  # the kernel's (dim, paths) layout
        # every optimizer has a block of the same size; states contiguous, as the kernel returns them
        block = self.params[:, : len(starts) // len(optimizers)].contiguous()
        self.states = [opt.rule.init(block, h, PLAIN) for opt, h in zip(optimizers, self.hypers)]
        self.first = _kernel(function, [opt.rule.step for opt in optimizers])
        key = (repr(sorted(function.recipe.items())), tuple(_signature(opt, h) for opt, h in zip(optimizers, self.hypers)),
               starts.dtype, tuple(starts.shape))
        self.compile_seconds: float | None = None
        self.kernel = _KERNELS.get(key)
        if self.kernel is None:
            if len(_KERNELS) >= MAX_KERNELS:
                _KERNELS.pop(next(iter(_KERNELS)))  # the oldest
            # every kernel compiles the same Python step, and dynamo keeps only a few per code object
            torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, MAX_KERNELS)
            self.kernel = _KERNELS[key] = torch.compile(self.first, dynamic=False, fullgraph=True)
            self.compile_seconds = 0.0  # measured on its first call
        self.steps = 0

    @property
    def mode(self) -> str:
        """The run's mode, as Result.modes records it: what compiling cost, or that it was done."""
        if self.compile_seconds is None:
            return "fast (compiled earlier in this process)"
        return f"fast (compiled in {self.compile_seconds:.1f} s)"

    def advance(self) -> Tensor:
        started = time.perf_counter()
        self.steps += 1
        if self.steps == 1:
            self.params, row, self.states = self.first(self.params, self.states, self.hypers)
            self.states = [_counted(state) for state in self.states]
            return row
        self.params, row, self.states = self.kernel(self.params, self.states, self.hypers)
        if self.compile_seconds == 0.0:
            self.compile_seconds = time.perf_counter() - started
        return row


_KERNELS: dict[Any, Callable] = {}


def _kernel(function: TestFunction, steps: list[Callable]) -> Callable:
    """One step of every block: one gradient of all paths, then each block's rule.

    Points are laid out (dim, paths), each coordinate contiguous, so that the gradient and the
    update compile to one vectorised loop over the paths. (One step per call: with several,
    inductor recomputes earlier steps inside later ones and gets slower, not faster.)"""
    grad_of = function.grad_fn

    def step(params: Tensor, states: list[Any], hypers: list[dict]) -> tuple[Tensor, Tensor, list[Any]]:
        n = params.shape[1] // len(steps)
        grad = grad_of(params.T).T
        stepped = [rule(params[:, k * n : (k + 1) * n], grad[:, k * n : (k + 1) * n], s, h, PLAIN)
                   for k, (rule, s, h) in enumerate(zip(steps, states, hypers))]
        new = torch.cat([p for p, _ in stepped], dim=1) if len(steps) > 1 else stepped[0][0]
        return new, new.T.contiguous(), [s for _, s in stepped]  # the row in the positions' layout too

    return step


def _counted(state: Any) -> Any:
    """The state with its step count as a float64 tensor: a compiled kernel specialises on a
    Python number, and would compile again at every step."""
    counts = {field: torch.tensor(float(value), dtype=torch.float64) for field, value in state._asdict().items()
              if isinstance(value, int)}
    return state._replace(**counts)


def hyperparameters(opt: Optimizer, like: Tensor) -> dict[str, Any]:
    """The optimizer's hyperparameters as its rule takes them in fast mode: numbers as floats,
    tensors in the run's dtype (as exact mode casts them) and the kernel's layout."""
    return {k: tuple(_as(b, like) for b in v) if k == "betas" else _as(v, like) for k, v in opt.hyperparams.items()}


def _as_inputs(h: dict[str, Any]) -> dict[str, Any]:
    """Numbers as 0-d float64 tensors, which a compiled kernel takes as inputs: one kernel then
    serves every value of them (a Python number would be compiled in)."""
    number = lambda v: torch.tensor(v, dtype=torch.float64) if isinstance(v, float) else v  # noqa: E731
    return {k: tuple(map(number, v)) if isinstance(v, tuple) else number(v) for k, v in h.items()}


def _as(value: Any, like: Tensor) -> Any:
    """A number as a float, a tensor in the run's dtype and the kernel's (dim, paths) layout."""
    if isinstance(value, Tensor):
        if value.ndim == 0:
            return float(value)
        return (value[:, None] if value.ndim == 1 else value.T).to(like.dtype).contiguous()
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else value


def _signature(opt: Optimizer, h: dict) -> tuple:
    """What a compiled kernel depends on: the rule and its constants (tensors by shape only)."""
    shown = lambda v: ("tensor", tuple(v.shape)) if isinstance(v, Tensor) else v  # noqa: E731
    return opt.name, tuple((k, tuple(map(shown, v)) if isinstance(v, tuple) else shown(v)) for k, v in sorted(h.items()))
