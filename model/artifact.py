"""Model artifacts on disk: one directory per version under a root, and a ``current`` pointer.

A version directory holds ``model.joblib`` and ``model.json`` (metadata with the joblib file's
sha256). Versions are written into a temporary directory and renamed into place, and
``current`` is replaced atomically, so an interrupted save never damages what was there.
Unpickling runs code from the file, so :func:`load_model` checks the hash and the recorded
library versions first.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import platform
import re
import secrets
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata as importlib_metadata
from pathlib import Path

import joblib
import platformdirs

from model.errors import NewstagError
from model.pipeline import TopicModel

logger = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"
META_FILE = "model.json"
CURRENT_FILE = "current"
FORMAT_VERSION = 2  # 2: the pipeline has a lead block (model/lead.py)
# Libraries whose exact version must match for a pickle to be trusted.
PINNED_LIBRARIES = ("scikit-learn", "jieba")
# UTC time to the millisecond, then random hex: ids sort in the order versions were made.
_VERSION_ID = re.compile(r"^[0-9]{8}T[0-9]{9}Z-[0-9a-f]{6}$")


class ArtifactError(NewstagError):
    """An artifact is missing, damaged or was built for other library versions."""


def default_model_root() -> Path:
    """Where models live unless configured: the user's data directory."""
    return platformdirs.user_data_path("newstag") / "models"


