"""A model's weights as one vector, its checkpoints, and the directions of a loss-landscape slice.

A :class:`Layout` names a model's trainable parameters (the vector's parts) and its buffers
(BatchNorm's running statistics), kept apart: directions move only parameters. Checkpoints
are state_dicts or files of them, checked against the model before anything runs.

Directions (:class:`Directions`) span a 2D slice through a centre:

- ``random``: filter-normalised (Li et al. 2018). For every weight tensor of two or more
  dimensions, each filter (a slice along dim 0: an output channel, a row, an embedding) of a
  Gaussian direction is scaled to the norm of the same filter of the centre's weights.
  Biases and normalisation parameters (tensors of one dimension) are not moved, unless
  ``biases=True``, which moves them along the weights themselves, as Li et al.'s code does.
  Drawn on the CPU from the seed, then moved: the same seed gives the same directions on any
  device.
- ``pca``: the top two principal components of the path's offsets from the centre.
- ``hessian``: the unit eigenvectors of the two largest eigenvalues of the loss's Hessian at
  the centre (made by optviz.landscape; the eigenvalues are kept with them).

Directions save and load (``.pt``), to draw several models on the same slice.
"""

from __future__ import annotations

import fnmatch
import math
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn

from ...core.files import atomic


class WeightsError(ValueError):
    """Weights that do not fit the model, in one line naming the first mismatch."""


@dataclass(frozen=True)
class Layout:
    """The model's trainable parameters and its buffers, by name and shape, in order."""

    names: tuple[str, ...]
    shapes: tuple[torch.Size, ...]
    buffer_names: tuple[str, ...]
    buffer_shapes: tuple[torch.Size, ...]

    @classmethod
    def of(cls, model: nn.Module) -> "Layout":
        params = [(n, p.shape) for n, p in model.named_parameters() if p.requires_grad]
        buffers = [(n, b.shape) for n, b in model.named_buffers() if b.is_floating_point()]
        return cls(tuple(n for n, _ in params), tuple(s for _, s in params),
                   tuple(n for n, _ in buffers), tuple(s for _, s in buffers))

    def split(self, vector: Tensor) -> dict[str, Tensor]:
        """A flat parameter vector as a name -> tensor dict."""
        return _split(vector, self.names, self.shapes)

    def mask(self, names: Sequence[str]) -> Tensor:
        """1 on the parts of the flat parameter vector that belong to ``names``, 0 elsewhere."""
        return torch.cat([torch.full((math.prod(s),), float(n in names)) for n, s in zip(self.names, self.shapes)]) \
            if self.names else torch.zeros(0)

    def split_buffers(self, vector: Tensor) -> dict[str, Tensor]:
        return _split(vector, self.buffer_names, self.buffer_shapes)

    def state(self, params: Tensor, buffers: Tensor) -> dict[str, Tensor]:
        """Flat parameter and buffer vectors as one name -> tensor dict (a partial state_dict)."""
        return self.split(params) | (self.split_buffers(buffers) if self.buffer_names else {})

    def flatten(self, state: dict[str, Tensor]) -> tuple[Tensor, Tensor]:
        """(parameters, buffers) of a state_dict as two flat vectors."""
        params = torch.cat([state[n].detach().reshape(-1) for n in self.names]) if self.names else torch.zeros(0)
        buffers = [state[n].detach().reshape(-1).to(params.dtype) for n in self.buffer_names]
        return params, torch.cat(buffers) if buffers else torch.zeros(0, dtype=params.dtype)

    def check(self, state: Any, where: str) -> dict[str, Tensor]:
        """The state_dict, or WeightsError naming the first key that does not fit."""
        if not isinstance(state, dict):
            raise WeightsError(f"{where}: expected a state_dict (a dict of tensors), got {type(state).__name__}")
        for name, shape in [*zip(self.names, self.shapes), *zip(self.buffer_names, self.buffer_shapes)]:
            if name not in state:
                raise WeightsError(f"{where}: the model's {name!r} {_shape(shape)} is missing")
            if not isinstance(state[name], Tensor) or state[name].shape != shape:
                got = _shape(state[name].shape) if isinstance(state[name], Tensor) else type(state[name]).__name__
                raise WeightsError(f"{where}: {name!r} is {got}, the model's is {_shape(shape)}")
        return state


