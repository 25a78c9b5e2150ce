"""Writing outputs atomically: a crash or Ctrl-C never leaves half a file at the target."""

from __future__ import annotations

import os
import tempfile
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator


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
