"""Benchmark: optviz.simulate against one torch.optim optimizer per start point.

1. 4,096 start points x 500 steps of Adam on Rosenbrock, optviz's own Adam and torch's NAdam
   run batched. The usual approach runs a Python loop of zero_grad / backward / step per
   start point; it is timed on a subset of the start points (--loop-starts).
2. Per-start stepping, for an optimizer whose rule uses the whole tensor (torch's Adafactor):
   optviz (one instance per start, stepped together, gradients batched) against a plain loop
   that runs the same optimizer start after start, at 64 and 1,024 starts.
3. optviz.simulate against the bare loop of the same torch ops (the same analytic gradient,
   the path recorded the same way), for SGD, momentum, Adam and RMSProp at 64, 4,096 and
   65,536 starts, with the two paths compared bit for bit.

Both are reported as trajectory-steps per second, from the same run.

    python bench/simulate.py [--starts 4096] [--steps 500] [--loop-starts 64] [--per-start-steps 100] [--bare-only]
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


def torch_batched(points: torch.Tensor, steps: int) -> float:
    t0 = time.perf_counter()
    optviz.simulate("rosenbrock", {"nadam": optviz.torch_optimizer("nadam", lr=0.01)}, points, steps)
    return time.perf_counter() - t0


def per_start(points: torch.Tensor, steps: int) -> float:
    t0 = time.perf_counter()
    result = optviz.simulate("rosenbrock", {"f": optviz.torch_optimizer("adafactor", lr=0.01)}, points, steps)
    assert result.modes["f"] == "per-start"
    return time.perf_counter() - t0


def plain_loop(points: torch.Tensor, steps: int) -> float:
    """The same optimizer, one start after another, with the same analytic gradient."""
    rosenbrock = optviz.get_function("rosenbrock")
    t0 = time.perf_counter()
    for start in points:
        p = start.clone().requires_grad_(True)
        opt = torch.optim.Adafactor([p], lr=0.01)
        for _ in range(steps):
            p.grad = rosenbrock.grad(p.detach())
            opt.step()
    return time.perf_counter() - t0


def bare_loop(kind: str, points: torch.Tensor, steps: int) -> tuple[float, torch.Tensor]:
    """The same torch ops as optviz's step (and torch.optim's single-tensor path), written out
    in a plain loop with the same analytic gradient, the path recorded as optviz records it."""
    grad_of = optviz.get_function("rosenbrock").grad
    p = points.clone()
    path = torch.empty(steps + 1, *p.shape, dtype=p.dtype)
    path[0] = p
    a, b = torch.zeros_like(p), torch.zeros_like(p)
    t0 = time.perf_counter()
    for t in range(1, steps + 1):
        g = grad_of(p)
        if kind == "sgd":
            p = p.add(g, alpha=-0.001)
        elif kind == "momentum":
            a = g.clone() if t == 1 else a.mul_(0.9).add_(g)
            p = p.add(a, alpha=-0.001)
        elif kind == "rmsprop":
            b.mul_(0.99).addcmul_(g, g, value=1 - 0.99)
            p = p.addcdiv(g, b.sqrt().add_(1e-8), value=-0.001)
        else:  # adam: bias corrections in Python doubles, as torch does them
            a.lerp_(g, 1 - 0.9)
            b.mul_(0.999).addcmul_(g, g, value=1 - 0.999)
            step_size = 0.01 / (1 - 0.9**t)
            denom = (b.sqrt() / (1 - 0.999**t) ** 0.5).add_(1e-8)
            p = p.addcdiv(a, denom, value=-step_size)
        path[t] = p
    return time.perf_counter() - t0, path


BARE = {"sgd": optviz.sgd(lr=0.001), "momentum": optviz.sgd(lr=0.001, momentum=0.9),
        "adam": optviz.adam(lr=0.01), "rmsprop": optviz.rmsprop(lr=0.001)}


def against_the_bare_loop(sizes: tuple[int, ...], steps: int) -> None:
    print(f"\noptviz.simulate against the bare loop of the same ops, Rosenbrock, {steps} steps, float64")
    print(f"{'optimizer':<10} {'starts':>6} {'optviz':>14} {'bare loop':>14} {'ratio':>6}  equal")
    for n in sizes:
        points = starts(n)
        for kind, opt in BARE.items():
            runs = []
            for _ in range(3):  # the best of three, alternating
                t0 = time.perf_counter()
                result = optviz.simulate("rosenbrock", {kind: opt}, points, steps)
                runs.append((time.perf_counter() - t0, bare_loop(kind, points, steps)[0]))
            t_ours, t_bare = min(r[0] for r in runs), min(r[1] for r in runs)
            kept = result.diverged_at < 0  # optviz stops a diverged path; the bare loop runs on
            equal = torch.equal(result.positions[:, kept], bare_loop(kind, points, steps)[1][:, kept])
            print(f"{kind:<10} {n:>6} {n * steps / t_ours:14,.0f} {n * steps / t_bare:14,.0f} {t_bare / t_ours:5.2f}x"
                  f"  {equal}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=4096)
    parser.add_argument("--steps", type=int, default=500)
    parser.add_argument("--loop-starts", type=int, default=64)
    parser.add_argument("--per-start-steps", type=int, default=100)
    parser.add_argument("--bare-only", action="store_true", help="only the bare-loop comparison")
    args = parser.parse_args()
    torch.set_num_threads(1)  # both sides on one core: the ratio is about the method

    if args.bare_only:
        against_the_bare_loop((64, 4096, 65536), args.steps)
        return
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
    t_nadam = min(torch_batched(points, args.steps) for _ in range(3))
    rate_nadam = args.starts * args.steps / t_nadam
    print(f"torch NAdam, batched  {args.starts:>5} starts  {t_nadam:8.3f} s  {rate_nadam:14,.0f} trajectory-steps/s "
          f"({rate_nadam / rate_loop:,.0f}x the loop)")

    steps = args.per_start_steps
    print(f"\nAdafactor (per-tensor rule) on Rosenbrock, {steps} steps: one instance per start")
    for n in (64, 1024):
        subset = points[:n]
        t_ours, t_plain = per_start(subset, steps), plain_loop(subset, steps)
        print(f"{n:>5} starts  optviz {n * steps / t_ours:12,.0f}  plain loop {n * steps / t_plain:12,.0f} "
              f"trajectory-steps/s  ratio {t_plain / t_ours:.2f}x")
    against_the_bare_loop((64, 4096, 65536), args.steps)


if __name__ == "__main__":
    main()
