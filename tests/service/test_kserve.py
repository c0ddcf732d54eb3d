"""KServe V1 conformance: the error shape and :explain in-process, then the official KServe SDK against gunicorn."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coopclf.predictor import Predictor
from coopclf.service.http import schemas
from tests.service.conftest import NARCOTICS, TOURISM, TRADE
from tests.service.test_gunicorn import Server, server  # noqa: F401  (the real-gunicorn fixture)

PREDICT = "/v1/models/coopclf:predict"
EXPLAIN = "/v1/models/coopclf:explain"
MODEL = "coopclf"


def assert_kserve_error(response: Any, status: int, type_: str) -> dict[str, Any]:
    """The KServe V1 error form: exactly application/json (what the SDK checks) with `error` and the problem."""
    assert response.status_code == status
    assert response.headers["Content-Type"] == "application/json"
    body = response.get_json()
    schemas.KServeError.model_validate(body)
    assert body["error"] and body["status"] == status and body["type"] == type_
    assert body["request_id"] == response.headers["X-Request-ID"]
    assert "<html" not in response.get_data(as_text=True).lower()
    return body


@pytest.mark.parametrize(("method", "path", "data", "content_type", "status", "kind", "error"), [
    ("POST", PREDICT, b"{", "application/json", 400, "malformed-body", "the body is not valid JSON"),
    ("POST", PREDICT, b'{"instances": ["ok", 3]}', "application/json", 400, "invalid-request",
     "the request body does not match the schema: instances.1.str: Input should be a valid string"),
    ("POST", EXPLAIN, b'{"inputs": ["ok"]}', "application/json", 400, "invalid-request",
     "instances: Field required"),
    ("POST", PREDICT, b'{"instances": ["ok"]}', "text/plain", 415, "unsupported-media-type",
     "send the body as application/json, not text/plain"),
    ("POST", PREDICT, b'{"instances": ["a", "b", "c", "d"]}', "application/json", 413, "too-many-items",
     "4 instances is more than the 3 this service takes in one request"),
    ("POST", EXPLAIN, b'{"instances": ["ok", "' + b"x" * 41 + b'"]}', "application/json", 422, "text-too-long",
     "instance 1 has 41 characters; the limit is 40"),
    ("GET", "/v1/models/other", None, None, 404, "about:blank", "not found"),
    ("POST", "/v1/models/other:predict", b'{"instances": ["ok"]}', "application/json", 404, "about:blank",
     "not found"),
    ("GET", "/v1/models", None, None, 404, "about:blank", "not found"),
    ("GET", PREDICT, None, None, 405, "about:blank", "not allowed"),
])
def test_errors_on_the_kserve_routes_carry_an_error_member(
        make_app: Callable[..., Flask], method: str, path: str, data: bytes | None, content_type: str | None,
        status: int, kind: str, error: str) -> None:
    client = make_app(max_items=3, max_chars=40).test_client()
    headers = {"Content-Type": content_type} if content_type else {}
    body = assert_kserve_error(client.open(path, method=method, data=data, headers=headers), status,
                               kind if kind == "about:blank" else f"urn:coopclf:problem:{kind}")
    assert error in body["error"]
    assert body["detail"] in body["error"]


def test_without_a_model_the_kserve_routes_say_so_in_their_own_shape(make_app: Callable[..., Flask],
                                                                     tmp_path: Path) -> None:
    client = make_app(artifacts=tmp_path / "empty").test_client()
    status = assert_kserve_error(client.get(f"/v1/models/{MODEL}"), 503, "urn:coopclf:problem:model-unavailable")
    assert status["name"] == MODEL and status["ready"] is False
    for path in (PREDICT, EXPLAIN):
        body = assert_kserve_error(client.post(path, json={"instances": [NARCOTICS]}), 503,
                                   "urn:coopclf:problem:model-unavailable")
        assert "no model version is promoted" in body["error"]


@pytest.mark.parametrize(("method", "path", "status"), [
    ("POST", "/v1/classify", 400),
    ("DELETE", "/v1/model", 405),  # the manifest, not a KServe route
    ("GET", "/v1/modelsx", 404),
])
def test_other_routes_keep_problem_json(client: FlaskClient, method: str, path: str, status: int) -> None:
    response = client.open(path, method=method, data=b"{", headers={"Content-Type": "application/json"})
    assert response.status_code == status
    assert response.mimetype == "application/problem+json"
    assert "error" not in response.get_json()


def test_explain_gives_the_predictions_and_the_evidence_behind_each_label(
        client: FlaskClient, tiny_predictor: Predictor) -> None:
    texts = [NARCOTICS, TRADE, "Too short."]
    response = client.post(EXPLAIN, json={"instances": [NARCOTICS, {"text": TRADE}, "Too short."]})
    assert response.status_code == 200
    body = response.get_json()
    schemas.KServeExplainResponse.model_validate(body)
    assert body["model_version"] == tiny_predictor.version
    assert body["predictions"] == client.post(PREDICT, json={"instances": texts}).get_json()["predictions"]
    expected = [p.to_dict()["evidence"] for p in tiny_predictor.predict(texts, explain=True)]
    assert [e["evidence"] for e in body["explanations"]] == expected
    assert [set(e["evidence"]) for e in body["explanations"]] == [{"narcotics"}, {"trade"}, set()]
    for text, explanation in zip(texts, body["explanations"]):
        for items in explanation["evidence"].values():
            assert items and all(item["weight"] > 0 for item in items)
            for item in items:
                for start, end in item["spans"]:
                    assert text[start:end].lower() == item["ngram"].strip()


@pytest.fixture
def kserve() -> ModuleType:
    """The official KServe Python SDK (the `test` extra; imported here because it takes ~1.4 s)."""
    import kserve

    return kserve


def sdk_client(kserve: ModuleType) -> Any:
    """KServe's REST client speaking V1, as a KServe user would build it."""
    return kserve.InferenceRESTClient(kserve.RESTConfig(protocol="v1", timeout=30))


