"""The JSON endpoints: classify, KServe V1, model metadata, health, metrics, docs; feedback in its own Blueprint."""

from __future__ import annotations

import datetime
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import orjson
from flask import Blueprint, Response, current_app, request

from coopclf.countries import country_name
from coopclf.dates import leading_date, parse_date
from coopclf.errors import DeadlineExceeded, InvalidInput
from coopclf.labels import display_name, normalise_labels
from coopclf.predictor import Prediction
from coopclf.service.http import schemas
from coopclf.service.http.auth import require_bearer
from coopclf.service.http.feedback import FeedbackNotStored
from coopclf.service.http.model_holder import PROBE_TEXT, ServedModel
from coopclf.service.http.openapi import Operation, build_spec, docs_html, documented
from coopclf.service.http.parsing import classify_request, validated
from coopclf.service.http.problems import HttpProblem
from coopclf.service.http.requestlog import ITEMS, STARTED
from coopclf.service.http.state import ServiceState, state
from coopclf.splitter import normalise_whitespace, split_paragraphs

KSERVE_NAME = "coopclf"
INPUT_ERRORS = (400, 413, 415, 422, 503)
EXPLAIN_COST = 4  # an explained character counts this many times against COOPCLF_MAX_REQUEST_CHARS
SPEC = "coopclf.openapi"

api = Blueprint("api", __name__)
# Registered only when a feedback token is configured: otherwise the route is a 404.
feedback_api = Blueprint("feedback", __name__)


def json_response(body: Any, status: int = 200) -> Response:
    """A compact application/json response (orjson: ~10x faster than json for 100 results)."""
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def render(prediction: Prediction, served: ServedModel, shift: int = 0) -> dict[str, Any]:
    """A Prediction as the API's result object: its JSON form plus the thresholds used."""
    out = prediction.to_dict(shift)
    out["thresholds"] = served.thresholds
    return out


def _check_texts(current: ServiceState, texts: Sequence[str], what: str = "text", explain: bool = False) -> None:
    request.environ[ITEMS] = len(texts)
    settings = current.settings
    if len(texts) > settings.max_items:
        raise HttpProblem(413, "too-many-items", f"{len(texts)} {what}s is more than the "
                          f"{settings.max_items} this service takes in one request")
    for i, text in enumerate(texts):
        if len(text) > settings.max_chars:
            raise HttpProblem(422, "text-too-long", f"{what} {i} has {len(text)} characters; the "
                              f"limit is {settings.max_chars}", index=i)
    cost = _cost(texts, explain)
    if cost > settings.max_request_chars:
        counted = f" ({EXPLAIN_COST} per character with explain)" if explain else ""
        raise HttpProblem(413, "request-too-costly", f"the {what}s of this request count {cost:,} characters"
                          f"{counted}, more than the {settings.max_request_chars:,} one request may have "
                          "(COOPCLF_MAX_REQUEST_CHARS); send fewer or shorter texts per request",
                          cost=cost, limit=settings.max_request_chars)


def _cost(texts: Sequence[str], explain: bool) -> int:
    """What texts count against COOPCLF_MAX_REQUEST_CHARS: their characters, EXPLAIN_COST times with explain."""
    return sum(map(len, texts)) * (EXPLAIN_COST if explain else 1)


def _deadline(current: ServiceState) -> float:
    """When this request must stop computing: COOPCLF_REQUEST_SECONDS after it arrived (time.monotonic)."""
    arrived = request.environ.get(STARTED)
    waited = time.perf_counter() - arrived if arrived is not None else 0.0
    return time.monotonic() + current.settings.request_seconds - waited


@contextmanager
def _computing(current: ServiceState, texts: Sequence[str], explain: bool) -> Iterator[float]:
    """The request's deadline; a request costing more than one longest text first waits, until
    then, for the process's compute slot (small ones go ahead, never stuck behind a large one)."""
    deadline = _deadline(current)
    if _cost(texts, explain) <= current.settings.max_chars:
        yield deadline
        return
    if not current.computing.acquire(timeout=max(0.0, deadline - time.monotonic())):
        raise DeadlineExceeded("the deadline passed while the request waited for the model")
    try:
        yield deadline
    finally:
        current.computing.release()


def _predict(current: ServiceState, served: ServedModel, texts: list[str], explain: bool) -> list[Prediction]:
    with _computing(current, texts, explain) as deadline:
        predictions = served.predictor.predict(texts, explain=explain, deadline=deadline)
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
    _check_texts(current, texts, explain=body.explain)
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
    texts = [p.text for p in paragraphs]
    _check_texts(current, texts, "paragraph", explain=body.explain)
    date = _date(body.date) or leading_date(body.document)
    with _computing(current, texts, body.explain) as deadline:
        document = served.predictor.classify_paragraphs(paragraphs, explain=body.explain, date=date,
                                                        deadline=deadline)
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
    predictions = _predict(current, served, _kserve_instances(current, False), False)
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
    predictions = _predict(current, served, _kserve_instances(current, True), True)
    results = [p.to_dict() for p in predictions]
    return json_response({
        "predictions": [{k: v for k, v in result.items() if k != "evidence"} for result in results],
        "explanations": [{"evidence": result.get("evidence", {})} for result in results],
        "model_version": served.version, "data_hash": served.data_hash,
    })


def _kserve_instances(current: ServiceState, explain: bool) -> list[str]:
    body = validated(schemas.KServePredictRequest)
    texts = [item if isinstance(item, str) else item.text for item in body.instances]
    _check_texts(current, texts, "instance", explain)
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


@feedback_api.post("/v1/feedback")
@documented(Operation(
    "Record an analyst's labels for a text", "feedback", schemas.FeedbackResponse,
    schemas.FeedbackRequest, status=201, errors=(*INPUT_ERRORS, 401, 403, 507), bearer="feedbackToken",
    description="Needs `Authorization: Bearer <COOPCLF_FEEDBACK_TOKEN>`. "
                "Appended (never rewritten) to <COOPCLF_FEEDBACK_DIR>/feedback.csv in the "
                "text,labels layout that `coopclf train --data` reads."))
def feedback() -> Response:
    current = state()
    token = current.settings.feedback_token
    assert token is not None  # the blueprint is registered only with a token
    require_bearer(token, "COOPCLF_FEEDBACK_TOKEN", "coopclf feedback")
    served = current.served()
    body = validated(schemas.FeedbackRequest)
    text = normalise_whitespace(body.text)
    request.environ[ITEMS] = 1
    if not text:
        raise InvalidInput("text is empty")
    _check_texts(current, [text])
    given = normalise_labels(body.labels, served.labels)
    labels = [label for label in served.labels if label in given]
    try:
        current.feedback.append(text, labels)
    except FeedbackNotStored as exc:
        raise HttpProblem(507, "feedback-store-full", str(exc)) from None
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
