"""The newstag command line on real files: in process through click's CliRunner, and one real process."""

import json
import os
import subprocess
import sys
from types import SimpleNamespace

import pytest
from click.testing import CliRunner

from model.artifact import current_version, list_versions
from newstag.cli import main


def run(args, root, stdin=None, env=None):
    """Run ``newstag ARGS`` in this process with its stdin, stdout and stderr captured."""
    environment = {"NEWSTAG_MODEL_ROOT": str(root), **(env or {})}
    with CliRunner().isolation(input=stdin, env=environment) as (out, err, _):
        code = main([str(a) for a in args])
        sys.stdout.flush()
        sys.stderr.flush()
        return SimpleNamespace(returncode=code, stdout=out.getvalue(), stderr=err.getvalue())


def lines(stdout: bytes):
    return [json.loads(line) for line in stdout.decode().splitlines()]


def test_predict_jsonl_file_echoes_ids_in_order(model_root, tmp_path):
    path = tmp_path / "in.jsonl"
    path.write_text(
        '{"id": "a1", "text": "近日，某消防救援大队开展灭火演练。"}\n'
        '{"id": 7, "text": "某县人民法院公开审理一起盗窃案。"}\n',
        encoding="utf-8",
    )
    result = run(["predict", str(path)], model_root)
    assert result.returncode == 0, result.stderr
    first, second = lines(result.stdout)
    assert (first["id"], first["topic"], second["id"], second["topic"]) == ("a1", "fire", 7, "court")
    assert list(first) == ["id", "topic", "name", "score", "labels", "needs_review", "topics", "explanation", "places"]
    assert len(first["topics"]) == 11
    assert first["explanation"][0]["spans"]


def test_predict_plain_lines_from_stdin_with_top_k_and_no_explain(model_root):
    result = run(
        ["predict", "--top-k", "3", "--no-explain"],
        model_root,
        stdin="民警在夜间巡逻中抓获一名盗窃嫌疑人。\n\n禁毒办开展国际禁毒日宣传。\n",
    )
    assert result.returncode == 0, result.stderr
    out = lines(result.stdout)
    assert [o["topic"] for o in out] == ["policing", "anti_drug"]
    assert all(len(o["topics"]) == 3 and "explanation" not in o and "id" not in o for o in out)


def test_bad_lines_are_reported_with_file_and_line_and_the_rest_still_tagged(model_root, tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text(
        '{"id": "ok1", "text": "交警大队开展酒驾夜查。"}\n'
        '{"id": "broken", "text": \n'
        '{"id": "empty", "text": "   "}\n'
        '{"id": "notext"}\n'
        '{"id": "ok2", "text": "检察院对一起案件提起公诉。"}\n',
        encoding="utf-8",
    )
    result = run(["predict", str(path)], model_root)
    assert result.returncode == 1
    assert [o["id"] for o in lines(result.stdout)] == ["ok1", "ok2"]
    errors = result.stderr.decode().splitlines()
    assert errors == [
        f"newstag: {path}:2: invalid JSON: Expecting value",
        f"newstag: {path}:3: empty text",
        f"newstag: {path}:4: a JSON line needs a string field 'text'",
    ]


def test_unreadable_and_binary_files(model_root, tmp_path):
    result = run(["predict", str(tmp_path / "absent.txt")], model_root)
    assert result.returncode == 1
    assert "absent.txt: cannot read: No such file or directory" in result.stderr.decode()
    binary = tmp_path / "blob.bin"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = run(["tag-page", str(binary)], model_root)
    assert result.returncode == 1
    assert result.stderr.decode().strip() == f"newstag: error: {binary}: not UTF-8 text (byte 0)"


def test_tag_page_prints_every_item(model_root, data_dir):
    page = data_dir / "pages" / "page_other_sections.txt"
    result = run(["tag-page", str(page)], model_root)
    assert result.returncode == 0, result.stderr
    items = json.loads(result.stdout)["items"]
    expected = json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))["items"]
    assert len(items) == len(expected)
    for item in items:
        assert {
            "id",
            "section",
            "headline",
            "byline",
            "text",
            "topic",
            "name",
            "score",
            "labels",
            "needs_review",
            "explanation",
            "paragraphs",
        } <= set(item)
    from_stdin = run(["tag-page"], model_root, stdin=page.read_bytes())
    assert json.loads(from_stdin.stdout) == json.loads(result.stdout)


def test_tag_page_refuses_an_empty_page(model_root):
    result = run(["tag-page", "-"], model_root, stdin="\n  \n")
    assert result.returncode == 1
    assert result.stderr.decode().strip() == "newstag: error: <stdin>: empty page"


