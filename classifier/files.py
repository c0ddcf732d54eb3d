"""File-system helpers every part shares: atomic writes, input lists, compression suffixes."""

from __future__ import annotations

import glob
import os
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path

from coopclf.errors import CoopclfError, InvalidInput

TMP_PREFIX = ".tmp-"


@contextmanager
def writing(path: str | Path) -> Iterator[None]:
    """Turn an OSError while writing `path` (disk full, quota, read-only, ...) into one CoopclfError naming it."""
    try:
        yield
    except OSError as exc:
        if exc.errno is None:
            raise
        raise CoopclfError(f"{path}: cannot write: {exc.strerror or exc}") from None


def write_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `path` so a reader sees the old or the new content, never a mix or a part."""
    tmp = path.with_name(f"{TMP_PREFIX}{path.name}.{os.getpid()}")
    try:
        with writing(path):
            with tmp.open("wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def strip_gz(name: str) -> str:
    """A file name without its `.gz` suffix (any case)."""
    return name[:-3] if name.lower().endswith(".gz") else name


def is_gzip(path: str | Path) -> bool:
    """Whether a file name says gzip."""
    return str(path).lower().endswith(".gz")


def expand_paths(patterns: Iterable[str | Path], *, directory_glob: str | None = None) -> list[Path]:
    """Files from names and glob patterns, in a stable order; directories give their `directory_glob` files."""
    files: list[Path] = []
    for pattern in patterns:
        text = str(pattern)
        matches = sorted(glob.glob(text, recursive=True)) if glob.has_magic(text) else [text]
        if not matches:
            raise InvalidInput(f"{pattern}: no files match")
        for match in matches:
            path = Path(match)
            if path.is_dir() and directory_glob is not None:
                found = sorted(p for p in path.rglob(directory_glob) if p.is_file())
                if not found:
                    raise InvalidInput(f"{path}: no {directory_glob} files in this directory")
                files.extend(found)
            elif path.is_file():
                files.append(path)
            else:
                raise InvalidInput(f"{path}: no such file" + (" or directory" if directory_glob else ""))
    return files
