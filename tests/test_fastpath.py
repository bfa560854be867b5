"""The compiled fast path gives the scikit-learn pipeline's probabilities on every corpus record."""

import numpy as np
import pytest

from model import fastpath
from model.lead import lead_of
from model.normalize import normalize
from model.prediction import ReviewRule
from model.predictor import decide, decide_all
from training.corpus import load_bundled


@pytest.mark.slow
def test_the_data_only_file_gives_the_pipelines_probabilities_on_every_record_and_paragraph(
    served, topic_model, taxonomy
):
    records = load_bundled(taxonomy)
    texts = [r.text for r in records]
    texts += [line for r in records if r.kind == "item" for line in r.text.split("\n")]
    fast = served.model.probabilities(texts)
    reference = topic_model.reference_probabilities(texts)
    assert fast.shape == reference.shape == (len(texts), len(taxonomy))
    assert np.abs(fast - reference).max() < 1e-9
    assert (fast.argmax(axis=1) == reference.argmax(axis=1)).all()


def test_the_data_only_file_equals_the_pipeline_on_a_sample_of_every_kind(served, topic_model, taxonomy):
    """The fast lane's check: every 20th record, items, paragraphs, out-of-scope texts and leads alike."""
    records = load_bundled(taxonomy)[::20]
    texts = [r.text for r in records] + [r.text.split("\n")[-1] for r in records if r.kind == "item"]
    fast, reference = served.model.probabilities(texts), topic_model.reference_probabilities(texts)
    assert np.abs(fast - reference).max() < 1e-9


def test_fast_path_on_texts_with_no_known_feature(served, topic_model):
    texts = ["", "@@@@", "\x00", "ﾟ∀ﾟ"]
    assert np.abs(served.model.probabilities(texts) - topic_model.reference_probabilities(texts)).max() < 1e-9


def _same_rows(first, second) -> bool:
    return len(first) == len(second) and all(
        np.array_equal(first.row(i).columns, second.row(i).columns)
        and np.allclose(first.row(i).values, second.row(i).values, rtol=0, atol=1e-12)
        for i in range(len(first))
    )


def _batch_inputs(taxonomy, every: int = 1) -> tuple[list[str], list[str]]:
    records = load_bundled(taxonomy)[::every]
    texts = [r.text for r in records] + [line for r in records if r.kind == "item" for line in r.text.split("\n")]
    # Empty and blank texts between others: a batch joins texts with line breaks, and must not
    # let whitespace runs or empty texts shift any row.
    texts[3:3] = ["", "  ", "汪汪汪叫", ""]
    return [normalize(t) for t in texts], [normalize(lead_of(t)) for t in texts]


@pytest.mark.parametrize("every", [pytest.param(1, marks=pytest.mark.slow), 25])
def test_a_batch_gives_each_text_the_row_it_gets_alone(served, taxonomy, every):
    compiled = served.model.compiled
    texts, leads = _batch_inputs(taxonomy, every)
    batch = compiled.features(texts, leads=leads)
    alone = [compiled.features([t], leads=[lead]) for t, lead in zip(texts, leads, strict=True)]
    assert len(batch) == len(texts)
    for index, single in enumerate(alone):
        assert _same_rows(one_row(batch, index), single), texts[index]


def one_row(batch, index):
    """Row ``index`` of a batch as a batch of one."""
    row = batch.row(index)
    return type(batch)(np.array([0, len(row.columns)]), row.columns, row.values)


@pytest.mark.parametrize("every", [pytest.param(1, marks=pytest.mark.slow), 25])
def test_a_lead_read_from_its_texts_occurrences_equals_the_lead_cut_on_its_own(served, taxonomy, every, monkeypatch):
    compiled = served.model.compiled
    texts, leads = _batch_inputs(taxonomy, every)
    reused = compiled.features(texts, leads=leads)
    assert sum(fastpath._lead_length(t, lead) >= 0 for t, lead in zip(texts, leads, strict=True)) > len(texts) / 2
    monkeypatch.setattr(fastpath, "_lead_length", lambda text, lead: -1)
    assert _same_rows(reused, compiled.features(texts, leads=leads))


