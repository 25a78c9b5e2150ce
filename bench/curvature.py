"""Benchmark: the sharpness along a run, optviz against the usual torch.func way.

10,000 starts x 200 steps of SGD on Rosenbrock (2,010,000 points). optviz's
``sharpness(result)`` (the Hessian of every point by forward-mode derivatives of the
written-out gradient, all coordinates in one vectorised pass, its eigenvalues in closed form
for 2 x 2) against the usual approach: ``vmap(hessian(f))`` then
``torch.linalg.eigvalsh``, the same points in one batch. Both are timed best of three, in one
run, and their top eigenvalues compared. Target: under 1 s for optviz.

    python bench/curvature.py [--starts 10000] [--steps 200] [--function rosenbrock]
"""

import argparse
import time

import torch
from torch.func import hessian, vmap

import optviz
from optviz.analyses.curvature import sharpness


def best_of(runs: int, work) -> tuple[float, torch.Tensor]:
    times, out = [], None
    for _ in range(runs):
        start = time.perf_counter()
        out = work()
        times.append(time.perf_counter() - start)
    return min(times), out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=10_000)
    parser.add_argument("--steps", type=int, default=200)
    parser.add_argument("--function", default="rosenbrock")
    args = parser.parse_args()
    fn = optviz.get_function(args.function)
    bounds = torch.tensor(fn.bounds, dtype=torch.float64)
    points = bounds[:, 0] + (bounds[:, 1] - bounds[:, 0]) * torch.rand(args.starts, fn.dim, dtype=torch.float64,
                                                                       generator=torch.Generator().manual_seed(0))
    result = optviz.simulate(fn, optviz.sgd(lr=1e-4), points, args.steps)
    n = result.positions.shape[0] * result.positions.shape[1]

    def usual() -> torch.Tensor:
        flat = result.positions.reshape(-1, fn.dim)
        return torch.linalg.eigvalsh(vmap(hessian(fn.value_fn))(flat))[:, -1].reshape(result.positions.shape[:2])

    ours_time, ours = best_of(3, lambda: sharpness(result))
    usual_time, theirs = best_of(3, usual)
    print(f"{args.function}: {args.starts:,} starts x {args.steps} steps = {n:,} points")
    print(f"optviz sharpness     {ours_time:6.3f} s")
    print(f"vmap(hessian)+eigh   {usual_time:6.3f} s")
    print(f"ratio                {usual_time / ours_time:6.2f}x; target under 1 s: "
          f"{'met' if ours_time < 1 else 'not met'}")
    print(f"largest relative difference: {float(((ours - theirs).abs() / theirs.abs().clamp(min=1e-300)).max()):.1e}")


if __name__ == "__main__":
    main()
