import pickle

from model.tokenizer import Tokenizer, load_domain_words


def test_institution_and_practice_names_stay_whole():
    words = Tokenizer().words("舟山市定海区消防救援大队联合吴兴区人民检察院开展公益诉讼宣传,反诈中心提醒社区矫正对象")
    for name in ("消防救援大队", "人民检察院", "公益诉讼", "反诈中心", "社区矫正对象"):
        assert name in words


def test_punctuation_and_spaces_are_not_words():
    assert Tokenizer().words("民警, 辅警。“巡逻”") == ["民警", "辅警", "巡逻"]


def test_spans_point_into_the_text():
    text = "消防救援大队的民警"
    assert Tokenizer().words_with_spans(text)[0] == ("消防救援大队", 0, 6)


def test_domain_dictionary_has_no_comment_lines_or_duplicates():
    words = load_domain_words()
    assert len(words) > 150
    assert len(set(words)) == len(words)
    assert not any(w.startswith("#") for w in words)


def test_tokenizer_pickles_without_its_jieba_state():
    tokenizer = Tokenizer(extra_words=("桐检",))
    tokenizer.warm()
    clone = pickle.loads(pickle.dumps(tokenizer))
    assert clone._jieba is None
    assert clone.words("通讯员桐检") == tokenizer.words("通讯员桐检")
