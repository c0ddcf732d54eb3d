"""The service's settings: one frozen object read from COOPCLF_* environment variables."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from classifier.artifact import ENV_ARTIFACTS, default_artifacts_dir
from classifier.errors import CoopclfError

PREFIX = "COOPCLF_"
MIN_TOKEN_CHARS = 16
LOG_LEVELS = ("debug", "info", "warning", "error")


class SettingsError(CoopclfError):
    """A COOPCLF_* variable or a command-line option has an unusable value."""


@dataclass(frozen=True)
class Settings:
    """Everything the service can be configured with; build it with `Settings.from_env()`."""

    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = 2
    threads: int = 1
    timeout: int = 30
    artifacts: Path | None = None
    max_body_bytes: int = 2 * 1024 * 1024
    max_items: int = 1000
    max_chars: int = 50_000
    admin_token: str | None = None
    feedback_dir: Path = Path("feedback")
    log_level: str = "info"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then COOPCLF_<FIELD> variables, then explicit overrides (None means unset)."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for field in dataclasses.fields(cls):
            raw = environ.get(PREFIX + field.name.upper())
            if raw is not None and raw.strip() != "":
                values[field.name] = _convert(field.name, raw.strip())
        values.update({k: v for k, v in overrides.items() if v is not None})
        if values.get("artifacts") is None:
            values["artifacts"] = (Path(environ[ENV_ARTIFACTS]) if environ.get(ENV_ARTIFACTS)
                                   else default_artifacts_dir())
        values["artifacts"] = Path(values["artifacts"])
        values["feedback_dir"] = Path(values.get("feedback_dir", cls.feedback_dir))
        settings = cls(**values)
        settings.check()
        return settings

    def check(self) -> None:
        """Raise SettingsError naming the first setting that cannot work."""
        for name in ("port", "workers", "threads", "timeout", "max_body_bytes", "max_items", "max_chars"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < (0 if name == "port" else 1):
                raise SettingsError(f"{_var(name)} must be a positive integer, not {value!r}")
        if self.port > 65535:
            raise SettingsError(f"{_var('port')} must be at most 65535, not {self.port}")
        if self.admin_token is not None and len(self.admin_token) < MIN_TOKEN_CHARS:
            raise SettingsError(f"{_var('admin_token')} must be at least {MIN_TOKEN_CHARS} characters "
                                "(or unset, which turns the admin endpoint off)")
        if self.log_level not in LOG_LEVELS:
            raise SettingsError(f"{_var('log_level')} must be one of {', '.join(LOG_LEVELS)}")

    def to_env(self) -> dict[str, str]:
        """These settings as COOPCLF_* variables, for gunicorn's config file and child processes."""
        env = {}
        for field in dataclasses.fields(self):
            value = getattr(self, field.name)
            if value is not None:
                env[PREFIX + field.name.upper()] = str(value)
        return env

    @property
    def bind(self) -> str:
        """gunicorn's bind address (IPv6 hosts bracketed)."""
        host = f"[{self.host}]" if ":" in self.host and not self.host.startswith("[") else self.host
        return f"{host}:{self.port}"


def _var(name: str) -> str:
    return PREFIX + name.upper()


def _convert(name: str, raw: str) -> Any:
    kind = {f.name: f.type for f in dataclasses.fields(Settings)}[name]
    if kind == "int":
        try:
            return int(raw)
        except ValueError:
            raise SettingsError(f"{_var(name)} must be an integer, not {raw!r}") from None
    if name == "log_level":
        return raw.lower()
    if kind.startswith("Path"):
        return Path(raw)
    return raw