def test_a_lead_that_ends_inside_a_run_of_letters_is_cut_on_its_own():
    assert fastpath._lead_length("警方通报。随后", "警方通报。") == 5
    assert fastpath._lead_length("法院判决书", "法院判决") == -1  # 书 may join 决 in a word
    assert fastpath._lead_length("abc def", "abc") == 3
    assert fastpath._lead_length("另一段", "警方") == -1
    assert fastpath._lead_length("警方", "警方") == 2


def test_deciding_a_batch_at_once_gives_what_deciding_each_row_gives(taxonomy):
    rng = np.random.default_rng(7)
    proba = rng.dirichlet(np.ones(len(taxonomy)), size=300)
    proba[:20] = 1 / len(taxonomy)  # all tied: taxonomy order decides
    proba[20:40, :3] = proba[20:40, :1]  # three-way ties among the first topics
    thresholds = {topic: 0.3 + 0.02 * i for i, topic in enumerate(taxonomy.ids)}
    review = ReviewRule(min_score=0.5, min_margin=0.1)
    expected = [decide(row, taxonomy, thresholds, review) for row in proba]
    assert decide_all(proba, taxonomy, thresholds, review) == expected
    assert decide_all(np.empty((0, len(taxonomy))), taxonomy, thresholds, review) == []


def test_looking_up_only_pairs_of_known_words_finds_every_pair(served, taxonomy, monkeypatch):
    compiled = served.model.compiled
    assert compiled.pairs_of_known_words  # the pipeline prunes its vocabulary by frequency only
    texts, leads = _batch_inputs(taxonomy, 10)
    fewer = compiled.features(texts, leads=leads)
    monkeypatch.setattr(compiled, "pairs_of_known_words", False)
    assert _same_rows(fewer, compiled.features(texts, leads=leads))


def test_a_model_that_reads_leads_the_format_2_way_still_equals_its_pipeline(topic_model, taxonomy):
    """Format-2 models found every lead in the original text; loaded today they must answer as trained."""
    import copy

    from model.pipeline import TopicModel

    older = copy.deepcopy(topic_model.pipeline)
    older.named_steps["features"].lead_from_normalized = False
    model = TopicModel(older, taxonomy, topic_model.thresholds, topic_model.review)
    assert not model.compiled.lead_from_normalized
    records = load_bundled(taxonomy)[::15]
    texts = [r.text for r in records] + [r.text.split("\n")[-1] for r in records if r.kind == "item"]
    assert np.abs(model.probabilities(texts) - model.reference_probabilities(texts)).max() < 1e-9


def test_feature_names_are_the_vocabularys_words_and_the_character_n_grams(served):
    compiled = served.model.compiled
    words = {column: word for word, column in compiled.word_index.items()}
    grams = {int(c): fastpath._gram_of(int(k)) for k, c in zip(compiled.char_keys, compiled.char_columns, strict=True)}
    columns = list(range(0, len(compiled.idf), 97)) + [compiled.n_words - 1, compiled.n_words, len(compiled.idf) - 1]
    expected = [words[c] if c < compiled.n_words else grams[c] for c in columns]
    assert compiled.feature_names(columns) == expected
    # A lead-block column is named as the whole-text column it repeats; one column alone too.
    assert compiled.feature_names([c + compiled.n_main for c in columns]) == expected
    assert [compiled.feature_name(c) for c in columns[:5]] == expected[:5]
    assert compiled.feature_names([]) == []
    # Word columns (words and word pairs) are told from character n-gram columns in both blocks.
    kinds = [c < compiled.n_words for c in columns]
    assert compiled.named_columns(columns) == (expected, kinds)
    assert compiled.named_columns([c + compiled.n_main for c in columns]) == (expected, kinds)
    assert compiled.named_columns(columns[:1]) == (expected[:1], kinds[:1])
    # An organ-block column is named as the word column it repeats.
    organs = compiled.organ_columns[::40].tolist()
    organ_block = [compiled.organ_offset + k for k in range(0, len(compiled.organ_columns), 40)]
    assert len(organs) >= 3 and compiled.named_columns(organ_block) == (
        compiled.feature_names(organs),
        [True] * len(organs),
    )


