"""Benchmark: `optviz race` against the hyperopt tuning loop optimizer galleries use.

The loop, written here from its description: for each optimizer and function, a TPE search
(hyperopt's ``fmin``, seed 42) over lr ~ U(0, 2) (SGD: lr ~ U(0, 0.8) and momentum ~
q-uniform(0, 0.99, step 0.01)), 540 evaluations per hyperparameter, each evaluation one
300-step float32 torch loop (zero_grad, f, backward, gradient clipped to norm 1, step) from
the function's one fixed start, scored by the squared distance of the last point to the
global minimum plus 75 x the path's largest excursion beyond the bounds plus the mean loss
along the path; the best setting then runs 650 steps, and where it ends is what the gallery
shows. On Rastrigin from (-2, 3.5) in [-3.6, 3.6]^2 and Rosenbrock from (-2, 2) in
[-2, 2] x [-1, 3], for SGD (momentum tuned too), Adam, AdamW, RMSprop and Adagrad.

`optviz.race` runs the same five optimizers (optviz's own, bit-equal to torch.optim's) on
the same two functions, each a TestFunction with the loop's start and bounds, gradients
clipped to norm 1, objective "distance": lr tuned (and SGD's momentum) on a coarse grid and
a zoomed one, every round one batched simulation, then 100 seeded random starts per
optimizer. Two tunings are timed: from the loop's own start (``tune_starts="start"``, the
information the loop has) and the race's default (eight seeded random starts). Each tuned
optimizer then runs from the loop's start for 650 steps, as the loop's best setting does,
and both distances to the global minimum are printed, optimizer by optimizer.

Both sides run here, in one process, one thread each (the machine is shared), timed by the
wall clock and by the process's CPU time. Targets: at least 20x faster, and a distance at
least as small for every optimizer.

Needs hyperopt, which optviz does not depend on: ``pip install hyperopt``.

    python bench/race.py [--evals 540] [--race-only]

``--evals`` sets the loop's evaluations per hyperparameter (540 is its own setting; fewer
makes the loop cheaper and, proportionally, the ratio smaller).
"""

import argparse
import math
import time
from functools import partial

import numpy as np
import torch

import optviz

torch.set_num_threads(1)

TUNING_STEPS, TEST_STEPS = 300, 650  # the loop tunes on 300 steps and shows 650
SEED = 42


def rastrigin(x):
    return 20 + (x[0] ** 2 - 10 * torch.cos(x[0] * math.pi * 2)) + (x[1] ** 2 - 10 * torch.cos(x[1] * math.pi * 2))


def rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


# name, f, start, bounds, global minimum
FUNCTIONS = (
    ("rastrigin", rastrigin, (-2.0, 3.5), ((-3.6, 3.6), (-3.6, 3.6)), (0.0, 0.0)),
    ("rosenbrock", rosenbrock, (-2.0, 2.0), ((-2.0, 2.0), (-1.0, 3.0)), (1.0, 1.0)),
)
# optviz's name, torch.optim's class, whether the loop tunes momentum too
OPTIMIZERS = (
    ("sgd", torch.optim.SGD, True),
    ("adam", torch.optim.Adam, False),
    ("adamw", torch.optim.AdamW, False),
    ("rmsprop", torch.optim.RMSprop, False),
    ("adagrad", torch.optim.Adagrad, False),
)


def loop_path(f, start, cls, config, steps):
    """The loop's run: a float32 parameter stepped with its gradient clipped to norm 1; the
    path (steps + 1, 2) and the loss before each step."""
    x = torch.nn.Parameter(torch.tensor(start, dtype=torch.float32))
    opt = cls([x], **config)
    path, losses = [x.detach().clone()], []
    for _ in range(steps):
        opt.zero_grad()
        loss = f(x)
        losses.append(loss.item())
        loss.backward()
        torch.nn.utils.clip_grad_norm_([x], 1.0)
        opt.step()
        path.append(x.detach().clone())
    return torch.stack(path), losses


def loop_score(config, f, start, bounds, minimum, cls):
    path, losses = loop_path(f, start, cls, config, TUNING_STEPS)
    low = torch.tensor([lo for lo, _ in bounds])
    high = torch.tensor([hi for _, hi in bounds])
    beyond = (low - path).clamp(min=0).amax(dim=0).sum() + (path - high).clamp(min=0).amax(dim=0).sum()
    distance = float(((path[-1] - torch.tensor(minimum)) ** 2).sum())
    return distance + 75 * float(beyond) + sum(losses) / len(losses)


