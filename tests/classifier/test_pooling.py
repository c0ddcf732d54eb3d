"""Sentence pooling: which sentences are scored and how their scores join the paragraph's."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from coopclf.artifact import ArtifactStore
from coopclf.errors import ArtifactError
from coopclf.pipeline import FEATURE_SETS
from coopclf.pooling import combine, pool, scored_pieces, sentence_rows
from coopclf.predictor import Predictor
from tests.classifier.test_featurizer import AWKWARD, SENTENCES
from tests.classifier.test_predictor import TEXTS as PREDICTOR_TEXTS
from tests.conftest import TINY_CSV, train_tiny

LONG = ("The delegation toured the old harbour and the new library. The ministers spoke about "
        "schools, hospitals and the coming elections. They praised the long friendship between "
        "their peoples. Customs officers seized cocaine hidden in a fruit shipment at the port. "
        "A dinner at the palace closed the visit.")


@pytest.mark.parametrize(("texts", "sentences", "owners"), [
    (["One sentence only, however long it runs."], [], []),
    (["First full sentence here. Second full sentence here."],
     ["First full sentence here.", "Second full sentence here."], [0, 0]),
    (["Too short. Only one real sentence remains here."], [], []),  # fragments are not scored
    (["Single.", "It rained all day. The match went ahead anyway!"],
     ["It rained all day.", "The match went ahead anyway!"], [1, 1]),
])
def test_sentence_rows_come_from_texts_with_two_or_more_sentences(
        texts: list[str], sentences: list[str], owners: list[int]) -> None:
    found, found_owners = sentence_rows(texts)
    assert found == sentences
    assert found_owners.tolist() == owners


def test_scored_pieces_are_every_sentence_and_the_indices_of_the_scored_ones() -> None:
    pieces, scored = scored_pieces("Too short. Long enough sentence here. Why? Another long sentence follows.")
    assert pieces == ["Too short.", "Long enough sentence here.", "Why?", "Another long sentence follows."]
    assert scored == [1, 3]
    assert scored_pieces("One sentence only, however long it runs.") == (["One sentence only, however long it runs."], [])


def _score_by_length(sentences: list[str]) -> np.ndarray:
    """A stand-in scorer: one label, the sentence's word count over 10."""
    return np.array([[len(s.split()) / 10] for s in sentences])


def test_paragraph_pooling_returns_the_paragraph_scores() -> None:
    paragraph = np.array([[0.3], [0.6]])
    assert pool("paragraph", ["A b c. D e f.", "G h i."], paragraph, _score_by_length) is paragraph


def test_sentence_mean_averages_the_paragraph_and_its_best_sentence() -> None:
    texts = ["Two three four. One two three four five six.", "A lone sentence of seven words here."]
    paragraph = np.array([[0.1], [0.2]])
    pooled = pool("sentence-mean", texts, paragraph, _score_by_length)
    # text 0: best sentence has 6 words -> 0.6; text 1 has one sentence, so it keeps its score
    assert pooled[:, 0] == pytest.approx([(0.1 + 0.6) / 2, 0.2])


def test_the_best_sentence_counts_even_when_it_scores_below_the_paragraph() -> None:
    # three texts, two labels; texts 0 and 2 have sentence rows (owners not adjacent), text 1 has none
    paragraph = np.array([[0.8, 0.2], [0.5, 0.5], [0.4, 0.1]])
    sentence = np.array([[0.3, 0.9], [0.6, 0.7], [0.1, 0.1], [0.2, 0.3]])
    owners = np.array([0, 2, 0, 2])
    pooled = combine("sentence-mean", paragraph, sentence, owners)
    expected = np.array([[(0.8 + 0.3) / 2, (0.2 + 0.9) / 2],
                         [0.5, 0.5],
                         [(0.4 + 0.6) / 2, (0.1 + 0.7) / 2]])
    assert pooled == pytest.approx(expected)


def test_unknown_pooling_is_refused() -> None:
    with pytest.raises(ValueError, match="pooling must be one of"):
        pool("sentence-max", ["A b c."], np.zeros((1, 1)), _score_by_length)


@pytest.fixture(scope="module")
def pooled_predictor(tmp_path_factory: pytest.TempPathFactory) -> Predictor:
    root = tmp_path_factory.mktemp("pooled")
    train_tiny(root, grid={"features": ["word+char+presence"], "C": [8.0], "min_df": [1],
                           "pooling": ["sentence-mean"]})
    return Predictor.load(root)


