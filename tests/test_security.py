"""Security properties: constant-time tokens, no tracebacks in answers, no texts in logs."""

import json
import logging

import pytest

from service import accesslog, create_app
from service import auth as auth_module
from tests.conftest import ADMIN_TOKEN

TEXT = "近日，某县公安局派出所民警在夜间巡逻中抓获两名盗窃嫌疑人。"


def test_admin_token_is_compared_in_constant_time(client, monkeypatch):
    calls = []
    real = auth_module.hmac.compare_digest

    def spy(a, b):
        calls.append((a, b))
        return real(a, b)

    monkeypatch.setattr(auth_module.hmac, "compare_digest", spy)
    assert client.post("/v1/admin/reload", headers={"Authorization": "Bearer guess"}).status_code == 401
    assert calls == [(b"guess", ADMIN_TOKEN.encode())]


def test_an_internal_failure_answers_json_without_a_traceback(model_root, monkeypatch):
    app = create_app({"MODEL_ROOT": str(model_root)})
    assert not app.debug
    loaded = app.extensions["newstag_model"].get()

    def explode(*args, **kwargs):
        raise RuntimeError("secret internals /srv/models")

    monkeypatch.setattr(loaded.model, "predict", explode)
    response = app.test_client().post("/v1/classify", json={"text": TEXT})
    assert response.status_code == 500
    assert response.get_json() == {
        "error": {"code": "internal_error", "message": "The server failed to answer; the error is logged."}
    }
    assert b"Traceback" not in response.data and b"secret" not in response.data


@pytest.mark.parametrize("log_texts", [False, True])
def test_access_log_shows_texts_only_when_configured(model_root, caplog, log_texts):
    client = create_app({"MODEL_ROOT": str(model_root), "LOG_TEXTS": log_texts}).test_client()
    with caplog.at_level(logging.INFO, logger="newstag.access"):
        client.post("/v1/classify", json={"texts": [TEXT, "第二段正文。"]})
    [line] = [accesslog.formatter().format(r) for r in caplog.records if r.name == "newstag.access"]
    entry = json.loads(line)
    if log_texts:
        assert entry["texts"] == [TEXT, "第二段正文。"]
    else:
        assert "texts" not in entry and "派出所" not in line


def test_security_headers_on_every_response(client):
    for path in ("/", "/healthz", "/nowhere"):
        with client.get(path) as response:
            assert response.headers["X-Content-Type-Options"] == "nosniff"
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"]
            assert response.headers["X-Frame-Options"] == "DENY"
