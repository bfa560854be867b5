"""Faults with real processes and files: killed training, full disks, killed workers, SIGTERM,
and a feedback store under kills and locks. The previous model and every acknowledged
correction must survive."""

import errno
import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest
import requests

from model import artifact
from model.artifact import current_version, list_versions, load_model, save_version
from tests.servers import ServerProcess, Traffic, cpu_seconds, wait_until
from training.feedback import FeedbackStore

pytestmark = pytest.mark.slow  # real servers, processes or browsers


def _meta(loaded):
    return {k: v for k, v in loaded.metadata.items() if k not in ("version", "artifact", "libraries")}


def wait_for(path, timeout=300):
    deadline = time.monotonic() + timeout
    while not path.exists():
        assert time.monotonic() < deadline, f"{path} never appeared"
        time.sleep(0.1)


# -- model artifacts ----------------------------------------------------------------------

SLOW_SAVE = textwrap.dedent("""
    import pathlib, sys, time
    import joblib

    def stalled_dump(obj, handle, **kwargs):
        handle.write(b"the first bytes of a model")
        handle.flush()
        pathlib.Path(sys.argv[2]).write_text("writing")
        time.sleep(600)

    joblib.dump = stalled_dump
    from newstag.cli import main
    sys.exit(main(["train", "--out", sys.argv[1], "--folds", "2"]))
""")


