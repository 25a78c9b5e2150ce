"""Every optimizer by name: the built-ins' entries, torch's classes, anything importable.

The built-ins are found in their blocks (optviz/core/optimizers/family): each :class:`Entry`
holds a built-in's factory of pure step functions, the name pictures use, the torch.optim
class that runs the same rule, the drop-in class that trains models with it, its place in
every theme's palette, and the setting ``optviz check`` compares with torch.

:func:`get_optimizer` finds any optimizer by name: a built-in ("adam"), torch.optim's classes
in any case ("nadam", "LBFGS"), and with ``allow_import`` an import path
("pytorch_optimizer:Lion"). :func:`as_source` takes what Python users hand over: an
optviz Optimizer, a torch.optim.Optimizer class, ``functools.partial(cls, **kwargs)``.
"""

from __future__ import annotations

import importlib
import re
import inspect
from typing import Any, Callable

import torch

from ..extras import import_failure
from ..names import cut, did_you_mean, quoted
from ..vocabulary import nearest_optimizer
from .base import Entry, Optimizer
from .family import ENTRIES
from .foreign import (MACHINERY, TORCH_CLASSES, OptimizerError, TorchOptimizer, argument_names, find_class, passes_on,
                      torch_optimizer)
from .foreign import defaults as torch_defaults
from .schedules import schedule as make_schedule

__all__ = ["BUILT_INS", "OPTIMIZERS", "TEACHING", "Entry", "Source", "as_source", "as_torch", "catalogue",
           "entry_of", "from_hyperparams", "get_optimizer", "hyperparameter_names", "known_names", "label", "listing",
           "scheduled"]

Source = Optimizer | TorchOptimizer

BUILT_INS: dict[str, Entry] = {entry.name: entry for entry in ENTRIES}  # in palette order
OPTIMIZERS: dict[str, Callable[..., Optimizer]] = {
    name: entry.factory for name, entry in BUILT_INS.items() if not entry.teaching
}
TEACHING: dict[str, Callable[..., Optimizer]] = {name: entry.factory for name, entry in BUILT_INS.items() if entry.teaching}

label = Optimizer.label.fget  # label(opt): the property's own function, as a function


def get_optimizer(name: str, *, allow_import: bool = False, **hyperparams: Any) -> Source:
    """The optimizer called ``name``, made with ``hyperparams``.

    A built-in name gives optviz's pure step functions; torch.optim's class names (any case)
    give that class; an import path gives the class it names, only with ``allow_import``.
    Unknown names and hyperparameters raise ValueError with a suggestion.
    """
    if not isinstance(name, str) or not name:
        raise ValueError(f"an optimizer name must be a non-empty string, got {name!r}")
    arguments = hyperparameter_names(name, allow_import=allow_import)
    entry = BUILT_INS.get(name) or BUILT_INS.get(name.lower())
    for key in hyperparams:
        if key not in arguments and (entry is not None or not passes_on(find_class(name, allow_import=allow_import),
                                                                         hyperparams)):
            raise ValueError(f"{cut(name)} has no hyperparameter {quoted(key)}{did_you_mean(key, arguments)}")
    if entry is not None:
        return entry.factory(**hyperparams)
    return TorchOptimizer(find_class(name, allow_import=allow_import), hyperparams, name)


def hyperparameter_names(name: str, *, allow_import: bool = False) -> list[str]:
    """What the optimizer called ``name`` takes, without making one."""
    entry = BUILT_INS.get(name) or BUILT_INS.get(name.lower())
    if entry is not None:
        return list(inspect.signature(entry.factory).parameters)
    try:
        cls = find_class(name, allow_import=allow_import)
    except OptimizerError as error:
        if str(error).startswith("unknown optimizer"):
            near = _nearest(name.lower())
            hint = f"; did you mean {near!r}?" if near else ""
            raise OptimizerError(f"{error}{hint} (known: {', '.join(known_names())})") from None
        raise
    return argument_names(cls)


def _nearest(name: str) -> str | None:
    """The known name nearest to ``name``, as the command line finds it before torch loads."""
    return nearest_optimizer(name, known_names(), BUILT_INS)


def known_names() -> list[str]:
    """Every name get_optimizer finds without an import."""
    return [*BUILT_INS, *(n for n in TORCH_CLASSES if n not in BUILT_INS)]


def as_source(obj: Any) -> Source:
    """What simulate steps: an optviz Optimizer or TorchOptimizer as it is; a
    torch.optim.Optimizer class, ``functools.partial(cls, **kwargs)`` or any callable that
    takes the parameter list and returns an optimizer as a TorchOptimizer (see
    :func:`torch_optimizer`); a name as :func:`get_optimizer` finds it."""
    if isinstance(obj, (Optimizer, TorchOptimizer)):
        return obj
    if isinstance(obj, str):
        return get_optimizer(obj, allow_import=True)
    if (isinstance(obj, type) and issubclass(obj, torch.optim.Optimizer)) or \
            (callable(obj) and not isinstance(obj, (type, torch.optim.Optimizer))):
        return torch_optimizer(obj)
    raise TypeError(
        f"an optimizer must be an optviz optimizer (optviz.adam(lr=0.1)), a torch.optim.Optimizer class, "
        f"functools.partial(cls, **kwargs), a function of the parameters that makes an optimizer, or a name, "
        f"got {type(obj).__name__}"
    )


