"""Each start's own random generators: torch's, numpy's and Python's global ones, swapped in
around its optimizer's construction and steps, so that a random optimizer's path from one
start never depends on the others, and the caller's generators are left as they were."""

from __future__ import annotations

import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import torch


@contextmanager
def isolated_random() -> Iterator[None]:
    """Torch's, numpy's and Python's global random generators as they were, after the block."""
    saved = torch.get_rng_state(), np.random.get_state(), random.getstate()
    try:
        yield
    finally:
        torch.set_rng_state(saved[0])
        np.random.set_state(saved[1])
        random.setstate(saved[2])


class Generators:
    """One start's own random generators: torch's global one, and numpy's and Python's where
    the optimizer's code can reach them (see ``foreign.draws_from``), as ``torch.manual_seed(seed)``,
    ``numpy.random.seed(seed)`` and ``random.seed(seed)`` leave them. ``with generators:``
    exchanges them with the global ones and back, so the block draws from them, they keep
    where it got to, and the caller's are as they were."""

    def __init__(self, seed: int, numpy: bool = True, python: bool = True) -> None:
        self.numpy, self.python = numpy, python
        # torch's global generator after torch.manual_seed(seed) is a fresh one seeded so
        self.states = (torch.Generator().manual_seed(seed).get_state(),
                       np.random.RandomState(seed % 2**32).get_state() if numpy else None,
                       random.Random(seed).getstate() if python else None)

    def _global(self) -> tuple[Any, Any, Any]:
        return (torch.get_rng_state(), np.random.get_state() if self.numpy else None,
                random.getstate() if self.python else None)

    def _exchange(self) -> None:
        held, self.states = self.states, self._global()
        torch.set_rng_state(held[0])
        if self.numpy:
            np.random.set_state(held[1])
        if self.python:
            random.setstate(held[2])

    def __enter__(self) -> "Generators":
        self._exchange()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._exchange()
