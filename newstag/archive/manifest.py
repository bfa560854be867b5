"""The output directory's bookkeeping: ``_manifest.json``, ``_errors.jsonl`` and what a rerun may reuse.

A partition is complete when its part file exists under its final name; the manifest records
what the job was (inputs with sizes and mtimes, model, options) so that a rerun resumes only the
same job and refuses anything else instead of mixing answers.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from datetime import UTC, datetime
from pathlib import Path

from model.errors import NewstagError
from newstag.archive.inputs import InputFile
from newstag.archive.partitions import Partition
from newstag.archive.spec import ERRORS_DIR, JobSpec, PartResult
from newstag.archive.writers import remove_temporaries

MANIFEST = "_manifest.json"
ERRORS_FILE = "_errors.jsonl"
MANIFEST_FORMAT = 1
SAVE_EVERY_SECONDS = 1.0


class ResumeRefused(NewstagError):
    """The output directory holds another job's results; mixing them would be silent."""


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def fingerprint(inputs: list[InputFile], job: JobSpec, partition_size: int) -> dict:
    """What must be equal for a rerun to reuse complete partitions."""
    return {
        "inputs": [source.to_dict() for source in inputs],
        "model": {"version": job.model_version, "sha256": job.model_sha256, "path": job.model_dir},
        "options": {
            "partition_size": partition_size,
            "format": job.output_format,
            "id_field": job.id_field,
            "text_field": job.text_field,
            "max_text_chars": job.max_chars,
            "default_province": job.default_province,
        },
    }


def read_manifest(out: Path) -> dict | None:
    path = out / MANIFEST
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ResumeRefused(f"{path}: cannot be read ({exc}); use --restart to tag everything again") from None
    if not isinstance(data, dict) or data.get("format") != MANIFEST_FORMAT:
        raise ResumeRefused(f"{path}: not a manifest this newstag writes; use --restart to tag everything again")
    return data


def _listed(items: list[str], limit: int = 3) -> str:
    shown = ", ".join(items[:limit])
    return shown if len(items) <= limit else f"{shown} and {len(items) - limit} more"


def differences(old: dict, new: dict) -> list[str]:
    """How the job recorded in a manifest differs from this one, in words."""
    found = []
    old_model, new_model = old["model"], new["model"]
    if (old_model["version"], old_model["sha256"]) != (new_model["version"], new_model["sha256"]):
        found.append(f"it was tagged with model {old_model['version']}, this run uses {new_model['version']}")
    flags = {
        "partition_size": "--partition-size",
        "format": "--format",
        "id_field": "--id-field",
        "text_field": "--text-field",
        "max_text_chars": "NEWSTAG_MAX_TEXT_CHARS",
        "default_province": "--province",
    }
    for key, flag in flags.items():
        if old["options"].get(key) != new["options"][key]:
            found.append(f"{flag} was {old['options'].get(key)}, now {new['options'][key]}")
    before = {source["path"]: source for source in old["inputs"]}
    after = {source["path"]: source for source in new["inputs"]}
    changed = [path for path in after if path in before and before[path] != after[path]]
    added = [path for path in after if path not in before]
    removed = [path for path in before if path not in after]
    if changed:
        found.append(f"changed since (size or modification time): {_listed(changed)}")
    if added:
        found.append(f"new inputs: {_listed(added)}")
    if removed:
        found.append(f"no longer given: {_listed(removed)}")
    if not found and [s["path"] for s in old["inputs"]] != [s["path"] for s in new["inputs"]]:
        found.append("the inputs are given in another order")
    return found


def check_resumable(out: Path, manifest: dict, current: dict) -> None:
    found = differences(manifest, current)
    if found:
        raise ResumeRefused(
            f"{out} holds another tag-archive job: {'; '.join(found)}. Rerun with --restart to tag everything "
            "again (the old parts are deleted), or write to another --out"
        )


def has_parts(out: Path) -> bool:
    return out.is_dir() and (any(out.glob("part-*.parquet")) or any(out.glob("part-*.jsonl")))


