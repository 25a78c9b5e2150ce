"""Benchmark: a landscape's estimate and its refined grid against the full run.

Two settings, one thread, the best of three runs each, alternating (the machine is shared):

- the gallery's scenario 22: the built-in MLP trained by momentum SGD, Adam and RMSProp for
  20 epochs, a 51 x 51 grid on the paths' PCA slice;
- the MLP alone (trained first, full batch, 300 Adam steps), a 51 x 51 grid on random
  filter-normalised directions around it: Li et al.'s figure.

For each: the estimate's time against the full run's (their ratio), the full run's time, the
refined run's time and its grid's (from the first grid point to the last) against the full
run's, the points it evaluated, and the refined grid's largest difference
from the full one as a share of the full grid's range (zero at every evaluated point).

    python bench/landscape_cost.py
"""

from __future__ import annotations

import time

import torch
from torch import nn

from optviz import landscape
from optviz.analyses.models.training import mlp_data, mlp_model

SCENARIO_22 = dict(optimizers=[("sgd", {"lr": 0.02, "momentum": 0.9}), ("adam", {"lr": 0.005}),
                               ("rmsprop", {"lr": 0.002})], directions="pca", resolution=51, epochs=20)


def trained_mlp() -> dict:
    x, y, _, _ = mlp_data(0)
    model = mlp_model(seed=0)
    opt = torch.optim.Adam(model.parameters(), lr=0.005)
    for _ in range(300):
        opt.zero_grad()
        nn.functional.mse_loss(model(x), y).backward()
        opt.step()
    return dict(model=model, loss_fn=nn.functional.mse_loss, data=(x, y), resolution=51)


GRID = ("grid points", "coarse grid points", "refined grid points")


def timed(settings: dict) -> tuple[float, float, object]:
    """The run's time, its grid's (from the first report of grid points to the last), and the run."""
    heard: list[tuple[float, str]] = []
    started = time.perf_counter()
    found = landscape.landscape(**settings,
                                progress=lambda what, done, total: heard.append((time.perf_counter(), what)))
    grid = [at for at, what in heard if what in GRID]
    return time.perf_counter() - started, (grid[-1] - grid[0]) if grid else 0.0, found


def compare(name: str, settings: dict) -> None:
    runs: dict[str, list[float]] = {key: [] for key in ("estimate", "full", "full grid", "refined", "refined grid")}
    for _ in range(3):
        seconds, _, estimate = timed({**settings, "estimate": True})
        runs["estimate"].append(seconds)
        seconds, grid, full = timed(settings)
        runs["full"].append(seconds)
        runs["full grid"].append(grid)
        seconds, grid, refined = timed({**settings, "refine": True})
        runs["refined"].append(seconds)
        runs["refined grid"].append(grid)
    best = {key: min(values) for key, values in runs.items()}
    done = refined.evaluated
    assert torch.equal(refined.losses[done], full.losses[done])
    spread = float(full.losses.max() - full.losses.min())
    print(f"{name}")
    print(f"  estimate  said {estimate.seconds():.2f} s, took {best['estimate']:.2f} s; the run took "
          f"{best['full']:.2f} s: estimate / run = {estimate.seconds() / best['full']:.2f}")
    print(f"  refined   {int(done.sum()):,} of {done.numel():,} grid points evaluated ({done.float().mean():.0%}), "
          f"the run {best['refined']:.2f} s against {best['full']:.2f} s ({best['full'] / best['refined']:.2f}x), "
          f"its grid {best['refined grid']:.2f} s against {best['full grid']:.2f} s "
          f"({best['full grid'] / best['refined grid']:.2f}x)")
    print(f"            largest difference from the full grid {float((refined.losses - full.losses).abs().max()):.3g} "
          f"= {float((refined.losses - full.losses).abs().max()) / spread:.1%} of its range")


def main() -> None:
    torch.set_num_threads(1)  # the ratios are about the method, not about threads
    compare("scenario 22: MLP, 3 optimizers x 20 epochs, PCA slice, 51 x 51", SCENARIO_22)
    compare("the trained MLP alone, random directions, 51 x 51", trained_mlp())


if __name__ == "__main__":
    main()
