"""Cold start: what a user waits for before the first answer, from a fresh process each time.

The command line as typed (the ``newstag`` console script of this Python): ``--help``,
``predict --help`` and one text through ``predict`` with the model already trained; and a
service worker, from a fresh Python to a warm app (what each gunicorn worker does).
"""

from __future__ import annotations

import os
import shutil
import statistics
import subprocess
import sys
import time
from pathlib import Path

from bench import REPO

SAMPLE_TEXT = "近日，某县公安局交警大队在国道路口开展酒驾夜查，查处酒后驾驶机动车违法行为三起。"


def newstag_command() -> list[str]:
    """The console script next to this Python (what a user types), else ``python -m newstag``."""
    script = Path(sys.executable).with_name("newstag")
    if script.exists():
        return [str(script)]
    found = shutil.which("newstag")
    return [found] if found else [sys.executable, "-m", "newstag"]


def wall_seconds(command: list[str], repeats: int, stdin: str | None = None, env: dict | None = None) -> float:
    """Median wall-clock seconds of ``command`` run ``repeats`` times; a failing run raises."""
    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        result = subprocess.run(command, input=stdin, capture_output=True, text=True, env=env, cwd=REPO)
        samples.append(time.perf_counter() - started)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(command)} failed ({result.returncode}): {result.stderr[-2000:]}")
    return statistics.median(samples)


def cli_cold_start(root: Path, repeats: int = 5) -> dict:
    """Seconds (median of ``repeats``) for help, predict's help and one text through predict."""
    newstag = newstag_command()
    env = {**os.environ, "NEWSTAG_MODEL_ROOT": str(root)}
    return {
        "command": " ".join(Path(part).name if i == 0 else part for i, part in enumerate(newstag)),
        "repeats": repeats,
        "help_s": wall_seconds([*newstag, "--help"], repeats, env=env),
        "predict_help_s": wall_seconds([*newstag, "predict", "--help"], repeats, env=env),
        "predict_one_s": wall_seconds([*newstag, "predict"], repeats, stdin=SAMPLE_TEXT + "\n", env=env),
    }


def worker_cold_start(root: Path, repeats: int) -> float:
    """Seconds from a fresh Python process to a warm app (what each gunicorn worker does)."""
    code = (
        "import time, sys; t = time.perf_counter(); from service import create_app; "
        "create_app({'MODEL_ROOT': sys.argv[1]}); print(time.perf_counter() - t)"
    )
    return wall_seconds([sys.executable, "-c", code, str(root)], repeats)
