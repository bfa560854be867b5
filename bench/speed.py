"""Speed in one process: batch paragraphs/s and single-text latency, newstag beside fastText+jieba."""

from __future__ import annotations

import statistics
import time

import numpy as np

from bench.competitors import FastText
from bench.texts import around_150, bundled_records
from model.normalize import normalize
from model.pipeline import TopicModel
from model.tokenizer import Tokenizer


def percentiles(samples_ms: list[float]) -> dict:
    """p50 and p99 of latencies in milliseconds."""
    return {"p50": float(np.percentile(samples_ms, 50)), "p99": float(np.percentile(samples_ms, 99))}


def speed(model: TopicModel, texts: list[str], quick: bool) -> dict:
    """Batch throughput over ``texts`` (median of repeats, paths interleaved) and single-call latency."""
    repeats = 3 if quick else 7
    topical = [r for r in bundled_records() if r.topic]
    ft = FastText(tuned=True).fit([r.text for r in topical], [r.topic for r in topical])
    jieba_only, fast = Tokenizer(backend="jieba"), Tokenizer(backend="rjieba")
    normalised = [normalize(t) for t in texts]
    paths = {
        "newstag": lambda: model.predict(texts, explain=False),
        "fastText+jieba": lambda: ft.predict(texts),
        "jieba alone": lambda: [jieba_only.cut(t) for t in normalised],
        "rjieba alone": lambda: [fast.cut(t) for t in normalised],
    }
    samples: dict[str, list[float]] = {key: [] for key in paths}
    for _ in range(repeats):  # interleave the paths within each repeat
        for key, run in paths.items():
            started = time.perf_counter()
            run()
            samples[key].append(time.perf_counter() - started)
    single = around_150(texts, 300 if quick else 1000)
    latencies: dict[str, list[float]] = {"newstag": [], "fastText+jieba": []}
    for text in single:
        for key, run in (
            ("newstag", lambda t=text: model.predict([t], explain=False)),
            ("fastText+jieba", lambda t=text: ft.predict([t])),
        ):
            started = time.perf_counter()
            run()
            latencies[key].append((time.perf_counter() - started) * 1000)
    return {
        "batch_per_s": {key: len(texts) / statistics.median(values) for key, values in samples.items()},
        "single_ms": {key: percentiles(values) for key, values in latencies.items()},
        "n_batch": len(texts),
        "n_single": len(single),
        "single_mean_chars": statistics.mean(len(t) for t in single),
    }
