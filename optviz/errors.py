"""The one error class every layer may raise for input it cannot honour."""


class BadInput(ValueError):
    """Input found wrong after parsing (too big for the memory budget, nothing to draw):
    the command line reports it as bad input, one line and exit 2."""
