"""Streaming readers: the records of one stretch of a JSONL, CSV or Parquet file, numbered as the file is.

Every reader yields ``(number, fields, reason)``: the record's 1-based number (the line of a JSONL
file, the data row of a CSV file with its header not counted, the row of a Parquet file), its
fields as a dict, or the reason it cannot be read. Blank JSONL lines and empty CSV rows are
counted but not yielded. :func:`check_record` then turns fields into a :class:`Record` to tag.
"""

from __future__ import annotations

import csv
import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

from newstag.archive.inputs import InputFile

RawRecord = tuple[int, dict | None, str | None]

# csv's default field limit (131072 characters) would turn a long text into a parse error rather
# than a "text over the limit" report; texts this long are still refused by the text limit.
CSV_FIELD_LIMIT = 1 << 24
PARQUET_BATCH = 4096


@dataclass(frozen=True, slots=True)
class Record:
    """A record ready to tag: where it is, its id, its text and the fields carried through."""

    number: int
    id: Any
    text: str
    carried: dict


def open_binary(source: InputFile) -> IO[bytes]:
    return gzip.open(source.path, "rb") if source.compressed else open(source.path, "rb")


class DecodedLines:
    """UTF-8 lines of a binary stream, for csv.reader; counts bytes consumed and remembers bad bytes."""

    def __init__(self, stream: IO[bytes], offset: int = 0):
        self.stream = stream
        self.consumed = offset
        self.first = offset == 0
        self.undecodable: UnicodeDecodeError | None = None

    def __iter__(self) -> DecodedLines:
        return self

    def __next__(self) -> str:
        raw = self.stream.readline()
        if not raw:
            raise StopIteration
        self.consumed += len(raw)
        encoding = "utf-8-sig" if self.first else "utf-8"
        self.first = False
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError as exc:
            self.undecodable = self.undecodable or exc
            return raw.decode(encoding, "replace")

    def take_error(self) -> str | None:
        """The decoding problem of the lines read since the last call, as a reason, if any."""
        exc, self.undecodable = self.undecodable, None
        return None if exc is None else f"not UTF-8 (byte {exc.start} of its line)"


# -- JSONL -------------------------------------------------------------------------------------------


def jsonl_records(stream: IO[bytes], first: int, count: int | None) -> Iterator[RawRecord]:
    """Lines ``first`` .. ``first + count - 1`` of a stream positioned at line ``first`` (count None: to the end)."""
    number = first
    end = None if count is None else first + count
    while end is None or number < end:
        raw = stream.readline()
        if not raw:
            return
        try:
            line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
        except UnicodeDecodeError as exc:
            yield number, None, f"not UTF-8 (byte {exc.start} of the line)"
        else:
            if line.strip():
                yield number, *_json_object(line)
        number += 1


def _json_object(line: str) -> tuple[dict | None, str | None]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        return None, f"invalid JSON: {exc.msg}"
    if not isinstance(data, dict):
        return None, "not a JSON object"
    return data, None


# -- CSV ---------------------------------------------------------------------------------------------


def csv_rows(lines: DecodedLines, first: int) -> Iterator[tuple[int, list[str] | None, str | None, int]]:
    """``(number, row, reason, start offset)`` for every row csv finds, empty rows included."""
    if csv.field_size_limit() < CSV_FIELD_LIMIT:
        csv.field_size_limit(CSV_FIELD_LIMIT)
    reader = csv.reader(lines)
    number = first
    while True:
        start = lines.consumed
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as exc:
            lines.take_error()
            yield number, None, f"invalid CSV: {exc}", start
        else:
            reason = lines.take_error()
            yield number, None if reason else row, reason, start
        number += 1


def csv_header(stream: IO[bytes]) -> tuple[list[str], int]:
    """The header row of a CSV stream at its start, and the byte offset of the first data row."""
    lines = DecodedLines(stream)
    for _, row, reason, _ in csv_rows(lines, 0):
        if reason:
            raise ValueError(f"its header row cannot be read ({reason})")
        if row:
            return row, lines.consumed
    raise ValueError("it is empty (no header row)")


