"""Aggregation benchmark: `coopclf aggregate` over a synthetic scored file of `--rows` paragraphs.

The file has the columns `coopclf score --split-paragraphs` writes (id, paragraph, text, labels,
six scores, abstained, countries, pair, date, story, model_version, error), with realistic shares:
documents of 1-12 paragraphs over two years, a few pairs much more covered than the rest, most
paragraphs without a label, some without a pair or date, and a third of documents repeating an
earlier story.

    python benchmarks/aggregate.py [--rows 1000000] [--by month] [--engine local] [--workdir DIR]

Prints seconds, rows/s and the child's peak RSS (its VmHWM), then one JSON line with every figure.
`make_scored` also makes the small file behind docs/aggregate.png (see --chart).
"""

from __future__ import annotations

import argparse
import csv
import datetime
import json
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

LABELS = ["counterterrorism", "human_trafficking", "narcotics", "trade", "information_technology", "tourism"]
PAIRS = ["BHR-PAK", "QAT-TUR", "IND-USA", "CHN-RUS", "AFG-PAK", "MEX-USA", "EGY-SAU", "DEU-FRA", "BGD-IND",
         "COL-ECU", "IRN-IRQ", "KEN-SOM", "JPN-KOR", "ARE-IND", "MYS-THA", "NGA-NER", "GBR-IRL", "BRA-ARG"]
# Which areas each pair's stories lean to (others still occur).
LEANS = {"BHR-PAK": ["narcotics", "counterterrorism", "tourism"], "QAT-TUR": ["trade", "information_technology"],
         "IND-USA": ["information_technology", "trade"], "CHN-RUS": ["trade"], "AFG-PAK": ["counterterrorism"],
         "MEX-USA": ["narcotics", "human_trafficking"], "EGY-SAU": ["tourism", "trade"]}
WORDS = ("the ministers agreed to expand cooperation on border security trade routes port customs "
         "visa tourism investment police intelligence training software exports smuggling networks "
         "officials said talks would continue next month in the capital delegation signed").split()
START = datetime.date(2025, 1, 1)


def make_scored(path: Path, rows: int, seed: int = 0, days: int = 730) -> None:
    """Write `rows` scored paragraphs as `coopclf score --split-paragraphs` would, to a CSV file."""
    rng = random.Random(seed)
    sentences = [" ".join(rng.choice(WORDS) for _ in range(rng.randint(12, 40))).capitalize() + "."
                 for _ in range(500)]
    weights = [1 / (i + 1) ** 1.1 for i in range(len(PAIRS))]
    stories: list[tuple[str, str, datetime.date]] = []  # earlier stories: (id, pair, date)
    written, document = 0, 0
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["id", "paragraph", "text", "labels", *(f"score_{label}" for label in LABELS), "abstained",
                         "countries", "pair", "date", "story", "model_version", "error"])
        while written < rows:
            document += 1
            doc_id = f"article-{document:07d}.txt"
            if stories and rng.random() < 0.33:  # a repeat of a recent story, a day or two later
                story, pair, day = stories[-rng.randint(1, min(len(stories), 50))]
                day += datetime.timedelta(days=rng.randint(0, 2))
            else:
                pair = rng.choices(PAIRS, weights)[0]
                # Coverage grows over the two years, with a spike in the middle.
                offset = int(days * rng.random() ** 0.7)
                if rng.random() < 0.1:
                    offset = days // 2 + rng.randint(-10, 10)
                story, day = doc_id, START + datetime.timedelta(days=offset)
                stories.append((story, pair, day))
            dated = rng.random() > 0.05
            lean = LEANS.get(pair, LABELS)
            for paragraph in range(rng.randint(1, 12)):
                labels = []
                if rng.random() < 0.3:
                    labels.append(rng.choice(lean) if rng.random() < 0.8 else rng.choice(LABELS))
                    if rng.random() < 0.1:
                        labels.append(rng.choice(LABELS))
                scores = [round(rng.random() * (0.9 if label in labels else 0.3), 4) for label in LABELS]
                own = rng.random() < 0.4
                countries = ";".join(pair.split("-")) if own else ""
                has_pair = rng.random() > 0.35
                writer.writerow([doc_id, paragraph, " ".join(rng.choice(sentences) for _ in range(rng.randint(1, 4))),
                                 ";".join(dict.fromkeys(labels)), *scores, "", countries,
                                 pair if has_pair else "", day.isoformat() if dated else "", story,
                                 "20261201-000000-bench", ""])
                written += 1
                if written >= rows:
                    break


def run_measured(argv: list[str]) -> tuple[float, float, str]:
    """Run a command; return seconds, its peak RSS in MB (VmHWM, polled) and its stderr."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak_kb = 0
    while process.poll() is None:
        try:
            with open(f"/proc/{process.pid}/status") as handle:
                for line in handle:
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
        except OSError:
            pass
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    err = process.stderr.read()
    if process.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed: {err[-2000:]}")
    return seconds, peak_kb / 1024, err


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--by", default="month", choices=["week", "month", "quarter", "year"])
    parser.add_argument("--engine", default="local", choices=["local", "dask"])
    parser.add_argument("--workdir", help="where to write the scored file and the table (default: a temp dir)")
    parser.add_argument("--chart", metavar="PNG", help="also draw the chart (not timed separately)")
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="coopclf-aggregate-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    scored = work / f"scored-{args.rows}.csv"
    if not scored.exists():
        started = time.perf_counter()
        make_scored(scored, args.rows)
        print(f"generated {args.rows:,} scored rows ({scored.stat().st_size / 1e6:,.0f} MB) "
              f"in {time.perf_counter() - started:.1f}s")
    argv = [sys.executable, "-m", "coopclf.service.cli", "aggregate", str(scored), "-o", str(work / "table.csv"),
            "--by", args.by, "--engine", args.engine]
    if args.chart:
        argv += ["--plot", args.chart]
    seconds, peak_mb, err = run_measured(argv)
    print(err.strip())
    print(f"aggregate ({args.engine}, by {args.by}): {seconds:.1f}s, {args.rows / seconds:,.0f} rows/s, "
          f"peak RSS {peak_mb:,.0f} MB")
    print(json.dumps({"rows": args.rows, "engine": args.engine, "by": args.by, "seconds": round(seconds, 2),
                      "rows_per_s": round(args.rows / seconds), "peak_rss_mb": round(peak_mb, 1),
                      "input_mb": round(scored.stat().st_size / 1e6, 1)}))


if __name__ == "__main__":
    main()
