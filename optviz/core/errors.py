"""The error class every layer may raise for input it cannot honour, and the warnings the command line
prints as one line."""


class BadInput(ValueError):
    """Input found wrong after parsing (too big for the memory budget, nothing to draw):
    the command line reports it as bad input, one line and exit 2."""


class FastModeWarning(UserWarning):
    """Fast mode (optviz.fast) could not run, and exact mode ran instead."""


class StateWarning(UserWarning):
    """The optimizer's state was asked for where an optimizer keeps none optviz can draw."""
