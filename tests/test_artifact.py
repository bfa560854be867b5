"""Artifacts: versions, the current pointer, and refusals of damaged or mismatched files."""

import json

import joblib
import pytest

from model import artifact
from model.artifact import (
    ArtifactError,
    current_version,
    list_versions,
    load_model,
    resolve_model_dir,
    save_version,
    switch_current,
    verify,
)


@pytest.fixture
def root(private_root):
    return private_root


def test_a_version_records_what_an_operator_needs(loaded, taxonomy):
    meta = loaded.metadata
    assert meta["version"] == loaded.path.name
    assert meta["taxonomy"]["topics"][0]["id"] == taxonomy.ids[0]
    assert len(meta["corpus"]["sha256"]) == 64 and meta["corpus"]["records"] > 1000
    assert set(meta["libraries"]) >= {"scikit-learn", "jieba", "numpy", "python"}
    assert set(meta["thresholds"]) == set(taxonomy.ids)
    for split in ("cv", "gate"):
        assert set(meta["metrics"][split]["per_topic"]) == set(taxonomy.ids)
        assert 0.0 <= meta["metrics"][split]["macro_f1"] <= 1.0
    assert meta["artifact"]["sha256"] == artifact.sha256_file(loaded.path / "model.joblib")


def test_root_and_version_directory_both_load(root):
    version = current_version(root)
    assert resolve_model_dir(root) == root / version
    assert load_model(root / version).version == load_model(root).version == version


def test_a_flipped_byte_is_refused_before_unpickling(root, monkeypatch):
    path = resolve_model_dir(root) / "model.joblib"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("unpickled a tampered file"))
    with pytest.raises(ArtifactError, match="does not match"):
        load_model(root)


def test_a_truncated_artifact_is_refused(root):
    path = resolve_model_dir(root) / "model.joblib"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ArtifactError, match="modified or truncated"):
        load_model(root)


def test_another_scikit_learn_version_is_refused_with_the_fix(root):
    meta_path = resolve_model_dir(root) / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["libraries"]["scikit-learn"] = "0.24.2"
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(
        ArtifactError, match=r"built with scikit-learn 0\.24\.2.*install scikit-learn==0\.24\.2 or retrain"
    ):
        verify(resolve_model_dir(root))


@pytest.mark.parametrize("content", ["{broken", "[]", json.dumps({"version": "x"})])
def test_damaged_metadata_is_refused(root, content):
    (resolve_model_dir(root) / "model.json").write_text(content)
    with pytest.raises(ArtifactError, match="damaged|not a JSON object"):
        load_model(root)


def test_a_directory_without_models_says_how_to_get_one(tmp_path):
    with pytest.raises(ArtifactError, match="newstag train --out"):
        load_model(tmp_path)
    with pytest.raises(ArtifactError, match="no such model directory"):
        load_model(tmp_path / "absent")


def test_a_save_that_fails_midway_leaves_the_old_version_current(root, loaded, monkeypatch):
    before = current_version(root)

    def broken_dump(*args, **kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(joblib, "dump", broken_dump)
    with pytest.raises(OSError):
        save_version(root, loaded.model, {"taxonomy": loaded.metadata["taxonomy"]})
    assert current_version(root) == before
    assert list_versions(root) == [before]
    assert not list(root.glob(".tmp-*"))
    assert load_model(root).version == before


def test_a_second_version_becomes_current_and_rollback_switches_back(root, loaded):
    first = current_version(root)
    second = save_version(root, loaded.model, {"taxonomy": loaded.metadata["taxonomy"]}).name
    assert current_version(root) == second and list_versions(root) == sorted([first, second])
    switch_current(root, first)
    assert load_model(root).version == first
    with pytest.raises(ArtifactError, match="no model version"):
        switch_current(root, "20990101T000000000Z-abcdef")


def test_leftovers_of_a_killed_save_are_cleaned_on_the_next_save(root, loaded):
    stale = root / ".tmp-20200101T000000000Z-000000-999999999"
    stale.mkdir()
    (stale / "model.joblib").write_bytes(b"partial")
    save_version(root, loaded.model, {"taxonomy": loaded.metadata["taxonomy"]})
    assert not stale.exists()
