"""Prometheus metrics, aggregated across gunicorn workers when PROMETHEUS_MULTIPROC_DIR is set."""

from __future__ import annotations

import os
from collections import Counter as Tally
from collections.abc import Iterable

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

from coopclf.predictor import Prediction

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"
BUCKETS = (0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class Metrics:
    """The service's metrics; one instance per app."""

    def __init__(self) -> None:
        self.multiprocess = MULTIPROC_ENV in os.environ
        # In multiprocess mode values live in per-process files and are collected at scrape time.
        self.registry = CollectorRegistry()
        registry = None if self.multiprocess else self.registry
        self.requests = Counter("coopclf_http_requests", "HTTP requests by endpoint, method and status",
                                ["endpoint", "method", "status"], registry=registry)
        self.latency = Histogram("coopclf_http_request_duration_seconds", "Time to answer a request",
                                 ["endpoint"], buckets=BUCKETS, registry=registry)
        self.paragraphs = Counter("coopclf_paragraphs_classified", "Texts and paragraphs classified",
                                  registry=registry)
        self.labels = Counter("coopclf_labels_assigned", "Labels assigned, by label", ["label"],
                              registry=registry)
        self.abstentions = Counter("coopclf_abstentions", "Texts the model did not judge, by reason",
                                   ["reason"], registry=registry)
        self.feedback = Counter("coopclf_feedback_items", "Feedback items recorded", registry=registry)
        self.reloads = Counter("coopclf_model_reloads", "Reload attempts by outcome", ["outcome"],
                               registry=registry)
        self.model_info = Gauge("coopclf_model_info", "The served model version (value 1)",
                                ["version", "data_hash"], multiprocess_mode="livemax", registry=registry)
        self._reported: tuple[int, str] | None = None

    def observe_request(self, endpoint: str, method: str, status: int, seconds: float) -> None:
        """Count one answered request."""
        self.requests.labels(endpoint, method, str(status)).inc()
        self.latency.labels(endpoint).observe(seconds)

    def observe_predictions(self, predictions: Iterable[Prediction]) -> None:
        """Count classified texts, assigned labels and abstentions."""
        labels: Tally[str] = Tally()
        reasons: Tally[str] = Tally()
        n = 0
        for prediction in predictions:
            n += 1
            labels.update(prediction.labels)
            if prediction.abstained:
                reasons[prediction.abstained] += 1
        self.paragraphs.inc(n)
        for label, count in labels.items():
            self.labels.labels(label).inc(count)
        for reason, count in reasons.items():
            self.abstentions.labels(reason).inc(count)

    def report_model(self, version: str, data_hash: str) -> None:
        """Set the model-info gauge for this process (cheap to call on every request)."""
        key = (os.getpid(), version)
        if self._reported == key:
            return
        if not self.multiprocess:  # a gunicorn worker serves one version in its life
            self.model_info.clear()
        self.model_info.labels(version, data_hash).set(1)
        self._reported = key

    def render(self) -> tuple[bytes, str]:
        """The exposition text and its content type."""
        if self.multiprocess:
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry), CONTENT_TYPE_LATEST
        return generate_latest(self.registry), CONTENT_TYPE_LATEST
