"""The web page: `GET /` and its static files (vanilla HTML, JS and CSS from service/http/static).

`GET /` is also KServe V1's liveness check: clients that do not ask for HTML get `{"status": "alive"}`."""

from __future__ import annotations

from pathlib import Path

import orjson
from flask import Blueprint, Response, request, send_from_directory
from werkzeug.exceptions import NotFound

STATIC = Path(__file__).with_name("static")
INDEX = "index.html"

# The only files served, by extension; anything else under /static is a 404.
CONTENT_TYPES: dict[str, str] = {
    ".html": "text/html; charset=utf-8",
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
}

# Everything the page needs comes from this origin; nothing inline, nothing from elsewhere.
SECURITY_HEADERS: dict[str, str] = {
    "Content-Security-Policy": ("default-src 'self'; script-src 'self'; style-src 'self'; "
                                "img-src 'self' data:; connect-src 'self'; base-uri 'none'; "
                                "form-action 'none'; frame-ancestors 'none'"),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
}

web = Blueprint("web", __name__)


def static_response(filename: str) -> Response:
    """One file from the static folder with its content type and security headers; 404 otherwise."""
    content_type = CONTENT_TYPES.get(Path(filename).suffix.lower())
    if content_type is None or Path(filename).name.startswith("."):
        raise NotFound(f"there is no static file {filename!r}")
    # send_from_directory refuses names that leave STATIC and answers conditional requests.
    response = send_from_directory(STATIC, filename, mimetype=content_type.split(";")[0], max_age=0)
    # The files are small: read them now, so no file handle outlives the request.
    response.direct_passthrough = False
    data = response.get_data()
    response.close()
    response.set_data(data)
    response.headers["Cache-Control"] = "no-cache"  # revalidate with the ETag after an upgrade
    response.headers.update(SECURITY_HEADERS)
    return response


def wants_html() -> bool:
    """Whether the client lists text/html itself in Accept, as browsers do (a bare */* is not asking for HTML)."""
    return any(mimetype.split(";")[0].strip().lower() == "text/html" and quality > 0
               for mimetype, quality in request.accept_mimetypes)


@web.get("/")
def index() -> Response:
    if wants_html():
        response = static_response(INDEX)
    else:
        response = Response(orjson.dumps({"status": "alive"}), mimetype="application/json")
    response.vary.add("Accept")
    return response


@web.get("/static/<path:filename>")
def static(filename: str) -> Response:
    return static_response(filename)
