"""A model's loss at many sets of weights: batched, on a device, split across ranks, resumable.

The data is read once, in its own order, into fixed batches (a DataLoader as it yields them,
a Dataset or tensors in batches of ``batch_size``, the first ``examples`` only if asked). The
loss at a set of weights is the mean over all of it: ``loss_fn(outputs, targets)`` is taken
to be a batch mean, and the batches are weighted by their size. The model runs in eval mode
(dropout off; BatchNorm uses running statistics). Grid points all use the centre's buffers,
the running statistics at the centre's weights; the points of a path use their own, recorded
with each checkpoint or training step.

Weights are evaluated in chunks of ``chunk`` points, each chunk as one ``torch.func.vmap`` of
``functional_call``, except for models with convolutions or pooling, whose batching under vmap
(grouped convolutions, pooling with indices) is slower than one plain call per point: they
are evaluated point by point. A point's loss does not depend on the chunk it falls in (a
chunk of one point is evaluated as two: vmap over a single point rounds otherwise). Chunk
boundaries depend only on the number of points, so a chunk's losses are the same whoever
computes them: under an initialised ``torch.distributed`` process
group chunk k goes to rank k mod world size and the ranks gather every chunk, which gives
the single-process result bit for bit (at the same threads per process; the weights to
evaluate must be made the same way on every rank, see optviz.weights.Plane). With a save folder
every finished chunk is written to disk at once; a run started again with the same
arguments loads them instead of computing them again.
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import warnings
from pathlib import Path
from typing import Any, Callable, Sequence

import torch
from torch import Tensor, nn
from torch.func import functional_call, vmap

from ...core.files import atomic
from ...core.simulation.runs import Progress
from .weights import Layout

STORE_MANIFEST = "optviz-landscape.json"
# Layers that vmap batches slower than a loop of plain calls (measured in bench/landscape.py).
SLOW_UNDER_VMAP = (nn.modules.conv._ConvNd, nn.modules.pooling._MaxPoolNd, nn.modules.pooling._AvgPoolNd,
                   nn.modules.pooling._AdaptiveMaxPoolNd, nn.modules.pooling._AdaptiveAvgPoolNd)


class EvaluationError(ValueError):
    """A model, loss, data or device that cannot be evaluated, said before any grid point."""


def device_for(device: Any) -> torch.device:
    """The device to evaluate on: as given, else cuda:LOCAL_RANK under a process group on a
    machine with GPUs, else the CPU. A device that does not exist is refused."""
    if device is None:
        if torch.cuda.is_available():
            return torch.device("cuda", rank_and_world()[2] % torch.cuda.device_count())
        return torch.device("cpu")
    try:
        chosen = torch.device(device)
    except (RuntimeError, TypeError):
        raise EvaluationError(f"{device!r} is not a device (cpu, cuda, cuda:1, ...)") from None
    if chosen.type == "cuda":
        count = torch.cuda.device_count() if torch.cuda.is_available() else 0
        if count == 0:
            raise EvaluationError(f"device {device!r}: this machine has no CUDA GPU")
        if chosen.index is not None and chosen.index >= count:
            raise EvaluationError(f"device {device!r}: this machine has {count} GPU(s), cuda:0 to cuda:{count - 1}")
    elif chosen.type != "cpu":
        raise EvaluationError(f"device {device!r}: optviz evaluates on cpu or cuda")
    return chosen


def join_process_group() -> bool:
    """Under torchrun (WORLD_SIZE > 1 in the environment) join its process group, NCCL where
    there are GPUs and gloo otherwise; True if this process is one of several."""
    dist = torch.distributed
    if int(os.environ.get("WORLD_SIZE", "1")) > 1 and dist.is_available() and not dist.is_initialized():
        backend = "nccl" if torch.cuda.is_available() else "gloo"
        if backend == "nccl":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", 0)) % torch.cuda.device_count())
        dist.init_process_group(backend=backend)
    return rank_and_world()[1] > 1


def leave_process_group() -> None:
    """Leave the process group joined by join_process_group, so every process ends cleanly."""
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.destroy_process_group()


def rank_and_world() -> tuple[int, int, int]:
    """(rank, world size, local rank) of this process: (0, 1, 0) without a process group."""
    dist = torch.distributed
    if dist.is_available() and dist.is_initialized():
        return dist.get_rank(), dist.get_world_size(), int(os.environ.get("LOCAL_RANK", dist.get_rank()))
    return 0, 1, int(os.environ.get("LOCAL_RANK", 0))


def from_rank_zero(value: Any) -> Any:
    """Rank 0's ``value`` on every rank (itself without a process group): one path and one
    pair of directions for all, however each process's BLAS happened to round them."""
    if rank_and_world()[1] == 1:
        return value
    box = [value]
    torch.distributed.broadcast_object_list(box, src=0)
    return box[0]


