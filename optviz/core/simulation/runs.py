"""Runs of optimizers on a test function: every path in one tensor of positions.

``simulate(function, {"sgd": sgd(lr=0.1), "nadam": torch.optim.NAdam}, starts, steps)``
evaluates the gradient once per step for the whole batch of (optimizer, start) pairs and lets
each optimizer step its own block of paths:

- optviz's own optimizers step the whole block at once (their rules are element-wise);
- a torch optimizer steps the whole block as one (n, dim) tensor when its class is in the
  proven element-wise family, and otherwise one instance per start on one parameter each
  (see optviz.torch_optimizers). ``Result.modes`` says which ran.

A path that leaves the finite numbers, or strays far outside the function's bounds, is marked
diverged at that step and recorded as NaN after it; the other paths are untouched.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import torch
from torch import Tensor

from ..errors import FastModeWarning
from ..functions import TestFunction, get_function
from ..functions.clipping import clipped
from ..limits import MAX_STARTS, MAX_STEPS, check_memory
from ..names import one_line
from ..optimizers.base import Optimizer
from ..optimizers.foreign import OptimizerError, StepFailed, TorchOptimizer, draws_from, make
from ..optimizers.generators import Generators
from ..optimizers.registry import Source, as_source
from ..optimizers.schedules import step_all
from . import compiled as fast_mode
from .noise import GradientNoise, check_seed
from .result import Result

CHECK_EVERY = 16  # steps between looks for divergence (see simulate's loop)

# progress(what, done, total): called as work advances, for progress bars
Progress = Callable[[str, int, int], None]


def simulate(
    function: TestFunction | str | Callable,
    optimizers: Mapping[str, Any] | Sequence[Any] | Any,
    starts: Any = None,
    steps: int = 100,
    *,
    dtype: torch.dtype = torch.float64,
    divergence_factor: float = 100.0,
    noise: Any = None,
    seed: int = 0,
    bounds: Any = None,
    progress: Progress | None = None,
    fast: bool = False,
    state: bool = False,
    clip: float | None = None,
) -> Result:
    """Run every optimizer from every start for ``steps`` steps.

    ``function`` is a TestFunction, a registered name, a formula (with ``bounds``) or a Python
    callable (see optviz.function). ``optimizers`` are optviz optimizers, torch.optim.Optimizer
    classes, ``functools.partial(cls, **kwargs)``, callables that take the parameter list and
    return an optimizer, TorchOptimizers or names: one, a list, or a dict label -> optimizer.
    ``starts`` is one point (dim,), several (n, dim), or None for the function's default start.
    ``noise`` adds stochastic gradients (see optviz.noise), drawn from ``seed``; a torch
    optimizer run per start draws its own randomness from ``seed + k`` on start k (see
    optviz.torch_optimizers). A path diverges when it becomes non-finite or goes further than
    ``divergence_factor`` times the bounds' widest span from the bounds' centre.
    ``progress("steps", done, steps)`` is called as steps are done.

    ``fast=True`` fuses each step into one compiled kernel (see optviz.fast): up to about twice
    as fast on big batches once compiled (compiling takes seconds), within 1e-12 of the exact
    paths in float64 but not bit-equal to torch.optim. Where it cannot run it warns in one
    line and runs in exact mode.

    ``state=True`` keeps, on ``Result.state``, what each optimizer holds after every step, as
    its step functions hold it (torch.optim's state keys for torch's optimizers: momentum
    buffers, moments, sums of squares), for the pictures to draw. It is the run's alone:
    result files do not keep it. Fast mode hands no state back: with ``state`` it warns in
    one line and runs in exact mode.

    ``clip`` clips each path's gradient to that norm, as torch.nn.utils.clip_grad_norm_
    clips one parameter's, bit for bit (see optviz.functions.clipping); the run's function
    is then the clipped one, which fast mode and the page's live controls do not know.
    """
    function = get_function(function, bounds=bounds)
    function = function if clip is None else clipped(function, clip)
    sources = _named_sources(optimizers)
    steps = check_steps(steps)
    if isinstance(divergence_factor, bool) or not isinstance(divergence_factor, (int, float)) \
            or not 1 <= divergence_factor < math.inf:
        raise ValueError(f"divergence_factor must be a finite number >= 1, got {divergence_factor!r}")
    if dtype not in (torch.float32, torch.float64):
        raise TypeError(f"dtype must be torch.float32 or torch.float64, got {dtype}")
    starts = _check_starts(function, function.start if starts is None else starts, dtype)
    seed = check_seed(seed)
    gradient_noise = None if noise is None else GradientNoise(noise, seed, function.dim)
    n, dim = starts.shape
    paths = len(sources) * n
    kept = STATE_FIELDS * (steps + 1) * paths * dim * starts.element_size() if state else 0
    check_memory(peak_bytes(steps, paths, dim, starts.element_size()) + kept, f"{steps} steps x {paths} paths in {dim}D",
                 "use fewer steps or starts" + (" (or leave the state out)" if state else ""))
    if fast and state:
        warnings.warn("fast mode: it keeps no optimizer state; running in exact mode", FastModeWarning, stacklevel=2)
        fast = False

    positions = torch.empty(steps + 1, paths, dim, dtype=dtype)
    positions[0] = starts.repeat(len(sources), 1)
    watch = _Watch(positions, function, divergence_factor)
    stepper = _stepper(function, sources, positions[0], gradient_noise) if fast and steps else None
    log = None
    if stepper is not None and _run_fast(stepper, positions, watch, progress):
        modes = dict.fromkeys(sources, stepper.mode)
        lrs = {label: torch.full((steps,), lr, dtype=torch.float64)
               for label, opt in sources.items() if (lr := _lr_of(opt)) is not None}
    else:
        runners = [_runner(source, starts, function, seed) for source in sources.values()]
        log = _StateLog(list(sources), runners, steps, starts) if state else None
        lrs = _run_exact(runners, list(sources), function, positions, watch, gradient_noise, progress, log)
        modes = {label: runner.mode for label, runner in zip(sources, runners)}
    return Result(  # its values and gradient norms are computed from the positions if read
        function=function,
        optimizers=sources,
        starts=starts,
        positions=positions,
        diverged_at=watch.diverged_at,
        modes=modes,
        lrs=lrs,
        noise=None if gradient_noise is None else gradient_noise.describe,
        state=log.finished(watch.diverged_at) if log is not None else {},
    )


def _run_exact(runners: list[Any], labels: list[str], function: TestFunction, positions: Tensor, watch: "_Watch",
               gradient_noise: GradientNoise | None, progress: Progress | None,
               log: "_StateLog | None" = None) -> dict[str, Tensor]:
    """Step by step, each block by its runner; returns the learning rates used, per label."""
    steps, n = len(positions) - 1, positions.shape[1] // len(runners)
    blocks = [slice(k * n, (k + 1) * n) for k in range(len(runners))]
    lrs = {label: torch.empty(steps, dtype=torch.float64) for label, r in zip(labels, runners) if r.lr() is not None}
    for label, runner in zip(labels, runners):
        if label in lrs and not runner.lr_moves:
            lrs[label].fill_(runner.lr())
    # divergence is looked for in slabs of steps (one pass over many is cheaper than many passes),
    # every step where an optimizer must know which of its paths are still alive
    every = 1 if any(runner.needs_alive for runner in runners) else CHECK_EVERY
    for t in range(1, steps + 1):
        params = positions[t - 1]
        grad = function.grad(params)
        if gradient_noise is not None:
            gradient_noise.begin_step()
        for label, runner, block in zip(labels, runners, blocks):
            shake = None if gradient_noise is None else gradient_noise.draw(params[block])
            if label in lrs and runner.lr_moves:
                lrs[label][t - 1] = runner.lr()
            alive = watch.diverged_at[block] < 0 if runner.needs_alive else None
            positions[t, block] = runner.step(params[block], grad[block], shake, alive)
            if log is not None:
                log.record(label, t, runner.fields())
        watch.stepped(t, every)
        if progress is not None:
            progress("steps", t, steps)
    return lrs


def _stepper(function: TestFunction, sources: dict[str, Source], starts: Tensor,
             gradient_noise: GradientNoise | None) -> fast_mode.Stepper | None:
    """Fast mode's stepper, or None with a one-line warning where it cannot run."""
    reason = fast_mode.unsupported(function, sources, gradient_noise)
    if reason is not None:
        warnings.warn(f"fast mode: {reason}; running in exact mode", FastModeWarning, stacklevel=3)
        return None
    return fast_mode.Stepper(function, list(sources.values()), starts)


