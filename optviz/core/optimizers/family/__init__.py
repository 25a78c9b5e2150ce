"""optviz's own optimizers, one block each: every module of this folder is a block, holding an
optimizer's factory, its rule, its state, its drop-in torch.optim class and its entries.

Adding an optimizer is adding a block here: it is found, registered, listed, checked,
exported as ``optviz.<name>`` and run by fast mode and the page with no other code to edit
(see ARCHITECTURE.md for the recipe). This package's namespace is every block's public names
(``optviz.optimizers``).
"""

import importlib
import pkgutil

from ..base import Optimizer  # noqa: F401 - optviz.optimizers.Optimizer

BLOCKS = tuple(importlib.import_module(f"{__name__}.{module.name}") for module in pkgutil.iter_modules(__path__))
ENTRIES = tuple(sorted((entry for block in BLOCKS for entry in block.ENTRIES), key=lambda entry: entry.colour))

globals().update({name: getattr(block, name) for block in BLOCKS for name in block.__all__})
__all__ = sorted(["Optimizer", *(name for block in BLOCKS for name in block.__all__)])
