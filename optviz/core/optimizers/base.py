"""The optimizer family as pure (init, step) pairs, equal bit for bit to torch.optim.

Each factory returns an :class:`Optimizer`::

    opt = adam(lr=0.1)
    state = opt.init(params)                       # params: a float tensor of any shape
    params, state = opt.step(params, grad, state)  # pure: no input is mutated

Names, defaults and error messages are torch.optim's. Every step calls the same torch ops in
the same order as torch.optim's single-tensor path (``foreach=False``), so trajectories
are identical to the last bit: ``a.add(b, alpha=s)`` is one fused multiply-add, and
``addcmul``, ``addcdiv`` and ``lerp`` each round in their own way, so none may be rewritten
as plain arithmetic.

Hyperparameters are floats, or tensors that broadcast against params: a sweep of 256
learning rates is ``lr=torch.logspace(-4, 0, 256)[:, None]`` over params of shape (256, 2).
torch's ops take a tensor where they take a scalar only in another form
(``a.add(b, alpha=s)`` becomes ``torch.addcmul(a, b, s)``); these forms round exactly like the
scalar ones, and the arithmetic torch does in Python doubles (bias corrections, decayed
learning rates) is done in Python doubles here too, once per distinct value. So a batched
sweep equals one torch.optim run per value bit for bit; ``tests/test_optimizers.py`` checks
that bound (zero difference) for every optimizer.

A 0-dimensional tensor is not a sweep but torch.optim's own tensor hyperparameter
(``lr=torch.tensor(0.01)``): the arithmetic torch does on it (``lr / bias_correction``) is
done on it here too, in its dtype, so it matches torch.optim given the same tensor.

Validation follows torch.optim's rules, order and messages (``Invalid learning rate: -1``,
the value printed as given), with the allowed range appended.
"""

from __future__ import annotations

import inspect
import math
from functools import partial
from numbers import Real
from typing import Any, Callable, NamedTuple

import torch
from torch import Tensor

from ..names import short_value

Hyper = float | Tensor


class Optimizer(NamedTuple):
    """A pure optimizer: ``init(params) -> state`` and ``step(params, grad, state)``.

    ``name`` is the optimizer's short name and ``hyperparams`` the values it was made with
    (all of them, defaults included); ``label`` shows its learning rate and those that differ
    from the defaults, as a legend would.
    """

    init: Callable[[Tensor], Any]
    step: Callable[[Tensor, Tensor, Any], tuple[Tensor, Any]]
    name: str
    hyperparams: dict[str, Any]

    @property
    def kind(self) -> str:
        """The family member: an OPTIMIZERS name (SGD with momentum is momentum or nesterov)."""
        if self.name != "sgd":
            return self.name
        if self.hyperparams["nesterov"]:
            return "nesterov"
        return "momentum" if _any(self.hyperparams["momentum"], lambda m: m != 0) else "sgd"

    @property
    def label(self) -> str:
        """Its name, its learning rate, and the hyperparameters that differ from the defaults:
        "Adam lr=0.05 betas=(0.9,0.99)"."""
        from .registry import label  # the registry is built on this module

        return label(self)


class SGDState(NamedTuple):
    momentum_buffer: Tensor | None  # None until the first step, as in torch.optim


class AdagradState(NamedTuple):
    step: int
    sum: Tensor


class RMSpropState(NamedTuple):
    step: int
    square_avg: Tensor
    momentum_buffer: Tensor | None  # only with momentum > 0
    grad_avg: Tensor | None  # only when centered


class AdamState(NamedTuple):
    step: int
    exp_avg: Tensor
    exp_avg_sq: Tensor
    max_exp_avg_sq: Tensor | None  # only with amsgrad


# --- the family, simplest first -------------------------------------------------------------


