"""Signed model versions: what trusted keys accept and refuse, before anything is unpickled."""

from __future__ import annotations

import hashlib
import json
import logging
import os
import pickle
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

import pytest

from coopclf import artifact
from coopclf.artifact import ArtifactStore
from coopclf.errors import ArtifactError, CoopclfError
from coopclf.predictor import Predictor
from coopclf.signing import PRIVATE_KEY_FILE, PUBLIC_KEY_FILE, load_private_key, new_key_pair
from coopclf.training.train import train
from tests.conftest import QUICK_GRID, TINY_CSV, train_tiny

TEXT = "Customs officers seized cocaine hidden in a fruit shipment at the port."


class Keys:
    """A key pair in a temporary directory."""

    def __init__(self, directory: Path) -> None:
        self.private, self.public = new_key_pair(directory)


@pytest.fixture
def keys(tmp_path: Path) -> Keys:
    return Keys(tmp_path / "keys")


@pytest.fixture
def other_keys(tmp_path: Path) -> Keys:
    return Keys(tmp_path / "other-keys")


@pytest.fixture
def signed(tiny_artifacts: Path, keys: Keys) -> Path:
    """The tiny model's artifacts with the current version signed by `keys`."""
    store = ArtifactStore(tiny_artifacts)
    store.sign(store.current(), load_private_key(keys.private))
    return tiny_artifacts


def version_dir(root: Path) -> Path:
    return root / ArtifactStore(root).current()


def rewrite_manifest(root: Path, change: Callable[[dict], None]) -> None:
    path = version_dir(root) / "manifest.json"
    manifest = json.loads(path.read_text())
    change(manifest)
    path.write_text(json.dumps(manifest, indent=2))


def test_a_version_trained_with_a_signing_key_loads_with_its_public_key(tmp_path: Path, keys: Keys) -> None:
    version = train_tiny(tmp_path / "a", signing_key=keys.private)
    directory = tmp_path / "a" / version
    assert (directory / "manifest.sig").is_file()
    manifest = json.loads((directory / "manifest.json").read_text())
    assert manifest["files"] == {"model.joblib": hashlib.sha256((directory / "model.joblib").read_bytes()).hexdigest()}
    predictor = Predictor(ArtifactStore(tmp_path / "a", trusted_keys=[keys.public]).load())
    assert predictor.predict([TEXT])[0].labels == ("narcotics",)


def _malicious_model(directory: Path, marker: Path) -> None:
    """Replace the model with a pickle that runs code, and recompute its checksum as an attacker would."""
    class Payload:
        def __reduce__(self) -> tuple[object, tuple[str, str]]:
            return (os.mkdir, (str(marker), ))  # any callable: the unpickler calls it

    model = directory / "model.joblib"
    model.write_bytes(pickle.dumps(Payload()))
    digest = hashlib.sha256(model.read_bytes()).hexdigest()
    path = directory / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["model_sha256"] = digest
    manifest.setdefault("files", {})["model.joblib"] = digest
    path.write_text(json.dumps(manifest))


def _thresholds_edited(root: Path, keys: Keys, other: Keys) -> None:
    rewrite_manifest(root, lambda m: m["thresholds"].update({label: 0.01 for label in m["labels"]}))


def _signed_by_another_key(root: Path, keys: Keys, other: Keys) -> None:
    store = ArtifactStore(root)
    store.sign(store.current(), load_private_key(other.private))


def _unsigned(root: Path, keys: Keys, other: Keys) -> None:
    (version_dir(root) / "manifest.sig").unlink()


def _garbled_signature(root: Path, keys: Keys, other: Keys) -> None:
    sig = version_dir(root) / "manifest.sig"
    scheme, key, signature = sig.read_text().split()
    sig.write_text(f"{scheme} {key} {signature[:-8]}AAAAAAA=\n")


def _unlisted_file(root: Path, keys: Keys, other: Keys) -> None:
    (version_dir(root) / "extra.npy").write_bytes(b"\x93NUMPY")


@pytest.mark.parametrize(("tamper", "message"), [
    (_thresholds_edited, "signature does not match the manifest"),
    (_signed_by_another_key, "not among the trusted keys"),
    (_unsigned, "not signed"),
    (_garbled_signature, "signature does not match the manifest"),
    (_unlisted_file, "extra.npy: not listed in the manifest"),
])
def test_trusted_keys_refuse_a_version_not_signed_as_it_is(signed: Path, keys: Keys, other_keys: Keys,
                                                           tamper: Callable, message: str) -> None:
    tamper(signed, keys, other_keys)
    with pytest.raises(ArtifactError, match=message):
        ArtifactStore(signed, trusted_keys=[keys.public]).load()


