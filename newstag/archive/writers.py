"""Output files, each written under a temporary name and renamed into place only when complete.

A temporary name starts with a dot and ends in ``.tmp`` and names the host and process writing
it (``.part-00003.parquet.host-4711-1a2b3c4d.tmp``), so a crashed writer's leftovers are easy to
find and remove, and readers of ``part-*`` files never see them.
"""

from __future__ import annotations

import json
import os
import secrets
import socket
from pathlib import Path
from typing import Any

ROW_GROUP = 10_000


def temporary_name(final: Path) -> Path:
    tag = f"{socket.gethostname()}-{os.getpid()}-{secrets.token_hex(4)}"
    return final.with_name(f".{final.name}.{tag}.tmp")


def json_text(value: Any) -> str:
    """JSON for a value read from any input; what JSON cannot hold (dates, decimals) becomes its text."""
    return json.dumps(value, ensure_ascii=False, default=str)


class AtomicFile:
    """A file that exists under its final name only once :meth:`commit` has written all of it."""

    def __init__(self, final: Path):
        self.final = final
        self.temporary = temporary_name(final)
        self.file = open(self.temporary, "wb")  # closed by commit or abort

    def commit(self) -> None:
        self.file.flush()
        os.fsync(self.file.fileno())
        self.file.close()
        os.replace(self.temporary, self.final)

    def abort(self) -> None:
        self.file.close()
        self.temporary.unlink(missing_ok=True)


class JsonLinesWriter(AtomicFile):
    """Rows as JSON lines."""

    def add(self, rows: list[dict]) -> None:
        self.file.write("".join(json_text(row) + "\n" for row in rows).encode("utf-8"))


def _parquet_types() -> dict:
    """The Parquet type of every column known today; a prediction field added later is stored as
    JSON text, so every part of one job has the same schema."""
    import pyarrow as pa

    topic = pa.struct([("topic", pa.string()), ("name", pa.string()), ("score", pa.float64())])
    place = pa.struct(
        [
            ("adcode", pa.string()),
            ("name", pa.string()),
            ("level", pa.string()),
            ("path", pa.list_(pa.string())),
            ("spans", pa.list_(pa.list_(pa.int64()))),
        ]
    )
    return {
        "id": pa.string(),
        "input": pa.string(),
        "topic": pa.string(),
        "name": pa.string(),
        "score": pa.float64(),
        "labels": pa.list_(pa.string()),
        "needs_review": pa.bool_(),
        "topics": pa.list_(topic),
        "places": pa.list_(place),
        "model_version": pa.string(),
        "source": pa.string(),
        "line": pa.int64(),
    }


class ParquetWriter(AtomicFile):
    """Rows as a Parquet file with one schema for the whole job.

    ``id`` is stored as text (an integer id 7 becomes "7") and ``input`` as a JSON object in text,
    because both can differ in type from one input file to the next.
    """

    def __init__(self, final: Path, columns: list[str]):
        import pyarrow as pa
        import pyarrow.parquet as pq

        super().__init__(final)
        types = _parquet_types()
        self.json_columns = {name for name in columns if name not in types or name == "input"}
        self.schema = pa.schema([(name, types.get(name, pa.string())) for name in columns])
        self.writer = pq.ParquetWriter(self.file, self.schema)
        self.buffer: list[dict] = []

    def add(self, rows: list[dict]) -> None:
        for row in rows:
            row["id"] = str(row["id"])
            for name in self.json_columns:
                row[name] = json_text(row.get(name))
        self.buffer.extend(rows)
        if len(self.buffer) >= ROW_GROUP:
            self._flush()

    def _flush(self) -> None:
        import pyarrow as pa

        if self.buffer:
            self.writer.write_table(pa.Table.from_pylist(self.buffer, schema=self.schema))
            self.buffer = []

    def commit(self) -> None:
        self._flush()
        self.writer.close()
        super().commit()

    def abort(self) -> None:
        try:
            self.writer.close()
        except Exception:  # the file is being thrown away; its footer does not matter
            pass
        super().abort()


def part_writer(final: Path, output_format: str, columns: list[str]) -> JsonLinesWriter | ParquetWriter:
    """A writer for one partition's rows in the job's format."""
    return ParquetWriter(final, columns) if output_format == "parquet" else JsonLinesWriter(final)


def remove_temporaries(directory: Path) -> int:
    """Remove the temporary files writers left in ``directory`` (killed workers, interrupted runs)."""
    removed = 0
    for path in directory.glob(".part-*.tmp"):
        path.unlink(missing_ok=True)
        removed += 1
    return removed
