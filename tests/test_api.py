"""API v1 through the Flask test client: every endpoint and every error shape."""

import json
import logging

import pytest

from model.artifact import current_version
from service import accesslog, create_app
from tests.conftest import ADMIN_TOKEN, copy_version

FIRE = "近日，嘉兴市秀洲区消防救援大队开展高层建筑灭火救援演练。"
COURT = "绍兴市柯桥区人民法院公开开庭审理一起故意伤害案，当庭宣判。"


def post(client, path, body, **kwargs):
    return client.post(
        path, data=json.dumps(body, ensure_ascii=False).encode(), content_type="application/json", **kwargs
    )


def error_of(response):
    body = response.get_json()
    assert set(body) == {"error"} and {"code", "message"} <= set(body["error"])
    return body["error"]["code"], body["error"]["message"]


def test_health_and_readiness(client, loaded):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["model_version"] == loaded.version


def test_without_a_model_the_service_is_alive_but_not_ready(model_root):
    client = create_app({"MODEL_ROOT": str(model_root), "LOAD_MODEL": False}).test_client()
    assert client.get("/healthz").status_code == 200
    assert client.get("/readyz").status_code == 503
    response = post(client, "/v1/classify", {"text": FIRE})
    assert response.status_code == 503 and error_of(response)[0] == "no_model"
    assert client.get("/v1/model").status_code == 503
    assert len(client.get("/v1/topics").get_json()["topics"]) == 11


def test_topics_lists_the_taxonomy(client):
    topics = client.get("/v1/topics").get_json()["topics"]
    assert [t["id"] for t in topics][:3] == ["policing", "traffic", "fire"]
    assert all({"id", "name", "description", "iptc"} == set(t) for t in topics)


def test_model_metadata(client, loaded):
    meta = client.get("/v1/model").get_json()
    assert meta["model_version"] == loaded.version
    assert {"created", "corpus", "metrics", "libraries", "thresholds"} <= set(meta)
    assert len(meta["corpus"]["sha256"]) == 64


def test_classify_one_text(client, loaded):
    response = post(client, "/v1/classify", {"text": FIRE})
    assert response.status_code == 200
    body = response.get_json()
    assert body["model_version"] == loaded.version == response.headers["X-Model-Version"]
    [result] = body["results"]
    assert result["topic"] == "fire" and result["name"] == "消防" and len(result["topics"]) == 11
    assert result["explanation"] and "id" not in result


def test_classify_texts_and_items_keep_order_and_ids(client):
    texts = post(client, "/v1/classify", {"texts": [FIRE, COURT], "top_k": 2, "explain": False}).get_json()
    assert [r["topic"] for r in texts["results"]] == ["fire", "court"]
    assert all(len(r["topics"]) == 2 and "explanation" not in r for r in texts["results"])
    items = post(client, "/v1/classify", {"items": [{"id": "b", "text": COURT}, {"id": 3, "text": FIRE}]}).get_json()
    assert [(r["id"], r["topic"]) for r in items["results"]] == [("b", "court"), (3, "fire")]


def test_tag_page(client, data_dir):
    page = (data_dir / "pages" / "page_single_item.txt").read_text(encoding="utf-8")
    body = post(client, "/v1/tag-page", {"text": page}).get_json()
    [item] = body["items"]
    assert item["id"] == "item-1" and item["paragraphs"] and "model_version" in body


@pytest.mark.parametrize(
    "raw, content_type, status, code",
    [
        (b"{not json", "application/json", 400, "invalid_json"),
        (b'{"text": "\xff\xfe"}', "application/json", 400, "invalid_utf8"),
        (b"[1, 2]", "application/json", 400, "invalid_type"),
        (b'{"text": 12}', "application/json", 400, "invalid_type"),
        (b'{"text": "\\ud800abc"}', "application/json", 400, "invalid_text"),
        (b'{"text": "a", "text": "b"}', "application/json", 400, "invalid_json"),
        (b'{"text": NaN}', "application/json", 400, "invalid_json"),
        (b"[" * 100000 + b"]" * 100000, "application/json", 400, "invalid_json"),
        (b"{}", "application/json", 422, "one_input"),
        (json.dumps({"text": FIRE, "texts": [FIRE]}).encode(), "application/json", 422, "one_input"),
        (b'{"texts": []}', "application/json", 422, "empty_batch"),
        (b'{"texts": "abc"}', "application/json", 400, "invalid_type"),
        (json.dumps({"text": FIRE, "top_k": 0}).encode(), "application/json", 422, "out_of_range"),
        (json.dumps({"text": FIRE, "top_k": 12}).encode(), "application/json", 422, "out_of_range"),
        (json.dumps({"text": FIRE, "top_k": "3"}).encode(), "application/json", 400, "invalid_type"),
        (json.dumps({"text": FIRE, "explain": "yes"}).encode(), "application/json", 400, "invalid_type"),
        (json.dumps({"text": FIRE, "language": "zh"}).encode(), "application/json", 422, "unknown_field"),
        (json.dumps({"items": [{"text": FIRE}]}).encode(), "application/json", 422, "missing_field"),
        (json.dumps({"items": [{"id": [1], "text": FIRE}]}).encode(), "application/json", 400, "invalid_type"),
        (json.dumps({"text": FIRE}).encode(), "text/plain", 415, "unsupported_media_type"),
        (json.dumps({"text": FIRE}).encode(), "application/json; charset=latin-1", 415, "unsupported_media_type"),
        (json.dumps({"text": "长" * 20001}).encode(), "application/json", 413, "text_too_long"),
    ],
    ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None,
)
def test_bad_requests_get_the_right_status_and_a_json_error(client, raw, content_type, status, code):
    response = client.post("/v1/classify", data=raw, content_type=content_type)
    assert response.status_code == status
    assert error_of(response)[0] == code
    assert response.mimetype == "application/json"


