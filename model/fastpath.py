"""The fitted pipeline compiled to plain arrays, for speed.

scikit-learn's vectorizers, FeatureUnion and calibrated classifier check and convert their
input on every call; for one paragraph that overhead is most of the time. This module keeps
the fitted numbers (vocabularies, idf, SVM coefficients, sigmoid calibrators) and computes the
same tf-idf, decision values and calibrated probabilities directly. The test suite checks
that its probabilities equal the pipeline's on every corpus record.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass

import numpy as np
from scipy import sparse
from scipy.special import expit

# scikit-learn's char analyzer collapses whitespace runs the same way before cutting n-grams.
_WHITE_SPACES = re.compile(r"\s\s+")


@dataclass(frozen=True)
class FeatureRow:
    """One text's non-zero features: column indices and tf-idf values (each block l2-normalised)."""

    columns: np.ndarray
    values: np.ndarray


class CompiledModel:
    """Features and probabilities of a fitted pipeline without scikit-learn in the loop."""

    def __init__(self, pipeline, tokenizer):
        (_, words), (_, chars) = pipeline.named_steps["features"].transformer_list
        self.tokenizer = tokenizer
        self.n_words = len(words.vocabulary_)
        self.word_index = dict(words.vocabulary_)
        self.char_index = {gram: column + self.n_words for gram, column in chars.vocabulary_.items()}
        self.char_sizes = range(chars.ngram_range[0], chars.ngram_range[1] + 1)
        self.idf = np.concatenate([words.idf_, chars.idf_])
        classify = pipeline.named_steps["classify"]
        calibrated = classify.calibrated_classifiers_[0]
        estimator = calibrated.estimator
        if len(classify.classes_) < 3 or calibrated.method != "sigmoid" or len(classify.calibrated_classifiers_) != 1:
            raise ValueError("the fast path covers a multi-class, sigmoid-calibrated, single-estimator pipeline")
        self.classes = np.asarray(classify.classes_)
        self.coef_t = np.ascontiguousarray(estimator.coef_.T)
        self.intercept = np.asarray(estimator.intercept_, dtype=np.float64)
        positions = [list(self.classes).index(c) for c in estimator.classes_]
        self.positions = np.asarray(positions)
        self.a = np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64)
        self.b = np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64)

    def row(self, normalized: str) -> FeatureRow:
        """The feature row of a normalised text."""
        words = self.tokenizer.words(normalized)
        text = _WHITE_SPACES.sub(" ", normalized)
        features = words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]
        # dict.get mapped in C over every feature, then counted in C: the per-text hot loop.
        known = [c for c in map(self.word_index.get, features) if c is not None]
        grams = [text[i : i + n] for n in self.char_sizes for i in range(len(text) - n + 1)]
        known += [c for c in map(self.char_index.get, grams) if c is not None]
        columns = Counter(known)
        if not columns:
            return FeatureRow(np.empty(0, dtype=np.int64), np.empty(0))
        cols = np.fromiter(columns.keys(), dtype=np.int64, count=len(columns))
        values = (np.log(np.fromiter(columns.values(), dtype=np.float64, count=len(columns))) + 1.0) * self.idf[cols]
        in_words = cols < self.n_words
        for block in (in_words, ~in_words):
            norm = np.sqrt(np.dot(values[block], values[block]))
            if norm > 0:
                values[block] /= norm
        return FeatureRow(cols, values)

    def matrix(self, rows: list[FeatureRow]) -> sparse.csr_matrix:
        """The rows as a CSR matrix shaped like the pipeline's feature matrix."""
        indptr = np.zeros(len(rows) + 1, dtype=np.int64)
        np.cumsum([len(r.columns) for r in rows], out=indptr[1:])
        columns = np.concatenate([r.columns for r in rows]) if rows else np.empty(0, dtype=np.int64)
        values = np.concatenate([r.values for r in rows]) if rows else np.empty(0)
        return sparse.csr_matrix((values, columns, indptr), shape=(len(rows), len(self.idf)))

    def probabilities(self, rows: list[FeatureRow]) -> np.ndarray:
        """Calibrated probabilities, one column per class of the pipeline (its order)."""
        decision = np.asarray(self.matrix(rows) @ self.coef_t) + self.intercept
        proba = np.zeros((len(rows), len(self.classes)))
        proba[:, self.positions] = expit(-(self.a * decision + self.b))
        denominator = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1 / len(self.classes))
        proba = np.divide(proba, denominator, out=uniform, where=denominator != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba
