"""Per-label threshold choice: inside a plateau of good F1, not on its edge or an isolated spike."""

from __future__ import annotations

import numpy as np
import pytest

from classifier.selection import best_threshold, select_model
from tests.conftest import TINY_CSV
from training.ingest import load_dataset


@pytest.mark.parametrize(("negative", "positive", "expected"), [
    (0.1, 0.9, 0.175),  # first threshold whose +-0.05 neighbourhood is all perfect
    (0.3, 0.8, 0.375),
    (0.5, 0.6, 0.55),   # a gap narrower than the window: its middle
])
def test_threshold_sits_inside_the_gap_between_the_classes(negative: float, positive: float,
                                                           expected: float) -> None:
    y = np.array([0] * 40 + [1] * 40)
    proba = np.where(y == 1, positive, negative)
    score = best_threshold(y, proba)
    assert score.threshold == pytest.approx(expected)
    assert (score.f1, score.precision, score.recall, score.support) == (1.0, 1.0, 1.0, 40)


def test_an_isolated_f1_spike_is_not_chosen() -> None:
    # 20 sure positives, 10 positives sitting exactly at 0.2 and 40 negatives just below them at
    # 0.175: F1 is 1.0 at a threshold of 0.2 alone, 0.6 just below it and 0.8 from 0.225 upwards.
    y = np.array([1] * 30 + [0] * 40)
    proba = np.concatenate([np.full(20, 0.9), np.full(10, 0.2), np.full(40, 0.175)])
    score = best_threshold(y, proba)
    assert score.threshold > 0.2
    assert score.f1 == pytest.approx(0.8)


@pytest.mark.parametrize("spike", [0.05, 0.95])
def test_a_spike_at_either_end_of_the_grid_is_not_chosen(spike: float) -> None:
    # F1 is 1.0 only at the end threshold `spike` and 0.8 on a broad stretch next to it.
    y = np.array([1] * 30 + [0] * 40)
    if spike == 0.05:
        proba = np.concatenate([np.full(20, 0.9), np.full(10, 0.05), np.full(40, 0.0)])
    else:
        proba = np.concatenate([np.full(20, 0.96), np.full(10, 0.95), np.full(40, 0.5)])
    score = best_threshold(y, proba)
    assert score.threshold != pytest.approx(spike)


def test_pooling_is_chosen_by_cross_validation_like_any_parameter() -> None:
    dataset = load_dataset([TINY_CSV])
    grid = {"features": ["word"], "C": [8.0], "min_df": [1], "pooling": ["paragraph", "sentence-mean"]}
    selection = select_model(dataset.texts, dataset.matrix(), dataset.label_set, grid=grid, folds=3)
    by_pooling = {c["pooling"]: c["macro_f1"] for c in selection.candidates}
    assert set(by_pooling) == {"paragraph", "sentence-mean"}
    assert by_pooling[selection.pooling] == max(by_pooling.values()) == selection.macro_f1
    assert "pooling" not in selection.params