def test_training_killed_while_writing_the_model_leaves_the_old_one_current(private_root, tmp_path, loaded):
    before = current_version(private_root)
    marker = tmp_path / "writing"
    process = subprocess.Popen(
        [sys.executable, "-c", SLOW_SAVE, str(private_root), str(marker)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(marker)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(60)
    assert current_version(private_root) == before
    assert list_versions(private_root) == [before]
    assert load_model(private_root).version == before
    leftovers = list(private_root.glob(".tmp-*"))
    assert leftovers, "the killed run should have left its temporary directory"
    save_version(private_root, loaded.model, _meta(loaded), make_current=False)
    assert not any(p.exists() for p in leftovers)


@pytest.mark.parametrize("step", ["cross-validation fold 2/2", "final fit", "gate split"])
def test_training_killed_at_any_step_changes_nothing(private_root, step):
    """Killed the moment training reports a step (its progress lines on stderr are the marker)."""
    before = current_version(private_root)
    process = subprocess.Popen(
        [sys.executable, "-m", "newstag", "train", "--out", str(private_root), "--folds", "2"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for line in process.stderr:
            if step in line.decode():
                break
        else:
            pytest.fail(f"training never reported {step!r}")
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait(60)
        process.stderr.close()
    assert current_version(private_root) == before and list_versions(private_root) == [before]
    assert load_model(private_root).version == before


@pytest.mark.parametrize("failing", ["model.json", "current"])
def test_a_full_disk_while_saving_keeps_the_previous_model(private_root, loaded, monkeypatch, failing):
    before = current_version(private_root)
    real_write = artifact._write_file

    def full_disk(path, data):
        if path.name == failing or (failing == "current" and path.name.startswith(".current")):
            raise OSError(errno.ENOSPC, "No space left on device", str(path))
        return real_write(path, data)

    monkeypatch.setattr(artifact, "_write_file", full_disk)
    with pytest.raises(OSError) as caught:
        save_version(private_root, loaded.model, _meta(loaded))
    assert caught.value.errno == errno.ENOSPC
    assert current_version(private_root) == before
    assert load_model(private_root).version == before
    assert not list(private_root.glob(".tmp-*"))


def test_serve_refuses_a_damaged_current_model(private_root):
    target = private_root / current_version(private_root) / "model.npz"
    target.write_bytes(target.read_bytes()[:-1])
    result = subprocess.run(
        [sys.executable, "-m", "newstag", "serve", "--port", "1"],
        env={**os.environ, "NEWSTAG_MODEL_ROOT": str(private_root)},
        capture_output=True,
        timeout=120,
    )
    assert result.returncode == 1
    assert "modified or truncated" in result.stderr.decode()


# -- the server -----------------------------------------------------------------------------


def test_a_worker_killed_under_load_is_replaced_and_the_service_keeps_answering(private_root):
    with ServerProcess(private_root, workers=2) as server:
        workers = server.versions_by_worker(2)
        with Traffic(server.url) as traffic:
            traffic.wait_for(20)
            victim = next(iter(workers))
            os.kill(victim, signal.SIGKILL)
            replaced = wait_until(
                lambda: (seen := server.versions_by_worker(2)) and victim not in seen and len(seen) == 2 and seen,
                timeout=60,
                message="the killed worker was never replaced",
            )
            replaced_at = time.monotonic()
            traffic.wait_for(30, after=replaced_at)
    assert victim not in replaced and len(replaced) == 2
    settled = [outcome for started, *outcome in traffic.timed if started > replaced_at]
    assert settled and all(status == 200 for status, _ in settled)
    failed = [o for o in traffic.outcomes if o[0] != 200]
    assert len(failed) <= 8, failed  # at most the requests in flight in the killed worker
    assert len(traffic.outcomes) > 50


def test_sigterm_lets_a_running_request_finish_then_exits(private_root):
    # Enough items to keep a worker busy for well over a second on a fast machine (400 once did).
    page = "\n".join(
        f"第{n}条标题\n通讯员 张三\n本报讯 近日，某派出所民警在辖区开展夜间巡逻，抓获盗窃嫌疑人。" for n in range(2000)
    )
    with ServerProcess(private_root, workers=1) as server:
        [worker] = server.versions_by_worker(1)
        busy_from = cpu_seconds(worker)
        result = {}

        def slow_request():
            started = time.monotonic()
            response = requests.post(f"{server.url}/v1/tag-page", json={"text": page}, timeout=120)
            result.update(
                status=response.status_code, items=len(response.json()["items"]), seconds=time.monotonic() - started
            )

        thread = threading.Thread(target=slow_request)
        thread.start()
        # The worker has spent CPU on the page: the request is being answered when SIGTERM comes.
        wait_until(lambda: cpu_seconds(worker) - busy_from > 0.3, timeout=60, message="the request never started")
        code = server.stop(signal.SIGTERM, timeout=60)
        thread.join(120)
    assert result == {**result, "status": 200, "items": 2000}
    assert code == 0


# -- the feedback store ---------------------------------------------------------------------

WRITER = textwrap.dedent("""
    import sys
    from training.feedback import Correction, FeedbackStore
    store = FeedbackStore(sys.argv[1])
    n = 0
    while True:
        stored = store.add(Correction(f"第{n}条更正的正文。", "court", "wang"))
        print(stored.id, flush=True)
        n += 1
""")


def test_a_writer_killed_mid_stream_loses_no_acknowledged_correction(tmp_path):
    url = f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    FeedbackStore(url).close()
    process = subprocess.Popen([sys.executable, "-c", WRITER, url], stdout=subprocess.PIPE)
    acknowledged = set()
    for line in process.stdout:  # kill it mid-stream, once it has acknowledged 50 corrections
        acknowledged.add(int(line))
        if len(acknowledged) == 50:
            break
    process.send_signal(signal.SIGKILL)
    output, _ = process.communicate(timeout=60)
    acknowledged |= {int(line) for line in output.decode().split()}
    store = FeedbackStore(url)
    stored = {c.id for c in store.list()}
    store.close()
    assert acknowledged <= stored
    with sqlite3.connect(tmp_path / "feedback.sqlite3") as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone() == ("ok",)


def test_a_locked_database_delays_a_correction_but_loses_nothing(tmp_path):
    path = tmp_path / "feedback.sqlite3"
    store = FeedbackStore(f"sqlite:///{path}")
    locked = threading.Event()

    def hold_lock():
        connection = sqlite3.connect(path, isolation_level=None)
        connection.execute("BEGIN EXCLUSIVE")
        locked.set()
        time.sleep(2.0)
        connection.execute("COMMIT")
        connection.close()

    holder = threading.Thread(target=hold_lock)
    holder.start()
    locked.wait(10)
    started = time.monotonic()
    from training.feedback import Correction

    stored = store.add(Correction("锁住时提交的更正。", "justice", "li"))
    waited = time.monotonic() - started
    holder.join()
    assert waited >= 1.0 and stored.id >= 1
    assert [c.text for c in store.list()] == ["锁住时提交的更正。"]
    store.close()
