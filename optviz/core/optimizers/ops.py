"""The two ways a rule's arithmetic runs: torch.optim's own ops, or plain arithmetic.

Every built-in rule is written once, on an ``xp`` argument that is one of these:

- ``EXACT`` (:class:`TorchOps`) calls the torch ops torch.optim calls, in its order, so a
  path equals torch.optim's single-tensor path (``foreach=False``) to the last bit:
  ``a.add(b, alpha=s)`` is one fused multiply-add, and ``addcmul``, ``addcdiv`` and
  ``lerp`` each round in their own way, so none may be rewritten as plain arithmetic.
  Hyperparameters are floats or tensors; torch's ops take a tensor where they take a
  scalar only in another form (``a.add(b, alpha=s)`` becomes ``torch.addcmul(a, b, s)``),
  and these forms round exactly like the scalar ones. The arithmetic torch does in Python
  doubles (bias corrections, decayed learning rates) is done in Python doubles here too,
  once per distinct value of a sweep. ``fresh=True`` says the first operand was made by
  this step, so it is updated in place (the same kernel, one allocation fewer).
- ``PLAIN`` (:class:`PlainOps`) writes the same steps as ``+ - * /`` on whole tensors, which
  torch.compile fuses into one loop (fast mode), or on the symbols the interactive page
  traces into JavaScript. Its rounding differs from torch's; in float64 its paths stay
  within 1e-12 of exact mode's where a run does not amplify rounding.
"""

from __future__ import annotations

from typing import Any, Callable

import torch
from torch import Tensor

Hyper = float | Tensor


def is_scalar(h: Any) -> bool:
    """A float, or torch.optim's 0-d tensor hyperparameter: not a sweep."""
    return isinstance(h, float) or (isinstance(h, Tensor) and h.ndim == 0)


def any_of(h: Hyper, predicate: Callable[[Any], Any]) -> bool:
    """Whether ``predicate`` holds for the hyperparameter, or anywhere in a sweep of it."""
    return bool(predicate(h).any()) if isinstance(h, Tensor) else bool(predicate(h))


def _cast(h: Hyper, like: Tensor) -> Hyper:
    return h if isinstance(h, float) else h.to(like.dtype)


def unique_rows(table: Tensor) -> tuple[Tensor, Tensor]:
    """``torch.unique(table, dim=0, return_inverse=True)`` for a 2D table, column by column:
    each row's rank among the distinct values of its columns so far, one 1D unique a column
    (unique over whole rows runs many times slower, and runs at every step of a sweep)."""
    code = torch.zeros(len(table), dtype=torch.int64)
    for column in table.T:
        values, rank = torch.unique(column, return_inverse=True)
        code = torch.unique(code * len(values) + rank, return_inverse=True)[1]  # kept below len(table)
    codes, inverse = torch.unique(code, return_inverse=True)
    first = torch.empty_like(codes).scatter_(0, inverse, torch.arange(len(table)))  # a row of each
    return table[first], inverse


