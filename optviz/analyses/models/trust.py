"""How far a landscape can be trusted: the checks a reader would otherwise take on faith.

A slice of a loss landscape shows two directions out of the model's many, evaluated by other
code than the model's own forward pass and sampled on a grid. :func:`assess` checks it
(``Landscape.trust`` keeps the answer, a :class:`Trust`):

- **the centre**: the slice's value at its centre (0, 0), computed as the grid is, against
  the model's own loss there: plain forward passes of the model holding the centre's weights
  and buffers, in eval mode, averaged over the same data. They agree when they differ by at
  most CENTRE_TOLERANCE x max(1, |loss|) (float32 rounding of a mean is far below it; a
  model whose loss is not a function of its state_dict is far above it);
- **the lowest point**: the grid point of least loss, where it lies (direction units) and
  how far from the centre; the centre is the slice's lowest point when no grid point is lower
  than the centre's value by more than the same tolerance. A lowest point on the grid's edge
  says the slice goes lower beyond it;
- **off the plane**: each path's share of its squared offset from the centre that the plane
  cannot show (a path of one point, the model alone, has none);
- **the resolution against the curvature**: the slice's Hessian at its centre, D'HD for the
  directions D = (d1, d2), from two Hessian-vector products (see optviz.landscape.Hessian),
  in loss per direction unit squared; its eigenvalue of largest size, lambda, is the sharpest
  curvature the slice holds. The grid's own second differences at the centre,
  s_i = (L(h_i e_i) - 2 L(0) + L(-h_i e_i)) / h_i^2 with the grid's spacing h_i along axis i,
  should find the same curvature d_i'H d_i. The grid **resolves the curvature** when each s_i
  misses d_i'H d_i by at most CURVATURE_MISS x lambda, beyond the differences' own rounding
  (4 eps |L(0)| / h_i^2, eps the weights' dtype's). A basin narrower than a grid step fails:
  the differences span its walls, not its bottom, and the picture draws it as a dot or not
  at all;
- **two seeds** (``check``; random directions only): a second slice through the same centre
  over the same grid, on filter-normalised directions drawn from ``seed + SECOND_SEED`` (their
  generators share no seed with the first slice's). The two pictures cannot match point by
  point, their directions differ, but a picture to trust shows the same heights: the slices
  **agree** when their grids' losses, each sorted, differ on average by at most SEEDS_MISS of
  the first slice's range (max - min of its finite losses).

Cost: the model's own loss (one pass over the data), five points of the slice, two
Hessian-vector products (each about two passes), and with ``check`` a second grid.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor

from ...core.files import read_table
from .evaluation import Evaluator
from .hessian import Hessian, HessianError
from .weights import Directions, Layout, filter_normalised

CENTRE_TOLERANCE = 1e-5  # of max(1, |loss|): the slice's centre and the model's own loss agree
CURVATURE_MISS = 0.25  # of the sharpest curvature: what the grid's second differences may miss
SEEDS_MISS = 0.1  # of the range: how far apart two seeds' sorted losses may be on average
SECOND_SEED = 2  # the check's seed is seed + 2: filter_normalised draws from seed + 1 and seed + 2


@dataclass(frozen=True)
class Curvature:
    """The slice's Hessian at its centre and what the grid's spacing sees of it."""

    hessian: tuple[tuple[float, float], tuple[float, float]]  # D'HD, loss per direction unit squared
    seen: tuple[float, float]  # the grid's second differences at the centre along each axis
    rounding: tuple[float, float]  # the second differences' own rounding error

    @property
    def eigenvalues(self) -> tuple[float, float]:
        """The slice's two curvatures at its centre, largest first."""
        values = torch.linalg.eigvalsh(torch.tensor(self.hessian, dtype=torch.float64)).tolist()
        return values[1], values[0]

    @property
    def sharpest(self) -> float:
        """The eigenvalue of largest size: the sharpest curvature in the slice."""
        return max(self.eigenvalues, key=abs)

    @property
    def miss(self) -> float:
        """The most the second differences miss the Hessian's curvature along an axis, beyond
        their rounding, as a share of the sharpest curvature (0 for a flat slice seen flat)."""
        gaps = [max(0.0, abs(s - self.hessian[i][i]) - r) for i, (s, r) in enumerate(zip(self.seen, self.rounding))]
        scale = abs(self.sharpest)
        return max(gaps) / scale if scale > 0 else (0.0 if max(gaps) == 0 else math.inf)

    @property
    def resolved(self) -> bool:
        return self.miss <= CURVATURE_MISS


