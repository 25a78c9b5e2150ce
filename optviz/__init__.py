"""optviz: see how optimizers move.

Pure optimizer step functions equal bit for bit to torch.optim, a zoo of test functions,
batched simulation, and renders of the paths.
"""

from .functions import FUNCTIONS, Minimum, TestFunction, get_function
from .optimizers import (
    OPTIMIZERS,
    AdagradState,
    AdamState,
    Optimizer,
    RMSpropState,
    SGDState,
    adagrad,
    adam,
    adamw,
    get_optimizer,
    momentum,
    nesterov,
    rmsprop,
    sgd,
)
from .simulate import Result, simulate

__version__ = "0.1.0"

__all__ = [
    "FUNCTIONS", "OPTIMIZERS", "AdagradState", "AdamState", "Minimum", "Optimizer",
    "RMSpropState", "Result", "SGDState", "TestFunction", "adagrad", "adam", "adamw",
    "get_function", "get_optimizer", "momentum", "nesterov", "rmsprop", "sgd", "simulate",
]
