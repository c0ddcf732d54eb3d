"""Save, verify, load and promote versioned model artifacts; the only code that touches them."""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import time
import warnings
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn

from coopclf.errors import ArtifactError
from coopclf.files import TMP_PREFIX, write_atomic

MODEL_FILE = "model.joblib"
MANIFEST_FILE = "manifest.json"
POINTER_FILE = "CURRENT"
HISTORY_FILE = "HISTORY"
ALLOW_MISMATCH_SETTING = "COOPCLF_ALLOW_VERSION_MISMATCH"
REQUIRED_KEYS = ("version", "created_at", "labels", "thresholds", "model_sha256", "environment")


def default_artifacts_dir() -> Path:
    """The model versions shipped with coopclf (the `coopclf.artifacts` package's directory)."""
    from coopclf import artifacts

    return Path(artifacts.__file__).resolve().parent


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def environment() -> dict[str, str]:
    """Versions that decide whether a pickled model can be trusted elsewhere."""
    return {
        "python": platform.python_version(),
        "scikit-learn": sklearn.__version__,
        "numpy": np.__version__,
        "joblib": joblib.__version__,
    }


@dataclass
class LoadedModel:
    """A verified, unpickled model with its manifest."""

    version: str
    manifest: dict[str, Any]
    pipeline: Any


def _minor(version: str) -> tuple[str, ...]:
    return tuple(version.split(".")[:2])


