"""Batch scoring: formats, errors, order, paragraphs, resume, engines and bounded memory."""

from __future__ import annotations

import csv
import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from coopclf.errors import CoopclfError
from coopclf.service.batch.scoring import ScoreOptions, score_files
from coopclf.service.batch.tables import MalformedFile

TEXTS = [
    "Customs officers seized cocaine hidden in a fruit shipment at the port.",
    "Hotel occupancy reached a record as tourists returned to the coast.",
    "The two countries signed a free trade agreement cutting customs duties.",
    "The home side won the cup final after a late goal.",
]
EXPECTED = ["narcotics", "tourism", "trade", ""]


def write_input(path: Path, rows: list[dict[str, object]]) -> Path:
    """Write rows in the format the file name implies."""
    fmt = path.name.removesuffix(".gz").rsplit(".", 1)[-1]
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pylist(rows), path)
        return path
    if fmt == "csv":
        lines = [",".join(rows[0])] + [",".join(f'"{v}"' for v in r.values()) for r in rows]
        data = "\n".join(lines) + "\n"
    else:
        data = "".join(json.dumps(r) + "\n" for r in rows)
    path.write_bytes(gzip.compress(data.encode(), mtime=0) if path.name.endswith(".gz") else data.encode())
    return path


def read_output(path: Path) -> list[dict[str, object]]:
    """Read back an output file of any format."""
    if path.name.endswith(".parquet"):
        return pq.read_table(path).to_pylist()
    data = gzip.decompress(path.read_bytes()) if path.name.endswith(".gz") else path.read_bytes()
    text = data.decode()
    if ".csv" in path.name:
        return list(csv.DictReader(text.splitlines()))
    return [json.loads(line) for line in text.splitlines()]


ROWS = [{"id": f"doc-{i}", "text": t, "lang": "en"} for i, t in enumerate(TEXTS)]


@pytest.mark.parametrize("source", ["in.csv", "in.jsonl", "in.parquet", "in.csv.gz", "in.jsonl.gz"])
@pytest.mark.parametrize("target", ["out.csv", "out.jsonl", "out.parquet", "out.csv.gz", "out.jsonl.gz"])
def test_every_format_in_and_out(tiny_artifacts: Path, tmp_path: Path, source: str, target: str) -> None:
    inp = write_input(tmp_path / source, ROWS)
    summary = score_files([str(inp)], tmp_path / target, artifacts=tiny_artifacts,
                          options=ScoreOptions(id_column="id", keep_columns=("lang",)))
    rows = read_output(tmp_path / target)
    assert [r["id"] for r in rows] == [f"doc-{i}" for i in range(4)]
    assert [r["labels"] or "" for r in rows] == EXPECTED
    assert all(r["lang"] == "en" and r["model_version"] for r in rows)
    assert float(rows[0]["score_narcotics"]) > 0.3
    assert summary.rows == 4 and summary.errors == 0 and summary.per_label["narcotics"] == 1
    assert not list(tmp_path.glob("*.partial*"))


@pytest.mark.parametrize("source", ["in.csv", "in.jsonl", "in.parquet"])
def test_an_inputs_own_id_column_is_used_without_being_named(tiny_artifacts: Path, tmp_path: Path,
                                                              source: str) -> None:
    inp = write_input(tmp_path / source, ROWS)
    score_files([str(inp)], tmp_path / "out.csv", artifacts=tiny_artifacts)
    assert [r["id"] for r in read_output(tmp_path / "out.csv")] == [f"doc-{i}" for i in range(4)]


def test_gzip_output_is_really_gzip(tiny_artifacts: Path, tmp_path: Path) -> None:
    inp = write_input(tmp_path / "in.csv", ROWS)
    score_files([str(inp)], tmp_path / "out.csv.gz", artifacts=tiny_artifacts)
    assert (tmp_path / "out.csv.gz").read_bytes()[:2] == b"\x1f\x8b"


def test_rows_without_ids_get_their_row_number_and_order_is_kept(tiny_artifacts: Path, tmp_path: Path) -> None:
    rows = [{"text": TEXTS[i % 4]} for i in range(45)]
    inp = write_input(tmp_path / "in.jsonl", rows)
    score_files([str(inp)], tmp_path / "out.jsonl", artifacts=tiny_artifacts,
                options=ScoreOptions(jobs=2, chunk_rows=4))
    out = read_output(tmp_path / "out.jsonl")
    assert [r["id"] for r in out] == list(range(1, 46))
    assert [r["labels"] or "" for r in out] == [EXPECTED[i % 4] for i in range(45)]


