"""The OpenAPI 3.1 description of the API, served at /openapi.json.

Built from the running configuration, so the documented limits are the enforced ones.
"""

from __future__ import annotations

from flask import Blueprint, current_app, jsonify

from model.taxonomy import load_taxonomy

bp = Blueprint("openapi", __name__)

_REF = "#/components/schemas/"
# A date, or a date-time with optional seconds, fraction and offset (what `since` parses).
_SINCE_PATTERN = r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?([Zz]|[+-]\d{2}:\d{2})?)?$"


def _ref(name: str) -> dict:
    return {"$ref": _REF + name}


def _json(schema: dict) -> dict:
    return {"content": {"application/json": {"schema": schema}}}


def _errors(*statuses: int) -> dict:
    reasons = {
        400: "Malformed request: invalid JSON or UTF-8, wrong types, lone surrogates",
        401: "Missing or wrong bearer token",
        403: "Cross-origin call from an origin that is not allowed",
        404: "Not found (admin endpoints while no admin token is configured)",
        405: "Method not allowed",
        409: "The new model scores worse than the serving one on the gate split (send force to override)",
        413: "Body, text or batch over its limit",
        415: "Body is not application/json",
        422: "Well-formed but unusable: missing or unknown fields, empty text or batch, out of range",
        503: "No model loaded yet",
    }
    return {str(s): {"description": reasons[s], **_json(_ref("Error"))} for s in statuses}


def _text(max_chars: int) -> dict:
    # At least one non-whitespace character; the service answers 422 for blank text.
    return {"type": "string", "minLength": 1, "maxLength": max_chars, "pattern": r"\S"}


