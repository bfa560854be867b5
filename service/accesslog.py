"""One access-log line a request, as JSON (python-json-logger), with a request id.

Texts are never logged unless the operator sets NEWSTAG_LOG_TEXTS; then the endpoint that read
them hands them over with :func:`note_texts` (this module knows no request shapes).
"""

from __future__ import annotations

import logging
import re
import sys
import time
import uuid

from flask import Flask, g, request
from pythonjsonlogger.json import JsonFormatter

from service.serving import serving

access_log = logging.getLogger("newstag.access")

LOGGED_TEXT_CHARS = 2000
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def formatter() -> logging.Formatter:
    """One JSON object a line: {"event": "request", "method": …, "path": …, "status": …}."""
    return JsonFormatter("{message}", style="{", rename_fields={"message": "event"}, json_ensure_ascii=False)


def configure(stream=sys.stderr) -> None:
    """Write the access log as bare JSON lines to ``stream`` (the server calls this once)."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(formatter())
    access_log.handlers[:] = [handler]
    access_log.propagate = False
    access_log.setLevel(logging.INFO)


def note_texts(texts: list[str]) -> None:
    """The texts this request carried, for the access log when NEWSTAG_LOG_TEXTS is on."""
    g.logged_texts = [text[:LOGGED_TEXT_CHARS] for text in texts]


def init_app(app: Flask) -> None:
    log_texts = app.extensions["newstag_settings"].log_texts

    @app.before_request
    def _start():
        g.started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
        loaded = serving().get()
        if loaded is not None:
            response.headers["X-Model-Version"] = loaded.version
        started = g.get("started")
        entry = {
            "method": request.method,
            "path": request.path,
            "status": response.status_code,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2) if started else None,
            "request_id": response.headers["X-Request-ID"],
            "bytes_in": request.content_length,
            "model_version": response.headers.get("X-Model-Version"),
        }
        if log_texts:
            entry["texts"] = g.get("logged_texts", [])
        access_log.info("request", extra=entry)
        return response
