"""The model version a process serves, swapped atomically when it is reloaded."""

from __future__ import annotations

import logging
import os
import signal
import threading
from dataclasses import dataclass

from coopclf.artifact import ArtifactStore
from coopclf.errors import ArtifactError
from coopclf.predictor import Predictor

log = logging.getLogger("coopclf.service")
PROBE_TEXT = "The ministers agreed to share intelligence on trafficking routes."  # readiness check


@dataclass(frozen=True)
class ServedModel:
    """A Predictor with the per-version values every response repeats, computed once."""

    predictor: Predictor
    version: str
    data_hash: str
    labels: tuple[str, ...]
    thresholds: dict[str, float]

    @classmethod
    def of(cls, predictor: Predictor) -> ServedModel:
        """Wrap a loaded Predictor."""
        thresholds = {label: round(float(t), 4) for label, t in zip(predictor.labels, predictor.thresholds)}
        return cls(predictor, predictor.version, predictor.data_hash, tuple(predictor.labels), thresholds)


@dataclass(frozen=True)
class ReloadOutcome:
    """What a reload did: 'reloaded', 'reloading' (the gunicorn master will) or 'unchanged'."""

    status: str
    version: str
    previous: str | None


class ModelHolder:
    """Holds the served model; readers take `current` once per request, reloads swap it whole."""

    def __init__(self, store: ArtifactStore) -> None:
        self.store = store
        self.current: ServedModel | None = None
        self.error: str | None = None
        self.master_pid: int | None = None  # set in gunicorn workers: reloads are the master's job
        self._lock = threading.Lock()

    def load(self) -> ServedModel | None:
        """Load the version CURRENT names; on failure keep serving nothing and remember why."""
        try:
            self._swap(self._candidate())
        except ArtifactError as exc:
            self.error = str(exc)
            log.error({"event": "model_unavailable", "error": self.error})
        return self.current

    def _candidate(self) -> ServedModel:
        served = ServedModel.of(Predictor(self.store.load()))
        if self.master_pid is None:  # the version to serve: build now so forked workers share it
            served.predictor.prepare_explanations()
        served.predictor.predict([PROBE_TEXT])
        return served

    def _swap(self, served: ServedModel) -> None:
        self.current = served
        self.error = None
        log.info({"event": "model_loaded", "version": served.version, "data_hash": served.data_hash,
                  "pid": os.getpid()})

    def reload(self) -> ReloadOutcome:
        """Verify and load the version CURRENT names, then serve it; raise ArtifactError and keep
        the old one if it fails. Under gunicorn, ask the master to reload and replace the workers."""
        with self._lock:
            previous = self.current.version if self.current else None
            wanted = self.store.current()
            if wanted is not None and wanted == previous:
                return ReloadOutcome("unchanged", wanted, previous)
            candidate = self._candidate()
            if self.master_pid is not None:
                os.kill(self.master_pid, signal.SIGHUP)
                return ReloadOutcome("reloading", candidate.version, previous)
            self._swap(candidate)
            return ReloadOutcome("reloaded", candidate.version, previous)
