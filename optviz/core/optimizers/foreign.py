"""Any ``torch.optim.Optimizer`` as a source of paths: torch's own, a third party's, the user's.

``TorchOptimizer`` is a class and its arguments, or any callable that takes the parameter
list and returns an optimizer (``lambda params: Lookahead(SGD(params, lr=0.1))``, Muon's
parameter groups), checked by making it once: a constructor's own failure, whatever it
raises, comes back as one line naming it. ``simulate`` runs it exactly as a careful training
loop runs it alone on each start, in one of two modes:

- ``"batched"``: every start in one (n, dim) tensor under one instance. Exact only for rules
  that act element by element, so it is used only for the classes in :data:`ELEMENTWISE`,
  which the tests check against separate runs.
- ``"per-start"``: one parameter and one instance per start; whatever the rule does across
  a tensor (norms, factored moments, orthogonalised updates, global estimates) stays within
  its own start. Each step puts the gradient at the current point in ``.grad``, then calls
  ``step(closure)`` where ``step`` takes a closure (the closure clears the gradient and
  evaluates f and its gradient again at the parameter, as SAM and LBFGS need), else
  ``step()``. An optimizer with its own ``backward(loss)`` gets the gradient through it;
  one that needs second derivatives (AdaHessian, SophiaH: its ``step``
  takes a ``hessian``; or ``hessian=True``) gets a gradient with a graph, by autograd with
  ``create_graph=True``. Each start has its own random generators (torch's, numpy's and
  Python's), seeded with ``seed + k`` for start k, so a random optimizer's path from start k
  is the one it takes alone after ``torch.manual_seed(seed + k)``, ``numpy.random.seed(seed + k)``
  and ``random.seed(seed + k)``, whatever the other starts. A class that refuses a vector, when
  made or at its first step (Muon, SpectralSphere), gets each start as a (1, dim) matrix:
  ``"per-start (1 x dim matrix)"``.
"""

from __future__ import annotations

import functools
import importlib
import inspect
import sys
import types
import warnings
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from ..errors import BadInput
from ..extras import import_failure
from ..names import did_you_mean, one_line, quoted, same_value, short_value
from .drop_in import StepFunctionOptimizer
from .generators import isolated_random
from .schedules import Schedule
from .schedules import schedule as make_schedule

# torch's classes whose step is element-wise on a single tensor: starts stacked in one tensor
# do not mix. tests/test_torch_optimizers.py proves each against one run per start. (optviz's
# own drop-in classes are element-wise too: they step the built-ins' rules.)
ELEMENTWISE: frozenset[type] = frozenset({
    torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW, torch.optim.Adagrad, torch.optim.RMSprop,
    torch.optim.NAdam, torch.optim.RAdam, torch.optim.Adamax, torch.optim.Adadelta, torch.optim.ASGD,
    torch.optim.Rprop,
})

# torch.optim's classes by lower-case name; SparseAdam wants sparse gradients, which no path has
TORCH_CLASSES: dict[str, type] = {
    name.lower(): cls for name in dir(torch.optim)
    if isinstance(cls := getattr(torch.optim, name), type) and issubclass(cls, torch.optim.Optimizer)
    and cls not in (torch.optim.Optimizer, getattr(torch.optim, "SparseAdam", None))
}

# arguments that choose an implementation, not a rule: not hyperparameters in a label
MACHINERY = ("params", "foreach", "fused", "capturable", "differentiable")


class OptimizerError(BadInput):
    """A torch optimizer that cannot be made, found or stepped, in one line naming it."""


class StepFailed(RuntimeError):
    """An optimizer's own step failing in the middle of a run, in one line naming it: a failed
    run, not bad input (its first step, tried before any work, passed)."""


# what the first argument of a constructor is called when it takes something else than the
# parameters, and what to pass instead
_NOT_PARAMS = {
    "model": "takes a model (an nn.Module): it is given one that holds the point",
    "optimizer": "wraps an optimizer: give a factory, e.g. torch_optimizer(lambda params: {cls}(SGD(params, lr=0.1)))",
}


