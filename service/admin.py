"""POST /v1/admin/reload: serve the version CURRENT names, guarded by COOPCLF_ADMIN_TOKEN."""

from __future__ import annotations

import hmac
import logging

from flask import Flask, Response, request

from classifier import ArtifactError
from service import schemas
from service.api import json_response
from service.openapi import Operation, documented
from service.problems import Problem
from service.state import ServiceState

log = logging.getLogger("coopclf.service")
CHALLENGE = {"WWW-Authenticate": 'Bearer realm="coopclf admin"'}


def _authorise(token: str) -> None:
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise Problem(401, "unauthorized", "send Authorization: Bearer <COOPCLF_ADMIN_TOKEN>", headers=CHALLENGE)
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise Problem(403, "forbidden", "the bearer token is not the admin token")


def register(app: Flask, state: ServiceState) -> None:
    """Add the reload endpoint, only when an admin token is configured (otherwise it is a 404)."""
    token = state.settings.admin_token
    if token is None:
        return

    @documented(Operation(
        "Serve the version that artifacts/CURRENT names", "admin", schemas.ReloadResponse,
        errors=(401, 403, 409), bearer=True,
        extra_responses=((202, "gunicorn is replacing its workers with ones serving the new version",
                          schemas.ReloadResponse),),
        description="Verifies and loads the version; if it fails, the old one keeps serving (409). "
                    "Under gunicorn the master loads it and replaces the workers gracefully (202)."))
    def admin_reload() -> Response:
        _authorise(token)
        try:
            outcome = state.holder.reload()
        except ArtifactError as exc:
            state.metrics.reloads.labels("refused").inc()
            log.warning({"event": "reload_refused", "error": str(exc)})
            current = state.holder.current
            raise Problem(409, "reload-refused", str(exc),
                          serving=current.version if current else None) from None
        state.metrics.reloads.labels(outcome.status).inc()
        log.info({"event": "reload", "status": outcome.status, "version": outcome.version,
                  "previous": outcome.previous})
        body = {"status": outcome.status, "version": outcome.version, "previous": outcome.previous}
        return json_response(body, status=202 if outcome.status == "reloading" else 200)

    app.add_url_rule("/v1/admin/reload", "admin_reload", admin_reload, methods=["POST"])