def batches(data: Any, *, batch_size: int | None = None, examples: int | None = None) -> list[tuple[Tensor, Tensor]]:
    """The data as fixed (inputs, targets) batches, read once (see the module's docstring)."""
    if examples is not None and (isinstance(examples, bool) or not isinstance(examples, int) or examples < 1):
        raise EvaluationError(f"examples must be a whole number >= 1, got {examples!r}")
    if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, int) or batch_size < 1):
        raise EvaluationError(f"batch_size must be a whole number >= 1, got {batch_size!r}")
    if isinstance(data, (tuple, list)) and len(data) == 2 and all(isinstance(t, Tensor) for t in data):
        x, y = data
        if len(x) != len(y):
            raise EvaluationError(f"the data's inputs ({len(x)}) and targets ({len(y)}) differ in number")
        x, y = (x[:examples], y[:examples]) if examples else (x, y)
        if len(x) == 0:
            raise EvaluationError("the data yields no examples")
        size = batch_size or len(x)
        found = [(x[i:i + size], y[i:i + size]) for i in range(0, len(x), size)]
    elif isinstance(data, torch.utils.data.DataLoader):
        found = _take(data, examples)
    elif isinstance(data, torch.utils.data.Dataset):
        found = _take(torch.utils.data.DataLoader(data, batch_size=batch_size or 256, shuffle=False), examples)
    else:
        raise EvaluationError(f"data must be a DataLoader, a Dataset or (inputs, targets) tensors, got {type(data).__name__}")
    if not found or sum(len(x) for x, _ in found) == 0:
        raise EvaluationError("the data yields no examples")
    return found


def _take(loader: Any, examples: int | None) -> list[tuple[Tensor, Tensor]]:
    found, count = [], 0
    for batch in loader:
        if not (isinstance(batch, (tuple, list)) and len(batch) >= 2):
            raise EvaluationError(f"each batch must be (inputs, targets, ...), got {type(batch).__name__}")
        x, y = batch[0], batch[1]
        if examples is not None:
            x, y = x[: examples - count], y[: examples - count]
        found.append((x, y))
        count += len(x)
        if examples is not None and count >= examples:
            break
    return found


