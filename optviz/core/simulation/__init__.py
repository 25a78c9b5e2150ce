"""Runs of optimizers on test functions, exact or compiled, and their results as data."""
