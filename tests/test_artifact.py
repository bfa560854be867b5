"""Artifacts: versions, the current pointer, and refusals of damaged or mismatched files."""

import json
import subprocess
import sys

import joblib
import numpy as np
import pytest

from model import artifact
from model.artifact import (
    ArtifactError,
    current_version,
    list_versions,
    load_model,
    load_pipeline_model,
    resolve_model_dir,
    save_version,
    switch_current,
    verify,
    verify_pipeline,
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


@pytest.mark.parametrize("name", ["model.npz", "model.joblib"])
def test_a_flipped_byte_is_refused_before_the_file_is_read(root, monkeypatch, name):
    path = resolve_model_dir(root) / name
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    monkeypatch.setattr(joblib, "load", lambda *a, **k: pytest.fail("unpickled a tampered file"))
    monkeypatch.setattr(np, "load", lambda *a, **k: pytest.fail("read a tampered file"))
    with pytest.raises(ArtifactError, match="does not match"):
        (load_model if name == "model.npz" else load_pipeline_model)(root)


@pytest.mark.parametrize("name", ["model.npz", "model.joblib"])
def test_a_truncated_or_missing_file_is_refused(root, name):
    path = resolve_model_dir(root) / name
    path.write_bytes(path.read_bytes()[:1000])
    load = load_model if name == "model.npz" else load_pipeline_model
    with pytest.raises(ArtifactError, match="modified or truncated"):
        load(root)
    path.unlink()
    with pytest.raises(ArtifactError, match="missing"):
        load(root)


def test_a_valid_npz_that_is_not_the_recorded_one_is_refused(root):
    version_dir = resolve_model_dir(root)
    np.savez(version_dir / "model.npz", coef_t=np.zeros((2, 2)))
    with pytest.raises(ArtifactError, match="does not match"):
        load_model(root)


def test_a_data_file_holding_a_pickle_is_refused_even_with_a_matching_hash(root):
    """Someone who can also rewrite model.json still cannot make loading run code."""
    version_dir = resolve_model_dir(root)
    np.savez(version_dir / "model.npz", coef_t=np.array([{"a": 1}], dtype=object))
    meta = json.loads((version_dir / "model.json").read_text())
    meta["serving"]["sha256"] = artifact.sha256_file(version_dir / "model.npz")
    (version_dir / "model.json").write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match="cannot be loaded"):
        load_model(root)


def test_other_library_versions_are_refused_with_the_fix(root):
    meta_path = resolve_model_dir(root) / "model.json"
    meta = json.loads(meta_path.read_text())
    meta["libraries"]["scikit-learn"] = "0.24.2"
    meta_path.write_text(json.dumps(meta))
    verify(resolve_model_dir(root))  # serving reads arrays: scikit-learn's version does not matter
    with pytest.raises(
        ArtifactError, match=r"built with scikit-learn 0\.24\.2.*install scikit-learn==0\.24\.2 or retrain"
    ):
        verify_pipeline(resolve_model_dir(root))
    meta["libraries"]["jieba"] = "0.39"  # jieba cuts the words: its version matters to serving
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ArtifactError, match=r"built with jieba 0\.39"):
        verify(resolve_model_dir(root))


SERVING = """
import sys
from model.artifact import load_model
from model.page import tag_page
from service import create_app

model = load_model(sys.argv[1]).model
model.warm()
print(model.predict(["近日，某派出所民警在夜间巡逻中抓获一名盗窃嫌疑人。"])[0].topic)
model.predict(["“汪汪汪！”警犬叫个不停，民警循声查获一名盗窃嫌疑人。"])  # a tie-prone text: jieba's cut
tag_page(model, "夜巡\\n通讯员 张三\\n本报讯 近日，某派出所民警开展夜间巡逻。")
client = create_app({"MODEL_ROOT": sys.argv[1]}).test_client()
assert client.post("/v1/classify", json={"texts": ["交警查处酒驾。", "法院审结一起案件。"]}).status_code == 200
assert client.post("/v1/tag-page", json={"text": "夜巡\\n本报讯 近日，民警巡逻。"}).status_code == 200
print(sorted({k.split(".")[0] for k in sys.modules} & {"sklearn", "scipy", "joblib", "jieba", "rjieba"}))
"""


def test_serving_a_model_imports_no_scikit_learn_scipy_joblib_or_jieba(root):
    """A fresh process that loads, predicts, tags a page and answers the API: nothing executable is
    unpickled, and a tie-prone text gets jieba's cut without jieba's 65 MB dictionary (nor rjieba's
    unused default engine)."""
    code = SERVING
    result = subprocess.run([sys.executable, "-c", code, str(root)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["policing", "[]"]


def test_a_version_from_before_data_only_files_loads_with_a_warning_and_converts(root, caplog):
    version_dir = resolve_model_dir(root)
    (version_dir / "model.npz").unlink()
    meta = json.loads((version_dir / "model.json").read_text())
    serving = meta.pop("serving")
    (version_dir / "model.json").write_text(json.dumps(meta))
    old = load_model(root)
    assert f"newstag models convert {version_dir.name}" in caplog.text
    text = "近日，某县消防救援大队开展高层建筑灭火演练。"
    expected = old.model.predict([text])[0].to_dict()

    from newstag.cli import main

    assert main(["models", "convert", version_dir.name, "--root", str(root)]) == 0
    converted = json.loads((version_dir / "model.json").read_text())
    assert converted["serving"]["sha256"] == artifact.sha256_file(version_dir / "model.npz") == serving["sha256"]
    fresh = load_model(root)
    assert type(fresh.model).__name__ == "Predictor"
    assert fresh.model.predict([text])[0].to_dict() == expected


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
