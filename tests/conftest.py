"""Shared fixtures: tiny real models trained into temporary directories."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from coopclf.artifact import ArtifactStore
from coopclf.predictor import Predictor
from coopclf.training.train import train

FIXTURES = Path(__file__).parent / "fixtures"
TINY_CSV = FIXTURES / "tiny.csv"
QUICK_GRID = {"features": ["word"], "C": [8.0], "min_df": [1]}
REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"


def train_tiny(artifacts: Path, data: Path = TINY_CSV, **kwargs: object) -> str:
    """Train a real model on the tiny fixture corpus; returns the new version."""
    options = {"grid": QUICK_GRID, "folds": 3} | kwargs
    return train([data], artifacts=artifacts, **options).version


@pytest.fixture(scope="session")
def tiny_artifacts_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny model per test session, copied for each test that may modify it."""
    root = tmp_path_factory.mktemp("tiny-artifacts")
    train_tiny(root)
    return root


@pytest.fixture
def tiny_artifacts(tiny_artifacts_template: Path, tmp_path: Path) -> Path:
    """A private copy of the tiny model's artifacts directory."""
    root = tmp_path / "artifacts"
    shutil.copytree(tiny_artifacts_template, root)
    return root


@pytest.fixture(scope="session")
def tiny_predictor(tiny_artifacts_template: Path) -> Predictor:
    """A Predictor over the tiny model (read-only; share it)."""
    return Predictor(ArtifactStore(tiny_artifacts_template).load())
