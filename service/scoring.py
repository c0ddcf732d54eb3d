"""Batch scoring: stream input files through the model in chunks, on every core or a Dask cluster."""

from __future__ import annotations

import glob
import gzip
import hashlib
import json
import os
import shutil
import sys
import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from classifier.artifact import ArtifactStore
from classifier.errors import CoopclfError, InvalidInput
from classifier.predictor import Predictor
from classifier.splitter import split_paragraphs
from service.tables import RowReader, SourceRow, csv_header, encode_rows, file_format, is_gzip, output_schema

CHUNK_ROWS = 2000
PARTIAL = ".partial"
WORKDIR = ".partial.d"


@dataclass(frozen=True)
class ScoreOptions:
    """How to read the inputs and what to write."""

    text_column: str = "text"
    id_column: str | None = None
    keep_columns: tuple[str, ...] = ()
    split_paragraphs: bool = False
    explain: bool = False
    jobs: int = 1
    chunk_rows: int = CHUNK_ROWS
    engine: str = "local"
    scheduler: str | None = None


@dataclass
class ScoreSummary:
    """What a scoring run did."""

    output: str
    rows: int = 0
    errors: int = 0
    seconds: float = 0.0
    per_label: dict[str, int] = field(default_factory=dict)
    resumed_chunks: int = 0

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds else 0.0

    def format(self) -> str:
        """Human summary for the end of a run."""
        labels = ", ".join(f"{k} {v}" for k, v in self.per_label.items())
        resumed = f" (resumed after {self.resumed_chunks} chunks)" if self.resumed_chunks else ""
        return (f"scored {self.rows} rows, {self.errors} with errors, in {self.seconds:.1f}s "
                f"({self.rows_per_s:,.0f} rows/s){resumed}\nper label: {labels}\nwritten to {self.output}")


def expand_inputs(patterns: Sequence[str]) -> list[Path]:
    """Input files from names and glob patterns, in a stable order."""
    files: list[Path] = []
    for pattern in patterns:
        matches = sorted(glob.glob(pattern, recursive=True)) if glob.has_magic(pattern) else [pattern]
        if not matches:
            raise InvalidInput(f"{pattern}: no files match")
        for match in matches:
            path = Path(match)
            if not path.is_file():
                raise InvalidInput(f"{path}: no such file")
            file_format(path)
            files.append(path)
    return files


def output_columns(labels: Sequence[str], options: ScoreOptions, several_sources: bool) -> list[str]:
    """Columns of the output, in order."""
    columns = (["source"] if several_sources else []) + ["id"]
    if options.split_paragraphs:
        columns += ["paragraph", "text"]
    columns += ["labels", *(f"score_{label}" for label in labels), "abstained"]
    if options.explain:
        columns.append("evidence")
    return columns + ["model_version", "error", *options.keep_columns]


class ChunkScorer:
    """Turns a chunk of source rows into encoded output rows; one per process or Dask worker."""

    def __init__(self, predictor: Predictor, options: ScoreOptions, columns: list[str], fmt: str) -> None:
        if options.explain:
            predictor.prepare_explanations()  # before any fork, so forked workers share them
        self.predictor = predictor
        self.options = options
        self.columns = columns
        self.fmt = fmt

    def __call__(self, rows: list[SourceRow]) -> tuple[bytes, int, int, dict[str, int]]:
        """Encoded rows, row count, error count and label counts of one chunk."""
        out: list[dict[str, Any]] = []
        for row in rows:
            base = {"source": row.source, "id": row.id, **row.extra}
            error = _row_error(row.text)
            if error:
                out.append(base | {"error": error} | ({"paragraph": None} if self.options.split_paragraphs else {}))
            elif self.options.split_paragraphs:
                paragraphs = split_paragraphs(row.text)
                if not paragraphs:
                    out.append(base | {"paragraph": None, "error": "no paragraphs"})
                out.extend(base | {"paragraph": p.index, "text": p.text} for p in paragraphs)
            else:
                out.append(base | {"text": row.text})
        scorable = [r for r in out if "text" in r]
        predictions = self.predictor.predict([r["text"] for r in scorable], explain=self.options.explain)
        labels: Counter[str] = Counter()
        for record, prediction in zip(scorable, predictions):
            record["labels"] = ";".join(prediction.labels)
            record["abstained"] = prediction.abstained
            labels.update(prediction.labels)
            for label, score in prediction.scores.items():
                record[f"score_{label}"] = score
            if self.options.explain:
                record["evidence"] = json.dumps(
                    {k: [e.ngram for e in v] for k, v in (prediction.evidence or {}).items()})
        for record in out:
            record["model_version"] = self.predictor.version
        errors = sum(1 for r in out if r.get("error"))
        return encode_rows(out, self.columns, self.fmt), len(out), errors, dict(labels)