@dataclass(frozen=True)
class Agreement:
    """A second slice from another seed's random directions, against the first."""

    seed: int
    gap: float  # mean |sorted losses - the other's sorted losses| / the first slice's range
    widest: float  # the largest such difference, of the same range
    losses: Tensor | None = field(default=None, compare=False)  # the second slice's grid (not saved)

    @property
    def agrees(self) -> bool:
        return self.gap <= SEEDS_MISS


@dataclass(frozen=True)
class Trust:
    """What a landscape's picture can be trusted for (see the module's docstring)."""

    own_loss: float  # the model's own loss at the centre's weights
    centre_loss: float  # the slice's value at its centre, computed as the grid is
    lowest: tuple[float, float]  # the grid point of least loss, in direction units
    lowest_loss: float
    lowest_at_edge: bool
    off_plane: dict[str, float]  # each path's share of squared offset the plane cannot show
    spacing: tuple[float, float]  # the grid's step along each axis, in direction units
    curvature: Curvature | None  # None when the loss has no second derivative here (see missing)
    check: Agreement | None = None
    missing: dict[str, str] = field(default_factory=dict)  # "curvature" / "check": why not given

    @property
    def centre_gap(self) -> float:
        """The slice's centre value minus the model's own loss."""
        return self.centre_loss - self.own_loss

    @property
    def centre_agrees(self) -> bool:
        return abs(self.centre_gap) <= _tolerance(self.own_loss)

    @property
    def centre_is_lowest(self) -> bool:
        return not self.lowest_loss < self.centre_loss - _tolerance(self.centre_loss)

    @property
    def distance(self) -> float:
        """How far the lowest grid point lies from the centre, in direction units."""
        return math.hypot(*self.lowest)

    @property
    def resolved(self) -> bool | None:
        """Whether the grid resolves the slice's curvature at its centre (None: unknown)."""
        return None if self.curvature is None else self.curvature.resolved

    def lines(self) -> list[str]:
        """The report, a line per check."""
        relation = "agree" if self.centre_agrees else "DISAGREE"
        lines = [f"centre: the slice's value {self.centre_loss:.6g}, the model's own loss {self.own_loss:.6g} "
                 f"(difference {self.centre_gap:.2g}): they {relation}"]
        if self.centre_is_lowest:
            lines.append("lowest point: the centre is the lowest point of the slice")
        else:
            a, b = self.lowest
            edge = ", on the grid's edge (the slice goes lower beyond it)" if self.lowest_at_edge else ""
            lines.append(f"lowest point: ({a:.3g}, {b:.3g}), {self.distance:.3g} direction units from the centre, "
                         f"loss {self.lowest_loss:.4g} ({self.centre_loss - self.lowest_loss:.3g} below the centre)"
                         f"{edge}")
        if self.off_plane:
            lines.append("off the plane: " + ", ".join(f"{name} {share:.1%}" for name, share in self.off_plane.items()))
        lines.append(self._resolution_line())
        if self.check is not None:
            verdict = "agrees" if self.check.agrees else "DISAGREES"
            lines.append(f"check: a second slice (seed {self.check.seed}) {verdict}: the sorted losses differ on "
                         f"average by {self.check.gap:.1%} of the range ({SEEDS_MISS:.0%} allowed), "
                         f"{self.check.widest:.1%} at most")
        elif "check" in self.missing:
            lines.append(f"check: {self.missing['check']}")
        return lines

    def _resolution_line(self) -> str:
        h = f"spacing {self.spacing[0]:.3g} x {self.spacing[1]:.3g}"
        if self.curvature is None:
            return f"resolution: {h}; curvature unknown: {self.missing.get('curvature', 'not computed')}"
        c = self.curvature
        verdict = "resolved" if c.resolved else "TOO COARSE: use a smaller span or more points"
        return (f"resolution: {h}; the slice's sharpest curvature {c.sharpest:.3g} per unit squared; the grid's "
                f"second differences miss it by {c.miss:.0%} ({CURVATURE_MISS:.0%} allowed): {verdict}")

    def summary(self) -> str:
        return "trust:\n" + "\n".join(f"  {line}" for line in self.lines())

    __str__ = summary

    def note(self) -> str:
        """The report's verdicts in one line, for the figure (which breaks it where it must)."""
        parts = [("centre = the model's loss" if self.centre_agrees else "centre ≠ the model's loss")
                 + f" ({self.own_loss:.4g})",
                 "centre is the slice's lowest point" if self.centre_is_lowest else
                 f"lowest point {self.distance:.2g} units off the centre ({self.lowest_loss:.4g})"]
        if self.resolved is not None:
            parts.append("grid resolves the curvature" if self.resolved else "grid too coarse for the curvature")
        if self.check is not None:
            parts.append(f"a second seed's slice {'agrees' if self.check.agrees else 'disagrees'} "
                         f"({self.check.gap:.0%} apart)")
        return " · ".join(parts)

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-safe data (what a saved landscape keeps; the check's grid is not)."""
        curvature = None if self.curvature is None else {
            "hessian": [list(map(_number, row)) for row in self.curvature.hessian],
            "seen": list(map(_number, self.curvature.seen)), "rounding": list(map(_number, self.curvature.rounding))}
        check = None if self.check is None else {"seed": self.check.seed, "gap": _number(self.check.gap),
                                                 "widest": _number(self.check.widest)}
        return {"own_loss": _number(self.own_loss), "centre_loss": _number(self.centre_loss),
                "lowest": list(map(_number, self.lowest)), "lowest_loss": _number(self.lowest_loss),
                "lowest_at_edge": self.lowest_at_edge,
                "off_plane": {name: _number(share) for name, share in self.off_plane.items()},
                "spacing": list(map(_number, self.spacing)), "curvature": curvature, "check": check,
                "missing": dict(self.missing)}

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> "Trust":
        curvature = saved["curvature"]
        if curvature is not None:
            curvature = Curvature(tuple(tuple(map(_value, row)) for row in curvature["hessian"]),  # type: ignore[arg-type]
                                  tuple(map(_value, curvature["seen"])),  # type: ignore[arg-type]
                                  tuple(map(_value, curvature["rounding"])))  # type: ignore[arg-type]
        check = saved["check"]
        if check is not None:
            check = Agreement(int(check["seed"]), _value(check["gap"]), _value(check["widest"]))
        return cls(_value(saved["own_loss"]), _value(saved["centre_loss"]),
                   tuple(map(_value, saved["lowest"])), _value(saved["lowest_loss"]),  # type: ignore[arg-type]
                   bool(saved["lowest_at_edge"]), {k: _value(v) for k, v in saved["off_plane"].items()},
                   tuple(map(_value, saved["spacing"])), curvature, check, dict(saved["missing"]))  # type: ignore[arg-type]

    @classmethod
    def read(cls, path: str | Path) -> "Trust":
        """The report kept in a landscape's data file (Landscape.save: .npz, .json or .csv)."""
        _, meta, _ = read_table(path)
        if not isinstance(meta.get("trust"), dict):
            raise ValueError(f"cannot read {path}: it keeps no landscape's trust report")
        try:
            return cls.from_dict(meta["trust"])
        except (KeyError, TypeError, ValueError) as error:
            raise ValueError(f"cannot read {path}: its trust report is damaged ({error!r})") from None


def second_directions(kind: str, layout: Layout, centre: Tensor, seed: int, *, biases: bool,
                      mask: Tensor | None) -> Directions | str:
    """The check's directions (another seed's, restricted as the first slice's are), or why
    the check does not apply to directions of ``kind``."""
    if kind != "random":
        made = "the paths' own, drawn by no seed" if kind == "pca" else "loaded from a file"
        return f"does not apply: the directions are {kind} ({made}); a second seed checks random directions only"
    other = filter_normalised(layout, centre, seed + SECOND_SEED, biases=biases)
    return other.only(mask) if mask is not None else other


def assess(evaluator: Evaluator, basis: Directions, centre: Tensor, buffers: Tensor, alphas: Tensor, betas: Tensor,
           losses: Tensor, off_plane: dict[str, float], *, second: Directions | str | None = None,
           seed: int = 0, progress: Any = None) -> Trust:
    """The landscape's trust report (see the module's docstring): ``losses[i, j]`` at betas[i],
    alphas[j] on the plane centre + a d1 + b d2 (``basis``) with the centre's ``buffers``;
    ``second``: the check's directions (drawn from ``seed + SECOND_SEED``), or why it does
    not apply, or None when not asked for."""
    spacing = (float(alphas[1] - alphas[0]), float(betas[1] - betas[0]))
    probes = torch.tensor([[0.0, 0.0], [spacing[0], 0.0], [-spacing[0], 0.0], [0.0, spacing[1]], [0.0, -spacing[1]]])
    near = evaluator.losses(basis.plane(centre, probes), buffers, what="trust points").double()
    i, j = divmod(int(torch.nan_to_num(losses.double(), nan=math.inf).argmin()), losses.shape[1])
    missing: dict[str, str] = {}
    try:
        curvature = _curvature(evaluator, basis, centre, buffers, near, spacing)
    except HessianError as error:
        curvature, missing["curvature"] = None, str(error)
    check = None
    if isinstance(second, str):
        missing["check"] = second
    elif second is not None:
        grid = torch.stack(torch.meshgrid(alphas, betas, indexing="xy"), dim=-1).reshape(-1, 2)
        other = evaluator.losses(second.plane(centre, grid), buffers, progress=progress, what="check points")
        check = _agreement(losses, other.reshape(losses.shape), seed + SECOND_SEED)
    return Trust(own_loss=_own_loss(evaluator, centre, buffers), centre_loss=float(near[0]),
                 lowest=(float(alphas[j]), float(betas[i])), lowest_loss=float(losses[i, j]),
                 lowest_at_edge=i in (0, len(betas) - 1) or j in (0, len(alphas) - 1),
                 off_plane=dict(off_plane), spacing=spacing, curvature=curvature, check=check, missing=missing)


def _own_loss(evaluator: Evaluator, centre: Tensor, buffers: Tensor) -> float:
    """The model's loss at these weights by its own forward pass (no functional call, no
    vmap): a copy holding them, in eval mode, over the evaluator's batches, weighted by size."""
    layout = evaluator.layout
    model = copy.deepcopy(evaluator.model).eval()
    state = {**layout.split(centre.to(evaluator.device)), **layout.split_buffers(buffers.to(evaluator.device))}
    model.load_state_dict(state, strict=False)
    with torch.no_grad():
        return sum(float(evaluator.loss_fn(model(x), y)) * weight
                   for (x, y), weight in zip(evaluator.data, evaluator.weights))


def _curvature(evaluator: Evaluator, basis: Directions, centre: Tensor, buffers: Tensor, near: Tensor,
               spacing: tuple[float, float]) -> Curvature:
    """D'HD at the centre from two Hessian-vector products, and the grid's second
    differences there (``near``: the loss at the centre and one step either way on each axis)."""
    layout = evaluator.layout
    model = copy.deepcopy(evaluator.model)
    model.load_state_dict({**layout.split(centre.to(evaluator.device)),
                           **layout.split_buffers(buffers.to(evaluator.device))}, strict=False)
    # the evaluator's batches as they are, not collated again
    data = torch.utils.data.DataLoader(evaluator.data, batch_size=None)
    hessian = Hessian(model, evaluator.loss_fn, data, device=evaluator.device)
    vectors = basis.vectors.to(evaluator.device, hessian.dtype)
    products = torch.stack([hessian(v) for v in vectors]).double()
    d = (vectors.double() @ products.T).cpu()
    d = (d + d.T) / 2  # symmetric to rounding
    eps = torch.finfo(centre.dtype).eps
    seen = tuple(float((near[1 + 2 * k] - 2 * near[0] + near[2 + 2 * k]) / spacing[k] ** 2) for k in range(2))
    rounding = tuple(4 * eps * abs(float(near[0])) / h**2 for h in spacing)
    return Curvature(((float(d[0, 0]), float(d[0, 1])), (float(d[1, 0]), float(d[1, 1]))),
                     seen, rounding)  # type: ignore[arg-type]


def _agreement(first: Tensor, second: Tensor, seed: int) -> Agreement:
    """How far apart the two grids' sorted finite losses are, as shares of the first's range."""
    a, b = (torch.sort(g.double().reshape(-1)[torch.isfinite(g.reshape(-1))]).values for g in (first, second))
    if len(a) != len(b) or not len(a):  # a slice non-finite where the other is not: they do not agree
        return Agreement(seed, math.inf, math.inf, second)
    spread = float(a[-1] - a[0])
    gaps = (a - b).abs() / spread if spread > 0 else (a - b).abs() * math.inf
    gaps = torch.nan_to_num(gaps, nan=0.0)  # 0 / 0: both flat and equal
    return Agreement(seed, float(gaps.mean()), float(gaps.max()), second)


def _tolerance(loss: float) -> float:
    return CENTRE_TOLERANCE * max(1.0, abs(loss)) if math.isfinite(loss) else 0.0


def _number(value: float) -> float | str:
    """A float as JSON takes it: non-finite ones as their names."""
    return value if math.isfinite(value) else repr(value)


def _value(saved: float | str) -> float:
    return float(saved)


__all__ = ["Agreement", "Curvature", "Trust", "assess", "second_directions"]
