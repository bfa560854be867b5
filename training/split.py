"""The gate split: a fixed share of the bundled corpus that no model ever trains on."""

from __future__ import annotations

import hashlib

from training.corpus import Record

GATE_PERMILLE = 150


def in_gate(record_id: str) -> bool:
    """Whether a bundled record belongs to the gate split (a stable hash of its id)."""
    digest = hashlib.sha256(record_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 1000 < GATE_PERMILLE


def split_gate(records: list[Record]) -> tuple[list[Record], list[Record]]:
    """(training records, gate records) of the bundled corpus."""
    train = [r for r in records if not in_gate(r.id)]
    gate = [r for r in records if in_gate(r.id)]
    return train, gate