def test_unscorable_rows_are_written_with_their_error(tiny_artifacts: Path, tmp_path: Path) -> None:
    inp = tmp_path / "in.jsonl"
    inp.write_text("\n".join(json.dumps(r) for r in [
        {"id": 1, "text": TEXTS[0]}, {"id": 2}, {"id": 3, "text": "   "}, {"id": 4, "text": 42},
        {"id": 5, "text": None}, {"id": 6, "text": TEXTS[1]}]) + "\n")
    summary = score_files([str(inp)], tmp_path / "out.csv", artifacts=tiny_artifacts,
                          options=ScoreOptions(id_column="id"))
    out = read_output(tmp_path / "out.csv")
    assert [(r["id"], r["error"]) for r in out] == [
        ("1", ""), ("2", "missing text"), ("3", "empty text"), ("4", "text is int, not a string"),
        ("5", "missing text"), ("6", "")]
    assert summary.rows == 6 and summary.errors == 4


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("bad.csv", 'text\n"fine"\n"broken"x\n', r"bad.csv:3: malformed CSV"),
        ("bad.csv", "text,id\nok,1\nok,2,3\n", r"bad.csv:3: 3 fields where the header has 2"),
        ("bad.jsonl", '{"text": "ok"}\n{"text": \n', r"bad.jsonl:2: invalid JSON"),
        ("bad.jsonl", '{"text": "ok"}\n[1, 2]\n', r"bad.jsonl:2: each line must be a JSON object"),
        ("bad.csv", "body\nsomething\n", r"bad.csv:1: no 'text' column"),
    ],
)
def test_malformed_files_name_file_and_line_and_leave_no_output(
    tiny_artifacts: Path, tmp_path: Path, name: str, content: str, message: str
) -> None:
    inp = tmp_path / name
    inp.write_text(content)
    with pytest.raises(MalformedFile, match=message):
        score_files([str(inp)], tmp_path / "out.csv", artifacts=tiny_artifacts)
    assert not (tmp_path / "out.csv").exists()