def load_checkpoints(layout: Layout, checkpoints: Sequence[Any]) -> tuple[Tensor, Tensor]:
    """The checkpoints (state_dicts, or files saved with torch.save) as (k, P) parameter and
    (k, B) buffer vectors, each checked against the layout."""
    if isinstance(checkpoints, (str, Path, dict)) or not checkpoints:
        raise WeightsError("checkpoints must be a list of two or more state_dicts or files")
    params, buffers = [], []
    for i, checkpoint in enumerate(checkpoints):
        where = f"checkpoint {i}" + (f" ({checkpoint})" if isinstance(checkpoint, (str, Path)) else "")
        state = _read(checkpoint, where) if isinstance(checkpoint, (str, Path)) else checkpoint
        p, b = layout.flatten(layout.check(state, where))
        params.append(p)
        buffers.append(b)
    return torch.stack(params), torch.stack(buffers)


def _read(path: str | Path, where: str) -> Any:
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except FileNotFoundError:
        raise WeightsError(f"{where}: no such file") from None
    except Exception as error:  # noqa: BLE001 - a file that is not a state_dict may fail in many ways
        raise WeightsError(f"{where}: not a torch state_dict file: {type(error).__name__}") from None
    # a whole training checkpoint often keeps the weights under "model" or "state_dict"
    for key in ("state_dict", "model", "model_state_dict"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            return state[key]
    return state


@dataclass(frozen=True)
class Directions:
    """Two directions (2, P) in the space of a layout's parameters, with how they were made."""

    vectors: Tensor
    kind: str  # "pca", "random" (filter-normalised) or "hessian"
    names: tuple[str, ...]
    shapes: tuple[tuple[int, ...], ...]
    explained: tuple[float, float] | None = None  # PCA's share of the variance
    eigenvalues: tuple[float, float] | None = None  # the Hessian's, for its eigenvectors

    def fits(self, layout: Layout) -> "Directions":
        """These directions, or WeightsError naming the first parameter they do not fit."""
        for name, shape in zip(layout.names, layout.shapes):
            if name not in self.names:
                raise WeightsError(f"the directions have no {name!r}: they were made for another model")
            mine = self.shapes[self.names.index(name)]
            if tuple(mine) != tuple(shape):
                raise WeightsError(f"the directions' {name!r} is {_shape(mine)}, the model's is {_shape(shape)}")
        if tuple(self.names) != tuple(layout.names):
            raise WeightsError("the directions' parameters are in another order or set than the model's")
        return self

    def only(self, mask: Tensor) -> "Directions":
        """These directions with every part outside ``mask`` (see Layout.mask) set to zero."""
        return replace(self, vectors=self.vectors * mask.to(self.vectors.device, self.vectors.dtype))

    def coordinates(self, offsets: Tensor) -> tuple[Tensor, float]:
        """The least-squares (a, b) of each offset (m, P) in the directions' plane, and the share
        of the offsets' squared length the plane misses. Normal equations over elementwise sums
        in float64, not lstsq: a LAPACK solve may round differently from one process to the next."""
        d, o = self.vectors.to(offsets.device, torch.float64), offsets.to(torch.float64)
        g11, g12, g22 = (d[0] * d[0]).sum(), (d[0] * d[1]).sum(), (d[1] * d[1]).sum()
        r1, r2 = (o * d[0]).sum(dim=1), (o * d[1]).sum(dim=1)
        det = (g11 * g22 - g12 * g12).clamp_min(1e-300)
        coords = torch.stack([(g22 * r1 - g12 * r2) / det, (g11 * r2 - g12 * r1) / det], dim=1)
        residual = o - coords[:, :1] * d[0] - coords[:, 1:] * d[1]
        missed = float((residual**2).sum() / (o**2).sum().clamp_min(1e-30))
        return coords.to(offsets.dtype), missed

    def plane(self, centre: Tensor, coords: Tensor) -> "Plane":
        """The weights centre + a d1 + b d2 at each (a, b) of ``coords``."""
        return Plane(centre, self.vectors.to(centre.device, centre.dtype), coords)

    def save(self, path: str | Path) -> Path:
        """Write them to a .pt file (tensors and plain lists: loads with weights_only)."""
        path = Path(path)
        with atomic(path) as tmp:
            torch.save({"kind": self.kind, "vectors": self.vectors.cpu(), "names": list(self.names),
                        "shapes": [list(s) for s in self.shapes], "explained": list(self.explained or []),
                        "eigenvalues": list(self.eigenvalues or [])}, tmp)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "Directions":
        try:
            saved = torch.load(path, map_location="cpu", weights_only=True)
            explained = tuple(saved["explained"]) or None
            eigenvalues = tuple(saved.get("eigenvalues", [])) or None  # files from before they were kept have none
            return cls(saved["vectors"], saved["kind"], tuple(saved["names"]),
                       tuple(tuple(s) for s in saved["shapes"]), explained, eigenvalues)  # type: ignore[arg-type]
        except FileNotFoundError:
            raise WeightsError(f"{path}: no such directions file") from None
        except Exception as error:  # noqa: BLE001 - any unreadable file is one message
            raise WeightsError(f"{path}: not an optviz directions file ({type(error).__name__})") from None


class Plane:
    """Points centre + a d1 + b d2 of a plane of weights, made a slice at a time (a 51 x 51 grid
    of a large model is never held whole) and elementwise, so that every process makes the same
    bits (a matrix product's rounding can depend on where its operands sit in memory)."""

    def __init__(self, centre: Tensor, vectors: Tensor, coords: Tensor) -> None:
        self.centre, self.vectors, self.coords = centre, vectors, coords

    def __len__(self) -> int:
        return len(self.coords)

    def __getitem__(self, rows: slice) -> Tensor:
        c = self.coords[rows].to(self.centre.device, self.centre.dtype)
        return self.centre + c[:, :1] * self.vectors[0] + c[:, 1:] * self.vectors[1]


def filter_normalised(layout: Layout, centre: Tensor, seed: int, *, biases: bool = False) -> Directions:
    """Two filter-normalised random directions around ``centre`` (see the module's docstring)."""
    vectors = []
    for k in (1, 2):
        g = torch.Generator().manual_seed(seed + k)
        parts = []
        for weights in layout.split(centre.detach().cpu()).values():
            if weights.ndim < 2:
                parts.append(weights.clone() if biases else torch.zeros_like(weights))
                continue
            d = torch.randn(weights.shape, generator=g, dtype=weights.dtype)
            rows, d_rows = weights.reshape(len(weights), -1), d.reshape(len(d), -1)
            scale = rows.norm(dim=1, keepdim=True) / d_rows.norm(dim=1, keepdim=True).clamp_min(1e-12)
            parts.append((d_rows * scale).reshape(weights.shape))
        vectors.append(torch.cat([p.reshape(-1) for p in parts]))
    return Directions(torch.stack(vectors).to(centre.device), "random", layout.names,
                      tuple(tuple(s) for s in layout.shapes))


def principal(layout: Layout, points: Tensor, centre: Tensor) -> Directions:
    """The top two principal directions of the points' offsets from the centre (not from their
    mean: the slice must pass through the centre, as in Li et al.)."""
    _, s, vh = torch.linalg.svd(points - centre, full_matrices=False)
    if len(vh) < 2:
        raise WeightsError("PCA directions need a path of at least two points besides the centre")
    share = (s**2 / (s**2).sum().clamp_min(1e-30)).tolist()
    return Directions(vh[:2].clone(), "pca", layout.names, tuple(tuple(sh) for sh in layout.shapes),
                      (share[0], share[1]))


def chosen(model: nn.Module, params: str | Callable[[str, nn.Parameter], bool]) -> tuple[str, ...]:
    """The names of the parameters ``params`` selects: "trainable" (all with requires_grad), a
    name pattern matched with fnmatch against named_parameters' names (``"fc2.*"``), or a
    function (name, parameter) -> bool. Frozen parameters (requires_grad=False) are never
    moved. WeightsError, in one line, for a selection of nothing or a ``params`` of another kind."""
    named = list(model.named_parameters())
    if params == "trainable":
        picked = [n for n, p in named if p.requires_grad]
        if not picked:
            raise WeightsError("params='trainable': the model has no parameter with requires_grad")
        return tuple(picked)
    if isinstance(params, str):
        matched = [(n, p) for n, p in named if fnmatch.fnmatchcase(n, params)]
        if not matched:
            shown = ", ".join(n for n, _ in named[:4]) + (f", ... ({len(named)} in all)" if len(named) > 4 else "")
            raise WeightsError(f"params={params!r} matches no parameter; the model's are {shown or 'none'}")
        picked = [n for n, p in matched if p.requires_grad]
        if not picked:
            raise WeightsError(f"params={params!r} matches only frozen parameters (requires_grad=False), "
                               f"which are never moved")
        return tuple(picked)
    if callable(params):
        picked = [n for n, p in named if p.requires_grad and params(n, p)]
        if not picked:
            raise WeightsError(f"params= selects no parameter: the function returned False for all "
                               f"{sum(p.requires_grad for _, p in named)} trainable ones")
        return tuple(picked)
    raise WeightsError(f"params must be a name pattern like 'fc2.*', a function (name, parameter) -> bool "
                       f"or 'trainable', got {type(params).__name__}")


def _split(vector: Tensor, names: Sequence[str], shapes: Sequence[torch.Size]) -> dict[str, Tensor]:
    sizes = [math.prod(s) for s in shapes]
    return {n: part.reshape(s) for n, part, s in zip(names, vector.split(sizes), shapes)}


def _shape(shape: Sequence[int]) -> str:
    return "(" + ", ".join(map(str, shape)) + ("," if len(shape) == 1 else "") + ")"
