"""`coopclf aggregate`: periods, counts, what is left out, formats, engines, errors and the chart."""

from __future__ import annotations

import csv
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from coopclf.errors import InvalidInput
from coopclf.service.batch.aggregate import aggregate_files, write_table
from coopclf.service.cli import main

COLUMNS = ["id", "paragraph", "labels", "countries", "pair", "date", "story", "error"]
# Two stories about Bahrain and Pakistan (the second run twice: documents d1 and d2), one about
# Qatar and Turkey, and rows that cannot be counted.
SCORED = [
    {"id": "d1", "paragraph": 0, "labels": "narcotics;counterterrorism", "countries": "BHR;PAK", "pair": "BHR-PAK",
     "date": "2026-12-07", "story": "d1", "error": ""},
    {"id": "d1", "paragraph": 1, "labels": "narcotics", "countries": "", "pair": "BHR-PAK", "date": "2026-12-07",
     "story": "d1", "error": ""},
    {"id": "d2", "paragraph": 0, "labels": "narcotics", "countries": "PAK;BHR", "pair": "BHR-PAK",
     "date": "2026-12-08", "story": "d1", "error": ""},
    {"id": "d3", "paragraph": 0, "labels": "narcotics", "countries": "PAK;BHR", "pair": "BHR-PAK",
     "date": "2027-01-04", "story": "d3", "error": ""},
    {"id": "d4", "paragraph": 0, "labels": "trade", "countries": "QAT;TUR", "pair": "QAT-TUR",
     "date": "2026-12-31", "story": "d4", "error": ""},
    {"id": "d5", "paragraph": 0, "labels": "trade", "countries": "QAT", "pair": "", "date": "2026-12-31",
     "story": "d5", "error": ""},
    {"id": "d6", "paragraph": 0, "labels": "", "countries": "QAT;TUR", "pair": "QAT-TUR", "date": "2026-12-31",
     "story": "d6", "error": ""},
    {"id": "d7", "paragraph": 0, "labels": "trade", "countries": "QAT;TUR", "pair": "QAT-TUR", "date": "",
     "story": "d7", "error": "unparseable date 'soon' in column 'published'"},
]


def write_scored(path: Path, rows: list[dict[str, object]]) -> Path:
    """Rows in the format the name implies, as `coopclf score` writes them."""
    name = path.name.removesuffix(".gz")
    if name.endswith(".parquet"):
        pq.write_table(pa.Table.from_pylist([{k: (str(v) if v != "" else None) for k, v in r.items()}
                                             for r in rows]), path)
        return path
    if name.endswith(".csv"):
        lines = [",".join(rows[0])] + [",".join(str(v) for v in r.values()) for r in rows]
    else:
        lines = [json.dumps({k: (v if v != "" else None) for k, v in r.items()}) for r in rows]
    data = ("\n".join(lines) + "\n").encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)
    return path


def table(path: Path) -> list[list[str]]:
    return list(csv.reader(path.read_text().splitlines()))


BY_MONTH = [
    ("2026-12", "BHR-PAK", "counterterrorism", 1, 1, 1),
    ("2026-12", "BHR-PAK", "narcotics", 3, 2, 1),
    ("2026-12", "QAT-TUR", "trade", 1, 1, 1),
    ("2027-01", "BHR-PAK", "narcotics", 1, 1, 1),
]


@pytest.mark.parametrize(
    ("by", "expected"),
    [
        ("month", BY_MONTH),
        # 2026-12-07 and -08 are in ISO week 50; 2026-12-31 in week 53; 2027-01-04 in 2027's week 1.
        ("week", [("2026-W50", "BHR-PAK", "counterterrorism", 1, 1, 1), ("2026-W50", "BHR-PAK", "narcotics", 3, 2, 1),
                  ("2026-W53", "QAT-TUR", "trade", 1, 1, 1), ("2027-W01", "BHR-PAK", "narcotics", 1, 1, 1)]),
        ("quarter", [("2026-Q4", "BHR-PAK", "counterterrorism", 1, 1, 1), ("2026-Q4", "BHR-PAK", "narcotics", 3, 2, 1),
                     ("2026-Q4", "QAT-TUR", "trade", 1, 1, 1), ("2027-Q1", "BHR-PAK", "narcotics", 1, 1, 1)]),
        ("year", [("2026", "BHR-PAK", "counterterrorism", 1, 1, 1), ("2026", "BHR-PAK", "narcotics", 3, 2, 1),
                  ("2026", "QAT-TUR", "trade", 1, 1, 1), ("2027", "BHR-PAK", "narcotics", 1, 1, 1)]),
    ],
)
def test_counts_per_period_pair_and_area(tmp_path: Path, by: str, expected: list[tuple]) -> None:
    result = aggregate_files([str(write_scored(tmp_path / "scored.csv", SCORED))], by=by)
    assert result.rows == expected
    assert (result.total, result.counted, result.without) == (8, 5, {"a date": 1, "a pair": 1, "a label": 1})


