"""The Hessian of a real model's loss, never formed: its top eigenpairs, trace and spectrum.

The loss is the one the landscape draws (see optviz.evaluation): ``loss_fn(model(x), y)``
averaged over all the data, or its first ``examples``, read once into fixed batches and
weighted by their size, with the model in eval mode. The Hessian is taken with respect to the
model's trainable parameters (``requires_grad``), all the others and the buffers held fixed.

Everything is built on Hessian-vector products by double backward, one batch at a time, so
memory is that of one batch's backward pass whatever the data's size:

- :func:`top_eigenvalues`: the k largest eigenvalues (algebraically, in descending order)
  and their eigenvectors, by Lanczos with full reorthogonalisation;
- :func:`hessian_trace`: the trace by Hutchinson's estimator with Rademacher probes from a
  seeded generator, with its standard error;
- :func:`spectral_density`: the spectrum's density by stochastic Lanczos quadrature;
- :func:`sharpness_along`: the top eigenvalue at every k-th point of a path of checkpoints.

``params`` restricts the Hessian to some parameters (see optviz.weights.chosen), the others
held fixed: the block of the Hessian they span. On any device (``device=``, as the landscape
takes it). Under an initialised ``torch.distributed`` process group (torchrun) batch k goes
to rank k mod world size, and each product is summed over the ranks by an all_reduce, so every
rank holds the same H v; Lanczos's own arithmetic (the next vector, its coefficients and the
decision to stop) is rank 0's, broadcast, so every rank runs the same steps and returns the
same numbers: those of one process up to the order of the sum over batches (its rounding).
The CUDA and NCCL paths are written for GPUs and guarded; only the CPU and gloo are tested.

>>> import torch, optviz
>>> model = torch.nn.Linear(2, 1)
>>> x = torch.tensor([[1.0, 0.0], [0.0, 2.0]]); y = torch.zeros(2, 1)
>>> top = optviz.landscape.top_eigenvalues(model, torch.nn.functional.mse_loss, (x, y), k=1)
>>> round(top.values[0].item(), 4)
5.3028
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call

from ...core.names import one_line
from .evaluation import batches, device_for, from_rank_zero, rank_and_world
from .weights import Directions, Layout, WeightsError, chosen, load_checkpoints

LossFn = Callable[[Tensor, Tensor], Tensor]
CUT = ("the loss's gradient does not depend on the parameters: a detach, a torch.no_grad or a once_differentiable "
       "Function in the model or loss_fn cuts the second derivative (or the loss is linear in the weights)")


class HessianError(ValueError):
    """A Hessian request that cannot be met, said in one line before the work."""


@dataclass(frozen=True)
class Eigenpairs:
    """The top eigenvalues (descending) and their unit eigenvectors, each a name -> tensor
    dict shaped like the model's parameters (``flat`` holds them as rows of one matrix)."""

    values: Tensor  # (k,) float64
    flat: Tensor  # (k, P) in the parameters' dtype, on the CPU
    names: tuple[str, ...]
    shapes: tuple[torch.Size, ...]
    products: int  # Hessian-vector products spent
    converged: bool  # every pair's residual under tol, or the Krylov space exhausted

    @property
    def vectors(self) -> list[dict[str, Tensor]]:
        return [_split(row, self.names, self.shapes) for row in self.flat]


@dataclass(frozen=True)
class Trace:
    """Hutchinson's estimate of the Hessian's trace: the mean of ``samples`` (z'Hz for each
    Rademacher probe z) and its standard error."""

    estimate: float
    standard_error: float
    samples: Tensor  # (probes,) float64


@dataclass(frozen=True)
class Density:
    """The spectrum as stochastic Lanczos quadrature sees it: for each probe, ``nodes``
    (Ritz values) and ``weights`` (summing to 1). The spectral density is their average."""

    nodes: Tensor  # (probes, steps) float64
    weights: Tensor  # (probes, steps) float64

    def at(self, grid: Tensor, width: float) -> Tensor:
        """The density smoothed by Gaussians of standard deviation ``width`` at the points of
        ``grid``: it integrates to 1."""
        grid = torch.as_tensor(grid, dtype=torch.float64)
        gap = grid[:, None, None] - self.nodes[None]
        bumps = torch.exp(-0.5 * (gap / width) ** 2) / (width * math.sqrt(2 * math.pi))
        return (bumps * self.weights[None]).sum(dim=(1, 2)) / len(self.nodes)


