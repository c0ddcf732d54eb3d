"""Bearer tokens: the admin endpoint's and the feedback endpoint's, each from its own setting."""

from __future__ import annotations

import hmac

from flask import request

from coopclf.service.http.problems import HttpProblem


def require_bearer(token: str, variable: str, realm: str) -> None:
    """Let the request through only with `Authorization: Bearer <token>`: 401 without one, 403 if wrong."""
    scheme, _, given = request.headers.get("Authorization", "").partition(" ")
    if scheme.lower() != "bearer" or not given.strip():
        raise HttpProblem(401, "unauthorized", f"send Authorization: Bearer <{variable}>",
                          headers={"WWW-Authenticate": f'Bearer realm="{realm}"'})
    if not hmac.compare_digest(given.strip().encode(), token.encode()):
        raise HttpProblem(403, "forbidden", f"the bearer token is not {variable}")