def loop_tune(f, start, bounds, minimum, cls, momentum, evals):
    """The loop's best setting, by TPE."""
    from hyperopt import fmin, hp, tpe

    space = {"lr": hp.uniform("lr", 0, 0.8 if momentum else 2)}
    if momentum:
        space["momentum"] = hp.quniform("momentum", 0, 0.99, 0.01)
    best = fmin(partial(loop_score, f=f, start=start, bounds=bounds, minimum=minimum, cls=cls), space,
                algo=tpe.suggest, max_evals=evals * len(space), loss_threshold=0.0,
                rstate=np.random.default_rng(SEED), show_progressbar=False)
    return {key: float(value) for key, value in best.items()}


def distance(point, minimum):
    return math.dist([float(v) for v in point], minimum)


def run_loop(evals):
    """{(function, optimizer): (setting, distance after the test run)}, and the seconds taken."""
    found = {}
    wall, cpu = time.perf_counter(), time.process_time()
    for fname, f, start, bounds, minimum in FUNCTIONS:
        for name, cls, momentum in OPTIMIZERS:
            config = loop_tune(f, start, bounds, minimum, cls, momentum, evals)
            path, _ = loop_path(f, start, cls, config, TEST_STEPS)
            found[fname, name] = config, distance(path[-1], minimum)
    return found, time.perf_counter() - wall, time.process_time() - cpu


def race_functions():
    """optviz's Rastrigin and Rosenbrock with the loop's starts and bounds."""
    import dataclasses

    return [dataclasses.replace(optviz.get_function(fname), start=start, bounds=bounds)
            for fname, _, start, bounds, _ in FUNCTIONS]


def run_race(tune_starts):
    """optviz.race's tuned settings and each one's distance after TEST_STEPS from the loop's
    start, with the seconds taken (the race, its 100 starts per optimizer included)."""
    specs = [name for name, _, _ in OPTIMIZERS]
    wall, cpu = time.perf_counter(), time.process_time()
    race = optviz.race(race_functions(), specs, starts=100, budget=TEST_STEPS, objective="distance", clip=1.0,
                       tune=("lr", "momentum"), tune_starts=tune_starts, seed=0)
    found = {}
    for function in race.functions:
        tuned = {row.optimizer: row.made for row in race.rows if row.function == function.name}
        result = optviz.simulate(function, tuned, function.start, TEST_STEPS, clip=1.0)
        minimum = function.minima[0].point
        for k, label in enumerate(tuned):
            found[function.name, label] = tuned[label].hyperparams, distance(result.positions[-1, k], minimum)
    return race, found, time.perf_counter() - wall, time.process_time() - cpu


def report(title, loop, race):
    print(title)
    print(f"  {'function':<11} {'optimizer':<8} {'loop setting':<26} {'loop dist':>10} {'race setting':<26} "
          f"{'race dist':>10}  as good")
    for key, (config, loop_distance) in loop.items():
        hypers, race_distance = race[key]
        shown = {k: hypers[k] for k in config}
        print(f"  {key[0]:<11} {key[1]:<8} {_setting(config):<26} {loop_distance:>10.3g} {_setting(shown):<26} "
              f"{race_distance:>10.3g}  {'yes' if race_distance <= loop_distance else 'NO'}")


def _setting(config):
    return ", ".join(f"{k}={float(v):.4g}" for k, v in config.items())


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--evals", type=int, default=540, help="the loop's evaluations per hyperparameter")
    parser.add_argument("--race-only", action="store_true", help="time optviz.race alone")
    args = parser.parse_args()

    race, at_start, wall, cpu = run_race("start")
    _, by_default, wall_default, cpu_default = run_race(8)
    print(race.table())
    print(f"optviz.race, tuned from the loop's start: {wall:.2f} s wall, {cpu:.2f} s CPU")
    print(f"optviz.race, tuned from 8 random starts:  {wall_default:.2f} s wall, {cpu_default:.2f} s CPU")
    if args.race_only:
        for (fname, name), (hypers, d) in at_start.items():
            print(f"  {fname:<11} {name:<8} tuned from the loop's start: {d:.3g}; by default: {by_default[fname, name][1]:.3g}")
        return
    loop, loop_wall, loop_cpu = run_loop(args.evals)
    print(f"hyperopt loop, {args.evals} evaluations per hyperparameter: {loop_wall:.1f} s wall, {loop_cpu:.1f} s CPU")
    print(f"ratio: {loop_wall / wall:.0f}x (wall), {loop_cpu / cpu:.0f}x (CPU), tuned from the loop's start; "
          f"{loop_wall / wall_default:.0f}x (wall), {loop_cpu / cpu_default:.0f}x (CPU) by the race's default")
    report("distance to the global minimum from the loop's start after 650 steps, race tuned from that start:",
           loop, at_start)
    report("the same, race tuned by its default (8 random starts):", loop, by_default)


if __name__ == "__main__":
    main()
