"""What a landscape costs, before the work: an estimate timed on one chunk, and a grid refined
only where it matters.

:func:`forecast` counts a landscape's work exactly (grid points, chunks, the paths' points,
training steps, examples read) and times it on this machine by evaluating one chunk of grid
points (the faster of two runs), two training steps per optimizer and the PCA of a few
random points: nothing else is trained, evaluated or written.

:func:`refined` evaluates a landscape's grid in two passes. The coarse grid is every
``COARSE_STRIDE``-th point of the full grid along each axis, and its last; its knots split the
full grid into cells. A cell is refined (every full-grid point in it, its edges included, is
evaluated) when

- a path passes through it: one of its points, or of the straight segment between two
  consecutive points, lies in the cell or on its edge;
- it touches the coarse grid's lowest point;
- its four corners' heights above the coarse grid's lowest loss differ by more than a factor
  of ``STEEP_FACTOR`` (3: more than one step of the contour levels optviz draws at 1, 2 and 5
  of each decade above the minimum), heights below a thousandth of the coarse grid's range
  counting as that: where the loss varies fast against its height;
- one of its corners is not finite.

Every other point is the bilinear interpolation of its cell's four corners. The evaluated
points are the very numbers the full grid holds there: a point's loss does not depend on the
chunk it falls in (see optviz.evaluation).
"""

from __future__ import annotations

import copy
import math
import time
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn

from ...core.limits import size
from .evaluation import Evaluator
from .training import epoch
from .weights import Layout, filter_normalised

COARSE_STRIDE = 4  # full-grid points between two coarse ones
STEEP_FACTOR = 3.0  # corners' heights above the minimum that differ more than this: refined
RANKS = (1, 2, 4, 8)  # the process counts an estimate is shown for
PCA_ROWS = 64  # the paths' points an estimate times the PCA of (measured: within 25% of 963 scaled up)


