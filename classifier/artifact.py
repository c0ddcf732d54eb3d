"""Save, verify, load and promote versioned model artifacts; the only code that touches them."""

from __future__ import annotations

import copy
import hashlib
import io
import json
import logging
import os
import platform
import re
import shutil
import socket
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import joblib
import numpy as np
import sklearn
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from coopclf.errors import ArtifactError
from coopclf.files import TMP_PREFIX, write_atomic, writing
from coopclf.manifest import MODEL_FILE, file_digests, parse_manifest
from coopclf.signing import SIGNATURE_FILE, TrustedKeys, signature_for

MANIFEST_FILE = "manifest.json"
POINTER_FILE = "CURRENT"
HISTORY_FILE = "HISTORY"
ALLOW_MISMATCH_SETTING = "COOPCLF_ALLOW_VERSION_MISMATCH"
TRUSTED_KEYS_SETTING = "COOPCLF_TRUSTED_KEYS"
# Temp dirs are named `.tmp-<version>.<host>.<pid>`, so a later run can tell whose they are.
_HOST = re.sub(r"[^A-Za-z0-9-]", "-", socket.gethostname()) or "host"
log = logging.getLogger("coopclf.artifact")
_unauthenticated_logged = False


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


def _note_unauthenticated(root: Path) -> None:
    """Log, once per process, that versions are loaded on their checksums alone."""
    global _unauthenticated_logged
    if not _unauthenticated_logged:
        _unauthenticated_logged = True
        log.warning("model versions in %s are not authenticated: no trusted keys are configured (%s), so "
                    "a model file replaced together with its checksum would be loaded", root, TRUSTED_KEYS_SETTING)


