"""Model artifacts on disk: one directory per version under a root, and a ``current`` pointer.

A version directory holds ``model.npz`` (the data-only serving file: vocabularies, idf,
coefficients and calibrators as arrays, nothing executable), ``model.joblib`` (the fitted
scikit-learn pipeline, for tools that need scikit-learn: the equality test, conversions) and
``model.json`` (metadata with both files' sha256). Serving and predicting read only the .npz,
with ``allow_pickle=False``, after checking its hash. Versions are written into a temporary
directory and renamed into place, and ``current`` is replaced atomically, so an interrupted save
never damages what was there.
"""

from __future__ import annotations

import hashlib
import io
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
from typing import TYPE_CHECKING

import numpy as np
import platformdirs

from model.errors import NewstagError

if TYPE_CHECKING:  # neither is imported to serve: loading reads arrays, not pickles
    from model.pipeline import TopicModel
    from model.predictor import Predictor

logger = logging.getLogger(__name__)

MODEL_FILE = "model.joblib"  # the fitted scikit-learn pipeline: for training tools, never served
DATA_FILE = "model.npz"  # the data-only serving file: arrays, read with allow_pickle=False
META_FILE = "model.json"
CURRENT_FILE = "current"
# 2: the pipeline has a lead block (model/lead.py); 3: a one-line text's lead is read from its
# normalised form (model.lead.normalized_leads), which format-2 readers would not know; 4: the
# pipeline has an organ block (model/data/organs.txt), which format-3 readers would leave out.
FORMAT_VERSION = 4
READABLE_FORMATS = (1, 2, 3, 4)  # format 1 (no lead block) still loads, through pickle
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


def _data_file(model: TopicModel) -> tuple[bytes, dict]:
    """The data-only serving file of a fitted model (an uncompressed .npz) and its settings."""
    arrays, settings = model.compiled.to_arrays()
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    tokenizer = model.tokenizer
    settings.update(
        tokenizer={"extra_words": list(tokenizer.extra_words), "backend": tokenizer.backend},
        explain_terms=model.explain_terms,
        review=model.review.to_dict(),
    )
    return buffer.getvalue(), settings


