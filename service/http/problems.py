"""Every error becomes an RFC 9457 problem document, in one registered handler.

On the KServe V1 routes the same document also carries `error` and is sent as application/json,
the one error form KServe clients read."""

from __future__ import annotations

import json
import logging
from typing import Any

from flask import Flask, Response, request
from pydantic import ValidationError
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from coopclf.errors import ArtifactError, CoopclfError, DeadlineExceeded, InvalidInput
from coopclf.service.http.requestlog import current_request_id

PROBLEM_JSON = "application/problem+json"
TYPE_PREFIX = "urn:coopclf:problem:"
KSERVE_PREFIX = "/v1/models"
RETRY_AFTER_S = 1  # a request over its time budget may be retried this soon

# type slug -> (title, when it is used); also listed on the docs page
PROBLEM_TYPES: dict[str, tuple[str, str]] = {
    "malformed-request": ("Malformed HTTP request", "the request line, a header or the chunked encoding is malformed"),
    "request-line-too-long": ("Request line too long", "the method, path and query are over 8190 bytes"),
    "headers-too-large": ("Request headers too large", "more than 100 headers, or one over 8190 bytes"),
    "request-timeout": ("Request timeout", "the request's headers and body took over COOPCLF_READ_TIMEOUT to arrive"),
    "unsupported-transfer-coding": ("Unsupported transfer coding", "a Transfer-Encoding other than chunked"),
    "expectation-failed": ("Expectation failed", "an Expect header other than 100-continue"),
    "malformed-body": ("Malformed request body", "the body is not valid UTF-8 JSON"),
    "invalid-request": ("Invalid request", "the JSON does not match the endpoint's schema"),
    "unsupported-media-type": ("Unsupported media type", "the Content-Type is not application/json"),
    "body-too-large": ("Request body too large", "the body is over COOPCLF_MAX_BODY_BYTES"),
    "too-many-items": ("Too many items", "more texts or paragraphs than COOPCLF_MAX_ITEMS"),
    "text-too-long": ("Text too long", "a text or paragraph is over COOPCLF_MAX_CHARS characters"),
    "request-too-costly": ("Too much text in one request", "the texts' characters, counted 4 times with "
                           "explain, are over COOPCLF_MAX_REQUEST_CHARS"),
    "invalid-input": ("Invalid input", "the model cannot take the input (for example an unknown label)"),
    "model-unavailable": ("Model unavailable", "no usable model version is loaded"),
    "time-budget-exceeded": ("Time budget exceeded", "the request was still computing after "
                             "COOPCLF_REQUEST_SECONDS (the service is busy: retry after Retry-After)"),
    "unauthorized": ("Unauthorized", "the admin or feedback bearer token is missing"),
    "forbidden": ("Forbidden", "the admin or feedback bearer token is wrong"),
    "feedback-store-full": ("Feedback not stored", "the feedback file reached COOPCLF_FEEDBACK_MAX_BYTES, or "
                            "the disk refused the write; nothing was written"),
    "reload-refused": ("Reload refused", "the version CURRENT names failed to verify or load"),
    "internal-error": ("Internal server error", "a bug; the log has the request id and traceback"),
}

log = logging.getLogger("coopclf.service")


class HttpProblem(Exception):
    """An HTTP error the service raises on purpose; rendered as a problem document."""

    def __init__(self, status: int, slug: str, detail: str, *, headers: dict[str, str] | None = None,
                 **extensions: Any) -> None:
        super().__init__(detail)
        self.status = status
        self.slug = slug
        self.detail = detail
        self.headers = headers or {}
        self.extensions = extensions


def is_kserve_path(path: str) -> bool:
    """Whether `path` is under /v1/models, where errors take the KServe V1 shape (matched or not: a 404 too)."""
    return path == KSERVE_PREFIX or path.startswith(KSERVE_PREFIX + "/")


def kserve_message(detail: str, errors: Any = None) -> str:
    """The one line a KServe client shows: the detail, and which fields were wrong if any."""
    if not errors:
        return detail
    return detail + ": " + "; ".join(f"{'.'.join(e['loc']) or 'body'}: {e['msg']}" for e in errors)


