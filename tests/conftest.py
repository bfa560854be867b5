"""Shared fixtures: one model trained from the bundled corpus per test session."""

from __future__ import annotations

import dataclasses
import shutil
from pathlib import Path

import pytest

from model.artifact import load_model, load_pipeline_model
from model.taxonomy import load_taxonomy
from training.train import TrainingOptions, train_version

DATA = Path(__file__).parent / "data"


@pytest.fixture(scope="session")
def taxonomy():
    return load_taxonomy()


@pytest.fixture(scope="session")
def model_root(tmp_path_factory, taxonomy) -> Path:
    """A model trained in seconds on half of the bundled corpus: for tests of what the code does.

    Tests of how well the model does use :func:`full_model_root` and run in the slow lane.
    """
    root = tmp_path_factory.mktemp("models")
    train_quick(root, taxonomy)
    return root


def train_quick(root: Path, taxonomy, feedback=(), **weights: float) -> Path:
    """Train the quick model (half the bundled training records, 2 folds) into ``root``.

    ``weights``: ``lead_weight`` or ``organ_weight`` when not the default (0 trains the model
    without that block).
    """
    from model.pipeline import PipelineSettings
    from training.corpus import load_bundled
    from training.split import split_gate

    train, gate = split_gate(load_bundled(taxonomy))
    settings = dataclasses.replace(PipelineSettings(calibration_folds=3), **weights)
    options = TrainingOptions(folds=2, settings=settings)
    # Without the bundled corpus the gate split is the given records' share: the bundled gate split.
    extra = train[::2] + gate
    return train_version(root, taxonomy, extra=extra, use_bundled=False, options=options, feedback=feedback)[0]


@pytest.fixture(scope="session")
def full_model_root(tmp_path_factory, taxonomy) -> Path:
    """A model trained on the whole bundled corpus (less its gate split), 3 folds: for tests of quality."""
    root = tmp_path_factory.mktemp("full-models")
    train_version(root, taxonomy, options=TrainingOptions(folds=3))
    return root


@pytest.fixture(scope="session")
def full_loaded(full_model_root):
    return load_pipeline_model(full_model_root)


@pytest.fixture(scope="session")
def full_model(full_loaded):
    return full_loaded.model


@pytest.fixture(scope="session")
def loaded(model_root):
    """The session model with its scikit-learn pipeline (it answers exactly as the data-only file does)."""
    return load_pipeline_model(model_root)


@pytest.fixture(scope="session")
def served(model_root):
    """The session model as serving loads it: from the data-only file, without scikit-learn."""
    return load_model(model_root)


@pytest.fixture(scope="session")
def topic_model(loaded):
    return loaded.model


@pytest.fixture
def private_root(tmp_path, model_root) -> Path:
    """A private copy of the session's model root, free to change or damage."""
    copy = tmp_path / "models"
    shutil.copytree(model_root, copy)
    return copy


def copy_version(root: Path, make_current: bool = False) -> str:
    """Another version of the root's current model under a new id: its files copied, not retrained or re-saved."""
    import json

    from model.artifact import current_version, new_version_id, switch_current

    source = root / current_version(root)
    version = new_version_id()
    shutil.copytree(source, root / version)
    meta_path = root / version / "model.json"
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    meta["version"] = version
    meta_path.write_text(json.dumps(meta, ensure_ascii=False), encoding="utf-8")
    if make_current:
        switch_current(root, version)
    return version


@pytest.fixture
def data_dir() -> Path:
    return DATA


ADMIN_TOKEN = "test-admin-token"


@pytest.fixture(scope="session")
def app(model_root):
    """An app on the session's model; tests that change settings or models build their own."""
    from service import create_app

    return create_app({"MODEL_ROOT": str(model_root), "ADMIN_TOKEN": ADMIN_TOKEN})


@pytest.fixture(scope="session")
def client(app):
    return app.test_client()


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server for the store tests (scripts/postgres.sh starts one).

    Outside CI the tests skip without it; under CI=true its absence fails them.
    """
    import os

    url = os.environ.get("NEWSTAG_TEST_POSTGRES_URL")
    if not url:
        message = "NEWSTAG_TEST_POSTGRES_URL is not set: run the suite through scripts/test.sh"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    return url
