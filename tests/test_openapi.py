"""/openapi.json is a valid OpenAPI 3.1 document and real responses match it."""

import json

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

FIRE = "近日，嘉兴市秀洲区消防救援大队开展高层建筑灭火救援演练。"


@pytest.fixture(scope="module")
def document(client):
    return client.get("/openapi.json").get_json()


def test_document_is_valid_openapi_3_1(document):
    assert document["openapi"] == "3.1.0"
    validate(document)


def _check(document, path, method, response):
    """Validate a real response against the documented schema for its status."""
    operation = document["paths"][path][method]
    documented = operation["responses"].get(str(response.status_code))
    assert documented is not None, f"{method.upper()} {path} answered {response.status_code}, not documented"
    schema = {**documented["content"]["application/json"]["schema"], "components": document["components"]}
    Draft202012Validator(schema).validate(response.get_json())


def _request_schema(document, path):
    ref = document["paths"][path]["post"]["requestBody"]["content"]["application/json"]["schema"]
    return Draft202012Validator({**ref, "components": document["components"]})


REQUESTS = [
    ("get", "/healthz", None),
    ("get", "/readyz", None),
    ("get", "/v1/topics", None),
    ("get", "/v1/model", None),
    ("post", "/v1/classify", {"text": FIRE}),
    ("post", "/v1/classify", {"texts": [FIRE, "法院审结一起案件。"], "top_k": 3}),
    ("post", "/v1/classify", {"items": [{"id": "x", "text": FIRE}, {"id": 2, "text": "禁毒宣传"}], "explain": False}),
    ("post", "/v1/tag-page", {"text": "法治快讯\n\n夜查酒驾\n\n通讯员 张三\n\n本报讯 近日，交警开展夜查。\n"}),
    ("post", "/v1/classify", {"items": [{"id": "x", "text": FIRE}], "format": "ninjs"}),
    ("post", "/v1/tag-page", {"text": "夜查酒驾\n\n本报讯 近日，乐清交警开展夜查。\n", "format": "ninjs"}),
    ("post", "/v1/classify", {}),
    ("post", "/v1/classify", {"texts": []}),
    ("post", "/v1/classify", {"text": FIRE, "top_k": 99}),
    ("post", "/v1/classify", {"text": 5}),
    ("post", "/v1/tag-page", {"page": "x"}),
    ("post", "/v1/admin/reload", {}),
    ("get", "/v1/classify", None),
]


@pytest.mark.parametrize("method, path, body", REQUESTS)
def test_real_responses_match_the_document(client, document, method, path, body):
    if body is None:
        response = client.open(path, method=method.upper())
    else:
        response = client.open(path, method=method.upper(), data=json.dumps(body), content_type="application/json")
    if response.status_code == 405:
        assert "get" not in document["paths"][path]
        path_item = document["paths"][path]
        method = next(iter(path_item))
    _check(document, path, method, response)


@pytest.mark.parametrize(
    "body, valid",
    [
        ({"text": FIRE}, True),
        ({"texts": [FIRE]}, True),
        ({"items": [{"id": "a", "text": FIRE}]}, True),
        ({}, False),
        ({"text": FIRE, "texts": [FIRE]}, False),
        ({"text": FIRE, "extra": 1}, False),
        ({"text": "   "}, False),
        ({"text": FIRE, "top_k": 0}, False),
        ({"text": FIRE, "format": "ninjs"}, True),
        ({"text": FIRE, "format": "xml"}, False),
    ],
)
def test_request_schema_is_as_strict_as_the_service(client, document, body, valid):
    assert _request_schema(document, "/v1/classify").is_valid(body) is valid
    response = client.post("/v1/classify", data=json.dumps(body), content_type="application/json")
    assert (response.status_code == 200) is valid


def test_documented_limits_follow_the_configuration(model_root):
    from service import create_app

    client = create_app({"MODEL_ROOT": str(model_root), "MAX_BATCH": 7, "LOAD_MODEL": False}).test_client()
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    assert schemas["ClassifyTexts"]["properties"]["texts"]["maxItems"] == 7
    assert schemas["ClassifyItems"]["properties"]["items"]["maxItems"] == 7


def test_feedback_and_extract_responses_match_the_document(model_root, tmp_path, document):
    import io

    from service import create_app
    from tests.conftest import ADMIN_TOKEN

    client = create_app(
        {
            "MODEL_ROOT": str(model_root),
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "EDITOR_TOKENS": {"wang": "tok"},
            "DATABASE_URL": f"sqlite:///{tmp_path / 'fb.sqlite3'}",
        }
    ).test_client()
    created = client.post(
        "/v1/feedback",
        data=json.dumps({"text": FIRE, "topic": "fire", "predicted": None}),
        content_type="application/json",
        headers={"Authorization": "Bearer tok"},
    )
    _check(document, "/v1/feedback", "post", created)
    refused = client.post(
        "/v1/feedback",
        data=json.dumps({"text": FIRE, "topic": "x"}),
        content_type="application/json",
        headers={"Authorization": "Bearer tok"},
    )
    _check(document, "/v1/feedback", "post", refused)
    listed = client.get("/v1/feedback", headers={"Authorization": f"Bearer {ADMIN_TOKEN}"})
    _check(document, "/v1/feedback", "get", listed)
    extracted = client.post(
        "/v1/extract",
        data={"file": (io.BytesIO("标题\n\n正文。".encode()), "p.txt")},
        content_type="multipart/form-data",
    )
    _check(document, "/v1/extract", "post", extracted)
    unsupported = client.post(
        "/v1/extract", data={"file": (io.BytesIO(b"%PDF"), "p.pdf")}, content_type="multipart/form-data"
    )
    assert unsupported.status_code == 415
    _check(document, "/v1/extract", "post", unsupported)
