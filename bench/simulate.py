"""Benchmark: optviz.simulate against one torch.optim.Adam per start point.

4,096 start points x 500 steps of Adam on Rosenbrock. The usual approach runs a Python loop
of zero_grad / backward / step per start point; it is timed on a subset of the start points
(--loop-starts) and both are reported as trajectory-steps per second, from the same run.

    python bench/simulate.py [--starts 4096] [--steps 500] [--loop-starts 64]
"""

import argparse
import time

import torch

import optviz


def starts(n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.stack([torch.rand(n, generator=g) * 4 - 2, torch.rand(n, generator=g) * 4 - 1], 1).double()


def batched(points: torch.Tensor, steps: int) -> float:
    t0 = time.perf_counter()
    optviz.simulate("rosenbrock", {"adam": optviz.adam(lr=0.01)}, points, steps)
    return time.perf_counter() - t0


def torch_loop(points: torch.Tensor, steps: int) -> float:
    rosenbrock = optviz.get_function("rosenbrock")
    t0 = time.perf_counter()
    for start in points:
        p = start.clone().requires_grad_(True)
        opt = torch.optim.Adam([p], lr=0.01)
        for _ in range(steps):
            opt.zero_grad()
            rosenbrock(p).backward()
            opt.step()
    return time.perf_counter() - t0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--loop-starts", type=int, default=64)
    args = parser.parse_args()
    torch.set_num_threads(1)  # both sides on one core: the ratio is about the method

    points = starts(args.starts)
    batched(points[:64], 10)  # warm up
    t_batch = min(batched(points, args.steps) for _ in range(3))
    t_loop = torch_loop(points[: args.loop_starts], args.steps)
    rate_batch = args.starts * args.steps / t_batch
    rate_loop = args.loop_starts * args.steps / t_loop
    print(f"Adam on Rosenbrock, {args.steps} steps, torch {torch.__version__}, 1 thread")
    print(f"optviz.simulate   {args.starts:>5} starts  {t_batch:8.3f} s  {rate_batch:14,.0f} trajectory-steps/s")
    print(f"torch.optim loop  {args.loop_starts:>5} starts  {t_loop:8.3f} s  {rate_loop:14,.0f} trajectory-steps/s")
    print(f"ratio: optviz is {rate_batch / rate_loop:,.0f}x faster")


if __name__ == "__main__":
    main()
