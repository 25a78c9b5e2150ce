"""optviz.optim: torch.optim.Optimizer classes on optviz's step functions, one for each built-in
that trains models (``optviz.optim.SGD``, ``Adam``, ...; see optviz.core.optimizers.drop_in).
They are found in the built-ins' blocks, as the registry finds the built-ins."""

from .registry import BUILT_INS

_CLASSES = {entry.optim_class.__name__: entry.optim_class for entry in BUILT_INS.values() if entry.optim_class}
globals().update(_CLASSES)
__all__ = sorted(_CLASSES)
