"""The web page through the Flask test client: `GET /`, its static files, and 404s for the rest."""

from __future__ import annotations

import fnmatch
import re
import tomllib

import pytest
from flask.testing import FlaskClient

from coopclf.service.http.web import STATIC
from tests.conftest import REPO

BROWSER_ACCEPT = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"  # what Firefox sends


def test_index_serves_the_page_with_its_form(client: FlaskClient) -> None:
    response = client.get("/", headers={"Accept": BROWSER_ACCEPT})
    assert response.status_code == 200
    assert response.mimetype == "text/html"
    page = response.get_data(as_text=True)
    assert '<textarea id="document"' in page
    assert 'type="file"' in page and 'accept=".txt,text/plain"' in page
    assert '<button type="submit" id="classify"' in page
    assert 'role="alert"' in page and 'aria-live="polite"' in page
    assert "http://" not in page and "https://" not in page  # nothing from elsewhere: works offline
    policy = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in policy and "connect-src 'self'" in policy
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(("accept", "mimetype"), [
    (BROWSER_ACCEPT, "text/html"),
    ("text/html", "text/html"),
    ("TEXT/HTML; level=1", "text/html"),
    (None, "application/json"),  # the KServe SDK's liveness check, curl, monitoring probes
    ("*/*", "application/json"),
    ("application/json", "application/json"),
    ("text/html;q=0, application/json", "application/json"),
])
def test_the_root_is_the_page_for_browsers_and_kserve_liveness_for_the_rest(
        client: FlaskClient, accept: str | None, mimetype: str) -> None:
    response = client.get("/", headers={"Accept": accept} if accept else {})
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert "Accept" in response.vary
    if mimetype == "application/json":
        assert response.get_json() == {"status": "alive"}
    else:
        assert '<textarea id="document"' in response.get_data(as_text=True)


def test_every_file_the_page_references_is_served(client: FlaskClient) -> None:
    page = client.get("/", headers={"Accept": BROWSER_ACCEPT}).get_data(as_text=True)
    referenced = re.findall(r'(?:src|href)="(/static/[^"]+)"', page)
    assert {"/static/app.js", "/static/style.css"} <= set(referenced)
    for path in referenced:
        assert client.get(path).status_code == 200, path


@pytest.mark.parametrize(("name", "mimetype"), [
    ("app.js", "text/javascript"),
    ("style.css", "text/css"),
    ("index.html", "text/html"),
    ("favicon.svg", "image/svg+xml"),
])
def test_static_files_have_their_content_type(client: FlaskClient, name: str, mimetype: str) -> None:
    response = client.get(f"/static/{name}")
    assert response.status_code == 200
    assert response.mimetype == mimetype
    assert response.get_data() == (STATIC / name).read_bytes()
    assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize("path", [
    "/static/missing.js",
    "/static/web.py",  # a type the page never serves
    "/static/../web.py",
    "/static/%2e%2e/web.py",
    "/static/.hidden.css",
    "/static/",
])
def test_unknown_static_files_are_problem_404s(client: FlaskClient, path: str) -> None:
    response = client.get(path)
    assert response.status_code == 404
    assert response.mimetype == "application/problem+json"
    problem = response.get_json()
    assert problem["status"] == 404 and problem["title"] == "Not Found"


def test_unchanged_files_are_revalidated_with_their_etag(client: FlaskClient) -> None:
    first = client.get("/static/app.js")
    assert first.headers["Cache-Control"] == "no-cache" and first.headers["ETag"]
    again = client.get("/static/app.js", headers={"If-None-Match": first.headers["ETag"]})
    assert again.status_code == 304 and again.get_data() == b""


def test_the_page_is_get_only(client: FlaskClient) -> None:
    response = client.post("/", data="x")
    assert response.status_code == 405
    assert response.mimetype == "application/problem+json"


def test_a_non_editable_install_ships_every_static_file() -> None:
    config = tomllib.loads((REPO / "pyproject.toml").read_text())
    patterns = config["tool"]["setuptools"]["package-data"]["coopclf.service.http"]
    shipped = [path.relative_to(STATIC.parent).as_posix() for path in STATIC.rglob("*") if path.is_file()]
    assert shipped
    assert [name for name in shipped if not any(fnmatch.fnmatch(name, p) for p in patterns)] == []
