"""coopclf's model library: labels, pipeline, artifacts and the Predictor every other part calls."""

from classifier.artifact import ArtifactStore, LoadedModel, default_artifacts_dir
from classifier.errors import ArtifactError, CoopclfError, DataError, InvalidInput
from classifier.labels import DEFAULT_LABELS, display_name, normalise_label
from classifier.predictor import Evidence, Prediction, Predictor
from classifier.splitter import Paragraph, split_paragraphs

__all__ = [
    "DEFAULT_LABELS",
    "ArtifactError",
    "ArtifactStore",
    "CoopclfError",
    "DataError",
    "Evidence",
    "InvalidInput",
    "LoadedModel",
    "Paragraph",
    "Prediction",
    "Predictor",
    "default_artifacts_dir",
    "display_name",
    "normalise_label",
    "split_paragraphs",
]