def test_evaluate_writes_a_report_with_the_confusion_matrix_picture(model_root, tmp_path):
    corpus = tmp_path / "held_out.jsonl"
    rows = [
        {"id": "e1", "text": "近日，某派出所民警巡逻时抓获一名小偷。", "topic": "policing"},
        {"id": "e2", "text": "消防救援站开展高层建筑灭火演练。", "topic": "fire"},
        {"id": "e3", "text": "市人民法院审结一起合同纠纷案。", "topic": "court", "also": ["justice"]},
    ]
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    report = tmp_path / "report"
    result = run(["evaluate", "--model", str(model_root), "--corpus", str(corpus), "--report", str(report)], model_root)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "accuracy 1.000" in out and "macro-F1" in out and "procuratorate" in out
    assert (report / "confusion.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "confusion.png" in (report / "report.html").read_text(encoding="utf-8")
    assert json.loads((report / "metrics.json").read_text())["n"] == 3


def test_evaluate_on_out_of_scope_texts_reports_the_flagged_share_and_no_zero_accuracy(model_root, tmp_path):
    corpus = tmp_path / "foreign.jsonl"
    rows = [
        {"id": "f1", "text": "明天起全市气温回升，最高气温将达二十五摄氏度。", "topic": None},
        {"id": "f2", "text": "县实验小学举行秋季田径运动会，六百余名学生参赛。", "topic": None},
    ]
    corpus.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    report = tmp_path / "report"
    result = run(["evaluate", "--model", str(model_root), "--corpus", str(corpus), "--report", str(report)], model_root)
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "no texts with a topic" in out and "accuracy 0.000" not in out
    assert "out-of-domain texts: 2, flagged for review" in out
    metrics = json.loads((report / "metrics.json").read_text())
    assert metrics["n"] == 0 and metrics["accuracy"] is None and metrics["macro_f1"] is None
    assert "No texts with a topic" in (report / "report.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_train_with_an_extra_csv_corpus_then_a_bad_corpus_changes_nothing(tmp_path):
    root = tmp_path / "models"
    extra = tmp_path / "ours.csv"
    extra.write_text(
        "id,text,topic\nours-1,本报讯 近日，某镇综治中心联合网格员排查矛盾纠纷。,grassroots\n",
        encoding="utf-8",
    )
    result = run(["train", "--out", str(root), "--corpus", str(extra), "--folds", "2"], tmp_path / "unused")
    assert result.returncode == 0, result.stderr
    out = result.stdout.decode()
    assert "2-fold cross-validation" in out and "gate split" in out and "anti_fraud" in out
    version = current_version(root)
    assert version and list_versions(root) == [version]
    meta = json.loads((root / version / "model.json").read_text(encoding="utf-8"))
    assert meta["corpus"]["records"] >= 1400

    bad = tmp_path / "bad.jsonl"
    bad.write_text(
        '{"id": "x", "text": "巡逻。", "topic": "policing"}\n{"id": "y", "text": "演练。", "topic": "weather"}\n',
        encoding="utf-8",
    )
    result = run(["train", "--out", str(root), "--corpus", str(bad)], tmp_path / "unused")
    assert result.returncode == 1
    assert result.stderr.decode().startswith(f"newstag: error: {bad}:2: record y: unknown topic 'weather'")
    assert current_version(root) == version and list_versions(root) == [version]


@pytest.mark.slow
def test_commands_train_the_bundled_model_when_the_root_is_empty(tmp_path):
    root = tmp_path / "fresh"
    result = run(["predict", "--no-explain"], root, stdin="交警查处酒驾。\n")
    assert result.returncode == 0, result.stderr
    assert f"No model in {root} yet: training one from the bundled corpus first." in result.stderr.decode()
    assert lines(result.stdout)[0]["topic"] == "traffic"
    assert current_version(root)


def test_an_unknown_option_is_one_line_and_exit_2_from_the_installed_command(model_root):
    result = subprocess.run(
        [sys.executable, "-m", "newstag", "predict", "--bogus"],
        capture_output=True,
        env={**os.environ, "NEWSTAG_MODEL_ROOT": str(model_root)},
        timeout=120,
    )
    assert result.returncode == 2
    [line] = result.stderr.decode().strip().splitlines()
    assert line.startswith("newstag: No such option") and "--bogus" in line
    assert line.endswith("(see 'newstag predict --help')")


def test_a_damaged_model_given_explicitly_is_refused(tmp_path):
    (tmp_path / "v").mkdir()
    (tmp_path / "v" / "model.json").write_text("{}")
    result = run(["predict", "--model", str(tmp_path / "v")], tmp_path, stdin="巡逻。\n")
    assert result.returncode == 1
    assert "field 'version' missing" in result.stderr.decode()
