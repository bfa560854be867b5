"""Soak run: `newstag serve` with 2 workers under 32 connections of mixed traffic for 120 s.

    python -m bench.soak              # 120 s, writes bench/SOAK.md
    python -m bench.soak --seconds 30 # a shorter look

Mixed traffic: single paragraphs, batches of 16 and whole pages, rotating over distinct texts.
Reports throughput, p50/p99 latency, errors, and each worker's resident memory at the 30th
second and at the end (growth must stay under 10%).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
from pathlib import Path

from bench import OUT, log
from bench.http import rss_mb, start_server, stop_server, worker_pids, wrk
from bench.texts import unique_paragraphs
from model.taxonomy import load_taxonomy
from training.train import TrainingOptions, train_version

MIXED = """
local bodies, paths = {}, {}
local n = 0
init = function(args)
  for line in io.lines(args[1]) do
    n = n + 1
    local tab = line:find("\\t")
    paths[n] = line:sub(1, tab - 1)
    bodies[n] = line:sub(tab + 1)
  end
end
local i = 0
request = function()
  i = i % n + 1
  return wrk.format("POST", paths[i], {["Content-Type"] = "application/json"}, bodies[i])
end
"""


def mixed_requests(texts: list[str]) -> list[str]:
    lines = []
    for i, text in enumerate(texts):
        lines.append("/v1/classify\t" + json.dumps({"text": text}, ensure_ascii=False))
        if i % 8 == 0:
            batch = texts[i : i + 16]
            lines.append("/v1/classify\t" + json.dumps({"texts": batch, "explain": False}, ensure_ascii=False))
        if i % 16 == 0:
            page = "\n\n".join(f"标题{j}\n\n通讯员 张三\n\n本报讯 {t}" for j, t in enumerate(texts[i : i + 6]))
            lines.append("/v1/tag-page\t" + json.dumps({"text": page}, ensure_ascii=False))
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.soak", description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=int, default=120)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp) / "models"
        log("training the bundled model")
        train_version(root, load_taxonomy(), options=TrainingOptions(folds=3))
        process, port, _ = start_server(root)
        try:
            pids = worker_pids(port, 2)
            samples: dict[float, dict[int, float]] = {}

            def sample():
                started = time.monotonic()
                for at in (30.0, float(args.seconds) - 1):
                    time.sleep(max(0.0, started + at - time.monotonic()))
                    samples[at] = {pid: rss_mb(pid) for pid in pids}

            sampler = threading.Thread(target=sample, daemon=True)
            sampler.start()
            log(f"wrk: 32 connections, {args.seconds} s of mixed traffic")
            figures = wrk(port, mixed_requests(unique_paragraphs(6000)), args.seconds, connections=32, lua=MIXED)
            sampler.join(30)
        finally:
            stop_server(process)
    early, late = samples.get(30.0, {}), samples.get(float(args.seconds) - 1, {})
    growth = {pid: (late[pid] - early[pid]) / early[pid] for pid in early if pid in late}
    report = [
        "# Soak run",
        "",
        f"`python -m bench.soak --seconds {args.seconds}` on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}: "
        "`newstag serve --workers 2`, wrk `-t2 -c32` on the same 2 cores, mixed single-paragraph, "
        "16-text batch and 6-item tag-page requests.",
        "",
        "| figure | value |",
        "|---|---|",
        f"| requests/s | {figures.get('rps')} |",
        f"| p50 / p99 latency | {figures.get('p50')} ms / {figures.get('p99')} ms |",
        f"| errors (non-2xx, socket) | {figures['non_2xx']}, {figures['socket_errors']} |",
        "| worker RSS at 30 s -> end | "
        + "; ".join(f"{early[p]:.0f} -> {late.get(p, float('nan')):.0f} MB" for p in early)
        + " |",
        "| RSS growth 30 s -> end | " + "; ".join(f"{g:+.1%}" for g in growth.values()) + " |",
        "",
        "```",
        figures["raw"].strip(),
        "```",
    ]
    (OUT / "SOAK.md").write_text("\n".join(report) + "\n", encoding="utf-8")
    log("done: see bench/SOAK.md")
    ok = figures["non_2xx"] == 0 and figures["socket_errors"] == 0 and all(g < 0.10 for g in growth.values())
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
