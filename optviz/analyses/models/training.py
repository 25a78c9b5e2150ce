"""Training a model in minibatches, and the synthetic data and MLP of the course notes: what
the experiments and the landscape's trained paths share."""

from __future__ import annotations

from typing import Callable

import torch
from torch import Tensor, nn

from ...core.optimizers.foreign import needs_closure


def linear_data(n: int, d: int, generator: torch.Generator) -> tuple[Tensor, Tensor]:
    """y = 0.05 + sum_i 0.01 x_i + N(0, 0.01^2), x ~ N(0, 1)."""
    x = torch.randn(n, d, generator=generator)
    return x, 0.05 + 0.01 * x.sum(dim=1, keepdim=True) + 0.01 * torch.randn(n, 1, generator=generator)


def epoch(model: nn.Module, loss: Callable[[Tensor, Tensor], Tensor], x: Tensor, y: Tensor,
          optimizer: torch.optim.Optimizer, batch: int, generator: torch.Generator,
          on_step: Callable[[nn.Module], None] | None = None) -> None:
    """One epoch of minibatches of ``batch`` in an order drawn from ``generator``, each step
    through a closure for the optimizers that need one; ``on_step(model)`` after every step."""
    closure_needed = needs_closure(type(optimizer))
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
    for _ in range(epochs):
        epoch(model, loss, x, y, optimizer, batch, generator, on_step)
        tr, te = evaluate()
        train_curve.append(tr)
        test_curve.append(te)
    return train_curve, test_curve


def mlp_model(dropout: float = 0.0, seed: int = 0) -> nn.Sequential:
    """12 -> 64 -> 32 -> 1 with ReLU, and dropout after the first layer when p > 0."""
    torch.manual_seed(seed)
    layers: list[nn.Module] = [nn.Linear(12, 64), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    return nn.Sequential(*layers, nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))


MLP_TRAIN = 500  # the MLP's training examples
MLP_WEIGHTS = 12 * 64 + 64 + 64 * 32 + 32 + 32 + 1  # 2,945


def mlp_data(seed: int = 0, n_train: int = MLP_TRAIN, n_test: int = 100) -> tuple[Tensor, ...]:
    """Linear data in 12 features with noise (std 0.5): a 2,945-parameter MLP can overfit it."""
    g = torch.Generator().manual_seed(seed)
    true_w = torch.randn(12, 1, generator=g)
    x = torch.randn(n_train + n_test, 12, generator=g)
    y = x @ true_w + 0.5 + 0.5 * torch.randn(n_train + n_test, 1, generator=g)
    return x[:n_train], y[:n_train], x[n_train:], y[n_train:]
