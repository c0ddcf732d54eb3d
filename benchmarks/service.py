"""Service benchmark: `coopclf serve` (gunicorn) vs the in-process Predictor and a naive Flask app.

    python benchmarks/service.py [--seconds 10] [--artifacts DIR] [--workers 2]

Measures, in one run, on loopback only:
  * coopclf: requests/s and p50/p99 latency of single-paragraph POST /v1/classify at concurrency
    1, 8 and 64, and paragraphs/s of 100-paragraph requests; RSS and PSS of master and workers;
  * the in-process Predictor on the same texts, in as many processes as there are workers;
  * the app a user would otherwise write: ~20 lines of Flask calling the same model's
    scikit-learn predict_proba (pooled over sentences as the manifest asks, so the labels are
    coopclf's), under the same gunicorn settings (service/gunicorn.conf.py).
The load generator is wrk (Debian package `wrk`), run with one thread; without it a Python
generator is used, which needs far more CPU and so understates the server.
Prints one line per measurement and, last, one JSON object with every figure.
"""

from __future__ import annotations

import argparse
import csv
import json
import math
import multiprocessing
import os
import random
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent

from coopclf.artifact import ArtifactStore, default_artifacts_dir  # noqa: E402
from coopclf.predictor import Predictor  # noqa: E402

BATCH = 100
NAIVE_APP = r'''
import json, os
import joblib
from flask import Flask, jsonify, request
from coopclf.pooling import pool

root = os.environ["NAIVE_ARTIFACTS"]
version = open(os.path.join(root, "CURRENT")).read().strip()
pipeline = joblib.load(os.path.join(root, version, "model.joblib"))
manifest = json.load(open(os.path.join(root, version, "manifest.json")))
labels, thresholds = manifest["labels"], manifest["thresholds"]
pooling = manifest.get("pooling", "paragraph")
app = Flask(__name__)


@app.post("/v1/classify")
def classify():
    text = request.get_json()["text"]
    proba = pool(pooling, [text], pipeline.predict_proba([text]), pipeline.predict_proba)[0]
    return jsonify({"labels": [l for l, p in zip(labels, proba) if p >= thresholds[l]],
                    "scores": {l: round(float(p), 4) for l, p in zip(labels, proba)},
                    "model_version": version})
'''
WRK_SCRIPT = r'''
local bodies = {}
for line in io.lines("%(bodies)s") do bodies[#bodies + 1] = line end
local i = 0
local headers = {["Content-Type"] = "application/json"}
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "%(path)s", headers, bodies[i])
end
done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format("WRK_RESULT %%d %%d %%d %%d %%d %%d %%d %%d %%d\n", summary.requests,
    summary.duration, e.connect + e.read + e.write + e.timeout, e.status,
    latency:percentile(50), latency:percentile(99), latency.max, latency.mean, 0))
end
'''


def paragraphs() -> list[str]:
    """Real paragraphs: the training corpus if present, else the test fixture corpus."""
    files = sorted((REPO / "training" / "data").glob("*.csv")) or [REPO / "tests" / "fixtures" / "tiny.csv"]
    texts: list[str] = []
    for file in files:
        with file.open(encoding="utf-8") as handle:
            texts += [row["text"] for row in csv.DictReader(handle) if len(row.get("text", "").split()) >= 8]
    random.Random(0).shuffle(texts)
    return texts


