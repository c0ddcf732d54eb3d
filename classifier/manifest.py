"""The shape of a version's manifest.json, checked before anything in it is trusted or used."""

from __future__ import annotations

import json
import math
import re
from typing import Any

from coopclf.errors import ArtifactError

MODEL_FILE = "model.joblib"
REQUIRED_KEYS = ("version", "created_at", "labels", "thresholds", "model_sha256", "environment")
_SHA256 = re.compile(r"[0-9a-f]{64}")
_FILE_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
_OPTIONAL_TYPES: dict[str, tuple[type, str]] = {
    "pooling": (str, "a string"), "data_hash": (str, "a string"), "params": (dict, "a mapping"),
    "cv_metrics": (dict, "a mapping"), "holdout_metrics": (dict, "a mapping"),
    "training_data": (list, "a list"), "selection": (dict, "a mapping"),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _problem(manifest: dict[str, Any]) -> str | None:
    """What is wrong with a parsed manifest's shape, or None."""
    missing = [k for k in REQUIRED_KEYS if k not in manifest]
    if missing:
        return f"lacks {', '.join(missing)}"
    for key in ("version", "created_at"):
        if not isinstance(manifest[key], str) or not manifest[key]:
            return f"{key!r} must be a non-empty string"
    labels = manifest["labels"]
    if (not isinstance(labels, list) or not labels or not all(isinstance(x, str) and x for x in labels)
            or len(set(labels)) != len(labels)):
        return "'labels' must be a non-empty list of distinct strings"
    thresholds = manifest["thresholds"]
    if not isinstance(thresholds, dict):
        return "'thresholds' must be a mapping of label to number"
    if set(thresholds) != set(labels):
        return "'thresholds' must name exactly the labels"
    bad = [label for label, value in thresholds.items() if not _is_number(value) or not 0 <= value <= 1]
    if bad:
        return f"threshold of {bad[0]!r} must be a number between 0 and 1, not {thresholds[bad[0]]!r}"
    if not isinstance(manifest["model_sha256"], str) or not _SHA256.fullmatch(manifest["model_sha256"]):
        return "'model_sha256' must be 64 lower-case hex digits"
    environment = manifest["environment"]
    if not isinstance(environment, dict) or not all(isinstance(v, str) for v in environment.values()):
        return "'environment' must be a mapping of name to version string"
    for key, (kind, name) in _OPTIONAL_TYPES.items():
        if key in manifest and not isinstance(manifest[key], kind):
            return f"{key!r} must be {name}"
    return _files_problem(manifest)


def _files_problem(manifest: dict[str, Any]) -> str | None:
    files = manifest.get("files")
    if files is None:
        return None
    if not isinstance(files, dict) or not files:
        return "'files' must be a mapping of file name to SHA-256"
    for name, digest in files.items():
        if not _FILE_NAME.fullmatch(name) or name in {"manifest.json", "manifest.sig"}:
            return f"'files' names {name!r}, which is not a plain data file name"
        if not isinstance(digest, str) or not _SHA256.fullmatch(digest):
            return f"'files' gives {name!r} a SHA-256 that is not 64 lower-case hex digits"
    if files.get(MODEL_FILE) != manifest["model_sha256"]:
        return f"'files' must list {MODEL_FILE} with the SHA-256 'model_sha256' gives"
    return None


def parse_manifest(data: bytes, where: str) -> dict[str, Any]:
    """Parse manifest bytes and check their shape; raise ArtifactError naming `where` otherwise."""
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{where}: manifest is not valid JSON ({exc})") from None
    if not isinstance(manifest, dict):
        raise ArtifactError(f"{where}: manifest is not a JSON object")
    problem = _problem(manifest)
    if problem:
        raise ArtifactError(f"{where}: manifest {problem}")
    return manifest


def file_digests(manifest: dict[str, Any]) -> dict[str, str]:
    """Every data file of a version with its SHA-256 (older manifests list only the model file)."""
    return dict(manifest.get("files") or {MODEL_FILE: manifest["model_sha256"]})