def test_a_model_carrying_code_with_its_checksum_recomputed_never_runs(signed: Path, keys: Keys,
                                                                        tmp_path: Path) -> None:
    marker = tmp_path / "the-payload-ran"
    _malicious_model(version_dir(signed), marker)
    store = ArtifactStore(signed, trusted_keys=[keys.public])
    for action in (store.load, lambda: store.promote(store.current())):
        with pytest.raises(ArtifactError, match="signature does not match the manifest"):
            action()
    assert not marker.exists()


def test_every_file_a_manifest_lists_is_checked(signed: Path, keys: Keys) -> None:
    directory = version_dir(signed)
    (directory / "weights.npy").write_bytes(b"weights")
    digest = hashlib.sha256(b"weights").hexdigest()
    rewrite_manifest(signed, lambda m: m["files"].update({"weights.npy": digest}))
    store = ArtifactStore(signed, trusted_keys=[keys.public])
    store.sign(store.current(), load_private_key(keys.private))
    store.load()
    (directory / "weights.npy").write_bytes(b"weightz")
    with pytest.raises(ArtifactError, match="weights.npy: SHA-256 .* does not match"):
        store.load()


def test_any_of_several_trusted_keys_will_do(signed: Path, keys: Keys, other_keys: Keys) -> None:
    ArtifactStore(signed, trusted_keys=[other_keys.public, keys.public]).load()


def test_without_trusted_keys_versions_load_as_before_and_that_is_logged_once(
        signed: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(artifact, "_unauthenticated_logged", False)
    _unsigned(signed, None, None)  # type: ignore[arg-type]
    with caplog.at_level(logging.WARNING, logger="coopclf.artifact"):
        for _ in range(3):
            ArtifactStore(signed).load()
    assert [r.getMessage() for r in caplog.records if "not authenticated" in r.getMessage()] == [
        f"model versions in {signed} are not authenticated: no trusted keys are configured "
        "(COOPCLF_TRUSTED_KEYS), so a model file replaced together with its checksum would be loaded"]


def test_a_store_pickles_with_its_keys_and_verifies_elsewhere(signed: Path, keys: Keys, tmp_path: Path) -> None:
    store = pickle.loads(pickle.dumps(ArtifactStore(signed, trusted_keys=[keys.public])))
    keys.public.unlink()  # the keys travel as bytes: a Dask worker or spawned process needs no key file
    copy = tmp_path / "copy"
    version = store.current()
    shutil.copytree(signed / version, copy / version)
    store.elsewhere(copy).load(version)
    (copy / version / "manifest.sig").unlink()
    with pytest.raises(ArtifactError, match="not signed"):
        store.elsewhere(copy).load(version)


def test_training_refuses_a_signing_key_the_store_would_not_trust(tmp_path: Path, keys: Keys,
                                                                  other_keys: Keys) -> None:
    store = ArtifactStore(tmp_path / "a", trusted_keys=[keys.public])
    for key, message in ((None, "no signing key was given"), (other_keys.private, "not among the trusted keys")):
        with pytest.raises(ArtifactError, match=message):
            train([TINY_CSV], artifacts=store, grid=QUICK_GRID, folds=3, signing_key=key)
    assert not (tmp_path / "a").exists()


def test_a_new_key_pair_is_pem_with_a_private_file_only_its_owner_reads(tmp_path: Path) -> None:
    private, public = new_key_pair(tmp_path / "k")
    assert (private.name, public.name) == (PRIVATE_KEY_FILE, PUBLIC_KEY_FILE)
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    assert private.read_text().startswith("-----BEGIN PRIVATE KEY-----")
    assert public.read_text().startswith("-----BEGIN PUBLIC KEY-----")
    before = private.read_bytes()
    with pytest.raises(CoopclfError, match="already exists"):
        new_key_pair(tmp_path / "k")
    assert private.read_bytes() == before


@pytest.mark.parametrize(("content", "message"), [
    (b"not a key", "not a PEM public key"),
    (None, "cannot read the trusted key"),
])
def test_an_unusable_trusted_key_file_is_named(tmp_path: Path, content: bytes | None, message: str) -> None:
    path = tmp_path / "key.pub"
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(ArtifactError, match=f"{path}: {message}"):
        ArtifactStore(tmp_path, trusted_keys=[path])
