"""Regularization on real models, trained with optviz.optim on synthetic data from a fixed seed.

- ``linear_regression``: y = 0.05 + sum_i 0.01 x_i + noise(0.01) with d = 200 inputs and only
  20 training examples: without weight decay the model fits the noise (train loss falls,
  test loss stays high, ||w|| stays large); with lambda = 3 it generalises.
- ``mlp``: 12 -> 64 -> 32 -> 1 (ReLU) on linear data, Adam, with weight decay, without, and
  with dropout after the first layer.

Each returns Curves: train and test loss per epoch for every variant, and its final numbers.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable

import torch
from torch import Tensor, nn

from . import optim
from .files import write_table
from .torch_optimizers import needs_closure


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


def linear_data(n: int, d: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """y = 0.05 + sum_i 0.01 x_i + N(0, 0.01^2), x ~ N(0, 1)."""
    x = torch.randn(n, d, generator=generator)
    return x, 0.05 + 0.01 * x.sum(dim=1, keepdim=True) + 0.01 * torch.randn(n, 1, generator=generator)


def train(model: nn.Module, optimizer: torch.optim.Optimizer, data: tuple[Tensor, ...], *, batch: int,
          epochs: int, generator: torch.Generator,
          on_step: Callable[[nn.Module], None] | None = None) -> tuple[list[float], list[float]]:
    """Minibatch MSE training; train and test loss over the full sets after every epoch."""
    x, y, x_test, y_test = data
    loss = nn.functional.mse_loss

    def evaluate() -> tuple[float, float]:
        model.eval()
        with torch.no_grad():
            result = loss(model(x), y).item(), loss(model(x_test), y_test).item()
        model.train()
        return result

    train_curve, test_curve = map(list, zip(evaluate()))
    closure_needed = needs_closure(type(optimizer))
    for _ in range(epochs):
        order = torch.randperm(len(x), generator=generator)
        for i in range(0, len(x), batch):
            idx = order[i : i + batch]

            def batch_loss(idx: Tensor = idx) -> Tensor:
                optimizer.zero_grad()
                value = loss(model(x[idx]), y[idx])
                value.backward()
                return value

            if closure_needed:  # LBFGS evaluates the batch's loss as often as it needs
                optimizer.step(batch_loss)
            else:
                batch_loss()
                optimizer.step()
            if on_step is not None:
                on_step(model)
        tr, te = evaluate()
        train_curve.append(tr)
        test_curve.append(te)
    return train_curve, test_curve


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


def mlp_model(dropout: float = 0.0, seed: int = 0) -> nn.Sequential:
    """12 -> 64 -> 32 -> 1 with ReLU, and dropout after the first layer when p > 0."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Linear(12, 64), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))


def mlp_data(seed: int = 0, n_train: int = 500, n_test: int = 100) -> tuple[Tensor, ...]:
    """Linear data in 12 features with noise (std 0.5): a 2,945-parameter MLP can overfit it."""
    g = torch.Generator().manual_seed(seed)
    true_w = torch.randn(12, 1, generator=g)
    x = torch.randn(n_train + n_test, 12, generator=g)
    y = x @ true_w + 0.5 + 0.5 * torch.randn(n_train + n_test, 1, generator=g)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]


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


EXPERIMENTS: dict[str, Callable[..., Curves]] = {"linear_regression": linear_regression, "mlp": mlp}


def _check_positive(**values: int) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
