"""A real `coopclf serve` (gunicorn, 2 workers) on a free loopback port: classify, reload under load."""

from __future__ import annotations

import http.client
import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import REPO, train_tiny
from tests.service.conftest import FEEDBACK_TOKEN, NARCOTICS, TOKEN, TOURISM, TRADE

STARTUP_DEADLINE_S = 90  # generous bounds on waits for the server; no assertion depends on timing
SWITCH_DEADLINE_S = 90


@dataclass
class Server:
    """A running `coopclf serve` child process."""

    process: subprocess.Popen[bytes]
    port: int
    log: Path
    tmp: Path

    def call(self, method: str, path: str, body: Any = None,
             headers: dict[str, str] | None = None) -> tuple[int, dict[str, str], Any]:
        """One request on a fresh connection; returns status, headers and the decoded JSON (or text)."""
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}", data=data, method=method,
                                         headers={"Content-Type": "application/json", **(headers or {})})
        try:
            with urllib.request.urlopen(request, timeout=30) as response:
                status, raw, got = response.status, response.read(), dict(response.headers)
        except urllib.error.HTTPError as error:
            status, raw, got = error.code, error.read(), dict(error.headers)
        kind = got.get("Content-Type", "")
        return status, got, json.loads(raw) if "json" in kind else raw.decode()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture
def server(tiny_artifacts: Path, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Server]:
    """`python -m coopclf.service.cli serve` over a private copy of the tiny model; stopped with SIGTERM.

    Parametrize it indirectly with a COOPCLF_THREADS value, or a dict of COOPCLF_* variables."""
    param = getattr(request, "param", {})
    extra = param if isinstance(param, dict) else {"COOPCLF_THREADS": str(param)}
    with running_server(tiny_artifacts, tmp_path, extra) as running:
        yield running


@contextmanager
def running_server(artifacts: Path, tmp_path: Path, extra: dict[str, str]) -> Iterator[Server]:
    """`coopclf serve` (2 workers) over `artifacts` with the test settings and `extra` variables."""
    port = free_port()
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("COOPCLF_", "PROMETHEUS_"))}
    env.update({"COOPCLF_ADMIN_TOKEN": TOKEN, "COOPCLF_FEEDBACK_DIR": str(tmp_path / "feedback"),
                "COOPCLF_FEEDBACK_TOKEN": FEEDBACK_TOKEN, "COOPCLF_MAX_BODY_BYTES": "65536", "TMPDIR": str(tmp),
                **extra})
    log = tmp_path / "server.log"
    with log.open("wb") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "coopclf.service.cli", "serve", "--port", str(port), "--workers", "2",
             "--artifacts", str(artifacts)], cwd=REPO, env=env, stdout=out, stderr=subprocess.STDOUT)
    running = Server(process, port, log, tmp)
    try:
        _wait_ready(running)
        yield running
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=60)


def _wait_ready(server: Server) -> None:
    deadline = time.monotonic() + STARTUP_DEADLINE_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            pytest.fail(f"server exited with {server.process.returncode}:\n{server.log.read_text()}")
        try:
            if server.call("GET", "/readyz")[0] == 200:
                return
        except OSError:
            pass
        time.sleep(0.1)
    pytest.fail(f"server not ready in {STARTUP_DEADLINE_S}s:\n{server.log.read_text()}")


def metric(text: str, sample: str) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def test_classify_a_document_through_gunicorn(server: Server) -> None:
    document = f"{TRADE}\n\n{NARCOTICS}\n\n{TOURISM}\n"
    status, headers, body = server.call("POST", "/v1/classify", {"document": document})
    assert status == 200
    assert [p["labels"] for p in body["paragraphs"]] == [["trade"], ["narcotics"], ["tourism"]]
    assert headers["X-Model-Version"] == body["model_version"]
    status, headers, problem = server.call("GET", "/nowhere")
    assert status == 404 and headers["Content-Type"] == "application/problem+json"
    lines = [json.loads(line) for line in server.log.read_text().splitlines() if line.startswith("{")]
    assert any(line.get("path") == "/v1/classify" and line.get("items") == 3 for line in lines)


@pytest.mark.parametrize("chunked", [False, True])
def test_a_body_over_the_limit_is_a_413_problem(server: Server, chunked: bool) -> None:
    body = json.dumps({"text": "x" * 70_000}).encode()
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    try:
        if chunked:
            connection.request("POST", "/v1/classify", body=iter([body[:1000], body[1000:]]),
                               headers={"Content-Type": "application/json"}, encode_chunked=True)
        else:
            connection.request("POST", "/v1/classify", body=body, headers={"Content-Type": "application/json"})
        response = connection.getresponse()
        assert response.status == 413
        assert response.getheader("Content-Type") == "application/problem+json"
        assert json.loads(response.read())["type"] == "urn:coopclf:problem:body-too-large"
    finally:
        connection.close()


