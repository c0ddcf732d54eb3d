"""The JSON endpoints as one Blueprint: classify, KServe V1, model metadata, health, feedback, metrics, docs."""

from __future__ import annotations

import datetime
from collections.abc import Iterable, Sequence
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request

from coopclf.countries import country_name
from coopclf.dates import leading_date, parse_date
from coopclf.errors import InvalidInput
from coopclf.labels import display_name, normalise_labels
from coopclf.predictor import Prediction
from coopclf.service.http import schemas
from coopclf.service.http.model_holder import PROBE_TEXT, ServedModel
from coopclf.service.http.openapi import Operation, build_spec, docs_html, documented
from coopclf.service.http.parsing import classify_request, validated
from coopclf.service.http.problems import HttpProblem
from coopclf.service.http.requestlog import ITEMS
from coopclf.service.http.state import ServiceState, state
from coopclf.splitter import normalise_whitespace, split_paragraphs

KSERVE_NAME = "coopclf"
INPUT_ERRORS = (400, 413, 415, 422, 503)
SPEC = "coopclf.openapi"

api = Blueprint("api", __name__)


def json_response(body: Any, status: int = 200) -> Response:
    """A compact application/json response (orjson: ~10x faster than json for 100 results)."""
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def render(prediction: Prediction, served: ServedModel, shift: int = 0) -> dict[str, Any]:
    """A Prediction as the API's result object: its JSON form plus the thresholds used."""
    out = prediction.to_dict(shift)
    out["thresholds"] = served.thresholds
    return out


def _check_texts(current: ServiceState, texts: Sequence[str], what: str = "text") -> None:
    request.environ[ITEMS] = len(texts)
    settings = current.settings
    if len(texts) > settings.max_items:
        raise HttpProblem(413, "too-many-items", f"{len(texts)} {what}s is more than the "
                          f"{settings.max_items} this service takes in one request")
    for i, text in enumerate(texts):
        if len(text) > settings.max_chars:
            raise HttpProblem(422, "text-too-long", f"{what} {i} has {len(text)} characters; the "
                              f"limit is {settings.max_chars}", index=i)


def _predict(current: ServiceState, served: ServedModel, texts: list[str], explain: bool) -> list[Prediction]:
    predictions = served.predictor.predict(texts, explain=explain)
    current.metrics.observe_predictions(predictions)
    return predictions


@api.post("/v1/classify")
@documented(Operation(
    "Label a text, several texts, or every paragraph of a document", "classify",
    schemas.ClassifyResponse, schemas.ClassifyRequest, errors=INPUT_ERRORS,
    description="Send exactly one of `text`, `texts` or `document`. Each result has the assigned "
                "labels, the probability of every label and the thresholds used; with "
                "`explain: true` also the n-grams behind each label with character offsets."))
def classify() -> Response:
    current = state()
    served = current.served()
    body = classify_request()
    if isinstance(body, schemas.DocumentRequest):
        return _classify_document(current, served, body)
    texts = [body.text] if isinstance(body, schemas.TextRequest) else body.texts
    _check_texts(current, texts)
    date = _date(body.date)
    predictions = _predict(current, served, texts, body.explain)
    return json_response({"model_version": served.version, "data_hash": served.data_hash,
                          "date": date.isoformat() if date else None,
                          "country_names": _country_names(p.countries for p in predictions),
                          "results": [render(p, served) for p in predictions]})


def _date(value: str | None) -> datetime.date | None:
    """The request's date; an unparseable one is a 422 naming the field."""
    if value is None:
        return None
    try:
        return parse_date(value)
    except InvalidInput as exc:
        raise InvalidInput(f"date: {exc}") from None


def _country_names(found: Iterable[dict[str, Any]]) -> dict[str, str]:
    return {code: country_name(code) for countries in found for code in countries}


def _classify_document(current: ServiceState, served: ServedModel, body: schemas.DocumentRequest) -> Response:
    paragraphs = split_paragraphs(body.document)
    _check_texts(current, [p.text for p in paragraphs], "paragraph")
    document = served.predictor.classify_paragraphs(paragraphs, explain=body.explain,
                                                    date=_date(body.date) or leading_date(body.document))
    current.metrics.observe_predictions([prediction for _, prediction in document.paragraphs])
    out = document.to_dict()
    for result in out["paragraphs"]:
        result["thresholds"] = served.thresholds
    names = _country_names([dict.fromkeys(document.parties)] + [p.countries for _, p in document.paragraphs])
    return json_response({"model_version": served.version, "data_hash": served.data_hash,
                          "country_names": names, **out})


@api.post(f"/v1/models/{KSERVE_NAME}:predict")
@documented(Operation("KServe V1 inference", "kserve", schemas.KServePredictResponse,
                      schemas.KServePredictRequest, errors=INPUT_ERRORS, error_model=schemas.KServeError))
