"""Stream rows out of CSV, JSON Lines, Parquet and text files (gzipped or not), and encode results."""

from __future__ import annotations

import csv
import gzip
import io
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from coopclf.errors import CoopclfError, InvalidInput
from coopclf.files import is_gzip, strip_gz

# The id column used when none is named: an input's own `id`, else the row number.
DEFAULT_ID = "id"
_SUFFIXES = {".csv": "csv", ".jsonl": "jsonl", ".ndjson": "jsonl", ".parquet": "parquet", ".txt": "txt"}


class MalformedFile(CoopclfError):
    """An input file that cannot be parsed; names the file and line."""

    def __init__(self, path: str | Path, line: int | None, message: str) -> None:
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {message}")


def file_format(path: str | Path) -> str:
    """The format a file name implies (`.gz` is looked through)."""
    fmt = _SUFFIXES.get(Path(strip_gz(Path(path).name.lower())).suffix)
    if fmt is None:
        raise InvalidInput(f"{path}: unknown file type; use one of .csv, .jsonl, .parquet or .txt (optionally .gz)")
    return fmt


@dataclass
class SourceRow:
    """One input row: where it came from, its id, its text (any type) and passed-through columns."""

    source: str
    row: int
    id: Any
    text: Any
    extra: dict[str, Any]


class RowReader:
    """Iterate the rows of one input file; `position()` reports bytes consumed for progress."""

    def __init__(self, path: str | Path, *, text_column: str = "text", id_column: str | None = None,
                 keep_columns: Sequence[str] = ()) -> None:
        self.path = Path(path)
        self.format = file_format(path)
        self.text_column = text_column
        self.id_column = id_column
        self.keep_columns = list(keep_columns)
        self._raw: IO[bytes] | None = None

    def position(self) -> int:
        """Bytes of the (possibly compressed) file read so far."""
        try:
            return self._raw.tell() if self._raw is not None and not self._raw.closed else 0
        except (OSError, ValueError):
            return 0

    def __iter__(self) -> Iterator[SourceRow]:
        if not self.path.is_file():
            raise InvalidInput(f"{self.path}: no such file")
        with self.path.open("rb") as raw:
            self._raw = raw
            stream: IO[bytes] = gzip.GzipFile(fileobj=raw, mode="rb") if is_gzip(self.path) else raw
            try:
                yield from getattr(self, f"_{self.format}")(stream)
            except (gzip.BadGzipFile, EOFError, OSError) as exc:
                raise MalformedFile(self.path, None, f"cannot read compressed data ({exc})") from None

    def _make(self, row: int, record: dict[str, Any], line: int | None) -> SourceRow:
        missing = [c for c in [self.id_column, *self.keep_columns] if c and c not in record]
        if missing:
            raise MalformedFile(self.path, line, f"no column {missing[0]!r}")
        return SourceRow(
            source=str(self.path),
            row=row,
            id=record[self.id_column] if self.id_column else record.get(DEFAULT_ID, row),
            text=record.get(self.text_column),
            extra={c: record[c] for c in self.keep_columns},
        )

    def _text_stream(self, stream: IO[bytes]) -> io.TextIOWrapper:
        return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")

    def _csv(self, stream: IO[bytes]) -> Iterator[SourceRow]:
        text = self._text_stream(stream)
        reader = csv.reader(text, strict=True)
        try:
            header = next(reader, None)
            if header is None:
                return
            if self.text_column not in header:
                raise MalformedFile(self.path, 1, f"no {self.text_column!r} column (columns: {', '.join(header)})")
            for number, record in enumerate(reader, start=1):
                if len(record) != len(header):
                    if not any(record):
                        continue
                    raise MalformedFile(self.path, reader.line_num,
                                        f"{len(record)} fields where the header has {len(header)}")
                yield self._make(number, dict(zip(header, record)), reader.line_num)
        except csv.Error as exc:
            raise MalformedFile(self.path, reader.line_num, f"malformed CSV ({exc})") from None
        except UnicodeDecodeError:
            raise MalformedFile(self.path, reader.line_num + 1, "not UTF-8 text") from None
        finally:
            text.detach()  # the caller closes the underlying file

    def _jsonl(self, stream: IO[bytes]) -> Iterator[SourceRow]:
        number = 0
        for line_no, line in enumerate(stream, start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                raise MalformedFile(self.path, line_no, f"invalid JSON ({exc})") from None
            if not isinstance(record, dict):
                raise MalformedFile(self.path, line_no, "each line must be a JSON object")
            number += 1
            yield self._make(number, record, line_no)

    def _parquet(self, stream: IO[bytes]) -> Iterator[SourceRow]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        try:
            parquet = pq.ParquetFile(stream if is_gzip(self.path) else self.path)
        except (pa.ArrowInvalid, OSError) as exc:
            raise MalformedFile(self.path, None, f"not a Parquet file ({exc})") from None
        names = parquet.schema_arrow.names
        if self.text_column not in names:
            raise MalformedFile(self.path, None, f"no {self.text_column!r} column (columns: {', '.join(names)})")
        wanted = [c for c in dict.fromkeys([self.text_column, self.id_column or DEFAULT_ID, *self.keep_columns])
                  if c in names]
        number = 0
        for batch in parquet.iter_batches(batch_size=2048, columns=wanted):
            for record in batch.to_pylist():
                number += 1
                yield self._make(number, record, None)

    def _txt(self, stream: IO[bytes]) -> Iterator[SourceRow]:
        data = stream.read()
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MalformedFile(self.path, data[: exc.start].count(b"\n") + 1, "not UTF-8 text") from None
        yield SourceRow(str(self.path), 1, strip_gz(self.path.name), text, {})


def encode_rows(rows: list[dict[str, Any]], columns: list[str], fmt: str) -> bytes:
    """Serialise output rows (header excluded) in a form chunks can be concatenated in."""
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\n")
        writer.writerows([["" if r.get(c) is None else r.get(c) for c in columns] for r in rows])
        return buffer.getvalue().encode("utf-8")
    if fmt == "jsonl":
        return "".join(json.dumps({c: r.get(c) for c in columns}, ensure_ascii=False) + "\n"
                       for r in rows).encode("utf-8")
    if fmt == "parquet":
        import pyarrow as pa

        table = pa.Table.from_pylist([{c: _plain(r.get(c)) for c in columns} for r in rows],
                                     schema=output_schema(columns))
        sink = pa.BufferOutputStream()
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return sink.getvalue().to_pybytes()
    raise InvalidInput(f"cannot write {fmt!r} output; use .csv, .jsonl or .parquet")


def _plain(value: Any) -> Any:
    return value if value is None or isinstance(value, float) else str(value)


def output_schema(columns: list[str]) -> Any:
    """Arrow schema of the output: scores are floats, everything else text."""
    import pyarrow as pa

    return pa.schema([(c, pa.float64() if c.startswith("score_") else pa.string()) for c in columns])


def csv_header(columns: list[str]) -> bytes:
    """The CSV header line for `columns`."""
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(columns)
    return buffer.getvalue().encode("utf-8")