class TorchOps:
    """torch.optim's ops, with a scalar or a tensor hyperparameter (see the module)."""

    @staticmethod
    def anywhere(h: Hyper, predicate: Callable[[Any], Any]) -> bool:
        return any_of(h, predicate)

    @staticmethod
    def varies(h: Hyper) -> bool:
        """Whether ``h`` is a sweep: one value per path."""
        return not is_scalar(h)

    @staticmethod
    def cast(h: Hyper, like: Tensor) -> Hyper:
        return _cast(h, like)

    @staticmethod
    def double(fn: Callable[..., float], *hypers: Hyper) -> Hyper:
        """fn in Python double arithmetic, as torch.optim computes on float hyperparameters.

        On torch's 0-d tensor hyperparameters fn runs on the tensors themselves, as torch's
        does, and the result is the float torch passes on as a scalar argument. With sweep
        tensors fn runs once per distinct combination of values and the result is a float64
        tensor of their broadcast shape.
        """
        if all(is_scalar(h) for h in hypers):
            value = fn(*hypers)
            return float(value) if isinstance(value, Tensor) else value
        columns = torch.broadcast_tensors(*(torch.as_tensor(h, dtype=torch.float64) for h in hypers))
        table = torch.stack([c.reshape(-1) for c in columns], dim=1)
        distinct, inverse = unique_rows(table)
        values = torch.tensor([fn(*row) for row in distinct.tolist()], dtype=torch.float64)
        return values[inverse].reshape(columns[0].shape)

    @staticmethod
    def add(a: Tensor, b: Tensor, s: Hyper, *, fresh: bool = False) -> Tensor:
        """a.add(b, alpha=s): one fused multiply-add."""
        if is_scalar(s):
            return a.add_(b, alpha=float(s)) if fresh else a.add(b, alpha=float(s))
        return a.addcmul_(b, _cast(s, a)) if fresh else torch.addcmul(a, b, _cast(s, a))

    @staticmethod
    def mul(a: Tensor, s: Hyper) -> Tensor:
        return a.mul(_cast(s, a))

    @staticmethod
    def addcmul(a: Tensor, b: Tensor, c: Tensor, s: Hyper, *, fresh: bool = False) -> Tensor:
        """a.addcmul(b, c, value=s)."""
        if is_scalar(s):
            return a.addcmul_(b, c, value=float(s)) if fresh else a.addcmul(b, c, value=float(s))
        return a.addcmul_(b * _cast(s, a), c) if fresh else torch.addcmul(a, b * _cast(s, a), c)

    @staticmethod
    def addcdiv(a: Tensor, b: Tensor, c: Tensor, s: Hyper, *, fresh: bool = False) -> Tensor:
        """a.addcdiv(b, c, value=s)."""
        if is_scalar(s):
            return a.addcdiv_(b, c, value=float(s)) if fresh else a.addcdiv(b, c, value=float(s))
        return a.addcdiv_(b * _cast(s, a), c) if fresh else torch.addcdiv(a, b * _cast(s, a), c)

    @staticmethod
    def lerp(a: Tensor, b: Tensor, w: Hyper) -> Tensor:
        """a.lerp(b, w): a moved a share w of the way to b."""
        return a.lerp(b, _cast(w, b))

    @staticmethod
    def lerp_weight(beta: Hyper, one_minus_beta: Hyper, like: Tensor) -> Hyper:
        """1 - beta as Adam's lerp weight: torch moves a 0-d tensor beta to the params' dtype
        before it subtracts."""
        if isinstance(beta, Tensor) and beta.ndim == 0:
            return float(1 - beta.to(like.dtype))
        return one_minus_beta

    @staticmethod
    def plus(a: Tensor, s: Hyper) -> Tensor:
        """a + s, in place on a fresh a."""
        return a.add_(_cast(s, a))

    @staticmethod
    def over(a: Tensor, s: Hyper) -> Tensor:
        """a / s, in place on a fresh a."""
        return a.div_(_cast(s, a))

    @staticmethod
    def clone(a: Tensor) -> Tensor:
        return a.clone()


class PlainOps:
    """The same steps as plain arithmetic, for torch.compile and for the page's tracer."""

    @staticmethod
    def anywhere(h: Any, predicate: Callable[[Any], Any]) -> bool:
        # a traced symbol (a slider of the page) may take any value: keep its branch
        return any_of(h, predicate) if isinstance(h, (float, Tensor)) else True

    @staticmethod
    def varies(h: Any) -> bool:
        return not isinstance(h, float)

    @staticmethod
    def cast(h: Any, like: Any) -> Any:
        return h  # fast mode hands over hyperparameters in the run's dtype already

    @staticmethod
    def double(fn: Callable[..., Any], *hypers: Any) -> Any:
        return fn(*hypers)

    @staticmethod
    def add(a: Any, b: Any, s: Any, *, fresh: bool = False) -> Any:
        return a + s * b

    @staticmethod
    def mul(a: Any, s: Any) -> Any:
        return a * s

    @staticmethod
    def addcmul(a: Any, b: Any, c: Any, s: Any, *, fresh: bool = False) -> Any:
        return a + s * b * c

    @staticmethod
    def addcdiv(a: Any, b: Any, c: Any, s: Any, *, fresh: bool = False) -> Any:
        return a + s * b / c

    @staticmethod
    def lerp(a: Any, b: Any, w: Any) -> Any:
        return a + w * (b - a)

    @staticmethod
    def lerp_weight(beta: Any, one_minus_beta: Any, like: Any) -> Any:
        return one_minus_beta

    @staticmethod
    def plus(a: Any, s: Any) -> Any:
        return a + s

    @staticmethod
    def over(a: Any, s: Any) -> Any:
        return a / s

    @staticmethod
    def clone(a: Any) -> Any:
        return a


EXACT, PLAIN = TorchOps(), PlainOps()