def library_versions() -> dict[str, str]:
    """Versions of the libraries an artifact depends on."""
    versions = {"python": platform.python_version()}
    for name in ("scikit-learn", "jieba", "numpy", "scipy", "joblib"):
        versions[name] = importlib_metadata.version(name)
    return versions


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_file(path: Path, data: bytes) -> None:
    with open(path, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def new_version_id(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now:%Y%m%dT%H%M%S}{now.microsecond // 1000:03d}Z-{secrets.token_hex(3)}"


def is_version_dir(path: Path) -> bool:
    return (path / META_FILE).is_file()


def current_version(root: Path) -> str | None:
    """The version id ``current`` names, or None when the root has none."""
    try:
        value = (root / CURRENT_FILE).read_text(encoding="utf-8").strip()
    except FileNotFoundError:
        return None
    return value or None


def resolve_model_dir(path: Path) -> Path:
    """A version directory as given, or the version a root's ``current`` points to."""
    path = Path(path)
    if is_version_dir(path):
        return path
    if not path.exists():
        raise ArtifactError(f"{path}: no such model directory")
    version = current_version(path)
    if version is None:
        raise ArtifactError(
            f"{path}: neither a model version (no {META_FILE}) nor a model root with a "
            f"'{CURRENT_FILE}' pointer; train one with `newstag train --out {path}`"
        )
    target = path / version
    if not is_version_dir(target):
        raise ArtifactError(f"{path}: '{CURRENT_FILE}' names {version}, which has no {META_FILE}")
    return target


def list_versions(root: Path) -> list[str]:
    """Version ids under a root, oldest first."""
    if not root.is_dir():
        return []
    return sorted(p.name for p in root.iterdir() if _VERSION_ID.match(p.name) and is_version_dir(p))


def switch_current(root: Path, version: str) -> None:
    """Point ``current`` at a version, atomically."""
    if not is_version_dir(root / version):
        raise ArtifactError(f"{root}: no model version {version}")
    tmp = root / f".{CURRENT_FILE}.{os.getpid()}.tmp"
    _write_file(tmp, (version + "\n").encode())
    os.replace(tmp, root / CURRENT_FILE)
    _fsync_dir(root)
    logger.info("current model is now %s", version)


def _remove_stale_temporaries(root: Path) -> None:
    for tmp in root.glob(".tmp-*"):
        pid = tmp.name.rsplit("-", 1)[-1]
        if pid.isdigit() and _pid_alive(int(pid)):
            continue
        shutil.rmtree(tmp, ignore_errors=True)


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def save_version(root: Path, model: TopicModel, metadata: dict, make_current: bool = True) -> Path:
    """Write a new version under ``root`` and, by default, make it current."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    _remove_stale_temporaries(root)
    version = metadata.get("version") or new_version_id()
    tmp = root / f".tmp-{version}-{os.getpid()}"
    tmp.mkdir()
    try:
        with open(tmp / MODEL_FILE, "wb") as f:
            joblib.dump(model, f, compress=3)
            f.flush()
            os.fsync(f.fileno())
        meta = dict(metadata)
        meta.update(
            version=version,
            format=FORMAT_VERSION,
            libraries=library_versions(),
            artifact={
                "file": MODEL_FILE,
                "sha256": sha256_file(tmp / MODEL_FILE),
                "bytes": (tmp / MODEL_FILE).stat().st_size,
            },
        )
        _write_file(tmp / META_FILE, json.dumps(meta, ensure_ascii=False, indent=2).encode())
        _fsync_dir(tmp)
        os.rename(tmp, root / version)
        _fsync_dir(root)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if make_current:
        switch_current(root, version)
    return root / version


def read_metadata(version_dir: Path) -> dict:
    """A version's ``model.json``, checked for the fields loading relies on."""
    path = Path(version_dir) / META_FILE
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ArtifactError(f"{path}: missing") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ArtifactError(f"{path}: not valid JSON ({exc}); the version is damaged, retrain") from None
    if not isinstance(meta, dict):
        raise ArtifactError(f"{path}: not a JSON object; the version is damaged, retrain")
    for key in ("version", "format", "libraries", "artifact", "taxonomy"):
        if key not in meta:
            raise ArtifactError(f"{path}: field '{key}' missing; the version is damaged, retrain")
    if meta["format"] != FORMAT_VERSION:
        raise ArtifactError(f"{path}: artifact format {meta['format']}, this newstag reads {FORMAT_VERSION}; retrain")
    return meta


@dataclass(frozen=True)
class LoadedModel:
    """A verified model with its metadata and the directory it came from."""

    model: TopicModel
    metadata: dict
    path: Path

    @property
    def version(self) -> str:
        return self.metadata["version"]


def verify(version_dir: Path) -> dict:
    """Check a version's metadata, hash and library versions without unpickling it."""
    meta = read_metadata(version_dir)
    artifact = Path(version_dir) / MODEL_FILE
    if not artifact.is_file():
        raise ArtifactError(f"{artifact}: missing; the version is incomplete, retrain")
    actual = sha256_file(artifact)
    if actual != meta["artifact"].get("sha256"):
        raise ArtifactError(
            f"{artifact}: sha256 {actual[:12]}… does not match the "
            f"{str(meta['artifact'].get('sha256'))[:12]}… "
            f"recorded in {META_FILE}; the file was modified or truncated. Restore it or retrain "
            "with `newstag train`."
        )
    installed = library_versions()
    for name in PINNED_LIBRARIES:
        recorded = meta["libraries"].get(name)
        if recorded != installed[name]:
            raise ArtifactError(
                f"{version_dir}: built with {name} {recorded}, but {installed[name]} is installed; "
                f"install {name}=={recorded} or retrain with `newstag train`."
            )
    return meta


def load_model(path: Path) -> LoadedModel:
    """Resolve, verify and unpickle a model (a version directory or a root's current)."""
    version_dir = resolve_model_dir(Path(path))
    meta = verify(version_dir)
    try:
        model = joblib.load(version_dir / MODEL_FILE)
    except Exception as exc:  # a verified file that still fails to unpickle
        raise ArtifactError(f"{version_dir / MODEL_FILE}: cannot be loaded ({exc}); retrain") from None
    if not isinstance(model, TopicModel):
        raise ArtifactError(f"{version_dir / MODEL_FILE}: not a newstag model; retrain")
    return LoadedModel(model, meta, version_dir)