class ArtifactStore:
    """A directory of model versions, each `<version>/{model.joblib,manifest.json}`, plus CURRENT."""

    def __init__(self, root: str | Path | None = None, *, allow_version_mismatch: bool = False) -> None:
        self.root = Path(root) if root is not None else default_artifacts_dir()
        self.allow_version_mismatch = allow_version_mismatch

    def save(self, pipeline: Any, manifest: dict[str, Any]) -> str:
        """Write a new version atomically (temp dir + rename) and return its name; never promotes."""
        self.root.mkdir(parents=True, exist_ok=True)
        self._clean_stale_tmp()
        version = self._new_version(manifest.get("data_hash", ""))
        tmp = self.root / f"{TMP_PREFIX}{version}.{os.getpid()}"
        try:
            tmp.mkdir()
            model_path = tmp / MODEL_FILE
            joblib.dump(pipeline, model_path, compress=3)
            with model_path.open("rb+") as handle:
                os.fsync(handle.fileno())
            full = {
                "version": version,
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                **manifest,
                "environment": environment(),
                "model_sha256": sha256_file(model_path),
                "model_bytes": model_path.stat().st_size,
            }
            write_atomic(tmp / MANIFEST_FILE, (json.dumps(full, indent=2, sort_keys=False) + "\n").encode())
            os.rename(tmp, self.root / version)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return version

    def _new_version(self, data_hash: str) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{data_hash[:8]}" if data_hash else stamp
        version, n = base, 1
        while (self.root / version).exists():
            n += 1
            version = f"{base}-{n}"
        return version

    def _clean_stale_tmp(self, older_than_s: float = 3600.0) -> None:
        """Remove temp dirs an interrupted run left behind (after an hour, so live runs are safe)."""
        now = time.time()
        for path in self.root.glob(f"{TMP_PREFIX}*"):
            if path.is_dir() and now - path.stat().st_mtime > older_than_s:
                shutil.rmtree(path, ignore_errors=True)

    def versions(self) -> list[str]:
        """Complete version directories, oldest first (names sort by creation time)."""
        if not self.root.is_dir():
            return []
        return sorted(
            p.name for p in self.root.iterdir()
            if p.is_dir() and not p.name.startswith(".") and (p / MANIFEST_FILE).is_file()
        )

    def current(self) -> str | None:
        """The version CURRENT names, or None when nothing is promoted yet."""
        pointer = self.root / POINTER_FILE
        if not pointer.is_file():
            return None
        name = pointer.read_text(encoding="utf-8").strip()
        return name or None

    def manifest(self, version: str) -> dict[str, Any]:
        """Read and check one version's manifest."""
        path = self.root / version / MANIFEST_FILE
        if not path.is_file():
            raise ArtifactError(f"model version {version!r} not found in {self.root}")
        try:
            manifest = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ArtifactError(f"{path}: manifest is not valid JSON ({exc})") from None
        missing = [k for k in REQUIRED_KEYS if k not in manifest]
        if not isinstance(manifest, dict) or missing:
            raise ArtifactError(f"{path}: manifest lacks {', '.join(missing)}")
        if manifest["version"] != version:
            raise ArtifactError(f"{path}: manifest names version {manifest['version']!r}, not {version!r}")
        return manifest

    def verify(self, version: str) -> dict[str, Any]:
        """Check the manifest and the model file's SHA-256 without unpickling anything."""
        manifest = self.manifest(version)
        model_path = self.root / version / MODEL_FILE
        if not model_path.is_file():
            raise ArtifactError(f"{model_path}: model file is missing")
        actual = sha256_file(model_path)
        if actual != manifest["model_sha256"]:
            raise ArtifactError(
                f"{model_path}: SHA-256 {actual[:12]}… does not match the manifest's "
                f"{manifest['model_sha256'][:12]}…; the file was modified or truncated. "
                "Restore it or retrain; it will not be loaded."
            )
        trained_with = manifest["environment"].get("scikit-learn", "?")
        if _minor(trained_with) != _minor(sklearn.__version__):
            message = (
                f"model version {version!r} was trained with scikit-learn {trained_with}, "
                f"this environment has {sklearn.__version__}; its predictions may be wrong"
            )
            if not self.allow_version_mismatch:
                raise ArtifactError(message + f" (set {ALLOW_MISMATCH_SETTING}=1 to load it anyway, or retrain)")
            warnings.warn(message, RuntimeWarning, stacklevel=2)
        return manifest

    def load(self, version: str | None = None) -> LoadedModel:
        """Verify, then unpickle a version (default: the current one)."""
        version = version or self.current()
        if version is None:
            raise ArtifactError(
                f"no model version is promoted in {self.root} (no {POINTER_FILE} file); "
                "train one with `coopclf train` or point --artifacts elsewhere"
            )
        manifest = self.verify(version)
        path = self.root / version
        try:
            pipeline = joblib.load(path / MODEL_FILE)
        except Exception as exc:  # unpickling can fail in many library-specific ways
            raise ArtifactError(f"{path / MODEL_FILE}: could not be loaded ({exc})") from exc
        return LoadedModel(version=version, manifest=manifest, pipeline=pipeline)

    def promote(self, version: str) -> None:
        """Make `version` current after verifying it; the pointer switch is atomic."""
        self.verify(version)
        self._point(version)
        self._log("promote", version)

    def rollback(self) -> str:
        """Return to the version promoted before the current one; returns that version."""
        stack = self.history()
        if len(stack) < 2:
            raise ArtifactError("no earlier promoted version to roll back to")
        previous = stack[-2]
        self.verify(previous)
        self._point(previous)
        self._log("rollback", previous)
        return previous

    def history(self) -> list[str]:
        """Promoted versions as a stack (a rollback pops one), oldest first."""
        path = self.root / HISTORY_FILE
        stack: list[str] = []
        if path.is_file():
            for line in path.read_text(encoding="utf-8").splitlines():
                parts = line.split()
                if len(parts) >= 3 and parts[1] == "promote":
                    stack.append(parts[2])
                elif len(parts) >= 3 and parts[1] == "rollback" and stack:
                    stack.pop()
        current = self.current()
        if current and (not stack or stack[-1] != current):
            stack.append(current)
        return stack

    def _point(self, version: str) -> None:
        write_atomic(self.root / POINTER_FILE, f"{version}\n".encode())

    def _log(self, action: str, version: str) -> None:
        stamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        with (self.root / HISTORY_FILE).open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {action} {version}\n")
            handle.flush()
            os.fsync(handle.fileno())
