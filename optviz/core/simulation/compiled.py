"""Fast mode: gradient and update fused by torch.compile into one kernel per step.

Exact mode (optviz.simulate's default) calls torch's ops one at a time, in torch.optim's
order, so its paths equal torch.optim's bit for bit. Fast mode writes each built-in rule as
plain arithmetic on whole tensors, with the step count as a tensor, and lets torch.compile
fuse the analytic gradient and the update of a step into one pass over the points. Its
rounding differs from torch's, so its paths are **not bit-equal**: in float64 they stay
within 1e-12 of exact mode's, relative to the points' size (tests/test_fast.py, every rule
on several functions), on runs that do not amplify rounding. The interactive page steps
these same rules, translated into JavaScript by optviz.javascript.

Only the built-in test functions (by name) and optviz's own optimizers have a rule here;
anything else (a formula, a Python callable, a torch optimizer, gradient noise) runs in exact
mode, with a one-line note. Compiled kernels are kept for the rest of the process, one per
function, rule set, dtype and shape (dynamo's recompile limit is raised to MAX_KERNELS, since
they all compile one Python function).
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


# a rule: init(params, h) -> state, step(params, grad, state, t, h) -> (params, state), with
# h the optimizer's hyperparameters and t the step number (1, 2, ...) as a float64 tensor
State = tuple[Tensor, ...]


def _sgd_init(p: Tensor, h: dict) -> State:
    return _zeros(p, 1)


def _sgd(p: Tensor, g: Tensor, state: State, t: Tensor, h: dict) -> tuple[Tensor, State]:
    """b <- g on step 1, else momentum * b + (1 - dampening) * g;  p <- p - lr * d."""
    g = _decayed(g, p, h)
    (b,) = state
    b = torch.where(t == 1, g, h["momentum"] * b + (1 - h["dampening"]) * g)
    d = g + h["momentum"] * b if h["nesterov"] else b
    if not isinstance(h["momentum"], float):  # a sweep (or a page's slider): momentum 0 steps by g alone
        d = torch.where(h["momentum"] == 0, g, d)
    elif h["momentum"] == 0:
        d = g
    return p - h["lr"] * d, (b,)


def _adagrad_init(p: Tensor, h: dict) -> State:
    return (torch.zeros_like(p) + h["initial_accumulator_value"],)


def _adagrad(p: Tensor, g: Tensor, state: State, t: Tensor, h: dict) -> tuple[Tensor, State]:
    """r <- r + g * g;  p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(r) + eps)."""
    g = _decayed(g, p, h)
    r = state[0] + g * g
    return p - h["lr"] / (1 + (t - 1) * h["lr_decay"]) * g / (r.sqrt() + h["eps"]), (r,)


def _zeros(p: Tensor, k: int) -> State:
    return tuple(torch.zeros_like(p) for _ in range(k))  # distinct: a compiled kernel guards on aliasing


def _rmsprop_init(p: Tensor, h: dict) -> State:
    return _zeros(p, 3)


def _rmsprop(p: Tensor, g: Tensor, state: State, t: Tensor, h: dict) -> tuple[Tensor, State]:
    """v <- alpha v + (1 - alpha) g^2;  centered: a <- a + (1 - alpha)(g - a), v~ = v - a^2;
    d = g / (sqrt(v~) + eps);  b <- momentum b + d;  p <- p - lr b."""
    g = _decayed(g, p, h)
    v, a, b = state
    v = h["alpha"] * v + (1 - h["alpha"]) * g * g
    if h["centered"]:
        a = a + (1 - h["alpha"]) * (g - a)
    d = g / ((v - a * a if h["centered"] else v).sqrt() + h["eps"])
    b = h["momentum"] * b + d
    return p - h["lr"] * b, (v, a, b)


def _adam_init(p: Tensor, h: dict) -> State:
    beta1, beta2 = h["betas"]
    return (*_zeros(p, 3), _ones_like(beta1), _ones_like(beta2))


def _ones_like(beta: Any) -> Tensor:
    return torch.ones_like(beta) if isinstance(beta, Tensor) else torch.ones((), dtype=torch.float64)


def _adam(p: Tensor, g: Tensor, state: State, t: Tensor, h: dict) -> tuple[Tensor, State]:
    """m <- m + (1 - beta1)(g - m);  v <- beta2 v + (1 - beta2) g^2;
    p <- p - lr / (1 - beta1^t) m / (sqrt(max v) / sqrt(1 - beta2^t) + eps),
    the powers kept as running products (a power per point would cost more than the step)."""
    beta1, beta2 = h["betas"]
    decoupled = h.get("decoupled_weight_decay", False)
    g = _decayed(g, p, h, coupled=not decoupled)
    if decoupled:
        p = p * (1 - h["lr"] * h["weight_decay"])
    m, v, top, power1, power2 = state
    power1, power2 = power1 * beta1, power2 * beta2
    m = m + (1 - beta1) * (g - m)
    v = beta2 * v + (1 - beta2) * g * g
    top = torch.maximum(top, v) if h["amsgrad"] else v
    step = p - h["lr"] / (1 - power1) * m / (top.sqrt() / (1 - power2).sqrt() + h["eps"])
    return step, (m, v, top, power1, power2)


def _adam_notes(p: Tensor, g: Tensor, state: State, t: Tensor, h: dict) -> tuple[Tensor, State]:
    """Adam with the moments divided by 1 - beta1 and 1 - beta2 at every step."""
    beta1, beta2 = h["betas"]
    m, v, *rest = state
    m = m + (1 - beta1) * (g - m)
    v = beta2 * v + (1 - beta2) * g * g
    return p - h["lr"] * (m / (1 - beta1)) / ((v / (1 - beta2)).sqrt() + h["eps"]), (m, v, *rest)


def _decayed(g: Tensor, p: Tensor, h: dict, *, coupled: bool = True) -> Tensor:
    """The gradient negated to maximize, plus weight_decay * p where the decay is coupled to it
    (AdamW decays the parameters instead)."""
    g = -g if h.get("maximize") else g
    wd = h.get("weight_decay", 0.0) if coupled else 0.0
    return g if isinstance(wd, float) and wd == 0 else g + wd * p


RULES: dict[str, tuple[Callable, Callable]] = {
    "sgd": (_sgd_init, _sgd),
    "adagrad": (_adagrad_init, _adagrad),
    "rmsprop": (_rmsprop_init, _rmsprop),
    "adam": (_adam_init, _adam),
    "adamw": (_adam_init, _adam),
    "adam_notes": (_adam_init, _adam_notes),
}


def rule(opt: Optimizer) -> tuple[Callable, Callable]:
    """``opt``'s (init, step) rule. A penalised optimizer (optviz.penalties.penalised: the same
    name, with a penalty) adds the penalty's gradient to the gradient first, as its step does."""
    init, step = RULES[opt.name]
    penalty = opt.hyperparams.get("penalty")
    if penalty is None:
        return init, step
    return init, lambda p, g, state, t, h: step(p, g + penalty.grad(p), state, t, h)