class Hessian:
    """Products with the Hessian of a model's mean loss over fixed data, on flat vectors
    (the trainable parameters ``params`` selects, in ``named_parameters`` order)."""

    def __init__(self, model: nn.Module, loss_fn: LossFn, data: Any, *, examples: int | None = None,
                 batch_size: int | None = None, device: Any = None,
                 params: str | Callable[[str, nn.Parameter], bool] | None = None) -> None:
        self.device = device_for(device)
        self.model = copy.deepcopy(model).to(self.device).eval()
        selected = _selected(model, params)
        trainable = [(n, p) for n, p in self.model.named_parameters() if p.requires_grad and n in selected]
        if not trainable:
            raise HessianError("the model has no trainable parameters (none with requires_grad): no Hessian to take")
        self.names = tuple(n for n, _ in trainable)
        self.shapes = tuple(p.shape for _, p in trainable)
        self.params = [p.detach() for _, p in trainable]
        # everything else the forward pass reads: held fixed, outside the graph
        self.fixed = {n: t.detach() for n, t in [*self.model.named_parameters(), *self.model.named_buffers()]
                      if n not in self.names}
        self.size = sum(p.numel() for p in self.params)
        self.dtype = self.params[0].dtype
        self.loss_fn = loss_fn
        found = batches(data, batch_size=batch_size, examples=examples)
        total = sum(len(x) for x, _ in found)
        rank, world, _ = rank_and_world()
        self.data = [(x.to(self.device), y.to(self.device), len(x) / total)
                     for k, (x, y) in enumerate(found) if k % world == rank]
        self.products = 0

    def at(self, state: dict[str, Tensor]) -> "Hessian":
        """The same loss over the same data at other weights: ``state`` holds parameters and
        buffers by name (a state_dict, or part of one); the rest stay as they are."""
        moved = copy.copy(self)
        moved.params = [state[n].detach().to(self.device, self.dtype) if n in state else p
                        for n, p in zip(self.names, self.params)]
        moved.fixed = {n: state[n].detach().to(self.device, t.dtype) if n in state else t for n, t in self.fixed.items()}
        moved.products = 0
        return moved

    def __call__(self, vector: Tensor) -> Tensor:
        """H @ vector, for a flat vector of the parameters' size (summed over the ranks)."""
        parts = _split(vector.to(self.device, self.dtype), self.names, self.shapes)
        directions = [parts[n] for n in self.names]
        total = torch.zeros(self.size, dtype=self.dtype, device=self.device)
        failed = None
        try:
            for x, y, weight in self.data:
                total += weight * self._batch_product(x, y, directions)
        except HessianError as error:
            failed = error
        if rank_and_world()[1] > 1:
            total = _summed(total, failed)
        elif failed is not None:
            raise failed
        self.products += 1
        return total

    def _batch_product(self, x: Tensor, y: Tensor, directions: list[Tensor]) -> Tensor:
        params = [p.clone().requires_grad_(True) for p in self.params]
        with torch.enable_grad():
            loss = self.loss_fn(functional_call(self.model, {**self.fixed, **dict(zip(self.names, params))}, (x,)), y)
            if not isinstance(loss, Tensor) or loss.numel() != 1:
                shape = tuple(loss.shape) if isinstance(loss, Tensor) else type(loss).__name__
                raise HessianError(f"the loss must return one number (a batch mean), got {shape}")
            if not loss.requires_grad:
                raise HessianError("the loss does not depend on the parameters (detached, or computed without "
                                   "grad): it is not differentiable")
            grads = torch.autograd.grad(loss, params, create_graph=True)
            # a block whose gradient does not depend on the weights is zero; all of them zero is
            # far more often a cut graph than a loss linear in every weight, so it is refused
            linked = [i for i, g in enumerate(grads) if g.requires_grad]
            if not linked:
                raise HessianError(CUT)
            try:
                second = torch.autograd.grad([grads[i] for i in linked], params,
                                             grad_outputs=[directions[i] for i in linked], allow_unused=True)
            except RuntimeError as error:  # an op without a second derivative, named by torch
                raise HessianError(f"the loss is not twice differentiable: {one_line(error)[:200]}") from None
        if all(h is None for h in second):
            raise HessianError(CUT)
        return torch.cat([(torch.zeros_like(p) if h is None else h).reshape(-1) for p, h in zip(params, second)])


def _selected(model: nn.Module, params: Any) -> tuple[str, ...]:
    """The names of the parameters the Hessian is taken over: all trainable ones, or those
    ``params`` selects (HessianError, one line, for a selection of nothing)."""
    if params is None:
        return tuple(n for n, p in model.named_parameters() if p.requires_grad)
    try:
        return chosen(model, params)
    except WeightsError as error:
        raise HessianError(str(error)) from None