def build_document(config) -> dict:
    """The OpenAPI document for the given app configuration."""
    topic_ids = list(load_taxonomy().ids)
    n_topics = len(topic_ids)
    text = _text(config["MAX_TEXT_CHARS"])
    batch = {"minItems": 1, "maxItems": config["MAX_BATCH"]}
    topic_id = {"type": "string", "enum": topic_ids}
    schemas = {
        "Error": {
            "type": "object",
            "required": ["error"],
            "properties": {
                "error": {
                    "type": "object",
                    "required": ["code", "message"],
                    "properties": {"code": {"type": "string"}, "message": {"type": "string"}},
                }
            },
        },
        "Topic": {
            "type": "object",
            "required": ["id", "name", "description"],
            "additionalProperties": False,
            "properties": {"id": topic_id, "name": {"type": "string"}, "description": {"type": "string"}},
        },
        "TopicScore": {
            "type": "object",
            "required": ["topic", "name", "score"],
            "additionalProperties": False,
            "properties": {
                "topic": topic_id,
                "name": {"type": "string"},
                "score": {"type": "number", "minimum": 0, "maximum": 1},
            },
        },
        "Term": {
            "type": "object",
            "required": ["term", "weight", "spans"],
            "additionalProperties": False,
            "properties": {
                "term": {"type": "string"},
                "weight": {"type": "number"},
                "spans": {
                    "type": "array",
                    "items": {
                        "type": "array",
                        "prefixItems": [{"type": "integer", "minimum": 0}, {"type": "integer", "minimum": 0}],
                        "minItems": 2,
                        "maxItems": 2,
                    },
                },
            },
        },
        "Prediction": {
            "type": "object",
            "required": ["topic", "name", "score", "labels", "needs_review", "topics"],
            "properties": {
                "id": {"type": ["string", "integer"]},
                "topic": topic_id,
                "name": {"type": "string"},
                "score": {"type": "number", "minimum": 0, "maximum": 1},
                "labels": {"type": "array", "items": topic_id},
                "needs_review": {"type": "boolean"},
                "topics": {"type": "array", "items": _ref("TopicScore"), "minItems": 1},
                "explanation": {"type": "array", "items": _ref("Term")},
            },
        },
        "ParagraphPrediction": {
            "allOf": [_ref("Prediction")],
            "required": ["text"],
            "properties": {"text": {"type": "string"}},
        },
        "PageItem": {
            "allOf": [_ref("Prediction")],
            "required": ["id", "section", "headline", "subtitle", "byline", "text", "paragraphs"],
            "properties": {
                "id": {"type": "string", "pattern": "^item-[0-9]+$"},
                "section": {"type": ["string", "null"]},
                "headline": {"type": ["string", "null"]},
                "subtitle": {"type": ["string", "null"]},
                "byline": {"type": ["string", "null"]},
                "text": {"type": "string"},
                "paragraphs": {"type": "array", "items": _ref("ParagraphPrediction")},
            },
        },
        "ClassifyRequest": {
            "type": "object",
            "additionalProperties": False,
            "description": "Exactly one of text, texts or items.",
            "properties": {
                "text": text,
                "texts": {"type": "array", "items": text, **batch},
                "items": {
                    "type": "array",
                    **batch,
                    "items": {
                        "type": "object",
                        "additionalProperties": False,
                        "required": ["id", "text"],
                        "properties": {
                            "id": {"oneOf": [{**_text(200)}, {"type": "integer"}]},
                            "text": text,
                        },
                    },
                },
                "top_k": {"type": "integer", "minimum": 1, "maximum": n_topics},
                "explain": {"type": "boolean", "default": True},
            },
            "oneOf": [{"required": ["text"]}, {"required": ["texts"]}, {"required": ["items"]}],
        },
        "ClassifyResponse": {
            "type": "object",
            "required": ["model_version", "results"],
            "additionalProperties": False,
            "properties": {
                "model_version": {"type": "string"},
                "results": {"type": "array", "items": _ref("Prediction")},
            },
        },
        "TagPageRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["text"],
            "properties": {"text": _text(config["MAX_PAGE_CHARS"]), "explain": {"type": "boolean", "default": True}},
        },
        "TagPageResponse": {
            "type": "object",
            "required": ["model_version", "items"],
            "additionalProperties": False,
            "properties": {
                "model_version": {"type": "string"},
                "items": {"type": "array", "items": _ref("PageItem")},
            },
        },
        "ExtractResponse": {
            "type": "object",
            "required": ["text", "filename", "characters"],
            "additionalProperties": False,
            "properties": {
                "text": {"type": "string"},
                "filename": {"type": "string"},
                "characters": {"type": "integer", "minimum": 1},
            },
        },
        "FeedbackRequest": {
            "type": "object",
            "additionalProperties": False,
            "required": ["text", "topic"],
            "properties": {
                "text": text,
                "topic": topic_id,
                "kind": {"type": "string", "enum": ["item", "paragraph"], "default": "item"},
                "predicted": {"oneOf": [topic_id, {"type": "null"}]},
                "model_version": {"oneOf": [_text(64), {"type": "null"}]},
                "item_id": {"oneOf": [_text(200), {"type": "null"}]},
                "note": {"oneOf": [_text(2000), {"type": "null"}]},
            },
        },
        "FeedbackCreated": {
            "type": "object",
            "required": ["id", "created_at", "editor", "topic"],
            "additionalProperties": False,
            "properties": {
                "id": {"type": "integer"},
                "created_at": {"type": "string"},
                "editor": {"type": "string"},
                "topic": topic_id,
            },
        },
        "FeedbackList": {
            "type": "object",
            "required": ["corrections"],
            "additionalProperties": False,
            "properties": {
                "corrections": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["id", "created_at", "editor", "text", "topic", "kind"],
                        "properties": {
                            "id": {"type": "integer"},
                            "created_at": {"type": "string"},
                            "editor": {"type": "string"},
                            "text": {"type": "string"},
                            "topic": topic_id,
                            "kind": {"type": "string"},
                            "predicted": {"type": ["string", "null"]},
                            "model_version": {"type": ["string", "null"]},
                            "item_id": {"type": ["string", "null"]},
                            "note": {"type": ["string", "null"]},
                        },
                    },
                }
            },
        },
        "ReloadRequest": {
            "type": "object",
            "additionalProperties": False,
            "properties": {
                "model": {"type": "string", "description": "A version directory (or id) inside the model root"},
                "force": {"type": "boolean", "default": False},
            },
        },
        "ReloadResponse": {
            "type": "object",
            "required": ["model_version", "previous_version"],
            "properties": {
                "model_version": {"type": "string"},
                "previous_version": {"type": ["string", "null"]},
            },
        },
    }
    get_errors = _errors(403, 405)
    post_errors = _errors(400, 403, 405, 413, 415, 422, 503)
    paths = {
        "/healthz": {
            "get": {
                "summary": "The process is alive",
                "responses": {
                    "200": {
                        "description": "Alive",
                        **_json({"type": "object", "required": ["status"], "properties": {"status": {"const": "ok"}}}),
                    },
                    **get_errors,
                },
            }
        },
        "/readyz": {
            "get": {
                "summary": "A model is loaded and warm",
                "responses": {
                    "200": {
                        "description": "Ready",
                        **_json(
                            {
                                "type": "object",
                                "required": ["status", "model_version"],
                                "properties": {
                                    "status": {"const": "ready"},
                                    "model_version": {"type": "string"},
                                    "worker": {"type": "integer", "description": "the answering process"},
                                },
                            }
                        ),
                    },
                    **_errors(403, 405, 503),
                },
            }
        },
        "/v1/topics": {
            "get": {
                "summary": "The taxonomy",
                "responses": {
                    "200": {
                        "description": "Every topic",
                        **_json(
                            {
                                "type": "object",
                                "required": ["topics"],
                                "properties": {"topics": {"type": "array", "items": _ref("Topic")}},
                            }
                        ),
                    },
                    **get_errors,
                },
            }
        },
        "/v1/model": {
            "get": {
                "summary": "Metadata of the loaded model",
                "responses": {
                    "200": {
                        "description": "Version, creation time, corpus digest, metrics, library versions",
                        **_json(
                            {
                                "type": "object",
                                "required": ["model_version", "created", "corpus", "metrics", "libraries"],
                                "properties": {
                                    "model_version": {"type": "string"},
                                    "created": {"type": "string"},
                                    "corpus": {"type": "object"},
                                    "metrics": {"type": "object"},
                                    "libraries": {"type": "object"},
                                },
                            }
                        ),
                    },
                    **_errors(403, 405, 503),
                },
            }
        },
        "/v1/classify": {
            "post": {
                "summary": "Tag one text or a batch",
                "requestBody": {"required": True, **_json(_ref("ClassifyRequest"))},
                "responses": {
                    "200": {"description": "One result per text, in order", **_json(_ref("ClassifyResponse"))},
                    **post_errors,
                },
            }
        },
        "/v1/tag-page": {
            "post": {
                "summary": "Split a pasted page into items and tag each",
                "requestBody": {"required": True, **_json(_ref("TagPageRequest"))},
                "responses": {
                    "200": {"description": "The page's items, in order", **_json(_ref("TagPageResponse"))},
                    **post_errors,
                },
            }
        },
        "/v1/extract": {
            "post": {
                "summary": "Turn an uploaded .txt or .docx page into page text",
                "requestBody": {
                    "required": True,
                    "content": {
                        "multipart/form-data": {
                            "schema": {
                                "type": "object",
                                "required": ["file"],
                                "properties": {"file": {"type": "string", "format": "binary"}},
                            }
                        }
                    },
                },
                "responses": {
                    "200": {"description": "The page text, as a paste would give it", **_json(_ref("ExtractResponse"))},
                    **_errors(400, 403, 405, 413, 415, 422),
                },
            }
        },
        "/v1/feedback": {
            "post": {
                "summary": "Store an editor's correction",
                "security": [{"editorToken": []}],
                "requestBody": {"required": True, **_json(_ref("FeedbackRequest"))},
                "responses": {
                    "201": {"description": "Stored", **_json(_ref("FeedbackCreated"))},
                    **_errors(400, 401, 403, 404, 405, 413, 415, 422, 503),
                },
            },
            "get": {
                "summary": "List corrections (admin)",
                "security": [{"adminToken": []}],
                "parameters": [
                    {
                        "name": "since",
                        "in": "query",
                        "required": False,
                        "schema": {
                            "type": "string",
                            "format": "date-time",
                            "pattern": _SINCE_PATTERN,
                        },
                        "description": "RFC 3339 date-time; an ISO 8601 date such as 2026-11-01 is accepted too",
                    },
                    {
                        "name": "limit",
                        "in": "query",
                        "required": False,
                        "schema": {"type": "integer", "minimum": 1, "maximum": 1000, "default": 100},
                    },
                ],
                "responses": {
                    "200": {"description": "Corrections, oldest first", **_json(_ref("FeedbackList"))},
                    **_errors(400, 401, 403, 404, 405, 503),
                },
            },
        },
        "/v1/admin/reload": {
            "post": {
                "summary": "Load, verify and serve another model version in every worker",
                "security": [{"adminToken": []}],
                "requestBody": {"required": False, **_json(_ref("ReloadRequest"))},
                "responses": {
                    "200": {"description": "The new version is serving", **_json(_ref("ReloadResponse"))},
                    **_errors(400, 401, 403, 404, 405, 409, 413, 415, 422),
                },
            }
        },
    }
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
            "schemas": schemas,
            "securitySchemes": {
                "adminToken": {"type": "http", "scheme": "bearer"},
                "editorToken": {"type": "http", "scheme": "bearer"},
            },
        },
    }


@bp.get("/openapi.json")
def openapi_json():
    return jsonify(build_document(current_app.config))