@dataclass(frozen=True, eq=False)
class TorchOptimizer:
    """A torch.optim.Optimizer made by a class and its arguments, or by a factory, run as a
    path source.

    ``factory(params, **kwargs)`` makes an instance, where given; else ``cls(params, **kwargs)``.
    ``cls`` is the class of the instances (a factory's is read from the instance it makes).
    ``name`` is how it was asked for ("nadam", "pytorch_optimizer:Lion"); ``schedule`` the
    learning-rate schedule stepped after each of its steps; ``hessian`` gives it gradients
    with a graph, for second derivatives (found by itself where ``step`` takes a ``hessian``).
    """

    cls: type | None
    kwargs: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    schedule: Schedule | None = None
    factory: Callable[..., Any] | None = None
    hessian: bool = False
    shown: str = field(default="", repr=False)  # a factory's label, read from the instance it makes

    def __post_init__(self) -> None:
        if self.factory is None:
            object.__setattr__(self, "kwargs", _inner_classes(self.cls, self.kwargs))
            check_arguments(self.cls, self.kwargs)
        with isolated_random():
            trial, _ = make(self, torch.zeros(2, dtype=torch.float64))  # torch's own checks of every value, now
        if self.factory is not None:
            object.__setattr__(self, "cls", type(trial))
            object.__setattr__(self, "shown", describe(trial))
        if not self.name:
            object.__setattr__(self, "name", _default_name(self.cls, self.factory is not None))
        if not self.hessian and needs_hessian(trial):
            object.__setattr__(self, "hessian", True)
        if self.schedule is not None:
            self.schedule.attach(trial)

    def build(self, params: Any) -> torch.optim.Optimizer:
        """An instance on ``params`` (a list of tensors or of parameter groups, or an iterable),
        in training mode where it has one (schedule-free optimizers: ``train()``, as their
        training loop calls it first)."""
        if self.factory is not None:
            made = self.factory(params, **self.kwargs)
            if not isinstance(made, torch.optim.Optimizer):
                raise TypeError(f"the factory returned a {type(made).__name__}, not a torch.optim.Optimizer")
        else:
            made = self.cls(params, **self.kwargs)
        refusal = _refusal(made)
        if refusal:
            raise OptimizerError(f"{type(made).__name__} {refusal}: it cannot step a point")
        if callable(getattr(made, "train", None)):
            made.train()
        return made

    @property
    def kind(self) -> str:
        """What picks its colour: the class's lower-case name (module-qualified if not torch's)."""
        if TORCH_CLASSES.get(self.cls.__name__.lower()) is self.cls:
            return self.cls.__name__.lower()
        return f"{self.cls.__module__}.{self.cls.__qualname__}".lower()

    @property
    def hyperparams(self) -> dict[str, Any]:
        """Every argument of the class, its defaults read from its signature."""
        return {**defaults(self.cls), **self.kwargs} if self.factory is None else dict(self.kwargs)

    @property
    def label(self) -> str:
        """The class name, its lr and the arguments that differ from the defaults, and the
        schedule: "NAdam lr=0.1 momentum_decay=0.004 · StepLR(step_size=20)"; for a factory,
        what it made: "Lookahead(SGD lr=0.1)"."""
        if self.factory is not None:
            text = " ".join([self.shown, *(f"{key}={short_value(value)}" for key, value in self.kwargs.items())])
        else:
            text = " ".join([self.cls.__name__, *_differing(self.cls, self.hyperparams)])
        return f"{text} · {self.schedule.label}" if self.schedule is not None else text

    @property
    def needs_closure(self) -> bool:
        """Whether its step requires a closure (LBFGS's does)."""
        return needs_closure(self.cls)

    @property
    def takes_closure(self) -> bool:
        """Whether its step takes a closure at all (it is given one then)."""
        return "closure" in inspect.signature(self.cls.step).parameters

    @property
    def takes_loss(self) -> bool:
        """Whether it computes the gradient itself from the loss, by its own ``backward(loss)``
        (SafeFP16Optimizer scales the loss first)."""
        return callable(getattr(self.cls, "backward", None))

    @property
    def fused(self) -> bool:
        """Whether it updates the parameters inside its own ``fused_backward(loss, lr)`` (LOMO,
        AdaLOMO), after ``grad_norm(loss)`` where it clips by the gradient's norm."""
        return callable(getattr(self.cls, "fused_backward", None))

    @property
    def elementwise(self) -> bool:
        return (self.factory is None and (self.cls in ELEMENTWISE or issubclass(self.cls, StepFunctionOptimizer))
                and not self.needs_closure and not self.hessian)

    def with_lr(self, lr: float) -> "TorchOptimizer":
        if self.factory is not None and "lr" not in self.kwargs:
            raise OptimizerError(f"{self.label}: a factory sets its own lr; give it as an argument "
                                 f"(torch_optimizer(factory, lr=...)) to tune it")
        return TorchOptimizer(None if self.factory else self.cls, {**self.kwargs, "lr": lr}, self.name, self.schedule,
                              self.factory, self.hessian)


