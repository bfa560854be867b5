"""The gate's judgement, and model management from the command line."""

import pytest

from model.artifact import current_version, list_versions
from tests.conftest import copy_version
from tests.test_cli import run
from training.gate import GateMargins, judge


def metrics(macro, **per_topic):
    return {"macro_f1": macro, "per_topic": {t: {"f1": f1} for t, f1 in per_topic.items()}}


def test_a_model_within_both_margins_passes():
    verdict = judge(metrics(0.90, fire=0.95, court=0.85), metrics(0.89, fire=0.92, court=0.86))
    assert verdict.passed and verdict.message.startswith("gate passed")


def test_a_macro_f1_drop_past_the_margin_is_refused_saying_by_how_much():
    verdict = judge(metrics(0.90, fire=0.95), metrics(0.85, fire=0.94), GateMargins(0.02, 0.05))
    assert not verdict.passed
    assert "macro-F1 fell by 0.050 (0.900 -> 0.850)" in verdict.message


def test_one_topic_falling_past_its_margin_is_refused_naming_the_topic():
    verdict = judge(metrics(0.90, fire=0.95, court=0.85), metrics(0.895, fire=0.80, court=0.85))
    assert not verdict.passed and set(verdict.topic_drops) == {"fire"}
    assert "F1 of fire fell by 0.150 (0.950 -> 0.800)" in verdict.message


def test_a_gate_split_without_topic_texts_passes_and_says_why():
    verdict = judge(metrics(None, fire=0.0), metrics(None, fire=0.0))
    assert verdict.passed
    assert verdict.message == (
        "gate passed: the gate split holds no text with a topic, so there is no macro-F1 to compare"
    )
    assert verdict.to_dict()["macro_f1_old"] is None


@pytest.fixture
def three_versions(private_root):
    first = current_version(private_root)
    second = copy_version(private_root, make_current=True)
    third = copy_version(private_root)
    return private_root, [first, second, third]


def test_models_list_marks_the_current_version(three_versions, tmp_path):
    root, versions = three_versions
    result = run(["models", "list", "--root", str(root)], tmp_path)
    assert result.returncode == 0
    lines = result.stdout.decode().splitlines()[1:]
    assert [line[2:].split()[0] for line in lines] == versions
    assert [line.startswith("*") for line in lines] == [False, True, False]
    assert all(line.split()[-1].startswith("0.") for line in lines)


def test_models_use_rolls_back_and_refuses_an_unknown_version(three_versions, tmp_path):
    root, versions = three_versions
    assert run(["models", "use", versions[0], "--root", str(root)], tmp_path).returncode == 0
    assert current_version(root) == versions[0]
    result = run(["models", "use", "20990101T000000000Z-000000", "--root", str(root)], tmp_path)
    assert result.returncode == 1 and "missing" in result.stderr.decode()
    assert current_version(root) == versions[0]


def test_models_prune_keeps_the_newest_and_the_current(three_versions, tmp_path):
    root, versions = three_versions
    run(["models", "use", versions[0], "--root", str(root)], tmp_path)
    result = run(["models", "prune", "--keep", "1", "--root", str(root)], tmp_path)
    assert result.returncode == 0
    assert list_versions(root) == [versions[0], versions[2]]
    assert current_version(root) == versions[0]


def test_compare_prints_tables_and_writes_html(three_versions, tmp_path):
    root, versions = three_versions
    html = tmp_path / "compare.html"
    result = run(["compare", str(root / versions[0]), versions[1], "--html", str(html)], root)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "gate split:" in out and "macro-F1" in out and "0 text(s) changed label" in out
    assert "<table>" in html.read_text(encoding="utf-8")


def test_feedback_export_needs_a_reachable_store(tmp_path):
    result = run(["feedback", "export", "--database", "mysql://nowhere/x"], tmp_path)
    assert result.returncode == 1 and "unsupported database URL" in result.stderr.decode()
    empty = run(["feedback", "export", "--database", f"sqlite:///{tmp_path / 'none.sqlite3'}"], tmp_path)
    assert empty.returncode == 0 and empty.stdout == b""


def test_every_new_command_has_help_with_an_example(tmp_path):
    for command in (
        ["compare"],
        ["feedback", "export"],
        ["models", "list"],
        ["models", "use"],
        ["models", "prune"],
        ["serve"],
    ):
        result = run([*command, "--help"], tmp_path)
        assert result.returncode == 0 and "Example:" in result.stdout.decode(), command