def _summed(total: Tensor, failed: HessianError | None) -> Tensor:
    """This rank's part of a product summed over all ranks, with one more number that says
    whether any rank failed: then every rank stops (the one that failed with its own message),
    where waiting for it would hang."""
    both = _for_backend(torch.cat([total, total.new_tensor([float(failed is not None)])]))
    torch.distributed.all_reduce(both)
    if failed is not None:
        raise failed
    if both[-1] > 0:
        raise HessianError("another process could not take the Hessian product (its own message says why)")
    return both[:-1].to(total.device)


def _agreed(values: Tensor) -> Tensor:
    """Rank 0's ``values`` on every rank (themselves without a process group)."""
    if rank_and_world()[1] == 1:
        return values
    shared = _for_backend(values.clone())
    torch.distributed.broadcast(shared, src=0)
    return shared.to(values.device)


def _for_backend(values: Tensor) -> Tensor:
    """``values`` where the process group's backend reduces them: gloo on the CPU, NCCL on this
    rank's GPU (a Hessian on the CPU of a GPU machine still communicates through it)."""
    if torch.distributed.get_backend() == "nccl":
        return values.to(torch.device("cuda", torch.cuda.current_device()))
    return values.cpu()


def top_eigenvalues(model: nn.Module, loss_fn: LossFn, data: Any, k: int = 1, *, tol: float | None = None,
                    max_steps: int = 100, seed: int = 0, examples: int | None = None,
                    batch_size: int | None = None, device: Any = None,
                    params: str | Callable[[str, nn.Parameter], bool] | None = None) -> Eigenpairs:
    """The k largest eigenvalues of the Hessian of the mean loss (descending) and their
    eigenvectors, by Lanczos with full reorthogonalisation from a seeded random start.

    Stops once every one of the k Ritz pairs has a residual ``|H v - theta v|`` under
    ``tol * max(1, |theta|)`` (default 1e-9 for float64 parameters, 1e-5 otherwise; the
    eigenvalue's own error is about the residual squared over the gap to the next), when the
    Krylov space is exhausted (exact then), or after ``max_steps`` products, the basis kept
    being ``max_steps`` vectors of the parameters' size (``converged`` then says False).
    Eigenvectors are unit vectors, their sign arbitrary. ``params`` takes the Hessian over the
    parameters it selects only (a name pattern, a function or "trainable")."""
    _check_count("k", k)
    _check_count("max_steps", max_steps)
    hessian = Hessian(model, loss_fn, data, examples=examples, batch_size=batch_size, device=device, params=params)
    _check_k(k, max_steps, hessian)
    return _top(hessian, k, tol, max_steps, seed)


def _check_k(k: int, max_steps: int, hessian: Hessian) -> None:
    if k > hessian.size:
        raise HessianError(f"k={k} is more than the model's {hessian.size} trainable parameters")
    if max_steps < k:
        raise HessianError(f"max_steps={max_steps} is fewer than k={k}: Lanczos needs at least k products")