def torch_optimizer(cls_or_factory: Any, schedule: Any = None, *, hessian: bool = False,
                    **kwargs: Any) -> TorchOptimizer:
    """A torch optimizer: a class, its name (any case: "nadam", "LBFGS"), or any callable that
    takes the parameter list (and ``kwargs``) and returns an optimizer, with its arguments.
    ``hessian=True`` gives it gradients with a graph (``backward(create_graph=True)``), for an
    optimizer that takes second derivatives and does not say so in its ``step``.

    >>> torch_optimizer("nadam", lr=0.05)
    >>> torch_optimizer(torch.optim.Adafactor, lr=0.1)
    >>> torch_optimizer(lambda params: Lookahead(torch.optim.SGD(params, lr=0.1)))
    >>> torch_optimizer(lambda params: Muon([{"params": params, "use_muon": True}], lr=0.02))
    """
    if not isinstance(hessian, bool):
        raise OptimizerError(f"hessian must be True or False, got {hessian!r}")
    name = cls_or_factory if isinstance(cls_or_factory, str) else ""
    made = find_class(cls_or_factory, allow_import=True) if name else cls_or_factory
    if isinstance(made, type) and issubclass(made, torch.optim.Optimizer):
        return TorchOptimizer(made, kwargs, name, _schedule(schedule), hessian=hessian)
    if isinstance(made, functools.partial) and isinstance(made.func, type) and not made.args \
            and issubclass(made.func, torch.optim.Optimizer):
        return TorchOptimizer(made.func, {**made.keywords, **kwargs}, name, _schedule(schedule), hessian=hessian)
    if callable(made) and not isinstance(made, (type, torch.optim.Optimizer)):
        return TorchOptimizer(None, kwargs, name, _schedule(schedule), factory=made, hessian=hessian)
    raise OptimizerError(f"{_shown(cls_or_factory)} is not a torch.optim.Optimizer class or a callable that makes one"
                         + (": pass a function of the parameters that makes it" if isinstance(made, torch.optim.Optimizer)
                            else ""))


def find_class(name: str, *, allow_import: bool) -> type:
    """torch.optim's class by name in any case, or with ``allow_import`` the class an import
    path names ("package.module:Class" or "package.module.Class")."""
    found = TORCH_CLASSES.get(name.lower())
    if found is not None:
        return found
    if ":" not in name and "." not in name:
        raise OptimizerError(f"unknown optimizer {quoted(name)}")
    if not allow_import:
        raise OptimizerError(f"{quoted(name)} is an import path: optviz imports a module named in a file only "
                             f"when the command line says --allow-import")
    module_name, sep, attribute = name.partition(":") if ":" in name else name.rpartition(".")
    if not module_name or not attribute:
        raise OptimizerError(f"{quoted(name)} is not an import path like package.module:Class")
    try:
        module = importlib.import_module(module_name)
    except Exception as error:  # noqa: BLE001 - any failure to import is the user's to read, in one line
        raise OptimizerError(f"cannot import {module_name!r} for {name!r}: {import_failure(module_name, error)}") from None
    found = getattr(module, attribute, None)
    if found is None:
        classes = [n for n, v in vars(module).items() if isinstance(v, type) and issubclass(v, torch.optim.Optimizer)]
        raise OptimizerError(f"{module_name} has no {attribute!r}{did_you_mean(attribute, classes)}")
    if not (isinstance(found, type) and issubclass(found, torch.optim.Optimizer)):
        raise OptimizerError(f"{name} is a {type(found).__name__}, not a torch.optim.Optimizer class")
    return found


def needs_closure(cls: type) -> bool:
    """Whether the class's step requires a closure that evaluates the loss (LBFGS's does)."""
    closure = inspect.signature(cls.step).parameters.get("closure")
    return closure is not None and closure.default is inspect.Parameter.empty


def needs_hessian(opt: torch.optim.Optimizer) -> bool:
    """Whether the instance, or an optimizer it wraps, estimates second derivatives itself
    from a gradient with a graph: its ``step`` takes a ``hessian`` (AdaHessian, SophiaH)."""
    return any("hessian" in inspect.signature(type(o).step).parameters for o in _layers(opt))


