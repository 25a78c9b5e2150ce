"""Benchmark: a model's loss over a grid of a 2D slice, optviz against a per-point loop.

For the built-in MLP (12-64-32-1, 500 examples) and a small CNN with BatchNorm (two 3x3
convolutions, 256 images of 16x16), in one run, one thread each, the best of three runs:

- grid points per second: optviz's evaluator (chunks of 32 points, each one vmap of
  functional_call) against the usual loop, which loads each point's weights into the model
  and runs it over the data;
- achieved FLOP/s (the forward pass's FLOPs by torch's own FlopCounterMode, times points per
  second) against a plain torch.mm of the model's largest layer as a matrix product (a Linear's
  (rows, in) @ (in, out), a convolution's im2col shape);
- with --processes GRID, a grid under torchrun with 1 and with 2 processes of one thread
  each (gloo), timed between barriers.

    python bench/landscape.py [--grid 51] [--processes 101]
"""

from __future__ import annotations

import argparse
import copy
import os
import subprocess
import sys
import time

import torch
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from optviz.analyses.models.evaluation import Evaluator, batches, join_process_group, leave_process_group, rank_and_world
from optviz.analyses.models.training import mlp_data, mlp_model
from optviz.analyses.models.weights import Layout, filter_normalised


def mlp() -> tuple[nn.Module, object, tuple[torch.Tensor, torch.Tensor]]:
    x, y, _, _ = mlp_data(0)
    return mlp_model(seed=0), nn.functional.mse_loss, (x, y)


def cnn() -> tuple[nn.Module, object, tuple[torch.Tensor, torch.Tensor]]:
    torch.manual_seed(0)
    model = nn.Sequential(nn.Conv2d(1, 8, 3, padding=1), nn.BatchNorm2d(8), nn.ReLU(), nn.MaxPool2d(2),
                          nn.Conv2d(8, 16, 3, padding=1), nn.BatchNorm2d(16), nn.ReLU(), nn.AdaptiveAvgPool2d(1),
                          nn.Flatten(), nn.Linear(16, 10))
    x = torch.randn(256, 1, 16, 16, generator=torch.Generator().manual_seed(0))
    return model, nn.functional.cross_entropy, (x, (x.mean(dim=(1, 2, 3)) * 20).long().clamp(-5, 4) + 5)


MODELS = {"MLP 12-64-32-1, 500 examples": mlp, "CNN conv8-conv16-linear, 256 images 16x16": cnn}


def grid(model: nn.Module, n: int):
    """The slice's points (a Plane) and the centre's buffers."""
    layout = Layout.of(model)
    centre, buffers = layout.flatten(model.state_dict())
    ticks = torch.linspace(-1, 1, n)
    coords = torch.stack(torch.meshgrid(ticks, ticks, indexing="xy"), dim=-1).reshape(-1, 2)
    return filter_normalised(layout, centre, 0).plane(centre, coords), buffers


def optviz_losses(model, loss_fn, data, n: int) -> tuple[float, torch.Tensor]:
    plane, buffers = grid(model, n)
    evaluator = Evaluator(model, loss_fn, batches(data), torch.device("cpu"))
    evaluator.losses(plane, buffers)  # warm up (and the first chunk's allocations)
    t0 = time.perf_counter()
    losses = evaluator.losses(plane, buffers)
    return time.perf_counter() - t0, losses


def loop_losses(model, loss_fn, data, n: int) -> tuple[float, torch.Tensor]:
    plane, _ = grid(model, n)
    model = copy.deepcopy(model).eval()
    x, y = data
    losses = torch.empty(len(plane))
    t0 = time.perf_counter()
    with torch.no_grad():
        for i in range(len(plane)):
            nn.utils.vector_to_parameters(plane[i:i + 1][0], model.parameters())
            losses[i] = loss_fn(model(x), y)
    return time.perf_counter() - t0, losses


def forward_flops(model: nn.Module, x: torch.Tensor) -> int:
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model.eval()(x)
    return counter.get_total_flops()


