"""torch.optim.Optimizer classes built on optviz's step functions.

Drop-in replacements for ``torch.optim.SGD``, ``Adagrad``, ``RMSprop``, ``Adam`` and ``AdamW``
with the same constructor arguments, parameter groups and state_dict layout (a state_dict
saved by one loads into the other). Each parameter is stepped by the pure functions of
:mod:`optviz.optimizers`, so training is identical, step for step, to torch.optim with
``foreach=False``.
"""

from __future__ import annotations

import inspect
from functools import cache
from typing import Any, Callable

import torch

from . import optimizers as F


class _StepFunctionOptimizer(torch.optim.Optimizer):
    """Runs ``factory(**hyperparameters)`` of each group over its parameters."""

    factory: Callable[..., F.Optimizer]
    state_type: type

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        super().add_param_group(param_group)
        self._make(self.param_groups[-1])  # every group's hyperparameters are validated

    def _make(self, group: dict[str, Any]) -> F.Optimizer:
        return self.factory(**{name: group[name] for name in _arguments(self.factory)})

    @torch.no_grad()
    def step(self, closure: Callable[[], Any] | None = None) -> Any:
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            opt = self._make(group)
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.is_sparse:
                    raise RuntimeError(f"{type(self).__name__} does not support sparse gradients")
                state = self.state[p]
                current = self._load(state) if state else opt.init(p.detach())
                new_p, current = opt.step(p.detach(), p.grad, current)
                p.copy_(new_p)
                self._store(state, current)
        return loss

    def _store(self, state: dict[str, Any], current: Any) -> None:
        for key, value in current._asdict().items():
            if key == "step":
                # torch keeps the step count as a float32 tensor
                state[key] = torch.tensor(float(value))
            elif value is not None:
                state[key] = value

    def _load(self, state: dict[str, Any]) -> Any:
        fields = {key: state.get(key) for key in self.state_type._fields}
        if "step" in fields:
            fields["step"] = int(fields["step"])
        return self.state_type(**fields)


@cache
def _arguments(factory: Callable[..., F.Optimizer]) -> tuple[str, ...]:
    return tuple(inspect.signature(factory).parameters)


def _defaults(arguments: dict[str, Any]) -> dict[str, Any]:
    """A constructor's keyword arguments as the optimizer's defaults."""
    return {k: v for k, v in arguments.items() if k not in ("self", "params", "__class__")}


class SGD(_StepFunctionOptimizer):
    """torch.optim.SGD on :func:`optviz.sgd`."""

    factory = staticmethod(F.sgd)
    state_type = F.SGDState

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        momentum: float = 0,
        dampening: float = 0,
        weight_decay: float = 0,
        nesterov: bool = False,
        *,
        maximize: bool = False,
        foreach: bool | None = None,
    ) -> None:
        super().__init__(params, _defaults(locals()))


class Adagrad(_StepFunctionOptimizer):
    """torch.optim.Adagrad on :func:`optviz.adagrad`."""

    factory = staticmethod(F.adagrad)
    state_type = F.AdagradState

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        lr_decay: float = 0,
        weight_decay: float = 0,
        initial_accumulator_value: float = 0,
        eps: float = 1e-10,
        foreach: bool | None = None,
        *,
        maximize: bool = False,
    ) -> None:
        super().__init__(params, _defaults(locals()))


class RMSprop(_StepFunctionOptimizer):
    """torch.optim.RMSprop on :func:`optviz.rmsprop`."""

    factory = staticmethod(F.rmsprop)
    state_type = F.RMSpropState

    def __init__(
        self,
        params: Any,
        lr: float = 1e-2,
        alpha: float = 0.99,
        eps: float = 1e-8,
        weight_decay: float = 0,
        momentum: float = 0,
        centered: bool = False,
        capturable: bool = False,
        foreach: bool | None = None,
        maximize: bool = False,
        differentiable: bool = False,
    ) -> None:
        if capturable or differentiable:
            raise ValueError("optviz.optim.RMSprop supports neither capturable nor differentiable")
        super().__init__(params, _defaults(locals()))


class Adam(_StepFunctionOptimizer):
    """torch.optim.Adam on :func:`optviz.adam`."""

    factory = staticmethod(F.adam)
    state_type = F.AdamState

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 0,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
        decoupled_weight_decay: bool = False,
    ) -> None:
        super().__init__(params, _defaults(locals()))


class AdamW(Adam):
    """torch.optim.AdamW on :func:`optviz.adamw` (weight_decay 1e-2 by default)."""

    def __init__(
        self,
        params: Any,
        lr: float = 1e-3,
        betas: tuple[float, float] = (0.9, 0.999),
        eps: float = 1e-8,
        weight_decay: float = 1e-2,
        amsgrad: bool = False,
        *,
        foreach: bool | None = None,
        maximize: bool = False,
    ) -> None:
        super().__init__(
            params, lr, betas, eps, weight_decay, amsgrad,
            foreach=foreach, maximize=maximize, decoupled_weight_decay=True,
        )
