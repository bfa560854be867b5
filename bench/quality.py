"""Quality side by side: 5-fold CV on the bundled corpus, THUCNews titles, real news per file."""

from __future__ import annotations

import random
import time

import numpy as np
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import StratifiedKFold

from bench import THUCNEWS, log
from bench.competitors import competitors
from bench.texts import _jsonl, bundled_records, real_news
from training.split import split_gate


def cross_validation(quick: bool) -> list[dict]:
    """Every competitor on the same 5 folds of the topic records (2 folds' worth when quick)."""
    records = [r for r in bundled_records() if r.topic]
    texts = np.array([r.text for r in records], dtype=object)
    labels = np.array([r.topic for r in records])
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=0)
    rows = {c.name: {"pred": np.empty(len(records), dtype=object), "seconds": 0.0} for c in competitors()}
    for number, (train, test) in enumerate(folds.split(texts, labels), 1):
        if quick and number > 2:
            break
        for competitor in competitors():  # interleaved: every competitor on each fold in turn
            started = time.perf_counter()
            competitor.fit(list(texts[train]), list(labels[train]))
            rows[competitor.name]["seconds"] += time.perf_counter() - started
            rows[competitor.name]["pred"][test] = competitor.predict(list(texts[test]))
    done = np.array([p is not None for p in rows["newstag"]["pred"]])
    return [
        {
            "model": name,
            "accuracy": accuracy_score(labels[done], r["pred"][done]),
            "macro_f1": f1_score(labels[done], list(r["pred"][done]), average="macro"),
            "train_s": r["seconds"],
        }
        for name, r in rows.items()
    ]


def thucnews(quick: bool) -> list[dict] | None:
    """Train on THUCNews ``train.jsonl``, test on ``test.jsonl`` (samples of them when quick)."""
    if not THUCNEWS.exists():
        log(f"{THUCNEWS} is absent: THUCNews comparison skipped")
        return None
    train, test = _jsonl(THUCNEWS / "train.jsonl"), _jsonl(THUCNEWS / "test.jsonl")
    if quick:
        train, test = random.Random(0).sample(train, 6000), random.Random(1).sample(test, 2000)
    rows = []
    for competitor in competitors():
        started = time.perf_counter()
        competitor.fit([r["text"] for r in train], [r["label"] for r in train])
        seconds = time.perf_counter() - started
        predicted = competitor.predict([r["text"] for r in test])
        truth = [r["label"] for r in test]
        rows.append(
            {
                "model": competitor.name,
                "accuracy": accuracy_score(truth, predicted),
                "macro_f1": f1_score(truth, predicted, average="macro"),
                "train_s": seconds,
            }
        )
    return rows


def real_data() -> list[dict] | None:
    """Every competitor trained on the bundled topic records less the gate split, scored per real-news file."""
    files = real_news()
    if files is None:
        return None
    train, _ = split_gate(list(bundled_records()))
    train = [r for r in train if r.topic]
    fitted = [c.fit([r.text for r in train], [r.topic for r in train]) for c in competitors()]
    rows = []
    for name, items in files.items():
        for competitor in fitted:
            predicted = competitor.predict([r["text"] for r in items])
            rows.append(
                {
                    "file": name,
                    "model": competitor.name,
                    "n": len(items),
                    "accept_accuracy": sum(p in r["accept"] for p, r in zip(predicted, items, strict=True))
                    / len(items),
                    "macro_f1": f1_score([r["topic"] for r in items], predicted, average="macro"),
                }
            )
    return rows