def unsupported(function: TestFunction, sources: dict[str, Any], noise: Any) -> str | None:
    """Why fast mode cannot run this, or None if it can."""
    if not (function.recipe and "name" in function.recipe):
        return f"{function.name} is not a built-in function"
    for label, source in sources.items():
        if not isinstance(source, Optimizer) or source.name not in RULES:
            return f"{label} is not one of optviz's own optimizers"
    if noise is not None:
        return "gradient noise is drawn step by step"
    return None


class Stepper:
    """Every block of paths stepped by one compiled kernel.

    ``advance()`` returns the next row of positions, (paths, dim); the first call compiles (or
    finds the kernel compiled earlier in this process), and ``compile_seconds`` says what
    that cost (None when it was found).
    """

    def __init__(self, function: TestFunction, optimizers: list[Optimizer], starts: Tensor) -> None:
        """``starts``: (paths, dim), every optimizer's block of starts one after another."""
        self.hypers = [hyperparameters(opt, starts) for opt in optimizers]
        self.params = starts.T.contiguous()  # the kernel's (dim, paths) layout
        # every optimizer has a block of the same size; states contiguous, as the kernel returns them
        block = self.params[:, : len(starts) // len(optimizers)].contiguous()
        self.states = [rule(opt)[0](block, h) for opt, h in zip(optimizers, self.hypers)]
        self.t = torch.zeros((), dtype=torch.float64)
        key = (repr(sorted(function.recipe.items())), tuple(_signature(opt, h) for opt, h in zip(optimizers, self.hypers)),
               starts.dtype, tuple(starts.shape))
        self.compile_seconds: float | None = None
        self.kernel = _KERNELS.get(key)
        if self.kernel is None:
            # every kernel compiles the same Python step, and dynamo keeps only a few per code object
            torch._dynamo.config.recompile_limit = max(torch._dynamo.config.recompile_limit, MAX_KERNELS)
            self.kernel = _KERNELS[key] = torch.compile(_kernel(function, [rule(o)[1] for o in optimizers]),
                                                        dynamic=False, fullgraph=True)
            self.compile_seconds = 0.0  # measured on the first call

    @property
    def mode(self) -> str:
        """The run's mode, as Result.modes records it: what compiling cost, or that it was done."""
        if self.compile_seconds is None:
            return "fast (compiled earlier in this process)"
        return f"fast (compiled in {self.compile_seconds:.1f} s)"

    def advance(self) -> Tensor:
        started = time.perf_counter()
        self.t = self.t + 1
        self.params, row, self.states = self.kernel(self.params, self.states, self.t, self.hypers)
        if self.compile_seconds == 0.0:
            self.compile_seconds = time.perf_counter() - started
        return row


_KERNELS: dict[Any, Callable] = {}


def _kernel(function: TestFunction, rules: list[Callable]) -> Callable:
    """One step of every block: one gradient of all paths, then each block's rule.

    Points are laid out (dim, paths), each coordinate contiguous, so that the gradient and the
    update compile to one vectorised loop over the paths. (One step per call: with several,
    inductor recomputes earlier steps inside later ones and gets slower, not faster.)"""
    grad_of = function.grad_fn

    def step(params: Tensor, states: list[State], t: Tensor, hypers: list[dict]
             ) -> tuple[Tensor, Tensor, list[State]]:
        n = params.shape[1] // len(rules)
        grad = grad_of(params.T).T
        stepped = [rule(params[:, k * n : (k + 1) * n], grad[:, k * n : (k + 1) * n], s, t, h)
                   for k, (rule, s, h) in enumerate(zip(rules, states, hypers))]
        new = torch.cat([p for p, _ in stepped], dim=1) if len(rules) > 1 else stepped[0][0]
        return new, new.T.contiguous(), [s for _, s in stepped]  # the row in the positions' layout too

    return step


def hyperparameters(opt: Optimizer, like: Tensor) -> dict[str, Any]:
    """The optimizer's hyperparameters, tensors in the run's dtype (as exact mode casts them),
    betas as a pair; with the flags of its kind (nesterov, decoupled weight decay)."""
    h = {k: _as(v, like) for k, v in opt.hyperparams.items() if k != "betas"}
    if "betas" in opt.hyperparams:
        h["betas"] = tuple(_as(b, like) for b in opt.hyperparams["betas"])
    if opt.name == "adamw":
        h["decoupled_weight_decay"] = True
    return h


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