def sgd(
    lr: Hyper = 1e-3,
    momentum: Hyper = 0.0,
    dampening: Hyper = 0.0,
    weight_decay: Hyper = 0.0,
    nesterov: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    """Stochastic gradient descent, with optional (Nesterov) momentum.

    g <- grad + weight_decay * p;  b <- g on step 1, else momentum * b + (1 - dampening) * g;
    d <- g + momentum * b if nesterov else b;  p <- p - lr * d.

    >>> opt = sgd(lr=0.1, momentum=0.9)
    """
    lr = _check("lr", lr, "learning rate", low=0.0)
    momentum = _check("momentum", momentum, "momentum value", low=0.0)
    weight_decay = _check("weight_decay", weight_decay, "weight_decay value", low=0.0)
    dampening = _check("dampening", dampening, "dampening value")
    _check_flags(nesterov=nesterov, maximize=maximize)
    if nesterov and (_any(momentum, lambda m: m <= 0) or _any(dampening, lambda d: d != 0)):
        raise ValueError(
            "Nesterov momentum requires a momentum and zero dampening "
            f"(got momentum={short_value(momentum)}, dampening={short_value(dampening)})"
        )
    hypers = dict(lr=lr, momentum=momentum, dampening=dampening, weight_decay=weight_decay)
    uses_momentum = _any(momentum, lambda m: m != 0)
    # what torch computes in doubles from the hyperparameters alone, computed once
    grad_weight, neg_lr = _double(lambda d: 1 - d, dampening), _double(lambda x: -x, lr)

    def init(params: Tensor) -> SGDState:
        _check_params(params, hypers)
        return SGDState(momentum_buffer=None)

    def step(params: Tensor, grad: Tensor, state: SGDState) -> tuple[Tensor, SGDState]:
        _check_grad(params, grad)
        grad = -grad if maximize else grad
        grad = _decay(grad, params, weight_decay)
        buf = state.momentum_buffer
        if uses_momentum:
            if buf is None:
                buf = grad.clone()
            else:
                buf = _add(_mul(buf, momentum), grad, grad_weight, fresh=True)
            direction = _add(grad, buf, momentum) if nesterov else buf
            # in a sweep, entries with momentum 0 take torch's momentum-free branch
            grad = direction if _is_scalar(momentum) else torch.where(
                _cast(momentum, grad) == 0, grad, direction
            )
        return _add(params, grad, neg_lr), SGDState(buf)

    return Optimizer(init, step, "sgd", _hyperparams(sgd, locals()))


momentum = partial(sgd, momentum=0.9)
momentum.__doc__ = "SGD with heavy-ball momentum (``sgd`` with momentum=0.9 by default)."
nesterov = partial(sgd, momentum=0.9, nesterov=True)
nesterov.__doc__ = "SGD with Nesterov momentum (``sgd`` with momentum=0.9, nesterov=True)."


def adagrad(
    lr: Hyper = 1e-2,
    lr_decay: Hyper = 0.0,
    weight_decay: Hyper = 0.0,
    initial_accumulator_value: Hyper = 0.0,
    eps: Hyper = 1e-10,
    *,
    maximize: bool = False,
) -> Optimizer:
    """AdaGrad: per-coordinate steps that shrink with the sum of squared gradients.

    g <- grad + weight_decay * p;  r <- r + g * g;
    p <- p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(r) + eps).

    >>> opt = adagrad(lr=0.4)
    """
    lr = _check("lr", lr, "learning rate", low=0.0)
    lr_decay = _check("lr_decay", lr_decay, "lr_decay value", low=0.0)
    weight_decay = _check("weight_decay", weight_decay, "weight_decay value", low=0.0)
    initial_accumulator_value = _check(
        "initial_accumulator_value",
        initial_accumulator_value,
        "initial_accumulator_value value",
        low=0.0,
    )
    eps = _check("eps", eps, "epsilon value", low=0.0)
    _check_flags(maximize=maximize)
    hypers = dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay, eps=eps)

    def init(params: Tensor) -> AdagradState:
        _check_params(params, {**hypers, "initial_accumulator_value": initial_accumulator_value})
        start = _cast(initial_accumulator_value, params)
        return AdagradState(0, torch.zeros_like(params).add(start))

    def step(params: Tensor, grad: Tensor, state: AdagradState) -> tuple[Tensor, AdagradState]:
        _check_grad(params, grad)
        t = state.step + 1
        grad = -grad if maximize else grad
        grad = _decay(grad, params, weight_decay)
        clr = _double(lambda lr, decay: lr / (1 + (t - 1) * decay), lr, lr_decay)
        total = state.sum.addcmul(grad, grad, value=1)
        std = total.sqrt().add_(_cast(eps, params))
        return _addcdiv(params, grad, std, _double(lambda x: -x, clr)), AdagradState(t, total)

    return Optimizer(init, step, "adagrad", _hyperparams(adagrad, locals()))


