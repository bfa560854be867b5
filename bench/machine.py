"""The machine and library versions a run measured, for the first line of the results."""

from __future__ import annotations

import os
import platform
import subprocess
import time
from importlib import metadata

LIBRARIES = (
    "newstag",
    "scikit-learn",
    "numpy",
    "scipy",
    "jieba",
    "rjieba",
    "fasttext-wheel",
    "flask",
    "gunicorn",
    "gevent",
)


def machine() -> dict:
    """CPU, cores, Python, library versions, wrk's version and the time of the run."""
    with open("/proc/cpuinfo") as cpuinfo:
        cpu = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "?")
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "absent"
    wrk_version = subprocess.run(["wrk", "-v"], capture_output=True, text=True).stdout.split("\n")[0]
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "versions": versions,
        "wrk": wrk_version,
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
    }
