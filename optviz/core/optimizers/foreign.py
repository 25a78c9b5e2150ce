"""Any ``torch.optim.Optimizer`` as a source of paths: torch's own, a third party's, the user's.

``TorchOptimizer(cls, kwargs)`` is a class and its arguments, checked by making it once
(torch's own message on a bad argument). ``simulate`` runs it exactly as torch would run it
alone on each start, as one parameter tensor of shape (dim,), in one of two modes:

- ``"batched"``: every start in one (n, dim) tensor under one instance. Exact only for rules
  that act element by element, so it is used only for the classes in :data:`ELEMENTWISE`,
  which the tests check against separate runs.
- ``"per-start"``: one parameter and one instance per start; whatever the rule does across
  a tensor (norms, factored moments, orthogonalised updates, global estimates) stays within
  its own start. A class whose ``step`` requires a closure (LBFGS) gets one that evaluates
  the function and its gradient at the parameter. A class that accepts only matrices (Muon)
  gets each start as a (1, dim) matrix: ``"per-start (1 x dim matrix)"``.
"""

from __future__ import annotations

import importlib
import inspect
import zlib
from dataclasses import dataclass, field
from typing import Any

import torch

from ..extras import import_failure
from ..names import did_you_mean, quoted, same_value, short_value
from .drop_in import StepFunctionOptimizer
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


class OptimizerError(ValueError):
    """A torch optimizer that cannot be made or found, in one line."""


@dataclass(frozen=True, eq=False)
class TorchOptimizer:
    """A torch.optim.Optimizer class and its arguments, run as a path source.

    ``name`` is how it was asked for ("nadam", "pytorch_optimizer:Lion"); ``schedule`` the
    learning-rate schedule stepped after each of its steps.
    """

    cls: type
    kwargs: dict[str, Any] = field(default_factory=dict)
    name: str = ""
    schedule: Schedule | None = None

    def __post_init__(self) -> None:
        if not self.name:
            object.__setattr__(self, "name", _default_name(self.cls))
        check_arguments(self.cls, self.kwargs)
        trial, _ = make(self, torch.zeros(2, dtype=torch.float64))  # torch's own checks of every value, now
        if self.schedule is not None:
            self.schedule.attach(trial)

    @property
    def kind(self) -> str:
        """What picks its colour: the class's lower-case name (module-qualified if not torch's)."""
        if TORCH_CLASSES.get(self.cls.__name__.lower()) is self.cls:
            return self.cls.__name__.lower()
        return f"{self.cls.__module__}.{self.cls.__qualname__}".lower()

    @property
    def hyperparams(self) -> dict[str, Any]:
        """Every argument of the class, its defaults read from its signature."""
        return {**defaults(self.cls), **self.kwargs}

    @property
    def label(self) -> str:
        """The class name, its lr and the arguments that differ from the defaults, and the
        schedule: "NAdam lr=0.1 momentum_decay=0.004 · StepLR(step_size=20)"."""
        base = defaults(self.cls)
        shown = [f"{key}={short_value(value)}" for key, value in self.hyperparams.items()
                 if key not in MACHINERY and (key == "lr" or key not in base or not same_value(value, base[key]))]
        text = " ".join([self.cls.__name__, *shown])
        return f"{text} · {self.schedule.label}" if self.schedule is not None else text

    @property
    def needs_closure(self) -> bool:
        """Whether its step requires a closure (LBFGS's does)."""
        return needs_closure(self.cls)

    @property
    def elementwise(self) -> bool:
        return (self.cls in ELEMENTWISE or issubclass(self.cls, StepFunctionOptimizer)) and not self.needs_closure

    def with_lr(self, lr: float) -> "TorchOptimizer":
        return TorchOptimizer(self.cls, {**self.kwargs, "lr": lr}, self.name, self.schedule)


def torch_optimizer(cls_or_name: Any, schedule: Any = None, **kwargs: Any) -> TorchOptimizer:
    """A torch optimizer class, or its name (any case: "nadam", "LBFGS"), with its arguments.

    >>> torch_optimizer("nadam", lr=0.05)
    >>> torch_optimizer(torch.optim.Adafactor, lr=0.1)
    """
    cls = find_class(cls_or_name, allow_import=True) if isinstance(cls_or_name, str) else cls_or_name
    if not (isinstance(cls, type) and issubclass(cls, torch.optim.Optimizer)):
        raise OptimizerError(f"{_shown(cls_or_name)} is not a torch.optim.Optimizer class")
    name = cls_or_name if isinstance(cls_or_name, str) else ""
    return TorchOptimizer(cls, kwargs, name, None if schedule is None else make_schedule(schedule))


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


def defaults(cls: type) -> dict[str, Any]:
    """The class's arguments after ``params`` with their defaults (required ones omitted)."""
    return {name: p.default for name, p in _parameters(cls).items() if p.default is not inspect.Parameter.empty}


def argument_names(cls: type) -> list[str]:
    """The arguments the class names after ``params`` (not its **kwargs, which may swallow typos)."""
    return [n for n, p in _parameters(cls).items() if p.kind is not inspect.Parameter.VAR_KEYWORD]


def check_arguments(cls: type, kwargs: dict[str, Any]) -> None:
    """OptimizerError for an argument the class does not name, with the nearest one."""
    named = argument_names(cls)
    for key in kwargs:
        if key not in named:
            raise OptimizerError(f"{cls.__name__} has no hyperparameter {key!r}{did_you_mean(key, named)}")


def make(source: TorchOptimizer, param: torch.Tensor) -> tuple[torch.optim.Optimizer, torch.Tensor]:
    """An instance on a fresh copy of ``param`` (a leaf that requires grad); a class that takes
    only matrices gets a (1, dim) one. Returns the instance and the parameter it steps."""
    leaf = param.detach().clone().requires_grad_(True)
    try:
        return source.cls([leaf], **source.kwargs), leaf
    except (TypeError, ValueError, RuntimeError) as error:
        if leaf.ndim == 1:  # Muon: "only supports 2D parameters"
            matrix = leaf.detach().reshape(1, -1).requires_grad_(True)
            try:
                return source.cls([matrix], **source.kwargs), matrix
            except (TypeError, ValueError, RuntimeError):
                pass
        raise OptimizerError(f"{source.cls.__name__}: {_one_line(error)}") from None


def colour_rank(kind: str) -> int:
    """A stable number for a kind that has no palette place of its own: the same optimizer
    prefers the same spare colour in every picture."""
    return zlib.crc32(kind.encode())


def _parameters(cls: type) -> dict[str, inspect.Parameter]:
    parameters = dict(inspect.signature(cls).parameters)
    parameters.pop("params", None)
    parameters.pop("self", None)
    return parameters


def _default_name(cls: type) -> str:
    if TORCH_CLASSES.get(cls.__name__.lower()) is cls:
        return cls.__name__
    return f"{cls.__module__}:{cls.__qualname__}"


def _shown(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _one_line(error: BaseException) -> str:
    return " ".join(str(error).split()) or type(error).__name__
