"""Stream rows out of CSV, JSON Lines, Parquet and text files (gzipped or not), and encode results."""

from __future__ import annotations

import codecs
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
MAX_CHARS = 50_000  # longest text scored, as the service's COOPCLF_MAX_CHARS; longer ones get an error row
# The most of one line held in memory (a text file is read in blocks): bytes of a JSON line, and
# characters of a CSV line, which the csv module holds up to three times (line, parser, field).
JSON_LINE_BYTES = 64 << 20
CSV_LINE_CHARS = 32 << 20
_BLOCK = 1 << 16


def too_long(chars: int, limit: int) -> str:
    """The error of a row whose text is over the character limit."""
    return f"text too long: {chars:,} characters (the limit is {limit:,})"


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
    """One input row: where it came from, its id, its text (any type) and passed-through columns.

    `date` is the date column's value as read; before scoring, the main process replaces it with the
    document's date in ISO form (or None), and sets `date_error` and `story`.
    """

    source: str
    row: int
    id: Any
    text: Any
    extra: dict[str, Any]
    date: Any = None
    date_error: str | None = None
    story: str | None = None
    error: str | None = None  # why the row could not be read (a text over the limit): written, never scored


class RowReader:
    """Iterate the rows of one input file; `position()` reports bytes consumed for progress."""

    def __init__(self, path: str | Path, *, text_column: str = "text", id_column: str | None = None,
                 keep_columns: Sequence[str] = (), date_column: str | None = None,
                 max_chars: int = MAX_CHARS) -> None:
        self.path = Path(path)
        self.format = file_format(path)
        self.text_column = text_column
        self.id_column = id_column
        self.keep_columns = list(keep_columns)
        self.date_column = date_column
        self.max_chars = max_chars
        self.json_limit = max(JSON_LINE_BYTES, 16 * max_chars)  # room for a text at the limit, escaped
        self.csv_limit = max(CSV_LINE_CHARS, 4 * max_chars)
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
        missing = [c for c in [self.id_column, self.date_column, *self.keep_columns] if c and c not in record]
        if missing:
            raise MalformedFile(self.path, line, f"no column {missing[0]!r}")
        text, error = record.get(self.text_column), None
        if isinstance(text, str) and len(text) > self.max_chars:
            text, error = None, too_long(len(text), self.max_chars)
        return SourceRow(
            source=str(self.path),
            row=row,
            id=record[self.id_column] if self.id_column else record.get(DEFAULT_ID, row),
            text=text,
            extra={c: record[c] for c in self.keep_columns},
            date=record[self.date_column] if self.date_column else None,
            error=error,
        )

    def _text_stream(self, stream: IO[bytes]) -> io.TextIOWrapper:
        return io.TextIOWrapper(stream, encoding="utf-8-sig", errors="strict", newline="")

    def _lines(self, text: io.TextIOWrapper) -> Iterator[str]:
        """The text's lines, each read with a bounded buffer; a longer line stops the file."""
        number = 0
        while line := text.readline(self.csv_limit):
            number += 1
            if len(line) == self.csv_limit and line[-1] not in "\r\n":
                raise MalformedFile(self.path, number, f"a line of more than {self.csv_limit:,} characters; "
                                    "a CSV line must fit in that")
            yield line

    def _csv(self, stream: IO[bytes]) -> Iterator[SourceRow]:
        text = self._text_stream(stream)
        if csv.field_size_limit() < self.csv_limit:  # a long field is read, then refused by its length
            csv.field_size_limit(self.csv_limit)
        reader = csv.reader(self._lines(text), strict=True)
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
        for line_no, line, size in _bounded_lines(stream, self.json_limit):
            if line is None:  # too long to parse: an error row, and on to the next line
                number += 1
                yield SourceRow(str(self.path), number, number, None, {c: None for c in self.keep_columns},
                                error=f"line too long: {size:,} bytes (a JSON line may hold {self.json_limit:,})")
                continue
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
        wanted = [c for c in dict.fromkeys([self.text_column, self.id_column or DEFAULT_ID, self.date_column,
                                            *self.keep_columns]) if c in names]
        number = 0
        for batch in parquet.iter_batches(batch_size=2048, columns=wanted):
            for record in batch.to_pylist():
                number += 1
                yield self._make(number, record, None)

    def _txt(self, stream: IO[bytes]) -> Iterator[SourceRow]:
        """The whole file as one text, read in blocks; past the limit, characters are counted, not kept."""
        decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        parts: list[str] = []
        chars = lines = 0
        while True:
            block = stream.read(_BLOCK)
            try:
                piece = decoder.decode(block, final=not block)
            except UnicodeDecodeError as exc:
                line = lines + block[: max(exc.start, 0)].count(b"\n") + 1
                raise MalformedFile(self.path, line, "not UTF-8 text") from None
            lines += block.count(b"\n")
            chars += len(piece)
            if chars <= self.max_chars:
                parts.append(piece)
            else:
                parts.clear()
            if not block:
                break
        name = strip_gz(self.path.name)
        if chars > self.max_chars:
            yield SourceRow(str(self.path), 1, name, None, {}, error=too_long(chars, self.max_chars))
        else:
            yield SourceRow(str(self.path), 1, name, "".join(parts), {})


def _bounded_lines(stream: IO[bytes], limit: int) -> Iterator[tuple[int, bytes | None, int]]:
    """Number, bytes and size of each line; a line over `limit` bytes comes as None, read past in blocks."""
    number = 0
    while line := stream.readline(limit + 1):
        number += 1
        size = len(line)
        if size - line.endswith(b"\n") <= limit:
            yield number, line, size
            continue
        while not line.endswith(b"\n"):
            line = stream.readline(_BLOCK)
            if not line:
                break
            size += len(line)
        yield number, None, size


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
