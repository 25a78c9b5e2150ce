"""A model's loss landscape from files, as ``optviz landscape`` takes it: a spec file that
defines the model (see optviz.landscape.from_spec), checkpoint files or globs of them, and
directions by name or from a file saved earlier. Under torchrun the processes share the grid
and only rank 0 keeps the result (write it with optviz.documents.outputs.write_landscape)."""

from __future__ import annotations

import glob
from collections.abc import Sequence
from pathlib import Path
from typing import Any, NamedTuple

from ..analyses.models.cost import Estimate
from ..analyses.models.evaluation import join_process_group, leave_process_group, rank_and_world
from ..analyses.models.landscapes import Landscape, from_spec, landscape
from ..analyses.models.weights import Directions
from ..core.limits import MAX_FILE_GRID_WORK
from ..core.simulation.runs import Progress

DIRECTIONS = ("pca", "random", "hessian")  # by name; anything else is a directions file (.pt)
LINE_POINTS = 51  # points of the 1D line from the path's first point to its last, when asked for


class ArgumentError(ValueError):
    """An argument refused before any work; ``argument`` names it."""

    def __init__(self, argument: str, message: str) -> None:
        super().__init__(message)
        self.argument = argument


class Shared(NamedTuple):
    """A landscape (or its Estimate), and how many processes its grid was split across (1 without torchrun)."""

    landscape: Landscape | Estimate
    processes: int


def model_landscape(spec: str | Path | None = None, optimizers: Sequence[tuple[str, dict[str, Any]]] = (), *,
                    checkpoints: Sequence[str] = (), directions: str | None = None, line: bool = False,
                    params: str | None = None,
                    progress: Progress | None = None, **settings: Any) -> Shared | None:
    """The loss landscape of the model ``spec`` defines (without one, the built-in MLP), along
    ``checkpoints`` (files, or globs like 'ckpt/*.pt', sorted; else the spec's own) or paths
    trained by ``optimizers``, (name, hyperparameters) pairs, or with neither around the spec's
    model alone; ``directions``: "pca", "random", "hessian" or a directions file (.pt), by default "pca"
    with a path and "random" without. ``params`` (else the spec's own) restricts the
    directions to some parameters (see optviz.landscape.landscape). ``line`` adds the 1D line; ``settings`` go to
    optviz.landscape.landscape (resolution, span, device, save, epochs, examples, estimate, refine, sharpness_every:
    with estimate, the Shared's landscape is an Estimate and nothing is trained or written). A spec
    file's grid is held to MAX_FILE_GRID_WORK multiply-adds unless OPTVIZ_ALLOW_LARGE=1.

    Joins torchrun's process group for the run and leaves it after; None on every process but
    rank 0, which alone reports ``progress``. Raises ArgumentError for a glob that matches no
    file or directions that are neither a name nor a .pt file, ValueError for anything else
    refused before the grid starts.
    """
    join_process_group()
    try:
        rank, processes, _ = rank_and_world()
        defined = from_spec(spec) if spec else {}
        path = sorted(file for pattern in checkpoints for file in _matching(pattern)) or defined.get("checkpoints")
        if directions is not None and directions not in DIRECTIONS and not directions.endswith(".pt"):
            raise ArgumentError("directions", f"{directions!r} is not pca, random, hessian or a directions FILE.pt")
        model = {"model": defined["model"], "loss_fn": defined["loss"], "data": defined["data"],
                 "train_data": defined.get("train_data")} if defined else {}
        chosen = params if params is not None else defined.get("params")
        study = landscape(**model, **settings, optimizers=list(optimizers) or None, checkpoints=path or None,
                          directions=directions if directions in (None, *DIRECTIONS) else Directions.load(directions),
                          params=chosen,
                          line=LINE_POINTS if line else 0, progress=progress if rank == 0 else None,
                          max_work=MAX_FILE_GRID_WORK if spec else None)
        return Shared(study, processes) if rank == 0 else None
    finally:
        leave_process_group()


def _matching(pattern: str) -> list[Path]:
    """The files a glob matches, sorted, or the one file a plain path names."""
    found = sorted(map(Path, glob.glob(pattern))) if any(c in pattern for c in "*?[") else [Path(pattern)]
    if not found:
        raise ArgumentError("checkpoints", f"{pattern!r} matches no file")
    return found
