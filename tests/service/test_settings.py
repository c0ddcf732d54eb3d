"""Settings come from one object: defaults, COOPCLF_* variables, then explicit overrides."""

from __future__ import annotations

import os
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
    ({"COOPCLF_FEEDBACK_TOKEN": "short"}, "COOPCLF_FEEDBACK_TOKEN must be at least 16 characters"),
    ({"COOPCLF_REQUEST_SECONDS": "0"}, "COOPCLF_REQUEST_SECONDS must be a positive number"),
    ({"COOPCLF_REQUEST_SECONDS": "soon"}, "COOPCLF_REQUEST_SECONDS must be a number"),
    ({"COOPCLF_MAX_REQUEST_CHARS": "0"}, "COOPCLF_MAX_REQUEST_CHARS must be a positive integer"),
    ({"COOPCLF_TIMEOUT": "19"}, "COOPCLF_TIMEOUT must be at least COOPCLF_REQUEST_SECONDS \\+ 10"),
    ({"COOPCLF_TIMEOUT": "30", "COOPCLF_REQUEST_SECONDS": "25"}, "so that no worker is stopped mid-request"),
])
def test_bad_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        Settings.from_env(env)


@pytest.mark.parametrize(("host", "bind"), [("127.0.0.1", "127.0.0.1:8000"), ("::1", "[::1]:8000")])
def test_bind_address(host: str, bind: str) -> None:
    assert Settings(host=host).bind == bind


def test_trusted_keys_are_a_path_list_and_the_signing_key_a_path() -> None:
    env = {"COOPCLF_TRUSTED_KEYS": f"/keys/a.pub{os.pathsep}/keys/b.pub{os.pathsep}",
           "COOPCLF_SIGNING_KEY": "/secret/coopclf-signing.key"}
    settings = Settings.from_env(env)
    assert settings.trusted_keys == (Path("/keys/a.pub"), Path("/keys/b.pub"))
    assert settings.signing_key == Path("/secret/coopclf-signing.key")
    assert Settings.from_env(settings.to_env()) == settings
    assert Settings.from_env({}).trusted_keys == () and "COOPCLF_TRUSTED_KEYS" not in Settings().to_env()


def test_limits_of_one_request_and_the_feedback_endpoint_are_read() -> None:
    env = {"COOPCLF_READ_TIMEOUT": "3", "COOPCLF_REQUEST_SECONDS": "2.5", "COOPCLF_MAX_REQUEST_CHARS": "1000",
           "COOPCLF_FEEDBACK_TOKEN": "f" * 16, "COOPCLF_FEEDBACK_MAX_BYTES": "4096", "COOPCLF_TIMEOUT": "13"}
    settings = Settings.from_env(env)
    assert (settings.read_timeout, settings.request_seconds, settings.timeout) == (3, 2.5, 13)
    assert (settings.max_request_chars, settings.feedback_token, settings.feedback_max_bytes) == (1000, "f" * 16, 4096)
    assert Settings.from_env(settings.to_env()) == settings
    defaults = Settings.from_env({})
    assert defaults.feedback_token is None  # the feedback endpoint is off until a token is set
    assert defaults.timeout >= defaults.request_seconds + 10
