"""Benchmark: the Hessian of a model's loss, optviz against the usual approaches.

For the MLP (12-64-32-1, 500 examples) and the small CNN with BatchNorm (two 3x3
convolutions, 256 images of 16x16) of bench/landscape.py, in one run, one thread:

- Hessian-vector products per second: optviz's Hessian (over the data in batches of 128)
  against a hand-written torch.func loop of the same products, the jvp of the gradient
  (forward-over-reverse) batch by batch, the best of three runs of 20 products each; the
  products are compared;
- products to reach the top eigenvalue to 1e-6 relative: optviz's Lanczos against plain power
  iteration (v <- Hv / |Hv|, the Rayleigh quotient as the estimate), each from the same six
  seeded starts, in float64, summed over the starts; the reference is Lanczos run to a
  residual of 1e-12. Both stop on the reference, so neither pays for its own stopping test.

    python bench/hessian.py [--products 20]
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
import sys

import torch
from torch import nn
from torch.func import functional_call, grad, jvp, vjp

sys.path.insert(0, str(Path(__file__).resolve().parent))
from landscape import MODELS  # noqa: E402 - the same two models as the landscape's benchmark

from optviz.analyses.models.hessian import Hessian, lanczos, top_eigenvalues, tridiagonal  # noqa: E402

BATCH = 128
TOLERANCE = 1e-6


def func_products(model: nn.Module, loss_fn, data, vectors: list[torch.Tensor],
                  form: str) -> tuple[float, torch.Tensor]:
    """The usual torch.func loop: for each vector, over each batch, the product of the loss's
    gradient's derivative with it, weighted by the batch's share of the data: ``form`` "jvp"
    (forward-over-reverse, the jvp of the gradient) or "vjp" (reverse-over-reverse)."""
    model = model.eval()
    names = [n for n, p in model.named_parameters()]
    params = {n: p.detach() for n, p in model.named_parameters()}
    buffers = dict(model.named_buffers())
    x, y = data
    chunks = [(x[i:i + BATCH], y[i:i + BATCH]) for i in range(0, len(x), BATCH)]

    def split(v: torch.Tensor) -> dict[str, torch.Tensor]:
        parts = torch.split(v, [params[n].numel() for n in names])
        return {n: part.reshape(params[n].shape) for n, part in zip(names, parts)}

    def product(v: torch.Tensor) -> torch.Tensor:
        tangent = split(v)
        total = torch.zeros_like(v)
        for xb, yb in chunks:
            gradient = grad(lambda q: loss_fn(functional_call(model, (q, buffers), (xb,)), yb))
            hv = jvp(gradient, (params,), (tangent,))[1] if form == "jvp" else vjp(gradient, params)[1](tangent)[0]
            total += len(xb) / len(x) * torch.cat([hv[n].reshape(-1) for n in names])
        return total

    product(vectors[0])  # warm up
    t0 = time.perf_counter()
    found = [product(v) for v in vectors]
    return time.perf_counter() - t0, torch.stack(found)


def func_best(model: nn.Module, loss_fn, data, vectors: list[torch.Tensor]) -> tuple[float, torch.Tensor, str]:
    """The faster of the two torch.func forms that torch runs on this model (jvp of the
    gradient fails on some: "ZeroTensors are immutable")."""
    timed = []
    for form in ("jvp", "vjp"):
        try:
            timed.append((*func_products(model, loss_fn, data, vectors, form), form))
        except RuntimeError:
            continue
    return min(timed, key=lambda t: t[0])


def optviz_products(model: nn.Module, loss_fn, data, vectors: list[torch.Tensor]) -> tuple[float, torch.Tensor]:
    hessian = Hessian(model, loss_fn, data, batch_size=BATCH)
    hessian(vectors[0])  # warm up
    t0 = time.perf_counter()
    found = [hessian(v) for v in vectors]
    return time.perf_counter() - t0, torch.stack(found)


def products(count: int) -> None:
    print(f"Hessian-vector products over all the data (batches of {BATCH}), 1 thread, best of 3 runs of {count}")
    print(f"{'model':<42} {'params':>7} {'optviz /s':>10} {'torch.func /s':>14} {'form':>5} {'ratio':>6}  agree")
    for name, make in MODELS.items():
        model, loss_fn, data = make()
        size = sum(p.numel() for p in model.parameters())
        g = torch.Generator().manual_seed(0)
        vectors = [torch.randn(size, generator=g) for _ in range(count)]
        runs = [(optviz_products(model, loss_fn, data, vectors), func_best(model, loss_fn, data, vectors))
                for _ in range(3)]  # alternating: the machine is shared and noisy
        (t_ours, ours), (t_func, theirs, form) = (min((r[0] for r in runs), key=lambda t: t[0]),
                                                  min((r[1] for r in runs), key=lambda t: t[0]))
        agree = torch.allclose(ours, theirs, rtol=1e-3, atol=1e-4 * theirs.abs().max().item())
        print(f"{name:<42} {size:7,} {count / t_ours:10.1f} {count / t_func:14.1f} {form:>5} "
              f"{t_func / t_ours:5.2f}x  {agree}")


def power_iteration(hessian: Hessian, start: torch.Tensor, reference: float, cap: int) -> int:
    """Products plain power iteration takes until its Rayleigh quotient is within TOLERANCE of
    the reference (cap if it never is)."""
    v = start / start.norm()
    for k in range(1, cap + 1):
        w = hessian(v)
        if abs(float(v @ w) - reference) <= TOLERANCE * abs(reference):
            return k
        v = w / w.norm()
    return cap


def lanczos_products(hessian: Hessian, start: torch.Tensor, reference: float, cap: int) -> int:
    """Products Lanczos takes until its top Ritz value is within TOLERANCE of the reference."""
    def close(alphas, betas, tail):
        return abs(float(torch.linalg.eigvalsh(tridiagonal(alphas, betas))[-1]) - reference) <= \
            TOLERANCE * abs(reference)

    lanczos(hessian, start.to(hessian.device, hessian.dtype), min(cap, hessian.size), stop=close)
    return hessian.products


def iterations(starts: int = 6, cap: int = 2000) -> None:
    print(f"\nproducts to reach the top eigenvalue to {TOLERANCE:g} relative (float64), from {starts} seeded starts, "
          f"the same for both")
    print(f"{'model':<42} {'top eigenvalue':>15} {'Lanczos':>8} {'power':>6} {'ratio':>6}  ratio by start")
    for name, make in MODELS.items():
        model, loss_fn, data = make()
        model, data = model.double(), (data[0].double(), data[1])
        reference = float(top_eigenvalues(model, loss_fn, data, tol=1e-12, max_steps=300, batch_size=BATCH).values[0])
        counts = []
        for seed in range(starts):
            start = torch.randn(sum(p.numel() for p in model.parameters()), dtype=torch.float64,
                                generator=torch.Generator().manual_seed(seed))
            counts.append((lanczos_products(Hessian(model, loss_fn, data, batch_size=BATCH), start, reference, cap),
                           power_iteration(Hessian(model, loss_fn, data, batch_size=BATCH), start, reference, cap)))
        ours, power = (sum(c[k] for c in counts) for k in (0, 1))
        ratios = sorted(p / o for o, p in counts)
        print(f"{name:<42} {reference:15.6g} {ours:8d} {power:6d} {power / ours:5.1f}x  "
              f"{ratios[0]:.1f}-{ratios[-1]:.1f}x, median {(ratios[(starts - 1) // 2] + ratios[starts // 2]) / 2:.1f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=20, help="products per timed run")
    args = parser.parse_args()
    torch.set_num_threads(1)  # the ratios are about the method, not about threads
    products(args.products)
    iterations()


if __name__ == "__main__":
    main()
