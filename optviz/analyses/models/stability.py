"""The edge of stability: full-batch training with the sharpness measured along the way.

Gradient descent is stable along a direction of the loss only while lr times its curvature
stays under 2. Trained full-batch, a network's sharpness (the top eigenvalue of the training
loss's Hessian) first rises, then reaches 2/lr and hovers there, while the loss keeps
falling, not monotonically. Adam does the same with its preconditioned sharpness, the top
eigenvalue of P⁻¹H with P = diag(√(v_t / (1 - β₂ᵗ)) + ε) its own preconditioner, against
(2 + 2β₁) / ((1 - β₁) lr): 38/lr for β₁ = 0.9.

- :func:`sharpness_steps`: trains a model in place, full batch, and yields each step's
  loss and, every few steps, its (preconditioned) sharpness.
- :func:`edge_of_stability`: the experiment. A tanh MLP 5 → 32 → 1 regresses a fixed smooth
  target on 200 seeded points (MSE, float64) with gradient descent (optviz.optim.SGD) at
  three learning rates and with Adam (optviz.optim.Adam, β₁ = 0.9) at three, all from the
  same initial weights.

The sharpness is found by Lanczos on Hessian-vector products (double backward, the
gradient's graph kept for all the products of one measurement), started from the top Ritz
vectors of the previous measurement and a random vector: the top directions move little
between measurements, so a dozen products find the top eigenvalue again (the first
measurement takes up to :data:`FIRST_PRODUCTS`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Callable, Iterator, NamedTuple

import torch
from torch import Tensor, nn

from ...core.files import write_table
from ...core.optimizers import optim
from .hessian import lanczos, tridiagonal

__all__ = ["ADAM_LRS", "EdgeOfStability", "GD_LRS", "SharpnessRun", "Step", "edge_of_stability",
           "preconditioner", "sharpness_steps", "stability_data", "stability_model", "stable_limit"]

GD_LRS = (0.28, 0.32, 0.36)  # 2/lr = 7.1, 6.25, 5.6 against a starting sharpness of 5.4
ADAM_LRS = (0.02, 0.03, 0.05)  # 38/lr = 1900, 1267, 760
FIRST_PRODUCTS = 30  # products of the first measurement, from a seeded random start
PRODUCTS = 12  # products of each measurement after it: within 1e-6 of the dense Hessian's top eigenvalue here
INPUTS, WIDTH = 5, 32


class Step(NamedTuple):
    """One step of full-batch training: the loss at the step's weights (before its update)
    and, where it was measured, the (preconditioned) sharpness there; else None."""

    step: int
    loss: float
    sharpness: float | None


@dataclass(frozen=True)
class SharpnessRun:
    """One optimizer's run: the loss at every step 0..steps, the sharpness at ``measured``
    steps, and the sharpness above which its step is unstable (``threshold``)."""

    name: str
    optimizer: str  # "sgd" or "adam"
    lr: float
    threshold: float
    loss: tuple[float, ...]
    measured: tuple[int, ...]
    sharpness: tuple[float, ...]

    def crossing(self) -> int | None:
        """The first measured step whose sharpness reached the threshold."""
        return next((t for t, s in zip(self.measured, self.sharpness) if s >= self.threshold), None)

    def last(self, share: float = 0.25) -> tuple[float, ...]:
        """The sharpness measured in the last ``share`` of the steps."""
        start = len(self.loss) - 1 - share * (len(self.loss) - 1)
        return tuple(s for t, s in zip(self.measured, self.sharpness) if t >= start)

    def rises(self, after: int) -> int:
        """How many steps from step ``after`` on the loss went up: its fall is not monotonic."""
        return sum(b > a for a, b in zip(self.loss[after:], self.loss[after + 1:]))

    def numbers(self) -> dict[str, float]:
        """Its threshold, first sharpness and final loss; the mean, lowest and highest sharpness
        of the last quarter (where it was measured there); and where the sharpness reached the
        threshold, that step, the loss there and how many steps from there on the loss rose."""
        crossed = self.crossing()
        late = self.last()
        numbers = {"threshold": self.threshold, "final loss": self.loss[-1]}
        if self.sharpness:
            numbers["start sharpness"] = self.sharpness[0]
        if late:
            numbers.update({"late mean": sum(late) / len(late), "late low": min(late), "late high": max(late)})
        if crossed is not None:
            numbers.update({"crossing step": float(crossed), "loss at crossing": self.loss[crossed],
                            "rises after crossing": float(self.rises(crossed))})
        return numbers


@dataclass(frozen=True)
class EdgeOfStability:
    """The runs of :func:`edge_of_stability`, gradient descent's first, and their numbers."""

    title: str
    runs: tuple[SharpnessRun, ...]
    numbers: dict[str, dict[str, float]] = field(default_factory=dict)

    def family(self, optimizer: str) -> tuple[SharpnessRun, ...]:
        """The runs of one optimizer ("sgd" or "adam"), in the order they ran."""
        return tuple(run for run in self.runs if run.optimizer == optimizer)

    def save(self, path: Any) -> Any:
        """Loss and sharpness per run and step (sharpness NaN where it was not measured), with
        each run's threshold, as .csv, .json or .npz by the suffix."""
        rows: dict[str, list[Any]] = {"run": [], "optimizer": [], "lr": [], "threshold": [], "step": [],
                                      "loss": [], "sharpness": []}
        for run in self.runs:
            found = dict(zip(run.measured, run.sharpness))
            for step, loss in enumerate(run.loss):
                for key, value in (("run", run.name), ("optimizer", run.optimizer), ("lr", run.lr),
                                   ("threshold", run.threshold), ("step", step), ("loss", loss),
                                   ("sharpness", found.get(step, math.nan))):
                    rows[key].append(value)
        return write_table(path, rows, {"kind": "optviz.EdgeOfStability", "title": self.title, "numbers": self.numbers})

    def summary(self) -> str:
        return "\n".join(f"{name}: " + ", ".join(f"{k} {v:.4g}" for k, v in values.items())
                         for name, values in self.numbers.items())


