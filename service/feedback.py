"""Editors' corrections: POST /v1/feedback (editor token) and GET /v1/feedback (admin token)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from flask import Blueprint, Flask, current_app, jsonify, request

from model.taxonomy import load_taxonomy
from service.auth import require_admin, require_editor
from service.errors import APIError
from service.validation import check_text, read_json_object, reject_unknown
from training.feedback import Correction, FeedbackError, FeedbackStore

logger = logging.getLogger(__name__)

bp = Blueprint("feedback", __name__)

FIELDS = ("text", "topic", "kind", "predicted", "model_version", "item_id", "note")
MAX_LIST = 1000


def init_app(app: Flask) -> None:
    """Open the store when editors are configured; feedback is 404 otherwise."""
    app.extensions["newstag_feedback"] = None
    if app.config["EDITOR_TOKENS"]:
        try:
            app.extensions["newstag_feedback"] = FeedbackStore(app.config["DATABASE_URL"])
        except FeedbackError:
            logger.exception("feedback store unavailable; will retry on the next correction")
    app.register_blueprint(bp)


def _store() -> FeedbackStore:
    store = current_app.extensions.get("newstag_feedback")
    if store is None:
        try:
            store = current_app.extensions["newstag_feedback"] = FeedbackStore(current_app.config["DATABASE_URL"])
        except FeedbackError as exc:
            raise APIError(503, "feedback_unavailable", str(exc)) from None
    return store


def _optional_string(data: dict, key: str, limit: int) -> str | None:
    value = data.get(key)
    if value is None:
        return None
    return check_text(value, f"'{key}'", limit)


@bp.post("/v1/feedback")
def add_correction():
    editor = require_editor()
    data = read_json_object()
    reject_unknown(data, FIELDS)
    taxonomy = load_taxonomy()
    for key in ("text", "topic"):
        if key not in data:
            raise APIError(422, "missing_field", f"give '{key}'")
    text = check_text(data["text"], "'text'", current_app.config["MAX_TEXT_CHARS"])
    topic = data["topic"]
    if not isinstance(topic, str):
        raise APIError(400, "invalid_type", "'topic' must be a topic id string")
    if topic not in taxonomy:
        raise APIError(422, "unknown_topic", f"unknown topic {topic!r}; known: {', '.join(taxonomy.ids)}")
    kind = data.get("kind", "item")
    if kind not in ("item", "paragraph"):
        raise APIError(422, "invalid_kind", "'kind' must be 'item' or 'paragraph'")
    predicted = data.get("predicted")
    if predicted is not None and predicted not in taxonomy:
        raise APIError(422, "unknown_topic", f"unknown predicted topic {predicted!r}")
    correction = Correction(
        text=text,
        topic=topic,
        editor=editor,
        kind=kind,
        predicted=predicted,
        model_version=_optional_string(data, "model_version", 64),
        item_id=_optional_string(data, "item_id", 200),
        note=_optional_string(data, "note", 2000),
    )
    try:
        stored = _store().add(correction)
    except FeedbackError as exc:
        raise APIError(503, "feedback_unavailable", str(exc)) from None
    response = jsonify(id=stored.id, created_at=stored.created_at.isoformat(), editor=editor, topic=topic)
    response.status_code = 201
    return response


def parse_moment(value: str) -> datetime:
    """An RFC 3339 date-time or an ISO 8601 date (UTC when no offset is given)."""
    text = value.strip().upper().replace("Z", "+00:00")
    text = text.replace(":60", ":59")  # a leap second is the second before it, for a filter
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise APIError(400, "invalid_since", "'since' must be an ISO 8601 date or an RFC 3339 date-time") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@bp.get("/v1/feedback")
def list_corrections():
    if not current_app.config["EDITOR_TOKENS"]:
        raise APIError(404, "not_found", "The requested URL was not found on the server.")
    require_admin()
    since = request.args.get("since")
    moment = parse_moment(since) if since is not None else None
    limit_arg = request.args.get("limit", "100")
    if not limit_arg.isdigit() or not 1 <= int(limit_arg) <= MAX_LIST:
        raise APIError(400, "invalid_limit", f"'limit' must be an integer from 1 to {MAX_LIST}")
    try:
        found = _store().list(moment, int(limit_arg))
    except FeedbackError as exc:
        raise APIError(503, "feedback_unavailable", str(exc)) from None
    return jsonify(corrections=[c.to_dict() for c in found])
