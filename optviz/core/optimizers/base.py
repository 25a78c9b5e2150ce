"""What an optimizer is: a pure (init, step) pair made from a rule, and the entry that names
a built-in.

Each built-in factory (``optviz.sgd``, ``optviz.adam``, ...) returns an :class:`Optimizer`::

    opt = adam(lr=0.1)
    state = opt.init(params)                       # params: a float tensor of any shape
    params, state = opt.step(params, grad, state)  # pure: no input is mutated

Names, defaults and error messages are torch.optim's, and every step calls the same torch
ops in the same order as torch.optim's single-tensor path (``foreach=False``), so
trajectories are identical to the last bit (see optviz.core.optimizers.ops).
Hyperparameters are floats, or tensors that broadcast against params: a sweep of 256
learning rates is ``lr=torch.logspace(-4, 0, 256)[:, None]`` over params of shape (256, 2),
and equals one torch.optim run per value bit for bit. A 0-dimensional tensor is not a sweep
but torch.optim's own tensor hyperparameter (``lr=torch.tensor(0.01)``): the arithmetic torch
does on it is done on it here too, in its dtype.

A built-in is one block (a module of optviz/core/optimizers/family): its factory, its
:class:`Rule` (written once, run exactly, compiled by fast mode and traced for the page),
its state, its drop-in torch.optim class and its :class:`Entry`.
"""

from __future__ import annotations

import functools
import inspect
from dataclasses import dataclass
from typing import Any, Callable, NamedTuple

from torch import Tensor

from ..names import same_value, short_value
from .checks import check_grad, check_params
from .ops import EXACT, Hyper


class Rule(NamedTuple):
    """An update rule, written once for every way optviz runs it, on ``xp`` (see ops):

    - ``constants(h, xp) -> h``: the hyperparameters with the numbers the step needs that do
      not change from step to step (``-lr``, ``1 - beta``), computed once;
    - ``init(params, h, xp) -> state``;
    - ``step(params, grad, state, h, xp) -> (params, state)``, the step count in the state.
    """

    constants: Callable[[dict[str, Any], Any], dict[str, Any]]
    init: Callable[..., Any]
    step: Callable[..., tuple[Any, Any]]

    def fixing(self, **flags: Any) -> "Rule":
        """This rule with ``flags`` among its hyperparameters: arguments a factory fixes
        rather than records (AdamW's decoupled weight decay)."""
        constants = self.constants
        return self._replace(constants=lambda h, xp: constants({**h, **flags}, xp))

    def adding(self, gradient: Callable[[Any], Any]) -> "Rule":
        """This rule handed ``grad + gradient(params)``: a penalty's gradient added first."""
        step = self.step
        return self._replace(step=lambda p, g, state, h, xp: step(p, g + gradient(p), state, h, xp))


class Optimizer(NamedTuple):
    """A pure optimizer: ``init(params) -> state`` and ``step(params, grad, state)``.

    ``name`` is the optimizer's short name and ``hyperparams`` the values it was made with
    (all of them, defaults included); ``rule`` the rule its step runs (for fast mode and the
    page; None for an optimizer made by hand) and ``entry`` the built-in it is, if any.
    """

    init: Callable[[Tensor], Any]
    step: Callable[[Tensor, Tensor, Any], tuple[Tensor, Any]]
    name: str
    hyperparams: dict[str, Any]
    rule: Rule | None = None
    entry: "Entry | None" = None

    @property
    def kind(self) -> str:
        """The family member: a built-in's name (SGD with momentum is momentum or nesterov)."""
        return self.entry.name if self.entry is not None else self.name

    @property
    def label(self) -> str:
        """Its display name, its learning rate, and the hyperparameters that differ from its
        kind's defaults, as a legend shows it: "Adam lr=0.05 betas=(0.9,0.99)"."""
        base = self.entry.defaults if self.entry is not None else {}
        shown = [f"{key}={short_value(value)}" for key, value in self.hyperparams.items()
                 if key == "lr" or key not in base or not same_value(value, base[key])]
        return " ".join([self.entry.display if self.entry is not None else self.name, *shown])