@pytest.mark.parametrize("server", [1, 2], ids=["one-thread", "two-threads"], indirect=True)
def test_reload_under_load_switches_every_worker_without_failing_a_request(
        server: Server, tiny_artifacts: Path) -> None:
    _, _, info = server.call("GET", "/v1/model")
    old = info["version"]
    stop = threading.Event()
    outcomes: list[list[tuple[int, str] | str]] = [[] for _ in range(4)]

    def hammer(seen: list[tuple[int, str] | str], keep_alive: bool) -> None:
        # Half the clients open a connection per request, half keep theirs open (http.client
        # reconnects by itself after a response that says Connection: close).
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
        body = json.dumps({"text": NARCOTICS})
        while not stop.is_set():
            try:
                connection.request("POST", "/v1/classify", body=body, headers={"Content-Type": "application/json"})
                response = connection.getresponse()
                answer = json.loads(response.read())
                seen.append((response.status, answer.get("model_version", "")))
            except Exception as exc:  # any client-side failure counts as a failed request
                seen.append(f"{type(exc).__name__}: {exc}")
            if not keep_alive:
                connection.close()
        connection.close()

    threads = [threading.Thread(target=hammer, args=(seen, i % 2 == 0)) for i, seen in enumerate(outcomes)]
    for thread in threads:
        thread.start()
    try:
        new = train_tiny(tiny_artifacts, force=True)
        status, _, body = server.call("POST", "/v1/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
        assert status == 202, body
        assert body == {"status": "reloading", "version": new, "previous": old}
        _wait_until_only(server, new)
        marks = [len(seen) for seen in outcomes]  # the request in flight at each mark may be an old one
        _eventually(server, lambda: all(len(seen) >= mark + 3 for seen, mark in zip(outcomes, marks)),
                    "every thread to finish requests started after the switch")
    finally:
        stop.set()
        for thread in threads:
            thread.join(timeout=60)
    every = [outcome for seen in outcomes for outcome in seen]
    failures = [outcome for outcome in every if not (isinstance(outcome, tuple) and outcome[0] == 200)]
    assert failures == []
    versions = {outcome[1] for outcome in every if isinstance(outcome, tuple)}
    assert versions == {old, new}
    assert all(outcome == (200, new) for seen, mark in zip(outcomes, marks) for outcome in seen[mark + 1:])

    _, _, text = server.call("GET", "/metrics")
    counted = metric(text, 'coopclf_http_requests_total{endpoint="/v1/classify",method="POST",status="200"}')
    assert counted == len(every)  # summed over the old and the new workers' files
    assert metric(text, "coopclf_paragraphs_classified_total") == len(every)
    assert metric(text, f'coopclf_model_info{{data_hash="{_data_hash(tiny_artifacts, new)}",version="{new}"}}') == 1
    assert metric(text, 'coopclf_model_reloads_total{outcome="reloading"}') == 1
    # Once the master has reaped the old workers (child_exit), their model-info gauge is gone too.
    _eventually(server, lambda: f'version="{old}"' not in server.call("GET", "/metrics")[2],
                f"the gauge of {old} to disappear")


def _eventually(server: Server, condition: Callable[[], bool], what: str) -> None:
    deadline = time.monotonic() + SWITCH_DEADLINE_S
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"waited {SWITCH_DEADLINE_S}s for {what}:\n{server.log.read_text()}")
        time.sleep(0.05)


def _wait_until_only(server: Server, version: str) -> None:
    """Until 10 answers in a row come from `version` (each worker has then been replaced)."""
    streak = [0]

    def switched() -> bool:
        streak[0] = streak[0] + 1 if server.call("GET", "/v1/model")[2]["version"] == version else 0
        return streak[0] >= 10

    _eventually(server, switched, f"only {version} to answer")


def _data_hash(artifacts: Path, version: str) -> str:
    return str(json.loads((artifacts / version / "manifest.json").read_text())["data_hash"])


def test_a_refused_reload_keeps_the_workers_serving_the_old_version(server: Server, tiny_artifacts: Path) -> None:
    _, _, info = server.call("GET", "/v1/model")
    new = train_tiny(tiny_artifacts, force=True)
    (tiny_artifacts / new / "model.joblib").write_bytes(b"not a model")
    status, _, problem = server.call("POST", "/v1/admin/reload", headers={"Authorization": f"Bearer {TOKEN}"})
    assert status == 409 and problem["serving"] == info["version"]
    assert all(server.call("GET", "/v1/model")[2]["version"] == info["version"] for _ in range(10))


def test_sigterm_stops_the_server_and_removes_its_metrics_directory(server: Server) -> None:
    assert list(server.tmp.glob("coopclf-metrics-*"))
    server.process.terminate()
    assert server.process.wait(timeout=60) == 0
    assert not list(server.tmp.glob("coopclf-metrics-*"))


@pytest.mark.parametrize(("env", "artifacts", "message"), [
    ({}, "empty", "cannot serve: no model version is promoted"),
    ({"COOPCLF_ADMIN_TOKEN": "short"}, "tiny", "COOPCLF_ADMIN_TOKEN must be at least 16 characters"),
    ({"COOPCLF_MAX_ITEMS": "many"}, "tiny", "COOPCLF_MAX_ITEMS must be an integer"),
])
def test_serve_refuses_to_start_with_one_clear_line(tiny_artifacts: Path, tmp_path: Path, env: dict[str, str],
                                                    artifacts: str, message: str) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("COOPCLF_", "PROMETHEUS_"))}
    directory = tiny_artifacts if artifacts == "tiny" else tmp_path / "empty"
    result = subprocess.run(
        [sys.executable, "-m", "coopclf.service.cli", "serve", "--port", str(free_port()), "--artifacts", str(directory)],
        cwd=REPO, env={**clean, **env, "TMPDIR": str(tmp)}, capture_output=True, text=True, timeout=120)
    assert result.returncode == 1
    assert f"coopclf: error: {message}" in result.stderr
    assert "Traceback" not in result.stderr
    assert not list(tmp.iterdir())  # no metrics directory left behind
