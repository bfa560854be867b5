"""A catalogue of hostile and odd input against a real server: each gets a clear answer."""

import json
import shutil
import socket
import threading
import time

import pytest
import requests

from tests.servers import ServerProcess

POLICE = "近日，某县公安局派出所民警在夜间巡逻中抓获两名盗窃嫌疑人。"


pytestmark = pytest.mark.slow  # a real two-worker server


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_root):
    root = tmp_path_factory.mktemp("hostile") / "models"
    shutil.copytree(model_root, root)
    with ServerProcess(root, workers=2) as process:
        yield process


def raw_post(server, body: bytes, path="/v1/classify", content_type="application/json"):
    return requests.post(server.url + path, data=body, headers={"Content-Type": content_type}, timeout=60)


def error_code(response):
    return response.json()["error"]["code"]


@pytest.mark.parametrize(
    "name, body, status, code",
    [
        ("invalid utf-8", b'{"text": "\xe6\xb0\x91\xff"}', 400, "invalid_utf8"),
        ("lone surrogate", b'{"text": "\\udc00\xe6\xb0\x91"}', 400, "invalid_text"),
        ("number for a string", b'{"text": 3.14}', 400, "invalid_type"),
        ("array for a string", b'{"texts": [["nested"]]}', 400, "invalid_type"),
        ("deep nesting", b'{"text": ' + b"[" * 50000 + b"]" * 50000 + b"}", 400, "invalid_json"),
        ("duplicate keys", b'{"text": "a", "text": "b"}', 400, "invalid_json"),
        ("truncated json", b'{"text": "\xe6\xb0\x91', 400, "invalid_json"),
        ("empty body", b"", 400, "invalid_json"),
        ("10,000-item batch", json.dumps({"texts": ["巡逻"] * 10000}).encode(), 413, "batch_too_large"),
        ("text over the limit", json.dumps({"text": "长" * 20001}).encode(), 413, "text_too_long"),
    ],
)
def test_malformed_requests(server, name, body, status, code):
    response = raw_post(server, body)
    assert response.status_code == status, name
    assert error_code(response) == code


@pytest.mark.parametrize(
    "name, text",
    [
        ("NUL and control characters", "派出所\x00民警\x07在辖区\x1b巡逻，抓获\x08盗窃嫌疑人。"),
        ("emoji", "🚓🚨 民警巡逻抓获盗窃嫌疑人 👮‍♂️👍🏽"),
        ("Traditional Chinese", "近日，某縣公安局派出所民警在夜間巡邏中抓獲兩名盜竊嫌疑人。"),
        ("HTML and script", "<script>alert('x')</script><b>派出所</b>民警<img src=x onerror=1>巡逻"),
        ("one 20,000-character token", "警" * 20000),
        ("20,000 ASCII letters", "a" * 20000),
        ("right-to-left and zero-width", "\u202e派出所\u200b民警\ufeff巡逻\u2066"),
    ],
)
def test_odd_but_valid_text_is_tagged(server, name, text):
    response = requests.post(f"{server.url}/v1/classify", json={"text": text}, timeout=60)
    assert response.status_code == 200, name
    [result] = response.json()["results"]
    assert len(result["topics"]) == 11 and 0 <= result["score"] <= 1
    for term in result["explanation"]:
        for start, end in term["spans"]:
            assert 0 <= start < end <= len(text)


def test_english_only_text_is_flagged_for_review(server):
    response = requests.post(
        f"{server.url}/v1/classify",
        timeout=30,
        json={"text": "The quarterly earnings report beat analyst expectations."},
    )
    assert response.status_code == 200 and response.json()["results"][0]["needs_review"] is True


def test_page_with_hostile_content_still_splits(server):
    page = "\n".join(["<h1>标题</h1>", "通讯员 <b>张三</b>", "本报讯 \x00 近日，🚓 派出所民警巡逻。"] * 200)
    response = requests.post(f"{server.url}/v1/tag-page", json={"text": page, "explain": False}, timeout=120)
    assert response.status_code == 200 and len(response.json()["items"]) >= 1


def _content_length(reply: bytes) -> int:
    head = reply.split(b"\r\n\r\n", 1)[0].decode("latin-1").lower()
    return next((int(line.split(":")[1]) for line in head.split("\r\n") if line.startswith("content-length:")), 0)


def _rss_kb(pid: int) -> int:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:"))


def test_a_50_mb_body_is_refused_before_it_is_read(server):
    workers = server.versions_by_worker(2)
    before = {pid: _rss_kb(pid) for pid in workers}
    with socket.create_connection(("127.0.0.1", server.port), timeout=30) as sock:
        sock.sendall(
            b"POST /v1/classify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            b"Content-Length: 52428800\r\n\r\n" + b"{" * 65536
        )
        started = time.monotonic()
        reply = b""
        while b"\r\n\r\n" not in reply or len(reply.split(b"\r\n\r\n", 1)[1]) < _content_length(reply):
            chunk = sock.recv(65536)
            if not chunk:
                break
            reply += chunk
        elapsed = time.monotonic() - started
    assert reply.startswith(b"HTTP/1.1 413")
    assert b'"code":"too_large"' in reply
    assert elapsed < 5
    after = {pid: _rss_kb(pid) for pid in workers if pid in before}
    assert all(after[pid] - before[pid] < 20_000 for pid in after)  # well under the 50 MB offered


def test_slow_clients_do_not_starve_the_workers(server):
    """200 connections dribbling a request header byte by byte; normal requests still fly."""
    sockets = []
    stop = threading.Event()
    try:
        for _ in range(200):
            sock = socket.create_connection(("127.0.0.1", server.port), timeout=10)
            sock.sendall(b"POST /v1/classify HTTP/1.1\r\nHost: x\r\n")
            sockets.append(sock)

        def dribble():
            while not stop.is_set():
                for sock in sockets:
                    try:
                        sock.sendall(b"X")
                    except OSError:
                        pass
                stop.wait(0.5)

        threading.Thread(target=dribble, daemon=True).start()
        latencies = []
        for _ in range(20):
            started = time.monotonic()
            response = requests.post(
                f"{server.url}/v1/classify", json={"text": POLICE}, headers={"Connection": "close"}, timeout=10
            )
            latencies.append(time.monotonic() - started)
            assert response.status_code == 200
        assert max(latencies) < 2.0
    finally:
        stop.set()
        for sock in sockets:
            sock.close()