class Evaluator:
    """The loss of one model over fixed data, at any weights (flat vectors of its layout)."""

    def __init__(self, model: nn.Module, loss_fn: Callable[[Tensor, Tensor], Tensor], data: list[tuple[Tensor, Tensor]],
                 device: torch.device, chunk: int = 32) -> None:
        self.layout = Layout.of(model)
        self.model = copy.deepcopy(model).to(device).eval()
        self.loss_fn, self.device, self.chunk = loss_fn, device, chunk
        self.data = [(x.to(device), y.to(device)) for x, y in data]
        total = sum(len(x) for x, _ in data)
        self.weights = [len(x) / total for x, _ in data]  # 1.0 for one batch: the mean itself
        self.vectorised = not any(isinstance(m, SLOW_UNDER_VMAP) for m in model.modules())

    def check(self, params: Tensor, buffers: Tensor) -> float:
        """The loss at one set of weights by a plain call, or EvaluationError saying why the
        model's output does not fit the loss."""
        x, y = self.data[0]
        try:  # a warning here (a broadcast target, say) means the numbers would be wrong
            with torch.no_grad(), warnings.catch_warnings():
                warnings.simplefilter("error")
                outputs = functional_call(self.model, self._state(params.to(self.device), buffers.to(self.device)), (x,))
                value = self.loss_fn(outputs, y)
        except Exception as error:  # noqa: BLE001 - the user's model and loss may raise anything
            message = " ".join(str(error).split())[:300]
            raise EvaluationError(f"the model's output does not fit the loss on the first batch: "
                                  f"{type(error).__name__}: {message}") from None
        if not isinstance(value, Tensor) or value.numel() != 1:
            shape = tuple(value.shape) if isinstance(value, Tensor) else type(value).__name__
            raise EvaluationError(f"the loss must return one number (a batch mean), got {shape}")
        return float(value)

    def losses(self, params: Tensor, buffers: Tensor, *, store: "Store | None" = None,
               progress: Progress | None = None, what: str = "grid points") -> Tensor:
        """The loss at every row of ``params`` (m, P); ``buffers`` is one (B,) vector for all,
        or (m, B), one per row. Chunks go to this process's rank and to the store."""
        rank, world, _ = rank_and_world()
        chunks = [slice(i, min(i + self.chunk, len(params))) for i in range(0, len(params), self.chunk)]
        done = store.load(len(chunks)) if store is not None else {}
        mine = [k for k in range(len(chunks)) if k % world == rank and k not in done]
        size = lambda ks: sum(chunks[k].stop - chunks[k].start for k in ks)  # noqa: E731
        counted, total = size(done), size(done) + size(mine)  # this rank's share, and what was saved
        if progress is not None:
            progress(what, counted, total)
        for k in mine:
            part = chunks[k]
            rows = buffers[part] if buffers.ndim == 2 else buffers
            done[k] = self._chunk(params[part], rows).cpu()
            if store is not None:
                store.write(k, done[k])
            counted += part.stop - part.start
            if progress is not None:
                progress(what, counted, total)
        if world > 1:
            done = _gathered(done)
        return torch.cat([done[k] for k in range(len(chunks))]) if chunks else torch.zeros(0)

    def _chunk(self, params: Tensor, buffers: Tensor) -> Tensor:
        params, buffers = params.to(self.device), buffers.to(self.device)
        shared = buffers.ndim == 1  # the centre's buffers for every point
        with torch.no_grad():
            if self.vectorised:
                def point(p: Tensor, b: Tensor) -> Tensor:
                    return self._mean(lambda x: functional_call(self.model, self._state(p, b), (x,)))

                if len(params) == 1:  # vmap over one point rounds otherwise than over several: pair it
                    return vmap(point, in_dims=(0, None if shared else 0))(
                        params.expand(2, -1), buffers if shared else buffers.expand(2, -1))[:1]
                return vmap(point, in_dims=(0, None if shared else 0))(params, buffers)
            return torch.stack([self._mean(self._holding(p, buffers if shared else buffers[i]))
                                for i, p in enumerate(params)])

    def _mean(self, forward: Callable[[Tensor], Tensor]) -> Tensor:
        total = None
        for (x, y), weight in zip(self.data, self.weights):
            term = weight * self.loss_fn(forward(x), y)
            total = term if total is None else total + term
        return total  # type: ignore[return-value]

    def _holding(self, params: Tensor, buffers: Tensor) -> nn.Module:
        """The (copied) model itself holding these weights: a plain call then costs what a loop
        of the user's own would."""
        own = dict(self.model.named_parameters()) | dict(self.model.named_buffers())
        for name, tensor in self._state(params, buffers).items():
            own[name].copy_(tensor)
        return self.model

    def _state(self, params: Tensor, buffers: Tensor) -> dict[str, Tensor]:
        state = self.layout.split(params)
        if self.layout.buffer_names:
            state.update(self.layout.split_buffers(buffers))
        return state


