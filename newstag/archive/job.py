"""One run of an archive job: what is already done, what this run does, and how it ended."""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

from newstag.archive.engine import Task, group_tasks
from newstag.archive.inputs import InputFile
from newstag.archive.manifest import (
    ERRORS_FILE,
    MANIFEST,
    Manifest,
    ResumeRefused,
    assemble_errors,
    check_resumable,
    clear_outputs,
    counted_from_files,
    fingerprint,
    has_parts,
    part_file,
    read_manifest,
    remove_all_temporaries,
)
from newstag.archive.partitions import Partition, plan_partitions
from newstag.archive.spec import JobSpec, PartResult


@dataclass(frozen=True)
class Outcome:
    """How a run ended, for the summary line and the exit status."""

    status: str  # "complete", "interrupted" or "failed"
    partitions: int  # all of the job's
    ran: int  # partitions completed by this run
    skipped: int  # partitions already complete before it
    records: int  # records read by this run (tagged or bad)
    tagged: int  # records tagged by this run
    seconds: float
    bad: int  # bad records in the whole output
    failures: list[str]
    errors_file: Path

    @property
    def records_per_second(self) -> float:
        return self.records / self.seconds if self.seconds > 0 else 0.0


class ArchiveRun:
    """Prepares the output directory for a job (resuming, refusing or restarting) and keeps its books."""

    def __init__(self, out: Path, inputs: list[InputFile], job: JobSpec, partition_size: int, restart: bool):
        self.out, self.inputs, self.job = out, inputs, job
        current = fingerprint(inputs, job, partition_size)
        old = None if restart else read_manifest(out)
        if old is not None:
            check_resumable(out, old, current)
            self.parts = [Partition.from_dict(entry) for entry in old["partitions"]]
            previous = {entry["index"]: entry for entry in old["partitions"]}
            history = list(old.get("runs", []))
        else:
            if not restart and has_parts(out):
                raise ResumeRefused(
                    f"{out} holds part files but no {MANIFEST}; rerun with --restart to replace them, "
                    "or write to another --out"
                )
            self.parts = plan_partitions(inputs, partition_size, job.id_field, job.text_field)
            if restart:
                clear_outputs(out)
            previous, history = {}, []
        out.mkdir(parents=True, exist_ok=True)  # only now: a refused or unreadable job leaves no trace
        remove_all_temporaries(out)
        self.manifest = Manifest(out, current, self.parts, job.output_format, history)
        self.done = self._complete_parts(previous)
        self.skipped = len(self.done)
        self.manifest.save()
        self.ran = 0
        self.records = 0
        self.tagged = 0
        self.failures: list[str] = []
        self.started = time.perf_counter()

    def _complete_parts(self, previous: dict[int, dict]) -> set[int]:
        """Indexes of partitions whose part file exists, with their counts recorded in the manifest."""
        done = set()
        for part in self.parts:
            if not part_file(self.out, part, self.job.output_format).exists():
                continue
            entry = previous.get(part.index, {})
            if entry.get("status") == "complete":
                tagged, bad = entry["records"], entry["errors"]
            else:
                try:
                    tagged, bad = counted_from_files(self.out, part, self.job.output_format)
                except OSError:  # its errors file is gone: tag it again
                    continue
            self.manifest.mark_done(None, part.index, tagged, bad)
            done.add(part.index)
        return done

    @property
    def total_count(self) -> int:
        """Lines or rows the job covers (the progress bar's total)."""
        return sum(part.count for part in self.parts)

    @property
    def done_count(self) -> int:
        return sum(part.count for part in self.parts if part.index in self.done)

    def tasks(self) -> list[Task]:
        return group_tasks(self.inputs, [part for part in self.parts if part.index not in self.done])

    def start_clock(self) -> None:
        self.started = time.perf_counter()

    def record(self, result: PartResult) -> Partition:
        """Book a finished partition; returns it (the caller advances progress by its size)."""
        self.manifest.mark_done(result, result.index, result.records, result.errors)
        self.manifest.save(force=False)
        self.done.add(result.index)
        self.ran += 1
        self.records += result.records + result.errors
        self.tagged += result.records
        return self.parts[result.index]

    def fail(self, parts: tuple[Partition, ...], exc: BaseException) -> None:
        reason = str(exc) or type(exc).__name__
        for part in parts:
            self.manifest.mark_failed(part.index, reason)
        self.failures.append(f"{parts[0].stem}{'…' + parts[-1].stem if len(parts) > 1 else ''}: {reason}")

    def finish(self, status: str) -> Outcome:
        """Close the books: no temporaries, ``_errors.jsonl`` for every complete partition, the manifest."""
        seconds = time.perf_counter() - self.started
        remove_all_temporaries(self.out)
        # A partition can be complete on disk without its result having arrived (a gzip task that
        # failed after some parts, a remote task still running at Ctrl-C): the files decide.
        for part in self.parts:
            if part.index not in self.done and part_file(self.out, part, self.job.output_format).exists():
                try:
                    tagged, bad = counted_from_files(self.out, part, self.job.output_format)
                except OSError:
                    continue
                self.manifest.mark_done(None, part.index, tagged, bad)
                self.done.add(part.index)
        if status == "complete" and (self.failures or len(self.done) < len(self.parts)):
            status = "failed"
        assemble_errors(self.out, self.parts, self.done)
        run = {
            "seconds": round(seconds, 3),
            "partitions_run": self.ran,
            "partitions_skipped": self.skipped,
            "records": self.records,
            "records_per_second": round(self.records / seconds, 1) if seconds > 0 else 0.0,
        }
        self.manifest.finish(status, run)
        totals = self.manifest.totals()
        return Outcome(
            status,
            len(self.parts),
            self.ran,
            self.skipped,
            self.records,
            self.tagged,
            seconds,
            totals["errors"],
            self.failures,
            self.out / ERRORS_FILE,
        )