def stability_data(examples: int = 200, seed: int = 0) -> tuple[Tensor, Tensor]:
    """``examples`` points x ~ N(0, I₅) from ``seed`` and the target
    y = sin(2x₁) cos(x₂) + x₃²/2 - 1/2, in float64."""
    x = torch.randn(examples, INPUTS, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    y = torch.sin(2 * x[:, :1]) * torch.cos(x[:, 1:2]) + 0.5 * x[:, 2:3] ** 2 - 0.5
    return x, y


def stability_model(width: int = WIDTH, seed: int = 0) -> nn.Sequential:
    """The tanh MLP 5 → width → 1 in float64, torch's default initialisation from ``seed``."""
    generator_state = torch.random.get_rng_state()
    try:
        torch.manual_seed(seed)
        return nn.Sequential(nn.Linear(INPUTS, width, dtype=torch.float64), nn.Tanh(),
                             nn.Linear(width, 1, dtype=torch.float64))
    finally:
        torch.random.set_rng_state(generator_state)  # the caller's random stream is left as it was


def stable_limit(optimizer: str, lr: float, beta1: float = 0.9) -> float:
    """The sharpness above which the step is unstable: 2/lr for gradient descent, and
    (2 + 2β₁) / ((1 - β₁) lr) for Adam's preconditioned sharpness."""
    return 2 / lr if optimizer == "sgd" else (2 + 2 * beta1) / ((1 - beta1) * lr)


def preconditioner(opt: torch.optim.Optimizer, params: list[Tensor]) -> Tensor:
    """Adam's preconditioner after its last step, flat over ``params`` (in their order):
    √(v_t / (1 - β₂ᵗ)) + ε, from the optimizer's own state and hyperparameters."""
    found = {}
    for group in opt.param_groups:
        for p in group["params"]:
            state = opt.state[p]
            bias = 1 - group["betas"][1] ** float(state["step"])
            found[id(p)] = (state["exp_avg_sq"] / bias).sqrt().add(group["eps"])
    return torch.cat([found[id(p)].reshape(-1) for p in params])


def sharpness_steps(model: nn.Module, opt: torch.optim.Optimizer, loss_fn: Callable[[Tensor, Tensor], Tensor],
                    data: tuple[Tensor, Tensor], *, steps: int, every: int = 1, products: int = PRODUCTS,
                    seed: int = 0) -> Iterator[Step]:
    """Train ``model`` in place on the whole of ``data`` for ``steps`` steps of ``opt`` (SGD,
    or Adam or AdamW: an optimizer with ``betas``) and yield each step 0..steps: its loss and,
    at every ``every``-th step and the last, the top eigenvalue of the loss's Hessian there;
    for Adam, that of P^-1/2 H P^-1/2, which has the eigenvalues of P⁻¹H, with the
    preconditioner of the step just taken (so none at step 0). The model and optimizer are
    those of the step when it is yielded.

    Each measurement is ``products`` Lanczos steps from the previous one's eigenvector (the
    first: up to FIRST_PRODUCTS from a random start drawn from ``seed``)."""
    x, y = data
    params = [p for p in model.parameters() if p.requires_grad]
    adaptive = any("betas" in group for group in opt.param_groups)
    vector, generator = None, torch.Generator().manual_seed(seed)
    for step in range(steps + 1):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        if not math.isfinite(loss.item()):  # diverged: no curvature to measure, nothing to train on
            yield Step(step, loss.item(), None)
            return
        sharpness = None
        if (step % every == 0 or step == steps) and not (adaptive and step == 0):
            hessian = hessian_products(loss, params)
            scale = preconditioner(opt, params).double().rsqrt() if adaptive else None

            def product(v: Tensor) -> Tensor:
                return hessian(v) if scale is None else scale * hessian(scale * v)

            # the last top directions, and a random one: a direction that has just grown to
            # the top has a share of the start however it lies to the ones before
            fresh = torch.randn(sum(p.numel() for p in params), generator=generator, dtype=torch.float64)
            if vector is None:
                sharpness, vector = top_eigenpair(product, fresh, FIRST_PRODUCTS)
            else:
                sharpness, vector = top_eigenpair(product, vector + fresh / fresh.norm(), products)
        yield Step(step, loss.item(), sharpness)
        if step < steps:
            loss.backward()
            opt.step()


def edge_of_stability(gd_lrs: tuple[float, ...] = GD_LRS, adam_lrs: tuple[float, ...] = ADAM_LRS, *,
                      steps: int = 300, every: int = 7, products: int = PRODUCTS, examples: int = 200,
                      width: int = WIDTH,
                      seed: int = 0) -> EdgeOfStability:
    """Full-batch gradient descent (optviz.optim.SGD) at each of ``gd_lrs`` and Adam
    (optviz.optim.Adam, betas (0.9, 0.999)) at each of ``adam_lrs`` train the tanh MLP
    5 → ``width`` → 1 on ``examples`` points of :func:`stability_data` (MSE), every run
    from the same initial weights, for ``steps`` steps; the sharpness (Adam's preconditioned
    sharpness) is measured every ``every`` steps with ``products`` Hessian-vector products
    (see :func:`sharpness_steps`)."""
    for name, value in (("steps", steps), ("every", every), ("products", products), ("examples", examples),
                        ("width", width)):
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be a whole number >= 1, got {value!r}")
    for name, lrs in (("gd_lrs", gd_lrs), ("adam_lrs", adam_lrs)):
        for lr in lrs:
            if isinstance(lr, bool) or not isinstance(lr, (int, float)) or not 0 < lr < math.inf:
                raise ValueError(f"{name}: every learning rate must be a number above 0 (its limit is 2/lr), "
                                 f"got {lr!r}")
    if not gd_lrs and not adam_lrs:
        raise ValueError("give at least one learning rate in gd_lrs or adam_lrs")
    data = stability_data(examples, seed)
    runs = []
    for kind, lrs in (("sgd", gd_lrs), ("adam", adam_lrs)):
        for lr in lrs:
            model = stability_model(width, seed)
            opt = optim.SGD(model.parameters(), lr=lr) if kind == "sgd" else optim.Adam(model.parameters(), lr=lr)
            found = list(sharpness_steps(model, opt, nn.functional.mse_loss, data, steps=steps, every=every,
                                         products=products, seed=seed))
            measured = [s for s in found if s.sharpness is not None]
            name = f"{'GD' if kind == 'sgd' else 'Adam'} lr {lr:g}"
            runs.append(SharpnessRun(name, kind, lr, stable_limit(kind, lr), tuple(s.loss for s in found),
                                     tuple(s.step for s in measured), tuple(s.sharpness for s in measured)))
    numbers = {run.name: run.numbers() for run in runs}
    return EdgeOfStability(f"The edge of stability: MLP 5-{width}-1 (tanh), full batch of {examples}", tuple(runs),
                           numbers)


def hessian_products(loss: Tensor, params: list[Tensor]) -> Callable[[Tensor], Tensor]:
    """v -> H v for the Hessian of ``loss`` (a graph not yet backpropagated) with respect to
    ``params``, on flat float64 vectors. The gradient's graph is built once and kept, so each
    product is one more backward pass: the products of one measurement are all at the same
    weights. (optviz.landscape's Hessian rebuilds it for every product, to hold one batch at
    a time in memory; on a full batch this small, keeping it halves the cost.)"""
    grads = torch.autograd.grad(loss, params, create_graph=True)
    sizes = [p.numel() for p in params]

    def product(vector: Tensor) -> Tensor:
        parts = [part.view_as(p).to(p.dtype) for part, p in zip(torch.split(vector, sizes), params)]
        second = torch.autograd.grad(grads, params, parts, retain_graph=True)
        return torch.cat([h.reshape(-1) for h in second]).double()

    return product


def top_eigenpair(product: Callable[[Tensor], Tensor], start: Tensor, steps: int, keep: int = 3
                  ) -> tuple[float, Tensor]:
    """The top Ritz value of ``steps`` Lanczos steps (see optviz.landscape's lanczos) of the
    symmetric ``product`` from ``start``, and the next start: the sum of the top ``keep`` Ritz
    vectors, so that an eigenvalue overtaking the top one is in the next Krylov space from its
    start."""
    basis, alphas, betas, _ = lanczos(product, start.double(), steps)
    values, vectors = torch.linalg.eigh(tridiagonal(alphas, betas))
    ritz = vectors[:, -keep:].T @ basis
    following = (ritz / ritz.norm(dim=1, keepdim=True)).sum(dim=0)
    return float(values[-1]), following / following.norm()
