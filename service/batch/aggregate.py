"""`coopclf aggregate`: who cooperates with whom, on what, and when, counted from `coopclf score` output.

One row per period, country pair and area: how many paragraphs were labelled with the area, in
how many documents, and in how many stories (near-duplicate documents counted once). DuckDB does
the work locally; the same counts come from dask.dataframe on a cluster.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import os
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from coopclf.errors import InvalidInput
from coopclf.files import expand_paths, is_gzip, write_atomic
from coopclf.service.batch.tables import file_format

PERIODS = ("week", "month", "quarter", "year")
NEEDED = ("id", "labels", "pair", "date", "story")
COLUMNS = ("period", "pair", "area", "paragraphs", "documents", "stories")
ISO_DAY = r"\d{4}-\d{2}-\d{2}"
# Joins the parts of a document key (scored file, source, id); no id or path holds it.
_SEP = "\x1f"

Row = tuple[str, str, str, int, int, int]


@dataclass
class Aggregate:
    """The counted table and what was left out of it."""

    rows: list[Row] = field(default_factory=list)
    total: int = 0
    counted: int = 0
    without: dict[str, int] = field(default_factory=dict)

    def format(self) -> str:
        """Human summary of what was counted and what was left out."""
        left = self.total - self.counted
        reasons = ", ".join(f"{n:,} without {what}" for what, n in self.without.items() if n)
        note = f"; left out {left:,} ({reasons}; a row may lack several)" if left else ""
        return f"counted {self.counted:,} of {self.total:,} scored rows into {len(self.rows):,} table rows{note}"


@dataclass(frozen=True)
class ScoredFile:
    """One input file: its path, format, and whether it has a `source` column."""

    path: Path
    format: str
    has_source: bool


def scored_files(patterns: Sequence[str]) -> list[ScoredFile]:
    """The files behind names and globs, each checked for the columns `coopclf score` writes."""
    files = []
    for path in expand_paths(patterns):
        fmt = file_format(path)
        if fmt == "txt":
            raise InvalidInput(f"{path}: a text file; aggregate reads the .csv, .jsonl or .parquet output of "
                               "`coopclf score`")
        columns = _columns(path, fmt)
        missing = [c for c in NEEDED if c not in columns]
        if missing:
            from coopclf import __version__

            raise InvalidInput(
                f"{path}: no {', '.join(missing)} column{'s' if len(missing) > 1 else ''}; they are written by "
                f"`coopclf score` of coopclf {__version__}: score the input again with it")
        files.append(ScoredFile(path, fmt, "source" in columns))
    return files


def _columns(path: Path, fmt: str) -> list[str]:
    """Column names from a file's header, first record or schema."""
    if fmt == "parquet":
        import pyarrow.parquet as pq

        try:
            return list(pq.read_schema(path).names)
        except Exception as exc:  # pyarrow raises several types for a file that is not Parquet
            raise InvalidInput(f"{path}: not a Parquet file ({exc})") from None
    opener = gzip.open if is_gzip(path) else open
    try:
        with opener(path, "rt", encoding="utf-8-sig", newline="") as handle:
            if fmt == "csv":
                return next(csv.reader(handle), [])
            for line in handle:
                if line.strip():
                    record = json.loads(line)
                    return list(record) if isinstance(record, dict) else []
            return []
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, csv.Error) as exc:
        raise InvalidInput(f"{path}: cannot read it ({exc})") from None


def aggregate_files(patterns: Sequence[str], *, by: str = "month", engine: str = "local",
                    scheduler: str | None = None, workers: int | None = None) -> Aggregate:
    """Count paragraphs, documents and stories per period, pair and area over scored files."""
    if by not in PERIODS:
        raise InvalidInput(f"unknown period {by!r}; use one of {', '.join(PERIODS)}")
    files = scored_files(patterns)
    if engine == "dask":
        try:
            import dask.dataframe  # noqa: F401  (fail here, not on a worker, when pandas is missing)

            from coopclf.service.batch.cluster import dask_client
        except ImportError:
            raise InvalidInput("the dask engine needs dask[dataframe,distributed]: "
                               "pip install 'coopclf[dask]'") from None
        with dask_client(scheduler, workers or os.cpu_count() or 1):
            result = _with_dask(files, by)
    elif engine == "local":
        result = _with_duckdb(files, by)
    else:
        raise InvalidInput(f"unknown engine {engine!r}; use local or dask")
    result.rows.sort()
    return result


