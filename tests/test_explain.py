"""Explanation terms: the rules of model.explain on a hand-made row, and whole batches explained at once."""

import numpy as np
import pytest

from model.explain import MAX_TERM_CHARS, Analysis, explain_all
from model.fastpath import Features
from model.normalize import normalize_with_offsets
from model.predictor import BATCH_TEXTS
from training.corpus import load_bundled

TEXT = "最高人民法院、最高人民检察院联合发布解释"
WORDS = [("最高人民法院", 0, 6), ("最高人民检察院", 7, 14), ("联合", 14, 16), ("发布", 16, 18), ("解释", 18, 20)]


class Compiled:
    """The part of a compiled model explain_all reads: one class, and hand-named word columns."""

    estimator_classes = ["topic"]

    def __init__(self, names, weights):
        self.names, self.n_main = names, len(names)
        self.coef_t = np.array(weights, dtype=float)[:, None]

    def named_columns(self, columns):
        return [self.names[c] for c in columns], [True] * len(columns)


def one_row(columns, values):
    """A batch of one feature row."""
    return Features(np.array([0, len(columns)]), columns, values)


def terms_of(names, weights):
    analysis = Analysis(normalize_with_offsets(TEXT), WORDS)
    row = one_row(np.arange(len(names)), np.ones(len(names)))
    (found,) = explain_all([analysis], row, ["topic"], Compiled(names, weights), limit=10)
    return {term.term: (pytest.approx(term.weight), term.spans) for term in found}


def test_a_pair_of_words_that_fits_is_one_term():
    assert terms_of(["联合 发布"], [1.0]) == {"联合发布": (1.0, ((14, 18),))}


def test_a_pair_of_words_longer_than_the_limit_is_reported_as_its_two_words():
    assert len("最高人民法院、最高人民检察院") > MAX_TERM_CHARS
    terms = terms_of(["最高人民法院 最高人民检察院", "解释"], [1.3, 0.5])
    # The pair's weight is shared by length: 6 and 7 of its 13 word characters.
    assert terms == {
        "最高人民法院": (0.6, ((0, 6),)),
        "最高人民检察院": (0.7, ((7, 14),)),
        "解释": (0.5, ((18, 20),)),
    }


def test_a_batch_explained_gives_each_text_its_answer_alone_and_the_unexplained_scores(served, taxonomy):
    """Over BATCH_TEXTS records, so the batch is explained in parts; every text as it is alone."""
    predictor = served.model
    records = load_bundled(taxonomy)[::9]
    texts = [r.text for r in records] + ["", "汪汪汪叫", "iPhone 12 在  派出所 被找回"]
    assert len(texts) > BATCH_TEXTS
    batch = predictor.predict(texts)
    plain = predictor.predict(texts, explain=False)
    assert [(p.topics, p.labels, p.needs_review) for p in batch] == [
        (p.topics, p.labels, p.needs_review) for p in plain
    ]
    assert sum(bool(p.explanation) for p in batch) > len(texts) * 0.9
    for text, prediction in list(zip(texts, batch, strict=True))[::7]:
        assert predictor.predict([text])[0] == prediction, text


def test_each_row_explained_alone_gets_the_terms_the_batch_gives_it(served, taxonomy):
    """Each row's heaviest contributions are picked within that row, whatever its neighbours hold."""
    compiled = served.model.compiled
    texts = [normalize_with_offsets(r.text) for r in load_bundled(taxonomy)[::40]]
    features, words = compiled.features_and_words([t.text for t in texts])
    analyses = [Analysis(t, w) for t, w in zip(texts, words, strict=True)]
    labels = [compiled.estimator_classes[i % len(taxonomy)] for i in range(len(texts))]
    together = explain_all(analyses, features, labels, compiled, 8)
    assert sum(bool(terms) for terms in together) > len(texts) * 0.9
    for index, (analysis, label) in enumerate(zip(analyses, labels, strict=True)):
        row = features.row(index)
        assert explain_all([analysis], one_row(row.columns, row.values), [label], compiled, 8) == [together[index]]
