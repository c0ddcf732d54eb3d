"""Request ids and the service's one-JSON-object-a-line log."""

from __future__ import annotations

import json
import logging
import re
import sys
import time
import traceback
import uuid
from typing import Any

from flask import has_request_context, request

LOGGER = "coopclf"
REQUEST_ID = "coopclf.request_id"
ITEMS = "coopclf.items"
STARTED = "coopclf.started"
_VALID_ID = re.compile(r"[A-Za-z0-9._:/+=-]{1,128}")


def request_id_from(header: str | None) -> str:
    """The caller's X-Request-ID if it is a sane token, else a fresh random one."""
    if header and _VALID_ID.fullmatch(header):
        return header
    return uuid.uuid4().hex


def current_request_id() -> str:
    """The id of the request being handled, or '-' outside a request."""
    if not has_request_context():
        return "-"
    return str(request.environ.get(REQUEST_ID, "-"))


class JsonLineFormatter(logging.Formatter):
    """One JSON object a line: dict messages are merged in, tracebacks become a field."""

    def format(self, record: logging.LogRecord) -> str:
        """Render `record` as a single line."""
        line: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
                  + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
        }
        if isinstance(record.msg, dict):
            line.update(record.msg)
        else:
            line["msg"] = record.getMessage()
        if record.exc_info:
            line["traceback"] = "".join(traceback.format_exception(*record.exc_info)).rstrip()
        return json.dumps(line, ensure_ascii=False, default=str)


class StderrHandler(logging.Handler):
    """Writes to whatever sys.stderr is when a record arrives (gunicorn and pytest swap it)."""

    def emit(self, record: logging.LogRecord) -> None:
        """Write one formatted line."""
        try:
            sys.stderr.write(self.format(record) + "\n")
        except Exception:  # a log line must never break a request
            self.handleError(record)


def configure(level: str) -> logging.Logger:
    """Give the `coopclf` logger its JSON-line handler (once) and level."""
    logger = logging.getLogger(LOGGER)
    if not any(isinstance(h, StderrHandler) for h in logger.handlers):
        handler = StderrHandler()
        handler.setFormatter(JsonLineFormatter())
        logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    return logger