def _run_fast(stepper: fast_mode.Stepper, positions: Tensor, watch: "_Watch", progress: Progress | None) -> bool:
    """Fast mode; False (with a one-line warning) if it cannot compile: exact mode then writes
    every row again."""
    steps = len(positions) - 1
    for t in range(1, steps + 1):
        try:
            positions[t] = stepper.advance()
        except Exception as error:  # noqa: BLE001 - a compiler missing or failing, in any form
            if t > 2:  # the kernel compiles at the second step
                raise
            message = " ".join(str(error).split())[:160] or type(error).__name__
            warnings.warn(f"fast mode: torch.compile failed ({message}); running in exact mode",
                          FastModeWarning, stacklevel=3)
            return False
        watch.stepped(t, CHECK_EVERY)
        if progress is not None:
            progress("steps", t, steps)
    return True


class _Watch:
    """Divergence bookkeeping over the positions as they are written: which paths have left
    (``diverged_at``, -1 for none) and, once one has, NaN in its later rows."""

    def __init__(self, positions: Tensor, function: TestFunction, divergence_factor: float) -> None:
        bounds = torch.tensor(function.bounds, dtype=positions.dtype)
        self.positions, self.centre = positions, bounds.mean(dim=1)
        self.reach = divergence_factor * float((bounds[:, 1] - bounds[:, 0]).max())
        self.diverged_at = torch.full((positions.shape[1],), -1, dtype=torch.int64)
        self.checked, self.gone = 0, None

    def stepped(self, t: int, every: int) -> None:
        """Row t is written: the paths already gone are made NaN in it (while it is in cache),
        and every ``every`` steps (and at the last) the new rows are checked."""
        if self.gone is not None:
            self.positions[t].index_fill_(0, self.gone, float("nan"))
        if t - self.checked == every or t == len(self.positions) - 1:
            self.check(t)

    def check(self, last: int) -> None:
        """Look for paths that left in the rows not yet checked, up to ``last``."""
        found = _diverged(self.positions[self.checked + 1 : last + 1], self.checked + 1, self.centre, self.reach,
                          self.diverged_at)
        if found is not self.diverged_at:
            _stop(self.positions[: last + 1], (found >= 0) & (self.diverged_at < 0), found)
            self.diverged_at, self.gone = found, (found >= 0).nonzero().squeeze(1)
        self.checked = last


