"""gunicorn settings and hooks for the coopclf service; every value comes from service.settings.

Used by `coopclf serve`, and directly: `gunicorn -c service/http/gunicorn.conf.py`. gunicorn executes this
file at start and again on SIGHUP (which is how a model reload replaces the workers).
"""

from __future__ import annotations

import ctypes
import gc
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any

from coopclf.service.http.settings import Settings

_settings = Settings.from_env()

wsgi_app = "coopclf.service.http.app:create_app()"
bind = [_settings.bind]
workers = _settings.workers
threads = _settings.threads
# gthread, with read deadlines and problem+json errors (service/http/worker.py): the main loop reads
# request heads as they arrive, so a client that sends its request slowly, or not at all, holds no
# thread, let alone a whole worker as with sync workers (four such clients used to stop /healthz for
# 27 s). A request's head and body must arrive within COOPCLF_READ_TIMEOUT of connecting.
worker_class = "coopclf.service.http.worker.CoopclfWorker"
# No keep-alive: every request comes on a new connection from the shared accept queue, so the load
# is spread over the workers. A kept-alive connection stays with one worker, and a few busy clients
# could leave a worker idle (measured: half the throughput when 8 connections landed on one worker).
keepalive = 0
# A worker is only replaced when it stops answering the master, or on reload after a grace period:
# both exceed COOPCLF_REQUEST_SECONDS by a margin (settings.py checks it), so no request is cut off.
timeout = _settings.timeout
graceful_timeout = _settings.timeout
preload_app = True  # load the model once in the master; workers share its memory
accesslog = None  # the app writes one JSON line per request
errorlog = "-"
loglevel = _settings.log_level
proc_name = "coopclf"
control_socket_disable = True  # gunicorn 27's gunicornc socket: one fixed path would clash between servers
limit_request_line = 8190
limit_request_fields = 100
limit_request_field_size = 8190
SWITCH_INTERVAL_S = 0.001
MALLOC_ARENAS = 2
_M_ARENA_MAX = -8  # glibc's mallopt parameter (malloc.h)


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
    # A thread waiting for the GIL (to answer /healthz, say) gets it after at most 1 ms of a
    # computing thread, not 5 ms, each of the dozen times a request takes and drops it.
    sys.setswitchinterval(SWITCH_INTERVAL_S)
    # glibc gives threads malloc arenas of their own, each keeping its peak: ~70 MB more per worker.
    try:
        ctypes.CDLL("libc.so.6").mallopt(_M_ARENA_MAX, MALLOC_ARENAS)
    except (OSError, AttributeError):  # not glibc
        pass
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
