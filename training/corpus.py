"""Corpus records: loading and validating JSONL and CSV files, and the bundled corpus."""

from __future__ import annotations

import csv
import hashlib
import json
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path

from model.errors import NewstagError
from model.taxonomy import Taxonomy, load_taxonomy

MAX_TEXT_CHARS = 20_000
KINDS = ("paragraph", "item")
FIELDS = ("id", "text", "topic", "also", "kind", "hard")


class CorpusError(NewstagError):
    """A corpus file is unreadable or a record in it is invalid; names the file and line."""

    def __init__(self, path: str | Path, line: int | None, reason: str):
        self.path, self.line, self.reason = str(path), line, reason
        where = f"{path}:{line}" if line is not None else str(path)
        super().__init__(f"{where}: {reason}")


@dataclass(frozen=True)
class Record:
    """One labelled text. ``topic`` None means "belongs to no topic" (near-domain text)."""

    id: str
    text: str
    topic: str | None
    also: tuple[str, ...] = ()
    kind: str = "paragraph"
    hard: bool = False
    source: str = ""

    @property
    def accept(self) -> tuple[str, ...]:
        """Every topic an editor would accept for this text."""
        return ((self.topic,) if self.topic else ()) + self.also

    def to_dict(self) -> dict:
        return {
            "id": self.id,
            "text": self.text,
            "topic": self.topic,
            "also": list(self.also),
            "kind": self.kind,
            "hard": self.hard,
        }


def bundled_dir() -> Path:
    """The directory of the corpus that ships with newstag."""
    return Path(str(resources.files("training").joinpath("data")))


def bundled_paths() -> list[Path]:
    """The bundled corpus files: one JSONL per topic, then the out-of-domain file."""
    base = bundled_dir()
    return sorted((base / "topics").glob("*.jsonl")) + [base / "out_of_domain.jsonl"]


def _parse_bool(value, path, line) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.strip().lower() in ("true", "1", "yes", "false", "0", "no", ""):
        return value.strip().lower() in ("true", "1", "yes")
    raise CorpusError(path, line, f"'hard' must be true or false, not {value!r}")


def validate_record(raw: object, taxonomy: Taxonomy, path, line, strict: bool = False) -> Record:
    """Turn one parsed row into a Record or raise CorpusError saying what is wrong.

    ``strict`` (the bundled corpus) requires every field; operators' files need only
    id, text and topic.
    """
    if not isinstance(raw, dict):
        raise CorpusError(path, line, "a record must be a JSON object")
    required = FIELDS if strict else ("id", "text", "topic")
    for key in required:
        if key not in raw:
            raise CorpusError(path, line, f"field '{key}' is missing")
    record_id, text, topic = raw["id"], raw["text"], raw["topic"]
    if not isinstance(record_id, str) or not record_id.strip():
        raise CorpusError(path, line, "'id' must be a non-empty string")
    if not isinstance(text, str) or not text.strip():
        raise CorpusError(path, line, f"record {record_id}: 'text' must be a non-empty string")
    if len(text) > MAX_TEXT_CHARS:
        raise CorpusError(path, line, f"record {record_id}: text has {len(text)} characters, over {MAX_TEXT_CHARS}")
    if topic == "":
        topic = None
    if topic is not None and topic not in taxonomy:
        raise CorpusError(path, line, f"record {record_id}: unknown topic {topic!r} (known: {', '.join(taxonomy.ids)})")
    also = raw.get("also") or []
    if isinstance(also, str):
        also = [a for a in (part.strip() for part in also.replace(";", "|").split("|")) if a]
    if not isinstance(also, list) or not all(isinstance(a, str) for a in also):
        raise CorpusError(path, line, f"record {record_id}: 'also' must be a list of topic ids")
    for extra in also:
        if extra not in taxonomy:
            raise CorpusError(path, line, f"record {record_id}: unknown topic {extra!r} in 'also'")
        if extra == topic:
            raise CorpusError(path, line, f"record {record_id}: 'also' repeats the topic {topic!r}")
    kind = raw.get("kind") or "paragraph"
    if kind not in KINDS:
        raise CorpusError(path, line, f"record {record_id}: 'kind' must be one of {', '.join(KINDS)}")
    hard = _parse_bool(raw.get("hard", False), path, line)
    return Record(record_id, text, topic, tuple(also), kind, hard, f"{path}:{line}")


