"""What travels between the command and the workers: the job's settings and each partition's result."""

from __future__ import annotations

from dataclasses import dataclass

from model.places import DEFAULT_PROVINCE

# Each partition's bad records, beside its part: ``_errors/part-00003.jsonl``.
ERRORS_DIR = "_errors"


@dataclass(frozen=True)
class JobSpec:
    """Everything a task needs besides its partitions; small, so it travels in the task graph."""

    out_dir: str
    output_format: str  # "parquet" or "jsonl"
    id_field: str
    text_field: str
    max_chars: int
    model_dir: str  # a version directory, absolute
    model_sha256: str
    model_version: str
    default_province: str = DEFAULT_PROVINCE  # settles shared place names; "" for none


@dataclass(frozen=True)
class PartResult:
    """One written partition."""

    index: int
    records: int  # tagged
    errors: int  # bad, listed in _errors.jsonl
    seconds: float
    worker: str  # host:pid
