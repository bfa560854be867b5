"""API v1: topics, model metadata, classify, tag-page, and the admin reload."""

from __future__ import annotations

import logging
import os

from flask import Blueprint, jsonify

from model.artifact import ArtifactError, LoadedModel
from model.ninjs import page_to_ninjs, to_ninjs
from model.page import tag_page
from model.places import add_places
from service.accesslog import note_texts
from service.auth import require_admin
from service.context import app_settings, contract
from service.errors import APIError
from service.serving import OutsideRoot, serving
from service.validation import parse, read_json_object

logger = logging.getLogger(__name__)

bp = Blueprint("api", __name__)


def _ready(loaded: LoadedModel | None) -> LoadedModel:
    if loaded is None:
        raise APIError(503, "no_model", "no model is loaded yet; try again shortly")
    return loaded


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
    if loaded is not None:
        taxonomy = loaded.model.taxonomy
    else:
        from model.taxonomy import load_taxonomy

        taxonomy = load_taxonomy()
    return jsonify(topics=[t.to_dict() for t in taxonomy.topics])


@bp.get("/v1/model")
def model_metadata():
    loaded = _ready(serving().get())
    meta = dict(loaded.metadata)
    return jsonify(model_version=loaded.version, **{k: v for k, v in meta.items() if k != "version"})


@bp.post("/v1/classify")
def classify():
    data = read_json_object()
    # One model for the whole request, even if a reload swaps another in meanwhile.
    loaded = serving().get()
    models = contract(loaded.model.taxonomy.ids if loaded else None).classify_inputs
    given = [key for key in models if key in data]
    if len(given) != 1:
        raise APIError(422, "one_input", f"give exactly one of {', '.join(repr(k) for k in models)}")
    body = parse(models[given[0]], data)
    if given[0] == "text":
        pairs = [(None, body.text)]
    elif given[0] == "texts":
        pairs = [(None, text) for text in body.texts]
    else:
        pairs = [(item.id, item.text) for item in body.items]
    note_texts([text for _, text in pairs])
    loaded = _ready(loaded)
    # ninjs has no place for the deciding terms, and its subjects want every label's score.
    ninjs = body.format == "ninjs"
    explain = body.explain and not ninjs
    predictions = loaded.model.predict([text for _, text in pairs], explain=explain)
    province = app_settings().default_province
    results = []
    for (item_id, text), prediction in zip(pairs, predictions, strict=True):
        result = {"id": item_id} if item_id is not None else {}
        result.update(prediction.to_dict(top_k=None if ninjs else body.top_k, explain=explain))
        result = add_places(result, text, province)
        results.append(to_ninjs(result, loaded.model.taxonomy, loaded.version, text=text) if ninjs else result)
    if ninjs:
        return jsonify(model_version=loaded.version, items=results)
    return jsonify(model_version=loaded.version, results=results)


@bp.post("/v1/tag-page")
def tag_page_endpoint():
    body = parse(contract().requests["TagPageRequest"], read_json_object())
    note_texts([body.text])
    loaded = _ready(serving().get())
    ninjs = body.format == "ninjs"
    province = app_settings().default_province
    tagged = tag_page(loaded.model, body.text, explain=body.explain and not ninjs)
    items = [add_places(item, item["text"], province) for item in tagged]
    if ninjs:
        items = page_to_ninjs(items, body.text, loaded.model.taxonomy, loaded.version)
    return jsonify(model_version=loaded.version, items=items)


@bp.post("/v1/admin/reload")
def reload_model():
    require_admin()
    body = parse(contract().requests["ReloadRequest"], read_json_object(required=False))
    holder = serving()
    try:
        version_dir = holder.within_root(body.model)
        candidate = holder.load_candidate(version_dir)
    except OutsideRoot as exc:
        raise APIError(400, "outside_model_root", str(exc)) from None
    except ArtifactError as exc:
        raise APIError(422, "invalid_model", str(exc)) from None
    current = holder.get()
    if current is not None and not body.force:
        from training.gate import TaxonomyChanged, check_candidate

        try:
            verdict = check_candidate(current, candidate, app_settings().margins)
        except TaxonomyChanged as exc:
            raise APIError(409, "taxonomy_changed", str(exc), change=exc.change) from None
        if not verdict.passed:
            raise APIError(409, "gate_refused", verdict.message, gate=verdict.to_dict())
    previous = holder.swap(candidate)
    logger.info("reloaded model %s (was %s)", candidate.version, previous.version if previous else None)
    return jsonify(
        model_version=candidate.version,
        previous_version=previous.version if previous else None,
    )