def _rows(path: Path):
    """(line number, parsed row) for a JSONL or CSV file."""
    try:
        handle = open(path, encoding="utf-8", newline="")
    except OSError as exc:
        raise CorpusError(path, None, f"cannot read: {exc.strerror or exc}") from None
    with handle:
        try:
            if path.suffix.lower() == ".csv":
                reader = csv.DictReader(handle)
                if reader.fieldnames is None or not {"id", "text", "topic"} <= set(reader.fieldnames):
                    raise CorpusError(path, 1, "a CSV corpus needs a header with id, text and topic")
                for row in reader:
                    yield reader.line_num, row
            else:
                for number, line in enumerate(handle, 1):
                    if not line.strip():
                        continue
                    try:
                        yield number, json.loads(line)
                    except json.JSONDecodeError as exc:
                        raise CorpusError(path, number, f"invalid JSON: {exc.msg} at column {exc.colno}") from None
        except UnicodeDecodeError:
            raise CorpusError(path, None, "not UTF-8 text") from None
        except csv.Error as exc:
            raise CorpusError(path, None, f"invalid CSV: {exc}") from None


def load_corpus(paths: list[Path], taxonomy: Taxonomy, strict: bool = False) -> list[Record]:
    """Load and validate corpus files; any invalid line rejects the whole corpus."""
    records: list[Record] = []
    seen: dict[str, str] = {}
    for path in paths:
        path = Path(path)
        if path.is_dir():
            raise CorpusError(path, None, "is a directory, expected a .jsonl or .csv file")
        for line, raw in _rows(path):
            record = validate_record(raw, taxonomy, path, line, strict=strict)
            if record.id in seen:
                raise CorpusError(path, line, f"duplicate id {record.id!r} (first at {seen[record.id]})")
            seen[record.id] = record.source
            records.append(record)
    return records


def load_bundled(taxonomy: Taxonomy | None = None) -> list[Record]:
    """The bundled corpus, validated strictly against the package's taxonomy, then fitted to ``taxonomy``."""
    records = load_corpus(bundled_paths(), load_taxonomy(), strict=True)
    return fit_to_taxonomy(records, taxonomy) if taxonomy is not None else records


def fit_to_taxonomy(records: list[Record], taxonomy: Taxonomy) -> list[Record]:
    """Records labelled with another topic list, relabelled for ``taxonomy``.

    A record whose topic the taxonomy lacks takes its first acceptable other topic ('also') that
    the taxonomy has; with none, it joins the out-of-scope texts (topic None): for a newsroom
    without that topic it is foreign text. Other topics the taxonomy lacks leave 'also'.
    """
    fitted = []
    for record in records:
        accept = [t for t in record.accept if t in taxonomy]
        topic = record.topic if record.topic in taxonomy else (accept[0] if accept else None)
        also = tuple(t for t in accept if t != topic) if topic is not None else ()
        unchanged = (topic, also) == (record.topic, record.also)
        fitted.append(record if unchanged else replace(record, topic=topic, also=also))
    return fitted


def corpus_sha256(records: list[Record]) -> str:
    """A digest of the records' content, independent of file layout and order."""
    digest = hashlib.sha256()
    for record in sorted(records, key=lambda r: r.id):
        digest.update(json.dumps(record.to_dict(), ensure_ascii=False, sort_keys=True).encode())
        digest.update(b"\n")
    return digest.hexdigest()