def _gathered(mine: dict[int, Tensor]) -> dict[int, Tensor]:
    """Every rank's chunks, on every rank."""
    dist = torch.distributed
    everyone: list[Any] = [None] * dist.get_world_size()
    dist.all_gather_object(everyone, {k: v.cpu() for k, v in mine.items()})
    merged: dict[int, Tensor] = {}
    for part in everyone:
        merged.update(part)
    return merged


class Store:
    """A save folder: finished chunks of one run, refused to any other run."""

    def __init__(self, folder: str | Path, what: dict[str, Any]) -> None:
        self.folder = Path(folder)
        self.what = what
        self.fingerprint = hashlib.sha256(json.dumps(what, sort_keys=True).encode()).hexdigest()
        rank, world, _ = rank_and_world()
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise EvaluationError(f"cannot make save folder {self.folder}: {error.strerror}") from None
        manifest = self.folder / STORE_MANIFEST
        if manifest.exists():
            self._same_run(manifest)
        elif any(self.folder.glob("grid-*.pt")):
            raise EvaluationError(f"save folder {self.folder} holds grid files but no {STORE_MANIFEST}: not an optviz "
                                  f"landscape run; use an empty folder")
        elif rank == 0:
            with atomic(manifest) as tmp:
                tmp.write_text(json.dumps({"fingerprint": self.fingerprint, "run": what}, indent=1, sort_keys=True))
        for leftover in self.folder.glob(".*.part"):
            leftover.unlink(missing_ok=True)  # a write that a kill cut short
        if world > 1:
            torch.distributed.barrier()
            self._same_run(manifest)

    def _same_run(self, manifest: Path) -> None:
        try:
            saved = json.loads(manifest.read_text())
        except (OSError, ValueError):
            raise EvaluationError(f"save folder {self.folder}: {STORE_MANIFEST} is unreadable; use an empty folder") from None
        if saved.get("fingerprint") == self.fingerprint:
            return
        theirs = saved.get("run", {}) if isinstance(saved.get("run"), dict) else {}
        differ = [key for key in sorted(set(theirs) | set(self.what)) if theirs.get(key) != self.what.get(key)]
        named = ", ".join(differ[:3]) or "its settings"
        raise EvaluationError(f"save folder {self.folder} holds another run (its {named} differ): optviz will not "
                              f"mix two runs' grid points; use another folder or empty this one")

    def load(self, n_chunks: int) -> dict[int, Tensor]:
        found = {}
        for k in range(n_chunks):
            path = self.folder / f"grid-{k:06d}.pt"
            if path.exists():
                found[k] = torch.load(path, map_location="cpu", weights_only=True)
        return found

    def write(self, k: int, losses: Tensor) -> None:
        with atomic(self.folder / f"grid-{k:06d}.pt") as tmp:
            torch.save(losses, tmp)

    def keep(self, name: str, tensors: dict[str, Tensor]) -> None:
        """Something made before the grid (training paths), to skip making it again."""
        with atomic(self.folder / f"{name}.pt") as tmp:
            torch.save(tensors, tmp)

    def kept(self, name: str) -> dict[str, Tensor] | None:
        path = self.folder / f"{name}.pt"
        return torch.load(path, map_location="cpu", weights_only=True) if path.exists() else None


def digest(*tensors: Tensor | Sequence[Tensor]) -> str:
    """A short hash of tensors' values: the identity of a run's inputs in its save folder."""
    h = hashlib.sha256()
    for item in tensors:
        for t in item if isinstance(item, (list, tuple)) else [item]:
            t = t.detach().cpu().contiguous()
            h.update(str((t.dtype, tuple(t.shape))).encode())
            h.update(t.numpy().tobytes() if t.dtype != torch.bfloat16 else t.float().numpy().tobytes())
    return h.hexdigest()[:16]
