"""Editors' corrections: POST /v1/feedback (editor token) and GET /v1/feedback (admin token)."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from flask import Blueprint, Flask, current_app, jsonify, request
from pydantic import ValidationError

from newstag.settings import Settings

if TYPE_CHECKING:
    from training.feedback import FeedbackStore
from service.accesslog import note_texts
from service.auth import require_admin, require_editor, require_feedback
from service.context import app_settings, contract
from service.errors import APIError
from service.validation import parse, read_json_object

logger = logging.getLogger(__name__)

bp = Blueprint("feedback", __name__)


def init_app(app: Flask, settings: Settings) -> None:
    """Open the store when editors are configured; feedback is 404 otherwise.

    SQLAlchemy is imported only then: a service without editors never loads it.
    """
    app.extensions["newstag_feedback"] = None
    if settings.editor_tokens:
        from training.feedback import FeedbackError, FeedbackStore

        try:
            app.extensions["newstag_feedback"] = FeedbackStore(settings.database)
        except FeedbackError:
            logger.exception("feedback store unavailable; will retry on the next correction")
    app.register_blueprint(bp)


def _store() -> FeedbackStore:
    from training.feedback import FeedbackError, FeedbackStore

    store = current_app.extensions.get("newstag_feedback")
    if store is None:
        try:
            store = current_app.extensions["newstag_feedback"] = FeedbackStore(app_settings().database)
        except FeedbackError as exc:
            raise APIError(503, "feedback_unavailable", str(exc)) from None
    return store


@bp.post("/v1/feedback")
def add_correction():
    from training.feedback import Correction, FeedbackError

    editor = require_editor()
    body = parse(contract().requests["FeedbackRequest"], read_json_object())
    note_texts([body.text])
    correction = Correction(editor=editor, **{**body.model_dump(), "also": tuple(body.also)})
    try:
        stored = _store().add(correction)
    except FeedbackError as exc:
        raise APIError(503, "feedback_unavailable", str(exc)) from None
    response = jsonify(id=stored.id, created_at=stored.created_at.isoformat(), editor=editor, topic=body.topic)
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
    require_feedback()
    require_admin()
    from training.feedback import FeedbackError

    try:
        query = contract().requests["FeedbackQuery"].model_validate(request.args.to_dict())
    except ValidationError as exc:
        error = exc.errors(include_url=False)[0]
        field = error["loc"][0]
        raise APIError(400, f"invalid_{field}", f"'{field}': {error['msg']}") from None
    moment = parse_moment(query.since) if query.since is not None else None
    try:
        found = _store().list(moment, query.limit)
    except FeedbackError as exc:
        raise APIError(503, "feedback_unavailable", str(exc)) from None
    return jsonify(corrections=[c.to_dict() for c in found])
