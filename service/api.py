"""The JSON endpoints: classify, KServe V1, model metadata, health, feedback, metrics, docs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson
from flask import Flask, Response, request

from classifier import InvalidInput, Prediction, display_name, normalise_label, split_paragraphs
from service import schemas
from service.feedback import normalise_text
from service.model_holder import PROBE_TEXT, ServedModel
from service.openapi import Operation, build_spec, docs_html, documented
from service.parsing import classify_request, validated
from service.problems import Problem
from service.requestlog import ITEMS
from service.state import ServiceState

KSERVE_NAME = "coopclf"
INPUT_ERRORS = (400, 413, 415, 422, 503)


def json_response(body: Any, status: int = 200) -> Response:
    """A compact application/json response (orjson: ~10x faster than json for 100 results)."""
    return Response(orjson.dumps(body), status=status, mimetype="application/json")


def render(prediction: Prediction, served: ServedModel, shift: int = 0) -> dict[str, Any]:
    """A Prediction as the API's result object; evidence offsets moved by `shift`."""
    out: dict[str, Any] = {"labels": list(prediction.labels), "scores": prediction.scores,
                           "thresholds": served.thresholds, "abstained": prediction.abstained}
    if prediction.evidence is not None:
        out["evidence"] = {
            label: [{"ngram": e.ngram, "weight": e.weight,
                     "spans": [[start + shift, end + shift] for start, end in e.spans]} for e in items]
            for label, items in prediction.evidence.items()
        }
    return out