def clear_outputs(out: Path) -> None:
    """Remove what earlier runs wrote (and only that): parts, errors, the manifest, temporaries."""
    for pattern in (
        "part-*.parquet",
        "part-*.jsonl",
        ".part-*.tmp",
        MANIFEST,
        ERRORS_FILE,
        f".{MANIFEST}.*",
        f".{ERRORS_FILE}.*",
    ):
        for path in out.glob(pattern):
            path.unlink(missing_ok=True)
    shutil.rmtree(out / ERRORS_DIR, ignore_errors=True)


def remove_all_temporaries(out: Path) -> None:
    """Remove what interrupted writers left: parts, their errors, and the command's own files."""
    remove_temporaries(out)
    if (out / ERRORS_DIR).is_dir():
        remove_temporaries(out / ERRORS_DIR)
    for pattern in (f".{MANIFEST}.*.tmp", f".{ERRORS_FILE}.*.tmp"):
        for path in out.glob(pattern):
            path.unlink(missing_ok=True)


def part_file(out: Path, part: Partition, output_format: str) -> Path:
    return out / f"{part.stem}.{output_format}"


def counted_from_files(out: Path, part: Partition, output_format: str) -> tuple[int, int]:
    """(tagged, bad) of a complete partition, read from its files (when the manifest missed its end)."""
    path = part_file(out, part, output_format)
    if output_format == "parquet":
        import pyarrow.parquet as pq

        with pq.ParquetFile(path) as parquet:
            tagged = parquet.metadata.num_rows
    else:
        with open(path, "rb") as f:
            tagged = sum(1 for _ in f)
    with open(out / ERRORS_DIR / f"{part.stem}.jsonl", "rb") as f:
        bad = sum(1 for _ in f)
    return tagged, bad


def assemble_errors(out: Path, parts: list[Partition], complete: set[int]) -> None:
    """``_errors.jsonl``: the bad records of every complete partition, in input order."""
    final = out / ERRORS_FILE
    temporary = out / f".{ERRORS_FILE}.{os.getpid()}.tmp"
    with open(temporary, "wb") as target:
        for part in parts:
            if part.index in complete:
                with open(out / ERRORS_DIR / f"{part.stem}.jsonl", "rb") as source:
                    shutil.copyfileobj(source, target)
        target.flush()
        os.fsync(target.fileno())
    os.replace(temporary, final)


class Manifest:
    """``_manifest.json`` of one run, saved atomically (at most once a second while partitions finish)."""

    def __init__(self, out: Path, job: dict, parts: list[Partition], output_format: str, history: list[dict]):
        self.out = out
        self.parts = parts
        self.output_format = output_format
        self.entries = {
            part.index: {**part.to_dict(), "file": f"{part.stem}.{output_format}", "status": "pending"}
            for part in parts
        }
        self.data = {"format": MANIFEST_FORMAT, "status": "running", **job, "started_at": now_iso()}
        self.history = history
        self.saved_at = 0.0

    def mark_done(self, result: PartResult | None, index: int, tagged: int, bad: int) -> None:
        entry = self.entries[index]
        entry.update(status="complete", records=tagged, errors=bad)
        if result is not None:
            entry.update(seconds=round(result.seconds, 3), worker=result.worker)

    def mark_failed(self, index: int, reason: str) -> None:
        self.entries[index].update(status="failed", reason=reason)

    def totals(self) -> dict:
        done = [entry for entry in self.entries.values() if entry["status"] == "complete"]
        return {
            "partitions": len(self.entries),
            "complete": len(done),
            "records": sum(entry["records"] for entry in done),
            "errors": sum(entry["errors"] for entry in done),
        }

    def save(self, force: bool = True) -> None:
        if not force and time.monotonic() - self.saved_at < SAVE_EVERY_SECONDS:
            return
        data = {
            **self.data,
            "totals": self.totals(),
            "runs": self.history,
            "partitions": [self.entries[part.index] for part in self.parts],
        }
        temporary = self.out / f".{MANIFEST}.{os.getpid()}.tmp"
        temporary.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(temporary, self.out / MANIFEST)
        self.saved_at = time.monotonic()

    def finish(self, status: str, run: dict) -> None:
        """Record the end of this run: its status, times and speed, appended to the run history."""
        self.data.update(status=status, finished_at=now_iso(), **run)
        self.history.append(
            {"started_at": self.data["started_at"], "finished_at": self.data["finished_at"], "status": status, **run}
        )
        self.save()