# --- runners: how each kind of optimizer steps its block of paths -----------------------------


class _Pure:
    """An optviz optimizer: the whole block in one pure step."""

    mode = "batched"
    needs_alive = False  # diverged paths step on as NaN or inf, harmlessly
    lr_moves = False

    def __init__(self, opt: Optimizer, starts: Tensor) -> None:
        self.opt, self.state = opt, opt.init(starts)

    def lr(self) -> float | None:
        return _lr_of(self.opt)

    def step(self, params: Tensor, grad: Tensor, noise: Tensor | None, alive: Tensor | None) -> Tensor:
        new, self.state = self.opt.step(params, grad if noise is None else grad + noise, self.state)
        return new

    def fields(self) -> dict[str, Tensor]:
        """The state's tensors, by field name (an optimizer made by hand may keep anything)."""
        named = self.state._asdict() if hasattr(self.state, "_asdict") else {}
        return {name: value for name, value in named.items() if isinstance(value, Tensor)}


class _TorchBatched:
    """A torch optimizer of the element-wise family: the block as one (n, dim) parameter."""

    mode = "batched"
    needs_alive = False
    lr_moves = True  # a schedule, or the optimizer itself, may change it

    def __init__(self, source: TorchOptimizer, starts: Tensor) -> None:
        self.label = source.label
        self.opt, self.param = make(source, starts)
        self.schedulers = source.schedule.attach(self.opt) if source.schedule else []

    def lr(self) -> float | None:
        return _group_lr(self.opt)

    def step(self, params: Tensor, grad: Tensor, noise: Tensor | None, alive: Tensor | None) -> Tensor:
        self.param.grad = grad if noise is None else grad + noise
        _guarded(self.label, self.opt.step)
        step_all(self.schedulers)
        return self.param.detach()

    def fields(self) -> dict[str, Tensor]:
        return _known_state(self.opt.state.get(self.param, {}))


