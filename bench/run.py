"""newstag benchmarks, side by side with fastText and ComplementNB, in one run on this machine.

    python -m bench.run            # the full run (about 20 minutes on 2 cores)
    python -m bench.run --quick    # every section on smaller inputs (a few minutes)

Writes bench/RESULTS.md (tables, machine, versions), bench/results.png (chart) and
bench/results.json (every figure; quick runs write the -quick names). Reads ../shared/bench/thucnews
and ../shared/data when present and says so when absent. Competitors run on the same texts in the
same run, interleaved, and speed figures are medians of repeats.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

from bench import OUT, log
from bench.chart import chart
from bench.coldstart import cli_cold_start, worker_cold_start
from bench.explanations import explanations
from bench.http import load_test
from bench.machine import machine
from bench.quality import cross_validation, real_data, thucnews
from bench.report import render
from bench.speed import speed
from bench.texts import unique_paragraphs
from bench.trust import trust

ARCHIVE_RECORDS = {True: 5_000, False: 50_000}  # quick, full


def train(root: Path) -> dict:
    """Train the bundled model as ``newstag train`` does; training time and artifact sizes."""
    import joblib

    from model.artifact import load_model
    from model.taxonomy import load_taxonomy
    from training.train import TrainingOptions, train_version

    started = time.perf_counter()
    train_version(root, load_taxonomy(), options=TrainingOptions(folds=5))
    seconds = time.perf_counter() - started
    loaded = load_model(root)
    raw = root.parent / "raw.joblib"
    joblib.dump(loaded.model, raw)
    return {
        "model": loaded.model,
        "training_s": seconds,
        "artifact_mb": (loaded.path / "model.joblib").stat().st_size / 2**20,
        "artifact_raw_mb": raw.stat().st_size / 2**20,
    }


def archive(root: Path, quick: bool) -> dict | None:
    """``bench.archive.archive_bench`` when that module provides it; its failure is reported, not raised."""
    try:
        from bench.archive import archive_bench
    except ImportError:
        log("bench/archive.py provides no archive_bench: Archive section skipped")
        return None
    try:
        return archive_bench(root, ARCHIVE_RECORDS[quick])
    except Exception as exc:  # the section says what went wrong; the other sections still get written
        log(f"archive benchmark failed: {exc}")
        return {"error": f"{type(exc).__name__}: {exc}"[:500]}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller inputs and shorter load runs, a few minutes")
    args = parser.parse_args(argv)
    quick = args.quick
    results: dict = {"machine": machine()}
    with tempfile.TemporaryDirectory(prefix="newstag-bench-") as tmp:
        root = Path(tmp) / "models"
        log("training the bundled model")
        trained = train(root)
        model = trained.pop("model")
        results.update(trained)
        log("quality: cross-validation")
        results["cv"] = cross_validation(quick)
        log("quality: THUCNews")
        results["thucnews"] = thucnews(quick)
        log("quality: real data")
        results["real"] = real_data()
        log("trust: real news and the gate split")
        results["trust"] = trust(model)
        texts = unique_paragraphs(2000 if quick else 8000)
        log(f"speed in process on {len(texts)} paragraphs")
        results["speed"] = speed(model, texts, quick)
        log("explanations on and off")
        results["explanations"] = explanations(model, texts, quick)
        log("HTTP")
        results["http"] = load_test(root, texts, quick)
        log("cold start")
        results["cli_cold"] = cli_cold_start(root, repeats=5)
        results["worker_cold_repeats"] = 2 if quick else 5
        results["worker_cold_s"] = worker_cold_start(root, results["worker_cold_repeats"])
        log("archive")
        results["archive"] = archive(root, quick)
    suffix = "-quick" if quick else ""
    (OUT / f"RESULTS{suffix}.md").write_text(render(results, quick), encoding="utf-8")
    chart(results, OUT / f"results{suffix}.png")
    (OUT / f"results{suffix}.json").write_text(json.dumps(results, indent=2, default=str), encoding="utf-8")
    log(f"done: see bench/RESULTS{suffix}.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
