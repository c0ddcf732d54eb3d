"""Batch inputs too big to score: texts over the limit become error rows, read with bounded memory."""

from __future__ import annotations

import csv
import gzip
import json
import os
import subprocess
import sys
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from coopclf.errors import CoopclfError
from coopclf.service.batch.scoring import ScoreOptions, score_files
from coopclf.service.batch.tables import MalformedFile

SHORT = "Customs officers seized cocaine hidden in a fruit shipment at the port."
GiB = 1 << 30


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="") as handle:
        return list(csv.DictReader(handle))


def write_rows(path: Path, texts: list[str]) -> None:
    """Rows with ids 1.. in the format the name implies; a .txt gets the first text only."""
    fmt = path.name.removesuffix(".gz").rsplit(".", 1)[-1]
    if fmt == "parquet":
        pq.write_table(pa.Table.from_pylist([{"id": i, "text": t} for i, t in enumerate(texts, 1)]), path)
        return
    if fmt == "csv":
        with open(path.with_suffix(".tmp"), "w", newline="") as handle:
            writer = csv.writer(handle)
            writer.writerow(["id", "text"])
            writer.writerows(enumerate(texts, 1))
        data = path.with_suffix(".tmp").read_bytes()
    elif fmt == "jsonl":
        data = "".join(json.dumps({"id": i, "text": t}) + "\n" for i, t in enumerate(texts, 1)).encode()
    else:
        data = texts[0].encode()
    path.write_bytes(gzip.compress(data) if path.name.endswith(".gz") else data)


@pytest.mark.parametrize("name", ["in.csv", "in.csv.gz", "in.jsonl", "in.jsonl.gz", "in.parquet"])
def test_a_text_over_the_limit_is_an_error_row_and_the_others_are_scored(tiny_artifacts: Path, tmp_path: Path,
                                                                         name: str) -> None:
    long = ("Police seized heroin. " * 10)[:201]
    write_rows(tmp_path / name, [SHORT, long, SHORT])
    summary = score_files([str(tmp_path / name)], tmp_path / "out.csv", artifacts=tiny_artifacts,
                          options=ScoreOptions(max_chars=200))
    rows = read_csv(tmp_path / "out.csv")
    assert [(r["id"], r["error"]) for r in rows] == [
        ("1", ""), ("2", "text too long: 201 characters (the limit is 200)"), ("3", "")]
    assert rows[1]["labels"] == rows[1]["score_narcotics"] == "" and "narcotics" in rows[0]["labels"]
    assert summary.rows == 3 and summary.errors == 1


@pytest.mark.parametrize("name", ["doc.txt", "doc.txt.gz"])
@pytest.mark.parametrize(("chars", "error"), [(200, ""), (201, "text too long: 201 characters (the limit is 200)")])
def test_a_text_file_over_the_limit_is_an_error_row(tiny_artifacts: Path, tmp_path: Path, name: str, chars: int,
                                                    error: str) -> None:
    write_rows(tmp_path / name, [("Police seized heroin. " * 10)[:chars]])
    score_files([str(tmp_path / name)], tmp_path / "out.csv", artifacts=tiny_artifacts,
                options=ScoreOptions(max_chars=200, split_paragraphs=True))
    rows = read_csv(tmp_path / "out.csv")
    assert [r["error"] for r in rows] == [error]


def test_the_default_limit_is_the_services_and_the_command_line_can_change_it(tiny_artifacts: Path,
                                                                              tmp_path: Path) -> None:
    write_rows(tmp_path / "in.jsonl", [SHORT, "x" * 50_001])
    base = [sys.executable, "-m", "coopclf.service.cli", "score", str(tmp_path / "in.jsonl"), "--jobs", "1",
            "--artifacts", str(tiny_artifacts)]
    subprocess.run([*base, "-o", str(tmp_path / "default.csv")], check=True, capture_output=True)
    assert [r["error"] for r in read_csv(tmp_path / "default.csv")] == [
        "", "text too long: 50,001 characters (the limit is 50,000)"]
    subprocess.run([*base, "-o", str(tmp_path / "short.csv"), "--max-chars", "20"], check=True, capture_output=True)
    assert [r["error"] for r in read_csv(tmp_path / "short.csv")] == [
        f"text too long: {len(SHORT)} characters (the limit is 20)",
        "text too long: 50,001 characters (the limit is 20)"]


def test_a_csv_field_longer_than_the_csv_modules_default_limit_is_one_error_row(tiny_artifacts: Path,
                                                                               tmp_path: Path) -> None:
    write_rows(tmp_path / "in.csv", [SHORT, "word " * 40_000, SHORT])  # 200,000 characters, quoted, valid
    summary = score_files([str(tmp_path / "in.csv")], tmp_path / "out.csv", artifacts=tiny_artifacts)
    assert [r["error"] for r in read_csv(tmp_path / "out.csv")] == [
        "", "text too long: 200,000 characters (the limit is 50,000)", ""]
    assert summary.errors == 1


