import pickle

import pytest

from model.normalize import normalize
from model.tokenizer import BREAK, WORD, Tokenizer, _is_word, load_domain_words
from training.corpus import load_bundled


def test_institution_and_practice_names_stay_whole():
    words = Tokenizer().words("舟山市定海区消防救援大队联合吴兴区人民检察院开展公益诉讼宣传,反诈中心提醒社区矫正对象")
    for name in ("消防救援大队", "人民检察院", "公益诉讼", "反诈中心", "社区矫正对象"):
        assert name in words


def test_punctuation_and_spaces_are_not_words():
    assert Tokenizer().words("民警, 辅警。“巡逻”") == ["民警", "辅警", "巡逻"]


def test_spans_point_into_the_text():
    text = "消防救援大队的民警"
    assert Tokenizer().words_with_spans(text) == [("消防救援大队", 0, 6), ("的", 6, 7), ("民警", 7, 9)]
    assert Tokenizer(backend="jieba").words_with_spans("民警, 辅警") == [("民警", 0, 2), ("辅警", 4, 6)]


def test_domain_dictionary_has_no_comment_lines_or_duplicates():
    words = [word for word, _ in load_domain_words()]
    assert len(words) > 150
    assert len(set(words)) == len(words)
    assert not any(w.startswith("#") for w in words)


def test_domain_dictionary_frequencies_are_the_ones_jieba_would_choose():
    """Each shipped frequency is what jieba's suggest_freq gives when the words are added in order,
    so writing them out changes nothing for jieba and tells rjieba the same."""
    import jieba

    engine = jieba.Tokenizer()
    engine.initialize()
    for word, freq in load_domain_words():
        engine.add_word(word)
        assert engine.FREQ[word] == freq, word


@pytest.mark.slow
def test_rjieba_and_jieba_cut_every_corpus_record_the_same(taxonomy):
    from model.normalize import normalize
    from training.corpus import load_bundled

    reference, fast = Tokenizer(backend="jieba"), Tokenizer(backend="rjieba")
    assert fast.uses_rjieba and not reference.uses_rjieba
    texts = [normalize(r.text) for r in load_bundled(taxonomy)]
    texts += [normalize(line) for r in load_bundled(taxonomy) for line in r.text.split("\n")]
    different = [t for t in texts if fast.cut(t) != reference.cut(t)]
    assert different == []


TIE_PRONE = [
    "“汪汪汪……”小狗掉进了井里",
    "哈哈哈哈哈，他笑着说说说",
    "人人人民民民法院院院",
    "AB12 测试 test.py 3.5% a-b 嘻嘻嘻",
    "通讯员桐检：呜呜呜的警笛声\r\n响起",
]


@pytest.mark.parametrize("extra_words", [(), ("桐检", "警笛声")])
def test_tie_prone_text_gets_jiebas_cut_without_jieba(extra_words):
    fast, reference = Tokenizer(extra_words, backend="rjieba"), Tokenizer(extra_words, backend="jieba")
    for text in TIE_PRONE:
        assert fast.cut(text) == reference.cut(text), text
    assert fast._jieba is None  # the compact copy cut them


@pytest.mark.slow
def test_the_compact_copy_cuts_every_corpus_record_as_jieba_does(taxonomy):
    from model.jiebacut import CompactJieba
    from model.tokenizer import _words_to_add

    compact, reference = CompactJieba(added=_words_to_add(())), Tokenizer(backend="jieba")
    texts = [normalize(r.text) for r in load_bundled(taxonomy)[::2]]
    assert [t for t in texts if compact.cut(t) != reference.cut(t)] == []


def test_a_damaged_jieba_dictionary_is_refused(tmp_path):
    from model.jiebacut import CompactJieba

    (tmp_path / "dict.txt").write_text("法院 100 n\n检察院 many n\n", encoding="utf-8")
    with pytest.raises(ValueError, match="line 2"):
        CompactJieba(tmp_path / "dict.txt")


def test_unknown_backend_is_refused():
    import pytest

    with pytest.raises(ValueError, match="unknown tokenizer backend"):
        Tokenizer(backend="spacy")


def test_tokenizer_pickles_without_its_jieba_state():
    tokenizer = Tokenizer(extra_words=("桐检",))
    tokenizer.warm()
    clone = pickle.loads(pickle.dumps(tokenizer))
    assert clone._jieba is None and clone._rjieba is None
    assert clone.words("通讯员桐检") == tokenizer.words("通讯员桐检")


def test_jieba_engines_are_built_once_per_process():
    assert Tokenizer(backend="jieba")._jieba_engine() is Tokenizer(backend="jieba")._jieba_engine()
    assert Tokenizer(extra_words=("桐检",))._jieba_engine() is not Tokenizer()._jieba_engine()


def test_texts_cut_joined_get_the_tokens_each_gets_alone(taxonomy):
    tokenizer = Tokenizer()
    texts = [normalize(r.text) for r in load_bundled(taxonomy)[::7]]
    texts[2:2] = ["", "汪汪汪叫了三声", ""]  # empty texts and a tie-prone one inside the batch
    expected: list[str] = []
    for index, text in enumerate(texts):
        expected += ([BREAK] if index else []) + tokenizer.cut(text)
    assert tokenizer.cut_joined(texts) == expected


def test_the_word_pattern_is_the_word_test(taxonomy):
    tokenizer = Tokenizer()
    tokens = {t for r in load_bundled(taxonomy)[::5] for t in tokenizer.cut(normalize(r.text))}
    tokens |= {"_", "__", "a_", "①", "Ⅻ", "٣", "—", "…", " ", "\u3000"}
    assert {t for t in tokens if WORD.search(t)} == {t for t in tokens if _is_word(t)}
