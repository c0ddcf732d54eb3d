"""POST /v1/classify and the KServe V1 endpoints on the tiny real model."""

from __future__ import annotations

import csv

import pytest
from flask.testing import FlaskClient

from coopclf.predictor import Predictor
from coopclf.service.http import schemas
from tests.conftest import TINY_CSV
from tests.service.conftest import NARCOTICS, TOURISM, TRADE


def test_one_text_gets_labels_scores_thresholds_and_the_model_identity(
        client: FlaskClient, tiny_predictor: Predictor) -> None:
    response = client.post("/v1/classify", json={"text": NARCOTICS})
    assert response.status_code == 200
    assert response.mimetype == "application/json"
    body = response.get_json()
    schemas.TextsResponse.model_validate(body)
    assert body["model_version"] == tiny_predictor.version
    assert body["data_hash"] == tiny_predictor.data_hash
    assert response.headers["X-Model-Version"] == tiny_predictor.version
    assert response.headers["X-Model-Data-Hash"] == tiny_predictor.data_hash
    [result] = body["results"]
    assert result["labels"] == ["narcotics"]
    assert set(result["scores"]) == set(result["thresholds"]) == set(tiny_predictor.labels)
    assert result["thresholds"] == pytest.approx(dict(zip(tiny_predictor.labels, tiny_predictor.thresholds)),
                                                 abs=1e-4)
    assert result["abstained"] is None
    assert "evidence" not in result


def test_texts_are_answered_in_order_and_match_the_predictor(client: FlaskClient,
                                                            tiny_predictor: Predictor) -> None:
    texts = [TRADE, NARCOTICS, TOURISM]
    body = client.post("/v1/classify", json={"texts": texts}).get_json()
    expected = tiny_predictor.predict(texts)
    assert [r["labels"] for r in body["results"]] == [list(p.labels) for p in expected]
    assert [r["scores"] for r in body["results"]] == [p.scores for p in expected]


@pytest.mark.parametrize(("text", "reason"), [
    ("", "empty"),
    ("   \n\t ", "empty"),
    ("Cocaine seized.", "too_short"),
    ("Полиция изъяла две тонны кокаина в порту вчера вечером.", "not_english"),
])
def test_texts_the_model_cannot_judge_abstain_with_a_reason(client: FlaskClient, text: str,
                                                            reason: str) -> None:
    [result] = client.post("/v1/classify", json={"text": text}).get_json()["results"]
    assert result["labels"] == []
    assert result["abstained"] == reason


def test_explain_gives_evidence_with_offsets_into_the_text(client: FlaskClient) -> None:
    [result] = client.post("/v1/classify", json={"text": NARCOTICS, "explain": True}).get_json()["results"]
    evidence = result["evidence"]
    assert set(evidence) == set(result["labels"])
    items = evidence["narcotics"]
    assert items and all(item["weight"] > 0 for item in items)
    for item in items:
        for start, end in item["spans"]:
            assert NARCOTICS[start:end].lower() == item["ngram"].strip()


def test_a_document_is_split_labelled_per_paragraph_and_summarised(client: FlaskClient) -> None:
    document = f"{TRADE}\n\n{NARCOTICS}\n\nThanks.\n\n{TOURISM}"
    response = client.post("/v1/classify", json={"document": document, "explain": True})
    body = response.get_json()
    schemas.DocumentResponse.model_validate(body)
    paragraphs = body["paragraphs"]
    assert [p["index"] for p in paragraphs] == [0, 1, 2, 3]
    assert [document[p["start"]:p["end"]] for p in paragraphs] == [TRADE, NARCOTICS, "Thanks.", TOURISM]
    assert [p["labels"] for p in paragraphs] == [["trade"], ["narcotics"], [], ["tourism"]]
    assert paragraphs[2]["abstained"] == "too_short"
    assert body["summary"] == {
        "labels": ["narcotics", "trade", "tourism"],
        "paragraphs": {"narcotics": [1], "trade": [0], "tourism": [3]},
        "paragraph_count": 4,
        "abstained_count": 1,
    }
    for paragraph in paragraphs:
        for item in paragraph["evidence"].get("narcotics", []):
            for start, end in item["spans"]:
                assert paragraph["start"] <= start < end <= paragraph["end"]
                assert document[start:end].lower() == item["ngram"].strip()


def test_an_empty_document_has_no_paragraphs(client: FlaskClient) -> None:
    body = client.post("/v1/classify", json={"document": "\n\n  \n"}).get_json()
    assert body["paragraphs"] == []
    assert body["summary"]["paragraph_count"] == 0


def test_kserve_predict_accepts_strings_and_objects(client: FlaskClient, tiny_predictor: Predictor) -> None:
    response = client.post("/v1/models/coopclf:predict", json={"instances": [NARCOTICS, {"text": TRADE}]})
    assert response.status_code == 200
    body = response.get_json()
    schemas.KServePredictResponse.model_validate(body)
    assert [p["labels"] for p in body["predictions"]] == [["narcotics"], ["trade"]]
    assert body["model_version"] == tiny_predictor.version


def test_kserve_model_status(client: FlaskClient, tiny_predictor: Predictor) -> None:
    response = client.get("/v1/models/coopclf")
    assert response.status_code == 200
    assert response.get_json() == {"name": "coopclf", "ready": True, "version": tiny_predictor.version}


def test_a_text_alone_gets_the_verdict_it_gets_in_a_batch(client: FlaskClient) -> None:
    # A single text takes the Predictor's one-text path; several go through scikit-learn.
    with TINY_CSV.open(encoding="utf-8") as handle:
        texts = [row["text"] for row in csv.DictReader(handle)] + ["", "Too short.", "Police seized heroin."]
    batch = client.post("/v1/classify", json={"texts": texts}).get_json()["results"]
    for text, expected in zip(texts, batch):
        [alone] = client.post("/v1/classify", json={"text": text}).get_json()["results"]
        assert (alone["labels"], alone["abstained"]) == (expected["labels"], expected["abstained"]), text
        assert alone["scores"] == pytest.approx(expected["scores"], abs=2e-4)
