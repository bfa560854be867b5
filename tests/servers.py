"""Starting and stopping a real `newstag serve` process for tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import requests


def wait_until(condition, timeout: float = 60.0, message: str = "condition never held", interval: float = 0.05):
    """Poll ``condition`` until it returns something true; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message)
        time.sleep(interval)


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used (from /proc)."""
    with open(f"/proc/{pid}/stat") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ServerProcess:
    """`newstag serve` on a free loopback port; a context manager that waits until it is ready."""

    def __init__(self, root, workers=2, env=None, args=(), start_timeout=120):
        self.root = root
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {**os.environ, "NEWSTAG_MODEL_ROOT": str(root), **(env or {})}
        self.args = ["serve", "--port", str(self.port), "--workers", str(workers), *args]
        self.start_timeout = start_timeout
        self.log = tempfile.TemporaryFile()
        self.process = None

    def __enter__(self):
        self.process = subprocess.Popen(
            [sys.executable, "-m", "newstag", *self.args], env=self.env, stdout=self.log, stderr=subprocess.STDOUT
        )
        deadline = time.monotonic() + self.start_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited with {self.process.returncode}:\n{self.output()}")
            try:
                if requests.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return self
            except requests.RequestException:
                pass
            time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"server not ready in {self.start_timeout} s:\n{self.output()}")

    def __exit__(self, *exc):
        self.stop()
        self.log.close()

    def stop(self, sig=signal.SIGTERM, timeout=60) -> int | None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(sig)
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        return self.process.returncode if self.process else None

    def output(self) -> str:
        self.log.seek(0)
        return self.log.read().decode("utf-8", "replace")

    def log_lines(self) -> list[str]:
        return [line for line in self.output().splitlines() if line.startswith("{")]

    def versions_by_worker(self, workers: int, timeout: float = 30.0) -> dict:
        """{worker pid: model version}, probing /readyz in parallel until ``workers`` pids answered.

        An idle server may hand every sequential request to the same worker, so probes go out
        eight at a time on fresh connections.
        """

        def probe(_):
            response = requests.get(f"{self.url}/readyz", headers={"Connection": "close"}, timeout=10)
            body = response.json()
            return body["worker"], body["model_version"]

        seen: dict = {}
        deadline = time.monotonic() + timeout
        with ThreadPoolExecutor(8) as pool:
            while len(seen) < workers and time.monotonic() < deadline:
                seen.update(pool.map(probe, range(16)))
        return seen

    def wait_for_version(self, version: str, workers: int, timeout: float = 60.0) -> dict:
        """Probe until every one of ``workers`` workers serves ``version``; returns what was seen last."""
        deadline = time.monotonic() + timeout
        while True:
            seen = self.versions_by_worker(workers)
            if (len(seen) == workers and set(seen.values()) == {version}) or time.monotonic() > deadline:
                return seen
            time.sleep(0.2)


class Traffic:
    """Background clients classifying a text until stopped.

    ``outcomes`` holds (status, model version) of every request, ``timed`` the same with the
    moment it started; a failed connection is (None, error).
    """

    TEXT = "近日，嘉兴市秀洲区消防救援大队开展高层建筑灭火救援演练。"

    def __init__(self, url, clients=4):
        self.url, self.stop, self.outcomes, self.timed = url, threading.Event(), [], []
        self.threads = [threading.Thread(target=self._run) for _ in range(clients)]

    def _run(self):
        while not self.stop.is_set():
            started = time.monotonic()
            try:
                response = requests.post(
                    f"{self.url}/v1/classify", json={"text": self.TEXT}, headers={"Connection": "close"}, timeout=30
                )
                outcome = (response.status_code, response.json().get("model_version"))
            except requests.RequestException as exc:
                outcome = (None, repr(exc))
            self.outcomes.append(outcome)
            self.timed.append((started, *outcome))

    def __enter__(self):
        for thread in self.threads:
            thread.start()
        return self

    def wait_for(self, count: int, after: float | None = None, timeout: float = 60.0) -> None:
        """Wait until ``count`` requests have finished (those started after the moment ``after``, if given)."""

        def done():
            return sum(1 for started, *_ in list(self.timed) if after is None or started > after) >= count

        wait_until(done, timeout, f"fewer than {count} requests finished in {timeout} s")

    def __exit__(self, *exc):
        self.stop.set()
        for thread in self.threads:
            thread.join()
