"""Explanation terms built from a feature row: the rules of model.explain on a hand-made row."""

from types import SimpleNamespace

import numpy as np
import pytest

from model.explain import MAX_TERM_CHARS, Analysis, explain
from model.normalize import normalize_with_offsets

TEXT = "最高人民法院、最高人民检察院联合发布解释"
WORDS = [("最高人民法院", 0, 6), ("最高人民检察院", 7, 14), ("联合", 14, 16), ("发布", 16, 18), ("解释", 18, 20)]


class Features:
    """The part of a compiled model explain() reads: column names, and word columns below ``n_words``."""

    def __init__(self, names):
        self.names, self.n_words = names, len(names)

    def feature_names(self, columns):
        return [self.names[c] for c in columns]

    def base_column(self, column):
        return column


def terms_of(names, weights):
    analysis = Analysis(normalize_with_offsets(TEXT), WORDS)
    row = SimpleNamespace(columns=np.arange(len(names)), values=np.ones(len(names)))
    found = explain(analysis, row, np.array(weights), Features(names), limit=10)
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
