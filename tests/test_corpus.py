"""The bundled corpus meets its floors, and a bad corpus is refused with file, line and reason."""

import json
import re
import statistics
from collections import Counter

import pytest

from training.corpus import CorpusError, bundled_dir, bundled_paths, load_bundled, load_corpus
from training.quality import near_duplicates, overused_openings


@pytest.fixture(scope="module")
def corpus(taxonomy):
    return load_bundled(taxonomy)


def test_every_topic_has_at_least_150_records_and_the_corpus_1650(corpus, taxonomy):
    counts = Counter(r.topic for r in corpus if r.topic)
    assert sum(counts.values()) >= 1650
    for topic in taxonomy.ids:
        assert counts[topic] >= 150, topic


def test_items_hard_cases_and_lengths(corpus):
    topical = [r for r in corpus if r.topic]
    assert sum(r.kind == "item" for r in topical) / len(topical) >= 0.20
    assert sum(r.hard for r in topical) / len(topical) >= 0.15
    lengths = [len(r.text) for r in topical]
    assert min(lengths) >= 20 and max(lengths) <= 800
    assert 100 <= statistics.median(lengths) <= 300


def test_items_have_headline_byline_or_body_lines_and_paragraphs_one_line(corpus):
    for record in corpus:
        if record.kind == "item":
            assert record.text.count("\n") >= 2, record.id
        else:
            assert "\n" not in record.text, record.id


def test_out_of_domain_file_has_600_records_without_topic(corpus):
    ood = [r for r in corpus if r.source.startswith(str(bundled_dir() / "out_of_domain.jsonl"))]
    assert len(ood) >= 600
    assert all(r.topic is None and not r.also for r in ood)
    assert all(r.topic for r in corpus if r not in ood)


def test_no_exact_or_near_duplicate_records(corpus):
    pairs = near_duplicates(corpus)
    assert not pairs, pairs[:10]


def test_no_opening_is_shared_by_more_than_one_percent(corpus):
    assert overused_openings(corpus) == {}


def test_many_places_of_zhejiang_appear(corpus):
    text = "".join(r.text for r in corpus)
    cities = ["杭州", "宁波", "温州", "嘉兴", "湖州", "绍兴", "金华", "衢州", "舟山", "台州", "丽水"]
    for city in cities:
        assert text.count(city) >= 15, city


def test_abbreviated_agency_bylines_are_present(corpus):
    bylines = [r for r in corpus if re.search(r"通讯员 [\u4e00-\u9fff]{1,3}(检|法|公宣|消|司|禁毒)\b", r.text)]
    assert len(bylines) >= 30


def test_labeling_guide_lists_the_real_counts(corpus, taxonomy):
    guide = (bundled_dir() / "README.md").read_text(encoding="utf-8")
    counts = Counter(r.topic for r in corpus if r.topic)
    for topic in taxonomy.ids:
        assert re.search(rf"\|\s*{topic}\s*\|[^\n]*\|\s*{counts[topic]}\s*\|", guide), topic


def test_near_duplicate_check_catches_a_paragraph_cut_from_an_item(corpus):
    item = next(r for r in corpus if r.kind == "item" and len(r.text) > 200)
    body = item.text.split("\n")[-1]
    cut = type(item)("cut", body, item.topic)
    assert any(p.second == "cut" or p.first == "cut" for p in near_duplicates([item, cut]))


# -- validation -------------------------------------------------------------------------


def _write(tmp_path, lines, name="c.jsonl"):
    path = tmp_path / name
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


GOOD = {
    "id": "a",
    "text": "近日，某派出所开展夜间巡逻。",
    "topic": "policing",
    "also": [],
    "kind": "paragraph",
    "hard": False,
}


@pytest.mark.parametrize(
    "bad, reason",
    [
        ("{not json", "invalid JSON"),
        (json.dumps({**GOOD, "topic": "weather"}), "unknown topic 'weather'"),
        (json.dumps({k: v for k, v in GOOD.items() if k != "text"}), "field 'text' is missing"),
        (json.dumps({**GOOD, "text": "   "}), "'text' must be a non-empty string"),
        (json.dumps({**GOOD, "text": "长" * 20001}), "over 20000"),
        (json.dumps({**GOOD, "id": "b", "also": ["policing"]}), "repeats the topic"),
        (json.dumps({**GOOD, "id": "b", "kind": "essay"}), "'kind' must be one of"),
        (json.dumps(GOOD), "duplicate id 'a'"),
    ],
)
def test_a_bad_line_rejects_the_corpus_naming_file_and_line(tmp_path, taxonomy, bad, reason):
    path = _write(tmp_path, [json.dumps(GOOD), bad])
    with pytest.raises(CorpusError) as caught:
        load_corpus([path], taxonomy)
    assert caught.value.line == 2
    assert str(caught.value).startswith(f"{path}:2: ")
    assert reason in str(caught.value)


def test_strict_loading_wants_every_field(tmp_path, taxonomy):
    path = _write(tmp_path, [json.dumps({"id": "a", "text": "派出所巡逻。", "topic": "policing"})])
    assert load_corpus([path], taxonomy)[0].kind == "paragraph"
    with pytest.raises(CorpusError, match="field 'also' is missing"):
        load_corpus([path], taxonomy, strict=True)


def test_csv_corpus_with_the_same_fields(tmp_path, taxonomy):
    path = tmp_path / "extra.csv"
    path.write_text(
        "id,text,topic,also,kind,hard\n"
        'x1,"近日,某派出所开展夜间巡逻。",policing,grassroots,paragraph,false\n'
        "x2,一段与十一个主题都无关的财经新闻。,,,paragraph,true\n",
        encoding="utf-8",
    )
    first, second = load_corpus([path], taxonomy)
    assert first.also == ("grassroots",) and first.text == "近日,某派出所开展夜间巡逻。"
    assert second.topic is None and second.hard is True


def test_unreadable_and_non_utf8_files(tmp_path, taxonomy):
    with pytest.raises(CorpusError, match="cannot read"):
        load_corpus([tmp_path / "missing.jsonl"], taxonomy)
    latin = tmp_path / "latin.jsonl"
    latin.write_bytes('{"id": "a", "text": "caf\xe9", "topic": "policing"}\n'.encode("latin-1"))
    with pytest.raises(CorpusError, match="not UTF-8"):
        load_corpus([latin], taxonomy)


def test_bundled_paths_are_the_topic_files_and_out_of_domain():
    names = [p.name for p in bundled_paths()]
    assert names[-1] == "out_of_domain.jsonl"
    assert len(names) == 12
