"""Generate the OpenAPI document from the routes and their pydantic schemas, and a docs page from it."""

from __future__ import annotations

import html
import json
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import PackageNotFoundError, version
from typing import Any, TypeVar

from flask import Flask
from pydantic import BaseModel
from pydantic.json_schema import models_json_schema

from coopclf.service.http import schemas
from coopclf.service.http.problems import PROBLEM_JSON, PROBLEM_TYPES, TYPE_PREFIX

F = TypeVar("F", bound=Callable[..., Any])
REF = "#/components/schemas/{model}"
SECURITY_SCHEMES = {"adminToken": "COOPCLF_ADMIN_TOKEN", "feedbackToken": "COOPCLF_FEEDBACK_TOKEN"}
STATUS_TEXT = {
    400: "Malformed JSON, invalid UTF-8 or a body that does not match the schema",
    401: "Missing bearer token", 403: "Wrong bearer token", 409: "The version CURRENT names was refused",
    413: "Body over COOPCLF_MAX_BODY_BYTES, more items than COOPCLF_MAX_ITEMS, or more characters than "
         "COOPCLF_MAX_REQUEST_CHARS (explained ones count 4 times)",
    415: "Content-Type is not application/json",
    422: "A text over COOPCLF_MAX_CHARS, or input the model cannot take (e.g. an unknown label)",
    503: "No usable model is loaded, or the request ran past COOPCLF_REQUEST_SECONDS (see Retry-After)",
    507: "The feedback file is at COOPCLF_FEEDBACK_MAX_BYTES, or the disk refused the write; nothing was written",
    404: "No such route (or the admin endpoint is off)", 405: "Method not allowed; see the Allow header",
    500: "A bug: the log has the request id and traceback",
}


@dataclass(frozen=True)
class Operation:
    """What the OpenAPI document says about one route."""

    summary: str
    tag: str
    response: type[BaseModel] | None = None
    request: type[BaseModel] | None = None
    status: int = 200
    errors: tuple[int, ...] = ()
    media_type: str = "application/json"
    description: str = ""
    bearer: str | None = None  # the security scheme: "adminToken" or "feedbackToken"
    extra_responses: tuple[tuple[int, str, type[BaseModel]], ...] = ()
    error_model: type[BaseModel] = schemas.ProblemDetails  # KServeError on the KServe routes


def documented(operation: Operation) -> Callable[[F], F]:
    """Attach `operation` to a view function so the generator can find it."""
    def mark(view: F) -> F:
        view.openapi = operation  # type: ignore[attr-defined]
        return view
    return mark


def _package_version() -> str:
    try:
        return version("coopclf")
    except PackageNotFoundError:
        return "0"


def build_spec(app: Flask) -> dict[str, Any]:
    """The OpenAPI 3.1 document of every documented route of `app`."""
    operations: list[tuple[str, str, Operation]] = []
    for rule in sorted(app.url_map.iter_rules(), key=lambda r: r.rule):
        operation = getattr(app.view_functions[rule.endpoint], "openapi", None)
        if operation is None:
            continue
        for method in sorted((rule.methods or set()) - {"HEAD", "OPTIONS"}):
            operations.append((rule.rule, method.lower(), operation))
    models: set[type[BaseModel]] = {schemas.ProblemDetails}
    for _, _, op in operations:
        models.update(m for m in (op.request, op.response) if m is not None)
        models.update(m for _, _, m in op.extra_responses)
        models.add(op.error_model)
    ordered = sorted(models, key=lambda m: m.__name__)
    keys, defs = models_json_schema([(m, "validation") for m in ordered], ref_template=REF)
    refs = {model: keys[(model, "validation")] for model in ordered}
    paths: dict[str, dict[str, Any]] = {}
    for path, method, op in operations:
        paths.setdefault(path, {})[method] = _operation(op, refs)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "coopclf",
            "version": _package_version(),
            "description": "Label news paragraphs with the international cooperation areas they "
                           "discuss. Errors are RFC 9457 problem documents (application/problem+json); "
                           "under /v1/models the same fields plus KServe's `error`, as application/json.",
        },
        "paths": paths,
        "components": {
            "schemas": defs.get("$defs", {}),
            "securitySchemes": {name: {"type": "http", "scheme": "bearer", "description": variable}
                                for name, variable in SECURITY_SCHEMES.items()},
        },
    }


