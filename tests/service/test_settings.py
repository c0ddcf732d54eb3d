"""Settings come from one object: defaults, COOPCLF_* variables, then explicit overrides."""

from __future__ import annotations

from pathlib import Path

import pytest

from coopclf.artifact import default_artifacts_dir
from coopclf.service.http.settings import Settings, SettingsError


def test_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = Settings.from_env({})
    assert (settings.host, settings.port, settings.workers) == ("127.0.0.1", 8000, 2)
    assert settings.max_body_bytes == 2 * 1024 * 1024
    assert (settings.max_items, settings.max_chars) == (1000, 50_000)
    assert settings.admin_token is None
    assert settings.feedback_dir == Path("feedback")
    monkeypatch.delenv("COOPCLF_ARTIFACTS", raising=False)
    assert Settings.from_env({}).artifacts == default_artifacts_dir()


def test_environment_variables_are_read() -> None:
    env = {"COOPCLF_HOST": "0.0.0.0", "COOPCLF_PORT": "9001", "COOPCLF_WORKERS": "4",
           "COOPCLF_ARTIFACTS": "/models", "COOPCLF_MAX_BODY_BYTES": "1000", "COOPCLF_MAX_ITEMS": "5",
           "COOPCLF_MAX_CHARS": "99", "COOPCLF_ADMIN_TOKEN": "s" * 20, "COOPCLF_FEEDBACK_DIR": "/fb",
           "COOPCLF_LOG_LEVEL": "WARNING", "COOPCLF_THREADS": "3", "COOPCLF_TIMEOUT": "60"}
    settings = Settings.from_env(env)
    assert settings == Settings(host="0.0.0.0", port=9001, workers=4, threads=3, timeout=60,
                                artifacts=Path("/models"), max_body_bytes=1000, max_items=5, max_chars=99,
                                admin_token="s" * 20, feedback_dir=Path("/fb"), log_level="warning")
    assert Settings.from_env(settings.to_env()) == settings


def test_overrides_win_and_none_means_unset() -> None:
    env = {"COOPCLF_PORT": "9001", "COOPCLF_HOST": "0.0.0.0"}
    settings = Settings.from_env(env, port=9100, host=None, artifacts=Path("/a"))
    assert (settings.port, settings.host, settings.artifacts) == (9100, "0.0.0.0", Path("/a"))


def test_blank_variables_count_as_unset() -> None:
    assert Settings.from_env({"COOPCLF_ADMIN_TOKEN": "", "COOPCLF_PORT": " "}).admin_token is None


@pytest.mark.parametrize(("env", "message"), [
    ({"COOPCLF_PORT": "eighty"}, "COOPCLF_PORT must be an integer"),
    ({"COOPCLF_PORT": "70000"}, "COOPCLF_PORT must be at most 65535"),
    ({"COOPCLF_WORKERS": "0"}, "COOPCLF_WORKERS must be a positive integer"),
    ({"COOPCLF_MAX_ITEMS": "-1"}, "COOPCLF_MAX_ITEMS must be a positive integer"),
    ({"COOPCLF_ADMIN_TOKEN": "short"}, "at least 16 characters"),
    ({"COOPCLF_LOG_LEVEL": "loud"}, "COOPCLF_LOG_LEVEL must be one of"),
])
def test_bad_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(("host", "bind"), [("127.0.0.1", "127.0.0.1:8000"), ("::1", "[::1]:8000")])
def test_bind_address(host: str, bind: str) -> None:
    assert Settings(host=host).bind == bind
