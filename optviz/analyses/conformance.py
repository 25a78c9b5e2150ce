"""The same run through optviz's step functions and through torch.optim (or, for a built-in
torch has not, the third-party class it equals), step for step.

Used by `optviz check` on whatever torch is installed, and by the test suite.
"""

from __future__ import annotations

import inspect
from typing import Any

import torch
from torch import Tensor

from ..core.functions import TestFunction, get_function
from ..core.optimizers.base import Entry, Optimizer
from ..core.optimizers.foreign import TORCH_CLASSES, OptimizerError, find_class
from ..core.optimizers.registry import BUILT_INS


def optviz_path(opt: Optimizer, function: TestFunction, start: Tensor, steps: int, sign: float = 1.0) -> Tensor:
    """Positions (steps + 1, *start.shape) of optviz's step function from start."""
    params, state = start.clone(), opt.init(start)
    path = [params]
    for _ in range(steps):
        params, state = opt.step(params, sign * function.grad(params), state)
        path.append(params)
    return torch.stack(path)


def torch_path(name: str | type, kwargs: dict[str, Any], function: TestFunction, start: Tensor, steps: int,
               sign: float = 1.0) -> Tensor:
    """The same with torch.optim's class (or its lower-case name) on one parameter tensor
    (foreach=False)."""
    param = start.clone().requires_grad_(True)
    cls = TORCH_CLASSES[name] if isinstance(name, str) else name
    opt = cls([param], foreach=False, **kwargs)
    path = [param.detach().clone()]
    for _ in range(steps):
        param.grad = sign * function.grad(param.detach())
        opt.step()
        path.append(param.detach().clone())
    return torch.stack(path)


def check_all(steps: int = 200) -> list[tuple[str, str, float]]:
    """(optimizer, dtype, max |optviz - torch.optim|) for every optimizer and dtype that has
    a class to check against here (see :func:`unchecked`)."""
    function = get_function("rosenbrock")
    rows = []
    for name, entry in BUILT_INS.items():
        reference = reference_class(entry)
        if reference is None:
            continue
        opt = entry.factory(**entry.check)
        accepted = inspect.signature(reference).parameters
        kwargs = {k: v for k, v in opt.hyperparams.items() if k in accepted}
        for dtype in (torch.float32, torch.float64):
            starts = torch.tensor([[-1.5, 2.0], [0.0, 0.0], [1.5, -0.5], [-0.5, 2.5]], dtype=dtype)
            ours = optviz_path(opt, function, starts, steps)
            theirs = torch_path(reference, kwargs, function, starts, steps)
            diff = (ours - theirs).abs().nan_to_num(nan=0.0).max().item()
            if not torch.equal(ours.isnan(), theirs.isnan()):
                diff = float("inf")
            rows.append((name, str(dtype).removeprefix("torch."), diff))
    return rows


def unchecked() -> dict[str, str]:
    """The built-ins (teaching variants aside) check_all cannot check here, and why."""
    return {name: f"not checked: {entry.reference.partition(':')[0]} is not installed" if entry.reference
            else "not checked: no library has it"
            for name, entry in BUILT_INS.items() if not entry.teaching and reference_class(entry) is None}


def report(rows: list[tuple[str, str, float]], steps: int) -> str:
    """check_all's rows as a table, under a line naming torch's version and the run, and a
    line for each built-in it could not check."""
    lines = [f"torch {torch.__version__}, {steps} steps on rosenbrock from 4 starts\n",
             f"{'optimizer':<10} {'dtype':<8} {'max |optviz - torch.optim|':>26}"]
    lines += [f"{name:<10} {dtype:<8} {diff:>26.3g}" for name, dtype, diff in rows]
    return "\n".join(lines + [f"{name:<10} {why}" for name, why in unchecked().items()])


def reference_class(entry: Entry) -> type | None:
    """The class a built-in equals bit for bit: torch.optim's, or the third party's named by
    its entry when that package is installed (None for a teaching variant, or without it)."""
    if entry.torch_class is not None or entry.reference is None:
        return entry.torch_class
    try:
        return find_class(entry.reference, allow_import=True)
    except OptimizerError:
        return None
