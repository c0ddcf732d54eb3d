"""What the views share: settings, the model holder, metrics and the feedback log."""

from __future__ import annotations

from dataclasses import dataclass

from service.feedback import FeedbackLog
from service.metrics import Metrics
from service.model_holder import ModelHolder, ServedModel
from service.problems import Problem
from service.settings import Settings

EXTENSION = "coopclf"


@dataclass
class ServiceState:
    """One per app, stored in `app.extensions["coopclf"]`."""

    settings: Settings
    holder: ModelHolder
    metrics: Metrics
    feedback: FeedbackLog

    def served(self) -> ServedModel:
        """The model to answer with, or a 503 problem when none is loaded."""
        served = self.holder.current
        if served is None:
            raise Problem(503, "model-unavailable",
                          f"no model is loaded: {self.holder.error or 'not loaded yet'}")
        return served
