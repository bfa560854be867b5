"""Corpus quality checks: near-duplicate records and over-used openings."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import sparse

from training.corpus import Record


@dataclass(frozen=True)
class NearDuplicate:
    """Two records that share too many character n-grams."""

    first: str
    second: str
    jaccard: float
    containment: float


def _grams(text: str, n: int) -> set[str]:
    return {text[i : i + n] for i in range(max(1, len(text) - n + 1))}


def near_duplicates(
    records: list[Record], n: int = 5, max_jaccard: float = 0.6, max_containment: float = 0.5
) -> list[NearDuplicate]:
    """Pairs whose character n-gram Jaccard or containment reaches the limits.

    Containment is the share of the smaller record's n-grams found in the other, so a
    paragraph cut out of an item is caught.
    """
    vocabulary: dict[str, int] = {}
    rows, cols = [], []
    for row, record in enumerate(records):
        for gram in _grams(record.text, n):
            rows.append(row)
            cols.append(vocabulary.setdefault(gram, len(vocabulary)))
    if not records:
        return []
    matrix = sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(len(records), len(vocabulary))
    )
    sizes = np.asarray(matrix.sum(axis=1)).ravel()
    shared = sparse.triu(matrix @ matrix.T, k=1).tocoo()
    found = []
    for i, j, inter in zip(shared.row, shared.col, shared.data, strict=False):
        jaccard = inter / (sizes[i] + sizes[j] - inter)
        containment = inter / min(sizes[i], sizes[j])
        if jaccard >= max_jaccard or containment >= max_containment:
            found.append(NearDuplicate(records[i].id, records[j].id, float(jaccard), float(containment)))
    return found


def overused_openings(records: list[Record], length: int = 10, max_share: float = 0.01) -> dict[str, int]:
    """Openings of ``length`` characters shared by more than ``max_share`` of the records."""
    counts = Counter(r.text[:length] for r in records)
    limit = max_share * len(records)
    return {opening: count for opening, count in counts.items() if count > limit}
