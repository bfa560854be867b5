"""Request ids, one JSON access-log line a request, response headers, and the CORS rule."""

from __future__ import annotations

import json
import logging
import re
import time
import uuid

from flask import Flask, g, request

from service.errors import error_response
from service.serving import serving

access_log = logging.getLogger("newstag.access")

# The editor page loads only its own script and style; no inline code, no other origin.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)

LOGGED_TEXT_CHARS = 2000

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,128}$")


def _texts(body) -> list[str]:
    """The texts a JSON request carried (for LOG_TEXTS), each cut to LOGGED_TEXT_CHARS."""
    if not isinstance(body, dict):
        return []
    found = []
    if isinstance(body.get("text"), str):
        found.append(body["text"])
    texts, items = body.get("texts"), body.get("items")
    if isinstance(texts, list):
        found.extend(entry for entry in texts if isinstance(entry, str))
    if isinstance(items, list):
        found.extend(e["text"] for e in items if isinstance(e, dict) and isinstance(e.get("text"), str))
    return [text[:LOGGED_TEXT_CHARS] for text in found]


def _same_origin(origin: str) -> bool:
    return origin.rstrip("/") == request.host_url.rstrip("/")


def init_app(app: Flask) -> None:
    @app.before_request
    def _start():
        g.started = time.perf_counter()
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex
        origin = request.headers.get("Origin")
        if origin and not _same_origin(origin) and origin not in app.config["CORS_ORIGINS"]:
            return error_response(403, "origin_not_allowed", f"cross-origin calls from {origin} are not allowed")
        if origin and request.method == "OPTIONS":
            response = app.make_default_options_response()
            response.status_code = 204
            return response
        return None

    @app.after_request
    def _finish(response):
        response.headers["X-Request-ID"] = g.get("request_id") or uuid.uuid4().hex
        loaded = serving().get()
        if loaded is not None:
            response.headers["X-Model-Version"] = loaded.version
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        response.headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        response.headers.setdefault("Referrer-Policy", "no-referrer")
        response.headers.setdefault("X-Frame-Options", "DENY")
        origin = request.headers.get("Origin")
        if origin and origin in app.config["CORS_ORIGINS"]:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization, X-Request-ID"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Expose-Headers"] = "X-Request-ID, X-Model-Version"
            response.headers.add("Vary", "Origin")
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
        if app.config["LOG_TEXTS"]:
            entry["texts"] = _texts(g.get("request_json"))
        access_log.info(json.dumps(entry, ensure_ascii=False))
        return response
