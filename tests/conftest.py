"""Shared helpers: the same run through optviz's step functions and through torch.optim."""

import itertools

import torch

import optviz

TORCH_CLASSES = {
    "sgd": torch.optim.SGD,
    "adagrad": torch.optim.Adagrad,
    "rmsprop": torch.optim.RMSprop,
    "adam": torch.optim.Adam,
    "adamw": torch.optim.AdamW,
}


def grid(**choices):
    """Every combination of the given values, as keyword dicts."""
    keys = list(choices)
    return [dict(zip(keys, values)) for values in itertools.product(*choices.values())]


def gradient_sign(kwargs):
    # maximize ascends: hand it -grad f, so both runs still descend f and stay finite
    return -1.0 if kwargs.get("maximize") else 1.0


def optviz_path(opt, function, start, steps, sign=1.0):
    params, state = start.clone(), opt.init(start)
    path = [params]
    for _ in range(steps):
        params, state = opt.step(params, sign * function.grad(params), state)
        path.append(params)
    return torch.stack(path)


def torch_path(name, kwargs, function, start, steps, sign=1.0):
    param = start.clone().requires_grad_(True)
    opt = TORCH_CLASSES[name]([param], foreach=False, **kwargs)
    path = [param.detach().clone()]
    for _ in range(steps):
        param.grad = sign * function.grad(param.detach())
        opt.step()
        path.append(param.detach().clone())
    return torch.stack(path)


def assert_bit_equal(actual, expected):
    torch.testing.assert_close(actual, expected, rtol=0, atol=0, equal_nan=True)


def starts_for(function, n=4, dtype=torch.float64, seed=0):
    """n start points spread over the function's bounds (the default start first)."""
    g = torch.Generator().manual_seed(seed)
    lo, hi = torch.tensor(function.bounds, dtype=torch.float64).T
    spread = lo + (hi - lo) * torch.rand(n - 1, function.dim, generator=g, dtype=torch.float64)
    return torch.cat([torch.tensor([function.start], dtype=torch.float64), spread]).to(dtype)


def factory(name):
    return optviz.OPTIMIZERS[name]