def test_resume_refuses_an_input_changed_in_place_with_its_time_kept(tiny_artifacts: Path, tmp_path: Path) -> None:
    inp = tmp_path / "in.csv"
    write_rows(inp, [f"{SHORT} Report {i:04d}." for i in range(400)])
    options = ScoreOptions(chunk_rows=50)

    class Stop(Exception):
        pass

    def stop_after_two_chunks(rows: int, position: int, total: int) -> None:
        if rows >= 100:
            raise Stop

    with pytest.raises(Stop):
        score_files([str(inp)], tmp_path / "out.csv", artifacts=tiny_artifacts, options=options,
                    progress=stop_after_two_chunks)
    before = inp.stat()
    inp.write_bytes(inp.read_bytes().replace(b"Report 0001.", b"Report 9999."))  # same size
    os.utime(inp, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert (inp.stat().st_size, inp.stat().st_mtime_ns) == (before.st_size, before.st_mtime_ns)
    with pytest.raises(CoopclfError, match="belongs to a run with other inputs"):
        score_files([str(inp)], tmp_path / "out.csv", artifacts=tiny_artifacts, options=options, resume=True)


def peak_rss_mb(tiny_artifacts: Path, inp: Path, out: Path) -> float:
    """Peak RSS of `coopclf score` in a fresh interpreter: its VmHWM, which starts afresh at exec."""
    code = ("import sys; from coopclf.service.cli import main; code = main(sys.argv[1:]); "
            "print(code, next(l.split()[1] for l in open('/proc/self/status') if l.startswith('VmHWM:')))")
    env = os.environ | {"NUMPY_MADVISE_HUGEPAGE": "0"}
    result = subprocess.run(
        [sys.executable, "-c", code, "score", str(inp), "-o", str(out), "--artifacts", str(tiny_artifacts),
         "--jobs", "1"], capture_output=True, text=True, env=env)
    status, kib = result.stdout.split()[-2:]
    assert status == "0", result.stderr
    return int(kib) / 1024


def gzip_bomb(path: Path, expanded: int) -> None:
    """A small .gz that expands to `expanded` bytes of prose: one compressed MiB, repeated as gzip members."""
    block = ("The delegation discussed trade. " * 32 + "\n")[:1023].encode() + b"\n"
    member = gzip.compress(block * 1024, mtime=0)
    with path.open("wb") as handle:
        for _ in range(expanded >> 20):
            handle.write(member)


@pytest.mark.slow
def test_a_gzip_bomb_is_one_error_row_in_bounded_memory(tiny_artifacts: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.txt.gz"
    gzip_bomb(bomb, GiB)
    assert bomb.stat().st_size < 8 << 20
    peak = peak_rss_mb(tiny_artifacts, bomb, tmp_path / "out.csv")
    assert [r["error"] for r in read_csv(tmp_path / "out.csv")] == [
        "text too long: 1,073,741,824 characters (the limit is 50,000)"]
    assert peak < 1024, peak


@pytest.mark.slow
def test_a_50_mb_json_line_is_one_error_row_in_bounded_memory(tiny_artifacts: Path, tmp_path: Path) -> None:
    inp = tmp_path / "big.jsonl"
    with inp.open("w") as handle:
        handle.write(json.dumps({"id": "small", "text": SHORT}) + "\n")
        handle.write(json.dumps({"id": "huge", "text": "The delegation discussed trade. " * 1_600_000}) + "\n")
        endless = '{"id": "endless", "text": "' + "x" * (100 << 20) + '"}\n'  # past the line limit
        handle.write(endless)
        handle.write(json.dumps({"id": "after", "text": SHORT}) + "\n")
    peak = peak_rss_mb(tiny_artifacts, inp, tmp_path / "out.csv")
    rows = read_csv(tmp_path / "out.csv")
    assert [(r["id"], r["error"]) for r in rows] == [
        ("small", ""), ("huge", "text too long: 51,200,000 characters (the limit is 50,000)"),
        ("3", f"line too long: {len(endless):,} bytes (a JSON line may hold 67,108,864)"), ("after", "")]
    assert peak < 1024, peak


def test_a_csv_line_too_long_to_hold_stops_the_run_naming_its_line(tiny_artifacts: Path, tmp_path: Path) -> None:
    inp = tmp_path / "in.csv"
    inp.write_text(f"id,text\n1,{SHORT}\n2,{'x' * (32 << 20)}\n")
    with pytest.raises(MalformedFile, match=rf"in.csv:3: a line of more than 33,554,432 characters"):
        score_files([str(inp)], tmp_path / "out.csv", artifacts=tiny_artifacts)
    assert not (tmp_path / "out.csv").exists()