class _TorchPerStart:
    """Any other torch optimizer: one parameter and one instance per start, each stepped as a
    careful training loop steps it (see optviz.torch_optimizers): the gradient at the point,
    then ``step(closure)`` where it takes one; start k with its own random generators, seeded
    with ``seed + k``."""

    needs_alive = True  # a diverged path is skipped: its optimizer may not survive it
    lr_moves = True

    def __init__(self, source: TorchOptimizer, starts: Tensor, function: TestFunction, seed: int) -> None:
        self.label, self.function, self.source = source.label, function, source
        self.closure, self.hessian = source.takes_closure, source.hessian
        if "clip" in (function.recipe or {}) and (self.hessian or source.fused or source.takes_loss):
            raise OptimizerError(f"{self.label} takes its gradient from f itself (second derivatives, or its own "
                                 f"backward pass), where clip cannot reach it: leave clip out for it")
        shape, draws = self._shape(starts[0], seed)
        self.generators = [Generators(seed + k, *draws) for k in range(len(starts))]
        self.instances = []
        for start, generators in zip(starts, self.generators):
            with generators:
                self.instances.append(make(source, start.reshape(shape)))
        self.schedulers = [source.schedule.attach(opt) if source.schedule else [] for opt, _ in self.instances]
        self.mode = "per-start" if len(shape) == 1 else f"per-start ({shape[0]} x {shape[1]} matrix)"

    def lr(self) -> float | None:
        return _group_lr(self.instances[0][0])

    def step(self, params: Tensor, grad: Tensor, noise: Tensor | None, alive: Tensor) -> Tensor:
        new = params.clone()
        values = self.function(params) if self.closure else None  # at every point at once, for the closures
        for i, ((opt, param), schedulers) in enumerate(zip(self.instances, self.schedulers)):
            if not alive[i]:
                continue  # a diverged path is no longer data; its optimizer may not survive it
            with self.generators[i]:
                self._step(opt, param, (params[i], grad[i], None if values is None else values[i]),
                           None if noise is None else noise[i])
            step_all(schedulers)
            new[i] = param.detach().reshape(-1)
        return new

    def fields(self) -> dict[str, Tensor]:
        """Each known key every instance holds, its starts stacked."""
        held = [_known_state(opt.state.get(param, {})) for opt, param in self.instances]
        names = set.intersection(*(set(fields) for fields in held))
        return {name: torch.stack([fields[name].reshape(-1) for fields in held]) for name in sorted(names)}

    def _shape(self, start: Tensor, seed: int) -> tuple[tuple[int, ...], tuple[bool, bool]]:
        """The shape each start is stepped in: the function's, or a (1, dim) matrix where the
        class refuses a vector when made or at its first step (tried on a spare instance from
        the first start, with spare generators); and which of numpy's and Python's generators
        its code may draw from. A refusal in both shapes is an OptimizerError naming it,
        before any step."""
        shapes = [self.function.point_shape] + ([(1, self.function.dim)] if len(self.function.point_shape) == 1 else [])
        first = None
        for shape in shapes:
            try:
                with Generators(seed):
                    opt, param = make(self.source, start.reshape(shape))
                    if param.shape != shape:
                        continue  # made as a matrix already: that shape is tried next
                    self._step(opt, param, (start, self.function.grad(start), None), None)
                return shape, draws_from(opt)
            except Exception as error:  # noqa: BLE001 - third-party code raises anything
                first = first or error
        if isinstance(first, OptimizerError):
            raise first
        if isinstance(first, StepFailed):  # before any work: bad input, not a failed run
            raise OptimizerError(str(first)) from first.__cause__
        raise OptimizerError(f"{self.label} failed to step: {one_line(first)}") from first

    def _step(self, opt: torch.optim.Optimizer, param: Tensor, known: tuple[Tensor, Tensor, Tensor | None],
              noise: Tensor | None) -> None:
        """One step from the parameter's point: its gradient (with a graph where the optimizer
        takes second derivatives) in ``.grad``, then ``step(closure)`` or ``step()``. ``known``
        is (the point, f's gradient there, f's value there or None), computed already."""
        if self.source.fused:
            return self._fused_step(opt, param, noise)
        grad = known[1]
        closure = self._closure(opt, param, noise, known)
        if self.hessian or self.source.takes_loss:
            closure()
        else:
            param.grad = (grad.clone() if noise is None else grad + noise).reshape(param.shape)
        _guarded(self.label, opt.step, *([closure] if self.closure else []))
        if self.hessian:
            param.grad = None  # its graph is not kept from step to step

    def _fused_step(self, opt: Any, param: Tensor, noise: Tensor | None) -> None:
        """A step of an optimizer that updates inside its backward pass: f at the parameter
        with a graph (this step's noise added to its gradient as a linear term), the gradient's
        norm first where it clips by it, then ``fused_backward(loss, lr)``."""
        with torch.enable_grad():
            value = self.function(param.reshape(-1))
            if noise is not None:
                value = value + (noise.reshape(param.shape) * param).sum()
            if getattr(opt, "clip_grad_norm", None):
                _guarded(self.label, opt.grad_norm, value)
            _guarded(self.label, opt.fused_backward, value, _group_lr(opt))

    def _closure(self, opt: torch.optim.Optimizer, param: Tensor, noise: Tensor | None,
                 known: tuple[Tensor, Tensor, Tensor | None]) -> Callable[[], Tensor]:
        """The gradient cleared, then f at the parameter with its gradient (and this step's
        noise) put in param.grad; by autograd with a graph for a second-order optimizer, by
        its own ``backward(loss)`` for one that has it. At the ``known`` point, (point,
        gradient, value), the known ones are used again (f is deterministic: the same numbers)."""

        def closure() -> Tensor:
            param.grad = None
            if self.source.takes_loss:
                with torch.enable_grad():
                    value = self.function(param.reshape(-1))
                    opt.backward(value)
                if noise is not None:
                    param.grad = param.grad + noise.reshape(param.shape)
                return value.detach()
            if self.hessian:
                with torch.enable_grad():
                    value = self.function(param.reshape(-1))
                    (grad,) = torch.autograd.grad(value, param, create_graph=True)
            else:
                point = param.detach().reshape(-1)
                if known[2] is not None and torch.equal(point, known[0]):
                    value, grad = known[2], known[1].reshape(param.shape).clone()
                else:
                    value, grad = self.function(point), self.function.grad(point).reshape(param.shape)
            param.grad = grad if noise is None else grad + noise.reshape(param.shape)
            return value.detach()

        return closure