def _duckdb_period(by: str) -> str:
    return {
        "week": "isoyear(day)::VARCHAR || '-W' || lpad(week(day)::VARCHAR, 2, '0')",
        "month": "strftime(day, '%Y-%m')",
        "quarter": "year(day)::VARCHAR || '-Q' || quarter(day)::VARCHAR",
        "year": "year(day)::VARCHAR",
    }[by]


def _duckdb_source(files: list[ScoredFile], fmt: str) -> str:
    """A SELECT of the needed columns, as text, from every file of one format."""
    paths = "[" + ", ".join("'" + str(f.path).replace("'", "''") + "'" for f in files) + "]"
    wanted = [*NEEDED, "source"]
    if fmt == "csv":
        scan = (f"read_csv({paths}, header = true, all_varchar = true, union_by_name = true, filename = true, "
                "quote = '\"', escape = '\"', delim = ',')")
    elif fmt == "jsonl":
        columns = ", ".join(f"{c}: 'VARCHAR'" for c in wanted)
        scan = f"read_json({paths}, format = 'newline_delimited', columns = {{{columns}}}, filename = true)"
    else:
        scan = f"read_parquet({paths}, union_by_name = true, filename = true)"
    source = "source" if fmt == "jsonl" or any(f.has_source for f in files) else "NULL"
    return (f"SELECT CAST(id AS VARCHAR) AS id, CAST(labels AS VARCHAR) AS labels, CAST(pair AS VARCHAR) AS pair, "
            f"CAST(date AS VARCHAR) AS date, CAST(story AS VARCHAR) AS story, CAST({source} AS VARCHAR) AS source, "
            f"filename AS file FROM {scan}")


def _with_duckdb(files: list[ScoredFile], by: str) -> Aggregate:
    import duckdb

    with tempfile.TemporaryDirectory(prefix="coopclf-aggregate-") as spill:
        db = duckdb.connect(config={"memory_limit": "512MB", "temp_directory": spill,
                                    "threads": os.cpu_count() or 1, "preserve_insertion_order": False})
        try:
            groups = sorted({f.format for f in files})
            union = " UNION ALL BY NAME ".join(_duckdb_source([f for f in files if f.format == g], g) for g in groups)
            db.execute(f"""
                CREATE TEMP TABLE scored AS
                SELECT CASE WHEN regexp_full_match(date, '{ISO_DAY}') THEN try_strptime(date, '%Y-%m-%d')::DATE END
                           AS day,
                       NULLIF(pair, '') AS pair, NULLIF(labels, '') AS labels,
                       file || '{_SEP}' || coalesce(source, '') || '{_SEP}' || coalesce(id, '') AS doc,
                       CASE WHEN coalesce(story, '') <> '' THEN file || '{_SEP}' || story END AS story
                FROM ({union})""")
            total, counted, no_date, no_pair, no_label = db.execute("""
                SELECT count(*),
                       count(*) FILTER (day IS NOT NULL AND pair IS NOT NULL AND labels IS NOT NULL),
                       count(*) FILTER (day IS NULL), count(*) FILTER (pair IS NULL),
                       count(*) FILTER (labels IS NULL)
                FROM scored""").fetchone()
            rows = db.execute(f"""
                SELECT period, pair, area, count(*), count(DISTINCT doc), count(DISTINCT story)
                FROM (SELECT {_duckdb_period(by)} AS period, pair, unnest(string_split(labels, ';')) AS area,
                             doc, story
                      FROM scored WHERE day IS NOT NULL AND pair IS NOT NULL AND labels IS NOT NULL)
                WHERE area <> ''
                GROUP BY period, pair, area""").fetchall()
        except duckdb.Error as exc:
            raise InvalidInput(f"cannot read the scored files: {exc}") from None
        finally:
            db.close()
    return Aggregate([tuple(r) for r in rows], total, counted,
                     {"a date": no_date, "a pair": no_pair, "a label": no_label})


def _read_dask(file: ScoredFile) -> Any:
    """One scored file as a dask DataFrame of the needed columns, all text, missing values empty."""
    import dask.dataframe as dd

    wanted = [*NEEDED, "source"] if file.has_source else list(NEEDED)
    path = str(file.path)
    if file.format == "csv":
        frame = dd.read_csv(path, dtype=str, usecols=wanted, keep_default_na=False, na_filter=False,
                            blocksize=None if is_gzip(path) else "64MB", compression="infer")
    elif file.format == "jsonl":
        frame = dd.read_json(path, lines=True, dtype=False, convert_dates=False, compression="infer",
                             blocksize=None if is_gzip(path) else 2**26)
        frame = frame[[c for c in wanted if c in frame.columns]]
    else:
        frame = dd.read_parquet(path, columns=wanted)
    return frame.map_partitions(_as_text, wanted, path, meta={c: str for c in [*NEEDED, "source", "file"]})


