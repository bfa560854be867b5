"""Evaluation and comparison reports: what an operator opens after `newstag evaluate` or `compare`."""

import logging
import warnings
from html.parser import HTMLParser
from types import SimpleNamespace

import numpy as np
import pytest

import training.report
from model.pipeline import decide
from model.prediction import ReviewRule
from training.compare import compare_models, format_comparison, write_comparison_html
from training.corpus import Record
from training.metrics import format_report, score
from training.report import write_report

# Four labelled texts and one of no topic; the model gets the traffic text wrong.
RECORDS = [
    Record("p1", "派出所民警巡逻防控", "policing"),
    Record("p2", "公安局侦破盗窃案件", "policing"),
    Record("t1", "交警查处酒驾醉驾", "traffic"),
    Record("f1", "消防救援站开展灭火演练", "fire"),
    Record("o1", "今日多云转晴", None),
]
GUESSES = ["policing", "policing", "policing", "fire", "policing"]


def predict_as(taxonomy, topic):
    """The prediction of a model sure of ``topic``."""
    probs = np.full(len(taxonomy), 0.01)
    probs[taxonomy.ids.index(topic)] = 0.9
    return decide(probs, taxonomy, dict.fromkeys(taxonomy.ids, 0.5), ReviewRule())


@pytest.fixture
def metrics(taxonomy):
    return score(RECORDS, [predict_as(taxonomy, t) for t in GUESSES], taxonomy)


@pytest.fixture
def write_quietly(capfd, caplog):
    """write_report that fails the test on any warning, warning log record or stderr output."""

    def write(metrics, taxonomy, out_dir, title="newstag test"):
        capfd.readouterr()
        caplog.clear()
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            path = write_report(metrics, taxonomy, out_dir, title)
        # matplotlib reports font trouble through logging, which pytest captures away from stderr.
        assert [str(w.message) for w in caught] == []
        assert [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING] == []
        assert capfd.readouterr().err == ""
        return path

    return write


class TableRows(HTMLParser):
    """The text of every table cell, row by row."""

    def __init__(self):
        super().__init__()
        self.rows: list[list[str]] = []
        self.in_cell = False

    def handle_starttag(self, tag, attrs):
        if tag == "tr":
            self.rows.append([])
        elif tag in ("td", "th"):
            self.rows[-1].append("")
            self.in_cell = True

    def handle_endtag(self, tag):
        if tag in ("td", "th"):
            self.in_cell = False

    def handle_data(self, data):
        if self.in_cell:
            self.rows[-1][-1] += data


def table_rows(html: str) -> list[list[str]]:
    parser = TableRows()
    parser.feed(html)
    return parser.rows


def test_a_title_with_markup_is_shown_as_text(metrics, taxonomy, tmp_path, write_quietly):
    page = write_quietly(metrics, taxonomy, tmp_path, "newstag <script>alert(1)</script>").read_text(encoding="utf-8")
    assert "<script>" not in page
    assert "<title>newstag &lt;script&gt;alert(1)&lt;/script&gt;</title>" in page


def test_the_topic_table_holds_every_topic_with_its_figures(metrics, taxonomy, tmp_path, write_quietly):
    page = write_quietly(metrics, taxonomy, tmp_path).read_text(encoding="utf-8")
    rows = {row[0]: row[1:] for row in table_rows(page)[1:]}
    assert list(rows) == list(taxonomy.ids)
    # Policing: two of three right; traffic never predicted; fire one of one.
    assert rows["policing"] == ["公安", "0.667", "1.000", "0.800", "2"]
    assert rows["traffic"] == ["交通安全", "0.000", "0.000", "0.000", "1"]
    assert rows["fire"] == ["消防", "1.000", "1.000", "1.000", "1"]
    assert rows["court"] == ["法院", "0.000", "0.000", "0.000", "0"]
    assert "4 texts. Accuracy 0.750" in page
    assert "Texts of no topic: 1, flagged for review 0.0%." in page


def test_the_confusion_matrix_is_a_png_beside_the_page(metrics, taxonomy, tmp_path, write_quietly):
    page = write_quietly(metrics, taxonomy, tmp_path).read_text(encoding="utf-8")
    assert '<img src="confusion.png"' in page
    assert (tmp_path / "confusion.png").read_bytes().startswith(b"\x89PNG\r\n\x1a\n")