def rmsprop(
    lr: Hyper = 1e-2,
    alpha: Hyper = 0.99,
    eps: Hyper = 1e-8,
    weight_decay: Hyper = 0.0,
    momentum: Hyper = 0.0,
    centered: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    """RMSProp: steps scaled by a running average of squared gradients.

    g <- grad + weight_decay * p;  v <- alpha * v + (1 - alpha) * g * g  (v starts at 0);
    centered: a <- lerp(a, g, 1 - alpha), v~ = v - a * a;  d <- g / (sqrt(v~) + eps);
    momentum > 0: b <- momentum * b + d, p <- p - lr * b;  else p <- p - lr * d.

    >>> opt = rmsprop(lr=0.4, alpha=0.9)
    """
    lr = _check("lr", lr, "learning rate", low=0.0)
    eps = _check("eps", eps, "epsilon value", low=0.0)
    momentum = _check("momentum", momentum, "momentum value", low=0.0)
    weight_decay = _check("weight_decay", weight_decay, "weight_decay value", low=0.0)
    alpha = _check("alpha", alpha, "alpha value", low=0.0)
    _check_flags(centered=centered, maximize=maximize)
    hypers = dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum)
    uses_momentum = _any(momentum, lambda m: m > 0)
    one_minus_alpha, neg_lr = _double(lambda a: 1 - a, alpha), _double(lambda x: -x, lr)  # once

    def init(params: Tensor) -> RMSpropState:
        _check_params(params, hypers)
        zeros = partial(torch.zeros_like, params)
        return RMSpropState(
            0, zeros(), zeros() if uses_momentum else None, zeros() if centered else None
        )

    def step(params: Tensor, grad: Tensor, state: RMSpropState) -> tuple[Tensor, RMSpropState]:
        _check_grad(params, grad)
        grad = -grad if maximize else grad
        grad = _decay(grad, params, weight_decay)
        square_avg = _addcmul(_mul(state.square_avg, alpha), grad, grad, one_minus_alpha, fresh=True)
        grad_avg = state.grad_avg
        if centered:
            grad_avg = grad_avg.lerp(grad, _cast(one_minus_alpha, grad))
            avg = square_avg.addcmul(grad_avg, grad_avg, value=-1).sqrt_()
        else:
            avg = square_avg.sqrt()
        avg = avg.add_(_cast(eps, params))
        buf = state.momentum_buffer
        if not uses_momentum:
            new_params = _addcdiv(params, grad, avg, neg_lr)
        else:
            buf = _mul(buf, momentum).addcdiv_(grad, avg)  # in place on its own fresh product
            new_params = _add(params, buf, neg_lr)
            if not _is_scalar(momentum):
                # in a sweep, entries with momentum 0 take torch's momentum-free branch
                plain = _addcdiv(params, grad, avg, neg_lr)
                new_params = torch.where(_cast(momentum, params) > 0, new_params, plain)
        return new_params, RMSpropState(state.step + 1, square_avg, buf, grad_avg)

    return Optimizer(init, step, "rmsprop", _hyperparams(rmsprop, locals()))