def _top(hessian: Hessian, k: int, tol: float | None, max_steps: int, seed: int) -> Eigenpairs:
    if tol is None:
        tol = 1e-9 if hessian.dtype == torch.float64 else 1e-5
    start = torch.randn(hessian.size, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    start = start.to(hessian.device, hessian.dtype)
    basis, alphas, betas, tail = lanczos(hessian, start, min(max_steps, hessian.size),
                                          stop=lambda a, b, t: _converged(a, b, t, k, tol))
    values, ritz = torch.linalg.eigh(tridiagonal(alphas, betas))
    order = torch.argsort(values, descending=True)[:k]
    flat = (ritz[:, order].T.to(basis.dtype) @ basis).cpu()
    flat = flat / flat.norm(dim=1, keepdim=True)
    converged = _converged(alphas, betas, tail, k, tol)
    return from_rank_zero(Eigenpairs(values[order], flat, hessian.names, hessian.shapes, hessian.products, converged))


@dataclass(frozen=True)
class Sharpness:
    """The top Hessian eigenvalues at points of a path: ``values[i]`` (descending, k of them)
    at the path's point ``steps[i]`` (0 the first)."""

    steps: Tensor  # (n,) int64
    values: Tensor  # (n, k) float64
    products: int  # Hessian-vector products spent in all
    converged: bool  # at every point

    @property
    def top(self) -> Tensor:
        """The sharpness itself: the top eigenvalue at each point, (n,)."""
        return self.values[:, 0]


def sharpness_along(model: nn.Module, loss_fn: LossFn, data: Any, checkpoints: Sequence[Any], *, every: int = 1,
                    k: int = 1, tol: float | None = None, max_steps: int = 100, seed: int = 0,
                    examples: int | None = None, batch_size: int | None = None, device: Any = None) -> Sharpness:
    """The k top eigenvalues of the Hessian (see :func:`top_eigenvalues`) at every ``every``-th
    point of a path, its first and its last: ``checkpoints`` are state_dicts or files saved
    during training (parameters and BatchNorm statistics, checked against ``model`` before any
    work). The data is read once; each point's Lanczos starts from the same seeded vector."""
    _check_count("every", every)
    _check_count("k", k)
    _check_count("max_steps", max_steps)
    layout = Layout.of(model)
    try:
        params, buffers = load_checkpoints(layout, checkpoints)
    except WeightsError as error:
        raise HessianError(str(error)) from None
    return _along(Hessian(model, loss_fn, data, examples=examples, batch_size=batch_size, device=device), layout,
                  params, buffers, every, k, tol, max_steps, seed)


def along_path(hessian: Hessian, layout: Layout, params: Tensor, buffers: Tensor, *, every: int = 1, k: int = 1,
               seed: int = 0) -> Sharpness:
    """:func:`sharpness_along` on a path already flattened by ``layout``: (m, P) parameters
    and (m, B) buffers, one row per point, for an operator built once."""
    _check_count("every", every)
    return _along(hessian, layout, params, buffers, every, k, None, 100, seed)


def eigen_directions(hessian: Hessian, layout: Layout, seed: int = 0) -> Directions:
    """A landscape's slice on the unit eigenvectors of the Hessian's two largest eigenvalues
    (their eigenvalues kept), zero on the parameters the Hessian is not taken over."""
    top = _top(hessian, 2, None, 100, seed)
    vectors = [torch.cat([found[name].reshape(-1) if name in found else torch.zeros(math.prod(shape), dtype=top.flat.dtype)
                          for name, shape in zip(layout.names, layout.shapes)]) for found in top.vectors]
    return Directions(torch.stack(vectors), "hessian", layout.names, tuple(tuple(s) for s in layout.shapes),
                      eigenvalues=(float(top.values[0]), float(top.values[1])))


def _along(hessian: Hessian, layout: Layout, params: Tensor, buffers: Tensor, every: int, k: int,
           tol: float | None, max_steps: int, seed: int) -> Sharpness:
    _check_k(k, max_steps, hessian)
    steps = sorted({*range(0, len(params), every), len(params) - 1})
    found = []
    for step in steps:
        found.append(_top(hessian.at(layout.state(params[step], buffers[step])), k, tol, max_steps, seed))
    return Sharpness(torch.tensor(steps), torch.stack([f.values for f in found]), sum(f.products for f in found),
                     all(f.converged for f in found))


def hessian_trace(model: nn.Module, loss_fn: LossFn, data: Any, *, probes: int = 100, seed: int = 0,
                  examples: int | None = None, batch_size: int | None = None, device: Any = None,
                  params: str | Callable[[str, nn.Parameter], bool] | None = None) -> Trace:
    """The trace of the Hessian of the mean loss by Hutchinson's estimator: the mean of z'Hz
    over ``probes`` Rademacher vectors z drawn from ``torch.Generator().manual_seed(seed)``,
    with the standard error of that mean (the samples' standard deviation over sqrt(probes))."""
    _check_count("probes", probes)
    if probes < 2:
        raise HessianError("probes must be at least 2 to state the estimate's standard error")
    hessian = Hessian(model, loss_fn, data, examples=examples, batch_size=batch_size, device=device, params=params)
    generator = torch.Generator().manual_seed(seed)
    samples = []
    for _ in range(probes):
        z = _rademacher(hessian.size, generator)
        samples.append(float(z @ hessian(z).double().cpu()))
    found = torch.tensor(samples, dtype=torch.float64)
    return Trace(float(found.mean()), float(found.std() / math.sqrt(probes)), found)


def spectral_density(model: nn.Module, loss_fn: LossFn, data: Any, *, steps: int = 30, probes: int = 5,
                     seed: int = 0, examples: int | None = None, batch_size: int | None = None,
                     device: Any = None, params: str | Callable[[str, nn.Parameter], bool] | None = None) -> Density:
    """The Hessian's spectral density by stochastic Lanczos quadrature: ``steps`` Lanczos
    products from each of ``probes`` normalised Rademacher vectors; each run's Ritz values are
    nodes, weighted by the squared first components of their eigenvectors. For any function
    f, the average of sum(weights * f(nodes)) estimates trace(f(H)) / P."""
    _check_count("steps", steps)
    _check_count("probes", probes)
    hessian = Hessian(model, loss_fn, data, examples=examples, batch_size=batch_size, device=device, params=params)
    steps = min(steps, hessian.size)
    generator = torch.Generator().manual_seed(seed)
    nodes, weights = [], []
    for _ in range(probes):
        probe = _rademacher(hessian.size, generator).to(hessian.device, hessian.dtype)
        _, alphas, betas, _ = lanczos(hessian, probe, steps)
        values, ritz = torch.linalg.eigh(tridiagonal(alphas, betas))
        pad = steps - len(values)  # a Krylov space exhausted early: the rest weigh nothing
        nodes.append(torch.cat([values, values.new_zeros(pad)]))
        weights.append(torch.cat([ritz[0] ** 2, values.new_zeros(pad)]))
    return Density(torch.stack(nodes), torch.stack(weights))


def lanczos(product: Callable[[Tensor], Tensor], start: Tensor, steps: int,
            stop: Callable[[list[float], list[float], float], bool] | None = None
            ) -> tuple[Tensor, list[float], list[float], float]:
    """Lanczos on the symmetric operator ``product`` (v -> Hv) from ``start``, in its dtype and
    on its device: the orthonormal basis (rows), the tridiagonal's diagonal and off-diagonal,
    and the norm of the last residual (0 when the Krylov space is exhausted). Every new vector
    is orthogonalised against all before it, twice, so the basis stays orthonormal to rounding
    and no eigenvalue comes back as a ghost copy. Under a process group each step's outcome is
    rank 0's (see the module's docstring)."""
    basis = torch.empty(steps, len(start), dtype=start.dtype, device=start.device)
    basis[0] = start / start.norm()
    alphas: list[float] = []
    betas: list[float] = []
    for j in range(steps):
        w = product(basis[j])
        alpha = basis[j] @ w
        for _ in range(2):
            w = w - basis[: j + 1].T @ (basis[: j + 1] @ w)
        beta = float(w.norm())
        exhausted = beta <= 1e-10 * (max(abs(a) for a in [*alphas, float(alpha)]) or 1.0)
        done = exhausted or j + 1 == steps or (stop is not None and stop([*alphas, float(alpha)], betas, beta))
        # one message: the next vector, its coefficients and the verdict, the same on every rank
        step = _agreed(torch.cat([w, w.new_tensor([float(alpha), beta, float(exhausted), float(done)])]))
        w, alpha, beta, exhausted, done = step[:-4], *step[-4:].tolist()
        alphas.append(alpha)
        if exhausted:
            return basis[: j + 1], alphas, betas, 0.0
        if done:
            return basis[: j + 1], alphas, betas, beta
        betas.append(beta)
        basis[j + 1] = w / beta
    return basis, alphas, betas, 0.0  # steps == 0 never happens: the loop returns


def _converged(alphas: list[float], betas: list[float], tail: float, k: int, tol: float) -> bool:
    """Whether the top k Ritz pairs have residuals under tol: the residual of a Ritz pair is
    the last residual's norm times the last component of its eigenvector of the tridiagonal."""
    if len(alphas) < k:
        return False
    values, ritz = torch.linalg.eigh(tridiagonal(alphas, betas))
    top = torch.argsort(values, descending=True)[:k]
    residuals = tail * ritz[-1, top].abs()
    return bool((residuals <= tol * values[top].abs().clamp(min=1.0)).all())


def tridiagonal(alphas: list[float], betas: list[float]) -> Tensor:
    """The symmetric tridiagonal matrix of Lanczos's coefficients, in float64."""
    diagonal = torch.diag(torch.tensor(alphas, dtype=torch.float64))
    if betas:
        off = torch.tensor(betas, dtype=torch.float64)
        diagonal = diagonal + torch.diag(off, 1) + torch.diag(off, -1)
    return diagonal


def _rademacher(size: int, generator: torch.Generator) -> Tensor:
    return torch.randint(0, 2, (size,), generator=generator).double() * 2 - 1


def _split(vector: Tensor, names: tuple[str, ...], shapes: tuple[torch.Size, ...]) -> dict[str, Tensor]:
    parts, at = {}, 0
    for name, shape in zip(names, shapes):
        count = math.prod(shape)
        parts[name] = vector[at:at + count].reshape(shape)
        at += count
    return parts


def _check_count(name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise HessianError(f"{name} must be a whole number >= 1, got {value!r}")


__all__ = ["Density", "Eigenpairs", "Hessian", "HessianError", "Sharpness", "Trace", "hessian_trace",
           "sharpness_along", "spectral_density", "top_eigenvalues"]
