"""Regularization on real models, trained with optviz.optim on synthetic data from a fixed seed.

- ``linear_regression``: y = 0.05 + sum_i 0.01 x_i + noise(0.01) with d = 200 inputs and only
  20 training examples: without weight decay the model fits the noise (train loss falls,
  test loss stays high, ||w|| stays large); with lambda = 3 it generalises.
- ``mlp``: 12 -> 64 -> 32 -> 1 (ReLU) on linear data, Adam, with weight decay, without, and
  with dropout after the first layer.

Each returns Curves: train and test loss per epoch for every variant, and its final numbers.
``edge_of_stability`` (optviz.analyses.models.stability) trains a small network full-batch
with its sharpness measured along the way, and returns an EdgeOfStability.
:func:`check_settings` holds a scenario file's ``[settings]`` for these (and for
optviz.landscape) to the ceilings below, before anything is trained.
"""

from __future__ import annotations

import inspect
import math
import re
from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import nn

from ...core.files import write_table
from ...core.limits import (MAX_CHUNK, MAX_DATA_VALUES, MAX_DECAY, MAX_EPOCHS, MAX_EXAMPLES, MAX_FILE_GRID_WORK,
                            MAX_INPUTS, MAX_LANDSCAPE_RESOLUTION, MAX_LINE, MAX_LR, MAX_PATH_POINTS, MAX_SEED,
                            MAX_SHARPNESS_PRODUCTS, MAX_TRAINING_STEPS, MAX_VARIANTS, MAX_WORK, WorkError, check_work)
from ...core.names import cut, quoted
from ...core.optimizers import optim
from .landscapes import DEFAULT_OPTIMIZERS, LandscapeError, landscape, span_box
from .stability import INPUTS, EdgeOfStability, edge_of_stability
from .training import MLP_TRAIN, MLP_WEIGHTS, epoch, linear_data, mlp_data, mlp_model, train

# the experiments, their settings' checks, and the training and data they are made of
__all__ = ["EXPERIMENTS", "MLP_VARIANTS", "Curves", "EdgeOfStability", "SettingError", "check_settings",
           "edge_of_stability", "epoch", "linear_data", "linear_regression", "mlp", "mlp_data", "mlp_model", "train"]