def _serving_entry(data: bytes, settings: dict) -> dict:
    return {"file": DATA_FILE, "sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data), **settings}


def save_version(root: Path, model: TopicModel, metadata: dict, make_current: bool = True) -> Path:
    """Write a new version under ``root`` and, by default, make it current."""
    import joblib

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
        data, settings = _data_file(model)
        _write_file(tmp / DATA_FILE, data)
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
            serving=_serving_entry(data, settings),
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
    if meta["format"] not in READABLE_FORMATS:
        raise ArtifactError(f"{path}: artifact format {meta['format']}, this newstag reads {FORMAT_VERSION}; retrain")
    return meta


@dataclass(frozen=True)
class LoadedModel:
    """A verified model with its metadata and the directory it came from.

    ``model`` is a :class:`~model.predictor.Predictor` read from the data-only file, or for
    versions trained before those files (and :func:`load_pipeline_model`) the pickled
    :class:`~model.pipeline.TopicModel`, which answers the same way.
    """

    model: Predictor
    metadata: dict
    path: Path

    @property
    def version(self) -> str:
        return self.metadata["version"]


def _check_file(path: Path, recorded: str | None) -> None:
    if not path.is_file():
        raise ArtifactError(f"{path}: missing; the version is incomplete, retrain")
    actual = sha256_file(path)
    if actual != recorded:
        raise ArtifactError(
            f"{path}: sha256 {actual[:12]}… does not match the {str(recorded)[:12]}… recorded in {META_FILE}; "
            "the file was modified or truncated. Restore it or retrain with `newstag train`."
        )


def _check_libraries(version_dir: Path, meta: dict, names: tuple[str, ...]) -> None:
    installed = library_versions()
    for name in names:
        recorded = meta["libraries"].get(name)
        if recorded != installed[name]:
            raise ArtifactError(
                f"{version_dir}: built with {name} {recorded}, but {installed[name]} is installed; "
                f"install {name}=={recorded} or retrain with `newstag train`."
            )


def verify(version_dir: Path) -> dict:
    """Check a version's metadata, the hash of the file it serves from and the libraries that matter.

    A version with a data-only file needs only jieba to match (its words are jieba's); an older
    one is unpickled, which needs the recorded scikit-learn as well.
    """
    meta = read_metadata(version_dir)
    if "serving" in meta:
        _check_file(Path(version_dir) / DATA_FILE, meta["serving"].get("sha256"))
        _check_libraries(version_dir, meta, ("jieba",))
    else:
        verify_pipeline(version_dir, meta)
    return meta


def verify_pipeline(version_dir: Path, meta: dict | None = None) -> dict:
    """Check the pickled pipeline's hash and library versions without unpickling it."""
    meta = meta or read_metadata(version_dir)
    _check_file(Path(version_dir) / MODEL_FILE, meta["artifact"].get("sha256"))
    _check_libraries(version_dir, meta, PINNED_LIBRARIES)
    return meta


def _read_predictor(version_dir: Path, meta: dict) -> Predictor:
    from model.fastpath import CompiledModel
    from model.prediction import ReviewRule
    from model.predictor import Predictor
    from model.taxonomy import Taxonomy
    from model.tokenizer import Tokenizer

    serving = meta["serving"]
    path = Path(version_dir) / DATA_FILE
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {name: stored[name] for name in stored.files}
        tokenizer = Tokenizer(tuple(serving["tokenizer"]["extra_words"]), serving["tokenizer"]["backend"])
        compiled = CompiledModel(arrays, serving, tokenizer)
        taxonomy = Taxonomy.from_dict(meta["taxonomy"])
        review = ReviewRule(**serving["review"])
        return Predictor(compiled, taxonomy, meta["thresholds"], review, serving["explain_terms"])
    except (OSError, ValueError, KeyError, TypeError) as exc:  # a verified file that still does not fit
        raise ArtifactError(f"{path}: cannot be loaded ({exc}); retrain") from None


def load_model(path: Path) -> LoadedModel:
    """Resolve, verify and load a model (a version directory or a root's current) from its data-only file.

    A version trained before data-only files loads through pickle, with a warning naming the
    command that writes its data-only file.
    """
    version_dir = resolve_model_dir(Path(path))
    meta = verify(version_dir)
    if "serving" in meta:
        return LoadedModel(_read_predictor(version_dir, meta), meta, version_dir)
    logger.warning(
        "%s has no data-only model file and loads through pickle (scikit-learn); "
        "write one with `newstag models convert %s`",
        version_dir,
        version_dir.name,
    )
    return load_pipeline_model(version_dir)


def load_pipeline_model(path: Path) -> LoadedModel:
    """The pickled scikit-learn pipeline of a version, for what needs scikit-learn itself."""
    import joblib

    from model.pipeline import TopicModel

    version_dir = resolve_model_dir(Path(path))
    meta = verify_pipeline(version_dir)
    try:
        model = joblib.load(version_dir / MODEL_FILE)
    except Exception as exc:  # a verified file that still fails to unpickle
        raise ArtifactError(f"{version_dir / MODEL_FILE}: cannot be loaded ({exc}); retrain") from None
    if not isinstance(model, TopicModel):
        raise ArtifactError(f"{version_dir / MODEL_FILE}: not a newstag model; retrain")
    return LoadedModel(model, meta, version_dir)


def convert_version(version_dir: Path) -> Path:
    """Write the data-only file of a version trained before them, and record it in its metadata."""
    loaded = load_pipeline_model(version_dir)
    if "serving" in loaded.metadata:
        return loaded.path / DATA_FILE
    data, settings = _data_file(loaded.model)
    meta = {**loaded.metadata, "serving": _serving_entry(data, settings)}
    for name, content in ((DATA_FILE, data), (META_FILE, json.dumps(meta, ensure_ascii=False, indent=2).encode())):
        tmp = loaded.path / f".{name}.{os.getpid()}.tmp"
        _write_file(tmp, content)
        os.replace(tmp, loaded.path / name)
    _fsync_dir(loaded.path)
    return loaded.path / DATA_FILE
