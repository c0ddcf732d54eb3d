"""A run's work directory: completed chunks one file each, resumed after an interruption, assembled atomically."""

from __future__ import annotations

import gzip
import hashlib
import json
import os
import shutil
from dataclasses import asdict
from pathlib import Path
from typing import Any

from coopclf.artifact import sha256_file
from coopclf.errors import CoopclfError
from coopclf.files import is_gzip, write_atomic
from coopclf.service.batch.scorer import ScoreOptions
from coopclf.service.batch.tables import csv_header, output_schema

PARTIAL = ".partial"
WORKDIR = ".partial.d"
# Bumped when chunks change shape (2: countries, pair, date and story, with story state per chunk),
# so chunks of an older run are never mixed into a new one.
LAYOUT = 2


def fingerprint(inputs: list[Path], options: ScoreOptions, version: str, fmt: str) -> str:
    """What must be unchanged for an interrupted run's chunks to be reused."""
    parts = {
        # By content, not size and time: an input rewritten in place with its time kept is another input.
        "inputs": [[str(p.resolve()), sha256_file(p)] for p in inputs],
        "options": {k: v for k, v in asdict(options).items() if k not in {"jobs", "engine", "scheduler"}},
        "model_version": version,
        "format": fmt,
        "layout": LAYOUT,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


class WorkDir:
    """`<output>.partial.d/`: one file per completed chunk and its counts, so a run can resume."""

    def __init__(self, output: Path, fingerprint: str, resume: bool) -> None:
        self.path = output.with_name(output.name + WORKDIR)
        stamp = self.path / "fingerprint"
        if self.path.exists():
            if not resume:
                raise CoopclfError(
                    f"{self.path} holds an interrupted run's chunks: pass --resume to continue it, "
                    "or delete it to start over")
            if not stamp.is_file() or stamp.read_text() != fingerprint:
                raise CoopclfError(f"{self.path} belongs to a run with other inputs, options or model; "
                                   "delete it to start over")
        else:
            self.path.mkdir(parents=True)
            write_atomic(stamp, fingerprint.encode())

    def chunk(self, index: int) -> Path:
        """Where chunk `index`'s encoded rows are kept."""
        return self.path / f"chunk-{index:09d}"

    def done(self) -> int:
        """How many chunks, from the first, are complete."""
        n = 0
        while self.chunk(n).is_file():
            n += 1
        return n

    def save(self, index: int, data: bytes, rows: int, errors: int, labels: dict[str, int],
             stories: bytes = b"") -> None:
        """Keep one completed chunk: its counts and new stories first, then its rows (whose presence marks it done)."""
        write_atomic(self.path / f"stats-{index:09d}.json",
                     json.dumps({"rows": rows, "errors": errors, "labels": labels}).encode())
        write_atomic(self.path / f"stories-{index:09d}.npz", stories)
        write_atomic(self.chunk(index), data)

    def stories(self, index: int) -> bytes:
        """The story state saved with chunk `index`: the stories its documents started."""
        return (self.path / f"stories-{index:09d}.npz").read_bytes()

    def stats(self, index: int) -> dict[str, Any]:
        """The counts saved with chunk `index`."""
        return json.loads((self.path / f"stats-{index:09d}.json").read_text())

    def assemble(self, count: int, output: Path, columns: list[str], fmt: str) -> None:
        """Join the chunks in order into `<output>.partial`, rename it to `output`, remove the chunks."""
        partial = output.with_name(output.name + PARTIAL)
        with partial.open("wb") as raw:
            stream = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") if is_gzip(output) else raw
            if fmt == "parquet":
                self._assemble_parquet(count, stream, columns)
            else:
                if fmt == "csv":
                    stream.write(csv_header(columns))
                for index in range(count):
                    with self.chunk(index).open("rb") as chunk:
                        shutil.copyfileobj(chunk, stream)
            if stream is not raw:
                stream.close()
            raw.flush()
            os.fsync(raw.fileno())
        os.replace(partial, output)
        shutil.rmtree(self.path, ignore_errors=True)

    def _assemble_parquet(self, count: int, stream: Any, columns: list[str]) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        with pq.ParquetWriter(stream, output_schema(columns)) as writer:
            for index in range(count):
                with pa.ipc.open_stream(self.chunk(index).read_bytes()) as reader:
                    writer.write_table(reader.read_all())
