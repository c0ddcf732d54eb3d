"""POST /v1/admin/reload: serve the version CURRENT names, guarded by COOPCLF_ADMIN_TOKEN."""

from __future__ import annotations

import logging

from flask import Blueprint, Response

from coopclf.errors import ArtifactError
from coopclf.service.http import schemas
from coopclf.service.http.auth import require_bearer
from coopclf.service.http.openapi import Operation, documented
from coopclf.service.http.problems import HttpProblem
from coopclf.service.http.state import state
from coopclf.service.http.views import json_response

log = logging.getLogger("coopclf.service")

# Registered only when an admin token is configured: otherwise the route is a 404.
admin = Blueprint("admin", __name__)


@admin.post("/v1/admin/reload")
@documented(Operation(
    "Serve the version that artifacts/CURRENT names", "admin", schemas.ReloadResponse,
    errors=(401, 403, 409), bearer="adminToken",
    extra_responses=((202, "gunicorn is replacing its workers with ones serving the new version",
                      schemas.ReloadResponse),),
    description="Verifies and loads the version; if it fails, the old one keeps serving (409). "
                "Under gunicorn the master loads it and replaces the workers gracefully (202)."))
def admin_reload() -> Response:
    current = state()
    token = current.settings.admin_token
    assert token is not None  # the blueprint is registered only with a token
    require_bearer(token, "COOPCLF_ADMIN_TOKEN", "coopclf admin")
    try:
        outcome = current.holder.reload()
    except ArtifactError as exc:
        current.metrics.reloads.labels("refused").inc()
        log.warning({"event": "reload_refused", "error": str(exc)})
        served = current.holder.current
        raise HttpProblem(409, "reload-refused", str(exc),
                          serving=served.version if served else None) from None
    current.metrics.reloads.labels(outcome.status).inc()
    log.info({"event": "reload", "status": outcome.status, "version": outcome.version,
              "previous": outcome.previous})
    body = {"status": outcome.status, "version": outcome.version, "previous": outcome.previous}
    return json_response(body, status=202 if outcome.status == "reloading" else 200)
