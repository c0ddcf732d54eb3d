"""Read labelled CSV files into a Dataset, naming file, line and column for every problem."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import numpy as np

from coopclf.csvsafe import unescape_cell
from coopclf.errors import DataError, InvalidInput
from coopclf.files import expand_paths
from coopclf.labels import DEFAULT_LABELS, normalise_label, suggest_label
from coopclf.splitter import normalise_whitespace

MAX_PROBLEMS = 20
GARBAGE_SAMPLE = 1000  # after this many rows of a file, refuse it if more than half of them were invalid
FEEDBACK_NAME = "feedback"  # feedback.csv, or any CSV in a directory named feedback: newest labels win
_SEPARATORS = re.compile(r"[;,|]")
_TRUE = {"1", "1.0", "true", "yes"}
_FALSE = {"0", "0.0", "false", "no", ""}


@dataclass(frozen=True)
class RowProblem:
    """One thing wrong with the data, located precisely enough to fix it."""

    path: str
    line: int
    column: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: column {self.column!r}: {self.message}"


@dataclass(frozen=True)
class SourceFile:
    """A file that went into a dataset, for the manifest's provenance record."""

    path: str
    sha256: str
    rows: int


@dataclass
class Dataset:
    """Unique texts with their label sets, in file order, and where they came from."""

    texts: list[str]
    labels: list[frozenset[str]]
    label_set: tuple[str, ...]
    sources: list[SourceFile] = field(default_factory=list)
    skipped: int = 0
    merged: int = 0
    overridden: int = 0  # label sets replaced by newer feedback on the same text

    def matrix(self) -> np.ndarray:
        """The labels as an (n_texts, n_labels) 0/1 indicator matrix in label_set order."""
        return np.array(
            [[label in row for label in self.label_set] for row in self.labels], dtype=np.int8
        ).reshape(len(self.labels), len(self.label_set))

    @property
    def data_hash(self) -> str:
        """SHA-256 over the sorted source-file hashes: one fingerprint for the training data."""
        digest = hashlib.sha256()
        for source in sorted(self.sources, key=lambda s: s.sha256):
            digest.update(source.sha256.encode())
        return digest.hexdigest()


class _Reader:
    """Collects rows and problems across files; stops early once enough problems are seen."""

    def __init__(self, known: Sequence[str] | None, skip_invalid: bool, max_problems: int) -> None:
        self.skip_invalid = skip_invalid
        self.max_problems = max_problems
        self.problems: list[RowProblem] = []
        self.skipped = 0
        # text, labels, (file, line), whether the file is feedback
        self.rows: list[tuple[str, frozenset[str], tuple[str, int], bool]] = []
        self._feedback = False
        self.label_set: tuple[str, ...] | None = tuple(known) if known else None
        self.columns: list[str] = []

    @property
    def full(self) -> bool:
        return not self.skip_invalid and len(self.problems) >= self.max_problems

    def read_file(self, path: Path) -> SourceFile:
        digest = hashlib.sha256()
        try:
            with path.open("rb") as handle:
                rows = self._read_rows(path, _lines(handle, digest, str(path)))
                for block in iter(lambda: handle.read(1 << 20), b""):  # what a stop left unread
                    digest.update(block)
        except OSError as exc:
            raise DataError([RowProblem(str(path), 1, "-", f"cannot read the file ({exc.strerror})")]) from None
        return SourceFile(str(path), digest.hexdigest(), rows)

    def _read_rows(self, path: Path, lines: Iterator[str]) -> int:
        """Read one file's rows; returns how many were kept."""
        name = str(path)
        self._feedback = is_feedback(path)
        rows_before, skipped_before, seen = len(self.rows), self.skipped, 0
        reader = csv.reader(lines, strict=True)
        try:
            header = next(reader)
        except StopIteration:
            raise DataError([RowProblem(name, 1, "-", "the file is empty; expected a header row")]) from None
        except csv.Error as exc:
            raise DataError([RowProblem(name, 1, "-", f"malformed header row: {exc}")]) from None
        columns = [c.strip() for c in header]
        lowered = [c.lower() for c in columns]
        if "text" not in lowered:
            raise DataError([RowProblem(name, 1, "text", "missing 'text' column; the header is "
                                     f"{','.join(columns)!r}")])
        text_at = lowered.index("text")
        layout = self._layout(name, columns, text_at)
        self.columns = columns
        while not self.full:
            try:
                record = next(reader)
            except StopIteration:
                break
            except csv.Error as exc:
                self._bad(RowProblem(name, reader.line_num, "-", f"malformed row: {exc}"))
                break
            line = reader.line_num
            if not any(cell.strip() for cell in record):
                continue
            seen += 1
            if len(record) != len(columns):
                self._bad(RowProblem(name, line, "-", f"malformed row: {len(record)} fields where "
                                  f"the header has {len(columns)}"))
            else:
                self._row(name, line, record, text_at, layout)
            if seen == GARBAGE_SAMPLE:
                self._refuse_garbage(name, self.skipped - skipped_before)
        return len(self.rows) - rows_before

    def _refuse_garbage(self, name: str, invalid: int) -> None:
        """Stop at once on a file whose first rows are mostly invalid, whatever --skip-invalid says."""
        if 2 * invalid > GARBAGE_SAMPLE:
            example = f" The first: {self.problems[0]}" if self.problems else ""
            raise DataError([f"{name}: {invalid:,} of the first {GARBAGE_SAMPLE:,} rows are invalid; "
                             f"is this a coopclf training file?{example}"])

    def _layout(self, name: str, columns: list[str], text_at: int) -> dict[int, str] | int:
        """The `labels` column index, or a map from 0/1 column index to label id."""
        others = [(i, c) for i, c in enumerate(columns) if i != text_at]
        lowered = {c.lower(): i for i, c in others}
        if "labels" in lowered:
            return lowered["labels"]
        mapping: dict[int, str] = {}
        for i, column in others:
            if column.lower() in {"id", "source", "notes", "clarity"}:
                continue
            try:
                label = normalise_label(column, self.label_set or DEFAULT_LABELS)
            except InvalidInput as exc:
                if self.label_set is not None:
                    raise DataError([RowProblem(name, 1, column, str(exc))]) from None
                label = column
            mapping[i] = label
        if not mapping:
            raise DataError([RowProblem(name, 1, "labels", "no 'labels' column and no 0/1 label columns")])
        found = tuple(mapping.values())
        if self.label_set is None:
            self.label_set = found
        elif set(found) - set(self.label_set):
            extra = sorted(set(found) - set(self.label_set))
            raise DataError([RowProblem(name, 1, extra[0], "label column not in the label set "
                                     f"{', '.join(self.label_set)}")])
        return mapping

    def _bad(self, problem: RowProblem) -> None:
        self.skipped += 1
        if len(self.problems) < self.max_problems:  # with --skip-invalid, keep the count, not every row
            self.problems.append(problem)

    def _row(self, name: str, line: int, record: list[str], text_at: int,
             layout: dict[int, str] | int) -> None:
        text = _cell_text(record[text_at])
        if not text:
            self._bad(RowProblem(name, line, "text", "empty text"))
            return
        labels: set[str] = set()
        if isinstance(layout, int):
            known = self.label_set or DEFAULT_LABELS
            for part in _SEPARATORS.split(record[layout]):
                if not part.strip():
                    continue
                try:
                    labels.add(normalise_label(part, known))
                except InvalidInput:
                    hint = suggest_label(part, known)
                    tip = f" (did you mean {hint!r}?)" if hint else f"; known: {', '.join(known)}"
                    self._bad(RowProblem(name, line, "labels", f"unknown label {part.strip()!r}{tip}"))
                    return
        else:
            for index, label in layout.items():
                value = record[index].strip().lower()
                if value in _TRUE:
                    labels.add(label)
                elif value not in _FALSE:
                    self._bad(RowProblem(name, line, self.columns[index],
                                      f"expected 0 or 1, found {record[index].strip()!r}"))
                    return
        self.rows.append((text, frozenset(labels), (name, line), self._feedback))


