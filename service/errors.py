"""One JSON error shape for every failure: {"error": {"code": str, "message": str}}."""

from __future__ import annotations

import logging

from flask import Flask, jsonify
from werkzeug.exceptions import HTTPException

logger = logging.getLogger(__name__)

# Werkzeug's exceptions by status -> our stable error codes.
_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    415: "unsupported_media_type",
    422: "unprocessable",
    429: "too_many_requests",
    503: "unavailable",
}


class APIError(Exception):
    """An error a client caused or must wait out, with its HTTP status."""

    def __init__(self, status: int, code: str, message: str, **details):
        super().__init__(message)
        self.status, self.code, self.message, self.details = status, code, message, details


def error_response(status: int, code: str, message: str, **details):
    body = {"error": {"code": code, "message": message, **details}}
    response = jsonify(body)
    response.status_code = status
    return response


def init_app(app: Flask) -> None:
    """Register handlers so no error ever leaves as HTML or a traceback."""

    @app.errorhandler(APIError)
    def _api_error(error: APIError):
        return error_response(error.status, error.code, error.message, **error.details)

    @app.errorhandler(HTTPException)
    def _http_error(error: HTTPException):
        status = error.code or 500
        response = error_response(status, _CODES.get(status, "http_error"), error.description or error.name)
        if status == 405 and error.valid_methods:
            response.headers["Allow"] = ", ".join(sorted(error.valid_methods))
        return response

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):
        logger.exception("unhandled error")
        return error_response(500, "internal_error", "The server failed to answer; the error is logged.")
