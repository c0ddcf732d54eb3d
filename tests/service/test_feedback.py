"""POST /v1/feedback appends durable CSV lines that training reads back."""

from __future__ import annotations

import csv
import multiprocessing
import resource
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coopclf.service.http.feedback import FeedbackLog, FeedbackNotStored
from coopclf.service.http.settings import Settings
from coopclf.training.ingest import load_dataset
from tests.service.conftest import FEEDBACK_AUTH, FEEDBACK_TOKEN, NARCOTICS, TOKEN, TRADE
from tests.service.test_errors import assert_problem


def post(client: FlaskClient, text: str, labels: list[str]) -> Any:
    return client.post("/v1/feedback", json={"text": text, "labels": labels}, headers=FEEDBACK_AUTH)


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
    problem = assert_problem(client.post("/v1/feedback", json=body, headers=FEEDBACK_AUTH), status)
    assert detail in problem["detail"]
    assert not (settings.feedback_dir / "feedback.csv").exists()


def test_concurrent_writers_in_several_processes_never_interleave(tmp_path: Path) -> None:
    rows = [(f"item {i} " + "x" * 5000, ["trade"]) for i in range(100)]
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        pool.starmap(FeedbackLog(tmp_path).append, rows, chunksize=1)
    lines = (tmp_path / "feedback.csv").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "text,labels"
    assert sorted(lines[1:]) == sorted(f"{text},trade" for text, _ in rows)


def test_without_a_feedback_token_the_endpoint_is_off(make_app: Callable[..., Flask], settings: Settings) -> None:
    client = make_app(feedback_token=None).test_client()
    assert_problem(post(client, NARCOTICS, ["narcotics"]), 404)
    assert "/v1/feedback" not in client.get("/openapi.json").get_json()["paths"]
    assert not (settings.feedback_dir / "feedback.csv").exists()


@pytest.mark.parametrize(("authorization", "status", "kind"), [
    (None, 401, "unauthorized"),
    ("Bearer ", 401, "unauthorized"),
    (f"Basic {FEEDBACK_TOKEN}", 401, "unauthorized"),
    (f"Bearer {TOKEN}", 403, "forbidden"),  # the admin token is not the feedback token
    (f"Bearer {FEEDBACK_TOKEN}x", 403, "forbidden"),
])
def test_feedback_needs_its_own_bearer_token(client: FlaskClient, settings: Settings, authorization: str | None,
                                             status: int, kind: str) -> None:
    headers = {"Authorization": authorization} if authorization is not None else {}
    response = client.post("/v1/feedback", json={"text": NARCOTICS, "labels": ["narcotics"]}, headers=headers)
    assert_problem(response, status, kind)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")
    assert not (settings.feedback_dir / "feedback.csv").exists()


@pytest.mark.parametrize("text", [
    '=HYPERLINK("http://evil.example","Customs seized cocaine")',
    "+44 20 7946 0958: customs seized cocaine at the port.",
    "-5 degrees at the border as customs seized cocaine.",
    "@customs seized cocaine at the port.",
    "'We seized cocaine at the port,' said the customs chief.",
])
def test_texts_a_spreadsheet_would_run_are_escaped_and_read_back_unchanged(
        client: FlaskClient, settings: Settings, text: str) -> None:
    assert post(client, text, ["narcotics"]).status_code == 201
    path = settings.feedback_dir / "feedback.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        [header, [cell, labels]] = list(csv.reader(handle))
    assert cell == "'" + text and labels == "narcotics"
    assert load_dataset([settings.feedback_dir], labels=client.get("/v1/model").get_json()["labels"]).texts == [text]


def test_a_row_past_the_size_cap_is_a_507_and_nothing_is_written(make_app: Callable[..., Flask],
                                                                  settings: Settings) -> None:
    client = make_app(feedback_max_bytes=150).test_client()
    assert post(client, NARCOTICS, ["narcotics"]).status_code == 201  # 12 + 85 bytes; TRADE would add 78
    path = settings.feedback_dir / "feedback.csv"
    before = path.read_bytes()
    problem = assert_problem(post(client, TRADE, ["trade"]), 507, "feedback-store-full")
    assert "COOPCLF_FEEDBACK_MAX_BYTES" in problem["detail"]
    assert path.read_bytes() == before
    assert post(client, "Hotel rooms were full.", ["tourism"]).status_code == 201  # a row that still fits


def _append_with_a_full_disk(directory: Path, file_size_limit: int, texts: list[str]) -> list[str]:
    """Append rows in a process whose files may not grow past `file_size_limit` (as on a full disk)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
    resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
    outcomes = []
    for text in texts:
        try:
            FeedbackLog(directory).append(text, ["trade"])
            outcomes.append("written")
        except FeedbackNotStored as exc:
            outcomes.append(str(exc))
    return outcomes


def test_a_failed_write_leaves_no_partial_row_for_the_next_one_to_be_glued_onto(tmp_path: Path) -> None:
    texts = [f"row {i}: the ministers agreed to cut tariffs on steel and grain." for i in range(5)]
    with multiprocessing.get_context("spawn").Pool(1) as pool:
        outcomes = pool.apply(_append_with_a_full_disk, (tmp_path, 160, texts))
    assert outcomes[:2] == ["written", "written"]  # 12 + 2 x 68 bytes; the third row crosses 160
    assert all("could not be written" in outcome for outcome in outcomes[2:])
    FeedbackLog(tmp_path).append("Hotel rooms were full after the disk was freed.", ["tourism"])
    lines = (tmp_path / "feedback.csv").read_text(encoding="utf-8").splitlines()
    assert lines == ["text,labels", f"{texts[0]},trade", f"{texts[1]},trade",
                     "Hotel rooms were full after the disk was freed.,tourism"]