def test_split_paragraphs_of_text_documents(tiny_artifacts: Path, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text("\n\n".join(TEXTS))
    (tmp_path / "b.txt").write_text(TEXTS[1])
    summary = score_files([str(tmp_path / "*.txt")], tmp_path / "out.csv", artifacts=tiny_artifacts,
                          options=ScoreOptions(split_paragraphs=True))
    out = read_output(tmp_path / "out.csv")
    assert [(r["id"], r["paragraph"], r["labels"]) for r in out] == [
        ("a.txt", "0", "narcotics"), ("a.txt", "1", "tourism"), ("a.txt", "2", "trade"),
        ("a.txt", "3", ""), ("b.txt", "0", "tourism")]
    assert out[0]["text"] == TEXTS[0] and out[0]["source"].endswith("a.txt")
    assert summary.rows == 5


ARTICLE = ("date 2025-07-12 Interior Minister Mohsin Naqvi met his Bahraini counterpart in Islamabad on Saturday.\n\n"
           "The two sides agreed to share intelligence on drug cartels and heroin smuggling.\n\n"
           "Pakistan and Bahrain will also promote tourism between the two countries.\n")


def test_rows_get_countries_pair_date_and_story(tiny_artifacts: Path, tmp_path: Path) -> None:
    (tmp_path / "a.txt").write_text(ARTICLE)
    (tmp_path / "b.txt").write_text(ARTICLE.replace("Saturday", "Sunday"))  # a near-copy: same story
    (tmp_path / "c.txt").write_text("Published: Dec. 8, 2026\n\n" + TEXTS[2])
    score_files([str(tmp_path / "*.txt")], tmp_path / "out.csv", artifacts=tiny_artifacts,
                options=ScoreOptions(split_paragraphs=True))
    out = read_output(tmp_path / "out.csv")
    assert [(r["id"], r["countries"], r["pair"], r["date"], r["story"]) for r in out] == [
        ("a.txt", "BHR;PAK", "BHR-PAK", "2025-07-12", "a.txt"),  # Bahraini before Islamabad
        ("a.txt", "", "BHR-PAK", "2025-07-12", "a.txt"),  # no country named: the document's pair
        ("a.txt", "PAK;BHR", "BHR-PAK", "2025-07-12", "a.txt"),
        ("b.txt", "BHR;PAK", "BHR-PAK", "2025-07-12", "a.txt"),
        ("b.txt", "", "BHR-PAK", "2025-07-12", "a.txt"),
        ("b.txt", "PAK;BHR", "BHR-PAK", "2025-07-12", "a.txt"),
        ("c.txt", "", "", "2026-12-08", "c.txt"),
        ("c.txt", "", "", "2026-12-08", "c.txt"),
    ]
    assert ["narcotics" in out[1]["labels"], "narcotics" in out[4]["labels"], out[7]["labels"]] == [True, True, "trade"]


def test_without_split_each_row_is_its_own_document(tiny_artifacts: Path, tmp_path: Path) -> None:
    rows = [{"id": "p1", "text": "Pakistan and Bahrain agreed to fight heroin smuggling."},
            {"id": "p2", "text": "The two sides agreed to share intelligence on drug cartels."},
            {"id": "p3", "text": "2026-12-08 Pakistan and Bahrain agreed to fight heroin smuggling."}]
    inp = write_input(tmp_path / "in.jsonl", rows)
    score_files([str(inp)], tmp_path / "out.jsonl", artifacts=tiny_artifacts)
    out = read_output(tmp_path / "out.jsonl")
    assert [(r["countries"], r["pair"], r["date"], r["story"]) for r in out] == [
        ("PAK;BHR", "BHR-PAK", None, "p1"), ("", None, None, "p2"), ("PAK;BHR", "BHR-PAK", "2026-12-08", "p3")]


@pytest.mark.parametrize(
    ("value", "date", "error"),
    [
        ("2026-12-08", "2026-12-08", ""),
        ("2026-12-08T23:30:00-05:00", "2026-12-08", ""),
        ("Dec. 8, 2026", "2026-12-08", ""),
        ("", "", ""),
        ("soon", "", "unparseable date 'soon' in column 'published'"),
        ("2026-02-30", "", "unparseable date '2026-02-30' in column 'published'"),
    ],
)
def test_date_column(tiny_artifacts: Path, tmp_path: Path, value: str, date: str, error: str) -> None:
    inp = write_input(tmp_path / "in.csv", [{"id": "d1", "text": TEXTS[0], "published": value}])
    summary = score_files([str(inp)], tmp_path / "out.csv", artifacts=tiny_artifacts,
                          options=ScoreOptions(date_column="published"))
    [row] = read_output(tmp_path / "out.csv")
    assert (row["date"], row["error"], row["labels"], row["story"]) == (date, error, "narcotics", "d1")
    assert summary.errors == (1 if error else 0) and summary.per_label["narcotics"] == 1


def test_a_parquet_date_column_may_hold_dates(tiny_artifacts: Path, tmp_path: Path) -> None:
    import datetime

    inp = write_input(tmp_path / "in.parquet", [{"text": TEXTS[1], "day": datetime.date(2026, 12, 8)}])
    score_files([str(inp)], tmp_path / "out.csv", artifacts=tiny_artifacts, options=ScoreOptions(date_column="day"))
    assert read_output(tmp_path / "out.csv")[0]["date"] == "2026-12-08"


@pytest.mark.parametrize(("keep", "message"), [("date", "--date-column date"), ("pair", "its own 'pair' column")])
def test_kept_columns_may_not_shadow_the_document_columns(tiny_artifacts: Path, tmp_path: Path, keep: str,
                                                           message: str) -> None:
    inp = write_input(tmp_path / "in.csv", [{"text": TEXTS[0], keep: "x"}])
    with pytest.raises(CoopclfError, match=message):
        score_files([str(inp)], tmp_path / "out.csv", artifacts=tiny_artifacts,
                    options=ScoreOptions(keep_columns=(keep,)))


def test_stories_span_chunks_and_are_the_same_for_any_number_of_jobs(tiny_artifacts: Path, tmp_path: Path) -> None:
    inp = big_input(tmp_path, 120)
    for jobs in (1, 2):
        score_files([str(inp)], tmp_path / f"jobs{jobs}.csv", artifacts=tiny_artifacts,
                    options=ScoreOptions(chunk_rows=7, jobs=jobs, id_column="id"))
    assert (tmp_path / "jobs1.csv").read_bytes() == (tmp_path / "jobs2.csv").read_bytes()
    # Each row repeats one of four texts with its own number: four stories, named by their first rows.
    assert [r["story"] for r in read_output(tmp_path / "jobs1.csv")] == [str(i % 4) for i in range(120)]


def big_input(tmp_path: Path, rows: int, name: str = "big.csv") -> Path:
    path = tmp_path / name
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(rows):
            writer.writerow([i, f"{TEXTS[i % 4]} Report number {i}."])
    return path


class Interrupt(Exception):
    pass


def test_resume_after_interruption_is_byte_identical(tiny_artifacts: Path, tmp_path: Path) -> None:
    inp = big_input(tmp_path, 500)
    options = ScoreOptions(chunk_rows=50, id_column="id")
    score_files([str(inp)], tmp_path / "full.csv.gz", artifacts=tiny_artifacts, options=options)

    def stop_after_four_chunks(rows: int, position: int, total: int) -> None:
        if rows >= 200:
            raise Interrupt

    target = tmp_path / "out.csv.gz"
    with pytest.raises(Interrupt):
        score_files([str(inp)], target, artifacts=tiny_artifacts, options=options, progress=stop_after_four_chunks)
    assert not target.exists()
    with pytest.raises(CoopclfError, match="--resume"):
        score_files([str(inp)], target, artifacts=tiny_artifacts, options=options)
    summary = score_files([str(inp)], target, artifacts=tiny_artifacts, options=options, resume=True)
    assert summary.resumed_chunks == 4 and summary.rows == 500
    assert target.read_bytes() == (tmp_path / "full.csv.gz").read_bytes()


def test_resume_after_kill_of_a_real_process_is_byte_identical(tiny_artifacts: Path, tmp_path: Path) -> None:
    inp = big_input(tmp_path, 30000)
    args = [sys.executable, "-m", "coopclf.service.cli", "score", str(inp), "--artifacts", str(tiny_artifacts),
            "--chunk-rows", "100", "--jobs", "1", "--id-column", "id"]
    subprocess.run([*args, "-o", str(tmp_path / "full.csv")], check=True, capture_output=True)
    target = tmp_path / "out.csv"
    work = tmp_path / "out.csv.partial.d"
    process = subprocess.Popen([*args, "-o", str(target)], stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while not (work / "chunk-000000003").exists() and time.monotonic() < deadline:
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert not target.exists(), "the run finished before it could be killed"
    subprocess.run([*args, "-o", str(target), "--resume"], check=True, capture_output=True)
    assert target.read_bytes() == (tmp_path / "full.csv").read_bytes()
    assert not work.exists()


def test_dask_engine_output_is_identical_to_local(tiny_artifacts: Path, tmp_path: Path) -> None:
    inp = big_input(tmp_path, 300)
    local = score_files([str(inp)], tmp_path / "local.parquet", artifacts=tiny_artifacts,
                        options=ScoreOptions(chunk_rows=40, jobs=2))
    distributed = score_files([str(inp)], tmp_path / "dask.parquet", artifacts=tiny_artifacts,
                              options=ScoreOptions(chunk_rows=40, jobs=2, engine="dask"))
    assert (tmp_path / "local.parquet").read_bytes() == (tmp_path / "dask.parquet").read_bytes()
    assert local.per_label == distributed.per_label


def peak_rss_mb(tiny_artifacts: Path, inp: Path, out: Path) -> float:
    """Peak RSS of a scoring subprocess: its VmHWM, which starts afresh at exec.

    (ru_maxrss would not do: Linux carries the forking parent's peak over into the child.)
    """
    code = ("import sys; from coopclf.service.cli import main; main(sys.argv[1:]); "
            "print(next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))")
    # numpy may back large arrays with transparent huge pages when the kernel has them free, which
    # inflates RSS by chance; without them the figure depends on the program alone.
    env = os.environ | {"NUMPY_MADVISE_HUGEPAGE": "0"}
    result = subprocess.run(
        [sys.executable, "-c", code, "score", str(inp), "-o", str(out), "--artifacts", str(tiny_artifacts),
         "--jobs", "1"], check=True, capture_output=True, text=True, env=env)
    return int(result.stdout.split()[-1]) / 1024


def test_memory_stays_bounded_as_input_grows(tiny_artifacts: Path, tmp_path: Path) -> None:
    small = peak_rss_mb(tiny_artifacts, big_input(tmp_path, 20_000, "small.csv"), tmp_path / "s.csv")
    large = peak_rss_mb(tiny_artifacts, big_input(tmp_path, 200_000, "large.csv"), tmp_path / "l.csv")
    # 200k rows of input and output are ~30 MB; holding them would add at least that much again.
    assert large < small + 25, (small, large)
    # The interpreter with numpy, scipy, scikit-learn and pyarrow imported is ~190 MB; two chunks
    # of 2,000 rows and a tiny model add a few MB.
    assert large < 400, (small, large)