class StateGlyphs(NamedTuple):
    """What an optimizer's state means in a picture. Each is a function of its state's
    fields by name (torch.optim's state keys, which the built-ins' states share), each of
    shape (steps + 1, paths, dim) with row t the state after step t; of ``t``, the step
    counts (steps + 1, 1, 1); of ``lr``, the learning rate at each step, broadcastable to
    them; and of the hyperparameters ``h``. Either returns None where the state holds no such
    thing (an RMSProp without momentum has no velocity).

    - ``velocity -> displacement``: the step its momentum carries, in the parameters' units;
    - ``step_size -> per coordinate``: the step a unit gradient would take there (lr over the
      root of the second moment, bias-corrected where the rule corrects it).
    """

    velocity: Callable[..., Any] | None = None
    step_size: Callable[..., Any] | None = None


@dataclass(frozen=True)
class Entry:
    """One built-in optimizer: what the registry, the pictures and `optviz check` know of it."""

    name: str
    display: str  # in legends and titles
    factory: Callable[..., Optimizer]
    torch_class: type | None  # torch.optim's class for the same rule
    optim_class: type | None  # the drop-in torch.optim class that trains models with it
    colour: int  # its place in every theme's palette
    check: dict[str, Any]  # a setting `optviz check` runs through both (the reference's argument names)
    teaching: bool = False  # a variant kept to show a point; no library has it
    reference: str | None = None  # where torch has none: the import path of the class it equals bit for bit
    glyphs: StateGlyphs | None = None  # what its state shows in a picture (optviz.simulate(state=True))

    @property
    def summary(self) -> str:
        """What it is, in the sentence that opens its factory's docstring."""
        return (self.factory.__doc__ or "").strip().splitlines()[0]

    @functools.cached_property
    def defaults(self) -> dict[str, Any]:
        """Every hyperparameter at this entry's defaults (the alias's own, for momentum)."""
        return self.factory().hyperparams


def made(name: str, entry: Entry, rule: Rule, hyperparams: dict[str, Any], checked: dict[str, Hyper],
         **fixed: Any) -> Optimizer:
    """The exact optimizer of ``rule`` with these (checked) hyperparameters: its step runs the
    rule on torch.optim's ops. ``checked`` names the hyperparameters as messages name them
    (beta1, beta2), for the check that tensors broadcast against the params; ``fixed`` are
    the rule's arguments the factory fixes (see Rule.fixing)."""
    rule = rule.fixing(**fixed) if fixed else rule
    h = rule.constants(dict(hyperparams), EXACT)

    def init(params: Tensor) -> Any:
        check_params(params, checked)
        return rule.init(params, h, EXACT)

    def step(params: Tensor, grad: Tensor, state: Any) -> tuple[Tensor, Any]:
        check_grad(params, grad)
        return rule.step(params, grad, state, h, EXACT)

    return Optimizer(init, step, name, hyperparams, rule, entry)


def hyperparams_of(factory: Callable[..., Optimizer], scope: dict[str, Any]) -> dict[str, Any]:
    """The factory's arguments as its scope holds them (checked), by the signature's order."""
    return {name: scope[name] for name in inspect.signature(factory).parameters}


def decays(weight_decay: Hyper, xp: Any) -> bool:
    """Whether weight decay is on anywhere (torch skips it where it is 0), decided once with
    the constants, so that a compiled step does not branch on a value."""
    return xp.anywhere(weight_decay, lambda w: w != 0)


def decayed(grad: Any, params: Any, h: dict[str, Any], xp: Any) -> Any:
    """grad + weight_decay * params where weight decay is on (``h["decays"]``)."""
    return xp.add(grad, params, h["weight_decay"]) if h["decays"] else grad
