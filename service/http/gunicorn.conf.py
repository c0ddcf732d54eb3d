"""gunicorn settings and hooks for the coopclf service; every value comes from service.settings.

Used by `coopclf serve`, and directly: `gunicorn -c service/http/gunicorn.conf.py`. gunicorn executes this
file at start and again on SIGHUP (which is how a model reload replaces the workers).
"""

from __future__ import annotations

import gc
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from coopclf.service.http.settings import Settings

_settings = Settings.from_env()

wsgi_app = "coopclf.service.http.app:create_app()"
bind = [_settings.bind]
workers = _settings.workers
threads = _settings.threads
# sync: each request on its own connection, taken from the shared accept queue, so the load is
# spread evenly over the workers. gthread (COOPCLF_THREADS > 1) keeps connections alive, which
# saves ~0.1 ms a request but pins each client connection to one worker: a few busy clients can
# leave a worker idle (measured: half the throughput when all 8 connections landed on one worker).
worker_class = "gthread" if _settings.threads > 1 else "sync"
timeout = _settings.timeout
graceful_timeout = 30
keepalive = 5
preload_app = True  # load the model once in the master; workers share its memory
accesslog = None  # the app writes one JSON line per request
errorlog = "-"
loglevel = _settings.log_level
proc_name = "coopclf"
control_socket_disable = True  # gunicorn 27's gunicornc socket: one fixed path would clash between servers
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190


def _prepare_metrics_dir() -> None:
    """A clean PROMETHEUS_MULTIPROC_DIR, set before prometheus_client is imported (once per master)."""
    if os.environ.get("COOPCLF_METRICS_MASTER") == str(os.getpid()):
        return  # re-read on SIGHUP: keep the live directory
    configured = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    if configured:
        path = Path(configured)
        path.mkdir(parents=True, exist_ok=True)
        for stale in path.glob("*.db"):
            stale.unlink()
    else:
        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="coopclf-metrics-")
        os.environ["COOPCLF_METRICS_OWNED"] = os.environ["PROMETHEUS_MULTIPROC_DIR"]
    os.environ["COOPCLF_METRICS_MASTER"] = str(os.getpid())


_prepare_metrics_dir()


def _state(server: Any) -> Any:
    """The coopclf ServiceState of the preloaded app, or None for another app."""
    app = server.app.wsgi()
    return getattr(app, "extensions", {}).get("coopclf")


def when_ready(server: Any) -> None:
    """Log what is being served once the sockets are bound."""
    state = _state(server)
    current = state.holder.current if state else None
    server.log.info("coopclf serving model %s on %s with %d workers",
                    current.version if current else "(none)", ",".join(server.cfg.bind), server.cfg.workers)


def pre_fork(server: Any, worker: Any) -> None:
    """Move everything loaded so far out of the GC's reach, so workers neither scan nor copy it."""
    gc.freeze()


def post_fork(server: Any, worker: Any) -> None:
    """Workers ask the master to reload (SIGHUP) instead of loading a model each."""
    state = _state(server)
    if state is not None:
        state.holder.master_pid = server.pid


def on_reload(server: Any) -> None:
    """SIGHUP: load the version CURRENT names here in the master, before new workers are forked."""
    from coopclf.errors import ArtifactError

    state = _state(server)
    if state is None:
        return
    gc.unfreeze()  # let the collector reclaim the replaced version; pre_fork freezes the new one
    try:
        outcome = state.holder.reload()  # master_pid is unset in the master: it loads and swaps
    except ArtifactError as exc:
        state.metrics.reloads.labels("failed_in_master").inc()
        current = state.holder.current
        server.log.error("model reload failed; new workers keep serving %s: %s",
                         current.version if current else "(none)", exc)
        return
    gc.collect()
    server.log.info("model reload: %s (%s -> %s)", outcome.status, outcome.previous, outcome.version)


def child_exit(server: Any, worker: Any) -> None:
    """Drop a dead worker's live gauges from the multiprocess metrics."""
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    """Remove the metrics directory if this master created it."""
    owned = os.environ.get("COOPCLF_METRICS_OWNED")
    if owned and owned == os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        shutil.rmtree(owned, ignore_errors=True)
