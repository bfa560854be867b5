"""/openapi.json: OpenAPI 3.1, its components generated from the contract's pydantic models.

The paths are a short table; every body schema comes from :mod:`service.schemas`, built for
this app's limits and the serving model's topics, so the document states the rules enforced.
"""

from __future__ import annotations

from flask import Blueprint, jsonify
from pydantic.json_schema import models_json_schema

from service.context import contract

bp = Blueprint("openapi", __name__)

REF = "#/components/schemas/{model}"

# Why each error status happens (every error body is the Error schema).
ERROR_REASONS = {
    400: "Malformed request: invalid JSON or UTF-8, wrong types, lone surrogates",
    401: "Missing or wrong bearer token",
    403: "Cross-origin call from an origin that is not allowed",
    404: "Not found (admin and feedback endpoints while they are not configured)",
    405: "Method not allowed",
    409: "The new model scores worse than the serving one on the gate split (gate_refused), or has other "
    "topics (taxonomy_changed); send force to override",
    413: "Body, text or batch over its limit",
    415: "Body is not application/json (or the upload is not .txt or .docx)",
    422: "Well-formed but unusable: missing or unknown fields, empty text or batch, out of range",
    503: "No model loaded yet, or the feedback store is unavailable",
}
GET_ERRORS = (403, 405)
POST_ERRORS = (400, 403, 405, 413, 415, 422, 503)

# (path, method, summary, request schema name or None, (success status, response schema name or names), errors,
# security); several names: the answer is one of them (the request's "format" says which).
PATHS = (
    ("/healthz", "get", "The process is alive", None, (200, "Health"), GET_ERRORS, None),
    ("/readyz", "get", "A model is loaded and warm", None, (200, "Ready"), (*GET_ERRORS, 503), None),
    ("/v1/topics", "get", "The serving model's topics", None, (200, "Topics"), GET_ERRORS, None),
    ("/v1/model", "get", "Metadata of the loaded model", None, (200, "ModelInfo"), (*GET_ERRORS, 503), None),
    (
        "/v1/classify",
        "post",
        "Tag one text or a batch",
        "ClassifyRequest",
        (200, ("ClassifyResponse", "NinjsResponse")),
        POST_ERRORS,
        None,
    ),
    (
        "/v1/tag-page",
        "post",
        "Split a pasted page into items and tag each",
        "TagPageRequest",
        (200, ("TagPageResponse", "NinjsResponse")),
        POST_ERRORS,
        None,
    ),
    (
        "/v1/extract",
        "post",
        "Turn an uploaded .txt or .docx page into page text",
        "multipart",
        (200, "ExtractResponse"),
        (400, 403, 405, 413, 415, 422),
        None,
    ),
    (
        "/v1/feedback",
        "post",
        "Store an editor's correction",
        "FeedbackRequest",
        (201, "FeedbackCreated"),
        (400, 401, 403, 404, 405, 413, 415, 422, 503),
        "editorToken",
    ),
    (
        "/v1/feedback",
        "get",
        "List corrections (admin)",
        "FeedbackQuery",
        (200, "FeedbackList"),
        (400, 401, 403, 404, 405, 503),
        "adminToken",
    ),
    (
        "/v1/admin/reload",
        "post",
        "Load, verify and serve another model version in every worker",
        "ReloadRequest",
        (200, "ReloadResponse"),
        (400, 401, 403, 404, 405, 409, 413, 415, 422),
        "adminToken",
    ),
)


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _ref(name: str) -> dict:
    return {"$ref": REF.format(model=name)}


def _operation(summary, request, success, errors, security, query) -> dict:
    status, response = success
    schema = {"anyOf": [_ref(name) for name in response]} if isinstance(response, tuple) else _ref(response)
    operation: dict = {
        "summary": summary,
        "responses": {
            str(status): {"description": summary, **_json(schema)},
            **{str(s): {"description": ERROR_REASONS[s], **_json(_ref("Error"))} for s in errors},
        },
    }
    if security:
        operation["security"] = [{security: []}]
    if request == "multipart":
        file = {"type": "string", "format": "binary"}
        schema = {"type": "object", "required": ["file"], "properties": {"file": file}}
        operation["requestBody"] = {"required": True, "content": {"multipart/form-data": {"schema": schema}}}
    elif request == "FeedbackQuery":
        operation["parameters"] = [
            {"name": name, "in": "query", "required": False, "schema": schema}
            for name, schema in query["properties"].items()
        ]
    elif request is not None:
        operation["requestBody"] = {"required": request != "ReloadRequest", **_json(_ref(request))}
    return operation


def build_document() -> dict:
    """The OpenAPI document for this app's settings and serving model."""
    models = contract()
    named = {**models.requests, **models.responses}
    query = named.pop("FeedbackQuery")
    _, generated = models_json_schema(
        [(m, "validation" if name in models.requests else "serialization") for name, m in named.items()],
        ref_template=REF,
    )
    components = generated["$defs"]
    components["ClassifyRequest"] = {
        "description": "Exactly one of text, texts or items.",
        "oneOf": [_ref(m.__name__) for m in models.classify_inputs.values()],
    }
    query_schema = query.model_json_schema(ref_template=REF)
    for name, schema in query_schema["properties"].items():
        # A query parameter is absent or a string: the model's "or null" is not for the wire.
        options = [s for s in schema.pop("anyOf", [schema]) if s.get("type") != "null"]
        extra = {k: v for k, v in schema.items() if k not in ("title", "default") or v is not None}
        query_schema["properties"][name] = {**options[0], **extra}
        query_schema["properties"][name].pop("title", None)
    paths: dict = {}
    for path, method, summary, request, success, errors, security in PATHS:
        paths.setdefault(path, {})[method] = _operation(summary, request, success, errors, security, query_schema)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "newstag",
            "version": "1",
            "description": "Topic tags for Chinese legal and public-safety news. Every response carries "
            "X-Request-ID and, once a model is loaded, X-Model-Version.",
        },
        "paths": paths,
        "components": {
            "schemas": components,
            "securitySchemes": {
                "adminToken": {"type": "http", "scheme": "bearer"},
                "editorToken": {"type": "http", "scheme": "bearer"},
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(build_document())
