"""POST /v1/admin/reload in one process: auth, switching versions, refusing broken ones."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coopclf.artifact import ArtifactStore
from coopclf.signing import load_private_key, new_key_pair, signature_for
from tests.conftest import train_tiny
from tests.service.conftest import NARCOTICS, TOKEN
from tests.service.test_errors import assert_problem

AUTH = {"Authorization": f"Bearer {TOKEN}"}


def served_version(client: FlaskClient) -> str:
    return client.post("/v1/classify", json={"text": NARCOTICS}).get_json()["model_version"]


def test_the_endpoint_is_off_without_a_token(make_app: Callable[..., Flask]) -> None:
    client = make_app(admin_token=None).test_client()
    assert_problem(client.post("/v1/admin/reload", headers=AUTH), 404)
    assert "/v1/admin/reload" not in client.get("/openapi.json").get_json()["paths"]


@pytest.mark.parametrize(("headers", "status", "kind"), [
    ({}, 401, "unauthorized"),
    ({"Authorization": "Basic dXNlcjpwYXNz"}, 401, "unauthorized"),
    ({"Authorization": "Bearer "}, 401, "unauthorized"),
    ({"Authorization": "Bearer wrong-token-wrong-token"}, 403, "forbidden"),
    ({"Authorization": f"Bearer {TOKEN}x"}, 403, "forbidden"),
])
def test_a_missing_or_wrong_token_is_refused(client: FlaskClient, headers: dict[str, str],
                                             status: int, kind: str) -> None:
    response = client.post("/v1/admin/reload", headers=headers)
    assert_problem(response, status, kind)
    if status == 401:
        assert response.headers["WWW-Authenticate"].startswith("Bearer")


def test_reload_without_a_new_version_changes_nothing(client: FlaskClient, tiny_artifacts: Path) -> None:
    version = ArtifactStore(tiny_artifacts).current()
    response = client.post("/v1/admin/reload", headers=AUTH)
    assert response.status_code == 200
    assert response.get_json() == {"status": "unchanged", "version": version, "previous": version}


def test_reload_serves_the_newly_promoted_version(client: FlaskClient, tiny_artifacts: Path) -> None:
    old = served_version(client)
    new = train_tiny(tiny_artifacts, force=True)
    assert ArtifactStore(tiny_artifacts).current() == new
    assert served_version(client) == old  # promotion alone does not switch a running service
    response = client.post("/v1/admin/reload", headers=AUTH)
    assert response.status_code == 200
    assert response.get_json() == {"status": "reloaded", "version": new, "previous": old}
    assert served_version(client) == new
    assert client.get("/v1/model").get_json()["version"] == new
    metrics = client.get("/metrics").get_data(as_text=True)
    assert 'coopclf_model_info{data_hash="' in metrics and f'version="{new}"' in metrics
    assert f'version="{old}"' not in metrics


def _tamper(path: Path) -> None:
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))


@pytest.mark.parametrize("breakage", ["tampered model file", "missing model file", "CURRENT names nothing"])
def test_a_version_that_fails_to_verify_is_refused_and_the_old_one_keeps_serving(
        client: FlaskClient, tiny_artifacts: Path, breakage: str) -> None:
    old = served_version(client)
    new = train_tiny(tiny_artifacts, force=True)
    model = tiny_artifacts / new / "model.joblib"
    if breakage == "tampered model file":
        _tamper(model)
    elif breakage == "missing model file":
        model.unlink()
    else:
        (tiny_artifacts / "CURRENT").write_text("no-such-version\n")
    response = client.post("/v1/admin/reload", headers=AUTH)
    problem = assert_problem(response, 409, "reload-refused")
    assert problem["serving"] == old
    assert served_version(client) == old
    assert client.get("/readyz").status_code == 200
    assert 'coopclf_model_reloads_total{outcome="refused"} 1.0' in client.get("/metrics").get_data(as_text=True)


def _unsigned_version(root: Path, key: Path) -> None:
    train_tiny(root, force=True)


def _signed_then_thresholds_edited(root: Path, key: Path) -> None:
    version = train_tiny(root, force=True, signing_key=key)
    path = root / version / "manifest.json"
    path.write_text(path.read_text().replace('"thresholds": {', '"thresholds": {"x": 0.0, ', 1))


def _signed_with_a_malformed_manifest(root: Path, key: Path) -> None:
    version = train_tiny(root, force=True, signing_key=key)
    path = root / version / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["labels"] = "narcotics"
    path.write_text(json.dumps(manifest))
    # Signed as it is (as a signer's bug might), so only its shape is wrong.
    (root / version / "manifest.sig").write_bytes(signature_for(load_private_key(key), path.read_bytes()))


@pytest.mark.parametrize(("promote", "message"), [
    (_unsigned_version, "not signed"),
    (_signed_then_thresholds_edited, "signature does not match the manifest"),
    (_signed_with_a_malformed_manifest, "'labels' must be a non-empty list"),
])
def test_with_trusted_keys_a_reload_refuses_what_would_not_verify(
        make_app: Callable[..., Flask], tiny_artifacts: Path, tmp_path: Path, promote, message: str) -> None:
    private, public = new_key_pair(tmp_path / "keys")
    store = ArtifactStore(tiny_artifacts)
    old = store.current()
    store.sign(old, load_private_key(private))
    client = make_app(trusted_keys=(public,)).test_client()
    assert served_version(client) == old
    promote(tiny_artifacts, private)
    problem = assert_problem(client.post("/v1/admin/reload", headers=AUTH), 409, "reload-refused")
    assert message in problem["detail"] and problem["serving"] == old
    assert served_version(client) == old