@pytest.mark.parametrize("every", [pytest.param(1, marks=pytest.mark.slow), 25])
def test_features_and_words_gives_the_features_and_the_tokenizers_words_from_one_cut(served, taxonomy, every):
    compiled = served.model.compiled
    texts, leads = _batch_inputs(taxonomy, every)
    texts[5:5] = ["iPhone 12 在  派出所 被找回", "a\u3000b", "3.5万元"]
    leads[5:5] = ["iPhone 12 在  派出所 被找回", "a\u3000b", "3.5万元"]
    features, words = compiled.features_and_words(texts, leads)
    assert _same_rows(features, compiled.features(texts, leads=leads))
    assert words == [compiled.tokenizer.words_with_spans(text) for text in texts]
    assert all(text[start:end] == word for text, found in zip(texts, words, strict=True) for word, start, end in found)


def test_the_hash_tables_are_saved_with_the_model_and_equal_fresh_ones(model_root):
    from model.artifact import load_model
    from model.fastpath import GramTable

    compiled = load_model(model_root).model.compiled
    # Loaded, not built: the tables come from the data-only file.
    assert {"_gram_table", "_pair_table", "_word_table"} <= set(vars(compiled))
    fresh = GramTable(compiled.char_keys, compiled.char_columns)
    assert np.array_equal(compiled._gram_table.keys, fresh.keys)
    assert np.array_equal(compiled._gram_table.columns, fresh.columns)
    assert compiled._gram_table.probes == fresh.probes
    keys = np.concatenate([compiled.char_keys[::50], compiled.char_keys[::50] + np.uint64(1)])
    assert np.array_equal(compiled._gram_table.find(keys), fresh.find(keys))


def test_the_saved_word_table_finds_every_short_word_and_nothing_else(model_root):
    from model.artifact import load_model

    compiled = load_model(model_root).model.compiled
    short = [(w, c) for w, c in compiled.word_index.items() if len(w) <= 3 and " " not in w]
    keys = np.array([fastpath._gram_key(w) for w, _ in short], dtype=np.uint64)
    assert np.array_equal(compiled._word_table.find(keys), [c for _, c in short])
    # Character n-grams that are no word: the table must miss them.
    grams = compiled.char_keys[~np.isin(compiled.char_keys, keys)][:2000]
    assert (compiled._word_table.find(grams) == -1).all()


# Letters and digits past the Basic Multilingual Plane, underscores, mixed runs, superscripts,
# double spaces and an ideographic space: what the code-point word lookup must decide as
# str.isalnum and the word pattern do.
_AWKWARD = [
    "𠀀𠀁字案件 a\u3000b 𝟘𝟙",
    "ab_cd 3.5% x²y 民警__巡逻 ①号楼",
    "公安局  派出所   民警   联合执法",
    "2024年Q3 诈骗案 😀😀 检察院提起公诉",
    "_ - . % #",
]


