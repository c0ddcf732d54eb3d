"""Versioned artifacts: round trip, verification, pointer, promotion and rollback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import sklearn

from coopclf.artifact import _HOST, ArtifactStore, default_artifacts_dir
from coopclf.errors import ArtifactError, CoopclfError
from coopclf.predictor import Predictor
from tests.conftest import REPO, train_tiny

TEXTS = ["Police seized heroin at the port.", "Hotel occupancy rose as tourists returned.",
         "The striker scored twice in the cup final."]


def test_round_trip_gives_identical_predictions(tiny_artifacts: Path) -> None:
    store = ArtifactStore(tiny_artifacts)
    version = store.current()
    assert version in store.versions()
    manifest = store.manifest(version)
    for key in ("labels", "thresholds", "params", "environment", "training_data", "cv_metrics",
                "model_sha256", "data_hash", "created_at"):
        assert key in manifest
    assert manifest["environment"]["scikit-learn"] == sklearn.__version__
    assert manifest["training_data"][0]["rows"] == 54
    first = Predictor(store.load()).proba(TEXTS)
    second = Predictor(ArtifactStore(tiny_artifacts).load(version)).proba(TEXTS)
    assert (first == second).all()


def test_same_data_same_seed_same_predictions(tmp_path: Path) -> None:
    a, b = tmp_path / "a", tmp_path / "b"
    train_tiny(a)
    train_tiny(b)
    assert (Predictor.load(a).proba(TEXTS) == Predictor.load(b).proba(TEXTS)).all()
    manifest_a = ArtifactStore(a).manifest(ArtifactStore(a).current())
    manifest_b = ArtifactStore(b).manifest(ArtifactStore(b).current())
    assert manifest_a["thresholds"] == manifest_b["thresholds"]


@pytest.mark.parametrize("offset", [0, 1000, -1])
def test_one_byte_tamper_is_refused_before_unpickling(tiny_artifacts: Path, offset: int) -> None:
    store = ArtifactStore(tiny_artifacts)
    model = tiny_artifacts / store.current() / "model.joblib"
    data = bytearray(model.read_bytes())
    data[offset] ^= 0x01
    model.write_bytes(bytes(data))
    with pytest.raises(ArtifactError, match="does not match the manifest"):
        store.load()


def test_truncated_model_is_refused(tiny_artifacts: Path) -> None:
    store = ArtifactStore(tiny_artifacts)
    model = tiny_artifacts / store.current() / "model.joblib"
    model.write_bytes(model.read_bytes()[:100])
    with pytest.raises(ArtifactError, match="modified or truncated"):
        store.load()


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda m: m.pop("model_sha256"), "lacks model_sha256"),
        (lambda m: m.update(version="other"), "names version 'other'"),
    ],
)
def test_broken_manifest_is_refused(tiny_artifacts: Path, mutate, message: str) -> None:
    store = ArtifactStore(tiny_artifacts)
    path = tiny_artifacts / store.current() / "manifest.json"
    manifest = json.loads(path.read_text())
    mutate(manifest)
    path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match=message):
        store.load()


def test_manifest_that_is_not_json_is_refused(tiny_artifacts: Path) -> None:
    store = ArtifactStore(tiny_artifacts)
    (tiny_artifacts / store.current() / "manifest.json").write_text("{not json")
    with pytest.raises(ArtifactError, match="not valid JSON"):
        store.load()


def test_other_scikit_learn_minor_version_is_refused_unless_allowed(tiny_artifacts: Path) -> None:
    store = ArtifactStore(tiny_artifacts)
    path = tiny_artifacts / store.current() / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["environment"]["scikit-learn"] = "0.24.2"
    path.write_text(json.dumps(manifest))
    with pytest.raises(ArtifactError, match="trained with scikit-learn 0.24.2"):
        store.load()
    with pytest.warns(RuntimeWarning, match="trained with scikit-learn 0.24.2"):
        ArtifactStore(tiny_artifacts, allow_version_mismatch=True).load()


def test_missing_pointer_and_missing_version_are_clear(tmp_path: Path) -> None:
    with pytest.raises(ArtifactError, match="no model version is promoted"):
        ArtifactStore(tmp_path).load()
    with pytest.raises(ArtifactError, match="'nope' not found"):
        ArtifactStore(tmp_path).load("nope")


def test_promote_and_rollback_move_the_pointer(tiny_artifacts: Path) -> None:
    store = ArtifactStore(tiny_artifacts)
    first = store.current()
    second = train_tiny(tiny_artifacts, force=True)
    assert store.current() == second != first
    store.promote(first)
    assert store.current() == first
    assert store.rollback() == second
    assert store.rollback() == first
    with pytest.raises(ArtifactError, match="no earlier promoted version"):
        store.rollback()


def test_promote_refuses_a_tampered_version(tiny_artifacts: Path) -> None:
    store = ArtifactStore(tiny_artifacts)
    first = store.current()
    second = train_tiny(tiny_artifacts, force=True)
    store.promote(first)
    (tiny_artifacts / second / "model.joblib").write_bytes(b"junk")
    with pytest.raises(ArtifactError):
        store.promote(second)
    assert store.current() == first


def test_the_library_defaults_to_the_shipped_dir_and_reads_no_variable(monkeypatch: pytest.MonkeyPatch,
                                                                       tmp_path: Path) -> None:
    monkeypatch.setenv("COOPCLF_ARTIFACTS", str(tmp_path))
    assert default_artifacts_dir() == REPO / "artifacts"
    assert ArtifactStore().root == REPO / "artifacts"


def test_stale_temp_dirs_are_removed_and_never_listed(tiny_artifacts: Path) -> None:
    stale = tiny_artifacts / ".tmp-20200101-000000-deadbeef.999"
    stale.mkdir()
    (stale / "model.joblib").write_bytes(b"half")
    old = 1_000_000_000
    os.utime(stale, (old, old))
    assert stale.name not in ArtifactStore(tiny_artifacts).versions()
    train_tiny(tiny_artifacts)
    assert not stale.exists()


@pytest.mark.parametrize("name", ["../outside", "/tmp", "..", ".", "", "a/../../outside", "escape"])
def test_only_a_version_inside_the_artifacts_directory_can_be_promoted(tiny_artifacts: Path, tmp_path: Path,
                                                                      name: str) -> None:
    store = ArtifactStore(tiny_artifacts)
    current = store.current()
    outside = tmp_path / "outside"
    shutil.copytree(tiny_artifacts / current, outside)  # a complete, valid version, but not in the store
    json_path = outside / "manifest.json"
    json_path.write_text(json_path.read_text().replace(current, name))  # naming itself as promoted
    (tiny_artifacts / "escape").symlink_to(outside)
    with pytest.raises(ArtifactError, match="not a model version name|leads outside"):
        store.promote(name)
    assert store.current() == current and ArtifactStore(tiny_artifacts).load().version == current


def _set(key: str, value: object):
    return lambda m: m.update({key: value})


@pytest.mark.parametrize(("mutate", "message"), [
    (_set("thresholds", [0.5, 0.5]), "'thresholds' must be a mapping"),
    (lambda m: m["thresholds"].update({m["labels"][0]: "high"}), "must be a number between 0 and 1, not 'high'"),
    (lambda m: m["thresholds"].update({m["labels"][0]: True}), "must be a number between 0 and 1"),
    (lambda m: m["thresholds"].pop(m["labels"][0]), "'thresholds' must name exactly the labels"),
    (_set("labels", "narcotics"), "'labels' must be a non-empty list of distinct strings"),
    (_set("labels", [1, 2]), "'labels' must be a non-empty list of distinct strings"),
    (lambda m: m.pop("labels"), "lacks labels"),
    (lambda m: m.pop("environment"), "lacks environment"),
    (_set("environment", "sklearn"), "'environment' must be a mapping"),
    (_set("pooling", 3), "'pooling' must be a string"),
    (_set("version", 7), "'version' must be a non-empty string"),
    (lambda m: m.update(files={"../../etc/passwd": m["model_sha256"]}), "not a plain data file name"),
    (lambda m: m.update(files={"model.joblib": "0" * 64}), "must list model.joblib with the SHA-256"),
])
def test_a_malformed_manifest_with_a_valid_checksum_is_an_artifact_error(tiny_artifacts: Path, mutate,
                                                                        message: str) -> None:
    store = ArtifactStore(tiny_artifacts)
    path = tiny_artifacts / store.current() / "manifest.json"
    manifest = json.loads(path.read_text())
    mutate(manifest)
    path.write_text(json.dumps(manifest))
    for action in (store.load, lambda: store.promote(store.current()), lambda: store.manifest(store.current())):
        with pytest.raises(ArtifactError, match=message):
            action()


def test_manifest_that_is_not_an_object_is_refused(tiny_artifacts: Path) -> None:
    store = ArtifactStore(tiny_artifacts)
    (tiny_artifacts / store.current() / "manifest.json").write_text("[1, 2]")
    with pytest.raises(ArtifactError, match="manifest is not a JSON object"):
        store.load()


def _ended_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", ""])
    process.wait()
    return process.pid


@pytest.mark.parametrize(("owner", "removed"), [
    (lambda: f"{_HOST}.{_ended_pid()}", True),  # killed while saving: its pid is gone
    (lambda: f"{_ended_pid()}", True),  # named by an older coopclf: pid only
    (lambda: f"{_HOST}.{os.getpid()}", False),  # a live run on this host
    (lambda: f"another-host.{_ended_pid()}", False),  # another host's: its pids mean nothing here
])
def test_a_temp_dir_of_an_ended_run_is_removed_by_the_next(tiny_artifacts: Path, owner, removed: bool) -> None:
    leftover = tiny_artifacts / f".tmp-20200101-000000-deadbeef.{owner()}"
    leftover.mkdir()
    (leftover / "model.joblib").write_bytes(b"half")
    train_tiny(tiny_artifacts, force=True)
    assert leftover.exists() is not removed


def test_disk_full_while_saving_is_one_error_naming_the_path(tiny_artifacts: Path) -> None:
    # /dev/full takes opening but no bytes: the same OSError (ENOSPC) a full disk gives.
    (tiny_artifacts / "HISTORY").unlink()
    (tiny_artifacts / "HISTORY").symlink_to("/dev/full")
    with pytest.raises(CoopclfError, match=f"{tiny_artifacts / 'HISTORY'}: cannot write: No space left on device"):
        train_tiny(tiny_artifacts, force=True)