def adam(
    lr: Hyper = 1e-3,
    betas: tuple[Hyper, Hyper] = (0.9, 0.999),
    eps: Hyper = 1e-8,
    weight_decay: Hyper = 0.0,
    amsgrad: bool = False,
    *,
    maximize: bool = False,
    decoupled_weight_decay: bool = False,
) -> Optimizer:
    """Adam, with bias correction (and AdamW's decoupled weight decay as an option).

    g <- grad + weight_decay * p  (decoupled: p <- p * (1 - lr * weight_decay) instead);
    m <- lerp(m, g, 1 - beta1);  v <- beta2 * v + (1 - beta2) * g * g;
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps),
    with v replaced by its running maximum under amsgrad.

    >>> opt = adam(lr=0.16, betas=(0.9, 0.999))
    """
    lr = _check("lr", lr, "learning rate", low=0.0)
    eps = _check("eps", eps, "epsilon value", low=0.0)
    betas = _check_betas(betas)
    beta1, beta2 = betas
    weight_decay = _check("weight_decay", weight_decay, "weight_decay value", low=0.0)
    _check_flags(amsgrad=amsgrad, maximize=maximize, decoupled_weight_decay=decoupled_weight_decay)
    hypers = dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps, weight_decay=weight_decay)
    decays = _any(weight_decay, lambda w: w != 0)
    # what torch computes in doubles from the hyperparameters alone, computed once
    one_minus_beta1, one_minus_beta2 = _double(lambda b: 1 - b, beta1), _double(lambda b: 1 - b, beta2)
    shrink = _double(lambda lr, wd: 1 - lr * wd, lr, weight_decay) if decays and decoupled_weight_decay else None

    def init(params: Tensor) -> AdamState:
        _check_params(params, hypers)
        zeros = partial(torch.zeros_like, params)
        return AdamState(0, zeros(), zeros(), zeros() if amsgrad else None)

    def step(params: Tensor, grad: Tensor, state: AdamState) -> tuple[Tensor, AdamState]:
        _check_grad(params, grad)
        t = state.step + 1
        grad = -grad if maximize else grad
        if decays and decoupled_weight_decay:
            params = _mul(params, shrink)
        elif decays:
            grad = _decay(grad, params, weight_decay)
        exp_avg = state.exp_avg.lerp(grad, _lerp_weight(beta1, one_minus_beta1, grad))
        exp_avg_sq = _addcmul(_mul(state.exp_avg_sq, beta2), grad, grad, one_minus_beta2, fresh=True)
        # torch computes the bias corrections in Python doubles on the step count
        step_size = _double(lambda lr, b1: lr / (1 - b1 ** float(t)), lr, beta1)
        correction2_sqrt = _double(lambda b2: (1 - b2 ** float(t)) ** 0.5, beta2)
        max_exp_avg_sq = state.max_exp_avg_sq
        if amsgrad:
            max_exp_avg_sq = torch.maximum(max_exp_avg_sq, exp_avg_sq)
        second = max_exp_avg_sq if amsgrad else exp_avg_sq
        denom = second.sqrt().div_(_cast(correction2_sqrt, params)).add_(_cast(eps, params))
        new_params = _addcdiv(params, exp_avg, denom, _double(lambda x: -x, step_size))
        return new_params, AdamState(t, exp_avg, exp_avg_sq, max_exp_avg_sq)

    name = "adamw" if decoupled_weight_decay else "adam"
    return Optimizer(init, step, name, _hyperparams(adam, locals()))


def adamw(
    lr: Hyper = 1e-3,
    betas: tuple[Hyper, Hyper] = (0.9, 0.999),
    eps: Hyper = 1e-8,
    weight_decay: Hyper = 1e-2,
    amsgrad: bool = False,
    *,
    maximize: bool = False,
) -> Optimizer:
    """AdamW: Adam with decoupled weight decay (weight_decay 1e-2 by default).

    p <- p * (1 - lr * weight_decay) before the moments, as torch.optim.AdamW.

    >>> opt = adamw(lr=1e-3, weight_decay=0.01)
    """
    return adam(
        lr, betas, eps, weight_decay, amsgrad, maximize=maximize, decoupled_weight_decay=True
    )


def adam_notes(
    lr: Hyper = 1e-3,
    betas: tuple[Hyper, Hyper] = (0.9, 0.999),
    eps: Hyper = 1e-8,
) -> Optimizer:
    """Adam with the course notes' mistaken bias correction, for comparison only.

    The moments are divided by 1 - beta1 and 1 - beta2 instead of 1 - beta1^t and
    1 - beta2^t: p <- p - lr * (m / (1 - beta1)) / (sqrt(v / (1 - beta2)) + eps).
    Step 1 agrees with Adam; the next few come out larger, and once beta^t has died away
    every step is sqrt(1 - beta2) / (1 - beta1) times Adam's (0.32 with the default betas).
    """
    lr = _check("lr", lr, "learning rate", low=0.0)
    eps = _check("eps", eps, "epsilon value", low=0.0)
    beta1, beta2 = _check_betas(betas)

    def init(params: Tensor) -> AdamState:
        _check_params(params, dict(lr=lr, beta1=beta1, beta2=beta2, eps=eps))
        return AdamState(0, torch.zeros_like(params), torch.zeros_like(params), None)

    def step(params: Tensor, grad: Tensor, state: AdamState) -> tuple[Tensor, AdamState]:
        _check_grad(params, grad)
        one_minus_b1 = _cast(_double(lambda b: 1 - b, beta1), params)
        one_minus_b2 = _cast(_double(lambda b: 1 - b, beta2), params)
        exp_avg = state.exp_avg.lerp(grad, one_minus_b1)
        exp_avg_sq = _addcmul(_mul(state.exp_avg_sq, beta2), grad, grad, _double(lambda b: 1 - b, beta2), fresh=True)
        denom = (exp_avg_sq / one_minus_b2).sqrt().add_(_cast(eps, params))
        new_params = params - _cast(lr, params) * (exp_avg / one_minus_b1) / denom
        return new_params, AdamState(state.step + 1, exp_avg, exp_avg_sq, None)

    return Optimizer(init, step, "adam_notes", _hyperparams(adam_notes, locals()))


