"""Fixtures for the service tests: apps built by create_app over the tiny real model."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from coopclf.service.http.app import create_app
from coopclf.service.http.settings import Settings

TOKEN = "test-admin-token-0123456789"
FEEDBACK_TOKEN = "test-feedback-token-0123456789"
FEEDBACK_AUTH = {"Authorization": f"Bearer {FEEDBACK_TOKEN}"}
NARCOTICS = "Customs officers seized two tonnes of cocaine hidden in a banana shipment."
TRADE = "The two countries signed a free trade agreement to cut customs duties."
TOURISM = "Hotel occupancy on the coast reached ninety percent this summer."


@pytest.fixture
def settings(tiny_artifacts: Path, tmp_path: Path) -> Settings:
    """Settings over a private copy of the tiny model, with the admin and feedback endpoints on."""
    return Settings(artifacts=tiny_artifacts, feedback_dir=tmp_path / "feedback", admin_token=TOKEN,
                    feedback_token=FEEDBACK_TOKEN)


@pytest.fixture
def make_app(settings: Settings) -> Callable[..., Flask]:
    """Build an app with some settings changed."""
    def make(**changes: Any) -> Flask:
        return create_app(settings.model_copy(update=changes))
    return make


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    """The app with the test settings."""
    return make_app()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client of `app`."""
    return app.test_client()