def test_a_pooled_model_records_its_pooling(pooled_predictor: Predictor) -> None:
    assert pooled_predictor.manifest["pooling"] == "sentence-mean"
    assert pooled_predictor.pooling == "sentence-mean"
    assert "pooling" not in pooled_predictor.manifest["params"]


def test_a_pooled_model_scores_like_its_pipeline_pooled(pooled_predictor: Predictor) -> None:
    texts = [LONG, "Hotel occupancy reached a record as tourists returned to the coast."]
    pipeline = pooled_predictor.pipeline
    expected = pool("sentence-mean", texts, pipeline.predict_proba(texts), pipeline.predict_proba)
    assert np.allclose(pooled_predictor.proba(texts), expected, atol=1e-6)
    for text, row in zip(texts, expected):  # one text takes the direct scoring path
        assert np.allclose(list(pooled_predictor.predict([text])[0].scores.values()), row, atol=1e-4)


def test_one_mention_in_a_long_paragraph_counts_more_when_pooled(pooled_predictor: Predictor) -> None:
    j = pooled_predictor.labels.index("narcotics")
    whole = pooled_predictor.pipeline.predict_proba([LONG])[0, j]
    assert pooled_predictor.proba([LONG])[0, j] > whole


def test_a_manifest_asking_for_an_unknown_pooling_is_refused(tiny_artifacts: Path) -> None:
    store = ArtifactStore(tiny_artifacts)
    path = tiny_artifacts / store.current() / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["pooling"] = "attention"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="pooling 'attention'"):
        Predictor(store.load())


def test_a_manifest_without_pooling_scores_whole_paragraphs(tiny_artifacts: Path) -> None:
    store = ArtifactStore(tiny_artifacts)
    path = tiny_artifacts / store.current() / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest.pop("pooling")
    path.write_text(json.dumps(manifest))
    predictor = Predictor(store.load())
    assert predictor.pooling == "paragraph"
    assert np.allclose(predictor.proba([LONG]), predictor.pipeline.predict_proba([LONG]), atol=1e-6)


# Rows that give the acronym block (IT, ICT, FIA, ...) a vocabulary: it keeps words found in two texts.
ACRONYM_ROWS = [
    ("The ICT ministry and IT firms signed a 5G deal with the AI institute.", "information_technology"),
    ("IT outages hit the ICT regulator; 5G masts and AI tools were spared.", "information_technology"),
    ("AI start-ups and IT exporters asked the ICT board for 5G spectrum.", "information_technology"),
    ("The ICT fair showed AI chips, IT services and 5G phones.", "information_technology"),
    ("The FIA and the ANF seized heroin hidden in a CT scanner shipment.", "narcotics"),
    ("FIA officers and the ANF arrested traffickers; CT units stood by.", "counterterrorism"),
    ("CT police, the FIA and the ANF raided a heroin lab.", "narcotics"),
    ("The ANF told the FIA that CT teams had tracked the cell.", "counterterrorism"),
]


@pytest.mark.parametrize("features", FEATURE_SETS)
def test_every_feature_set_scores_like_scikit_learn_pooled(tmp_path: Path, features: str) -> None:
    data = tmp_path / "tiny-acronyms.csv"
    rows = "".join(f'"{text}",{label}\n' for text, label in ACRONYM_ROWS)
    data.write_text(TINY_CSV.read_text(encoding="utf-8") + rows, encoding="utf-8")
    train_tiny(tmp_path / "artifacts", data=data,
               grid={"features": [features], "C": [8.0], "min_df": [1], "pooling": ["sentence-mean"]})
    predictor = Predictor.load(tmp_path / "artifacts")
    texts = [LONG, *AWKWARD, *SENTENCES, *PREDICTOR_TEXTS]
    pipeline = predictor.pipeline
    expected = pool("sentence-mean", texts, pipeline.predict_proba(texts), pipeline.predict_proba)
    got = predictor.proba(texts)
    assert np.abs(got - expected).max() <= 1e-6
    assert ((got >= predictor.thresholds) == (expected >= predictor.thresholds)).all()
    for text, row in zip(texts, expected):  # one text at a time, as the single-text path scores it
        assert np.abs(predictor.proba([text])[0] - row).max() <= 1e-6
