"""The real server: `newstag serve` with two gevent workers on a loopback port."""

import json
import shutil
import subprocess
import sys
import time

import pytest
import requests

from model.artifact import current_version, save_version
from tests.conftest import ADMIN_TOKEN
from tests.servers import ServerProcess, Traffic

pytestmark = pytest.mark.slow  # real servers, processes or browsers

FIRE = "近日，嘉兴市秀洲区消防救援大队开展高层建筑灭火救援演练。"
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_root):
    root = tmp_path_factory.mktemp("served") / "models"
    shutil.copytree(model_root, root)
    with ServerProcess(root, workers=2, env={"NEWSTAG_ADMIN_TOKEN": ADMIN_TOKEN}) as process:
        yield process


@pytest.fixture(autouse=True)
def serving_current(server):
    """Every test starts with all workers serving the root's current version, whatever ran before."""
    current = current_version(server.root)
    if set(server.versions_by_worker(2).values()) != {current}:
        response = requests.post(f"{server.url}/v1/admin/reload", json={"force": True}, headers=AUTH, timeout=60)
        assert response.status_code == 200, response.text
        assert set(server.wait_for_version(current, workers=2).values()) == {current}


def test_every_endpoint_answers_over_http(server, data_dir):
    base = server.url
    assert requests.get(f"{base}/healthz", timeout=10).json() == {"status": "ok"}
    ready = requests.get(f"{base}/readyz", timeout=10)
    assert ready.status_code == 200 and ready.json()["model_version"] == current_version(server.root)
    assert len(requests.get(f"{base}/v1/topics", timeout=10).json()["topics"]) == 11
    assert requests.get(f"{base}/v1/model", timeout=10).json()["model_version"] == ready.json()["model_version"]
    result = requests.post(f"{base}/v1/classify", json={"text": FIRE}, timeout=10)
    assert result.status_code == 200 and result.json()["results"][0]["topic"] == "fire"
    page = (data_dir / "pages" / "page_other_sections.txt").read_text(encoding="utf-8")
    tagged = requests.post(f"{base}/v1/tag-page", json={"text": page}, timeout=30)
    assert tagged.status_code == 200 and len(tagged.json()["items"]) == 7
    assert requests.get(f"{base}/openapi.json", timeout=10).json()["openapi"].startswith("3.1")


@pytest.mark.parametrize(
    "method, path, kwargs, status",
    [
        ("post", "/v1/classify", {"data": b"{oops", "headers": {"Content-Type": "application/json"}}, 400),
        ("post", "/v1/classify", {"json": {}}, 422),
        ("post", "/v1/classify", {"json": {"text": "长" * 20001}}, 413),
        (
            "post",
            "/v1/classify",
            {"data": b"x" * (3 * 1024 * 1024), "headers": {"Content-Type": "application/json"}},
            413,
        ),
        ("post", "/v1/classify", {"data": "巡逻".encode(), "headers": {"Content-Type": "text/plain"}}, 415),
        ("get", "/v1/nowhere", {}, 404),
        ("delete", "/v1/classify", {}, 405),
        ("post", "/v1/admin/reload", {"headers": {"Authorization": "Bearer nope"}}, 401),
    ],
)
def test_errors_over_http_are_json(server, method, path, kwargs, status):
    response = requests.request(method, server.url + path, timeout=10, **kwargs)
    assert response.status_code == status
    assert response.headers["Content-Type"].startswith("application/json")
    assert set(response.json()["error"]) >= {"code", "message"}


def test_both_workers_answer(server):
    assert len(server.versions_by_worker(2)) == 2


def test_access_log_has_one_json_line_per_request(server):
    requests.get(f"{server.url}/healthz", headers={"X-Request-ID": "trace-me-1"}, timeout=10)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        lines = [json.loads(line) for line in server.log_lines() if '"trace-me-1"' in line]
        if lines:
            break
        time.sleep(0.2)
    [entry] = lines
    assert entry["path"] == "/healthz" and entry["status"] == 200 and entry["method"] == "GET"


def test_reload_switches_every_worker_without_failing_a_request(server, loaded):
    old = current_version(server.root)
    meta = {k: v for k, v in loaded.metadata.items() if k not in ("version", "artifact", "libraries")}
    new = save_version(server.root, loaded.model, meta, make_current=False).name
    with Traffic(server.url) as traffic:
        traffic.wait_for(10)
        response = requests.post(f"{server.url}/v1/admin/reload", json={"model": new}, headers=AUTH, timeout=60)
        assert response.status_code == 200, response.text
        assert response.json() == {"model_version": new, "previous_version": old}
        seen = server.wait_for_version(new, workers=2)
        assert len(seen) == 2 and set(seen.values()) == {new}
        traffic.wait_for(10, after=time.monotonic())
    assert traffic.outcomes and all(status == 200 for status, _ in traffic.outcomes), traffic.outcomes[:5]
    assert {version for _, version in traffic.outcomes} <= {old, new}
    assert traffic.outcomes[-1][1] == new


def test_a_failed_reload_keeps_the_old_model_serving(server):
    serving = server.versions_by_worker(2)
    version = next(iter(set(serving.values())))
    broken = server.root / "20300101T000000000Z-badbad"
    shutil.copytree(server.root / version, broken)
    data_file = broken / "model.npz"
    data_file.write_bytes(data_file.read_bytes()[:5000])
    with Traffic(server.url) as traffic:
        response = requests.post(f"{server.url}/v1/admin/reload", json={"model": broken.name}, headers=AUTH, timeout=60)
        traffic.wait_for(10, after=time.monotonic())
    assert response.status_code == 422 and response.json()["error"]["code"] == "invalid_model"
    assert all(outcome == (200, version) for outcome in traffic.outcomes)
    assert set(server.versions_by_worker(2).values()) == {version}


def test_serve_refuses_to_start_with_a_damaged_explicit_model(tmp_path, model_root):
    root = tmp_path / "models"
    shutil.copytree(model_root, root)
    version_dir = root / current_version(root)
    (version_dir / "model.npz").write_bytes(b"not a model")
    result = subprocess.run(
        [sys.executable, "-m", "newstag", "serve", "--port", "1", "--model", str(version_dir)],
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "does not match" in result.stderr.decode()
