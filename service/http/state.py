"""What the views share: settings, the model holder, metrics and the feedback log."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from flask import current_app

from coopclf.service.http.feedback import FeedbackLog
from coopclf.service.http.model_holder import ModelHolder, ServedModel
from coopclf.service.http.problems import HttpProblem
from coopclf.service.http.prometheus import Metrics
from coopclf.service.http.settings import Settings

EXTENSION = "coopclf"
COMPUTE_SLOTS = 1


@dataclass
class ServiceState:
    """One per app, stored in `app.extensions["coopclf"]`."""

    settings: Settings
    holder: ModelHolder
    metrics: Metrics
    feedback: FeedbackLog
    # One large request computes at a time in a process: the GIL would run only one anyway, and
    # waiting ones hold no working memory and leave the GIL free to answer /healthz promptly.
    computing: threading.Semaphore = field(default_factory=lambda: threading.Semaphore(COMPUTE_SLOTS))

    def served(self) -> ServedModel:
        """The model to answer with, or a 503 problem when none is loaded."""
        served = self.holder.current
        if served is None:
            raise HttpProblem(503, "model-unavailable",
                              f"no model is loaded: {self.holder.error or 'not loaded yet'}")
        return served


def state() -> ServiceState:
    """The ServiceState of the app handling the current request."""
    return current_app.extensions[EXTENSION]
