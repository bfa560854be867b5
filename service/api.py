"""API v1: topics, model metadata, classify, tag-page, and the admin reload."""

from __future__ import annotations

import logging
import os

from flask import Blueprint, current_app, jsonify

from model.artifact import ArtifactError, LoadedModel
from model.page import tag_page
from model.taxonomy import load_taxonomy
from service.auth import require_admin
from service.errors import APIError
from service.serving import OutsideRoot, serving
from service.validation import (
    check_bool,
    check_int_range,
    check_text,
    read_json_object,
    reject_unknown,
)
from training.gate import GateMargins, check_candidate

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__)

CLASSIFY_FIELDS = ("text", "texts", "items", "top_k", "explain")
TAG_PAGE_FIELDS = ("text", "explain")
RELOAD_FIELDS = ("model", "force")


def _ready(loaded: LoadedModel | None) -> LoadedModel:
    if loaded is None:
        raise APIError(503, "no_model", "no model is loaded yet; try again shortly")
    return loaded


def _model() -> LoadedModel:
    return _ready(serving().get())


@bp.get("/healthz")
def healthz():
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    loaded = serving().get()
    if loaded is None:
        raise APIError(503, "not_ready", "no model is loaded yet")
    return jsonify(status="ready", model_version=loaded.version, worker=os.getpid())


@bp.get("/v1/topics")
def topics():
    loaded = serving().get()
    taxonomy = loaded.model.taxonomy if loaded is not None else load_taxonomy()
    return jsonify(topics=[t.to_dict() for t in taxonomy.topics])


@bp.get("/v1/model")
def model_metadata():
    loaded = _model()
    meta = dict(loaded.metadata)
    return jsonify(model_version=loaded.version, **{k: v for k, v in meta.items() if k != "version"})


def _inputs(data: dict, limits: dict) -> list[tuple[object, str]]:
    """(id or None, text) pairs from exactly one of text, texts or items."""
    given = [key for key in ("text", "texts", "items") if key in data]
    if len(given) != 1:
        raise APIError(422, "one_input", "give exactly one of 'text', 'texts' or 'items'")
    key = given[0]
    if key == "text":
        return [(None, check_text(data["text"], "'text'", limits["MAX_TEXT_CHARS"]))]
    batch = data[key]
    if not isinstance(batch, list):
        raise APIError(400, "invalid_type", f"'{key}' must be an array")
    if not batch:
        raise APIError(422, "empty_batch", f"'{key}' is empty")
    if len(batch) > limits["MAX_BATCH"]:
        raise APIError(413, "batch_too_large", f"'{key}' has {len(batch)} entries; the limit is {limits['MAX_BATCH']}")
    pairs = []
    for index, entry in enumerate(batch):
        if key == "texts":
            pairs.append((None, check_text(entry, f"texts[{index}]", limits["MAX_TEXT_CHARS"])))
            continue
        if not isinstance(entry, dict):
            raise APIError(400, "invalid_type", f"items[{index}] must be an object with 'id' and 'text'")
        reject_unknown(entry, ("id", "text"))
        for field in ("id", "text"):
            if field not in entry:
                raise APIError(422, "missing_field", f"items[{index}] has no '{field}'")
        item_id = entry["id"]
        if isinstance(item_id, bool) or not isinstance(item_id, str | int):
            raise APIError(400, "invalid_type", f"items[{index}].id must be a string or an integer")
        if isinstance(item_id, str):
            check_text(item_id, f"items[{index}].id", 200)
        pairs.append((item_id, check_text(entry["text"], f"items[{index}].text", limits["MAX_TEXT_CHARS"])))
    return pairs


@bp.post("/v1/classify")
def classify():
    data = read_json_object()
    reject_unknown(data, CLASSIFY_FIELDS)
    # One model for the whole request, even if a reload swaps another in meanwhile.
    loaded = serving().get()
    taxonomy = loaded.model.taxonomy if loaded is not None else load_taxonomy()
    top_k = check_int_range(data, "top_k", 1, len(taxonomy))
    explain = check_bool(data, "explain", True)
    pairs = _inputs(data, current_app.config)
    loaded = _ready(loaded)
    predictions = loaded.model.predict([text for _, text in pairs], explain=explain)
    results = []
    for (item_id, _), prediction in zip(pairs, predictions, strict=True):
        result = {"id": item_id} if item_id is not None else {}
        result.update(prediction.to_dict(top_k=top_k, explain=explain))
        results.append(result)
    return jsonify(model_version=loaded.version, results=results)


@bp.post("/v1/tag-page")
def tag_page_endpoint():
    data = read_json_object()
    reject_unknown(data, TAG_PAGE_FIELDS)
    if "text" not in data:
        raise APIError(422, "missing_field", "give the page as 'text'")
    page = check_text(data["text"], "'text'", current_app.config["MAX_PAGE_CHARS"])
    explain = check_bool(data, "explain", True)
    loaded = _model()
    return jsonify(model_version=loaded.version, items=tag_page(loaded.model, page, explain=explain))


@bp.post("/v1/admin/reload")
def reload_model():
    require_admin()
    data = read_json_object(required=False)
    reject_unknown(data, RELOAD_FIELDS)
    model_path = data.get("model")
    if "model" in data and not isinstance(model_path, str):
        raise APIError(400, "invalid_type", "'model' must be a path string")
    force = check_bool(data, "force", False)
    holder = serving()
    try:
        version_dir = holder.within_root(model_path)
        candidate = holder.load_candidate(version_dir)
    except OutsideRoot as exc:
        raise APIError(400, "outside_model_root", str(exc)) from None
    except ArtifactError as exc:
        raise APIError(422, "invalid_model", str(exc)) from None
    current = holder.get()
    if current is not None and not force:
        margins = GateMargins(current_app.config["GATE_MARGIN"], current_app.config["GATE_TOPIC_MARGIN"])
        verdict = check_candidate(current, candidate, margins)
        if not verdict.passed:
            raise APIError(409, "gate_refused", verdict.message, gate=verdict.to_dict())
    previous = holder.swap(candidate)
    logger.info("reloaded model %s (was %s)", candidate.version, previous.version if previous else None)
    return jsonify(
        model_version=candidate.version,
        previous_version=previous.version if previous else None,
    )
