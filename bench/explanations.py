"""What explaining costs: ``predict(..., explain=True)`` against ``explain=False`` on the same texts.

Single texts: one call per distinct paragraph of about 140 characters, explain on and off
alternating (which goes first alternates too, so neither gets the warmer cache). Batches: the whole
batch set per call, median of repeats, on and off interleaved. The target (issue 11) is at most 2x.
"""

from __future__ import annotations

import statistics
import time

from bench.speed import percentiles
from bench.texts import around_150
from model.pipeline import TopicModel

TARGET_RATIO = 2.0


def explanations(model: TopicModel, texts: list[str], quick: bool) -> dict:
    """p50/p99 ms per single text and paragraphs/s per batch, explain on and off, and their ratios."""
    single = around_150(texts, 1000)
    latencies: dict[bool, list[float]] = {False: [], True: []}
    for number, text in enumerate(single):
        for explain in (False, True) if number % 2 else (True, False):
            started = time.perf_counter()
            model.predict([text], explain=explain)
            latencies[explain].append((time.perf_counter() - started) * 1000)
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(3 if quick else 5):
        for explain in (False, True):
            started = time.perf_counter()
            model.predict(texts, explain=explain)
            seconds[explain].append(time.perf_counter() - started)
    plain, explained = percentiles(latencies[False]), percentiles(latencies[True])
    batch = {explain: len(texts) / statistics.median(values) for explain, values in seconds.items()}
    return {
        "n_single": len(single),
        "single_mean_chars": statistics.mean(len(t) for t in single),
        "n_batch": len(texts),
        "single_ms": {"plain": plain, "explain": explained},
        "batch_per_s": {"plain": batch[False], "explain": batch[True]},
        # Cost ratios: how many times longer explaining takes.
        "ratio": {
            "single_p50": explained["p50"] / plain["p50"],
            "single_p99": explained["p99"] / plain["p99"],
            "batch": batch[False] / batch[True],
        },
        "target_ratio": TARGET_RATIO,
    }