def kserve_predict() -> Response:
    current = state()
    served = current.served()
    predictions = _predict(current, served, _kserve_instances(current), False)
    return json_response({
        "predictions": [p.to_dict() for p in predictions],
        "model_version": served.version, "data_hash": served.data_hash,
    })


@api.post(f"/v1/models/{KSERVE_NAME}:explain")
@documented(Operation(
    "KServe V1 explanation", "kserve", schemas.KServeExplainResponse, schemas.KServePredictRequest,
    errors=INPUT_ERRORS, error_model=schemas.KServeError,
    description="The predictions of `:predict` and, in the same order, the n-grams behind each "
                "assigned label with their weights and character offsets into the instance's text."))
def kserve_explain() -> Response:
    current = state()
    served = current.served()
    predictions = _predict(current, served, _kserve_instances(current), True)
    results = [p.to_dict() for p in predictions]
    return json_response({
        "predictions": [{k: v for k, v in result.items() if k != "evidence"} for result in results],
        "explanations": [{"evidence": result.get("evidence", {})} for result in results],
        "model_version": served.version, "data_hash": served.data_hash,
    })


def _kserve_instances(current: ServiceState) -> list[str]:
    body = validated(schemas.KServePredictRequest)
    texts = [item if isinstance(item, str) else item.text for item in body.instances]
    _check_texts(current, texts, "instance")
    return texts


@api.get(f"/v1/models/{KSERVE_NAME}")
@documented(Operation("KServe V1 model status", "kserve", schemas.KServeModelStatus, errors=(503,),
                      error_model=schemas.KServeError))
def kserve_status() -> Response:
    holder = state().holder
    served = holder.current
    if served is None:
        raise HttpProblem(503, "model-unavailable", f"no model is loaded: {holder.error}",
                          name=KSERVE_NAME, ready=False)
    return json_response({"name": KSERVE_NAME, "ready": True, "version": served.version})


@api.get("/v1/model")
@documented(Operation("The served model version's metadata", "model", schemas.ModelInfo, errors=(503,)))
def model_info() -> Response:
    served = state().served()
    manifest = served.predictor.manifest
    metrics: dict[str, Any] = {}
    if "cv_metrics" in manifest:
        metrics["cv"] = manifest["cv_metrics"]
    if "holdout_metrics" in manifest:
        metrics["holdout"] = manifest["holdout_metrics"]
    return json_response({
        "version": served.version, "labels": list(served.labels),
        "display_names": {label: display_name(label) for label in served.labels},
        "thresholds": served.thresholds, "trained_at": manifest.get("created_at"),
        "data_hash": served.data_hash, "training_data": manifest.get("training_data", []),
        "metrics": metrics, "params": manifest.get("params", {}),
        "pooling": served.predictor.pooling,
        "environment": manifest.get("environment", {}), "model_sha256": manifest["model_sha256"],
    })


@api.get("/healthz")
@documented(Operation("Liveness: the process answers", "health", schemas.Health))
def healthz() -> Response:
    return json_response({"status": "ok"})


@api.get("/readyz")
@documented(Operation("Readiness: a model is loaded and predicts", "health", schemas.Readiness,
                      errors=(503,)))
def readyz() -> Response:
    served = state().served()
    served.predictor.predict([PROBE_TEXT])
    return json_response({"status": "ready", "model_version": served.version})


@api.post("/v1/feedback")
@documented(Operation(
    "Record an analyst's labels for a text", "feedback", schemas.FeedbackResponse,
    schemas.FeedbackRequest, status=201, errors=INPUT_ERRORS,
    description="Appended (never rewritten) to <COOPCLF_FEEDBACK_DIR>/feedback.csv in the "
                "text,labels layout that `coopclf train --data` reads."))
def feedback() -> Response:
    current = state()
    served = current.served()
    body = validated(schemas.FeedbackRequest)
    text = normalise_whitespace(body.text)
    request.environ[ITEMS] = 1
    if not text:
        raise InvalidInput("text is empty")
    _check_texts(current, [text])
    given = normalise_labels(body.labels, served.labels)
    labels = [label for label in served.labels if label in given]
    current.feedback.append(text, labels)
    current.metrics.feedback.inc()
    return json_response({"recorded": True, "text": text, "labels": labels,
                          "model_version": served.version}, status=201)


@api.get("/metrics")
@documented(Operation("Prometheus metrics, aggregated across workers", "operations", media_type="text/plain"))
def metrics() -> Response:
    body, content_type = state().metrics.render()
    return Response(body, content_type=content_type)


def _spec() -> dict[str, Any]:
    spec = current_app.extensions.get(SPEC)
    if spec is None:
        spec = current_app.extensions[SPEC] = build_spec(current_app)
    return spec


@api.get("/openapi.json")
def openapi_json() -> Response:
    return json_response(_spec())


@api.get("/docs")
def docs() -> Response:
    return Response(docs_html(_spec()), mimetype="text/html")