def _row_error(text: Any) -> str | None:
    if text is None:
        return "missing text"
    if not isinstance(text, str):
        return f"text is {type(text).__name__}, not a string"
    if not text.strip():
        return "empty text"
    return None


def _chunks(readers: list[RowReader], size: int) -> Iterator[list[SourceRow]]:
    chunk: list[SourceRow] = []
    for reader in readers:
        for row in reader:
            chunk.append(row)
            if len(chunk) >= size:
                yield chunk
                chunk = []
    if chunk:
        yield chunk


def _fingerprint(inputs: list[Path], options: ScoreOptions, version: str, fmt: str) -> str:
    """What must be unchanged for an interrupted run's chunks to be reused."""
    parts = {
        "inputs": [[str(p.resolve()), p.stat().st_size, p.stat().st_mtime_ns] for p in inputs],
        "options": {k: v for k, v in asdict(options).items() if k not in {"jobs", "engine", "scheduler"}},
        "model_version": version,
        "format": fmt,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _write_file(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)


class _WorkDir:
    """Completed chunks of a run, one file each, so an interrupted run can resume."""

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
            _write_file(stamp, fingerprint.encode())

    def chunk(self, index: int) -> Path:
        return self.path / f"chunk-{index:09d}"

    def done(self) -> int:
        n = 0
        while self.chunk(n).is_file():
            n += 1
        return n

    def save(self, index: int, data: bytes, rows: int, errors: int, labels: dict[str, int]) -> None:
        _write_file(self.path / f"stats-{index:09d}.json",
                    json.dumps({"rows": rows, "errors": errors, "labels": labels}).encode())
        _write_file(self.chunk(index), data)

    def stats(self, index: int) -> dict[str, Any]:
        return json.loads((self.path / f"stats-{index:09d}.json").read_text())


def _assemble(work: _WorkDir, count: int, output: Path, columns: list[str], fmt: str) -> None:
    """Join the chunks in order into `<output>.partial`, then rename it to `output`."""
    partial = output.with_name(output.name + PARTIAL)
    with partial.open("wb") as raw:
        stream = gzip.GzipFile(fileobj=raw, mode="wb", mtime=0, filename="") if is_gzip(output) else raw
        if fmt == "parquet":
            _assemble_parquet(work, count, stream, columns)
        else:
            if fmt == "csv":
                stream.write(csv_header(columns))
            for index in range(count):
                with work.chunk(index).open("rb") as chunk:
                    shutil.copyfileobj(chunk, stream)
        if stream is not raw:
            stream.close()
        raw.flush()
        os.fsync(raw.fileno())
    os.replace(partial, output)


def _assemble_parquet(work: _WorkDir, count: int, stream: Any, columns: list[str]) -> None:
    import pyarrow as pa
    import pyarrow.parquet as pq

    with pq.ParquetWriter(stream, output_schema(columns)) as writer:
        for index in range(count):
            with pa.ipc.open_stream(work.chunk(index).read_bytes()) as reader:
                writer.write_table(reader.read_all())


def _local_results(scorer: ChunkScorer, chunks: Iterator[list[SourceRow]], options: ScoreOptions,
                   artifacts: Path, version: str) -> Iterator[tuple[bytes, int, int, dict[str, int]]]:
    """Score chunks in order: in this process for one job, else in a pool with bounded look-ahead."""
    if options.jobs <= 1:
        yield from map(scorer, chunks)
        return
    import multiprocessing

    global _WORKER_SCORER
    if "fork" in multiprocessing.get_all_start_methods():
        # Forked workers inherit the loaded model: one load, pages shared copy-on-write.
        context = multiprocessing.get_context("fork")
        _WORKER_SCORER, initializer, initargs = scorer, None, ()
    else:
        context = multiprocessing.get_context("spawn")
        initializer = _init_worker
        initargs = (str(artifacts), version, options, scorer.columns, scorer.fmt)
    try:
        with context.Pool(options.jobs, initializer=initializer, initargs=initargs) as pool:
            pending: deque[Any] = deque()
            for chunk in chunks:
                pending.append(pool.apply_async(_score_in_worker, (chunk,)))
                if len(pending) >= 2 * options.jobs:
                    yield pending.popleft().get()
            while pending:
                yield pending.popleft().get()
    finally:
        _WORKER_SCORER = None


_WORKER_SCORER: ChunkScorer | None = None


def _init_worker(artifacts: str, version: str, options: ScoreOptions, columns: list[str], fmt: str) -> None:
    """Load the model once in a spawned worker (where nothing is inherited)."""
    global _WORKER_SCORER
    _WORKER_SCORER = ChunkScorer(Predictor.load(artifacts, version), options, columns, fmt)


def _score_in_worker(chunk: list[SourceRow]) -> tuple[bytes, int, int, dict[str, int]]:
    assert _WORKER_SCORER is not None
    return _WORKER_SCORER(chunk)


def score_files(
    inputs: Sequence[str],
    output: str | Path,
    *,
    artifacts: str | Path | None = None,
    version: str | None = None,
    options: ScoreOptions = ScoreOptions(),
    resume: bool = False,
    progress: Callable[[int, int, int], None] | None = None,
) -> ScoreSummary:
    """Score every row of `inputs` into `output`, atomically; resumable after an interruption."""
    started = time.perf_counter()
    files = expand_inputs(inputs)
    output = Path(output)
    fmt = file_format(output)
    if fmt == "txt":
        raise InvalidInput(f"{output}: write .csv, .jsonl or .parquet output")
    store = ArtifactStore(artifacts)
    predictor = Predictor(store.load(version))
    columns = output_columns(predictor.labels, options, len(files) > 1)
    scorer = ChunkScorer(predictor, options, columns, fmt)
    output.parent.mkdir(parents=True, exist_ok=True)
    work = _WorkDir(output, _fingerprint(files, options, predictor.version, fmt), resume)
    done = work.done() if resume else 0
    summary = ScoreSummary(output=str(output), resumed_chunks=done)
    labels: Counter[str] = Counter()
    for index in range(done):
        stats = work.stats(index)
        summary.rows += stats["rows"]
        summary.errors += stats["errors"]
        labels.update(stats["labels"])
    readers = [RowReader(p, text_column=options.text_column, id_column=options.id_column,
                         keep_columns=options.keep_columns) for p in files]
    chunks = _chunks(readers, options.chunk_rows)
    for _ in range(done):
        next(chunks, None)
    total_bytes = sum(p.stat().st_size for p in files)
    consumed = [sum(p.stat().st_size for p in files[:i]) for i in range(len(files))]

    def position() -> int:
        for i, reader in enumerate(readers):
            if reader.position() and (i == len(readers) - 1 or not readers[i + 1].position()):
                return consumed[i] + reader.position()
        return 0

    if options.engine == "dask":
        try:
            from service.distributed import dask_results
        except ImportError:
            raise CoopclfError("the dask engine needs dask[distributed]: pip install 'coopclf[dask]'") from None

        results = dask_results(scorer, chunks, options, store.root / predictor.version)
    else:
        results = _local_results(scorer, chunks, options, store.root, predictor.version)
    index = done
    for data, rows, errors, chunk_labels in results:
        work.save(index, data, rows, errors, chunk_labels)
        index += 1
        summary.rows += rows
        summary.errors += errors
        labels.update(chunk_labels)
        if progress:
            progress(summary.rows, position(), total_bytes)
    _assemble(work, index, output, columns, fmt)
    shutil.rmtree(work.path, ignore_errors=True)
    summary.per_label = {label: labels.get(label, 0) for label in predictor.labels}
    summary.seconds = time.perf_counter() - started
    return summary
