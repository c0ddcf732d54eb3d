"""`coopclf serve`: run the app under gunicorn with service/http/gunicorn.conf.py."""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any

from gunicorn.app.base import Application

from coopclf.errors import ArtifactError
from coopclf.service.http.settings import Settings

CONFIG = Path(__file__).with_name("gunicorn.conf.py")


class _Service(Application):
    """gunicorn application whose config is only gunicorn.conf.py and whose app is create_app()."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        super().__init__()

    def init(self, parser: Any, opts: Any, args: Any) -> None:
        """Unused: there are no gunicorn command-line arguments to parse."""

    def load_config(self) -> None:
        """Read gunicorn.conf.py (never sys.argv)."""
        self.load_config_from_file(str(CONFIG))

    def load(self) -> Any:
        """Build the app; gunicorn calls this once, in the master, before forking (preload_app)."""
        from coopclf.service.http.app import create_app  # after the config has set PROMETHEUS_MULTIPROC_DIR

        return create_app(self.settings)


def run(host: str | None = None, port: int | None = None, workers: int | None = None,
        artifacts: str | None = None) -> int:
    """Serve until stopped; arguments left None come from COOPCLF_* variables or defaults."""
    settings = Settings.from_env(host=host, port=port, workers=workers,
                                 artifacts=Path(artifacts) if artifacts else None)
    # gunicorn.conf.py reads its settings from the environment, also when SIGHUP re-reads it.
    os.environ.update(settings.to_env())
    service = _Service(settings)
    try:
        state = service.wsgi().extensions["coopclf"]
        if state.holder.current is None:
            raise ArtifactError(f"cannot serve: {state.holder.error}")
    except BaseException:
        owned = os.environ.get("COOPCLF_METRICS_OWNED")
        if owned:
            shutil.rmtree(owned, ignore_errors=True)
        raise
    service.run()
    return 0