def is_feedback(path: Path) -> bool:
    """Whether a file holds analysts' feedback: feedback.csv, or a CSV in a directory named feedback."""
    return path.name.lower() == f"{FEEDBACK_NAME}.csv" or path.parent.name.lower() == FEEDBACK_NAME


def _lines(handle: IO[bytes], digest: hashlib._Hash, name: str) -> Iterator[str]:
    """A file's lines as UTF-8 text (without a BOM), hashing the bytes as they are read."""
    for number, raw in enumerate(handle, start=1):
        digest.update(raw)
        try:
            line = raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise DataError([RowProblem(name, number, "-", f"not UTF-8 text (byte 0x{raw[exc.start]:02x}); "
                                        "save the file as UTF-8 and try again")]) from None
        yield line.removeprefix("\ufeff") if number == 1 else line


def load_dataset(
    paths: Iterable[str | Path],
    *,
    labels: Sequence[str] | None = None,
    skip_invalid: bool = False,
    max_problems: int = MAX_PROBLEMS,
) -> Dataset:
    """Read every CSV in `paths`; raise DataError listing problems unless `skip_invalid`."""
    files = expand_paths(paths, directory_glob="*.csv")
    known = tuple(labels) if labels else None
    reader = _Reader(known, skip_invalid, max_problems)
    sources: list[SourceFile] = []
    for path in files:
        if reader.full:
            break
        sources.append(reader.read_file(path))
    # Training rows must agree with each other; feedback rows then apply in order, the newest winning.
    training: dict[str, tuple[frozenset[str], tuple[str, int]]] = {}
    feedback: list[tuple[str, frozenset[str]]] = []
    order: dict[str, None] = {}
    merged = overridden = 0
    for text, row_labels, (path, line), from_feedback in reader.rows:
        order.setdefault(text)
        if from_feedback:
            feedback.append((text, row_labels))
        elif text not in training:
            training[text] = (row_labels, (path, line))
        elif training[text][0] != row_labels:
            first_labels, (first_path, first_line) = training[text]
            reader._bad(RowProblem(path, line, "labels",
                                   f"duplicate of {first_path}:{first_line} with different labels "
                                   f"({_fmt(row_labels)} vs {_fmt(first_labels)})"))
        else:
            merged += 1
    final = {text: row_labels for text, (row_labels, _) in training.items()}
    for text, row_labels in feedback:
        if text in final:
            if final[text] == row_labels:
                merged += 1
            else:
                overridden += 1
        final[text] = row_labels
    if reader.problems and not skip_invalid:
        raise DataError(reader.problems[:max_problems], truncated=len(reader.problems) >= max_problems)
    label_set = reader.label_set or DEFAULT_LABELS
    texts = list(order)
    return Dataset(
        texts=texts,
        labels=[final[t] for t in texts],
        label_set=label_set,
        sources=sources,
        skipped=reader.skipped,
        merged=merged,
        overridden=overridden,
    )


def _cell_text(cell: str) -> str:
    """A text cell as training reads it: as written before a CSV writer escaped it from spreadsheets."""
    return normalise_whitespace(unescape_cell(cell))


def _fmt(labels: frozenset[str]) -> str:
    return ";".join(sorted(labels)) or "no label"
