"""The Predictor: batches, thresholds, evidence, abstention, threads."""

from __future__ import annotations

import re
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pytest
from sklearn.feature_extraction.text import strip_accents_unicode

from coopclf.errors import DeadlineExceeded, InvalidInput
from coopclf.predictor import Predictor

TEXTS = [
    "Customs officers seized cocaine hidden in a fruit shipment at the port.",
    "Hotel occupancy reached a record as tourists returned to the coast.",
    "The two countries signed a free trade agreement cutting customs duties.",
    "Ransomware attacks hit the ministry servers and a new data centre is planned.",
    "The home side won the cup final after a late goal.",
    "Militants claimed the bombing of a police checkpoint near the border.",
    "Traffickers held migrants in forced labour on fishing boats.",
]


def test_batch_equals_single_calls(tiny_predictor: Predictor) -> None:
    batch = tiny_predictor.predict(TEXTS)
    singles = [tiny_predictor.predict([t])[0] for t in TEXTS]
    assert batch == singles
    assert np.allclose(tiny_predictor.proba(TEXTS), np.vstack([tiny_predictor.proba([t]) for t in TEXTS]))


def test_probabilities_match_the_scikit_learn_pipeline(tiny_predictor: Predictor) -> None:
    assert np.allclose(tiny_predictor.proba(TEXTS), tiny_predictor.pipeline.predict_proba(TEXTS), atol=1e-6)


def test_labels_are_the_scores_over_their_thresholds(tiny_predictor: Predictor) -> None:
    for prediction in tiny_predictor.predict(TEXTS):
        expected = tuple(label for label, t in zip(tiny_predictor.labels, tiny_predictor.thresholds)
                         if prediction.scores[label] >= t - 1e-4)
        assert prediction.labels == expected
        assert set(prediction.scores) == set(tiny_predictor.labels)


@pytest.mark.parametrize(
    ("text", "label"),
    [(TEXTS[0], "narcotics"), (TEXTS[1], "tourism"), (TEXTS[2], "trade"),
     (TEXTS[3], "information_technology"), (TEXTS[5], "counterterrorism"), (TEXTS[6], "human_trafficking")],
)
def test_tiny_model_learns_each_label(tiny_predictor: Predictor, text: str, label: str) -> None:
    assert label in tiny_predictor.predict([text])[0].labels


def test_explain_gives_ngrams_with_offsets_into_the_text(tiny_predictor: Predictor) -> None:
    text = TEXTS[0]
    prediction = tiny_predictor.predict([text], explain=True)[0]
    assert prediction.evidence is not None and "narcotics" in prediction.evidence
    items = prediction.evidence["narcotics"]
    assert 0 < len(items) <= 5
    assert [e.weight for e in items] == sorted((e.weight for e in items), reverse=True)
    for evidence in items:
        assert evidence.weight > 0
        assert evidence.spans
        for start, end in evidence.spans:
            assert " ".join(text[start:end].lower().split()) == evidence.ngram
    assert tiny_predictor.predict([text])[0].evidence is None


def test_abstains_on_text_it_cannot_judge(tiny_predictor: Predictor) -> None:
    empty, short = tiny_predictor.predict(["", "Heroin seized"])
    assert (empty.labels, empty.abstained) == ((), "empty")
    assert (short.labels, short.abstained) == ((), "too_short")


@pytest.mark.parametrize("bad", ["a single string", [1, 2], ["ok text here", None]])
def test_rejects_wrong_input_types(tiny_predictor: Predictor, bad: object) -> None:
    with pytest.raises(InvalidInput):
        tiny_predictor.predict(bad)  # type: ignore[arg-type]


def test_large_batches_are_chunked_with_the_same_result(tiny_predictor: Predictor, monkeypatch) -> None:
    expected = tiny_predictor.proba(TEXTS * 3)
    monkeypatch.setattr("coopclf.predictor.CHUNK", 4)
    assert np.allclose(tiny_predictor.proba(TEXTS * 3), expected)


def test_safe_to_share_between_threads(tiny_predictor: Predictor) -> None:
    expected = tiny_predictor.predict(TEXTS, explain=True)
    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(lambda _: tiny_predictor.predict(TEXTS, explain=True), range(40)))
    assert all(r == expected for r in results)