# the state torch's optimizers keep that the pictures know how to read (see StateGlyphs)
TORCH_STATE_KEYS = ("momentum_buffer", "exp_avg", "exp_avg_sq", "max_exp_avg_sq", "square_avg", "grad_avg", "sum")
STATE_FIELDS = 4  # the most state tensors an optimizer is counted as keeping, for the memory budget


def _known_state(state: dict[str, Any]) -> dict[str, Tensor]:
    return {key: value.detach() for key in TORCH_STATE_KEYS if isinstance(value := state.get(key), Tensor)}


class _StateLog:
    """What each optimizer holds after every step, by field: (steps + 1, n, dim) tensors of
    the run's dtype, NaN before a field exists and after its path diverged."""

    def __init__(self, labels: list[str], runners: list[Any], steps: int, starts: Tensor) -> None:
        self.steps, self.starts = steps, starts
        self.fields: dict[str, dict[str, Tensor]] = {label: {} for label in labels}
        for label, runner in zip(labels, runners):
            self.record(label, 0, runner.fields())

    def record(self, label: str, t: int, fields: dict[str, Tensor]) -> None:
        kept = self.fields[label]
        for name, value in fields.items():
            if value.shape != self.starts.shape:
                continue  # not a per-coordinate tensor of the block (a hand-made optimizer's own)
            if name not in kept:
                kept[name] = torch.full((self.steps + 1, *self.starts.shape), float("nan"), dtype=self.starts.dtype)
            kept[name][t] = value

    def finished(self, diverged_at: Tensor) -> dict[str, dict[str, Tensor]]:
        """The record, NaN past each path's divergence step, as its positions are."""
        n = len(self.starts)
        rows = torch.arange(self.steps + 1)[:, None]
        for k, kept in enumerate(self.fields.values()):
            at = diverged_at[k * n:(k + 1) * n]
            gone = ((at >= 0) & (rows > at))[:, :, None]
            for value in kept.values():
                value.masked_fill_(gone, float("nan"))
        return self.fields