# --- torch's ops, with a scalar or a tensor hyperparameter ---------------------------------
# A float goes straight into torch's scalar argument; a tensor takes the form of the op that
# accepts it and rounds the same way (checked bit for bit by the tests).


def _is_scalar(h: Hyper) -> bool:
    """A float, or torch.optim's 0-d tensor hyperparameter: not a sweep."""
    return isinstance(h, float) or (isinstance(h, Tensor) and h.ndim == 0)


def _cast(h: Hyper, like: Tensor) -> Hyper:
    return h if isinstance(h, float) else h.to(like.dtype)


def _add(a: Tensor, b: Tensor, s: Hyper, *, fresh: bool = False) -> Tensor:
    """a.add(b, alpha=s): one fused multiply-add. ``fresh``: a was made by this step, so it
    is updated in place (the same kernel, one allocation fewer)."""
    if _is_scalar(s):
        return a.add_(b, alpha=float(s)) if fresh else a.add(b, alpha=float(s))
    return a.addcmul_(b, _cast(s, a)) if fresh else torch.addcmul(a, b, _cast(s, a))


def _decay(grad: Tensor, params: Tensor, weight_decay: Hyper) -> Tensor:
    """grad + weight_decay * params, skipped when weight_decay is 0 as torch skips it."""
    return grad if _is_scalar(weight_decay) and weight_decay == 0 else _add(grad, params, weight_decay)


def _mul(a: Tensor, s: Hyper) -> Tensor:
    return a.mul(_cast(s, a))


def _addcmul(a: Tensor, b: Tensor, c: Tensor, s: Hyper, *, fresh: bool = False) -> Tensor:
    """a.addcmul(b, c, value=s), in place on a ``fresh`` a (see _add)."""
    if _is_scalar(s):
        return a.addcmul_(b, c, value=float(s)) if fresh else a.addcmul(b, c, value=float(s))
    return a.addcmul_(b * _cast(s, a), c) if fresh else torch.addcmul(a, b * _cast(s, a), c)


def _addcdiv(a: Tensor, b: Tensor, c: Tensor, s: Hyper) -> Tensor:
    """a.addcdiv(b, c, value=s)."""
    if _is_scalar(s):
        return a.addcdiv(b, c, value=float(s))
    return torch.addcdiv(a, b * _cast(s, a), c)


def _lerp_weight(beta: Hyper, one_minus_beta: Hyper, like: Tensor) -> Hyper:
    """1 - beta as Adam's lerp weight: torch moves a tensor beta to the params' dtype first."""
    if isinstance(beta, Tensor) and beta.ndim == 0:
        return float(1 - beta.to(like.dtype))
    return _cast(one_minus_beta, like)


def _double(fn: Callable[..., float], *hypers: Hyper) -> Hyper:
    """fn in Python double arithmetic, as torch.optim computes on float hyperparameters.

    On torch's 0-d tensor hyperparameters fn runs on the tensors themselves, as torch's does,
    and the result is the float torch passes on as a scalar argument. With sweep tensors fn
    runs once per distinct combination of values and the result is a float64 tensor of their
    broadcast shape.
    """
    if all(_is_scalar(h) for h in hypers):
        value = fn(*hypers)
        return float(value) if isinstance(value, Tensor) else value
    columns = torch.broadcast_tensors(*(torch.as_tensor(h, dtype=torch.float64) for h in hypers))
    table = torch.stack([c.reshape(-1) for c in columns], dim=1)
    distinct, inverse = torch.unique(table, dim=0, return_inverse=True)
    values = torch.tensor([fn(*row) for row in distinct.tolist()], dtype=torch.float64)
    return values[inverse].reshape(columns[0].shape)


