"""The same run through optviz's step functions and through torch.optim, step for step.

Used by `optviz check` on whatever torch is installed, and by the test suite.
"""

from __future__ import annotations

from typing import Any

import torch
from torch import Tensor

from .functions import TestFunction, get_function
from .optimizers import OPTIMIZERS, Optimizer

TORCH_CLASSES = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}

# one representative setting per registry entry, with torch.optim's class and arguments
CHECKS: dict[str, tuple[str, dict[str, Any]]] = {
    "sgd": ("sgd", dict(lr=1e-3, weight_decay=0.01)),
    "momentum": ("sgd", dict(lr=1e-3, momentum=0.9, dampening=0.1)),
    "nesterov": ("sgd", dict(lr=1e-3, momentum=0.9, nesterov=True)),
    "adagrad": ("adagrad", dict(lr=0.1, lr_decay=1e-3, initial_accumulator_value=0.1)),
    "rmsprop": ("rmsprop", dict(lr=1e-2, momentum=0.5, centered=True)),
    "adam": ("adam", dict(lr=1e-2, amsgrad=True)),
    "adamw": ("adamw", dict(lr=1e-2, weight_decay=0.1)),
}


def optviz_path(opt: Optimizer, function: TestFunction, start: Tensor, steps: int, sign: float = 1.0) -> Tensor:
    """Positions (steps + 1, *start.shape) of optviz's step function from start."""
    params, state = start.clone(), opt.init(start)
    path = [params]
    for _ in range(steps):
        params, state = opt.step(params, sign * function.grad(params), state)
        path.append(params)
    return torch.stack(path)


def torch_path(name: str, kwargs: dict[str, Any], function: TestFunction, start: Tensor, steps: int,
               sign: float = 1.0) -> Tensor:
    """The same with torch.optim's class ``name`` on one parameter tensor (foreach=False)."""
    param = start.clone().requires_grad_(True)
    opt = TORCH_CLASSES[name]([param], foreach=False, **kwargs)
    path = [param.detach().clone()]
    for _ in range(steps):
        param.grad = sign * function.grad(param.detach())
        opt.step()
        path.append(param.detach().clone())
    return torch.stack(path)


def check_all(steps: int = 200) -> list[tuple[str, str, float]]:
    """(optimizer, dtype, max |optviz - torch.optim|) for every optimizer and dtype."""
    function = get_function("rosenbrock")
    rows = []
    for name, (torch_name, kwargs) in CHECKS.items():
        opt_kwargs = {k: v for k, v in kwargs.items() if not (name == "nesterov" and k == "nesterov")}
        for dtype in (torch.float32, torch.float64):
            starts = torch.tensor([[-1.5, 2.0], [0.0, 0.0], [1.5, -0.5], [-0.5, 2.5]], dtype=dtype)
            ours = optviz_path(OPTIMIZERS[name](**opt_kwargs), function, starts, steps)
            theirs = torch_path(torch_name, kwargs, function, starts, steps)
            diff = (ours - theirs).abs().nan_to_num(nan=0.0).max().item()
            if not torch.equal(ours.isnan(), theirs.isnan()):
                diff = float("inf")
            rows.append((name, str(dtype).removeprefix("torch."), diff))
    return rows
