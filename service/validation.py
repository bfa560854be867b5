"""Reading request bodies strictly and validating them with the contract's models.

Every problem becomes an :class:`~service.errors.APIError`. Which status and code a validation
error gets is decided here, once, by :data:`ERROR_RULES`.
"""

from __future__ import annotations

import json
from typing import TypeVar

from flask import request
from pydantic import BaseModel, ValidationError

from service.errors import APIError

M = TypeVar("M", bound=BaseModel)

# pydantic error type -> (HTTP status, our error code). Types not listed are wrong JSON types (400).
ERROR_RULES: dict[str, tuple[int, str]] = {
    "missing": (422, "missing_field"),
    "extra_forbidden": (422, "unknown_field"),
    "too_short": (422, "empty_batch"),
    "empty_text": (422, "empty_text"),
    "too_long": (413, "batch_too_large"),
    "string_too_long": (413, "text_too_long"),
    "greater_than_equal": (422, "out_of_range"),
    "less_than_equal": (422, "out_of_range"),
    "unknown_topic": (422, "unknown_topic"),
    "invalid_kind": (422, "invalid_kind"),
    "invalid_also": (422, "invalid_also"),
    "invalid_format": (422, "invalid_format"),
    "string_unicode": (400, "invalid_text"),
}
WRONG_TYPE = (400, "invalid_type")


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
    return data


def _where(loc: tuple) -> str:
    """("items", 0, "id") -> "items[0].id"; ("text",) -> "'text'"."""
    # Union members add their type ("str", "function-after[…]") to the location: not a field.
    parts = [p for p in loc if not (isinstance(p, str) and (p in ("str", "int") or "[" in p))]
    if len(parts) == 1:
        return f"'{parts[0]}'"
    out = ""
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _api_error(exc: ValidationError) -> APIError:
    errors = exc.errors(include_url=False)
    # An unknown field is reported first: the rest of such a body means nothing.
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    status, code = ERROR_RULES.get(error["type"], WRONG_TYPE)
    where = _where(tuple(error["loc"]))
    if code == "unknown_field":
        message = f"unknown field {where}"
    elif code == "missing_field":
        message = f"{where} is missing"
    elif code == "empty_text":
        message = f"{where} is empty or only whitespace"
    elif code == "invalid_text":
        message = f"{where} contains a lone surrogate (\\ud800-\\udfff)"
    else:
        message = f"{where}: {error['msg']}" if where else error["msg"]
    return APIError(status, code, message)


def parse(model: type[M], data: dict) -> M:
    """``data`` validated by ``model``, or the APIError its first problem deserves."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise _api_error(exc) from None
