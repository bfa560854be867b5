"""The server under load: start ``newstag serve``, drive it with wrk, read its workers' memory.

Also what ``bench.soak`` reuses. Import it as ``bench.http``: run the benchmarks with
``python -m`` from the repository root, never as ``python bench/…`` (the module would shadow the
standard library's ``http`` from inside ``bench/``).
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

START_TIMEOUT_S = 120

WRK_SCRIPT = """
local bodies = {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do n = n + 1; bodies[n] = line end
end
local i = 0
request = function()
  i = i % n + 1
  return wrk.format("POST", "/v1/classify", {["Content-Type"] = "application/json"}, bodies[i])
end
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(root: Path, workers: int = 2) -> tuple[subprocess.Popen, int, float]:
    """``newstag serve`` on a free port over the model root; (process, port, seconds to ready)."""
    port = free_port()
    env = {**os.environ, "NEWSTAG_MODEL_ROOT": str(root)}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "newstag", "serve", "--port", str(port), "--workers", str(workers)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    while True:
        try:
            if requests.get(f"http://127.0.0.1:{port}/readyz", timeout=1).status_code == 200:
                return process, port, time.perf_counter() - started
        except requests.RequestException:
            pass
        if process.poll() is not None or time.perf_counter() - started > START_TIMEOUT_S:
            process.kill()
            raise RuntimeError(f"newstag serve did not get ready (exit status {process.poll()})")
        time.sleep(0.02)


def stop_server(process: subprocess.Popen) -> None:
    process.send_signal(signal.SIGTERM)
    process.wait(60)


def worker_pids(port: int, workers: int) -> set[int]:
    """The pids of the server's workers, as /readyz reports them on fresh connections."""
    pids = set()
    for _ in range(200):
        answer = requests.get(f"http://127.0.0.1:{port}/readyz", headers={"Connection": "close"}, timeout=5)
        pids.add(answer.json()["worker"])
        if len(pids) == workers:
            break
    return pids


def rss_mb(pid: int) -> float:
    with open(f"/proc/{pid}/status") as status:
        return next(int(line.split()[1]) for line in status if line.startswith("VmRSS:")) / 1024


def pss_mb(pid: int) -> float:
    """Proportional set size: pages shared with the master and the other worker count by share."""
    with open(f"/proc/{pid}/smaps_rollup") as rollup:
        return next(int(line.split()[1]) for line in rollup if line.startswith("Pss:")) / 1024


def wrk(port: int, bodies: list[str], seconds: int, connections: int = 16, lua: str = WRK_SCRIPT) -> dict:
    """Run wrk with a Lua script that reads ``bodies`` (one a line); parse its figures."""
    with tempfile.TemporaryDirectory() as tmp:
        script, data = Path(tmp) / "post.lua", Path(tmp) / "bodies.txt"
        script.write_text(lua)
        data.write_text("\n".join(bodies) + "\n", encoding="utf-8")
        command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
        result = subprocess.run(
            [*command, "-s", str(script), f"http://127.0.0.1:{port}", "--", str(data)],
            capture_output=True,
            text=True,
            timeout=seconds + 60,
        )
    out = result.stdout
    figures = {"raw": out}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("Requests/sec:"):
            figures["rps"] = float(parts[1])
        elif parts[:1] in (["50%"], ["99%"]):
            figures["p" + parts[0].rstrip("%")] = _ms(parts[1])
        elif "Non-2xx or 3xx responses" in line:
            figures["non_2xx"] = int(parts[-1])
        elif line.strip().startswith("Socket errors"):
            figures["socket_errors"] = sum(int(p.strip(",")) for p in parts if p.strip(",").isdigit())
        elif "requests in" in line:
            figures["requests"] = int(parts[0])
    figures.setdefault("non_2xx", 0)
    figures.setdefault("socket_errors", 0)
    return figures


def _ms(value: str) -> float:
    for suffix, factor in (("us", 0.001), ("ms", 1.0), ("s", 1000.0)):
        if value.endswith(suffix):
            return float(value[: -len(suffix)]) * factor
    return float(value)


def load_test(root: Path, texts: list[str], quick: bool) -> dict:
    """wrk on single paragraphs, then on batches of 64 (explain off); start time and worker memory."""
    seconds = 8 if quick else 30
    process, port, cold = start_server(root)
    try:
        pids = worker_pids(port, 2)
        single = [json.dumps({"text": t, "explain": False}, ensure_ascii=False) for t in texts]
        batches = [
            json.dumps({"texts": texts[i : i + 64], "explain": False}, ensure_ascii=False)
            for i in range(0, len(texts) - 63, 64)
        ]
        single_run = wrk(port, single, seconds)
        batch_run = wrk(port, batches, seconds)
        rss = {pid: rss_mb(pid) for pid in pids}
        pss = {pid: pss_mb(pid) for pid in pids}
    finally:
        stop_server(process)
    return {"cold_start_s": cold, "single": single_run, "batch64": batch_run, "rss_mb": rss, "pss_mb": pss}
