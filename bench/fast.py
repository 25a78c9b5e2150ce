"""Benchmark: fast mode (torch.compile) against exact mode, in one run.

1. optviz.simulate at 65,536 starts x 1,000 steps on Rosenbrock in float64, one thread, for
   SGD, momentum, Adam and RMSProp: exact mode, fast mode with its compilation (the kernel's
   first use in this process) and fast mode again (compiled earlier), with the largest
   difference from exact mode on the paths that stay.
2. The commands users wait for, as a user runs them (a fresh process each, wall time, both
   cores): `optviz basins himmelblau adam:lr=0.1 --n 400` and a 64 x 64 sweep of 1,000 steps,
   with and without --fast.

    python bench/fast.py [--starts 65536] [--steps 1000] [--commands-only]
"""

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

import optviz

OPTIMIZERS = {"sgd": optviz.sgd(lr=0.001), "momentum": optviz.sgd(lr=0.001, momentum=0.9),
              "adam": optviz.adam(lr=0.01), "rmsprop": optviz.rmsprop(lr=0.001)}
COMMANDS = {
    "basins himmelblau adam:lr=0.1 --n 400": ["basins", "himmelblau", "adam:lr=0.1", "--n", "400"],
    "sweep rosenbrock sgd, 64 x 64, 1,000 steps": ["sweep", "rosenbrock", "sgd", "--lr", "1e-4:2e-3",
                                                   "--momentum", "0:0.95", "--n", "64", "--steps", "1000"],
}


def starts(n: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(0)
    return torch.stack([torch.rand(n, generator=g) * 4 - 2, torch.rand(n, generator=g) * 4 - 1], 1).double()


def timed(**kwargs) -> tuple[float, optviz.Result]:
    t0 = time.perf_counter()
    result = optviz.simulate("rosenbrock", **kwargs)
    return time.perf_counter() - t0, result


def simulations(n: int, steps: int) -> None:
    torch.set_num_threads(1)
    points = starts(n)
    print(f"optviz.simulate on Rosenbrock, {n:,} starts x {steps:,} steps, float64, 1 thread, seconds")
    print(f"{'optimizer':<10} {'exact':>7} {'fast, compiling':>16} {'fast':>7} {'speed-up':>9} {'incl. compile':>14}"
          f"  {'largest difference':>18}")
    for label, opt in OPTIMIZERS.items():
        t_exact, exact = timed(optimizers={label: opt}, starts=points, steps=steps)
        t_first, _ = timed(optimizers={label: opt}, starts=points, steps=steps, fast=True)
        t_fast, quick = timed(optimizers={label: opt}, starts=points, steps=steps, fast=True)
        kept = exact.diverged_at < 0
        a, b = exact.positions[:, kept], quick.positions[:, kept]
        difference = ((a - b).abs() / a.abs().clamp_min(1)).max().item()
        print(f"{label:<10} {t_exact:7.2f} {t_first:16.2f} {t_fast:7.2f} {t_exact / t_fast:8.2f}x "
              f"{t_exact / t_first:13.2f}x  {difference:18.1e}")


def commands() -> None:
    optviz_command = shutil.which("optviz") or str(Path(sys.executable).with_name("optviz"))
    print("\ncommands, wall time of a fresh process (imports, run, picture), seconds")
    print(f"{'command':<45} {'exact':>7} {'--fast':>7}")
    with tempfile.TemporaryDirectory() as folder:
        for name, args in COMMANDS.items():
            times = []
            for extra in ([], ["--fast"]):
                t0 = time.perf_counter()
                subprocess.run([optviz_command, *args, *extra, "--png", str(Path(folder) / "out.png"), "-q"],
                               check=True, capture_output=True)
                times.append(time.perf_counter() - t0)
            print(f"{name:<45} {times[0]:7.2f} {times[1]:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=65536)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--commands-only", action="store_true")
    args = parser.parse_args()
    if not args.commands_only:
        simulations(args.starts, args.steps)
    commands()


if __name__ == "__main__":
    main()
