"""newstag benchmarks: quality, speed, explanations, trust, HTTP load and cold start on this machine.

Run from the repository root:

    python -m bench.run [--quick]   # every section; writes bench/RESULTS.md (or RESULTS-quick.md)
    python -m bench.soak            # 120 s of mixed HTTP traffic; writes bench/SOAK.md

One module per job: ``competitors`` and ``quality`` (newstag beside fastText and ComplementNB),
``trust`` (the review flag on real news and the gate split), ``speed`` and ``explanations``
(in process), ``http`` (server, wrk, memory), ``coldstart`` (the command line and a worker),
``report`` (RESULTS.md), ``chart`` (results.png), ``run`` (the entry point); ``archive``
(tag-archive throughput) is run when it provides ``archive_bench``.
"""

from __future__ import annotations

import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
# THUCNews titles (train.jsonl, test.jsonl): the public comparison and the foreign-section titles.
THUCNEWS = SHARED / "bench" / "thucnews"
OUT = REPO / "bench"


def log(message: str) -> None:
    """A progress line on stdout: benchmarks are scripts and print what they are doing."""
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", flush=True)


def median_seconds(function, repeats: int) -> float:
    """Median wall-clock seconds of ``repeats`` calls of ``function``."""
    import statistics

    samples = []
    for _ in range(repeats):
        started = time.perf_counter()
        function()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)
