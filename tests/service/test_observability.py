"""Request ids, the one-line-per-request log, /metrics, /v1/model, /healthz and /readyz."""

from __future__ import annotations

import json

import pytest
from flask.testing import FlaskClient

from coopclf.predictor import Predictor
from coopclf.service.http import schemas
from tests.service.conftest import NARCOTICS, TRADE


def log_lines(err: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in err.splitlines() if line.startswith("{")]


def test_each_request_logs_one_structured_line(client: FlaskClient, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    response = client.post("/v1/classify", json={"texts": [NARCOTICS, TRADE]})
    client.post("/v1/classify", data="{", headers={"Content-Type": "application/json"})
    lines = [line for line in log_lines(capsys.readouterr().err) if "path" in line]
    assert len(lines) == 2
    first, second = lines
    assert first["method"] == "POST" and first["path"] == "/v1/classify"
    assert first["status"] == 200 and first["items"] == 2
    assert first["request_id"] == response.headers["X-Request-ID"]
    assert isinstance(first["ms"], float) and first["ms"] >= 0
    assert second["status"] == 400 and second["items"] == 0


@pytest.mark.parametrize(("sent", "echoed"), [
    ("abc-123", True),
    ("7f9c2ba4-e88f-11e9-81b4-2a2ae2dbcce4", True),
    ("bad id with spaces", False),
    ("x" * 200, False),
    ("", False),
])
def test_request_ids_are_echoed_when_sane_else_generated(client: FlaskClient, sent: str, echoed: bool) -> None:
    response = client.get("/healthz", headers={"X-Request-ID": sent})
    returned = response.headers["X-Request-ID"]
    assert (returned == sent) is echoed
    assert returned and len(returned) <= 128


def metric(text: str, sample: str) -> float:
    for line in text.splitlines():
        if line.startswith(sample + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{sample} not in the metrics:\n{text}")


def test_metrics_count_requests_paragraphs_labels_and_latency(client: FlaskClient,
                                                              tiny_predictor: Predictor) -> None:
    client.post("/v1/classify", json={"texts": [NARCOTICS, TRADE, "Too short."]})
    client.post("/v1/classify", json={"text": NARCOTICS})
    client.post("/v1/classify", data="{", headers={"Content-Type": "application/json"})
    client.get("/no/such/page")
    response = client.get("/metrics")
    assert response.status_code == 200
    assert response.mimetype == "text/plain"
    text = response.get_data(as_text=True)
    assert metric(text, 'coopclf_http_requests_total{endpoint="/v1/classify",method="POST",status="200"}') == 2
    assert metric(text, 'coopclf_http_requests_total{endpoint="/v1/classify",method="POST",status="400"}') == 1
    assert metric(text, 'coopclf_http_requests_total{endpoint="unmatched",method="GET",status="404"}') == 1
    assert metric(text, 'coopclf_http_request_duration_seconds_count{endpoint="/v1/classify"}') == 3
    assert metric(text, "coopclf_paragraphs_classified_total") == 4
    assert metric(text, 'coopclf_labels_assigned_total{label="narcotics"}') == 2
    assert metric(text, 'coopclf_labels_assigned_total{label="trade"}') == 1
    assert metric(text, 'coopclf_abstentions_total{reason="too_short"}') == 1
    info = (f'coopclf_model_info{{data_hash="{tiny_predictor.data_hash}",'
            f'version="{tiny_predictor.version}"}}')
    assert metric(text, info) == 1


def test_model_metadata_comes_from_the_manifest(client: FlaskClient, tiny_predictor: Predictor) -> None:
    body = client.get("/v1/model").get_json()
    schemas.ModelInfo.model_validate(body)
    manifest = tiny_predictor.manifest
    assert body["version"] == tiny_predictor.version
    assert body["labels"] == list(tiny_predictor.labels)
    assert body["display_names"]["trade"] == "Trade and investment"
    assert body["trained_at"] == manifest["created_at"]
    assert body["data_hash"] == manifest["data_hash"]
    assert body["metrics"]["cv"]["macro_f1"] == manifest["cv_metrics"]["macro_f1"]
    assert body["metrics"]["holdout"] == manifest["holdout_metrics"]
    assert body["training_data"] == manifest["training_data"]
    assert body["pooling"] == manifest["pooling"]
    assert body["thresholds"] == pytest.approx(manifest["thresholds"], abs=1e-4)


def test_health_and_readiness(client: FlaskClient, tiny_predictor: Predictor) -> None:
    assert client.get("/healthz").get_json() == {"status": "ok"}
    assert client.get("/readyz").get_json() == {"status": "ready", "model_version": tiny_predictor.version}
