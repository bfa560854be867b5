"""Which files an archive job reads: files, directories and globs, checked before any work starts."""

from __future__ import annotations

import glob
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from model.errors import NewstagError

# Name ending -> (kind, gzip-compressed). Longest endings first so ".jsonl.gz" wins over ".gz".
SUFFIXES = (
    (".jsonl.gz", "jsonl", True),
    (".ndjson.gz", "jsonl", True),
    (".csv.gz", "csv", True),
    (".jsonl", "jsonl", False),
    (".ndjson", "jsonl", False),
    (".csv", "csv", False),
    (".parquet", "parquet", False),
)
SUPPORTED = ", ".join(suffix for suffix, _, _ in SUFFIXES)


class ArchiveInputError(NewstagError):
    """An input cannot be used: missing, unreadable, of an unknown kind or without the needed fields."""


@dataclass(frozen=True)
class InputFile:
    """One input file as the job found it; size and mtime tell a rerun whether it changed."""

    path: str  # absolute, so workers in other directories (or on other hosts) find it
    kind: str  # "jsonl", "csv" or "parquet"
    compressed: bool
    size: int
    mtime_ns: int

    def to_dict(self) -> dict:
        return asdict(self)


def kind_of(path: Path) -> tuple[str, bool] | None:
    """(kind, compressed) from a file name, or None for a file the job does not read."""
    name = path.name.lower()
    for suffix, kind, compressed in SUFFIXES:
        if name.endswith(suffix):
            return kind, compressed
    return None


def _is_hidden(path: Path, base: Path) -> bool:
    """Dot and underscore names (temporaries, ``_manifest.json``) are never inputs of a directory."""
    return any(part.startswith((".", "_")) for part in path.relative_to(base).parts)


def _inside(path: Path, directory: Path | None) -> bool:
    return directory is not None and (path == directory or directory in path.parents)


def _files_of_directory(directory: Path, exclude: Path | None) -> list[Path]:
    found = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in sorted(files):
            path = Path(root) / name
            if kind_of(path) and not _is_hidden(path, directory) and not _inside(path.resolve(), exclude):
                found.append(path)
    return found


def _expand(pattern: str, exclude: Path | None) -> list[Path]:
    path = Path(pattern)
    if path.is_dir():
        files = _files_of_directory(path, exclude)
        if not files:
            raise ArchiveInputError(f"{pattern}: no input files in this directory (looked for {SUPPORTED})")
        return files
    if path.exists():
        if kind_of(path) is None:
            raise ArchiveInputError(f"{pattern}: not an input file this command reads ({SUPPORTED})")
        return [path]
    if any(char in pattern for char in "*?["):
        matches = [Path(m) for m in sorted(glob.glob(pattern, recursive=True))]
        files = []
        for match in matches:
            if match.is_dir():
                files.extend(_files_of_directory(match, exclude))
            elif kind_of(match) and not _inside(match.resolve(), exclude):
                files.append(match)
        if not files:
            raise ArchiveInputError(f"{pattern}: matches no input file ({SUPPORTED})")
        return files
    raise ArchiveInputError(f"{pattern}: no such file or directory")


def _checked(path: Path) -> InputFile:
    """The file's description, after proving it can be opened for reading."""
    absolute = path.resolve()
    try:
        with open(absolute, "rb"):
            pass
        stat = absolute.stat()
    except OSError as exc:
        raise ArchiveInputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    kind, compressed = kind_of(absolute) or kind_of(path)
    return InputFile(str(absolute), kind, compressed, stat.st_size, stat.st_mtime_ns)


def discover_inputs(patterns: list[str] | tuple[str, ...], exclude: Path | None = None) -> list[InputFile]:
    """Every input file named by files, directories (searched recursively) or globs, in order, once each.

    Files under ``exclude`` (the output directory) are skipped when a directory or glob is expanded.
    """
    if not patterns:
        raise ArchiveInputError("no input given")
    exclude = exclude.resolve() if exclude is not None else None
    seen: set[str] = set()
    inputs = []
    for pattern in patterns:
        for path in _expand(pattern, exclude):
            found = _checked(path)
            if found.path not in seen:
                seen.add(found.path)
                inputs.append(found)
    return inputs
