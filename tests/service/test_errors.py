"""Every bad request gets an RFC 9457 problem document with the right status, never HTML.

The KServe routes' form of the same documents is tested in test_kserve.py."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coopclf.service.http import schemas
from tests.service.conftest import FEEDBACK_AUTH, NARCOTICS

JSON = "application/json"


def assert_problem(response: Any, status: int, type_suffix: str | None = None) -> dict[str, Any]:
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    body = response.get_json()
    schemas.ProblemDetails.model_validate(body)
    assert body["status"] == status
    assert body["request_id"] == response.headers["X-Request-ID"]
    if type_suffix is not None:
        assert body["type"] == f"urn:coopclf:problem:{type_suffix}"
    text = response.get_data(as_text=True)
    assert "<html" not in text.lower() and "Traceback" not in text
    return body


@pytest.mark.parametrize(("data", "content_type", "status", "kind"), [
    (b"{", JSON, 400, "malformed-body"),
    (b"", JSON, 400, "malformed-body"),
    (b'{"text": "caf\xe9"}', JSON, 400, "malformed-body"),
    (b'{"text": "\\ud800 lone surrogate"}', JSON, 400, "malformed-body"),
    (b'{"text": NaN}', JSON, 400, "malformed-body"),
    (b'["a text"]', JSON, 400, "invalid-request"),
    (b'"a text"', JSON, 400, "invalid-request"),
    (b'{"text": 42}', JSON, 400, "invalid-request"),
    (b'{"text": null}', JSON, 400, "invalid-request"),
    (b'{"texts": "not a list"}', JSON, 400, "invalid-request"),
    (b'{"texts": ["ok", 3]}', JSON, 400, "invalid-request"),
    (b'{"text": "a", "explain": "yes"}', JSON, 400, "invalid-request"),
    (b'{"text": "a", "colour": "red"}', JSON, 400, "invalid-request"),
    (b'{"text": "a", "texts": ["b"]}', JSON, 400, "invalid-request"),
    (b'{}', JSON, 400, "invalid-request"),
    (b'{"text": "a"}', "text/plain", 415, "unsupported-media-type"),
    (b'{"text": "a"}', "application/x-www-form-urlencoded", 415, "unsupported-media-type"),
    (b'{"text": "a"}', None, 415, "unsupported-media-type"),
])
def test_bad_classify_bodies(client: FlaskClient, data: bytes, content_type: str | None,
                             status: int, kind: str) -> None:
    headers = {"Content-Type": content_type} if content_type else {}
    assert_problem(client.post("/v1/classify", data=data, headers=headers), status, kind)


def test_schema_errors_name_the_field(client: FlaskClient) -> None:
    body = assert_problem(client.post("/v1/classify", json={"texts": ["ok", 3]}), 400)
    assert body["errors"] == [{"loc": ["texts", "1"], "msg": "Input should be a valid string"}]


def test_json_with_a_charset_and_vendor_json_types_are_accepted(client: FlaskClient) -> None:
    for content_type in ("application/json; charset=utf-8", "application/vnd.coopclf+json"):
        response = client.post("/v1/classify", data=f'{{"text": "{NARCOTICS}"}}',
                               headers={"Content-Type": content_type})
        assert response.status_code == 200


@pytest.mark.parametrize(("path", "body", "status", "kind"), [
    ("/v1/classify", {"texts": ["a"] * 4}, 413, "too-many-items"),
    ("/v1/classify", {"document": "One.\n\nTwo.\n\nThree.\n\nFour."}, 413, "too-many-items"),
    ("/v1/classify", {"text": "x" * 41}, 422, "text-too-long"),
    ("/v1/classify", {"texts": ["ok", "x" * 41]}, 422, "text-too-long"),
    ("/v1/classify", {"document": "ok\n\n" + "x" * 41}, 422, "text-too-long"),
    ("/v1/feedback", {"text": "x" * 41, "labels": []}, 422, "text-too-long"),
    ("/v1/classify", {"text": "x" * 300}, 413, "body-too-large"),
])
def test_limits(make_app: Callable[..., Flask], path: str, body: dict[str, Any], status: int,
                kind: str) -> None:
    client = make_app(max_items=3, max_chars=40, max_body_bytes=256).test_client()
    assert_problem(client.post(path, json=body, headers=FEEDBACK_AUTH), status, kind)


def test_items_at_the_limits_are_accepted(make_app: Callable[..., Flask]) -> None:
    client = make_app(max_items=3, max_chars=40).test_client()
    assert client.post("/v1/classify", json={"texts": ["x" * 40] * 3}).status_code == 200


@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/nowhere", 404),
    ("POST", "/v1/classify/", 404),
    ("GET", "/v1/classify", 405),
    ("DELETE", "/v1/model", 405),
    ("PUT", "/healthz", 405),
    ("GET", "/v1/admin/reload", 405),
])
def test_unknown_routes_and_methods_are_json(client: FlaskClient, method: str, path: str, status: int) -> None:
    response = client.open(path, method=method)
    body = assert_problem(response, status)
    assert body["type"] == "about:blank"
    if status == 405:
        assert "Allow" in response.headers


def test_an_unexpected_error_is_a_500_problem_logged_with_the_request_id(
        app: Flask, capsys: pytest.CaptureFixture[str]) -> None:
    @app.get("/boom")
    def boom() -> None:
        raise RuntimeError("secret internals")

    response = app.test_client().get("/boom", headers={"X-Request-ID": "req-500"})
    body = assert_problem(response, 500, "internal-error")
    assert "secret internals" not in response.get_data(as_text=True)
    assert "req-500" in body["detail"]
    err = capsys.readouterr().err
    error_line = next(line for line in err.splitlines() if '"event": "error"' in line)
    assert '"request_id": "req-500"' in error_line and "secret internals" in error_line
    assert "Traceback" in error_line


def test_no_model_means_503_on_model_endpoints_and_readiness(make_app: Callable[..., Flask],
                                                            tmp_path: Any) -> None:
    client = make_app(artifacts=tmp_path / "empty").test_client()
    assert client.get("/healthz").status_code == 200
    for method, path, body in [("GET", "/readyz", None), ("GET", "/v1/model", None),
                               ("POST", "/v1/classify", {"text": NARCOTICS}),
                               ("POST", "/v1/feedback", {"text": NARCOTICS, "labels": []})]:
        problem = assert_problem(client.open(path, method=method, json=body, headers=FEEDBACK_AUTH), 503,
                                 "model-unavailable")
        assert "no model version is promoted" in problem["detail"]