def register(app: Flask, state: ServiceState) -> None:
    """Add the endpoints to `app`."""
    settings = state.settings
    metrics = state.metrics

    def check_texts(texts: Sequence[str], what: str = "text") -> None:
        request.environ[ITEMS] = len(texts)
        if len(texts) > settings.max_items:
            raise Problem(413, "too-many-items", f"{len(texts)} {what}s is more than the "
                          f"{settings.max_items} this service takes in one request")
        for i, text in enumerate(texts):
            if len(text) > settings.max_chars:
                raise Problem(422, "text-too-long", f"{what} {i} has {len(text)} characters; the "
                              f"limit is {settings.max_chars}", index=i)

    def predict(served: ServedModel, texts: list[str], explain: bool) -> list[Prediction]:
        predictions = served.predictor.predict(texts, explain=explain)
        metrics.observe_predictions(predictions)
        return predictions

    @documented(Operation(
        "Label a text, several texts, or every paragraph of a document", "classify",
        schemas.ClassifyResponse, schemas.ClassifyRequest, errors=INPUT_ERRORS,
        description="Send exactly one of `text`, `texts` or `document`. Each result has the assigned "
                    "labels, the probability of every label and the thresholds used; with "
                    "`explain: true` also the n-grams behind each label with character offsets."))
    def classify() -> Response:
        served = state.served()
        body = classify_request()
        if isinstance(body, schemas.DocumentRequest):
            return classify_document(served, body)
        texts = [body.text] if isinstance(body, schemas.TextRequest) else body.texts
        check_texts(texts)
        predictions = predict(served, texts, body.explain)
        return json_response({"model_version": served.version, "data_hash": served.data_hash,
                              "results": [render(p, served) for p in predictions]})

    def classify_document(served: ServedModel, body: schemas.DocumentRequest) -> Response:
        paragraphs = split_paragraphs(body.document)
        check_texts([p.text for p in paragraphs], "paragraph")
        predictions = predict(served, [p.text for p in paragraphs], body.explain)
        carriers: dict[str, list[int]] = {label: [] for label in served.labels}
        results = []
        for paragraph, prediction in zip(paragraphs, predictions):
            for label in prediction.labels:
                carriers[label].append(paragraph.index)
            results.append({"index": paragraph.index, "start": paragraph.start, "end": paragraph.end,
                            **render(prediction, served, shift=paragraph.start)})
        found = {label: indices for label, indices in carriers.items() if indices}
        return json_response({
            "model_version": served.version, "data_hash": served.data_hash, "paragraphs": results,
            "summary": {"labels": list(found), "paragraphs": found, "paragraph_count": len(paragraphs),
                        "abstained_count": sum(p.abstained is not None for p in predictions)},
        })

    @documented(Operation("KServe V1 inference", "kserve", schemas.KServePredictResponse,
                          schemas.KServePredictRequest, errors=INPUT_ERRORS))
    def kserve_predict() -> Response:
        served = state.served()
        body = validated(schemas.KServePredictRequest)
        texts = [item if isinstance(item, str) else item.text for item in body.instances]
        check_texts(texts, "instance")
        predictions = predict(served, texts, False)
        return json_response({
            "predictions": [{"labels": list(p.labels), "scores": p.scores, "abstained": p.abstained}
                            for p in predictions],
            "model_version": served.version, "data_hash": served.data_hash,
        })

    @documented(Operation("KServe V1 model status", "kserve", schemas.KServeModelStatus, errors=(503,)))
    def kserve_status() -> Response:
        served = state.holder.current
        if served is None:
            raise Problem(503, "model-unavailable", f"no model is loaded: {state.holder.error}",
                          name=KSERVE_NAME, ready=False)
        return json_response({"name": KSERVE_NAME, "ready": True, "version": served.version})

    @documented(Operation("The served model version's metadata", "model", schemas.ModelInfo, errors=(503,)))
    def model_info() -> Response:
        served = state.served()
        manifest = served.predictor.manifest
        metrics_: dict[str, Any] = {}
        if "cv_metrics" in manifest:
            metrics_["cv"] = manifest["cv_metrics"]
        if "holdout_metrics" in manifest:
            metrics_["holdout"] = manifest["holdout_metrics"]
        return json_response({
            "version": served.version, "labels": list(served.labels),
            "display_names": {label: display_name(label) for label in served.labels},
            "thresholds": served.thresholds, "trained_at": manifest.get("created_at"),
            "data_hash": served.data_hash, "training_data": manifest.get("training_data", []),
            "metrics": metrics_, "params": manifest.get("params", {}),
            "pooling": served.predictor.pooling,
            "environment": manifest.get("environment", {}), "model_sha256": manifest["model_sha256"],
        })

    @documented(Operation("Liveness: the process answers", "health", schemas.Health))
    def healthz() -> Response:
        return json_response({"status": "ok"})

    @documented(Operation("Readiness: a model is loaded and predicts", "health", schemas.Readiness,
                          errors=(503,)))
    def readyz() -> Response:
        served = state.served()
        served.predictor.predict([PROBE_TEXT])
        return json_response({"status": "ready", "model_version": served.version})

    @documented(Operation(
        "Record an analyst's labels for a text", "feedback", schemas.FeedbackResponse,
        schemas.FeedbackRequest, status=201, errors=INPUT_ERRORS,
        description="Appended (never rewritten) to <COOPCLF_FEEDBACK_DIR>/feedback.csv in the "
                    "text,labels layout that `coopclf train --data` reads."))
    def feedback() -> Response:
        served = state.served()
        body = validated(schemas.FeedbackRequest)
        text = normalise_text(body.text)
        request.environ[ITEMS] = 1
        if not text:
            raise InvalidInput("text is empty")
        check_texts([text])
        given = {normalise_label(raw, served.labels) for raw in body.labels if raw.strip()}
        labels = [label for label in served.labels if label in given]
        state.feedback.append(text, labels)
        metrics.feedback.inc()
        return json_response({"recorded": True, "text": text, "labels": labels,
                              "model_version": served.version}, status=201)

    @documented(Operation("Prometheus metrics, aggregated across workers", "operations",
                          media_type="text/plain"))
    def metrics_view() -> Response:
        body, content_type = metrics.render()
        return Response(body, content_type=content_type)

    spec: dict[str, Any] = {}

    def openapi_json() -> Response:
        if not spec:
            spec.update(build_spec(app))
        return json_response(spec)

    def docs() -> Response:
        if not spec:
            spec.update(build_spec(app))
        return Response(docs_html(spec), mimetype="text/html")

    routes = [
        ("/v1/classify", classify, "POST"),
        ("/v1/models/coopclf:predict", kserve_predict, "POST"),
        ("/v1/models/coopclf", kserve_status, "GET"),
        ("/v1/model", model_info, "GET"),
        ("/v1/feedback", feedback, "POST"),
        ("/healthz", healthz, "GET"),
        ("/readyz", readyz, "GET"),
        ("/metrics", metrics_view, "GET"),
        ("/openapi.json", openapi_json, "GET"),
        ("/docs", docs, "GET"),
    ]
    for path, view, method in routes:
        app.add_url_rule(path, view.__name__, view, methods=[method])
