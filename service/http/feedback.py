"""Append analysts' labels to a CSV in the training layout, durably and safely across workers."""

from __future__ import annotations

import csv
import fcntl
import io
import os
from collections.abc import Sequence
from pathlib import Path

from coopclf.csvsafe import escape_cell

FILE_NAME = "feedback.csv"
HEADER = ("text", "labels")


class FeedbackNotStored(Exception):
    """The row was not written (the file is at its size cap, or the disk refused it); the file is as before."""


class FeedbackLog:
    """`<directory>/feedback.csv` with a `text,labels` header; lines are only ever appended, whole."""

    def __init__(self, directory: Path, max_bytes: int | None = None) -> None:
        self.path = directory / FILE_NAME
        self.max_bytes = max_bytes

    def append(self, text: str, labels: Sequence[str]) -> None:
        """Write one row under an exclusive lock, then fsync before returning; FeedbackNotStored if it
        would pass `max_bytes` or a write fails (the file is then truncated back, still under the lock)."""
        row = io.StringIO()
        # A text a spreadsheet would run as a formula gets a leading apostrophe; training removes it.
        csv.writer(row, lineterminator="\n").writerow((escape_cell(text), ";".join(labels)))
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX)  # released when fd is closed
            size = os.fstat(fd).st_size
            header = ",".join(HEADER) + "\n" if size == 0 else ""
            data = (header + row.getvalue()).encode("utf-8")
            if self.max_bytes is not None and size + len(data) > self.max_bytes:
                raise FeedbackNotStored(f"the feedback file has {size:,} bytes and may not grow past "
                                        f"{self.max_bytes:,} (COOPCLF_FEEDBACK_MAX_BYTES); nothing was written")
            try:
                written = 0
                while written < len(data):
                    written += os.write(fd, data[written:])
                os.fsync(fd)
            except OSError as exc:
                os.ftruncate(fd, size)  # no partial row for the next one to be glued onto
                raise FeedbackNotStored(f"the feedback file could not be written ({exc.strerror or exc}); "
                                        "nothing was written") from exc
        finally:
            os.close(fd)
        if size == 0:
            _fsync_directory(self.path.parent)


def _fsync_directory(directory: Path) -> None:
    """Make a newly created file's directory entry durable too."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
