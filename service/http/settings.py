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
_POSITIVE = ("workers", "threads", "timeout", "max_body_bytes", "max_items", "max_chars")


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
    threads: int = 1
    timeout: int = 30
    artifacts: Path = Field(default_factory=default_artifacts_dir)
    allow_version_mismatch: bool = False
    max_body_bytes: int = 2 * 1024 * 1024
    max_items: int = 1000
    max_chars: int = 50_000
    admin_token: str | None = None
    feedback_dir: Path = Path("feedback")
    log_level: str = "info"

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _check(self) -> Settings:
        for name in _POSITIVE:
            if getattr(self, name) < 1:
                raise ValueError(f"{_var(name)} must be a positive integer, not {getattr(self, name)!r}")
        if not 0 <= self.port <= 65535:
            raise ValueError(f"{_var('port')} must be at most 65535, not {self.port}")
        if self.admin_token is not None and len(self.admin_token) < MIN_TOKEN_CHARS:
            raise ValueError(f"{_var('admin_token')} must be at least {MIN_TOKEN_CHARS} characters "
                             "(or unset, which turns the admin endpoint off)")
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
        return {_var(name): str(value) for name, value in self.model_dump().items() if value is not None}

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
    kind = {"int_parsing": "an integer", "bool_parsing": "true or false (1 or 0)"}.get(error["type"])
    if kind:
        return f"{_var(name)} must be {kind}, not {error['input']!r}"
    return f"{_var(name)}: {error['msg']}"