def _runner(source: Source, starts: Tensor, function: TestFunction, seed: int) -> Any:
    if isinstance(source, Optimizer):
        return _Pure(source, starts)
    if source.elementwise:
        return _TorchBatched(source, starts)
    return _TorchPerStart(source, starts, function, seed)


def _lr_of(opt: Optimizer) -> float | None:
    """An optviz optimizer's one learning rate (None for a sweep of them)."""
    lr = opt.hyperparams.get("lr")
    return float(lr) if isinstance(lr, float) or (isinstance(lr, Tensor) and lr.numel() == 1) else None


def _group_lr(opt: torch.optim.Optimizer) -> float | None:
    """The first group's lr (a wrapper that keeps no groups: its optimizer's)."""
    groups = getattr(opt, "param_groups", None) or getattr(getattr(opt, "optimizer", None), "param_groups", None)
    if not groups:
        return None
    lr = groups[0].get("lr")
    return float(lr) if isinstance(lr, (int, float, Tensor)) and not isinstance(lr, bool) else None


def _guarded(label: str, step: Callable[..., Any], *args: Any) -> None:
    """One optimizer step; an optimizer's own failure comes back naming it, in one line."""
    try:
        step(*args)
    except Exception as error:  # noqa: BLE001 - third-party code may raise anything
        raise StepFailed(f"{label} failed to step: {one_line(error)}") from error



def _named_sources(optimizers: Any) -> dict[str, Source]:
    if isinstance(optimizers, Mapping):
        named = {name: _source(name, opt) for name, opt in optimizers.items()}
    else:
        single = isinstance(optimizers, (str, Optimizer, TorchOptimizer, type)) or callable(optimizers)
        items = [optimizers] if single else optimizers
        if not isinstance(items, Sequence):
            raise TypeError(
                f"optimizers must be an optimizer, a list of them or a dict name -> optimizer, "
                f"got {type(optimizers).__name__}"
            )
        named = {}
        for opt in items:
            opt = _source(None, opt)
            label, name, k = opt.label, opt.label, 2
            while name in named:
                name, k = f"{label} #{k}", k + 1
            named[name] = opt
    if not named:
        raise ValueError("simulate needs at least one optimizer")
    return named


def _source(name: str | None, opt: Any) -> Source:
    try:
        return as_source(opt)
    except TypeError as error:
        raise TypeError(f"optimizer {name!r}: {error}" if name else str(error)) from None