# --- the estimate ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Estimate:
    """A landscape's work counted exactly and its time measured on one chunk (see
    :func:`forecast`); ``str()`` reads as a report."""

    resolution: int
    chunk: int  # grid points evaluated together
    line_points: int  # the 1D line's points (0 without one)
    path_points: tuple[int, ...]  # each path's points, evaluated at their own weights
    examples: int  # examples in one pass over the evaluation data
    weights: int  # the model's parameters
    training_steps: int  # over all optimizers (0 without training)
    batch: int  # examples in a training step
    chunk_points: int  # points in the timed chunk
    chunk_seconds: float  # measured
    step_seconds: float  # a training step, measured, the mean over the optimizers (0 without training)
    pca_seconds: float  # the PCA of the paths' points, scaled from a smaller one measured (0 without PCA)
    chunk_bytes: int  # a chunk's weights while they are made
    activation_bytes: int  # a chunk's largest layer input and output together, on the largest batch
    path_bytes: int  # the paths' weights and buffers, kept during the run
    data_bytes: int  # the evaluation data, on the device

    @property
    def grid_points(self) -> int:
        return self.resolution**2

    @property
    def evaluations(self) -> int:
        """Examples run through the model, over the grid, the line and the paths' points."""
        return (self.grid_points + self.line_points + sum(self.path_points)) * self.examples

    @property
    def memory(self) -> int:
        """Bytes at the peak: the paths, the data, and one chunk with its activations."""
        return self.chunk_bytes + self.activation_bytes + self.path_bytes + self.data_bytes

    def seconds(self, ranks: int = 1) -> float:
        """The run's time on ``ranks`` processes like this one (torchrun): training and the PCA,
        which every process does in full, then the points, whose chunks are dealt out in turn."""
        per_point = self.chunk_seconds / self.chunk_points
        shares = [self.grid_points, *([self.line_points] if self.line_points else []), *self.path_points]
        return self.training_steps * self.step_seconds + self.pca_seconds + per_point * sum(
            busiest(points, self.chunk, ranks) for points in shares)

    def __str__(self) -> str:
        chunks = -(-self.grid_points // self.chunk)
        lines = [f"grid      {self.resolution} x {self.resolution} = {self.grid_points:,} points in {chunks:,} "
                 f"chunks of {self.chunk}, {self.examples:,} examples each"]
        if self.line_points:
            lines.append(f"line      {self.line_points} points")
        if len(self.path_points) > 1 or self.path_points[0] > 1:
            lines.append(f"paths     {len(self.path_points)} of {'/'.join(f'{n:,}' for n in self.path_points)} "
                         f"points, each at its own weights")
        lines.append(f"passes    {self.evaluations:,} examples through a model of {self.weights:,} weights")
        if self.training_steps:
            lines.append(f"training  {self.training_steps:,} steps of up to {self.batch} examples")
        lines.append(f"memory    about {size(self.memory)} at the peak: a chunk's weights {size(self.chunk_bytes)}, "
                     f"its activations {size(self.activation_bytes)}, the paths {size(self.path_bytes)}, "
                     f"the data {size(self.data_bytes)}")
        measured = f"one chunk of {self.chunk_points} points {duration(self.chunk_seconds)}"
        if self.training_steps:
            measured += f", one training step {duration(self.step_seconds)}"
        lines.append(f"measured  {measured}")
        parts = [f"{duration(self.training_steps * self.step_seconds)} training"] if self.training_steps else []
        parts += [f"{duration(self.pca_seconds)} PCA"] if self.pca_seconds else []
        lines.append(f"time      about {duration(self.seconds())} on this machine"
                     + (f" ({', '.join(parts)})" if parts else ""))
        lines.append("ranks     " + "   ".join(f"{k}: {duration(self.seconds(k))}" for k in RANKS)
                     + "  (torchrun --nproc-per-node k" + (", each trains in full)" if self.training_steps else ")"))
        return "\n".join(lines)


def forecast(evaluator: Evaluator, params: Tensor, buffers: Tensor, *, resolution: int, line: int,
             path_points: Sequence[int], train: list[tuple[Tensor, Tensor]], sources: dict[str, Any], epochs: int,
             batch: int, seed: int, trainer: Callable[[Any, nn.Module], tuple[torch.optim.Optimizer, list[Any]]],
             model: nn.Module, pca: bool) -> Estimate:
    """The work of a landscape with these settings, counted, and its time on this machine from:
    one chunk of grid points around ``params`` (any directions cost the same), the faster of two
    runs after one of two points has paid for starting; for each of ``sources``, the second of
    two training steps on a copy of ``model`` (``trainer(source, model)`` makes its torch
    optimizer); with ``pca``, the PCA of all the paths' points scaled from a smaller one."""
    layout = Layout.of(model)
    examples_seen = sum(len(x) for x, _ in train)
    steps_each = epochs * -(-examples_seen // batch) if train else 0
    chunk = evaluator.chunk
    points = min(chunk, resolution**2)
    axis = torch.linspace(-1, 1, points, dtype=params.dtype)
    plane = filter_normalised(layout, params, seed).plane(params, torch.stack([axis, axis.flip(0)], dim=1))
    evaluator.losses(plane[0:min(points, 2)], buffers)  # pays for vmap's and the threads' start
    chunk_seconds = _fastest(lambda: evaluator.losses(plane[0:points], buffers), 2)
    step_seconds = [_step_seconds(model, evaluator.loss_fn, train, source, batch, seed, trainer)
                    for source in sources.values()] if steps_each else []
    element = params.element_size()
    return Estimate(
        resolution=resolution, chunk=chunk, line_points=line, path_points=tuple(path_points),
        examples=sum(len(x) for x, _ in evaluator.data), weights=params.numel(),
        training_steps=steps_each * len(sources), batch=batch, chunk_points=points, chunk_seconds=chunk_seconds,
        step_seconds=sum(step_seconds) / len(step_seconds) if step_seconds else 0.0,
        pca_seconds=_pca_seconds(sum(path_points), params) if pca else 0.0,
        chunk_bytes=3 * chunk * params.numel() * element,
        activation_bytes=(chunk if evaluator.vectorised else 1) * _largest_layer_bytes(evaluator, params, buffers),
        path_bytes=2 * sum(path_points) * (params.numel() + buffers.numel()) * element,
        data_bytes=sum(t.numel() * t.element_size() for pair in evaluator.data for t in pair))


def busiest(points: int, chunk: int, ranks: int) -> int:
    """The most points any of ``ranks`` processes evaluates when chunk k of ``points`` goes to
    rank k mod ranks (optviz.evaluation's split)."""
    sizes = [min(chunk, points - start) for start in range(0, points, chunk)]
    return max((sum(sizes[rank::ranks]) for rank in range(ranks)), default=0)


def duration(seconds: float) -> str:
    """Seconds for people: 8 ms, 2.4 s, 3 min 10 s, 2 h 05 min."""
    if seconds < 1:
        return f"{seconds * 1000:.0f} ms" if seconds >= 0.001 else f"{seconds * 1e6:.0f} µs"
    if seconds < 60:
        return f"{seconds:.1f} s"
    if seconds < 3600:
        return f"{int(seconds // 60)} min {round(seconds % 60):02d} s"
    return f"{int(seconds // 3600)} h {round(seconds % 3600 / 60):02d} min"


def _step_seconds(model: nn.Module, loss_fn: Callable, train: list[tuple[Tensor, Tensor]], source: Any, batch: int,
                  seed: int, trainer: Callable[[Any, nn.Module], tuple[torch.optim.Optimizer, list[Any]]]) -> float:
    """One training step's time with ``source``, on a copy of the model: the second of two."""
    copied = copy.deepcopy(model).train()
    opt, _ = trainer(source, copied)
    x, y = (torch.cat([t[i] for t in train])[:batch] for i in (0, 1))
    generator = torch.Generator().manual_seed(seed)
    epoch(copied, loss_fn, x, y, opt, batch, generator)
    started = time.perf_counter()
    epoch(copied, loss_fn, x, y, opt, batch, generator)
    return time.perf_counter() - started


def _pca_seconds(points: int, params: Tensor) -> float:
    """The PCA of ``points`` sets of weights (an SVD of points x weights), from one of at most
    PCA_ROWS random rows on one thread (the fastest of three after one), times (points / rows)^2."""
    rows = min(points, PCA_ROWS)
    sample = torch.randn(rows, params.numel(), generator=torch.Generator().manual_seed(0), dtype=params.dtype)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # a small SVD on several threads mostly waits for them: scaled up, that is far off
    try:
        torch.linalg.svd(sample, full_matrices=False)
        return _fastest(lambda: torch.linalg.svd(sample, full_matrices=False), 3) * (points / rows) ** 2
    finally:
        torch.set_num_threads(threads)


def _fastest(work: Callable[[], Any], times: int) -> float:
    """The shortest of ``times`` runs of ``work``, in seconds: on a shared machine the others
    include someone else's work."""
    best = math.inf
    for _ in range(times):
        started = time.perf_counter()
        work()
        best = min(best, time.perf_counter() - started)
    return best


def _largest_layer_bytes(evaluator: Evaluator, params: Tensor, buffers: Tensor) -> int:
    """One point's largest layer input plus output, in bytes, on the largest batch: what a
    forward pass without gradients holds at its peak, besides the weights."""
    largest = max(range(len(evaluator.data)), key=lambda k: len(evaluator.data[k][0]))
    found = [0]

    def measure(module: nn.Module, inputs: Any, output: Any) -> None:
        held = [t for t in (*inputs, output) if isinstance(t, Tensor)]
        found[0] = max(found[0], sum(t.numel() * t.element_size() for t in held))

    model = evaluator.model
    hooks = [m.register_forward_hook(measure) for m in model.modules() if not list(m.children())]
    try:
        with torch.no_grad():
            state = evaluator.layout.split(params.to(evaluator.device))
            if evaluator.layout.buffer_names:
                state.update(evaluator.layout.split_buffers(buffers.to(evaluator.device)))
            torch.func.functional_call(model, state, (evaluator.data[largest][0],))
    finally:
        for hook in hooks:
            hook.remove()
    return found[0]


# --- the refined grid ------------------------------------------------------------------------


def coarse_knots(resolution: int) -> Tensor:
    """The full grid's indices the coarse grid keeps along an axis: every COARSE_STRIDE-th and
    the last."""
    knots = list(range(0, resolution, COARSE_STRIDE))
    return torch.tensor(knots + ([resolution - 1] if knots[-1] != resolution - 1 else []))


def refined(evaluate: Callable[[Tensor, str], Tensor], alphas: Tensor, betas: Tensor,
            paths: Sequence[Tensor]) -> tuple[Tensor, Tensor]:
    """The grid's losses (``losses[i, j]`` at betas[i], alphas[j]) evaluated only in the cells
    the module's docstring names and interpolated elsewhere, and the mask of the points
    evaluated. ``evaluate(coords, what)`` is the loss at each (alpha, beta) row of coords."""
    resolution = len(alphas)
    knots = coarse_knots(resolution)
    coarse = evaluate(_coords(alphas, betas, knots[:, None], knots[None, :]), "coarse grid points")
    coarse = coarse.reshape(len(knots), len(knots))
    cells = _path_cells(paths, alphas, betas, knots) | _lowest_cells(coarse) | _steep_cells(coarse)
    evaluated = torch.zeros(resolution, resolution, dtype=torch.bool)
    for i, j in cells.nonzero().tolist():
        evaluated[knots[i]:knots[i + 1] + 1, knots[j]:knots[j + 1] + 1] = True
    evaluated[knots[:, None], knots[None, :]] = False  # known already
    losses = _bilinear(coarse, knots, resolution)
    losses[knots[:, None], knots[None, :]] = coarse
    rows, cols = evaluated.nonzero(as_tuple=True)
    if len(rows):
        losses[rows, cols] = evaluate(_coords(alphas, betas, rows, cols), "refined grid points")
    evaluated[knots[:, None], knots[None, :]] = True
    return losses, evaluated


def _coords(alphas: Tensor, betas: Tensor, rows: Tensor, cols: Tensor) -> Tensor:
    """The (alpha, beta) of grid points (rows index betas, cols alphas), in row-major order."""
    rows, cols = torch.broadcast_tensors(rows, cols)
    return torch.stack([alphas[cols.reshape(-1)], betas[rows.reshape(-1)]], dim=1)


def _path_cells(paths: Sequence[Tensor], alphas: Tensor, betas: Tensor, knots: Tensor) -> Tensor:
    """Cells a path's points or the segments between them pass through: each segment is
    sampled at four points per full-grid spacing."""
    marked = torch.zeros(len(knots) - 1, len(knots) - 1, dtype=torch.bool)
    scale = torch.tensor([(alphas[-1] - alphas[0]) / (len(alphas) - 1),
                          (betas[-1] - betas[0]) / (len(betas) - 1)], dtype=torch.float64)
    origin = torch.tensor([alphas[0], betas[0]], dtype=torch.float64)
    for path in paths:
        at = (path.to(torch.float64) - origin) / scale  # in full-grid indices
        steps = (at[1:] - at[:-1]).nan_to_num(0.0)
        if len(steps):  # a segment that leaves the grid far behind is sampled at most 8 x resolution times
            pieces = steps.abs().max(dim=1).values.mul(4).ceil().clamp(1, 8 * len(alphas)).long()
            first = torch.repeat_interleave(pieces.cumsum(0) - pieces, pieces)
            fractions = (torch.arange(int(pieces.sum())) - first) / torch.repeat_interleave(pieces, pieces)
            at = torch.cat([torch.repeat_interleave(at[:-1], pieces, dim=0)
                            + fractions[:, None] * torch.repeat_interleave(steps, pieces, dim=0), at[-1:]])
        inside = at[((at >= 0) & (at <= len(alphas) - 1)).all(dim=1)]
        edges = knots.to(torch.float64)
        below, above = (torch.searchsorted(edges, inside, right=side) - 1 for side in (False, True))
        below, above = below.clamp(0, len(knots) - 2), above.clamp(0, len(knots) - 2)
        for row in (below[:, 1], above[:, 1]):  # a point on a knot's line is in the cells on both sides
            for col in (below[:, 0], above[:, 0]):
                marked[row, col] = True
    return marked


def _lowest_cells(coarse: Tensor) -> Tensor:
    """The cells around the coarse grid's lowest finite point."""
    n = len(coarse)
    marked = torch.zeros(n - 1, n - 1, dtype=torch.bool)
    finite = torch.where(coarse.isfinite(), coarse, torch.inf)
    if bool(coarse.isfinite().any()):
        i, j = divmod(int(finite.argmin()), n)
        marked[max(i - 1, 0):i + 1, max(j - 1, 0):j + 1] = True
    return marked


def _steep_cells(coarse: Tensor) -> Tensor:
    """Cells whose corners' heights above the coarse minimum differ by more than STEEP_FACTOR
    (heights floored at a thousandth of the coarse grid's range), or with a corner not finite."""
    finite = coarse[coarse.isfinite()]
    if not len(finite):
        return torch.ones(len(coarse) - 1, len(coarse) - 1, dtype=torch.bool)
    low, high = finite.min(), finite.max()
    height = (coarse - low).to(torch.float64).clamp_min(max(float(high - low) * 1e-3, 1e-30)).log()
    height = torch.where(coarse.isfinite(), height, torch.nan)
    corners = torch.stack([height[:-1, :-1], height[:-1, 1:], height[1:, :-1], height[1:, 1:]])
    spread = corners.amax(dim=0) - corners.amin(dim=0)  # NaN where a corner is not finite
    return ~(spread <= math.log(STEEP_FACTOR))


def _bilinear(coarse: Tensor, knots: Tensor, resolution: int) -> Tensor:
    """Every full-grid point from its cell's four coarse corners (non-finite corners spread only
    into their own cells, which are evaluated)."""
    index = torch.arange(resolution)
    cell = (torch.searchsorted(knots, index, right=True) - 1).clamp(max=len(knots) - 2)
    t = ((index - knots[cell]) / (knots[cell + 1] - knots[cell])).to(coarse.dtype)
    r, c, tr, tc = cell[:, None], cell[None, :], t[:, None], t[None, :]
    return ((1 - tr) * (1 - tc) * coarse[r, c] + (1 - tr) * tc * coarse[r, c + 1]
            + tr * (1 - tc) * coarse[r + 1, c] + tr * tc * coarse[r + 1, c + 1])
