"""The bottom floor: the math and every vocabulary. Test functions, optimizers as pure step
functions, simulations and their results as data; it knows nothing of drawing or files of
scenarios."""

__version__ = "0.2.0"
