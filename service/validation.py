"""Reading and checking JSON request bodies; every problem becomes an APIError."""

from __future__ import annotations

import json

from flask import g, request

from service.errors import APIError


def _no_duplicates(pairs):
    keys = [k for k, _ in pairs]
    if len(keys) != len(set(keys)):
        duplicate = next(k for k in keys if keys.count(k) > 1)
        raise APIError(400, "invalid_json", f"duplicate key {duplicate!r} in a JSON object")
    return dict(pairs)


def _no_constants(name):
    raise APIError(400, "invalid_json", f"{name} is not valid JSON")


def read_json_object(required: bool = True) -> dict:
    """The request body as a JSON object (415, 400 or 413 when it cannot be one)."""
    raw = request.get_data(cache=False)  # MAX_CONTENT_LENGTH turns an oversized body into 413
    if not raw.strip() and not required:
        return {}
    mimetype = request.mimetype
    if mimetype != "application/json" and not mimetype.endswith("+json"):
        raise APIError(415, "unsupported_media_type", "send the body as application/json")
    charset = request.mimetype_params.get("charset", "utf-8").lower()
    if charset not in ("utf-8", "utf8"):
        raise APIError(415, "unsupported_media_type", f"charset {charset} is not supported; use UTF-8")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise APIError(400, "invalid_utf8", f"the body is not valid UTF-8 (byte {exc.start})") from None
    try:
        data = json.loads(text, object_pairs_hook=_no_duplicates, parse_constant=_no_constants)
    except json.JSONDecodeError as exc:
        raise APIError(
            400, "invalid_json", f"invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    except RecursionError:
        raise APIError(400, "invalid_json", "the JSON is nested too deeply") from None
    if not isinstance(data, dict):
        raise APIError(400, "invalid_type", "the body must be a JSON object")
    g.request_json = data  # the access log may show the texts, when an operator asked for that
    return data


def reject_unknown(data: dict, allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise APIError(422, "unknown_field", f"unknown field(s): {', '.join(unknown)}; allowed: {', '.join(allowed)}")


def check_text(value, where: str, limit: int) -> str:
    """A non-empty string of at most ``limit`` characters with no lone surrogate."""
    if not isinstance(value, str):
        raise APIError(400, "invalid_type", f"{where} must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise APIError(400, "invalid_text", f"{where} contains a lone surrogate (\\ud800-\\udfff)") from None
    if not value.strip():
        raise APIError(422, "empty_text", f"{where} is empty or only whitespace")
    if len(value) > limit:
        raise APIError(413, "text_too_long", f"{where} has {len(value)} characters; the limit is {limit}")
    return value


def check_bool(data: dict, key: str, default: bool) -> bool:
    value = data.get(key, default)
    if not isinstance(value, bool):
        raise APIError(400, "invalid_type", f"'{key}' must be true or false")
    return value


def check_int_range(data: dict, key: str, low: int, high: int) -> int | None:
    if key not in data:
        return None
    value = data[key]
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON has one number type: 3.0 is the integer 3
    if isinstance(value, bool) or not isinstance(value, int):
        raise APIError(400, "invalid_type", f"'{key}' must be an integer")
    if not low <= value <= high:
        raise APIError(422, "out_of_range", f"'{key}' must be between {low} and {high}")
    return value
