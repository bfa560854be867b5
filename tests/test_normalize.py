from model.normalize import agency_of, normalize, normalize_all, normalize_with_offsets
from training.corpus import load_bundled


def test_full_width_text_folds_to_half_width_and_lower_case():
    assert normalize("ＡＢＣ１２３，（注）") == "abc123,(注)"


def test_whitespace_collapses_and_lead_in_goes():
    assert normalize("本报讯  近日，\n\n某地\u3000开展巡逻。 ") == "近日, 某地 开展巡逻。"


def test_reporter_names_are_dropped_and_agency_abbreviations_kept():
    text = "督促整改河道污染\n通讯员 吴检 李明\n本报讯 近日，该院发出检察建议。"
    assert normalize(text) == "督促整改河道污染 检察 近日,该院发出检察建议。"


def test_bracketed_byline_inside_the_first_paragraph():
    assert normalize("本报讯（记者 王五 通讯员 甬法）近日，宁波") == "法院 近日,宁波"


def test_body_text_mentioning_a_reporter_is_left_alone():
    assert normalize("记者昨日从公安局获悉，案件告破。") == "记者昨日从公安局获悉,案件告破。"


def test_agency_abbreviations():
    assert agency_of("桐检") == "检察"
    assert agency_of("温公宣") == "公安"
    assert agency_of("嘉消") == "消防"
    assert agency_of("湖禁毒") == "禁毒"
    assert agency_of("陈晓东") is None


def test_offsets_map_normalised_characters_back_to_the_original():
    original = "通讯员 桐检\n本报讯 近日，该院对一起盗窃案提起公诉。"
    result = normalize_with_offsets(original)
    start = result.text.index("提起公诉")
    a, b = result.original_span(start, start + 4)
    assert original[a:b] == "提起公诉"
    a, b = result.original_span(0, 2)  # the agency word stands for the byline's abbreviation
    assert original[a:b] == "桐检"


def test_control_characters_and_lone_surrogates_are_dropped():
    assert normalize("派出所\x00\x07\ud800民警") == "派出所民警"


def test_both_entry_points_agree_on_every_corpus_record(taxonomy):
    for record in load_bundled(taxonomy):
        assert normalize_with_offsets(record.text).text == normalize(record.text), record.id


def test_texts_normalised_together_get_what_each_gets_alone(taxonomy):
    texts = [r.text for r in load_bundled(taxonomy)]
    texts += [line for text in texts if "\n" in text for line in text.split("\n")]
    # Edges of the join: empty and blank texts, bylines and lead-ins at a text's first or last
    # line, control characters (the separator's kind), a bracketed byline at the end.
    texts += ["", " ", "\n", "本报讯", "通讯员 桐检\n", "\n通讯员 桐检", "a\x00b", " x \u3000", "（通讯员 王五）"]
    texts += ["本报讯 记者 张三 报道", "x\r\n\r\n本报讯", "记者 李四", "\x1e通讯员 瓯司\x1e"]
    assert normalize_all(texts) == [normalize(t) for t in texts]
    assert normalize_all([]) == []
