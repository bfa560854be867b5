"""Property-based fuzzing of the whole API with schemathesis against a real two-worker server."""

import collections
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import ServerProcess

pytestmark = pytest.mark.slow  # real servers, processes or browsers

TOKEN = "fuzz-token"
CONFIG = Path(__file__).parent / "schemathesis.toml"
ARTIFACTS = Path(os.environ.get("NEWSTAG_TEST_ARTIFACTS", Path(__file__).parent.parent / "test-artifacts"))


def test_generated_requests_never_get_a_server_error_and_every_answer_matches_the_schema(model_root, tmp_path):
    root = tmp_path / "models"
    shutil.copytree(model_root, root)
    env = {
        "NEWSTAG_ADMIN_TOKEN": TOKEN,
        "NEWSTAG_EDITOR_TOKENS": f"fuzzer:{TOKEN}",
        "NEWSTAG_DATABASE_URL": f"sqlite:///{tmp_path / 'feedback.sqlite3'}",
    }
    schemathesis = Path(sys.executable).with_name("schemathesis")
    with ServerProcess(root, workers=2, env=env) as server:
        result = subprocess.run(
            [
                str(schemathesis),
                "--config-file",
                str(CONFIG),
                "run",
                f"{server.url}/openapi.json",
                "--checks",
                "all",
                "--phases",
                "examples,coverage,fuzzing",
                "--max-examples",
                "120",
                "--seed",
                "20261128",
                "--request-timeout",
                "30",
                "--workers",
                "2",
                "-H",
                f"Authorization: Bearer {TOKEN}",
                "--report",
                "har",
                "--report-dir",
                str(tmp_path / "report"),
            ],
            capture_output=True,
            timeout=600,
            cwd=tmp_path,
        )
        server_log = server.output()
    output = result.stdout.decode(errors="replace")
    assert result.returncode == 0, output[-5000:]
    [har] = list((tmp_path / "report").glob("*.json"))
    statuses = collections.Counter(e["response"]["status"] for e in json.loads(har.read_text())["log"]["entries"])
    total = sum(statuses.values())
    ok = sum(n for status, n in statuses.items() if 200 <= status < 300)
    assert total >= 1000
    assert not [s for s in statuses if s >= 500]
    assert "Traceback" not in server_log
    # The fuzzing must reach the model, not only the validators.
    assert ok / total >= 0.2
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    summary = {"requests": total, "share_2xx": round(ok / total, 3), "statuses": dict(sorted(statuses.items()))}
    (ARTIFACTS / "fuzz-summary.json").write_text(json.dumps(summary, indent=2))
