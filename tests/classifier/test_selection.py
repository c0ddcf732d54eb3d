"""Per-label threshold choice: inside a plateau of good F1, not on its edge or an isolated spike."""

from __future__ import annotations

import numpy as np
import pytest

from coopclf.selection import POOLING_MARGIN, best_threshold, choose, out_of_fold_proba, select_model
from coopclf.training.ingest import load_dataset
from tests.conftest import TINY_CSV


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


def _two_sentence_dataset() -> tuple[list[str], np.ndarray, tuple[str, ...]]:
    """The tiny corpus plus texts made of two of its sentences each, carrying both labels."""
    dataset = load_dataset([TINY_CSV])
    Y = dataset.matrix()
    texts = list(dataset.texts)
    rows = list(Y)
    for i in range(0, len(texts) - 7, 2):
        texts.append(f"{dataset.texts[i]} {dataset.texts[i + 7]}")
        rows.append(Y[i] | Y[i + 7])
    return texts, np.array(rows), dataset.label_set


def test_sentence_pooling_changes_the_scores_of_multi_sentence_texts_only() -> None:
    texts, Y, _ = _two_sentence_dataset()
    grid = {"features": ["word"], "C": [8.0], "min_df": [1], "pooling": ["paragraph", "sentence-mean"]}
    oof = out_of_fold_proba(texts, Y, grid, folds=3, seed=0)
    paragraph, pooled = oof[("word", 8.0, 1, "paragraph")], oof[("word", 8.0, 1, "sentence-mean")]
    single = len(load_dataset([TINY_CSV]).texts)
    assert np.allclose(paragraph[:single], pooled[:single])
    assert not np.allclose(paragraph[single:], pooled[single:], atol=1e-3)


def test_selection_records_the_pooling_cross_validation_chose() -> None:
    texts, Y, labels = _two_sentence_dataset()
    grid = {"features": ["word"], "C": [8.0], "min_df": [1], "pooling": ["paragraph", "sentence-mean"]}
    selection = select_model(texts, Y, labels, grid=grid, folds=3)
    by_pooling = {c["pooling"]: c["macro_f1"] for c in selection.candidates}
    assert set(by_pooling) == {"paragraph", "sentence-mean"}
    expected = "sentence-mean" if by_pooling["sentence-mean"] > by_pooling["paragraph"] + POOLING_MARGIN else "paragraph"
    assert selection.pooling == expected
    assert selection.macro_f1 == by_pooling[expected]
    assert "pooling" not in selection.params


def _candidate(features: str, pooling: str, macro: float) -> tuple[dict, None, float]:
    return {"features": features, "C": 8.0, "min_df": 1, "pooling": pooling}, None, macro


@pytest.mark.parametrize(("scores", "expected"), [
    # (word/paragraph, word/sentence-mean, char/paragraph, char/sentence-mean) -> chosen
    ((0.80, 0.81, 0.90, 0.909), ("word+char+presence", "sentence-mean")),
    ((0.80, 0.81, 0.90, 0.901), ("word+char+presence", "paragraph")),   # pooling gain within its margin
    ((0.89, 0.90, 0.905, 0.91), ("word", "sentence-mean")),             # word-only within 0.01, same pooling
    ((0.897, 0.885, 0.905, 0.906), ("word", "paragraph")),              # both margins apply
])
def test_choose_prefers_cheaper_candidates_within_their_margins(
        scores: tuple[float, float, float, float], expected: tuple[str, str]) -> None:
    names = [("word", "paragraph"), ("word", "sentence-mean"),
             ("word+char+presence", "paragraph"), ("word+char+presence", "sentence-mean")]
    scored = [_candidate(f, p, m) for (f, p), m in zip(names, scores)]
    (params, _, _), _ = choose(scored)
    assert (params["features"], params["pooling"]) == expected
