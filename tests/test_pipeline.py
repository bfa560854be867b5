"""Predictions from a model trained on the bundled corpus."""

import json

import numpy as np
import pytest

from model.normalize import normalize
from model.pipeline import PipelineSettings, TextFeatures, TopicModel
from model.taxonomy import load_taxonomy
from model.tokenizer import Tokenizer
from training.corpus import Record, load_bundled
from training.train import TrainingError, TrainingOptions, choose_thresholds, train_model

STORIES = {
    "policing": "近日，温州市鹿城区五马派出所民警在夜间巡逻中抓获两名盗窃电动车的犯罪嫌疑人。",
    "traffic": "国庆假期，嘉兴市公安局交警支队在高速出口设卡查处酒驾醉驾，查获酒后驾驶12起。",
    "fire": "昨日凌晨，台州市椒江区一处出租房起火，消防救援大队接警后迅速出动，救出被困群众3人。",
    "anti_drug": "6月26日国际禁毒日前夕，衢州市禁毒办联合学校开展毒品预防教育，300余名学生参加。",
    "anti_fraud": "“我差点就把钱转给了冒充客服的骗子。”民警上门劝阻后，市民王女士下载了国家反诈中心APP。",
    "procuratorate": "湖州市南浔区人民检察院依法对一起污染环境案提起公诉，并向有关部门制发检察建议。",
    "court": "绍兴市柯桥区人民法院公开开庭审理一起故意伤害案，当庭宣判被告人有期徒刑三年。",
    "justice": "今年以来，丽水市莲都区司法局依托人民调解委员会化解邻里纠纷210件，办理法律援助案件80余件。",
    "grassroots": "金华市婺城区城北街道推行网格员“一日三巡”，把矛盾纠纷化解在村社一级。",
    "emergency": "受台风影响，舟山市应急管理局启动防台风应急响应，转移海上作业人员和危旧房群众1200余人。",
    "party": "近日，宁波市公安局海曙分局党委组织全体民警开展主题党日活动，重温入党誓词。",
}


@pytest.mark.parametrize("topic, text", sorted(STORIES.items()))
def test_a_plain_story_of_each_topic_gets_that_topic(topic_model, topic, text):
    prediction = topic_model.predict([text])[0]
    assert prediction.topic == topic
    assert topic in prediction.labels


@pytest.mark.slow
@pytest.mark.parametrize("topic, text", sorted(STORIES.items()))
def test_the_shipped_model_tags_a_plain_story_of_each_topic_without_review(full_model, topic, text):
    """The quick model (half the corpus, two folds) chooses a stricter review rule; the model
    ``newstag train`` ships must leave plain stories unflagged."""
    prediction = full_model.predict([text])[0]
    assert prediction.topic == topic and topic in prediction.labels
    assert not prediction.needs_review


def test_every_topic_is_scored_best_first(topic_model, taxonomy):
    prediction = topic_model.predict([STORIES["fire"]])[0]
    assert [t.topic for t in prediction.topics][0] == "fire"
    assert sorted(t.topic for t in prediction.topics) == sorted(taxonomy.ids)
    scores = [t.score for t in prediction.topics]
    assert scores == sorted(scores, reverse=True)
    assert 0.0 <= min(scores) and max(scores) <= 1.0 and sum(scores) <= 1.0 + 1e-9


def test_labels_are_the_topics_over_their_own_thresholds(topic_model):
    prediction = topic_model.predict([STORIES["court"]])[0]
    expected = [t.topic for t in prediction.topics if t.score >= topic_model.thresholds[t.topic]]
    assert list(prediction.labels) == expected


def test_abbreviated_byline_alone_decides_a_text_without_topic_words(topic_model):
    body = "本报讯 近日，该院在办案中发现辖区一处河道存在污水直排问题，遂依法立案。"
    assert topic_model.predict([f"督促整改\n通讯员 桐检\n{body}"])[0].topic == "procuratorate"


def test_explanation_terms_point_at_themselves_in_the_original_text(topic_model):
    text = "通讯员 嘉消\n本报讯 近日，嘉兴市秀洲区消防救援大队开展高层建筑灭火救援演练。"
    prediction = topic_model.predict([text])[0]
    assert prediction.topic == "fire"
    assert prediction.explanation
    assert all(term.weight > 0 for term in prediction.explanation)
    weights = [term.weight for term in prediction.explanation]
    assert weights == sorted(weights, reverse=True)
    for term in prediction.explanation:
        assert term.spans
        for start, end in term.spans:
            shown = text[start:end]
            assert shown == term.term or term.term in ("消防",) and shown in ("嘉消", "消防")
    # Overlapping n-grams merge into the stretch they cover: the brigade's name is one term.
    assert any("消防救援大队" in term.term and len(term.term) <= 12 for term in prediction.explanation)


