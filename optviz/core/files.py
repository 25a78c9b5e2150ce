"""Output files: paths checked before any work, atomic writes (a crash or Ctrl-C never
leaves half a file at the target, and what a kill leaves is swept by the next write), input
read only from regular files of a bounded size, and the tables behind every data file optviz
writes."""

from __future__ import annotations

import csv
import json
import math
import os
import re
import stat
import tempfile
import time
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

import numpy as np


def writable_path(path: str | os.PathLike, formats: tuple[str, ...]) -> Path:
    """The path, checked: a known suffix and an existing, writable folder."""
    path = Path(path)
    suffix = path.suffix.lower().lstrip(".")
    if suffix not in formats:
        raise ValueError(f"cannot write {path}: the suffix must be one of {', '.join('.' + f for f in formats)}")
    folder = path.parent if str(path.parent) else Path(".")
    if not folder.is_dir():
        raise ValueError(f"cannot write {path}: folder {folder} does not exist")
    if not os.access(folder, os.W_OK):
        raise ValueError(f"cannot write {path}: folder {folder} is not writable")
    if path.is_dir():
        raise ValueError(f"cannot write {path}: it is a folder")
    return path


# a write killed half way leaves its temporary file; the next write of the same name sweeps it
STALE_PART_SECONDS = 60  # older than this and its writer is gone: a leftover, not a write in progress
_PART = re.compile(r"\.(?P<name>.+?)\.(?:(?P<pid>\d{1,10})\.)?[a-z0-9_]{8}\.part")  # atomic()'s temp names


@contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """Yields a temporary path beside ``path``; it replaces ``path`` only if the block ends well.
    The temporary file is ``.NAME.PID.RANDOM.part``; stale ones of the same NAME are removed first."""
    folder = path.parent
    remove_stale_parts(folder, path.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.{os.getpid()}.", suffix=".part", dir=folder)
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would make outputs private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def remove_stale_parts(folder: str | os.PathLike, name: str | None = None) -> list[Path]:
    """Remove the temporary files that killed atomic() writes left in folder (only those of
    ``name``, if given); returns them. A part file is stale when it is older than
    STALE_PART_SECONDS and the process its name records is not running: a live writer's
    file is never touched."""
    removed = []
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return removed  # no folder yet, or not ours to list: mkstemp will say what is wrong
    now = time.time()
    for entry in entries:
        match = _PART.fullmatch(entry.name)
        if not match or (name is not None and match["name"] != name):
            continue
        try:
            age = now - entry.stat(follow_symlinks=False).st_mtime
        except OSError:
            continue  # gone already
        pid = int(match["pid"]) if match["pid"] else None
        if age > STALE_PART_SECONDS and not (pid is not None and _running(pid) and age < 86_400):
            # (a day-old file of a "running" pid is a leftover whose pid was reused)
            try:
                Path(entry.path).unlink(missing_ok=True)
            except OSError:
                continue  # not ours to remove: the write itself still goes ahead
            removed.append(Path(entry.path))
    return removed


def _running(pid: int) -> bool:
    """Whether a process of this id exists on this machine."""
    if not 0 < pid < 2**31:
        return False  # os.kill(0, ...) would mean our own process group
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    except OSError:
        return False
    return True


def read_regular(path: str | os.PathLike, limit: int, what: str = "file") -> bytes:
    """The bytes of a regular file of at most ``limit`` bytes; ValueError naming the path
    otherwise. Checked before it is opened, so a FIFO, a device or a folder never blocks or
    floods: only a regular file is opened, without blocking, and at most limit + 1 bytes read."""
    path = Path(path)
    try:
        info = os.stat(path)
        if not stat.S_ISREG(info.st_mode):
            raise ValueError(f"{path}: {_kind_of(info.st_mode)}, not a regular file: a {what} must be one")
        if info.st_size > limit:
            raise ValueError(f"{path}: {info.st_size:,} bytes, more than the {limit:,} a {what} may have")
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(fd, "rb") as source:
            opened = os.fstat(source.fileno())
            if (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino) or not stat.S_ISREG(opened.st_mode):
                raise ValueError(f"{path}: changed while being opened; try again")  # swapped after the check
            data = source.read(limit + 1)
    except OSError as error:
        raise ValueError(f"{path}: cannot read: {error.strerror or error}") from None
    if len(data) > limit:  # it grew after the check
        raise ValueError(f"{path}: more than the {limit:,} bytes a {what} may have")
    return data


def _kind_of(mode: int) -> str:
    kinds = [(stat.S_ISDIR, "a folder"), (stat.S_ISFIFO, "a FIFO (named pipe)"), (stat.S_ISCHR, "a character device"),
             (stat.S_ISBLK, "a block device"), (stat.S_ISSOCK, "a socket")]
    return next((name for test, name in kinds if test(mode)), "a special file")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# --- tables: the one layout behind every data file optviz writes --------------------------------
# A table is named columns of equal length plus a JSON-able header ("meta"); .npz and .json
# files may carry extra arrays. In .csv the header is the first line, after "# optviz ".

TABLE_FORMATS = ("csv", "json", "npz")
_CSV_HEADER = "# optviz "


def write_table(path: str | os.PathLike, columns: dict[str, Any], meta: dict[str, Any],
                arrays: dict[str, np.ndarray] | None = None) -> Path:
    """Write columns (and extra arrays) with meta as .csv, .json or .npz by the suffix, atomically."""
    path = writable_path(path, TABLE_FORMATS)
    columns = {name: np.asarray(values) for name, values in columns.items()}
    arrays = arrays or {}
    suffix = path.suffix.lower()[1:]
    if suffix == "csv" and arrays:
        raise ValueError(f"cannot write {path}: this data needs .npz or .json ({', '.join(arrays)} is not a table)")
    meta = {**meta, "columns": {name: _kind(values) for name, values in columns.items()}}
    with atomic(path) as tmp:
        if suffix == "npz":
            with open(tmp, "wb") as out:
                np.savez_compressed(out, __meta__=np.array(json.dumps(meta)), **columns,
                                    **{f"__array__{k}": v for k, v in arrays.items()})
        elif suffix == "json":
            document = {"meta": meta, "columns": {k: _json_values(v) for k, v in columns.items()},
                        "arrays": {k: {"shape": list(v.shape), "values": _json_values(v.reshape(-1))}
                                   for k, v in arrays.items()}}
            tmp.write_text(json.dumps(document, allow_nan=False), encoding="utf-8")
        else:
            with open(tmp, "w", newline="", encoding="utf-8") as out:
                out.write(_CSV_HEADER + json.dumps(meta, allow_nan=False, ensure_ascii=False) + "\n")
                writer = csv.writer(out)
                writer.writerow(columns)
                cells = [[repr(float(v)) if v.dtype.kind == "f" else str(v) for v in values]
                         for values in columns.values()]
                writer.writerows(zip(*cells))
    return path


def read_table(path: str | os.PathLike) -> tuple[dict[str, np.ndarray], dict[str, Any], dict[str, np.ndarray]]:
    """(columns, meta, arrays) of a table written by write_table; ValueError naming the file."""
    path = Path(path)
    suffix = path.suffix.lower()[1:]
    if suffix not in TABLE_FORMATS:
        raise ValueError(f"cannot read {path}: the suffix must be one of .csv, .json, .npz")
    try:
        if suffix == "npz":
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(str(data["__meta__"]))
                columns = {k: data[k] for k in meta["columns"]}
                arrays = {k.removeprefix("__array__"): data[k] for k in data.files if k.startswith("__array__")}
        elif suffix == "json":
            document = json.loads(path.read_text(encoding="utf-8"))
            meta = document["meta"]
            columns = {k: _typed(document["columns"][k], kind) for k, kind in meta["columns"].items()}
            arrays = {k: _typed(v["values"], "f").reshape(v["shape"]) for k, v in document.get("arrays", {}).items()}
        else:
            with open(path, newline="", encoding="utf-8") as source:
                first = source.readline()
                if not first.startswith(_CSV_HEADER):
                    raise ValueError("it does not start with an optviz header line")
                meta = json.loads(first[len(_CSV_HEADER):])
                rows = list(csv.reader(source))
            names = rows[0] if rows else []
            if names != list(meta["columns"]):
                raise ValueError(f"its columns {names} are not the header's {list(meta['columns'])}")
            cells = list(zip(*rows[1:])) or [()] * len(names)
            columns = {k: _typed(list(v), meta["columns"][k]) for k, v in zip(names, cells)}
            arrays = {}
    except FileNotFoundError:
        raise ValueError(f"cannot read {path}: no such file") from None
    except (OSError, KeyError, TypeError, ValueError, zipfile.BadZipFile) as error:
        reason = error.strerror if isinstance(error, OSError) and error.strerror else error
        raise ValueError(f"cannot read {path}: not an optviz data file ({reason})") from None
    lengths = {len(v) for v in columns.values()}
    if len(lengths) > 1:
        raise ValueError(f"cannot read {path}: its columns have different lengths")
    return columns, meta, arrays


def _kind(values: np.ndarray) -> str:
    return "f" if values.dtype.kind == "f" else "i" if values.dtype.kind in "iub" else "s"


def _json_values(values: np.ndarray) -> list:
    """JSON has no NaN or infinity: NaN is null, infinities are the strings "inf" and "-inf"."""
    if values.dtype.kind != "f":
        return values.tolist()
    return [None if v != v else str(v) if v in (math.inf, -math.inf) else v for v in values.tolist()]


def _typed(values: list, kind: str) -> np.ndarray:
    if kind == "f":
        return np.array([math.nan if v is None else float(v) for v in values], dtype=np.float64)
    if kind == "i":
        return np.array([int(v) for v in values], dtype=np.int64)
    return np.array([str(v) for v in values], dtype=str)
