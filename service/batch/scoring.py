"""A batch scoring run: every input row through the model into one output file, resumable and atomic."""

from __future__ import annotations

import time
from collections import Counter, deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from coopclf.artifact import ArtifactStore
from coopclf.errors import CoopclfError, InvalidInput
from coopclf.files import expand_paths, writing
from coopclf.predictor import Predictor
from coopclf.service.batch.documents import DocumentAnnotator
from coopclf.service.batch.engines import local_results
from coopclf.service.batch.scorer import ChunkScorer, ScoreOptions, output_columns
from coopclf.service.batch.tables import RowReader, SourceRow, file_format
from coopclf.service.batch.workdir import WorkDir, fingerprint


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
        """Rows scored per second of the whole run."""
        return self.rows / self.seconds if self.seconds else 0.0

    def format(self) -> str:
        """Human summary for the end of a run."""
        labels = ", ".join(f"{k} {v}" for k, v in self.per_label.items())
        resumed = f" (resumed after {self.resumed_chunks} chunks)" if self.resumed_chunks else ""
        return (f"scored {self.rows} rows, {self.errors} with errors, in {self.seconds:.1f}s "
                f"({self.rows_per_s:,.0f} rows/s){resumed}\nper label: {labels}\nwritten to {self.output}")


def expand_inputs(patterns: Sequence[str]) -> list[Path]:
    """Input files from names and glob patterns, in a stable order, each of a format `score` reads."""
    files = expand_paths(patterns)
    for path in files:
        file_format(path)
    return files


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


def score_files(
    inputs: Sequence[str],
    output: str | Path,
    *,
    artifacts: str | Path | None = None,
    version: str | None = None,
    allow_version_mismatch: bool = False,
    trusted_keys: Sequence[str | Path] = (),
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
    store = ArtifactStore(artifacts, allow_version_mismatch=allow_version_mismatch, trusted_keys=trusted_keys)
    predictor = Predictor(store.load(version))
    columns = output_columns(predictor.labels, options, len(files) > 1)
    scorer = ChunkScorer(predictor, options, columns, fmt)
    stamp = fingerprint(files, options, predictor.version, fmt)
    with writing(output):  # a full disk or read-only directory is one line naming it, not a traceback
        output.parent.mkdir(parents=True, exist_ok=True)
        work = WorkDir(output, stamp, resume)
    done = work.done() if resume else 0
    summary = ScoreSummary(output=str(output), resumed_chunks=done)
    labels: Counter[str] = Counter()
    for index in range(done):
        stats = work.stats(index)
        summary.rows += stats["rows"]
        summary.errors += stats["errors"]
        labels.update(stats["labels"])
    # The story index keeps its records in the work directory; the saved chunks rebuild it.
    annotator = DocumentAnnotator(options.date_column, work.path / "stories")
    for index in range(done):
        annotator.stories.restore(work.stories(index))
    readers = [RowReader(p, text_column=options.text_column, id_column=options.id_column,
                         keep_columns=options.keep_columns, date_column=options.date_column,
                         max_chars=options.max_chars) for p in files]
    raw_chunks = _chunks(readers, options.chunk_rows)
    for _ in range(done):
        next(raw_chunks, None)
    # Stories are assigned here, in input order, as chunks go out; each chunk's new stories are
    # saved with it when it comes back, so a resumed run picks the story index up where it was.
    new_stories: deque[bytes] = deque()

    def annotated() -> Iterator[list[SourceRow]]:
        for chunk in raw_chunks:
            annotator.annotate(chunk)
            new_stories.append(annotator.stories.take_new())
            yield chunk

    chunks = annotated()
    total_bytes = sum(p.stat().st_size for p in files)
    consumed = [sum(p.stat().st_size for p in files[:i]) for i in range(len(files))]

    def position() -> int:
        for i, reader in enumerate(readers):
            if reader.position() and (i == len(readers) - 1 or not readers[i + 1].position()):
                return consumed[i] + reader.position()
        return 0

    if options.engine == "dask":
        try:
            from coopclf.service.batch.cluster import dask_results
        except ImportError:
            raise CoopclfError("the dask engine needs dask[distributed]: pip install 'coopclf[dask]'") from None

        results = dask_results(scorer, chunks, options, store, predictor.version)
    else:
        results = local_results(scorer, chunks, options, store, predictor.version)
    index = done
    for data, rows, errors, chunk_labels in results:
        work.save(index, data, rows, errors, chunk_labels, new_stories.popleft())
        index += 1
        summary.rows += rows
        summary.errors += errors
        labels.update(chunk_labels)
        if progress:
            progress(summary.rows, position(), total_bytes)
    annotator.stories.close()
    with writing(output):
        work.assemble(index, output, columns, fmt)
    summary.per_label = {label: labels.get(label, 0) for label in predictor.labels}
    summary.seconds = time.perf_counter() - started
    return summary
