"""Cross-origin calls: refused (403) unless the origin is configured (NEWSTAG_CORS_ORIGINS)."""

from __future__ import annotations

from flask import Flask, request

from service.errors import error_response


def _same_origin(origin: str) -> bool:
    return origin.rstrip("/") == request.host_url.rstrip("/")


def init_app(app: Flask) -> None:
    allowed = app.extensions["newstag_settings"].cors_origins

    @app.before_request
    def _check_origin():
        origin = request.headers.get("Origin")
        if origin and not _same_origin(origin) and origin not in allowed:
            return error_response(403, "origin_not_allowed", f"cross-origin calls from {origin} are not allowed")
        if origin and request.method == "OPTIONS":
            response = app.make_default_options_response()
            response.status_code = 204
            return response
        return None

    @app.after_request
    def _allow(response):
        origin = request.headers.get("Origin")
        if origin and origin in allowed:
            response.headers["Access-Control-Allow-Origin"] = origin
            response.headers["Access-Control-Allow-Headers"] = "Content-Type, Authorization, X-Request-ID"
            response.headers["Access-Control-Allow-Methods"] = "GET, POST, OPTIONS"
            response.headers["Access-Control-Expose-Headers"] = "X-Request-ID, X-Model-Version"
            response.headers.add("Vary", "Origin")
        return response
