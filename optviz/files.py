"""Output files: paths checked before any work, atomic writes (a crash or Ctrl-C never
leaves half a file at the target), and the tables behind every data file optviz writes."""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
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


@contextmanager
def atomic(path: Path) -> Iterator[Path]:
    """Yields a temporary path beside ``path``; it replaces ``path`` only if the block ends well."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent or ".")
    os.close(fd)
    try:
        yield Path(tmp)
        os.chmod(tmp, 0o666 & ~_umask())  # mkstemp's 0600 would make outputs private
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