def _as_text(part: Any, wanted: list[str], path: str) -> Any:
    """A partition's needed columns as strings ('' for missing), plus `source` and the file name."""
    import pandas as pd

    out = pd.DataFrame(index=part.index)
    for column in [*NEEDED, "source"]:
        values = part[column] if column in part.columns else pd.Series("", index=part.index)
        out[column] = values.astype(object).where(values.notna(), "").map(str).astype(object)
    out["file"] = path
    return out


def _pandas_period(day: Any, by: str) -> Any:
    if by == "week":
        iso = day.dt.isocalendar()
        return iso["year"].astype(str) + "-W" + iso["week"].astype(str).str.zfill(2)
    if by == "month":
        return day.dt.strftime("%Y-%m")
    if by == "quarter":
        return day.dt.year.astype(str) + "-Q" + day.dt.quarter.astype(str)
    return day.dt.year.astype(str)


def _explode(part: Any, by: str) -> Any:
    """Counted rows of a partition, one per area, with period, document key and story key."""
    import pandas as pd

    day = pd.to_datetime(part["date"].where(part["date"].str.fullmatch(ISO_DAY), None), format="%Y-%m-%d",
                         errors="coerce")
    keep = day.notna() & (part["pair"] != "") & (part["labels"] != "")
    rows = part[keep]
    out = pd.DataFrame({
        "period": _pandas_period(day[keep], by).astype(object),
        "pair": rows["pair"],
        "area": rows["labels"].str.split(";"),
        "doc": rows["file"] + _SEP + rows["source"] + _SEP + rows["id"],
        "story": (rows["file"] + _SEP + rows["story"]).where(rows["story"] != "", None),
    }, index=rows.index).explode("area")
    return out[out["area"] != ""].astype({"area": object})


def _left_out(part: Any) -> Any:
    import pandas as pd

    dated = part["date"].str.fullmatch(ISO_DAY) & pd.to_datetime(
        part["date"].where(part["date"].str.fullmatch(ISO_DAY), None), format="%Y-%m-%d", errors="coerce").notna()
    paired, labelled = part["pair"] != "", part["labels"] != ""
    return pd.DataFrame({"total": [len(part)], "counted": [int((dated & paired & labelled).sum())],
                         "no_date": [int((~dated).sum())], "no_pair": [int((~paired).sum())],
                         "no_label": [int((~labelled).sum())]})


def _with_dask(files: list[ScoredFile], by: str) -> Aggregate:
    import dask
    import dask.dataframe as dd

    frame = dd.concat([_read_dask(f) for f in files]) if len(files) > 1 else _read_dask(files[0])
    meta = {"period": object, "pair": object, "area": object, "doc": object, "story": object}
    exploded = frame.map_partitions(_explode, by, meta=meta)
    keys = ["period", "pair", "area"]
    groups = exploded.groupby(keys)
    paragraphs, documents, stories = groups.size(), groups["doc"].nunique(), groups["story"].nunique()
    counts = frame.map_partitions(_left_out, meta={c: int for c in ("total", "counted", "no_date", "no_pair",
                                                                    "no_label")}).sum()
    # Task-based shuffles: the peer-to-peer kind logs a warning per shuffle, and tables here are small.
    with dask.config.set({"dataframe.shuffle.method": "tasks"}):
        paragraphs, documents, stories, counts = dask.compute(paragraphs, documents, stories, counts)
    rows = [(period, pair, area, int(n), int(documents.get((period, pair, area), 0)),
             int(stories.get((period, pair, area), 0)))
            for (period, pair, area), n in paragraphs.items()]
    return Aggregate(rows, int(counts["total"]), int(counts["counted"]),
                     {"a date": int(counts["no_date"]), "a pair": int(counts["no_pair"]),
                      "a label": int(counts["no_label"])})


def write_table(result: Aggregate, path: str | Path) -> None:
    """Write the table as CSV, atomically (a reader sees the old file or the whole new one)."""
    path = Path(path)
    if file_format(path) != "csv" or is_gzip(path):
        raise InvalidInput(f"{path}: the table is written as .csv")
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows(result.rows)
    path.parent.mkdir(parents=True, exist_ok=True)
    write_atomic(path, buffer.getvalue().encode("utf-8"))