@pytest.mark.parametrize("every", [pytest.param(1, marks=pytest.mark.slow), 20])
def test_words_found_by_code_point_equal_words_looked_up_one_by_one(served, taxonomy, every, monkeypatch):
    compiled = served.model.compiled
    texts, leads = _batch_inputs(taxonomy, every)
    # A pair of the vocabulary with a non-word between its words (a non-word token never breaks a pair).
    first, second = next(
        term.split(" ")
        for term in compiled.word_index
        if " " in term and all(len(w) == 2 and "\u4e00" <= w[0] <= "\u9fff" for w in term.split(" "))
    )
    awkward = [*_AWKWARD, f"{first}_{second}，{first}😀{second} {first}__{second}·{first}𝟘{second}"]
    texts += [normalize(t) for t in awkward]
    leads += [normalize(lead_of(t)) for t in awkward]
    by_code_point = compiled.features(texts, leads=leads)
    calls = []

    def one_by_one(self, tokens, lengths, starts, points):
        calls.append(len(tokens))
        keep, breaks = fastpath._words_and_breaks(tokens, lengths)
        columns = [self.word_index.get(t, -1) for t, kept in zip(tokens, keep, strict=True) if kept]
        return keep, breaks, np.array(columns, dtype=np.int64)

    monkeypatch.setattr(type(compiled), "_known_tokens", one_by_one)
    assert _same_rows(by_code_point, compiled.features(texts, leads=leads))
    assert calls


def test_predicting_pauses_the_cycle_collector_and_restores_it(served, monkeypatch):
    import gc

    compiled = served.model.compiled
    seen = []
    scored = compiled.probabilities
    monkeypatch.setattr(compiled, "probabilities", lambda features: seen.append(gc.isenabled()) or scored(features))
    assert served.model.predict(["临海市公安局开展夜间巡逻"], explain=False)
    assert seen == [False] and gc.isenabled()
    gc.disable()
    try:  # a caller that turned the collector off keeps it off
        served.model.predict(["临海市公安局开展夜间巡逻"], explain=False)
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_pauses_of_the_cycle_collector_nest_across_threads_and_errors():
    import gc
    import threading

    from model.predictor import collector_paused

    inside, leave_first, first_left, leave_second = (threading.Event() for _ in range(4))
    under_second = []

    def first():
        with collector_paused():
            inside.set()
            leave_first.wait(10)
        first_left.set()

    def second():
        inside.wait(10)
        with collector_paused():
            leave_first.set()
            first_left.wait(10)
            under_second.append(gc.isenabled())  # the first one's end must not resume it here
            leave_second.wait(10)

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    first_left.wait(10)
    assert not gc.isenabled()
    leave_second.set()
    for thread in threads:
        thread.join(10)
    assert under_second == [False] and gc.isenabled()
    with pytest.raises(ValueError), collector_paused():
        raise ValueError("inside")
    assert gc.isenabled()


def test_the_code_point_table_says_what_str_isalnum_says_of_every_character():
    points = np.arange(0x110000, dtype=np.uint32)
    points = points[(points < 0xD800) | (points > 0xDFFF)]  # lone surrogates never reach it
    expected = np.fromiter((chr(p).isalnum() for p in points.tolist()), dtype=bool, count=len(points))
    assert np.array_equal(fastpath._alnum(points[::-1])[::-1], expected)


def test_a_model_with_an_organ_block_and_no_lead_block_equals_its_pipeline(taxonomy):
    """The organ block follows the lead block, or the whole-text block when a model has no lead block."""
    from model.pipeline import PipelineSettings, TopicModel, build_pipeline
    from model.tokenizer import Tokenizer

    records = load_bundled(taxonomy)
    train = [r for r in records[::6] if r.topic]
    pipeline = build_pipeline(PipelineSettings(lead_weight=0.0, organ_weight=0.5, calibration_folds=2), Tokenizer())
    pipeline.fit([r.text for r in train], [r.topic for r in train])
    model = TopicModel(pipeline, taxonomy, {t: 0.5 for t in taxonomy.ids})
    compiled = model.compiled
    assert compiled.organ_offset == compiled.n_main and len(compiled.organ_columns) > 50
    texts = [r.text for r in records[1::15]] + ["近日，某监狱民警在公交车上擒获一名扒手，随后报警。"]
    assert np.abs(model.probabilities(texts) - model.reference_probabilities(texts)).max() < 1e-9
    # Its columns are named as the word columns they repeat.
    organs = compiled.organ_columns[:5].tolist()
    assert compiled.named_columns([c + compiled.n_main for c in range(5)]) == (
        compiled.feature_names(organs),
        [True] * 5,
    )