# --- validation ------------------------------------------------------------------------------


def _check(
    name: str, value: Any, what: str, *, low: float | None = None, high: float | None = None
) -> Hyper:
    """A hyperparameter as a float or a tensor, or ValueError in torch's words.

    torch.optim's rule is ``low <= value`` (NaN fails); its message prints the value as given.
    Sweep tensors become float64; torch's 0-d tensors keep their dtype.
    """
    allowed = (
        f" ({name} must be in [{low:g}, {high:g}])" if high is not None
        else f" ({name} must be >= {low:g})" if low is not None else ""
    )
    upper = math.inf if high is None else high
    if isinstance(value, Tensor):
        if not (value.is_floating_point() or value.dtype in _INT_DTYPES) or value.is_complex():
            raise TypeError(f"{name} must be a float or a real tensor, got a {value.dtype} tensor")
        value = value.detach() if value.ndim == 0 else value.detach().to(torch.float64)
        if low is not None:
            bad = ~((value >= low) & (value <= upper))
            if bad.any():
                shown = value if value.ndim == 0 else f"{value[bad].flatten()[0].item():g}"
                where = "" if value.ndim == 0 else f" in tensor {name}"
                raise ValueError(f"Invalid {what}: {shown}{where}{allowed}")
        return value
    if isinstance(value, bool) or not isinstance(value, Real):
        raise TypeError(f"{name} must be a float or a tensor, got {type(value).__name__} {value!r}")
    if low is not None and not (low <= value <= upper):
        raise ValueError(f"Invalid {what}: {value}{allowed}")
    return float(value)


_INT_DTYPES = (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8)


def _check_betas(betas: Any) -> tuple[Hyper, Hyper]:
    if isinstance(betas, (str, bytes)) or not hasattr(betas, "__len__") or len(betas) != 2:
        raise TypeError(f"betas must be a pair (beta1, beta2), got {betas!r}")
    return tuple(  # type: ignore[return-value]
        _checked_beta(i, beta) for i, beta in enumerate(betas)
    )


def _checked_beta(index: int, beta: Any) -> Hyper:
    value = _check(f"betas[{index}]", beta, f"beta parameter at index {index}", low=0.0, high=1.0)
    if _any(value, lambda b: b == 1.0):
        raise ValueError(
            f"Invalid beta parameter at index {index}: {beta} (betas[{index}] must be in [0, 1))"
        )
    return value


def _check_flags(**flags: Any) -> None:
    for name, flag in flags.items():
        if not isinstance(flag, bool):
            raise TypeError(f"{name} must be True or False, got {flag!r}")


def _check_params(params: Any, hypers: dict[str, Hyper]) -> None:
    if not isinstance(params, Tensor):
        raise TypeError(f"params must be a torch.Tensor, got {type(params).__name__}")
    if not params.is_floating_point():
        raise TypeError(f"params must have a floating dtype, got {params.dtype}")
    for name, h in hypers.items():
        if isinstance(h, Tensor) and _broadcast(h.shape, params.shape) != params.shape:
            raise ValueError(
                f"tensor hyperparameter {name} of shape {tuple(h.shape)} does not broadcast "
                f"against params of shape {tuple(params.shape)}"
            )


def _broadcast(a: torch.Size, b: torch.Size) -> torch.Size | None:
    try:
        return torch.broadcast_shapes(a, b)
    except RuntimeError:
        return None


def _check_grad(params: Tensor, grad: Any) -> None:
    if not isinstance(grad, Tensor) or grad.shape != params.shape or grad.dtype != params.dtype:
        given = (
            f"{tuple(grad.shape)} {grad.dtype}" if isinstance(grad, Tensor) else type(grad).__name__
        )
        raise ValueError(
            f"grad must match params ({tuple(params.shape)} {params.dtype}), got {given}"
        )


def _any(h: Hyper, predicate: Callable[[Any], Any]) -> bool:
    return bool(predicate(h).any()) if isinstance(h, Tensor) else bool(predicate(h))


# --- names and labels ------------------------------------------------------------------------


def _hyperparams(factory: Callable[..., Optimizer], scope: dict[str, Any]) -> dict[str, Any]:
    return {name: scope[name] for name in inspect.signature(factory).parameters}