def largest_layer(model: nn.Module, x: torch.Tensor) -> tuple[int, int, int]:
    """(rows, inner, columns) of the model's largest layer written as one matrix product."""
    shapes = []

    def hook(module, inputs, output):
        if isinstance(module, nn.Linear):
            shapes.append((inputs[0].numel() // module.in_features, module.in_features, module.out_features))
        elif isinstance(module, nn.Conv2d):
            k = module.in_channels // module.groups * module.kernel_size[0] * module.kernel_size[1]
            shapes.append((output.numel() // module.out_channels, k, module.out_channels))

    handles = [m.register_forward_hook(hook) for m in model.modules()]
    with torch.no_grad():
        model.eval()(x)
    for h in handles:
        h.remove()
    return max(shapes, key=lambda s: s[0] * s[1] * s[2])


def matmul_flops_per_second(m: int, k: int, n: int, seconds: float = 1.0) -> float:
    a, b = torch.randn(m, k), torch.randn(k, n)
    torch.mm(a, b)
    count, t0 = 0, time.perf_counter()
    while time.perf_counter() - t0 < seconds:
        torch.mm(a, b)
        count += 1
    return 2 * m * k * n * count / (time.perf_counter() - t0)


def single(n: int) -> None:
    print(f"{n}x{n} = {n * n} grid points, 1 thread, loss over all the data at every point")
    print(f"{'model':<42} {'optviz pts/s':>13} {'loop pts/s':>11} {'ratio':>6}  {'optviz GFLOP/s':>14} "
          f"{'mm GFLOP/s':>11} {'share':>6}  agree")
    for name, make in MODELS.items():
        model, loss_fn, data = make()
        # the best of three runs each, alternating: the machine is shared and noisy
        runs = [(optviz_losses(model, loss_fn, data, n), loop_losses(model, loss_fn, data, n)) for _ in range(3)]
        (t_optviz, batched), (t_loop, looped) = (min((r[0] for r in runs), key=lambda t: t[0]),
                                                min((r[1] for r in runs), key=lambda t: t[0]))
        flops = forward_flops(model, data[0]) * n * n
        mm = matmul_flops_per_second(*largest_layer(model, data[0]))
        achieved = flops / t_optviz
        agree = torch.allclose(batched, looped, rtol=1e-4, atol=1e-6)
        print(f"{name:<42} {n * n / t_optviz:13,.0f} {n * n / t_loop:11,.0f} {t_loop / t_optviz:5.1f}x  "
              f"{achieved / 1e9:14.2f} {mm / 1e9:11.2f} {achieved / mm:5.0%}  {agree}")


def worker(model_name: str, n: int) -> None:
    """One process of a torchrun: the grid's share of this rank, timed between barriers."""
    join_process_group()
    try:
        model, loss_fn, data = MODELS[model_name]()
        plane, buffers = grid(model, n)
        evaluator = Evaluator(model, loss_fn, batches(data), torch.device("cpu"))
        evaluator._chunk(plane[0:64], buffers)  # warm up
        if rank_and_world()[1] > 1:
            torch.distributed.barrier()
        t0 = time.perf_counter()
        evaluator.losses(plane, buffers)
        if rank_and_world()[1] > 1:
            torch.distributed.barrier()
        if rank_and_world()[0] == 0:
            print(time.perf_counter() - t0)
    finally:
        leave_process_group()


def processes(n: int) -> None:
    print(f"\n{n}x{n} grid under torchrun, one thread per process (gloo)")
    print(f"{'model':<42} {'1 process':>10} {'2 processes':>12} {'ratio':>6}")
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    for name in MODELS:
        times = []
        for k in (1, 2):
            run = subprocess.run([sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc-per-node",
                                  str(k), __file__, "--worker", name, "--grid", str(n)],
                                 env=env, capture_output=True, text=True, check=True)
            times.append(float(run.stdout.split()[-1]))
        print(f"{name:<42} {times[0]:8.2f} s {times[1]:10.2f} s {times[0] / times[1]:5.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--grid", "--n", type=int, default=51, help="grid points per side")
    parser.add_argument("--processes", type=int, metavar="GRID", default=0,
                        help="also time 1 against 2 processes on a GRID x GRID grid (101 is large enough)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    torch.set_num_threads(1)  # the ratios are about the method, not about threads
    if args.worker:
        worker(args.worker, args.grid)
        return
    single(args.grid)
    if args.processes:
        processes(args.processes)


if __name__ == "__main__":
    main()