def scheduled(opt: Any, *schedule: Any) -> TorchOptimizer:
    """``opt`` with a learning-rate schedule (see optviz.schedules): each step of the optimizer
    is followed by one step of each scheduler, as in a torch training loop.

    A built-in runs as its torch.optim class with the same hyperparameters (the two are equal
    bit for bit), since a scheduler acts on a torch optimizer.

    >>> scheduled(optviz.sgd(lr=0.1), functools.partial(StepLR, step_size=20, gamma=0.5))
    """
    source = as_source(opt)
    if isinstance(source, Optimizer):
        source = as_torch(source)
    return TorchOptimizer(None if source.factory else source.cls, source.kwargs, source.name, make_schedule(*schedule),
                          source.factory, source.hessian)


def as_torch(opt: Optimizer) -> TorchOptimizer:
    """A built-in as its torch.optim class with the same hyperparameters (its drop-in class
    where torch has none)."""
    entry = BUILT_INS.get(opt.kind)
    cls = entry and (entry.torch_class or entry.optim_class)
    if cls is None:
        raise OptimizerError(f"{opt.label} has no torch.optim class to run it with")
    if any(isinstance(v, torch.Tensor) and v.ndim > 0 for v in _flat(opt.hyperparams.values())):
        raise OptimizerError(f"{opt.label}: a sweep of hyperparameters cannot take a schedule; give plain numbers")
    accepted = inspect.signature(cls).parameters
    kwargs = {k: v for k, v in opt.hyperparams.items() if k in accepted}
    return TorchOptimizer(cls, kwargs, entry.name)


def from_hyperparams(name: str, hyperparams: dict[str, Any]) -> Source:
    """The optimizer whose ``name`` and ``hyperparams`` these are (the inverse of making one);
    never imports a module."""
    entry = BUILT_INS.get(name)
    if entry is not None:
        return entry.factory(**hyperparams)  # extra keys (a penalty) raise: such a one is not remade
    return TorchOptimizer(find_class(name, allow_import=False), hyperparams, name)


def entry_of(name: str, hyperparams: dict[str, Any]) -> Entry | None:
    """The built-in an optimizer of this name and these hyperparameters is (SGD with momentum
    is momentum), judged by the factory's own arguments among them; None for any other."""
    entry = BUILT_INS.get(name)
    if entry is None:
        return None
    accepted = inspect.signature(entry.factory).parameters
    try:
        return entry.factory(**{k: v for k, v in hyperparams.items() if k in accepted}).entry
    except (TypeError, ValueError):
        return entry


def _flat(values: Any) -> list[Any]:
    return [x for v in values for x in (v if isinstance(v, tuple) else (v,))]


def catalogue(module: str | None = None) -> list[tuple[str, str, dict[str, Any]]]:
    """(name, what it is, its defaults) for every optimizer found by name: the built-ins and
    torch.optim's classes; or, given a module, the torch.optim.Optimizer classes it holds
    (imported to look: the user named it), each under the import path that finds it."""
    if module is None:
        rows = [(name, entry.summary, entry.defaults) for name, entry in BUILT_INS.items()]
        return rows + [(name, _summary(cls), _shown_defaults(cls)) for name, cls in sorted(TORCH_CLASSES.items())
                       if name not in BUILT_INS]
    try:
        imported = importlib.import_module(module)
    except Exception as error:  # noqa: BLE001 - any failure to import is the user's to read, in one line
        raise OptimizerError(f"cannot import {module!r}: {import_failure(module, error)}") from None
    classes = sorted((name, value) for name, value in vars(imported).items()
                     if isinstance(value, type) and issubclass(value, torch.optim.Optimizer)
                     and value is not torch.optim.Optimizer)
    if not classes:
        raise OptimizerError(f"{module} holds no torch.optim.Optimizer classes")
    return [(f"{module}:{name}", _summary(cls), _shown_defaults(cls)) for name, cls in classes]


def _plain(text: str) -> str:
    """A docstring's line as plain text: ``sgd`` and :func:`sgd` read as sgd."""
    return re.sub(r"(?::[a-z]+:)?`{1,2}~?([^`]+)`{1,2}", r"\1", text)


def _summary(cls: type) -> str:
    lines = (cls.__doc__ or "").strip().splitlines()
    return " ".join(lines[0].split()) if lines else cls.__name__


def _shown_defaults(cls: type) -> dict[str, Any]:
    return {k: v for k, v in torch_defaults(cls).items() if k not in MACHINERY}


def listing(module: str | None = None) -> str:
    """The catalogue as text: each optimizer's name and what it is, its defaults beneath."""
    rows = catalogue(module)
    width = max(11, *(len(name) + 1 for name, _, _ in rows))
    lines = []
    for name, summary, defaults in rows:
        shown = ", ".join(f"{key}={'(function)' if callable(value) else value}" for key, value in defaults.items())
        lines.append(f"{name:<{width}} {_plain(summary)}")
        lines.append(f"{'':<{width + 1}}{shown}")
    return "\n".join(lines)
