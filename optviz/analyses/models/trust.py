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
  in loss per direction unit squared. In grid steps (S = diag(h1, h2), the grid's spacing)
  it is S D'HD S, and its eigenvalue of largest size mu says how much the loss's quadratic
  model at the centre climbs along the slice's sharpest direction: mu k^2 / 2 after k steps.
  The number of steps it takes to climb the picture's whole range of heights R (max - min
  of the grid's finite losses) is sqrt(2 R / mu); the grid **resolves the curvature** when
  that is at least MIN_STEPS. Fewer, and the basin the Hessian sees at the centre is
  narrower than the grid can draw: the picture shows it as a dot, or not at all. (A smooth
  bowl that fills the grid takes (resolution - 1) / 2 steps: 7 points a side resolve it.)
  The Hessian is the local one: the kinks of ReLU networks, which a grid sees as curvature
  too, are not in it;
- **two seeds** (``check``; random directions only): a second slice through the same centre
  over the same grid, on filter-normalised directions drawn from ``seed + SECOND_SEED`` (their
  generators share no seed with the first slice's). The two pictures cannot match point by
  point, their directions differ, but a picture to trust shows the same heights: the slices
  **agree** when their grids' losses, each sorted, differ on average by at most SEEDS_MISS of
  the first slice's range (max - min of its finite losses).

Cost: the model's own loss (one pass over the data), the slice's centre, two
Hessian-vector products (each about two passes), and with ``check`` a second grid.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import Tensor, nn

from ...core.files import read_table
from .evaluation import Evaluator
from .hessian import Hessian, HessianError
from .weights import Directions, Layout, filter_normalised

CENTRE_TOLERANCE = 1e-5  # of max(1, |loss|): the slice's centre and the model's own loss agree
MIN_STEPS = 3  # grid steps at least for the centre's quadratic model to climb the picture's range
SEEDS_MISS = 0.1  # of the range: how far apart two seeds' sorted losses may be on average
SECOND_SEED = 2  # the check's seed is seed + 2: filter_normalised draws from seed + 1 and seed + 2


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
    heights: float  # the picture's range: max - min of the grid's finite losses
    # the slice's Hessian at its centre, D'HD, loss per direction unit squared; None when the
    # loss has no second derivative here (see missing)
    curvature: tuple[tuple[float, float], tuple[float, float]] | None
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
    def sharpest(self) -> float | None:
        """The slice's curvature at its centre of largest size (per direction unit squared)."""
        if self.curvature is None:
            return None
        hessian = torch.tensor(self.curvature, dtype=torch.float64)
        return max(torch.linalg.eigvalsh(hessian).tolist(), key=abs) if hessian.isfinite().all() else math.nan

    @property
    def steps(self) -> float | None:
        """Grid steps the centre's quadratic model takes to climb the picture's range along
        the slice's sharpest direction (see the module's docstring): inf on a flat slice."""
        if self.curvature is None:
            return None
        scale = torch.tensor(self.spacing, dtype=torch.float64)
        per_step = torch.tensor(self.curvature, dtype=torch.float64) * scale[:, None] * scale[None, :]
        if not per_step.isfinite().all():
            return math.nan
        mu = float(torch.linalg.eigvalsh(per_step).abs().max())
        if mu == 0:
            return math.inf
        return math.sqrt(2 * self.heights / mu) if self.heights >= 0 else math.nan

    @property
    def resolved(self) -> bool | None:
        """Whether the grid resolves the slice's curvature at its centre (None: unknown)."""
        return None if self.steps is None else self.steps >= MIN_STEPS

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
        verdict = "resolved" if self.resolved else \
            "TOO COARSE for the basin at the centre: use a smaller span or more points"
        return (f"resolution: {h}; the slice's sharpest curvature at the centre, {self.sharpest:.3g} per unit "
                f"squared, climbs the picture's range of {self.heights:.3g} in {self.steps:.3g} grid steps "
                f"({MIN_STEPS} needed): {verdict}")

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
        curvature = None if self.curvature is None else [list(map(_number, row)) for row in self.curvature]
        check = None if self.check is None else {"seed": self.check.seed, "gap": _number(self.check.gap),
                                                 "widest": _number(self.check.widest)}
        return {"own_loss": _number(self.own_loss), "centre_loss": _number(self.centre_loss),
                "lowest": list(map(_number, self.lowest)), "lowest_loss": _number(self.lowest_loss),
                "lowest_at_edge": self.lowest_at_edge,
                "off_plane": {name: _number(share) for name, share in self.off_plane.items()},
                "spacing": list(map(_number, self.spacing)), "heights": _number(self.heights),
                "curvature": curvature, "check": check,
                "missing": dict(self.missing)}

    @classmethod
    def from_dict(cls, saved: dict[str, Any]) -> "Trust":
        curvature = saved["curvature"]
        if curvature is not None:
            curvature = tuple(tuple(map(_value, row)) for row in curvature)
        check = saved["check"]
        if check is not None:
            check = Agreement(int(check["seed"]), _value(check["gap"]), _value(check["widest"]))
        return cls(_value(saved["own_loss"]), _value(saved["centre_loss"]),
                   tuple(map(_value, saved["lowest"])), _value(saved["lowest_loss"]),  # type: ignore[arg-type]
                   bool(saved["lowest_at_edge"]), {k: _value(v) for k, v in saved["off_plane"].items()},
                   tuple(map(_value, saved["spacing"])), _value(saved["heights"]), curvature,  # type: ignore[arg-type]
                   check, dict(saved["missing"]))

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
    at_centre = float(evaluator.losses(basis.plane(centre, torch.zeros(1, 2)), buffers, what="trust points")[0])
    i, j = divmod(int(torch.nan_to_num(losses.double(), nan=math.inf).argmin()), losses.shape[1])
    finite = losses[torch.isfinite(losses)].double()
    missing: dict[str, str] = {}
    try:
        curvature = _curvature(evaluator, basis, centre, buffers)
    except HessianError as error:
        curvature, missing["curvature"] = None, str(error)
    check = None
    if isinstance(second, str):
        missing["check"] = second
    elif second is not None:
        grid = torch.stack(torch.meshgrid(alphas, betas, indexing="xy"), dim=-1).reshape(-1, 2)
        other = evaluator.losses(second.plane(centre, grid), buffers, progress=progress, what="check points")
        check = _agreement(losses, other.reshape(losses.shape), seed + SECOND_SEED)
    return Trust(own_loss=_own_loss(evaluator, centre, buffers), centre_loss=at_centre,
                 lowest=(float(alphas[j]), float(betas[i])), lowest_loss=float(losses[i, j]),
                 lowest_at_edge=i in (0, len(betas) - 1) or j in (0, len(alphas) - 1),
                 off_plane=dict(off_plane), spacing=spacing,
                 heights=float(finite.max() - finite.min()) if len(finite) else math.nan,
                 curvature=curvature, check=check, missing=missing)


def _own_loss(evaluator: Evaluator, centre: Tensor, buffers: Tensor) -> float:
    """The model's loss at these weights by its own forward pass (no functional call, no
    vmap): a copy holding them, in eval mode, over the evaluator's batches, weighted by size."""
    model = _holding(evaluator, centre, buffers).eval()
    with torch.no_grad():
        return sum(float(evaluator.loss_fn(model(x), y)) * weight
                   for (x, y), weight in zip(evaluator.data, evaluator.weights))


def _curvature(evaluator: Evaluator, basis: Directions, centre: Tensor,
               buffers: Tensor) -> tuple[tuple[float, float], tuple[float, float]]:
    """The slice's Hessian D'HD at the centre, from two Hessian-vector products."""
    # the evaluator's batches as they are, not collated again
    data = torch.utils.data.DataLoader(evaluator.data, batch_size=None)
    hessian = Hessian(_holding(evaluator, centre, buffers), evaluator.loss_fn, data, device=evaluator.device)
    vectors = basis.vectors.to(evaluator.device, hessian.dtype)
    products = torch.stack([hessian(v) for v in vectors]).double()
    d = (vectors.double() @ products.T).cpu()
    d = (d + d.T) / 2  # symmetric to rounding
    return (float(d[0, 0]), float(d[0, 1])), (float(d[1, 0]), float(d[1, 1]))


def _holding(evaluator: Evaluator, centre: Tensor, buffers: Tensor) -> nn.Module:
    """A copy of the evaluator's model holding the flat weights ``centre`` and ``buffers``."""
    model = copy.deepcopy(evaluator.model)
    model.load_state_dict(evaluator.layout.state(centre.to(evaluator.device), buffers.to(evaluator.device)),
                          strict=False)
    return model


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


__all__ = ["Agreement", "Trust", "assess", "second_directions"]