def csv_records(
    stream: IO[bytes], header: list[str], first: int, count: int | None, offset: int
) -> Iterator[RawRecord]:
    """Data rows ``first`` .. of a stream positioned at the byte ``offset`` where row ``first`` starts."""
    end = None if count is None else first + count
    for number, row, reason, _ in csv_rows(DecodedLines(stream, offset), first):
        if end is not None and number >= end:
            return
        if reason:
            yield number, None, reason
        elif row and len(row) != len(header):
            yield number, None, f"row has {len(row)} fields, the header has {len(header)}"
        elif row:
            yield number, dict(zip(header, row, strict=True)), None


# -- Parquet -----------------------------------------------------------------------------------------


def parquet_records(path: str, first: int, count: int | None) -> Iterator[RawRecord]:
    """Rows ``first`` .. (1-based) of a Parquet file, read one row group at a time."""
    import pyarrow.parquet as pq

    with pq.ParquetFile(path) as parquet:
        start = first - 1
        stop = parquet.metadata.num_rows if count is None else start + count
        row = 0
        for group in range(parquet.num_row_groups):
            size = parquet.metadata.row_group(group).num_rows
            if row + size <= start:
                row += size
                continue
            if row >= stop:
                return
            for batch in parquet.iter_batches(batch_size=PARQUET_BATCH, row_groups=[group]):
                low, high = max(start - row, 0), min(stop - row, batch.num_rows)
                if low < high:
                    for index, fields in enumerate(batch.slice(low, high - low).to_pylist()):
                        yield row + low + index + 1, fields, None
                row += batch.num_rows


# -- all kinds ---------------------------------------------------------------------------------------


def read_records(source: InputFile, first: int, count: int | None, offset: int | None) -> Iterator[RawRecord]:
    """The records of ``source`` from number ``first``; ``offset`` is where it starts (None: stream from the top)."""
    if source.kind == "parquet":
        yield from parquet_records(source.path, first, count)
        return
    with open_binary(source) as stream:
        if source.kind == "jsonl":
            if offset is None:
                yield from _skip_to(jsonl_records(stream, 1, None), first, count)
            else:
                stream.seek(offset)
                yield from jsonl_records(stream, first, count)
            return
        header, data_start = csv_header(stream)
        if offset is None:
            yield from _skip_to(csv_records(stream, header, 1, None, data_start), first, count)
        else:
            stream.seek(offset)
            yield from csv_records(stream, header, first, count, offset)


def _skip_to(records: Iterator[RawRecord], first: int, count: int | None) -> Iterator[RawRecord]:
    end = None if count is None else first + count
    for record in records:
        if end is not None and record[0] >= end:
            return
        if record[0] >= first:
            yield record


def check_record(number: int, fields: dict, id_field: str, text_field: str, max_chars: int) -> Record | str:
    """A record to tag, or the reason this one cannot be tagged (the same limits as ``newstag predict``)."""
    record_id = fields.get(id_field)
    if isinstance(record_id, str):
        if not record_id.strip():
            return f"no id (field '{id_field}' is empty)"
    elif record_id is None:
        return f"no id (field '{id_field}')"
    elif isinstance(record_id, bool) or not isinstance(record_id, int):
        return f"id must be a string or an integer, not {type(record_id).__name__}"
    text = fields.get(text_field)
    if text is None:
        return f"no text (field '{text_field}')"
    if not isinstance(text, str):
        return f"text must be a string, not {type(text).__name__}"
    if not text.strip():
        return "empty text"
    if len(text) > max_chars:
        return f"text has {len(text)} characters, over {max_chars}"
    carried = {key: value for key, value in fields.items() if key not in (id_field, text_field)}
    return Record(number, record_id, text, carried)