@pytest.mark.parametrize("names", [["s.csv"], ["s.jsonl"], ["s.parquet"], ["s.csv.gz"], ["s.jsonl.gz"],
                                   ["a.csv", "b.jsonl", "c.parquet"]])
def test_every_format_and_several_files_give_the_same_table(tmp_path: Path, names: list[str]) -> None:
    parts = [SCORED[i::len(names)] for i in range(len(names))]
    for name, rows in zip(names, parts):
        write_scored(tmp_path / name, rows)
    result = aggregate_files([str(tmp_path / "*.*")], by="month")
    # Documents are told apart per scored file, so split across files d1 stays one document only
    # when its rows stay together.
    if len(names) == 1:
        assert result.rows == BY_MONTH
    assert sum(r[3] for r in result.rows) == 6 and result.counted == 5


def test_the_table_is_written_atomically_as_csv(tmp_path: Path) -> None:
    result = aggregate_files([str(write_scored(tmp_path / "scored.jsonl", SCORED))])
    write_table(result, tmp_path / "table.csv")
    assert table(tmp_path / "table.csv") == [["period", "pair", "area", "paragraphs", "documents", "stories"],
                                             *[[str(v) for v in row] for row in BY_MONTH]]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["scored.jsonl", "table.csv"]


@pytest.mark.parametrize(
    ("drop", "message"),
    [(["pair"], "no pair column"), (["pair", "date", "story"], "no pair, date, story columns")],
)
@pytest.mark.parametrize("name", ["old.csv", "old.jsonl", "old.parquet"])
def test_files_without_the_new_columns_are_refused_clearly(tmp_path: Path, drop: list[str], message: str,
                                                           name: str) -> None:
    path = write_scored(tmp_path / name, [{k: v for k, v in r.items() if k not in drop} for r in SCORED])
    with pytest.raises(InvalidInput, match=rf"{name}: {message}; they are written by `coopclf score` of coopclf"):
        aggregate_files([str(path)])


def test_dask_engine_gives_the_same_table(tmp_path: Path) -> None:
    pytest.importorskip("dask.dataframe")
    for name, rows in zip(["a.csv", "b.jsonl.gz", "c.parquet"], [SCORED * 3, SCORED[2:], SCORED[:5]]):
        write_scored(tmp_path / name, rows)
    files = [str(tmp_path / "*.*")]
    for by in ("week", "quarter"):
        local = aggregate_files(files, by=by)
        distributed = aggregate_files(files, by=by, engine="dask", workers=1)
        assert distributed == local and local.rows


def test_cli_writes_table_and_chart(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    scored = write_scored(tmp_path / "scored.csv", SCORED)
    code = main(["aggregate", str(scored), "-o", str(tmp_path / "t.csv"), "--by", "week",
                 "--plot", str(tmp_path / "chart.png")])
    err = capsys.readouterr().err
    assert code == 0, err
    assert "counted 5 of 8 scored rows" in err and "1 without a date, 1 without a pair, 1 without a label" in err
    assert table(tmp_path / "t.csv")[1] == ["2026-W50", "BHR-PAK", "counterterrorism", "1", "1", "1"]
    assert (tmp_path / "chart.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_names_a_missing_file_in_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["aggregate", str(tmp_path / "nothing-*.csv"), "-o", str(tmp_path / "t.csv")])
    assert code == 1 and "no files match" in capsys.readouterr().err
    assert not (tmp_path / "t.csv").exists()


def test_pair_names_read_as_country_names() -> None:
    from coopclf.service.batch.chart import pair_name

    assert pair_name("BHR-PAK") == "Bahrain \u2013 Pakistan"
    assert pair_name("IRN-TWN") == "Iran \u2013 Taiwan"
