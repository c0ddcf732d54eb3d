"""Ed25519 signatures over model manifests: key pairs, signing, and checks against trusted public keys."""

from __future__ import annotations

import base64
import binascii
import hashlib
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from coopclf.errors import ArtifactError, CoopclfError

SIGNATURE_FILE = "manifest.sig"
PRIVATE_KEY_FILE = "coopclf-signing.key"
PUBLIC_KEY_FILE = "coopclf-signing.pub"
SCHEME = "ed25519"


def key_id(public: Ed25519PublicKey) -> str:
    """A short fingerprint of a public key: the first 16 hex digits of its raw bytes' SHA-256."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _read(path: Path, what: str) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise ArtifactError(f"{path}: cannot read the {what} ({exc.strerror})") from None


def load_private_key(path: str | Path) -> Ed25519PrivateKey:
    """The Ed25519 private key in an unencrypted PEM file."""
    path = Path(path)
    try:
        key = serialization.load_pem_private_key(_read(path, "signing key"), password=None)
    except TypeError:
        raise ArtifactError(f"{path}: the signing key is encrypted; coopclf reads unencrypted PEM "
                            "keys (protect the file by its permissions instead)") from None
    except (ValueError, UnsupportedAlgorithm):
        raise ArtifactError(f"{path}: not a PEM private key (make one with `coopclf keys new`)") from None
    if not isinstance(key, Ed25519PrivateKey):
        raise ArtifactError(f"{path}: the signing key is not an Ed25519 key")
    return key


def load_public_key(path: str | Path) -> Ed25519PublicKey:
    """The Ed25519 public key in a PEM file."""
    path = Path(path)
    try:
        key = serialization.load_pem_public_key(_read(path, "trusted key"))
    except (ValueError, UnsupportedAlgorithm):
        raise ArtifactError(f"{path}: not a PEM public key (the .pub file `coopclf keys new` writes)") from None
    if not isinstance(key, Ed25519PublicKey):
        raise ArtifactError(f"{path}: the trusted key is not an Ed25519 key")
    return key


def signature_for(key: Ed25519PrivateKey, data: bytes) -> bytes:
    """The content of a signature file over `data`: scheme, key id and base64 signature on one line."""
    signature = base64.b64encode(key.sign(data)).decode("ascii")
    return f"{SCHEME} {key_id(key.public_key())} {signature}\n".encode("ascii")


@dataclass(frozen=True)
class TrustedKeys:
    """The public keys a model version may be signed with, as raw bytes by key id (so it pickles)."""

    raw: Mapping[str, bytes] = field(default_factory=dict)

    @classmethod
    def from_files(cls, paths: Iterable[str | Path]) -> TrustedKeys:
        """Read one PEM public key from each file."""
        keys = [load_public_key(p) for p in paths]
        return cls({key_id(k): k.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
                    for k in keys})

    def __bool__(self) -> bool:
        """Whether any key is trusted (none: versions are not authenticated)."""
        return bool(self.raw)

    def trusts(self, key: Ed25519PrivateKey) -> bool:
        """Whether signatures made with this private key would be accepted."""
        return key_id(key.public_key()) in self.raw

    def verify(self, data: bytes, signature_path: Path) -> str:
        """Check the signature file over `data`; return the signing key's id or raise ArtifactError."""
        if not signature_path.is_file():
            raise ArtifactError(f"{signature_path.parent}: the version is not signed (no {signature_path.name}); "
                                "sign it with `coopclf models sign` or load it without trusted keys")
        parts = _read(signature_path, "signature").decode("ascii", "replace").split()
        if len(parts) != 3 or parts[0] != SCHEME:
            raise ArtifactError(f"{signature_path}: not a coopclf signature file")
        _, signer, encoded = parts
        if signer not in self.raw:
            raise ArtifactError(f"{signature_path}: signed by key {signer}, which is not among the trusted keys "
                                f"({', '.join(sorted(self.raw))})")
        try:
            signature = base64.b64decode(encoded, validate=True)
            Ed25519PublicKey.from_public_bytes(self.raw[signer]).verify(signature, data)
        except (binascii.Error, InvalidSignature):
            raise ArtifactError(f"{signature_path}: the signature does not match the manifest; the manifest "
                                "was modified after it was signed. It will not be loaded.") from None
        return signer


def new_key_pair(directory: str | Path) -> tuple[Path, Path]:
    """Write a fresh Ed25519 key pair as PEM (private key 0600); refuse to overwrite one."""
    directory = Path(directory)
    private, public = directory / PRIVATE_KEY_FILE, directory / PUBLIC_KEY_FILE
    key = Ed25519PrivateKey.generate()
    private_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption())
    public_pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                               serialization.PublicFormat.SubjectPublicKeyInfo)
    for path in (private, public):
        if path.exists():
            raise CoopclfError(f"{path}: already exists; choose another directory")
    try:
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        for path, data, mode in ((private, private_pem, 0o600), (public, public_pem, 0o644)):
            descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
    except FileExistsError as exc:
        raise CoopclfError(f"{exc.filename}: already exists; choose another directory") from None
    except OSError as exc:
        raise CoopclfError(f"{exc.filename or directory}: cannot write the key ({exc.strerror})") from None
    return private, public
