"""Texts the benchmarks read: the bundled corpus, the real news in ../shared/data, distinct paragraphs."""

from __future__ import annotations

import functools
import json
import random
from pathlib import Path

from bench import SHARED, THUCNEWS, log
from model.taxonomy import load_taxonomy
from training.corpus import Record, load_bundled


@functools.cache
def bundled_records() -> tuple[Record, ...]:
    """The bundled corpus (topic and out-of-scope records), loaded once per run."""
    return tuple(load_bundled(load_taxonomy()))


def unique_paragraphs(limit: int) -> list[str]:
    """Distinct paragraphs: corpus paragraphs and item bodies, plus THUCNews titles joined in pairs."""
    seen, out = set(), []
    for record in bundled_records():
        for part in record.text.split("\n"):
            if len(part) >= 40 and part not in seen:
                seen.add(part)
                out.append(part)
    titles = THUCNEWS / "test.jsonl"
    if titles.exists():
        rows = [row["text"] for row in _jsonl(titles)]
        for a, b in zip(rows[::2], rows[1::2], strict=False):
            text = f"{a}。{b}。"
            if text not in seen:
                seen.add(text)
                out.append(text)
    random.Random(0).shuffle(out)
    return out[:limit]


def around_150(texts: list[str], n: int) -> list[str]:
    """``n`` texts of 120-180 characters (about 140 on average); repeats only if too few exist."""
    picked = [t for t in texts if 120 <= len(t) <= 180]
    return (picked * (n // max(len(picked), 1) + 1))[:n] if len(picked) < n else picked[:n]


def real_news() -> dict[str, list[dict]] | None:
    """Each file of ``../shared/data`` by name (rows with text, topic, accept), or None when absent."""
    base = SHARED / "data"
    if not base.exists():
        log(f"{base} is absent: real-news sections skipped")
        return None
    return {path.name: _jsonl(path) for path in sorted(base.glob("*.jsonl"))}


def _jsonl(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]
