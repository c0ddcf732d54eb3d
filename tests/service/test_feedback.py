"""POST /v1/feedback appends durable CSV lines that training reads back."""

from __future__ import annotations

import multiprocessing
from pathlib import Path
from typing import Any

import pytest
from flask.testing import FlaskClient

from coopclf.service.http.feedback import FeedbackLog
from coopclf.service.http.settings import Settings
from coopclf.training.ingest import load_dataset
from tests.service.conftest import NARCOTICS, TRADE
from tests.service.test_errors import assert_problem


def post(client: FlaskClient, text: str, labels: list[str]) -> Any:
    return client.post("/v1/feedback", json={"text": text, "labels": labels})


def test_feedback_is_appended_in_the_training_layout(client: FlaskClient, settings: Settings) -> None:
    first = post(client, NARCOTICS, ["narcotics"])
    assert first.status_code == 201
    assert first.get_json()["labels"] == ["narcotics"]
    post(client, "  The deal, signed \"today\",\n\ncuts tariffs   on software. ", ["IT", "Trade and investment"])
    post(client, "The film won three awards at the festival.", [])
    path = settings.feedback_dir / "feedback.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines == [
        "text,labels",
        f"{NARCOTICS},narcotics",
        '"The deal, signed ""today"", cuts tariffs on software.",trade;information_technology',
        "The film won three awards at the festival.,",
    ]
    dataset = load_dataset([settings.feedback_dir], labels=client.get("/v1/model").get_json()["labels"])
    assert dataset.texts[1] == 'The deal, signed "today", cuts tariffs on software.'
    assert [sorted(labels) for labels in dataset.labels] == [
        ["narcotics"], ["information_technology", "trade"], []]


def test_the_response_shows_what_was_recorded(client: FlaskClient, tiny_artifacts: Path) -> None:
    body = post(client, f"  {TRADE}\n", ["Commerce", "trade", "drugs"]).get_json()
    assert body["text"] == TRADE
    assert body["labels"] == ["narcotics", "trade"]  # aliases normalised, deduplicated, label order
    assert body["recorded"] is True


@pytest.mark.parametrize(("body", "status", "detail"), [
    ({"text": NARCOTICS, "labels": ["piracy"]}, 422, "unknown label 'piracy'"),
    ({"text": NARCOTICS, "labels": ["narcotic"]}, 422, "did you mean 'narcotics'"),
    ({"text": " \n ", "labels": []}, 422, "text is empty"),
    ({"text": NARCOTICS}, 400, "does not match the schema"),
    ({"text": NARCOTICS, "labels": "narcotics"}, 400, "does not match the schema"),
    ({"text": NARCOTICS, "labels": [1]}, 400, "does not match the schema"),
])
def test_invalid_feedback_is_refused_and_nothing_is_written(client: FlaskClient, settings: Settings,
                                                           body: dict[str, Any], status: int,
                                                           detail: str) -> None:
    problem = assert_problem(client.post("/v1/feedback", json=body), status)
    assert detail in problem["detail"]
    assert not (settings.feedback_dir / "feedback.csv").exists()


def test_concurrent_writers_in_several_processes_never_interleave(tmp_path: Path) -> None:
    rows = [(f"item {i} " + "x" * 5000, ["trade"]) for i in range(100)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.starmap(FeedbackLog(tmp_path).append, rows, chunksize=1)
    lines = (tmp_path / "feedback.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "text,labels"
    assert sorted(lines[1:]) == sorted(f"{text},trade" for text, _ in rows)