@dataclass(frozen=True)
class Curves:
    """Train and test loss per epoch (epoch 0 = before training) for each variant."""

    title: str
    train: dict[str, list[float]]
    test: dict[str, list[float]]
    numbers: dict[str, dict[str, float]] = field(default_factory=dict)

    def save(self, path: Any) -> Any:
        """Train and test loss per variant and epoch, as .csv, .json or .npz by the suffix."""
        names = [name for name in self.train for _ in self.train[name]]
        columns = {
            "variant": names,
            "epoch": [epoch for name in self.train for epoch in range(len(self.train[name]))],
            "train": [v for name in self.train for v in self.train[name]],
            "test": [v for name in self.test for v in self.test[name]],
        }
        return write_table(path, columns, {"kind": "optviz.Curves", "title": self.title, "numbers": self.numbers})

    def summary(self) -> str:
        lines = []
        for name, values in self.numbers.items():
            lines.append(f"{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in values.items()))
        return "\n".join(lines)

def linear_regression(lambdas: tuple[float, ...] = (0.0, 3.0), *, d: int = 200, n_train: int = 20,
                      n_test: int = 100, batch: int = 5, epochs: int = 100, lr: float = 0.003,
                      seed: int = 0) -> Curves:
    """SEEDS.md section 4: weight decay on the weight only (the bias is not decayed)."""
    _check_positive(d=d, n_train=n_train, n_test=n_test, batch=batch, epochs=epochs)
    train_curves, test_curves, numbers = {}, {}, {}
    for lam in lambdas:
        g = torch.Generator().manual_seed(seed)
        data = (*linear_data(n_train, d, g), *linear_data(n_test, d, g))
        torch.manual_seed(seed)
        model = nn.Linear(d, 1)
        nn.init.normal_(model.weight)
        nn.init.zeros_(model.bias)
        groups = [{"params": [model.weight], "weight_decay": lam}, {"params": [model.bias], "weight_decay": 0.0}]
        name = f"λ = {lam:g}"
        train_curves[name], test_curves[name] = train(
            model, optim.SGD(groups, lr=lr), data, batch=batch, epochs=epochs, generator=g
        )
        numbers[name] = {"‖w‖": model.weight.norm().item(), "train": train_curves[name][-1],
                         "test": test_curves[name][-1]}
    return Curves(f"Linear regression, d = {d}, {n_train} training examples", train_curves, test_curves, numbers)



MLP_VARIANTS: dict[str, dict[str, Any]] = {
    "weight_decay 0.01": {"weight_decay": 0.01},
    "no regularization": {},
    "dropout 0.3": {"dropout": 0.3},
}


def mlp(variants: dict[str, dict[str, Any]] | None = None, *, epochs: int = 20, batch: int = 32,
        lr: float = 0.005, seed: int = 0) -> Curves:
    """SEEDS.md section 4's MLP, trained with optviz.optim.Adam from the same initial weights."""
    _check_positive(epochs=epochs, batch=batch)
    variants = MLP_VARIANTS if variants is None else variants
    data = mlp_data(seed)
    train_curves, test_curves, numbers = {}, {}, {}
    for name, options in variants.items():
        unknown = set(options) - {"weight_decay", "dropout"}
        if unknown:
            raise ValueError(f"mlp variant {name!r}: unknown option(s) {sorted(unknown)} (allowed: weight_decay, dropout)")
        model = mlp_model(options.get("dropout", 0.0), seed)
        opt = optim.Adam(model.parameters(), lr=lr, weight_decay=options.get("weight_decay", 0.0))
        g = torch.Generator().manual_seed(seed)
        torch.manual_seed(seed)  # the same dropout masks for every rerun
        train_curves[name], test_curves[name] = train(model, opt, data, batch=batch, epochs=epochs, generator=g)
        numbers[name] = {"train": train_curves[name][-1], "test": test_curves[name][-1],
                         "gap": test_curves[name][-1] - train_curves[name][-1]}
    return Curves("MLP 12-64-32-1, Adam lr 0.005", train_curves, test_curves, numbers)


EXPERIMENTS: dict[str, Callable[..., Curves | EdgeOfStability]] = {
    "linear_regression": linear_regression, "mlp": mlp, "edge_of_stability": edge_of_stability}


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")


# --- a scenario file's [settings] ------------------------------------------------------------
# A file from elsewhere must not start a run of days or gigabytes: its settings stay under
# these ceilings, generous for any lecture. Python callers of the functions are not limited.


class SettingError(ValueError):
    """A [settings] value a scenario file may not ask for; ``key`` names it."""

    def __init__(self, key: str, reason: str) -> None:
        super().__init__(f"{key}: {reason}")
        self.key, self.reason = key, reason


def check_settings(experiment: str, settings: dict[str, Any]) -> None:
    """Refuse settings of ``experiment`` (one of EXPERIMENTS, or "landscape") outside
    the ceilings above, or that only Python can give (a model, a save folder), naming the key."""
    checks = _landscape_checks() if experiment == "landscape" else _CHECKS[experiment]
    for key, value in settings.items():
        if key not in checks:
            raise SettingError(key, "cannot come from a scenario file; pass it from Python")
        checks[key](key, value)
    values = {**_defaults(experiment), **settings}
    if experiment == "linear_regression":
        for n in ("n_train", "n_test"):
            _at_most(n, values[n] * values["d"], MAX_DATA_VALUES, f"{n} x d = ", "values of data")
        _cost(values, len(values["lambdas"]), values["n_train"], values["d"] + 1, "lambdas")
    elif experiment == "mlp":
        _cost(values, len(values["variants"] or MLP_VARIANTS), MLP_TRAIN, MLP_WEIGHTS, "variants")
    elif experiment == "edge_of_stability":
        _stability_cost(values)
    else:
        # each step's weights are kept for the picture: fewer steps than a training run may take
        _cost(values, len(values["optimizers"] or DEFAULT_OPTIMIZERS), MLP_TRAIN, MLP_WEIGHTS, "optimizers",
              max_steps=MAX_PATH_POINTS)
        _grid(values)


def _stability_cost(values: dict[str, Any]) -> None:
    """Refuse an edge-of-stability run with no learning rate, or of too many steps or too much
    arithmetic: each step one gradient and, every ``every`` steps, ``products`` Hessian-vector
    products, each about three passes over the examples."""
    runs = len(values["gd_lrs"]) + len(values["adam_lrs"])
    if not runs:
        raise SettingError("gd_lrs", "give at least one learning rate in gd_lrs or adam_lrs")
    steps, weights = values["steps"], (INPUTS + 2) * values["width"] + 1
    _at_most("steps", runs * steps, MAX_TRAINING_STEPS, f"{runs} runs x {steps} steps = ", "optimizer steps")
    passes = steps * (1 + 3 * values["products"] / values["every"])
    how = f"{runs} runs x {passes:,.0f} passes x {values['examples']} examples x {weights} weights = "
    _at_most("steps", math.ceil(runs * passes * values["examples"] * weights), MAX_WORK, how, "multiply-adds")


def _grid(values: dict[str, Any]) -> None:
    """Refuse a landscape whose grid (and line) would take more than MAX_FILE_GRID_WORK
    multiply-adds, one forward pass of the MLP per example and point, unless OPTVIZ_ALLOW_LARGE=1."""
    grid, seen = values["resolution"] ** 2 + values["line"], min(values["examples"] or MLP_TRAIN, MLP_TRAIN)
    try:
        check_work(grid * seen * MLP_WEIGHTS, MAX_FILE_GRID_WORK, "multiply-adds",
                   f"{grid:,} grid points x {seen:,} examples x {MLP_WEIGHTS:,} weights = ")
    except WorkError as error:
        raise SettingError("resolution", str(error)) from None


def _defaults(experiment: str) -> dict[str, Any]:
    fn = landscape if experiment == "landscape" else EXPERIMENTS[experiment]
    return {k: p.default for k, p in inspect.signature(fn).parameters.items()}


def _cost(values: dict[str, Any], variants: int, examples: int, weights: int, what: str, *,
          max_steps: int = MAX_TRAINING_STEPS) -> None:
    """Refuse a run of too many optimizer steps or too much arithmetic, before it starts."""
    epochs, per_epoch = values["epochs"], -(-examples // values["batch"])
    _at_most("epochs", variants * epochs * per_epoch, max_steps,
             f"{variants} {what} x {epochs} epochs x {per_epoch} steps = ", "optimizer steps")
    _at_most("epochs", variants * epochs * examples * weights, MAX_WORK,
             f"{variants} {what} x {epochs} epochs x {examples} examples x {weights} weights = ", "multiply-adds")


def _at_most(key: str, value: int, limit: int, how: str, what: str) -> None:
    if value > limit:
        raise SettingError(key, f"{how}{value:,} {what}, more than the {limit:,} allowed")


def _whole(low: int, high: int) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise SettingError(key, f"must be a whole number between {low} and {high}, got {quoted(value)}")
    return check


def _number(low: float, high: float, *, below_high: bool = False) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        ok = _is_number(value) and low <= value and (value < high if below_high else value <= high)
        if not ok:
            top = f"below {high:g}" if below_high else f"{high:g}"
            raise SettingError(key, f"must be a number from {low:g} to {top}, got {quoted(value)}")
    return check


def _choice(*allowed: Any) -> Callable[[str, Any], None]:
    def check(key: str, value: Any) -> None:
        # bool is an int: true must not pass for 1
        if not any(value == a and type(value) is type(a) for a in allowed):
            raise SettingError(key, f"must be one of {', '.join(map(repr, allowed))}, got {quoted(value)}")
    return check


def _count(key: str, value: Any, what: str) -> None:
    if not 1 <= len(value) <= MAX_VARIANTS:
        raise SettingError(key, f"give 1 to {MAX_VARIANTS} {what}, got {len(value)}")


def _lambdas(key: str, value: Any) -> None:
    if not isinstance(value, tuple):
        raise SettingError(key, f"expected a list of numbers like [0, 3], got {quoted(value)}")
    _count(key, value, "lambdas")
    for i, lam in enumerate(value):
        _number(0, MAX_DECAY)(f"{key}[{i}]", lam)


def _variants(key: str, value: Any) -> None:
    if not isinstance(value, dict):
        raise SettingError(key, f'expected a table like {{"no decay" = {{}}, "decay" = {{weight_decay = 0.01}}}}, '
                                f"got {quoted(value)}")
    _count(key, value, "variants")
    options = {"weight_decay": _number(0, MAX_DECAY), "dropout": _number(0, 1, below_high=True)}
    for name, variant in value.items():
        where = f"{key}.{cut(name, 40)}"
        if not isinstance(variant, dict):
            raise SettingError(where, f"expected a table of weight_decay and dropout, got {quoted(variant)}")
        for option, number in variant.items():
            if option not in options:
                raise SettingError(f"{where}.{cut(option, 40)}", "unknown option (allowed: weight_decay, dropout)")
            options[option](f"{where}.{option}", number)


def _lrs(key: str, value: Any) -> None:
    if not isinstance(value, tuple):
        raise SettingError(key, f"expected a list of learning rates like [0.25, 0.5], got {quoted(value)}")
    if len(value) > MAX_VARIANTS:
        raise SettingError(key, f"give at most {MAX_VARIANTS} learning rates, got {len(value)}")
    for i, lr in enumerate(value):
        _number(0, MAX_LR)(f"{key}[{i}]", lr)
        if lr == 0:
            raise SettingError(f"{key}[{i}]", "must be above 0: a run at lr 0 does not move, and 2/lr is infinite")


def _optimizers(key: str, value: Any) -> None:
    # each entry's name and hyperparameters are checked by optviz.registry, in optviz.scenario
    if not isinstance(value, tuple):
        raise SettingError(key, f'expected a list of ["name", {{hyperparameters}}] pairs, got {quoted(value)}')
    _count(key, value, "optimizers")


def _span(key: str, value: Any) -> None:
    try:
        span_box(value)  # landscape's own rule
    except LandscapeError:
        raise SettingError(key, f"must be a positive number s (for -s..s) or [a0, a1, b0, b1] with a0 < a1 and "
                                f"b0 < b1, within 1e6, got {quoted(value)}") from None


def _line(key: str, value: Any) -> None:
    if not (type(value) is int and value == 0):  # 0: no line; else its number of points
        _whole(3, MAX_LINE)(key, value)


def _flag(key: str, value: Any) -> None:
    if not isinstance(value, bool):
        raise SettingError(key, f"must be true or false, got {quoted(value)}")


def _device(key: str, value: Any) -> None:
    if not (isinstance(value, str) and re.fullmatch(r"cpu|cuda(:\d{1,3})?", value, re.ASCII)):
        raise SettingError(key, f"must be 'cpu', 'cuda' or 'cuda:N', got {quoted(value)}")


_COMMON = {"epochs": _whole(1, MAX_EPOCHS), "batch": _whole(1, MAX_EXAMPLES), "seed": _whole(0, MAX_SEED)}
_CHECKS: dict[str, dict[str, Callable[[str, Any], None]]] = {
    "linear_regression": {**_COMMON, "lambdas": _lambdas, "d": _whole(1, MAX_INPUTS),
                          "n_train": _whole(1, MAX_EXAMPLES), "n_test": _whole(1, MAX_EXAMPLES),
                          "lr": _number(0, MAX_LR)},
    "mlp": {**_COMMON, "variants": _variants, "lr": _number(0, MAX_LR)},
    "edge_of_stability": {"gd_lrs": _lrs, "adam_lrs": _lrs, "steps": _whole(1, MAX_EPOCHS),
                          "every": _whole(1, MAX_EPOCHS), "products": _whole(1, MAX_SHARPNESS_PRODUCTS),
                          "examples": _whole(1, MAX_EXAMPLES), "width": _whole(1, MAX_INPUTS),
                          "seed": _whole(0, MAX_SEED)},
}


def _landscape_checks() -> dict[str, Callable[[str, Any], None]]:
    """Landscape's settings against its own ranges (model, data, checkpoints and save folders
    are Python's to give: a file must not name what to read or where to write)."""
    return {**_COMMON, "optimizers": _optimizers, "directions": _choice("pca", "random"),
            "resolution": _whole(3, MAX_LANDSCAPE_RESOLUTION), "span": _span, "examples": _whole(1, MAX_EXAMPLES),
            "batch_size": _whole(1, MAX_EXAMPLES), "biases": _flag, "chunk": _whole(1, MAX_CHUNK),
            "line": _line, "device": _device}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and (
        isinstance(value, int) or math.isfinite(value))


