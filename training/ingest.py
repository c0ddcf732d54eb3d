"""Read labelled CSV files into a Dataset, naming file, line and column for every problem."""

from __future__ import annotations

import csv
import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from coopclf.errors import DataError, InvalidInput
from coopclf.files import expand_paths
from coopclf.labels import DEFAULT_LABELS, normalise_label, suggest_label
from coopclf.splitter import normalise_whitespace

MAX_PROBLEMS = 20
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
        self.rows: list[tuple[str, frozenset[str], tuple[str, int]]] = []  # text, labels, (file, line)
        self.label_set: tuple[str, ...] | None = tuple(known) if known else None
        self.columns: list[str] = []

    @property
    def full(self) -> bool:
        return not self.skip_invalid and len(self.problems) >= self.max_problems

    def read_file(self, path: Path) -> SourceFile:
        raw = path.read_bytes()
        name = str(path)
        try:
            content = raw.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            line = raw[: exc.start].count(b"\n") + 1
            raise DataError(
                [RowProblem(name, line, "-", "not UTF-8 text (byte "
                         f"0x{raw[exc.start]:02x}); save the file as UTF-8 and try again")]
            ) from None
        rows_before = len(self.rows)
        reader = csv.reader(content.splitlines(keepends=True), strict=True)
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
            if len(record) != len(columns):
                self._bad(RowProblem(name, line, "-", f"malformed row: {len(record)} fields where "
                                  f"the header has {len(columns)}"))
                continue
            self._row(name, line, record, text_at, layout)
        return SourceFile(name, hashlib.sha256(raw).hexdigest(), len(self.rows) - rows_before)

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
        self.problems.append(problem)

    def _row(self, name: str, line: int, record: list[str], text_at: int,
             layout: dict[int, str] | int) -> None:
        text = normalise_whitespace(record[text_at])
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
        self.rows.append((text, frozenset(labels), (name, line)))


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
    seen: dict[str, tuple[frozenset[str], tuple[str, int]]] = {}
    texts: list[str] = []
    merged = 0
    for text, row_labels, (path, line) in reader.rows:
        if text in seen:
            first_labels, (first_path, first_line) = seen[text]
            if first_labels != row_labels:
                reader._bad(RowProblem(path, line, "labels",
                                    f"duplicate of {first_path}:{first_line} with different labels "
                                    f"({_fmt(row_labels)} vs {_fmt(first_labels)})"))
            else:
                merged += 1
            continue
        seen[text] = (row_labels, (path, line))
        texts.append(text)
    if reader.problems and not skip_invalid:
        raise DataError(reader.problems[:max_problems], truncated=len(reader.problems) >= max_problems)
    label_set = reader.label_set or DEFAULT_LABELS
    return Dataset(
        texts=texts,
        labels=[seen[t][0] for t in texts],
        label_set=label_set,
        sources=sources,
        skipped=reader.skipped,
        merged=merged,
    )


def _fmt(labels: frozenset[str]) -> str:
    return ";".join(sorted(labels)) or "no label"
