"""The Flask application factory: settings in, a ready WSGI app out."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, request

from service import admin, api, problems, requestlog, web
from service.feedback import FeedbackLog
from service.metrics import Metrics
from service.model_holder import ModelHolder
from service.settings import Settings
from service.state import EXTENSION, ServiceState


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app and load the current model (once: under gunicorn, in the master before fork)."""
    settings = settings or Settings.from_env()
    log = requestlog.configure(settings.log_level)
    app = Flask("service", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    state = ServiceState(settings, ModelHolder(settings.artifacts), Metrics(), FeedbackLog(settings.feedback_dir))
    app.extensions[EXTENSION] = state
    state.holder.load()
    problems.register(app)
    api.register(app, state)
    admin.register(app, state)
    web.register(app)
    _install_request_hooks(app, state, log.getChild("access"))
    return app


def _install_request_hooks(app: Flask, state: ServiceState, access: logging.Logger) -> None:
    metrics = state.metrics

    @app.before_request
    def start() -> None:
        environ = request.environ
        environ[requestlog.STARTED] = time.perf_counter()
        environ[requestlog.REQUEST_ID] = requestlog.request_id_from(environ.get("HTTP_X_REQUEST_ID"))

    @app.after_request
    def finish(response: Response) -> Response:
        environ = request.environ
        elapsed = time.perf_counter() - environ.get(requestlog.STARTED, time.perf_counter())
        request_id = environ.get(requestlog.REQUEST_ID) or requestlog.request_id_from(None)
        headers = response.headers
        headers["X-Request-ID"] = request_id
        served = state.holder.current
        if served is not None:
            headers["X-Model-Version"] = served.version
            headers["X-Model-Data-Hash"] = served.data_hash
            metrics.report_model(served.version, served.data_hash)
        rule = request.url_rule
        endpoint = rule.rule if rule is not None else "unmatched"
        status = response.status_code
        metrics.observe_request(endpoint, request.method, status, elapsed)
        if access.isEnabledFor(logging.INFO):
            access.info({"method": request.method, "path": request.path, "status": status,
                         "ms": round(elapsed * 1000, 2), "items": environ.get(requestlog.ITEMS, 0),
                         "request_id": request_id})
        return response
