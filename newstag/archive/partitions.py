"""Partitions: stretches of at most ``size`` records of one input, found by one pass over each file.

An uncompressed JSONL or CSV partition records the byte offset where it starts, so its task seeks
there; a gzip file cannot seek, so one task streams it and writes all of its partitions; a
Parquet partition is a row range, read from the row groups it overlaps.
"""

from __future__ import annotations

import gzip
import zlib
from dataclasses import asdict, dataclass

from newstag.archive.inputs import ArchiveInputError, InputFile
from newstag.archive.readers import DecodedLines, csv_header, csv_rows, open_binary

SCAN_BLOCK = 1 << 20


@dataclass(frozen=True)
class Partition:
    """Records ``first`` .. ``first + count - 1`` of ``source``, written to ``<stem>.<format>``."""

    index: int
    stem: str
    source: str
    first: int
    count: int
    offset: int | None  # byte offset of record ``first`` (None: stream the file from the top)

    @property
    def end(self) -> int:
        return self.first + self.count

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Partition:
        return cls(
            int(data["index"]),
            str(data["stem"]),
            str(data["source"]),
            int(data["first"]),
            int(data["count"]),
            None if data["offset"] is None else int(data["offset"]),
        )


def jsonl_line_starts(stream, size: int) -> tuple[int, list[tuple[int, int]]]:
    """(number of lines, [(line, byte offset)] for lines 1, 1 + size, 1 + 2 size, …) of a JSONL stream."""
    starts = [(1, 0)]
    line, position, next_start, last = 1, 0, 1 + size, b"\n"
    while block := stream.read(SCAN_BLOCK):
        newlines = block.count(b"\n")
        if line + newlines < next_start:
            line += newlines
        else:  # a partition starts inside this block: find where, newline by newline
            at = block.find(b"\n")
            while at >= 0:
                line += 1
                if line == next_start:
                    starts.append((line, position + at + 1))
                    next_start += size
                at = block.find(b"\n", at + 1)
        position += len(block)
        last = block[-1:]
    lines = line - 1 + (0 if last == b"\n" else 1)
    return lines, [(first, offset) for first, offset in starts if first <= lines]


def csv_row_starts(stream, size: int) -> tuple[int, list[tuple[int, int]]]:
    """(number of data rows, [(row, byte offset)] for rows 1, 1 + size, …) of a CSV stream, header checked."""
    header, data_start = csv_header(stream)
    rows, starts = 0, []
    for number, _, _, start in csv_rows(DecodedLines(stream, data_start), 1):
        if (number - 1) % size == 0:
            starts.append((number, start))
        rows = number
    return rows, starts


def _check_csv_fields(source: InputFile, fields: tuple[str, str]) -> None:
    with open_binary(source) as stream:
        header, _ = csv_header(stream)
    missing = [field for field in fields if field not in header]
    if missing:
        raise ArchiveInputError(
            f"{source.path}: no column {', '.join(repr(f) for f in missing)} (columns: {', '.join(header)}); "
            "name the fields with --id-field and --text-field"
        )


def _parquet_rows(source: InputFile, fields: tuple[str, str]) -> int:
    import pyarrow.parquet as pq

    with pq.ParquetFile(source.path) as parquet:
        names = parquet.schema_arrow.names
        missing = [field for field in fields if field not in names]
        if missing:
            raise ArchiveInputError(
                f"{source.path}: no column {', '.join(repr(f) for f in missing)} (columns: {', '.join(names)}); "
                "name the fields with --id-field and --text-field"
            )
        return parquet.metadata.num_rows


def _stretches(source: InputFile, size: int, fields: tuple[str, str]) -> list[tuple[int, int, int | None]]:
    """(first, count, offset) of each partition of one input."""
    if source.kind == "parquet":
        rows = _parquet_rows(source, fields)
        return [(first, min(size, rows - first + 1), None) for first in range(1, rows + 1, size)]
    if source.kind == "csv":
        _check_csv_fields(source, fields)
    with open_binary(source) as stream:
        scan = jsonl_line_starts if source.kind == "jsonl" else csv_row_starts
        total, starts = scan(stream, size)
    return [(first, min(size, total - first + 1), None if source.compressed else offset) for first, offset in starts]


def plan_partitions(inputs: list[InputFile], size: int, id_field: str, text_field: str) -> list[Partition]:
    """Every partition of every input, numbered across the job in input order."""
    stretches = []
    for source in inputs:
        try:
            stretches.extend((source.path, *stretch) for stretch in _stretches(source, size, (id_field, text_field)))
        except ArchiveInputError:
            raise
        except (OSError, EOFError, ValueError, zlib.error, gzip.BadGzipFile) as exc:
            raise ArchiveInputError(f"{source.path}: cannot be read as {_kind_name(source)}: {exc}") from None
        except Exception as exc:  # pyarrow's errors for a file that is not Parquet
            if type(exc).__module__.startswith("pyarrow"):
                raise ArchiveInputError(f"{source.path}: cannot be read as Parquet: {exc}") from None
            raise
    width = max(5, len(str(len(stretches) - 1)))
    return [
        Partition(index, f"part-{index:0{width}d}", path, first, count, offset)
        for index, (path, first, count, offset) in enumerate(stretches)
    ]


def _kind_name(source: InputFile) -> str:
    name = {"jsonl": "JSONL", "csv": "CSV", "parquet": "Parquet"}[source.kind]
    return f"gzip-compressed {name}" if source.compressed else name