def background_cpu_percent(seconds: float = 2.0) -> float:
    """How busy the machine is before the run (other processes skew every figure)."""
    def sample() -> tuple[int, int]:
        with open("/proc/stat") as handle:
            values = [int(v) for v in handle.readline().split()[1:]]
        return sum(values), values[3] + values[4]  # total, idle + iowait
    total0, idle0 = sample()
    time.sleep(seconds)
    total1, idle1 = sample()
    return round(100 * (1 - (idle1 - idle0) / max(1, total1 - total0)), 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


# ---------------------------------------------------------------- in-process


def _inprocess_worker(args: tuple[str, list[list[str]], float, Any]) -> None:
    artifacts, batches, seconds, queue = args
    predictor = Predictor.load(artifacts)
    for batch in batches[:20]:
        predictor.predict(batch)  # warm up
    done, start, i = 0, time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        batch = batches[i % len(batches)]
        predictor.predict(batch)
        done += len(batch)
        i += 1
    queue.put(done / (time.perf_counter() - start))


def inprocess_rate(artifacts: str, batches: list[list[str]], seconds: float, processes: int) -> float:
    """Texts per second of Predictor.predict over `batches`, summed over `processes` processes."""
    context = multiprocessing.get_context("fork")
    queue = context.Queue()
    workers = [context.Process(target=_inprocess_worker, args=((artifacts, batches, seconds, queue),))
               for _ in range(processes)]
    for worker in workers:
        worker.start()
    rates = [queue.get() for _ in workers]
    for worker in workers:
        worker.join()
    return sum(rates)


# ---------------------------------------------------------------- servers


class Server:
    """A gunicorn server in a child process (its own process group), stopped with SIGTERM."""

    def __init__(self, command: list[str], env: dict[str, str], port: int, log: Path, cwd: Path) -> None:
        self.port = port
        self.log = log
        with log.open("wb") as out:
            self.process = subprocess.Popen(command, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT,
                                            start_new_session=True)

    def wait_ready(self, path: str, body: str | None = None, deadline_s: float = 120) -> None:
        """Poll `path` (a POST of `body` when given) until it answers 200."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.process.poll() is not None:
                raise SystemExit(f"server exited:\n{self.log.read_text()[-3000:]}")
            request = urllib.request.Request(
                f"http://127.0.0.1:{self.port}{path}", data=body.encode() if body is not None else None,
                headers={"Content-Type": "application/json"})
            try:
                with urllib.request.urlopen(request, timeout=5) as response:
                    if response.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"server not ready after {deadline_s}s:\n{self.log.read_text()[-3000:]}")

    def memory(self) -> dict[str, Any]:
        """RSS and PSS (shared pages split among sharers) of the master and each worker, in MB."""
        master = self.process.pid
        children = _children(master)
        return {"rss_master_mb": _mb(master, "VmRSS"), "rss_workers_mb": [_mb(c, "VmRSS") for c in children],
                "pss_total_mb": round(sum(_pss(p) for p in [master, *children]), 1)}

    def cpu_seconds(self) -> float:
        """User + system CPU time used so far by the master and its live workers."""
        total = 0
        for pid in [self.process.pid, *_children(self.process.pid)]:
            try:
                with open(f"/proc/{pid}/stat") as handle:
                    fields = handle.read().rsplit(")", 1)[1].split()
                total += int(fields[11]) + int(fields[12])
            except (OSError, IndexError, ValueError):
                continue
        return total / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()


def combine(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """Several runs of one phase as one: total rate, the worst p99, summed errors and CPU."""
    requests = sum(r["requests"] for r in runs)
    seconds = sum(r["requests"] / r["rps"] for r in runs if r["rps"])
    return {"rps": requests / seconds if seconds else 0.0, "requests": requests,
            "p50_ms": sum(r["p50_ms"] for r in runs) / len(runs), "p99_ms": max(r["p99_ms"] for r in runs),
            "max_ms": max(r["max_ms"] for r in runs), "errors": sum(r["errors"] for r in runs),
            "cpu_us": sum(r["cpu_us"] for r in runs)}


def _children(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as handle:
            return [int(c) for c in handle.read().split()]
    except OSError:
        return []


def _mb(pid: int, field: str) -> float:
    try:
        with open(f"/proc/{pid}/status") as handle:
            for line in handle:
                if line.startswith(field + ":"):
                    return round(int(line.split()[1]) / 1024, 1)
    except OSError:
        pass
    return 0.0


def _pss(pid: int) -> float:
    try:
        with open(f"/proc/{pid}/smaps_rollup") as handle:
            for line in handle:
                if line.startswith("Pss:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COOPCLF_", "PROMETHEUS_"))}
    env.update(extra)
    return env


# ---------------------------------------------------------------- load generation


def load(port: int, path: str, bodies: list[str], connections: int, seconds: float, workdir: Path) -> dict[str, Any]:
    """Requests/s, latency percentiles (ms) and errors of POSTing `bodies` round-robin."""
    if shutil.which("wrk"):
        return _load_wrk(port, path, bodies, connections, seconds, workdir)
    return _load_python(port, path, bodies, connections, seconds)


def _load_wrk(port: int, path: str, bodies: list[str], connections: int, seconds: float,
              workdir: Path) -> dict[str, Any]:
    bodies_file = workdir / f"bodies-{len(bodies)}-{len(bodies[0])}.txt"
    bodies_file.write_text("\n".join(bodies) + "\n", encoding="utf-8")
    script = workdir / "post.lua"
    script.write_text(WRK_SCRIPT % {"bodies": bodies_file, "path": path})
    out = subprocess.run(["wrk", "-t1", f"-c{connections}", f"-d{max(1, math.ceil(seconds))}s", "--timeout", "10s",
                          "-s", str(script), f"http://127.0.0.1:{port}"], capture_output=True, text=True,
                         check=True).stdout
    line = next(line for line in out.splitlines() if line.startswith("WRK_RESULT"))
    requests, duration_us, socket_errors, status_errors, p50, p99, worst, mean, _ = map(float, line.split()[1:])
    return {"rps": requests / (duration_us / 1e6), "p50_ms": p50 / 1000, "p99_ms": p99 / 1000,
            "max_ms": worst / 1000, "errors": int(socket_errors + status_errors), "requests": int(requests)}


def _load_python(port: int, path: str, bodies: list[str], connections: int, seconds: float) -> dict[str, Any]:
    import http.client

    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    end = time.monotonic() + seconds

    def client(offset: int) -> None:
        mine, i = [], offset
        while time.monotonic() < end:
            body = bodies[i % len(bodies)].encode()
            i += 1
            start = time.perf_counter()
            try:
                connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                connection.request("POST", path, body=body, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                response.read()
                connection.close()
                ok = response.status == 200
            except OSError:
                ok = False
            mine.append(time.perf_counter() - start)
            if not ok:
                with lock:
                    errors[0] += 1
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=client, args=(i,)) for i in range(connections)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.perf_counter() - started
    latencies.sort()

    def percentile(q: float) -> float:
        return latencies[min(len(latencies) - 1, int(q * len(latencies)))] * 1000 if latencies else 0.0

    return {"rps": len(latencies) / elapsed, "p50_ms": percentile(0.5), "p99_ms": percentile(0.99),
            "max_ms": percentile(1.0), "errors": errors[0], "requests": len(latencies)}


# ---------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10, help="length of each load phase (default 10)")
    parser.add_argument("--artifacts", default=None, help="model versions directory (default: the shipped one)")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (default 2)")
    args = parser.parse_args()
    artifacts = Path(args.artifacts) if args.artifacts else default_artifacts_dir()
    version = ArtifactStore(artifacts).current()
    if version is None:
        raise SystemExit(f"{artifacts} has no CURRENT model version; train one or pass --artifacts")
    texts = paragraphs()
    singles = texts[:200]
    batches = [texts[i:i + BATCH] for i in range(0, BATCH * 8, BATCH)]
    batches = [b for b in batches if len(b) == BATCH] or [(texts * BATCH)[:BATCH]]
    single_bodies = [json.dumps({"text": t}) for t in singles]
    batch_bodies = [json.dumps({"texts": b}) for b in batches]
    generator = "wrk" if shutil.which("wrk") else "python (install wrk for accurate figures)"
    busy = background_cpu_percent()
    print(f"model {version} from {artifacts}; {os.cpu_count()} cores ({busy}% busy before the run); "
          f"{args.workers} workers; {args.seconds:g}s per phase; load generator {generator}", flush=True)
    if busy > 10:
        print("warning: other processes are using the CPU; the figures will be low and noisy", flush=True)
    result: dict[str, Any] = {"model_version": version, "cores": os.cpu_count(), "workers": args.workers,
                              "seconds": args.seconds, "load_generator": generator.split()[0],
                              "background_cpu_percent": busy}

    single_inprocess = inprocess_rate(str(artifacts), [[t] for t in singles], args.seconds, args.workers)
    batch_inprocess = inprocess_rate(str(artifacts), batches, args.seconds, args.workers)
    print(f"in-process Predictor x{args.workers} processes: {single_inprocess:8.0f} single calls/s, "
          f"{batch_inprocess:8.0f} paragraphs/s in batches of {BATCH}", flush=True)

    with tempfile.TemporaryDirectory(prefix="coopclf-bench-") as tmp:
        workdir = Path(tmp)
        port, naive_port = free_port(), free_port()
        env = clean_env(COOPCLF_FEEDBACK_DIR=str(workdir / "feedback"), TMPDIR=str(workdir))
        naive_dir = workdir / "naive"
        naive_dir.mkdir()
        (naive_dir / "naive.py").write_text(NAIVE_APP)
        naive_env = clean_env(COOPCLF_PORT=str(naive_port), COOPCLF_WORKERS=str(args.workers),
                              NAIVE_ARTIFACTS=str(artifacts), TMPDIR=str(workdir))
        # Both servers run throughout (the idle one sleeps), so their phases can alternate and a
        # change in background load does not favour either.
        server = Server([sys.executable, "-m", "coopclf.service.cli", "serve", "--port", str(port), "--workers",
                         str(args.workers), "--artifacts", str(artifacts)], env, port, workdir / "coopclf.log", REPO)
        naive = Server([sys.executable, "-m", "gunicorn", "-c", str(REPO / "service" / "http" / "gunicorn.conf.py"),
                        "--chdir", str(naive_dir), "naive:app"],
                       naive_env, naive_port, workdir / "naive.log", naive_dir)
        try:
            server.wait_ready("/readyz")
            naive.wait_ready("/v1/classify", single_bodies[0])  # the naive app has no readiness endpoint
            for target in (port, naive_port):
                load(target, "/v1/classify", single_bodies, 8, 1, workdir)  # warm up

            def run(target: Server, bodies: list[str], connections: int, seconds: float) -> dict[str, Any]:
                cpu = target.cpu_seconds()
                figures = load(target.port, "/v1/classify", bodies, connections, seconds, workdir)
                figures["cpu_us"] = (target.cpu_seconds() - cpu) * 1e6
                return figures

            phases = {1: run(server, single_bodies, 1, args.seconds)}
            halves = [(run(server, single_bodies, 8, args.seconds / 2), run(naive, single_bodies, 8, args.seconds / 2))
                      for _ in range(2)]
            phases[8] = combine([h[0] for h in halves])
            naive_single = combine([h[1] for h in halves])
            phases[64] = run(server, single_bodies, 64, args.seconds)
            for connections, figures in sorted(phases.items()):
                print(f"coopclf single, concurrency {connections:2d}: {figures['rps']:7.0f} req/s  "
                      f"p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms  "
                      f"server CPU {figures['cpu_us'] / max(1, figures['requests']):5.0f} us/request  "
                      f"errors {figures['errors']}", flush=True)
            print(f"naive Flask + predict_proba, concurrency  8: {naive_single['rps']:7.0f} req/s  "
                  f"p50 {naive_single['p50_ms']:6.2f} ms  p99 {naive_single['p99_ms']:6.2f} ms  "
                  f"server CPU {naive_single['cpu_us'] / max(1, naive_single['requests']):5.0f} us/request  "
                  f"errors {naive_single['errors']}", flush=True)
            batch = run(server, batch_bodies, 4, args.seconds)
            print(f"coopclf {BATCH}-paragraph requests, concurrency 4: {batch['rps'] * BATCH:7.0f} paragraphs/s  "
                  f"p50 {batch['p50_ms']:6.1f} ms  p99 {batch['p99_ms']:6.1f} ms  errors {batch['errors']}",
                  flush=True)
            errors = sum(f["errors"] for f in (*phases.values(), batch))
            memory = server.memory()
            print(f"memory: master RSS {memory['rss_master_mb']} MB, workers RSS {memory['rss_workers_mb']} MB, "
                  f"PSS of all {memory['pss_total_mb']} MB", flush=True)
        finally:
            server.stop()
            naive.stop()

    single = phases[8]
    result.update({
        "single_rps": round(single["rps"], 1),
        "single_p50_ms": round(single["p50_ms"], 2),
        "single_p99_ms": round(single["p99_ms"], 2),
        "single_c1_rps": round(phases[1]["rps"], 1),
        "single_c1_p99_ms": round(phases[1]["p99_ms"], 2),
        "single_c64_rps": round(phases[64]["rps"], 1),
        "single_c64_p99_ms": round(phases[64]["p99_ms"], 2),
        "batch_paragraphs_per_s": round(batch["rps"] * BATCH, 1),
        "inprocess_single_per_s": round(single_inprocess, 1),
        "inprocess_batch_per_s": round(batch_inprocess, 1),
        "single_ratio": round(single["rps"] / single_inprocess, 3),
        "batch_ratio": round(batch["rps"] * BATCH / batch_inprocess, 3),
        "naive_single_rps": round(naive_single["rps"], 1),
        "naive_single_p99_ms": round(naive_single["p99_ms"], 2),
        "naive_ratio": round(single["rps"] / naive_single["rps"], 3),
        "errors": errors,
        "naive_errors": naive_single["errors"],
        "server_cpu_us_per_request": round(phases[8]["cpu_us"] / max(1, phases[8]["requests"])),
        "naive_server_cpu_us_per_request": round(naive_single["cpu_us"] / max(1, naive_single["requests"])),
        **memory,
    })
    print(f"ratios: single {result['single_ratio']} of in-process (goal >= 0.5), batch {result['batch_ratio']} "
          f"(goal >= 0.8), {result['naive_ratio']}x the naive app (goal >= 1.5); single p99 "
          f"{result['single_p99_ms']} ms (goal < 20); errors {errors}", flush=True)
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