def test_the_kserve_sdk_checks_liveness_readiness_and_infers_and_explains(
        kserve: ModuleType, server: Server) -> None:  # noqa: F811  (server is the imported fixture)
    base = f"http://127.0.0.1:{server.port}"

    async def session() -> tuple[bool, bool, dict[str, Any], dict[str, Any]]:
        async with sdk_client(kserve) as client:
            return (await client.is_server_live(base), await client.is_model_ready(base, MODEL),
                    await client.infer(base, {"instances": [NARCOTICS, {"text": TRADE}, TOURISM]}, MODEL),
                    await client.explain(base, MODEL, {"instances": [NARCOTICS]}))

    live, ready, inferred, explained = asyncio.run(session())
    assert live is True and ready is True
    # V1 has no metadata call in the SDK: the status document is the model's metadata.
    status, headers, metadata = server.call("GET", f"/v1/models/{MODEL}")
    assert status == 200 and headers["Content-Type"] == "application/json"
    assert metadata == {"name": MODEL, "ready": True, "version": inferred["model_version"]}
    assert [p["labels"] for p in inferred["predictions"]] == [["narcotics"], ["trade"], ["tourism"]]
    assert explained["predictions"][0]["labels"] == ["narcotics"]
    [narcotics] = explained["explanations"]
    for item in narcotics["evidence"]["narcotics"]:
        assert all(NARCOTICS[start:end].lower() == item["ngram"].strip() for start, end in item["spans"])


@pytest.mark.parametrize("call", ["infer", "explain"])
def test_the_kserve_sdk_user_reads_why_a_request_failed(kserve: ModuleType, server: Server,  # noqa: F811
                                                        call: str) -> None:
    import httpx  # the SDK's HTTP library; it raises httpx.HTTPStatusError

    base = f"http://127.0.0.1:{server.port}"
    cases = [  # (model name, body, status, what the user must read)
        (MODEL, {"instances": [NARCOTICS, 3]}, 400, "instances.1.str: Input should be a valid string"),
        (MODEL, {"instances": ["x" * 50_001]}, 422, "instance 0 has 50001 characters; the limit is 50000"),
        ("other", {"instances": [NARCOTICS]}, 404, "The requested URL was not found on the server"),
    ]

    async def failures() -> list[httpx.HTTPStatusError]:
        caught = []
        async with sdk_client(kserve) as client:
            for model, body, _, _ in cases:
                with pytest.raises(httpx.HTTPStatusError) as raised:
                    if call == "infer":
                        await client.infer(base, body, model)
                    else:
                        await client.explain(base, model, body)
                caught.append(raised.value)
        return caught

    for (_, _, status, message), error in zip(cases, asyncio.run(failures())):
        assert error.response.status_code == status
        text = str(error)  # the SDK's "{error}, '{status} {reason}' for url '...'"
        assert message in text and not text.startswith(", "), text