def test_empty_text_names_the_offending_item(client):
    response = post(client, "/v1/classify", {"texts": [FIRE, "  \n "]})
    assert response.status_code == 422
    assert error_of(response) == ("empty_text", "texts[1] is empty or only whitespace")


def test_batch_and_body_limits_are_configurable(model_root):
    client = create_app({"MODEL_ROOT": str(model_root), "MAX_BATCH": 3, "MAX_BODY_BYTES": 1000}).test_client()
    response = post(client, "/v1/classify", {"texts": [FIRE] * 4})
    assert response.status_code == 413 and error_of(response)[0] == "batch_too_large"
    response = post(client, "/v1/classify", {"text": "长" * 600})
    assert response.status_code == 413 and error_of(response)[0] == "too_large"


def test_unknown_path_and_wrong_method_are_json(client):
    response = client.get("/v1/nothing")
    assert response.status_code == 404 and error_of(response)[0] == "not_found"
    response = client.get("/v1/classify")
    assert response.status_code == 405 and error_of(response)[0] == "method_not_allowed"
    assert "POST" in response.headers["Allow"]


def test_request_ids_are_echoed_or_made(client):
    assert client.get("/healthz", headers={"X-Request-ID": "abc-123"}).headers["X-Request-ID"] == "abc-123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id with spaces"}).headers["X-Request-ID"]
    assert len(made) == 32 and made != "bad id with spaces"


def test_every_request_writes_one_json_access_line_without_the_text(client, caplog):
    with caplog.at_level(logging.INFO, logger="newstag.access"):
        post(client, "/v1/classify", {"text": FIRE}, headers={"X-Request-ID": "req-1"})
    [line] = [accesslog.formatter().format(r) for r in caplog.records if r.name == "newstag.access"]
    entry = json.loads(line)
    assert entry["method"] == "POST" and entry["path"] == "/v1/classify" and entry["status"] == 200
    assert entry["request_id"] == "req-1" and entry["duration_ms"] >= 0
    assert "消防" not in line


def test_cross_origin_calls_need_an_allowed_origin(model_root):
    client = create_app({"MODEL_ROOT": str(model_root), "CORS_ORIGINS": ("https://cms.example",)}).test_client()
    refused = post(client, "/v1/classify", {"text": FIRE}, headers={"Origin": "https://evil.example"})
    assert refused.status_code == 403 and error_of(refused)[0] == "origin_not_allowed"
    allowed = post(client, "/v1/classify", {"text": FIRE}, headers={"Origin": "https://cms.example"})
    assert allowed.status_code == 200 and allowed.headers["Access-Control-Allow-Origin"] == "https://cms.example"
    preflight = client.options("/v1/classify", headers={"Origin": "https://cms.example"})
    assert preflight.status_code == 204 and "POST" in preflight.headers["Access-Control-Allow-Methods"]
    same = post(client, "/v1/classify", {"text": FIRE}, headers={"Origin": "http://localhost"})
    assert same.status_code == 200 and "Access-Control-Allow-Origin" not in same.headers


# -- admin reload -------------------------------------------------------------------------

AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


def test_reload_is_hidden_without_a_token_and_refuses_a_wrong_one(model_root, client):
    hidden = create_app({"MODEL_ROOT": str(model_root)}).test_client()
    assert hidden.post("/v1/admin/reload").status_code == 404
    response = client.post("/v1/admin/reload", headers={"Authorization": "Bearer wrong"})
    assert response.status_code == 401 and error_of(response)[0] == "unauthorized"
    assert client.post("/v1/admin/reload").status_code == 401


@pytest.mark.parametrize("path", ["../", "/etc", "../../../../tmp", "current/../.."])
def test_reload_refuses_paths_outside_the_model_root(private_root, path):
    client = create_app({"MODEL_ROOT": str(private_root), "ADMIN_TOKEN": ADMIN_TOKEN}).test_client()
    response = post(client, "/v1/admin/reload", {"model": path}, headers=AUTH)
    assert response.status_code == 400 and error_of(response)[0] == "outside_model_root"


def test_reload_swaps_in_a_new_version_and_refuses_a_damaged_one(private_root):
    client = create_app({"MODEL_ROOT": str(private_root), "ADMIN_TOKEN": ADMIN_TOKEN}).test_client()
    old = current_version(private_root)
    new = copy_version(private_root)

    damaged = private_root / new / "model.npz"
    original = damaged.read_bytes()
    damaged.write_bytes(original[:-100])
    response = post(client, "/v1/admin/reload", {"model": new}, headers=AUTH)
    assert response.status_code == 422 and error_of(response)[0] == "invalid_model"
    assert "truncated" in error_of(response)[1]
    assert client.get("/readyz").get_json()["model_version"] == old

    damaged.write_bytes(original)
    response = post(client, "/v1/admin/reload", {"model": new}, headers=AUTH)
    assert response.status_code == 200
    assert response.get_json() == {"model_version": new, "previous_version": old}
    assert post(client, "/v1/classify", {"text": FIRE}).get_json()["model_version"] == new
    # Without a body, reload serves the root's current again.
    response = client.post("/v1/admin/reload", headers=AUTH)
    assert response.status_code == 200 and response.get_json()["model_version"] == old
