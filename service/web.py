"""The web page: `GET /` and its static files (vanilla HTML, JS and CSS from service/static)."""

from __future__ import annotations

from pathlib import Path

from flask import Flask, Response, request
from werkzeug.exceptions import NotFound
from werkzeug.security import safe_join

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


def static_response(filename: str) -> Response:
    """One file from service/static with its content type and security headers; 404 otherwise."""
    content_type = CONTENT_TYPES.get(Path(filename).suffix.lower())
    joined = safe_join(str(STATIC), filename)  # None when the name would leave STATIC
    if content_type is None or joined is None or Path(filename).name.startswith(".") \
            or not Path(joined).is_file():
        raise NotFound(f"there is no static file {filename!r}")
    # The files are small: read them whole, so no file handle outlives the request.
    response = Response(Path(joined).read_bytes(), content_type=content_type)
    response.headers["Cache-Control"] = "no-cache"  # revalidate with the ETag after an upgrade
    response.headers.update(SECURITY_HEADERS)
    response.add_etag()
    return response.make_conditional(request)


def register(app: Flask) -> None:
    """Add `GET /` (the page) and `GET /static/<file>` to `app`."""

    def index() -> Response:
        return static_response(INDEX)

    def static(filename: str) -> Response:
        return static_response(filename)

    app.add_url_rule("/", "web_index", index, methods=["GET"])
    app.add_url_rule("/static/<path:filename>", "web_static", static, methods=["GET"])