def problem_document(status: int, title: str, detail: str, instance: str, request_id: str, *,
                     type_: str = "about:blank", **extensions: Any) -> tuple[dict[str, Any], str]:
    """A problem document and its media type; under /v1/models KServe's form (with `error`, application/json)."""
    body = {"type": type_, "title": title, "status": status, "detail": detail,
            "instance": instance, "request_id": request_id, **extensions}
    if not is_kserve_path(instance):
        return body, PROBLEM_JSON
    # KServe's client reads the body only when it is exactly application/json with `error`.
    return {"error": kserve_message(detail, extensions.get("errors")), **body}, "application/json"


def typed_document(status: int, slug: str, detail: str, instance: str, request_id: str,
                   **extensions: Any) -> tuple[dict[str, Any], str]:
    """The problem document of one of PROBLEM_TYPES, and its media type."""
    return problem_document(status, PROBLEM_TYPES[slug][0], detail, instance, request_id,
                            type_=TYPE_PREFIX + slug, **extensions)


def problem_response(status: int, title: str, detail: str, *, type_: str = "about:blank",
                     headers: dict[str, str] | None = None, **extensions: Any) -> Response:
    """A problem+json response; `instance` is the request path, `request_id` ties it to the log."""
    body, mimetype = problem_document(status, title, detail, request.path, current_request_id(),
                                      type_=type_, **extensions)
    response = Response(json.dumps(body), status=status, mimetype=mimetype)
    for name, value in (headers or {}).items():
        response.headers[name] = value
    return response


def _typed(status: int, slug: str, detail: str, headers: dict[str, str] | None = None,
           **extensions: Any) -> Response:
    return problem_response(status, PROBLEM_TYPES[slug][0], detail, type_=TYPE_PREFIX + slug,
                            headers=headers, **extensions)


def _validation_errors(exc: ValidationError) -> list[dict[str, Any]]:
    return [{"loc": [str(part) for part in error["loc"]], "msg": error["msg"]}
            for error in exc.errors(include_url=False, include_input=False, include_context=False)]


def handle_error(exc: Exception) -> Response:
    """Map any exception to a problem document; unexpected ones are logged with the request id."""
    if isinstance(exc, HttpProblem):
        return _typed(exc.status, exc.slug, exc.detail, exc.headers, **exc.extensions)
    if isinstance(exc, RequestEntityTooLarge):
        return _typed(413, "body-too-large", "the request body is larger than the "
                      f"{request.max_content_length} bytes this service accepts")
    if isinstance(exc, HTTPException):
        status = exc.code or 500
        allow = dict(exc.get_headers()).get("Allow")
        return problem_response(status, exc.name, exc.description or exc.name,
                                headers={"Allow": allow} if allow else None)
    if isinstance(exc, ValidationError):
        return _typed(400, "invalid-request", "the request body does not match the schema",
                      errors=_validation_errors(exc))
    if isinstance(exc, InvalidInput):
        return _typed(422, "invalid-input", str(exc))
    if isinstance(exc, ArtifactError):
        return _typed(503, "model-unavailable", str(exc))
    if isinstance(exc, DeadlineExceeded):
        return _typed(503, "time-budget-exceeded", "the request was still computing when its time budget "
                      "(COOPCLF_REQUEST_SECONDS) ran out: the service is busy; retry later, or send fewer "
                      "texts per request", {"Retry-After": str(RETRY_AFTER_S)})
    log.error({"event": "error", "request_id": current_request_id(), "method": request.method,
               "path": request.path, "error": f"{type(exc).__name__}: {exc}"},
              exc_info=None if isinstance(exc, CoopclfError) else exc)
    return _typed(500, "internal-error", "the service failed to handle this request; "
                  f"quote request id {current_request_id()} when reporting it")


def register(app: Flask) -> None:
    """Install the single error handler (it also catches werkzeug's HTTP exceptions)."""
    app.register_error_handler(Exception, handle_error)
