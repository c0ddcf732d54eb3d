"""The settings of the service and the command line: one frozen object read from COOPCLF_* variables."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from coopclf.artifact import default_artifacts_dir
from coopclf.errors import CoopclfError

PREFIX = "COOPCLF_"
MIN_TOKEN_CHARS = 16
LOG_LEVELS = ("debug", "info", "warning", "error")
TIMEOUT_MARGIN_S = 10  # COOPCLF_TIMEOUT exceeds the request budget by this much: the worst request's last text
_POSITIVE = ("workers", "threads", "timeout", "read_timeout", "request_seconds", "max_body_bytes", "max_items",
             "max_chars", "max_request_chars", "feedback_max_bytes")
_TOKENS = (("admin_token", "admin endpoint"), ("feedback_token", "feedback endpoint"))


class SettingsError(CoopclfError):
    """A COOPCLF_* variable or a command-line option has an unusable value."""


def _var(name: str) -> str:
    return PREFIX + name.upper()


class Settings(BaseModel):
    """Everything coopclf can be configured with; build it with `Settings.from_env()`."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 32
    timeout: int = 30
    read_timeout: int = 10
    request_seconds: float = 10.0
    artifacts: Path = Field(default_factory=default_artifacts_dir)
    allow_version_mismatch: bool = False
    max_body_bytes: int = 2 * 1024 * 1024
    max_items: int = 1000
    max_chars: int = 50_000
    max_request_chars: int = 500_000
    admin_token: str | None = None
    feedback_token: str | None = None
    feedback_dir: Path = Path("feedback")
    feedback_max_bytes: int = 100 * 1024 * 1024
    log_level: str = "info"
    trusted_keys: tuple[Path, ...] = ()  # PEM public keys; COOPCLF_TRUSTED_KEYS joins them with os.pathsep
    signing_key: Path | None = None  # the PEM private key `train` signs new versions with

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @field_validator("trusted_keys", mode="before")
    @classmethod
    def _split_paths(cls, value: Any) -> Any:
        if isinstance(value, str):
            return tuple(part.strip() for part in value.split(os.pathsep) if part.strip())
        return value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        for name in _POSITIVE:
            value = getattr(self, name)
            if value <= 0:
                kind = "number" if isinstance(value, float) else "integer"
                raise ValueError(f"{_var(name)} must be a positive {kind}, not {value!r}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"{_var('port')} must be at most 65535, not {self.port}")
        for name, endpoint in _TOKENS:
            token = getattr(self, name)
            if token is not None and len(token) < MIN_TOKEN_CHARS:
                raise ValueError(f"{_var(name)} must be at least {MIN_TOKEN_CHARS} characters "
                                 f"(or unset, which turns the {endpoint} off)")
        if self.timeout < self.request_seconds + TIMEOUT_MARGIN_S:
            raise ValueError(f"{_var('timeout')} must be at least {_var('request_seconds')} + {TIMEOUT_MARGIN_S} "
                             f"({self.request_seconds:g} + {TIMEOUT_MARGIN_S}), so that no worker is stopped "
                             f"mid-request, not {self.timeout}")
        if self.log_level not in LOG_LEVELS:
            raise ValueError(f"{_var('log_level')} must be one of {', '.join(LOG_LEVELS)}")
        return self

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then COOPCLF_<FIELD> variables (blank ones unset), then overrides (None means unset)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            raw = environ.get(_var(name))
            if raw is not None and raw.strip():
                values[name] = raw.strip()
        values.update({k: v for k, v in overrides.items() if v is not None})
        try:
            return cls(**values)
        except ValidationError as exc:
            raise SettingsError(_explain(exc)) from None

    def to_env(self) -> dict[str, str]:
        """These settings as COOPCLF_* variables, for gunicorn's config file and child processes."""
        return {_var(name): os.pathsep.join(map(str, value)) if isinstance(value, tuple) else str(value)
                for name, value in self.model_dump().items() if value is not None and value != ()}

    @property
    def bind(self) -> str:
        """gunicorn's bind address (IPv6 hosts bracketed)."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.port}"


def _explain(exc: ValidationError) -> str:
    """The first error of a validation, naming the variable it came from."""
    error = exc.errors()[0]
    if not error["loc"]:  # from _check: its message already names the variable
        return str(error["ctx"]["error"]) if "ctx" in error else error["msg"]
    name = str(error["loc"][0])
    kind = {"int_parsing": "an integer", "float_parsing": "a number",
            "bool_parsing": "true or false (1 or 0)"}.get(error["type"])
    if kind:
        return f"{_var(name)} must be {kind}, not {error['input']!r}"
    return f"{_var(name)}: {error['msg']}"