def test_near_domain_text_is_flagged_for_review(topic_model, data_dir):
    rows = [json.loads(line) for line in (data_dir / "near_domain.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(rows) >= 50
    flagged = sum(p.needs_review for p in topic_model.predict([r["text"] for r in rows], explain=False))
    assert flagged / len(rows) >= 0.9


def test_to_dict_honours_top_k_and_explain(topic_model):
    prediction = topic_model.predict([STORIES["party"]])[0]
    short = prediction.to_dict(top_k=2, explain=False)
    assert len(short["topics"]) == 2 and "explanation" not in short
    assert set(prediction.to_dict()) == {
        "topic",
        "name",
        "score",
        "labels",
        "needs_review",
        "topics",
        "explanation",
    }


def test_empty_batch_gives_no_predictions(topic_model):
    assert topic_model.predict([]) == []


def _small_corpus(taxonomy, n=6):

    by_topic = {}
    for record in load_bundled(taxonomy):
        by_topic.setdefault(record.topic, [])
        if len(by_topic[record.topic]) < n:
            by_topic[record.topic].append(record)
    return [r for records in by_topic.values() for r in records]


@pytest.mark.slow
def test_training_is_deterministic(taxonomy):
    records = _small_corpus(taxonomy)
    options = TrainingOptions(folds=2, settings=PipelineSettings(calibration_folds=2))
    first, meta1 = train_model(records, [], taxonomy, options)
    second, meta2 = train_model(records, [], taxonomy, options)
    texts = list(STORIES.values())
    assert np.array_equal(first.probabilities(texts), second.probabilities(texts))
    assert meta1["thresholds"] == meta2["thresholds"]


def test_a_topic_without_records_cannot_train(taxonomy):
    records = [r for r in _small_corpus(taxonomy) if r.topic != "party"]
    with pytest.raises(TrainingError, match="party"):
        train_model(records, [], taxonomy, TrainingOptions(folds=2))


def test_thresholds_maximise_f1_within_bounds(taxonomy):
    records = [Record(str(i), "x", "fire" if i < 5 else "traffic") for i in range(10)]
    proba = np.zeros((10, len(taxonomy)))
    fire = taxonomy.ids.index("fire")
    proba[:5, fire] = 0.35
    proba[5:, fire] = 0.2
    thresholds = choose_thresholds(records, proba, taxonomy)
    assert 0.2 < thresholds["fire"] <= 0.35
    assert all(0.15 <= t <= 0.6 for t in thresholds.values())


def test_model_pickles_without_its_compiled_fast_path(topic_model):
    import pickle

    topic_model.predict([STORIES["fire"]])
    clone = pickle.loads(pickle.dumps(topic_model))
    assert isinstance(clone, TopicModel) and clone._compiled is None
    assert clone.predict([STORIES["fire"]])[0].to_dict() == topic_model.predict([STORIES["fire"]])[0].to_dict()


@pytest.mark.slow
def test_in_domain_text_the_model_never_saw_is_rarely_flagged(full_model, taxonomy):
    from training.split import split_gate

    gate = [r for r in split_gate(load_bundled(taxonomy))[1] if r.topic]
    flagged = sum(p.needs_review for p in full_model.predict([r.text for r in gate], explain=False))
    assert len(gate) >= 250
    # Issue 12's floor: at least 85% of topic texts unflagged. (This fixture's 3-fold rule is stricter
    # than the shipped 5-fold one: 11% flagged against 9.5% on the corpus of round 7.)
    assert flagged / len(gate) <= 0.15


def test_fitting_the_features_cuts_each_text_once_and_gives_what_fit_then_transform_gives(monkeypatch):
    tokenizer = Tokenizer()
    texts = [r.text for r in load_bundled(load_taxonomy())[::20]]
    expected = TextFeatures(tokenizer).fit(texts).transform(texts)
    cut = []
    monkeypatch.setattr(tokenizer, "words", lambda text, words=tokenizer.words: cut.append(text) or words(text))
    features = TextFeatures(tokenizer)
    matrix = features.fit_transform(texts)
    # Each text once for its words, once for its lead's (the lead is a shorter text of its own) and
    # once for the first organ it names (the organ block).
    assert len(cut) == 3 * len(texts)
    assert features.words_.vocabulary_ == TextFeatures(tokenizer).fit(texts).words_.vocabulary_
    assert matrix.shape == expected.shape
    assert abs(matrix - expected).max() < 1e-12


def test_the_organ_block_marks_the_first_organ_word_a_text_names():
    from model.pipeline import organ_columns, organ_pattern

    taxonomy = load_taxonomy()
    texts = [r.text for r in load_bundled(taxonomy)[::10]]
    features = TextFeatures(Tokenizer(), organ_weight=0.4)
    matrix = features.fit_transform(texts)
    vocabulary = features.words_.vocabulary_
    n_main = len(vocabulary) + len(features.chars_.vocabulary_)
    organs = features.organ_columns_
    names = {column: word for word, column in vocabulary.items()}
    # Every single word (not a pair) that contains an organ stem, and nothing else.
    assert list(organs) == organ_columns(vocabulary).tolist()
    assert {names[c] for c in organs} == {w for w in vocabulary if " " not in w and organ_pattern().search(w)}
    assert {"监狱", "人民法庭", "派出所", "检察院"} <= {names[c] for c in organs}
    assert not {"调解", "纠纷", "扒手"} & {names[c] for c in organs}
    assert matrix.shape == (len(texts), 2 * n_main + len(organs))
    block = matrix[:, 2 * n_main :].tocsr()
    # One column per text that names an organ, the first one it names, at the block's weight.
    story = "公交车上，一名扒手刚得手就被擒获。出手的是两名下班途中的监狱民警，随后派出所民警赶到，把人带回派出所。"
    first = features.transform([story])[:, 2 * n_main :].tocsr()
    assert first.nnz == 1 and names[organs[first.indices[0]]] == "监狱" and first.data[0] == 0.4
    organ_set, tokenizer = set(organs.tolist()), Tokenizer()
    for row, text in enumerate(texts[:40]):
        named = [w for w in tokenizer.words(normalize(text)) if vocabulary.get(w, -1) in organ_set]
        expected = [names[organs[k]] for k in block[row].indices]
        assert expected == named[:1]
    # Weight 0 leaves the block out.
    plain = TextFeatures(Tokenizer(), organ_weight=0.0)
    assert plain.fit_transform(texts).shape == (len(texts), 2 * n_main)
    assert len(plain.organ_columns_) == 0
