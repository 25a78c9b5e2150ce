"""Benchmark: the MLP's loss over a 51 x 51 slice, batched against one forward pass per point.

optviz.landscape.grid_losses evaluates every grid point with torch.func.functional_call under
vmap, in chunks; the usual approach loads each point's weights into the model and runs a
forward pass, in a Python loop. Same model, data and grid, both in one run; the results are
compared too. Measured for the loss on the whole training set (each forward pass is already
one 500-row matrix product, so the loop is bound by arithmetic) and on one minibatch of 32
(where the loop is bound by Python and dispatch overhead).

    python bench/landscape.py [--n 51]
"""

import argparse
import time

import torch
from torch import nn

from optviz.experiments import mlp_data, mlp_model
from optviz.landscape import grid_losses


def measure(n: int, examples: int) -> tuple[float, float, bool]:
    x, y, _, _ = mlp_data(0)
    x, y = x[:examples], y[:examples]
    model = mlp_model(seed=0).eval()
    names = [name for name, _ in model.named_parameters()]
    shapes = [p.shape for p in model.parameters()]
    centre = nn.utils.parameters_to_vector(model.parameters()).detach()
    g = torch.Generator().manual_seed(1)
    d1, d2 = torch.randn(2, centre.numel(), generator=g) * 0.05
    ticks = torch.linspace(-1, 1, n)
    a, b = torch.meshgrid(ticks, ticks, indexing="xy")
    flat = centre + a.reshape(-1, 1) * d1 + b.reshape(-1, 1) * d2

    grid_losses(model, names, shapes, flat[:64], x, y)  # warm up
    t0 = time.perf_counter()
    batched = grid_losses(model, names, shapes, flat, x, y)
    t_batched = time.perf_counter() - t0

    t0 = time.perf_counter()
    looped = torch.empty(len(flat))
    with torch.no_grad():
        for i, point in enumerate(flat):
            nn.utils.vector_to_parameters(point, model.parameters())
            looped[i] = nn.functional.mse_loss(model(x), y)
    t_loop = time.perf_counter() - t0
    return t_batched, t_loop, torch.allclose(batched, looped, rtol=1e-4)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=51)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the ratio is about the method, not about threads
    print(f"MLP 12-64-32-1, {args.n}x{args.n} = {args.n**2} grid points, 1 thread")
    print(f"{'loss over':<28} {'batched (vmap)':>15} {'loop':>9} {'ratio':>7}  agree")
    for examples, what in ((500, "the training set (500)"), (32, "one minibatch (32)")):
        t_batched, t_loop, agree = measure(args.n, examples)
        print(f"{what:<28} {t_batched:13.3f} s {t_loop:7.3f} s {t_loop / t_batched:6.1f}x  {agree}")


if __name__ == "__main__":
    main()