def test_first_explanations_asked_from_many_threads_at_once(tiny_artifacts_template) -> None:
    expected = Predictor.load(tiny_artifacts_template).predict(TEXTS, explain=True)
    fresh = Predictor.load(tiny_artifacts_template)  # its n-gram names are built on first use
    start = threading.Barrier(8)

    def explain(_: int) -> list:
        start.wait()
        return fresh.predict(TEXTS, explain=True)

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(explain, range(8)))
    assert all(r == expected for r in results)


def test_evidence_skips_stop_word_only_ngrams(tiny_predictor: Predictor) -> None:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    for prediction in tiny_predictor.predict(TEXTS, explain=True):
        for items in (prediction.evidence or {}).values():
            for evidence in items:
                assert not all(token in ENGLISH_STOP_WORDS for token in evidence.ngram.split())


@pytest.mark.parametrize("features", ["word", "word+char", "word+char+presence"])
def test_every_feature_set_scores_like_its_pipeline_and_explains(tmp_path, features: str) -> None:
    from tests.conftest import train_tiny

    train_tiny(tmp_path, grid={"features": [features], "C": [8.0], "min_df": [1]})
    predictor = Predictor.load(tmp_path)
    assert predictor.manifest["params"]["features"] == features
    assert np.allclose(predictor.proba(TEXTS), predictor.pipeline.predict_proba(TEXTS), atol=1e-6)
    for text, row in zip(TEXTS, predictor.proba(TEXTS)):  # one text takes the direct scoring path
        assert np.allclose(list(predictor.predict([text])[0].scores.values()), row, atol=1e-4)
    narcotics = predictor.predict([TEXTS[0]], explain=True)[0]
    assert "narcotics" in narcotics.labels
    ngrams = [e.ngram for e in narcotics.evidence["narcotics"]]
    assert len(ngrams) == len(set(ngrams))
    for evidence in narcotics.evidence["narcotics"]:
        assert evidence.spans


def _occurrences(text: str, ngram: str) -> tuple[tuple[int, int], ...]:
    """Every [start, end) of the word n-gram in `text`, found by brute force over its tokens."""
    tokens = [(m.start(), m.end(), strip_accents_unicode(m.group().lower()))
              for m in re.finditer(r"(?u)\b\w\w+\b", text)]
    words = ngram.split(" ")
    return tuple((tokens[i][0], tokens[i + len(words) - 1][1]) for i in range(len(tokens) - len(words) + 1)
                 if [token for _, _, token in tokens[i:i + len(words)]] == words)


@pytest.mark.parametrize("text", [
    TEXTS[0],
    "Cocaine, COCAINE and cocaïne: customs seized cocaine cocaine cocaine at the port; customs officers seized more.",
    " ".join([TEXTS[0], TEXTS[2], TEXTS[6]] * 40),  # a long text: every occurrence, in order
    "Militants claimed the bombing. Traffickers held migrants in forced labour; the bombing of a checkpoint.",
])
def test_evidence_spans_are_every_occurrence_of_each_ngram(tiny_predictor: Predictor, text: str) -> None:
    prediction = tiny_predictor.predict([text], explain=True)[0]
    assert prediction.evidence
    for items in prediction.evidence.values():
        for evidence in items:
            assert evidence.spans == _occurrences(text, evidence.ngram), evidence.ngram


@pytest.mark.parametrize("call", [
    lambda predictor, deadline: predictor.predict(TEXTS, deadline=deadline),
    lambda predictor, deadline: predictor.predict(TEXTS, explain=True, deadline=deadline),
    lambda predictor, deadline: predictor.classify_document("\n\n".join(TEXTS), deadline=deadline),
], ids=["predict", "explain", "document"])
def test_a_deadline_bounds_the_work(tiny_predictor: Predictor, call: Callable[[Predictor, float | None], Any]) -> None:
    with pytest.raises(DeadlineExceeded, match="deadline has passed"):
        call(tiny_predictor, time.monotonic() - 1)
    assert call(tiny_predictor, time.monotonic() + 3600) == call(tiny_predictor, None)
