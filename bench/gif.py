"""Benchmark: a 200-frame 1280x720 (slide) GIF of 4 paths on Rosenbrock.

optviz.animate (background drawn once by matplotlib; comets, trails, the loss strip and the
read-out composed with numpy onto one shared palette) against the recipe most projects use:
matplotlib FuncAnimation updating the lines' data each frame, saved with PillowWriter, at
the same size. Both run here, on the same paths, in one run; each is timed by the wall
clock and by the CPU time of this process (which other work on a shared machine disturbs
less). Targets: at least 20x faster and at most half the bytes.

    python bench/gif.py [--frames 200]
"""

import argparse
import os
import tempfile
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib.animation import FuncAnimation, PillowWriter

import optviz
from optviz.render import animate
from optviz.render.contours import grid_values


def paths(steps: int):
    return optviz.simulate(
        "rosenbrock",
        {
            "sgd": optviz.sgd(lr=1e-3),
            "momentum": optviz.momentum(lr=1e-3),
            "rmsprop": optviz.rmsprop(lr=0.01),
            "adam": optviz.adam(lr=0.05),
        },
        steps=steps,
    )


def timed(work):
    """Run ``work``; its wall-clock and CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    work()
    return time.perf_counter() - wall, time.process_time() - cpu


def with_optviz(result, path: str, frames: int) -> None:
    animate(result, path, fps=20, max_frames=frames, size="slide")


def with_funcanimation(result, path: str, frames: int) -> None:
    """The usual recipe: contours once, then set_data on each line and redraw every frame."""
    fig, ax = plt.subplots(figsize=(12.8, 7.2), dpi=100)
    X, Y, Z = grid_values(result.function)
    ax.contourf(X, Y, Z, levels=np.logspace(-1, 3.5, 25), cmap="Blues_r")
    ax.set(xlim=(-2, 2), ylim=(-1, 3), title="Rosenbrock")
    positions = result.positions.numpy()
    lines = [ax.plot([], [], "-", label=name)[0] for name in result.optimizers]
    heads = [ax.plot([], [], "o")[0] for _ in result.optimizers]
    counter = ax.text(0.02, 0.02, "", transform=ax.transAxes)
    ax.legend(loc="upper right")
    steps = np.linspace(0, result.steps, frames).round().astype(int)

    def update(i):
        k = steps[i]
        for b, (line, head) in enumerate(zip(lines, heads)):
            line.set_data(positions[: k + 1, b, 0], positions[: k + 1, b, 1])
            head.set_data(positions[k : k + 1, b, 0], positions[k : k + 1, b, 1])
        counter.set_text(f"step {k}/{result.steps}")
        return [*lines, *heads, counter]

    FuncAnimation(fig, update, frames=frames, blit=False).save(path, writer=PillowWriter(fps=20))
    plt.close(fig)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=200)
    args = parser.parse_args()
    result = paths(steps=args.frames * 2)
    with tempfile.TemporaryDirectory() as folder:
        ours_path, theirs_path = os.path.join(folder, "optviz.gif"), os.path.join(folder, "funcanimation.gif")
        with_optviz(result, ours_path, 10)  # warm up fonts and caches on both sides
        ours = timed(lambda: with_optviz(result, ours_path, args.frames))
        theirs = timed(lambda: with_funcanimation(result, theirs_path, args.frames))
        b_ours, b_theirs = os.path.getsize(ours_path), os.path.getsize(theirs_path)
    print(f"{args.frames}-frame 1280x720 GIF, 4 paths on Rosenbrock      wall      CPU     size")
    print(f"optviz.animate               {ours[0]:7.2f} s {ours[1]:7.2f} s  {b_ours / 1e6:5.2f} MB")
    print(f"FuncAnimation + PillowWriter {theirs[0]:7.2f} s {theirs[1]:7.2f} s  {b_theirs / 1e6:5.2f} MB")
    print(f"ratio: {theirs[0] / ours[0]:.1f}x faster by the wall clock, {theirs[1] / ours[1]:.1f}x by CPU time, "
          f"{b_ours / b_theirs:.2f}x the bytes")


if __name__ == "__main__":
    main()
