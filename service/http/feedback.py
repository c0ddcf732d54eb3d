"""Append analysts' labels to a CSV in the training layout, durably and safely across workers."""

from __future__ import annotations

import csv
import fcntl
import io
import os
from collections.abc import Sequence
from pathlib import Path

FILE_NAME = "feedback.csv"
HEADER = ("text", "labels")


class FeedbackLog:
    """`<directory>/feedback.csv` with a `text,labels` header; lines are only ever appended."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / FILE_NAME

    def append(self, text: str, labels: Sequence[str]) -> None:
        """Write one row under an exclusive lock, then flush and fsync before returning."""
        row = io.StringIO()
        csv.writer(row, lineterminator="\n").writerow((text, ";".join(labels)))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        with open(fd, "a", encoding="utf-8", newline="") as handle:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            try:
                created = os.fstat(handle.fileno()).st_size == 0
                if created:
                    handle.write(",".join(HEADER) + "\n")
                handle.write(row.getvalue())
                handle.flush()
                os.fsync(handle.fileno())
            finally:
                fcntl.flock(handle.fileno(), fcntl.LOCK_UN)
        if created:
            _fsync_directory(self.path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make a newly created file's directory entry durable too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