def describe(opt: torch.optim.Optimizer) -> str:
    """An instance as a label: its class, its first group's lr and the arguments that differ
    from the class's defaults, and what it wraps: "Lookahead(SGD lr=0.1)"."""
    cls, inner = type(opt), _wrapped(opt)
    if inner is not None:
        own = [f"{key}={short_value(getattr(opt, key))}" for key, default in defaults(cls).items()
               if key not in MACHINERY and hasattr(opt, key) and not _is_optimizer(getattr(opt, key))
               and not same_value(getattr(opt, key), default)]
        return " ".join([f"{cls.__name__}({describe(inner)})", *own])
    groups, base = getattr(opt, "param_groups", None) or [{}], defaults(cls)
    # a default given by name (Muon's ns_coeffs preset) is kept resolved in the group: not a choice
    group = {key: value for key, value in groups[0].items()
             if key == "lr" or (key in base and not (isinstance(base[key], str) and not isinstance(value, str)))}
    return " ".join([cls.__name__, *_differing(cls, group)])


def defaults(cls: type) -> dict[str, Any]:
    """The class's arguments after ``params`` with their defaults (required ones omitted)."""
    return {name: p.default for name, p in _parameters(cls).items() if p.default is not inspect.Parameter.empty}


def argument_names(cls: type) -> list[str]:
    """The arguments the class names after ``params`` (not its **kwargs, which may swallow typos)."""
    return [n for n, p in _parameters(cls).items() if p.kind is not inspect.Parameter.VAR_KEYWORD]


def check_arguments(cls: type, kwargs: dict[str, Any]) -> None:
    """OptimizerError for an argument the class does not name, with the nearest one. Where an
    optimizer class is among the arguments (SAM's base_optimizer) the others go on to it
    through the class's **kwargs: that class checks them."""
    named = argument_names(cls)
    if passes_on(cls, kwargs):
        return
    for key in kwargs:
        if key not in named:
            raise OptimizerError(f"{cls.__name__} has no hyperparameter {key!r}{did_you_mean(key, named)}")


def make(source: TorchOptimizer, param: torch.Tensor) -> tuple[torch.optim.Optimizer, torch.Tensor]:
    """An instance on a fresh copy of ``param`` (a leaf that requires grad); a class that takes
    only matrices gets a (1, dim) one. Returns the instance and the parameter it steps.
    Whatever the constructor raises comes back as an OptimizerError naming it, in one line."""
    leaf = param.detach().clone().requires_grad_(True)
    try:
        if source.factory is None and _first_argument(source.cls) == "model":
            leaf = torch.nn.Parameter(param.detach().clone())
            return source.build(_Point(leaf)), leaf
        return source.build([leaf]), leaf
    except Exception as error:  # noqa: BLE001 - third-party constructors raise anything
        if leaf.ndim == 1:  # Muon: "only supports 2D parameters"
            matrix = leaf.detach().reshape(1, -1).requires_grad_(True)
            try:
                return source.build([matrix]), matrix
            except Exception:  # noqa: BLE001 - the vector's message says more
                pass
        if isinstance(error, OptimizerError):
            raise
        raise OptimizerError(f"{_culprit(error) or _who(source)}: {one_line(error)}{_hint(source)}") from None


def draws_from(opt: torch.optim.Optimizer) -> tuple[bool, bool]:
    """(numpy, python): whether the code of the instance's classes and of what it wraps can
    reach numpy's or Python's global random generator: their modules, or the modules of the
    functions and classes those import, hold ``numpy`` or ``random``. (Swapping those two
    generators costs a hundred times torch's, so it is done only where it may matter.)"""
    modules = {sys.modules.get(klass.__module__) for layer in _layers(opt) for klass in type(layer).__mro__}
    reached = set(modules)
    with warnings.catch_warnings():  # reading a deprecated name's attributes warns (torch.distributed.reduce_op)
        warnings.simplefilter("ignore")
        for module in filter(None, modules):
            reached.update(sys.modules.get(getattr(value, "__module__", None) or "") for value in vars(module).values())
        held = {getattr(value, "__name__", "") if isinstance(value, types.ModuleType) else getattr(value, "__module__", "")
                for module in filter(None, reached) for value in vars(module).values()}
    held |= {module.__name__ for module in filter(None, reached)}
    return any(str(name).startswith("numpy") for name in held), "random" in held


def colour_rank(kind: str) -> int:
    """A stable number for a kind that has no palette place of its own: the same optimizer
    prefers the same spare colour in every picture."""
    return zlib.crc32(kind.encode())


def _parameters(cls: type) -> dict[str, inspect.Parameter]:
    parameters = dict(inspect.signature(cls).parameters)
    parameters.pop("params", None)
    parameters.pop("self", None)
    return parameters


