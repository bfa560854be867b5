"""What runs inside a Dask worker: the model, loaded once per process, and the task that tags partitions.

The task graph carries only paths, the artifact's sha256 and partition bounds. Each worker
process loads and verifies the model itself (hash and library versions, as ``serve`` does),
once: :class:`ModelPlugin` loads it when the worker joins the job, and :func:`cached_model`
loads it on first use wherever the plugin did not run.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from distributed.diagnostics.plugin import WorkerPlugin

from model.artifact import ArtifactError, LoadedModel, load_model
from model.errors import NewstagError
from model.places import add_places
from newstag.archive.inputs import InputFile
from newstag.archive.partitions import Partition
from newstag.archive.readers import Record, check_record, read_records
from newstag.archive.spec import ERRORS_DIR, JobSpec, PartResult
from newstag.archive.writers import AtomicFile, json_text, part_writer

# ``newstag predict`` tags 256 texts at a time; the archive batches the same way.
BATCH = 256
TOP_K = 3
_PROBE_TEXT = "近日，某派出所开展夜间巡逻。"


class InputChanged(NewstagError):
    """An input file changed after the job planned its partitions."""


@dataclass(frozen=True)
class WorkerModel:
    loaded: LoadedModel
    columns: list[str]  # output columns, prediction fields as ``newstag predict`` gives them


_models: dict[str, WorkerModel] = {}
_models_lock = threading.Lock()


def cached_model(model_dir: str, sha256: str) -> WorkerModel:
    """This process's copy of the model with this artifact hash, loaded and verified on first use."""
    with _models_lock:
        found = _models.get(sha256)
        if found is None:
            loaded = load_model(Path(model_dir))
            actual = loaded.metadata["artifact"]["sha256"]
            if actual != sha256:
                raise ArtifactError(
                    f"{model_dir}: the model's artifact is {actual[:12]}… on this worker, the job started with "
                    f"{sha256[:12]}…; every worker must see the same model directory"
                )
            probe = add_places(
                loaded.model.predict([_PROBE_TEXT], explain=False)[0].to_dict(top_k=TOP_K, explain=False),
                _PROBE_TEXT,
                "",
            )
            found = WorkerModel(loaded, ["id", "input", *probe, "model_version", "source", "line"])
            _models[sha256] = found
        return found


def forget_model(sha256: str) -> None:
    with _models_lock:
        _models.pop(sha256, None)


class ModelPlugin(WorkerPlugin):
    """Loads the job's model into a worker when it joins, so a worker that cannot see it fails early."""

    idempotent = True  # a job running beside another with the same model shares its loaded copy

    def __init__(self, model_dir: str, sha256: str):
        self.model_dir = model_dir
        self.sha256 = sha256
        self.name = f"newstag-model-{sha256[:16]}"

    async def setup(self, worker) -> None:
        # Loading takes seconds; off the worker's event loop it does not delay heartbeats.
        await asyncio.get_running_loop().run_in_executor(None, cached_model, self.model_dir, self.sha256)

    def teardown(self, worker) -> None:
        forget_model(self.sha256)


class _Cursor:
    """An iterator of numbered records that can hand out consecutive stretches of them."""

    def __init__(self, records):
        self.records = iter(records)
        self.held = None

    def until(self, end: int):
        while True:
            item, self.held = (self.held if self.held is not None else next(self.records, None)), None
            if item is None:
                return
            if item[0] >= end:
                self.held = item
                return
            yield item


def _check_unchanged(source: InputFile) -> None:
    stat = os.stat(source.path)
    if (stat.st_size, stat.st_mtime_ns) != (source.size, source.mtime_ns):
        raise InputChanged(f"{source.path}: changed after the job started; rerun with --restart")


def _rows(batch: list[Record], job: JobSpec, model: WorkerModel, source: str) -> list[dict]:
    predictions = model.loaded.model.predict([record.text for record in batch], explain=False)
    rows = []
    for record, prediction in zip(batch, predictions, strict=True):
        row = {"id": record.id, "input": record.carried}
        row.update(add_places(prediction.to_dict(top_k=TOP_K, explain=False), record.text, job.default_province))
        row.update(model_version=job.model_version, source=source, line=record.number)
        rows.append(row)
    return rows


def _write_partition(part: Partition, records, job: JobSpec, model: WorkerModel) -> PartResult:
    started = time.perf_counter()
    out = Path(job.out_dir)
    errors = AtomicFile(out / ERRORS_DIR / f"{part.stem}.jsonl")
    try:
        writer = part_writer(out / f"{part.stem}.{job.output_format}", job.output_format, model.columns)
    except BaseException:
        errors.abort()
        raise
    tagged = bad = 0
    try:
        batch: list[Record] = []
        for number, fields, reason in records:
            if number < part.first:
                continue
            if fields is None:
                checked = reason
            else:
                checked = check_record(number, fields, job.id_field, job.text_field, job.max_chars)
            if isinstance(checked, Record):
                batch.append(checked)
            else:
                bad += 1
                errors.file.write(
                    (json_text({"source": part.source, "line": number, "reason": checked}) + "\n").encode()
                )
            if len(batch) == BATCH:
                writer.add(_rows(batch, job, model, part.source))
                tagged, batch = tagged + len(batch), []
        if batch:
            writer.add(_rows(batch, job, model, part.source))
            tagged += len(batch)
        # The errors first: a part under its final name always has its errors beside it.
        errors.commit()
        writer.commit()
    except BaseException:
        errors.abort()
        writer.abort()
        raise
    worker = f"{os.uname().nodename}:{os.getpid()}"
    return PartResult(part.index, tagged, bad, time.perf_counter() - started, worker)


def tag_partitions(source: InputFile, parts: tuple[Partition, ...], job: JobSpec) -> list[PartResult]:
    """Tag consecutive partitions of one input (one for a seekable file, any number for a gzip file)."""
    model = cached_model(job.model_dir, job.model_sha256)
    _check_unchanged(source)
    (Path(job.out_dir) / ERRORS_DIR).mkdir(parents=True, exist_ok=True)
    if len(parts) == 1:
        part = parts[0]
        records = read_records(source, part.first, part.count, part.offset)
    else:
        records = read_records(source, parts[0].first, parts[-1].end - parts[0].first, None)
    cursor = _Cursor(records)
    return [_write_partition(part, cursor.until(part.end), job, model) for part in parts]