def test_a_file_of_out_of_scope_texts_has_no_topic_figures_rather_than_zeros(taxonomy, tmp_path, write_quietly):
    records = [Record("o1", "今日多云转晴", None), Record("o2", "县中学举行运动会", None)]
    # The first text is left unflagged with a topic: wrong, since it is none of ours.
    predictions = [predict_as(taxonomy, "policing"), predict_as(taxonomy, "policing")]
    predictions[1] = decide(
        np.full(len(taxonomy), 1 / len(taxonomy)), taxonomy, dict.fromkeys(taxonomy.ids, 0.5), ReviewRule()
    )
    metrics = score(records, predictions, taxonomy)
    assert metrics["n"] == 0
    assert [metrics[k] for k in ("accuracy", "accept_accuracy", "macro_f1", "review_rate")] == [None] * 4
    assert metrics["out_of_domain"] == 2 and metrics["out_of_domain_review_rate"] == 0.5
    assert metrics["unflagged_accept_accuracy"] == 0.0
    text = format_report(metrics, "foreign.jsonl")
    assert text.splitlines()[0] == "foreign.jsonl: no texts with a topic, so no accuracy, macro-F1 or per-topic figures"
    assert "0.000" not in text.splitlines()[0] and "precision" not in text
    assert "out-of-domain texts: 2, flagged for review 50.0%" in text
    page = write_quietly(metrics, taxonomy, tmp_path).read_text(encoding="utf-8")
    assert "No texts with a topic" in page and "Accuracy" not in page
    assert table_rows(page) == []  # no per-topic table of zeros
    assert "Texts of no topic: 2, flagged for review 50.0%." in page


@pytest.mark.parametrize("cjk", [True, False], ids=["cjk-font", "no-cjk-font"])
def test_writing_a_report_prints_no_warning(metrics, taxonomy, tmp_path, write_quietly, monkeypatch, cjk):
    if not cjk:  # as on a machine without a CJK font: the axes show topic ids
        monkeypatch.setattr(training.report, "_CJK_FONTS", ())
    write_quietly(metrics, taxonomy, tmp_path)
    assert (tmp_path / "confusion.png").stat().st_size > 0


class FixedModel:
    """A model that gives each text the topic it was told, and every other text ``default``."""

    def __init__(self, taxonomy, default, topics):
        self.taxonomy, self.default, self.topics = taxonomy, default, topics

    def predict(self, texts, explain=True):
        return [predict_as(self.taxonomy, self.topics.get(text, self.default)) for text in texts]


def test_the_comparison_lists_each_changed_text_escaped(taxonomy, tmp_path):
    records = [
        Record("a", "交警<b>查处</b>酒驾", "traffic"),
        Record("b", "法院宣判一起盗窃案", "court"),
        Record("c", "派出所民警巡逻", "policing"),
    ]
    old = SimpleNamespace(version="v1", model=FixedModel(taxonomy, "policing", {}))
    new = SimpleNamespace(version="v2", model=FixedModel(taxonomy, "policing", {r.text: r.topic for r in records[:2]}))
    result = compare_models(old, new, {"gate split": records}, taxonomy)
    page = write_comparison_html(result, tmp_path / "compare.html").read_text(encoding="utf-8")
    assert "<b>" not in page
    changed = table_rows(page)[-2:]
    assert changed == [
        ["gate split", "a", "traffic", "policing", "traffic", "交警<b>查处</b>酒驾"],
        ["gate split", "b", "court", "policing", "court", "法院宣判一起盗窃案"],
    ]
    assert "Texts whose label changed (2)" in page


def test_a_comparison_on_out_of_scope_texts_lists_the_changes_and_no_f1(taxonomy, tmp_path):
    records = [Record("o1", "今日多云转晴", None), Record("o2", "县中学举行运动会", None)]
    old = SimpleNamespace(version="v1", model=FixedModel(taxonomy, "policing", {}))
    new = SimpleNamespace(version="v2", model=FixedModel(taxonomy, "policing", {"今日多云转晴": "emergency"}))
    result = compare_models(old, new, {"foreign": records}, taxonomy)
    text = format_comparison(result)
    assert "foreign: no texts with a topic, so no F1 to compare" in text
    assert "[foreign] o1: policing -> emergency (labelled None)" in text
    page = write_comparison_html(result, tmp_path / "compare.html").read_text(encoding="utf-8")
    assert "foreign: no texts with a topic" in page and "old F1" not in page
    assert table_rows(page)[-1][:5] == ["foreign", "o1", "None", "policing", "emergency"]