def _default_name(cls: type, factory: bool = False) -> str:
    """How an optimizer is known in a result file: a factory's never finds a class to remake."""
    if TORCH_CLASSES.get(cls.__name__.lower()) is cls and not factory:
        return cls.__name__
    return f"{cls.__module__}:{cls.__qualname__}" + ("(factory)" if factory else "")


def _schedule(schedule: Any) -> Schedule | None:
    return None if schedule is None else make_schedule(schedule)


def _differing(cls: type, hyperparams: dict[str, Any]) -> list[str]:
    """key=value for lr and each argument that differs from the class's default."""
    base = defaults(cls)
    return [f"{key}={value.__name__ if isinstance(value, type) else short_value(value)}" for key, value in hyperparams.items()
            if key not in MACHINERY and (key == "lr" or key not in base or not same_value(value, base[key]))]


def _is_optimizer(value: Any) -> bool:
    return isinstance(value, torch.optim.Optimizer)


def _wrapped(opt: torch.optim.Optimizer) -> torch.optim.Optimizer | None:
    """The optimizer an instance wraps (Lookahead's, SAM's base optimizer), if any."""
    for key in ("optimizer", "base_optimizer"):
        inner = getattr(opt, key, None)
        if _is_optimizer(inner) and inner is not opt:
            return inner
    return None


def _layers(opt: torch.optim.Optimizer) -> list[torch.optim.Optimizer]:
    """The instance and those it wraps, outermost first."""
    layers = [opt]
    while (inner := _wrapped(layers[-1])) is not None and len(layers) < 8:
        layers.append(inner)
    return layers


def passes_on(cls: type, kwargs: dict[str, Any]) -> bool:
    """Whether the class hands the arguments it does not name to an optimizer class it is
    given (SAM's **kwargs go to its base_optimizer, which checks them)."""
    forwards = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in _parameters(cls).values())
    return forwards and any(key.endswith("optimizer") and key in argument_names(cls) for key in kwargs)


def _refusal(opt: torch.optim.Optimizer) -> str:
    """Why an instance cannot be stepped by gradients and ``step``, where its own loop is
    another one; empty for the others."""
    if callable(getattr(opt, "set_closure", None)):
        return "takes its loss through set_closure(loss_fn, inputs, targets), a model's forward pass"
    return ""


def _inner_classes(cls: type, kwargs: dict[str, Any]) -> dict[str, Any]:
    """The arguments, with an optimizer named by a word where the class takes an optimizer
    class (SAM's ``base_optimizer=SGD``, as a command line writes it) made that class."""
    takes = [name for name in argument_names(cls) if name.endswith("optimizer")]
    return {key: find_class(value, allow_import=True) if key in takes and isinstance(value, str) else value
            for key, value in kwargs.items()}


def _culprit(error: BaseException) -> str:
    """The optimizer class whose code raised ``error``: the innermost method of one in its
    traceback (a factory's own name says less)."""
    found, tb = "", error.__traceback__
    while tb is not None:
        owner = tb.tb_frame.f_locals.get("self")
        if isinstance(owner, torch.optim.Optimizer):
            found = type(owner).__name__
        tb = tb.tb_next
    return found


class _Point(torch.nn.Module):
    """A model whose one parameter is the point, for a class that takes a model (AdamMini)."""

    def __init__(self, point: torch.nn.Parameter) -> None:
        super().__init__()
        self.point = point


def _first_argument(cls: type) -> str | None:
    return next(iter(inspect.signature(cls).parameters), None)


def _hint(source: TorchOptimizer) -> str:
    """Why a class refused, where its constructor takes something else than the parameters
    or an optimizer class it was not given."""
    if source.factory is not None:
        return ""
    required = [name for name, p in _parameters(source.cls).items()
                if name.endswith("optimizer") and p.default is inspect.Parameter.empty and name not in source.kwargs]
    if required:
        return (f" ({source.cls.__name__} takes an optimizer class as {required[0]}: "
                f"{required[0]}=SGD on the command line, {required[0]}=torch.optim.SGD in Python)")
    first = _first_argument(source.cls)
    return f" ({source.cls.__name__} {_NOT_PARAMS[first].format(cls=source.cls.__name__)})" \
        if first in _NOT_PARAMS else ""


def _who(source: TorchOptimizer) -> str:
    if source.cls is not None:
        return source.cls.__name__
    return getattr(source.factory, "__name__", None) or type(source.factory).__name__


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."