def _operation(op: Operation, refs: dict[type[BaseModel], dict[str, Any]]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if op.response is not None:
        responses[str(op.status)] = {"description": op.response.__doc__ or "OK",
                                     "content": {op.media_type: {"schema": refs[op.response]}}}
    else:
        responses[str(op.status)] = {"description": "OK", "content": {op.media_type: {"schema": {"type": "string"}}}}
    for status, description, model in op.extra_responses:
        media = PROBLEM_JSON if model is schemas.ProblemDetails else "application/json"
        responses[str(status)] = {"description": description, "content": {media: {"schema": refs[model]}}}
    error_media = PROBLEM_JSON if op.error_model is schemas.ProblemDetails else "application/json"
    for status in sorted({*op.errors, 404, 405, 500}):
        if str(status) not in responses:
            responses[str(status)] = {"description": STATUS_TEXT.get(status, "Problem"),
                                      "content": {error_media: {"schema": refs[op.error_model]}}}
    out: dict[str, Any] = {"summary": op.summary, "tags": [op.tag], "responses": responses}
    if op.description:
        out["description"] = op.description
    if op.request is not None:
        out["requestBody"] = {"required": True, "content": {"application/json": {"schema": refs[op.request]}}}
    if op.bearer:
        out["security"] = [{op.bearer: []}]
    return out


def docs_html(spec: dict[str, Any]) -> str:
    """A self-contained HTML page describing every operation and schema (no scripts, no CDN)."""
    e = html.escape
    parts = [
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>",
        f"<title>{e(spec['info']['title'])} API</title>",
        "<style>body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
        "line-height:1.45}code,pre{font-family:ui-monospace,monospace}pre{background:#f4f4f4;padding:.6rem;"
        "overflow:auto;font-size:.85rem}.m{display:inline-block;min-width:3.5rem;margin-right:.4rem;font-weight:bold}"
        "section{border-top:1px solid #ccc;margin-top:1.2rem}</style></head><body>",
        f"<h1>{e(spec['info']['title'])} API <small>{e(spec['info']['version'])}</small></h1>",
        f"<p>{e(spec['info']['description'])} Machine-readable: <a href='/openapi.json'>/openapi.json</a>.</p>",
        "<h2>Operations</h2><ul>",
    ]
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            anchor = e(f"{method}-{path}")
            parts.append(f"<li><a href='#{anchor}'><span class='m'>{e(method.upper())}</span>"
                         f"<code>{e(path)}</code></a> {e(op['summary'])}</li>")
    parts.append("</ul>")
    for path, methods in spec["paths"].items():
        for method, op in methods.items():
            parts.append(f"<section id='{e(f'{method}-{path}')}'><h3><span class='m'>{e(method.upper())}</span>"
                         f"<code>{e(path)}</code></h3><p>{e(op['summary'])}</p>")
            if op.get("description"):
                parts.append(f"<p>{e(op['description'])}</p>")
            if op.get("security"):
                parts.append("<p>Needs <code>Authorization: Bearer $COOPCLF_ADMIN_TOKEN</code>.</p>")
            if "requestBody" in op:
                schema = op["requestBody"]["content"]["application/json"]["schema"]
                parts.append(f"<p>Request body: {_schema_link(schema)}</p>")
            parts.append("<table><tr><th>Status</th><th>Meaning</th><th>Body</th></tr>")
            for status, response in op["responses"].items():
                media, content = next(iter(response.get("content", {"": {"schema": {}}}).items()))
                parts.append(f"<tr><td>{e(status)}</td><td>{e(response['description'])}</td>"
                             f"<td><code>{e(media)}</code> {_schema_link(content['schema'])}</td></tr>")
            parts.append("</table></section>")
    parts.append("<h2>Problem types</h2><table><tr><th>type</th><th>title</th><th>when</th></tr>")
    for slug, (title, when) in PROBLEM_TYPES.items():
        parts.append(f"<tr><td><code>{e(TYPE_PREFIX + slug)}</code></td><td>{e(title)}</td><td>{e(when)}</td></tr>")
    parts.append("</table><h2>Schemas</h2>")
    for name, schema in spec["components"]["schemas"].items():
        parts.append(f"<section id='schema-{e(name)}'><h3>{e(name)}</h3>"
                     f"<pre>{e(json.dumps(schema, indent=2))}</pre></section>")
    parts.append("</body></html>")
    return "\n".join(parts)


def _schema_link(schema: dict[str, Any]) -> str:
    ref = schema.get("$ref")
    if not ref:
        return f"<code>{html.escape(schema.get('type', ''))}</code>"
    name = ref.rsplit("/", 1)[-1]
    return f"<a href='#schema-{html.escape(name)}'>{html.escape(name)}</a>"
