"""The Flask application factory: settings in, a ready WSGI app out."""

from __future__ import annotations

import logging
import time

from flask import Flask, Response, request

from coopclf.artifact import ArtifactStore
from coopclf.service.http import problems, requestlog
from coopclf.service.http.admin import admin
from coopclf.service.http.feedback import FeedbackLog
from coopclf.service.http.model_holder import ModelHolder
from coopclf.service.http.prometheus import Metrics
from coopclf.service.http.settings import Settings
from coopclf.service.http.state import EXTENSION, ServiceState
from coopclf.service.http.views import api, feedback_api
from coopclf.service.http.web import web


def create_app(settings: Settings | None = None) -> Flask:
    """Build the app and load the current model (once: under gunicorn, in the master before fork)."""
    settings = settings or Settings.from_env()
    log = requestlog.configure(settings.log_level)
    app = Flask("coopclf", static_folder=None)
    app.config["MAX_CONTENT_LENGTH"] = settings.max_body_bytes
    store = ArtifactStore(settings.artifacts, allow_version_mismatch=settings.allow_version_mismatch,
                          trusted_keys=settings.trusted_keys)
    state = ServiceState(settings, ModelHolder(store), Metrics(),
                         FeedbackLog(settings.feedback_dir, settings.feedback_max_bytes))
    app.extensions[EXTENSION] = state
    state.holder.load()
    problems.register(app)
    app.register_blueprint(api)
    if settings.admin_token is not None:
        app.register_blueprint(admin)
    if settings.feedback_token is not None:
        app.register_blueprint(feedback_api)
    app.register_blueprint(web)
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
