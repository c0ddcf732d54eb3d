"""What one request may cost: characters per request (explain counts 4 times) and a time budget."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask

from coopclf.service.http.state import EXTENSION
from tests.service.conftest import NARCOTICS, TOURISM, TRADE
from tests.service.test_errors import assert_problem

DOCUMENT = f"{NARCOTICS}\n\n{TRADE}\n\n{TOURISM}"


def _problem(response: Any, status: int, slug: str) -> dict[str, Any]:
    """The problem document in either form: problem+json, or KServe's application/json with `error`."""
    if response.mimetype == "application/json":
        assert response.status_code == status
        body = response.get_json()
        assert body["type"] == f"urn:coopclf:problem:{slug}" and body["error"].startswith(body["detail"])
        return body
    return assert_problem(response, status, slug)


@pytest.mark.parametrize(("path", "body", "cost"), [
    ("/v1/classify", {"texts": ["x" * 30] * 3}, 90),
    ("/v1/classify", {"text": "x" * 25, "explain": True}, 100),
    ("/v1/classify", {"document": "a" * 30 + "\n\n" + "b" * 30 + "\n\n" + "c" * 30}, 90),
    ("/v1/classify", {"document": "a" * 11 + "\n\n" + "b" * 10, "explain": True}, 84),
    ("/v1/models/coopclf:predict", {"instances": ["x" * 41, "y" * 40]}, 81),
    ("/v1/models/coopclf:explain", {"instances": ["x" * 21]}, 84),
])
def test_a_request_over_its_character_budget_is_a_413_naming_the_limit(
        make_app: Callable[..., Flask], path: str, body: dict[str, Any], cost: int) -> None:
    client = make_app(max_request_chars=80).test_client()
    problem = _problem(client.post(path, json=body), 413, "request-too-costly")
    assert (problem["cost"], problem["limit"]) == (cost, 80)
    assert "COOPCLF_MAX_REQUEST_CHARS" in problem["detail"] and f"{cost:,} characters" in problem["detail"]


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/classify", {"texts": ["x" * 40, "y" * 40]}),
    ("/v1/classify", {"text": "x" * 20, "explain": True}),
    ("/v1/models/coopclf:explain", {"instances": ["x" * 20]}),
])
def test_a_request_at_its_character_budget_is_answered(make_app: Callable[..., Flask], path: str,
                                                      body: dict[str, Any]) -> None:
    assert make_app(max_request_chars=80).test_client().post(path, json=body).status_code == 200


@pytest.mark.parametrize(("path", "body"), [
    ("/v1/classify", {"texts": [NARCOTICS, TRADE]}),
    ("/v1/classify", {"text": NARCOTICS, "explain": True}),
    ("/v1/classify", {"document": DOCUMENT}),
    ("/v1/models/coopclf:predict", {"instances": [NARCOTICS, TRADE]}),
])
def test_a_request_past_its_time_budget_stops_with_a_503_and_retry_after(
        make_app: Callable[..., Flask], path: str, body: dict[str, Any]) -> None:
    client = make_app(request_seconds=1e-9).test_client()
    response = client.post(path, json=body)
    problem = _problem(response, 503, "time-budget-exceeded")
    assert "COOPCLF_REQUEST_SECONDS" in problem["detail"]
    assert response.headers["Retry-After"] == "1"
    assert client.get("/healthz").status_code == 200


def test_large_requests_compute_one_at_a_time_and_small_ones_never_wait_behind_them(
        make_app: Callable[..., Flask]) -> None:
    app = make_app(max_chars=100, request_seconds=0.5)
    client = app.test_client()
    computing = app.extensions[EXTENSION].computing
    assert computing.acquire(timeout=5)  # as a large request computing in another thread would
    try:
        small = client.post("/v1/classify", json={"text": NARCOTICS})  # 74 characters
        assert small.status_code == 200
        large = client.post("/v1/classify", json={"texts": [NARCOTICS, TRADE]})  # 145
        assert_problem(large, 503, "time-budget-exceeded")  # it waited for the slot until its deadline
    finally:
        computing.release()
    results: list[int] = []
    threads = [threading.Thread(target=lambda: results.append(
        app.test_client().post("/v1/classify", json={"texts": [NARCOTICS, TRADE]}).status_code)) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [200] * 4