def _alive(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would interrupt the process there; leave it to the age rule
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _abandoned(name: str) -> bool:
    """Whether a temp dir's name says it belongs to a process of this host that has ended."""
    parts = name[len(TMP_PREFIX):].split(".", 1)
    if len(parts) != 2:
        return False
    host, _, pid = parts[1].rpartition(".")
    return host in ("", _HOST) and pid.isdigit() and not _alive(int(pid))


class ArtifactStore:
    """A directory of model versions, each `<version>/{manifest.json,manifest.sig,<data files>}`, plus CURRENT.

    With `trusted_keys` (PEM public key files), a version loads only if its manifest is signed by one
    of them; the manifest lists every data file's SHA-256, checked before anything is unpickled.
    """

    def __init__(self, root: str | Path | None = None, *, allow_version_mismatch: bool = False,
                 trusted_keys: Sequence[str | Path] = ()) -> None:
        self.root = Path(root) if root is not None else default_artifacts_dir()
        self.allow_version_mismatch = allow_version_mismatch
        self.trusted_keys = tuple(Path(p) for p in trusted_keys)
        self.trusted = TrustedKeys.from_files(self.trusted_keys)

    def elsewhere(self, root: str | Path) -> ArtifactStore:
        """A store over another directory that verifies as this one does (same keys and policy)."""
        other = copy.copy(self)
        other.root = Path(root)
        return other

    def save(self, pipeline: Any, manifest: dict[str, Any], *,
             signing_key: Ed25519PrivateKey | None = None) -> str:
        """Write a new version atomically (temp dir + rename), signed if a key is given; never promotes."""
        with writing(self.root):
            self.root.mkdir(parents=True, exist_ok=True)
        self._clean_stale_tmp()
        version = self._new_version(manifest.get("data_hash", ""))
        tmp = self.root / f"{TMP_PREFIX}{version}.{_HOST}.{os.getpid()}"
        try:
            with writing(self.root / version):
                tmp.mkdir()
                model_path = tmp / MODEL_FILE
                joblib.dump(pipeline, model_path, compress=3)
                with model_path.open("rb+") as handle:
                    os.fsync(handle.fileno())
            digest = sha256_file(model_path)
            full = {
                "version": version,
                "created_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
                **manifest,
                "environment": environment(),
                "model_sha256": digest,
                "model_bytes": model_path.stat().st_size,
                "files": {MODEL_FILE: digest},
            }
            data = (json.dumps(full, indent=2, sort_keys=False) + "\n").encode()
            write_atomic(tmp / MANIFEST_FILE, data)
            if signing_key is not None:
                write_atomic(tmp / SIGNATURE_FILE, signature_for(signing_key, data))
            with writing(self.root / version):
                os.rename(tmp, self.root / version)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp, ignore_errors=True)
        return version

    def sign(self, version: str, signing_key: Ed25519PrivateKey) -> None:
        """Sign an existing version's manifest (after checking its files against it); replaces any signature."""
        directory = self._version_dir(version)
        data = self._manifest_bytes(directory, version)
        self._check_files(directory, self._parse(data, directory, version), read_model=False)
        write_atomic(directory / SIGNATURE_FILE, signature_for(signing_key, data))

    def _new_version(self, data_hash: str) -> str:
        stamp = datetime.now(timezone.utc).strftime("%Y%m%d-%H%M%S")
        base = f"{stamp}-{data_hash[:8]}" if data_hash else stamp
        version, n = base, 1
        while (self.root / version).exists():
            n += 1
            version = f"{base}-{n}"
        return version

    def _clean_stale_tmp(self, older_than_s: float = 3600.0) -> None:
        """Remove temp dirs interrupted runs left: a gone process's of this host at once, any after an hour."""
        now = time.time()
        for path in self.root.glob(f"{TMP_PREFIX}*"):
            try:
                stale = path.is_dir() and (_abandoned(path.name) or now - path.stat().st_mtime > older_than_s)
            except OSError:  # removed meanwhile by another run
                continue
            if stale:
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

    def _version_dir(self, version: str) -> Path:
        """The directory of `version`: a plain name of a directory inside the artifacts directory."""
        if (not isinstance(version, str) or not version or version.startswith(".") or "\0" in version
                or any(sep in version for sep in ("/", "\\", os.sep)) or Path(version).drive):
            raise ArtifactError(f"{version!r} is not a model version name: give the name of a directory "
                                f"inside {self.root}")
        path = self.root / version
        if path.exists() and path.resolve().parent != self.root.resolve():
            raise ArtifactError(f"{path} leads outside {self.root}; a model version must be a directory inside it")
        return path

    def _manifest_bytes(self, directory: Path, version: str) -> bytes:
        path = directory / MANIFEST_FILE
        if not path.is_file():
            raise ArtifactError(f"model version {version!r} not found in {self.root}")
        try:
            return path.read_bytes()
        except OSError as exc:
            raise ArtifactError(f"{path}: cannot read the manifest ({exc.strerror})") from None

    def _parse(self, data: bytes, directory: Path, version: str) -> dict[str, Any]:
        path = directory / MANIFEST_FILE
        manifest = parse_manifest(data, str(path))
        if manifest["version"] != version:
            raise ArtifactError(f"{path}: manifest names version {manifest['version']!r}, not {version!r}")
        return manifest

    def manifest(self, version: str) -> dict[str, Any]:
        """Read and check one version's manifest (its shape; `verify` also checks files and signature)."""
        directory = self._version_dir(version)
        return self._parse(self._manifest_bytes(directory, version), directory, version)

    def verify(self, version: str) -> dict[str, Any]:
        """Check the signature, the manifest and every data file's SHA-256 without unpickling anything."""
        return self._verified(version, read_model=False)[0]

    def _verified(self, version: str, *, read_model: bool) -> tuple[dict[str, Any], bytes]:
        """The checked manifest and, if asked, the model file's bytes that were checked (read once)."""
        directory = self._version_dir(version)
        data = self._manifest_bytes(directory, version)
        if self.trusted:
            self.trusted.verify(data, directory / SIGNATURE_FILE)
        else:
            _note_unauthenticated(self.root)
        manifest = self._parse(data, directory, version)
        model = self._check_files(directory, manifest, read_model=read_model)
        self._check_environment(version, manifest)
        return manifest, model

    def _check_files(self, directory: Path, manifest: dict[str, Any], *, read_model: bool) -> bytes:
        """Compare every listed file with its SHA-256; refuse unlisted ones; the model's bytes if asked."""
        digests = file_digests(manifest)
        present = {p.name for p in directory.iterdir() if not p.name.startswith(".") and not p.is_dir()}
        unlisted = sorted(present - set(digests) - {MANIFEST_FILE, SIGNATURE_FILE})
        if unlisted:
            raise ArtifactError(f"{directory / unlisted[0]}: not listed in the manifest; a version holds only "
                                "the files its manifest lists. It will not be loaded.")
        model = b""
        for name, expected in digests.items():
            path = directory / name
            if not path.is_file():
                raise ArtifactError(f"{path}: {'model' if name == MODEL_FILE else 'data'} file is missing")
            if name == MODEL_FILE and read_model:
                model = path.read_bytes()
                actual = hashlib.sha256(model).hexdigest()
            else:
                actual = sha256_file(path)
            if actual != expected:
                raise ArtifactError(
                    f"{path}: SHA-256 {actual[:12]}… does not match the manifest's {expected[:12]}…; "
                    "the file was modified or truncated. Restore it or retrain; it will not be loaded."
                )
        return model

    def _check_environment(self, version: str, manifest: dict[str, Any]) -> None:
        trained_with = manifest["environment"].get("scikit-learn", "?")
        if _minor(trained_with) != _minor(sklearn.__version__):
            message = (
                f"model version {version!r} was trained with scikit-learn {trained_with}, "
                f"this environment has {sklearn.__version__}; its predictions may be wrong"
            )
            if not self.allow_version_mismatch:
                raise ArtifactError(message + f" (set {ALLOW_MISMATCH_SETTING}=1 to load it anyway, or retrain)")
            warnings.warn(message, RuntimeWarning, stacklevel=4)

    def load(self, version: str | None = None) -> LoadedModel:
        """Verify, then unpickle a version (default: the current one)."""
        version = version or self.current()
        if version is None:
            raise ArtifactError(
                f"no model version is promoted in {self.root} (no {POINTER_FILE} file); "
                "train one with `coopclf train` or point --artifacts elsewhere"
            )
        manifest, model = self._verified(version, read_model=True)
        path = self._version_dir(version) / MODEL_FILE
        try:
            pipeline = joblib.load(io.BytesIO(model))  # the bytes that were checked, not the file again
        except Exception as exc:  # unpickling can fail in many library-specific ways
            raise ArtifactError(f"{path}: could not be loaded ({exc})") from exc
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
        with writing(self.root / HISTORY_FILE), (self.root / HISTORY_FILE).open("a", encoding="utf-8") as handle:
            handle.write(f"{stamp} {action} {version}\n")
            handle.flush()
            os.fsync(handle.fileno())
