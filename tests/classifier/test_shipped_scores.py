"""The shipped model's fast scores equal scikit-learn's pooled predict_proba on real text."""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
import pytest

from coopclf.artifact import ArtifactStore
from coopclf.pooling import pool
from coopclf.predictor import Predictor
from tests.conftest import REPO, SHARED

DEV = SHARED / "eval" / "dev.csv"


@pytest.fixture(scope="module")
def shipped() -> Predictor:
    return Predictor(ArtifactStore(REPO / "artifacts").load())


def _texts(*files: Path) -> list[str]:
    texts = []
    for file in files:
        with file.open(encoding="utf-8", newline="") as handle:
            texts += [row["text"] for row in csv.DictReader(handle)]
    return texts


def _assert_scores_like_scikit_learn(predictor: Predictor, texts: list[str]) -> None:
    pipeline = predictor.pipeline
    for start in range(0, len(texts), 1000):
        chunk = texts[start:start + 1000]
        expected = pool(predictor.pooling, chunk, pipeline.predict_proba(chunk), pipeline.predict_proba)
        got = predictor.proba(chunk)
        assert np.abs(got - expected).max() <= 1e-6
        assert ((got >= predictor.thresholds) == (expected >= predictor.thresholds)).all()
        for row, prediction in zip(expected, predictor.predict(chunk)):
            if prediction.abstained is None:
                assert prediction.labels == tuple(label for label, p, threshold
                                                  in zip(predictor.labels, row, predictor.thresholds) if p >= threshold)


@pytest.mark.slow
def test_corpus_scores_equal_scikit_learn_pooled(shipped: Predictor) -> None:
    _assert_scores_like_scikit_learn(shipped, _texts(*sorted((REPO / "training" / "data").glob("*.csv"))))


@pytest.mark.slow
@pytest.mark.skipif(not DEV.is_file(), reason="the shared dev set is not on this machine")
def test_dev_set_scores_equal_scikit_learn_pooled(shipped: Predictor) -> None:
    _assert_scores_like_scikit_learn(shipped, _texts(DEV))