def _stop(positions: Tensor, new: Tensor, diverged_at: Tensor) -> None:
    """Past its divergence step a path is no data, and at it only a finite escaped point is:
    the ``new`` diverged paths' later points (up to the last row of ``positions``) become NaN."""
    paths = new.nonzero().squeeze(1)
    at = diverged_at[paths]
    escaped = positions[at, paths]
    positions[at, paths] = torch.where(torch.isfinite(escaped).all(dim=-1, keepdim=True), escaped, float("nan"))
    at, order = torch.sort(at)  # the paths that left at one step together: one write each
    steps, counts = torch.unique_consecutive(at, return_counts=True)
    for step, together in zip(steps.tolist(), paths[order].split(counts.tolist())):
        positions[step + 1 :, together] = float("nan")


def _diverged(slab: Tensor, first: int, centre: Tensor, reach: float, diverged_at: Tensor) -> Tensor:
    """``diverged_at`` with the first step of ``slab`` (steps first, first + 1, ...) at which
    each path not yet diverged is non-finite or further than ``reach`` from ``centre``."""
    # a margin keeps rounding from hiding a path; the exact test at the end decides
    near = reach * (1 - 1e-6)
    # first one pass over the whole slab, inside the box every coordinate shares (NaN fails:
    # min and max keep it): the common case, with no path near the edge
    low, high = torch.aminmax(slab)
    if bool((high <= (centre + near).min()) & (low >= (centre - near).max())):
        return diverged_at
    # then per path and coordinate, for the paths that may have left
    low, high = slab.amin(dim=0), slab.amax(dim=0)  # (five times faster than aminmax over dim 0)
    maybe = ~((high <= centre + near) & (low >= centre - near)).all(dim=-1) & (diverged_at < 0)
    if not bool(maybe.any()):
        return diverged_at
    escaped = ~((slab[:, maybe] - centre).abs() <= reach).all(dim=-1)  # (k, paths that may have left)
    steps = torch.where(escaped.any(dim=0), first + escaped.to(torch.uint8).argmax(dim=0), -1)
    found = diverged_at.clone()
    found[maybe] = steps
    return found


def peak_bytes(steps: int, paths: int, dim: int, element: int) -> int:
    """The estimated peak of a run: its positions, values and gradient norms (once read), with a tenth
    more (measured: 1.00 to 1.03 times them), and per path a dozen (dim,) tensors of optimizer
    state and temporaries."""
    stored = (steps + 1) * paths * (dim + 2) * element
    return int(1.1 * stored + 12 * paths * dim * element + 64 * paths)


def check_steps(steps: Any) -> int:
    if isinstance(steps, bool) or not isinstance(steps, int):
        raise TypeError(f"steps must be an int, got {type(steps).__name__} {steps!r}")
    if not 0 <= steps <= MAX_STEPS:
        raise ValueError(f"steps must be from 0 to {MAX_STEPS:,}, got {steps:,}")
    return steps


def _check_starts(function: TestFunction, starts: Any, dtype: torch.dtype) -> Tensor:
    try:
        given = torch.as_tensor(starts)
    except (TypeError, ValueError, RuntimeError) as error:
        raise TypeError(f"starts must be numbers of shape (dim,) or (n, dim): {str(error)[:120]}") from None
    if given.dtype == torch.bool or given.is_complex():
        raise TypeError(f"starts must be real numbers, got {given.dtype}")
    # a list is read again at the run's precision: through float32 it would lose digits
    points = (given if isinstance(starts, Tensor) else torch.as_tensor(starts, dtype=dtype)).detach().to(dtype).clone()
    if points.ndim == 1:
        points = points.unsqueeze(0)
    if points.ndim != 2 or points.shape[1] != function.dim or points.shape[0] == 0:
        raise ValueError(
            f"starts must have shape ({function.dim},) or (n, {function.dim}) for "
            f"{function.name}, got {tuple(given.shape)}"
        )
    if len(points) > MAX_STARTS:
        raise ValueError(f"at most {MAX_STARTS:,} starts, got {len(points):,}")
    if not torch.isfinite(points).all():
        raise ValueError("starts must be finite numbers")
    return points
