"""Read a request's JSON body: content type, size, UTF-8, syntax; then validate it with a schema."""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic_core
from flask import request
from gunicorn.http.errors import ParseException
from pydantic import BaseModel
from werkzeug.exceptions import HTTPException, RequestEntityTooLarge

from coopclf.service.http.problems import HttpProblem
from coopclf.service.http.schemas import DocumentRequest, TextRequest, TextsRequest
from coopclf.service.http.worker import RequestReadTimeout

M = TypeVar("M", bound=BaseModel)
_KINDS: dict[str, type[TextRequest | TextsRequest | DocumentRequest]] = {
    "text": TextRequest, "texts": TextsRequest, "document": DocumentRequest,
}


def json_body() -> Any:
    """The parsed body; 415, 413 (werkzeug, from MAX_CONTENT_LENGTH) or 400 problems otherwise."""
    mimetype = request.mimetype
    if mimetype != "application/json" and not (mimetype.startswith("application/") and mimetype.endswith("+json")):
        raise HttpProblem(415, "unsupported-media-type",
                          f"send the body as application/json, not {mimetype or 'no Content-Type'}")
    data = _read_body()
    limit = request.max_content_length
    if request.content_length is None and limit is not None and len(data) >= limit:
        raise RequestEntityTooLarge()  # a chunked body: werkzeug stops at the limit without saying so
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HttpProblem(400, "malformed-body", f"the body is not valid UTF-8 (byte {exc.start})") from None
    try:
        return pydantic_core.from_json(text, allow_inf_nan=False)
    except ValueError as exc:
        raise HttpProblem(400, "malformed-body", f"the body is not valid JSON: {exc}") from None


def _read_body() -> bytes:
    """The raw body; a client too slow to send it is a 408, a malformed chunked encoding a 400."""
    try:
        return request.get_data(cache=False)
    except HTTPException:
        raise
    except RequestReadTimeout as exc:
        raise HttpProblem(408, "request-timeout", str(exc)) from None
    except ParseException as exc:  # gunicorn's body reader: a bad chunk size, terminator or extension
        raise HttpProblem(400, "malformed-request", f"the request body could not be read: {exc}") from None


def json_object() -> dict[str, Any]:
    """The body, which must be a JSON object."""
    body = json_body()
    if not isinstance(body, dict):
        raise HttpProblem(400, "invalid-request", f"the body must be a JSON object, not {_json_type(body)}")
    return body


def validated(model: type[M]) -> M:
    """The body validated against `model` (a pydantic ValidationError becomes a 400 problem)."""
    return model.model_validate(json_object())


def classify_request() -> TextRequest | TextsRequest | DocumentRequest:
    """A /v1/classify body: exactly one of text, texts or document."""
    body = json_object()
    given = [key for key in _KINDS if key in body]
    if len(given) != 1:
        raise HttpProblem(400, "invalid-request", "give exactly one of 'text', 'texts' or 'document'"
                          + (f", not {' and '.join(given)}" if given else ""))
    return _KINDS[given[0]].model_validate(body)


def _json_type(value: Any) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    return "a boolean" if isinstance(value, bool) else "a number"
