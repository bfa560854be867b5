"""The fitted pipeline compiled to plain arrays, for speed.

scikit-learn's vectorizers, FeatureUnion and calibrated classifier check and convert their
input on every call; for one paragraph that overhead is most of the time. This module keeps
the fitted numbers (vocabularies, idf, SVM coefficients, sigmoid calibrators) and computes the
same tf-idf, decision values and calibrated probabilities directly. The test suite checks
that its probabilities equal the pipeline's on every corpus record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

# Rows are turned into decision values this many at a time (bounds the temporary memory).
CHUNK = 512
# scikit-learn's char analyzer collapses whitespace runs the same way before cutting n-grams.
_WHITE_SPACES = re.compile(r"\s\s+")


def _gram_of(key: int) -> str:
    """The character n-gram a packed key stands for (the inverse of :func:`_gram_key`)."""
    chars = []
    while key:
        chars.append(chr((key & 0x1FFFFF) - 1))
        key >>= 21
    return "".join(reversed(chars))


def _gram_key(gram: str) -> int:
    """A character n-gram (n <= 3) as one integer: each code point + 1 in 21 bits, first char highest.

    Code points are below 0x110000, so + 1 fits 21 bits and the first character is never zero:
    unigrams, bigrams and trigrams fall in disjoint ranges and never collide.
    """
    key = 0
    for ch in gram:
        key = (key << 21) | (ord(ch) + 1)
    return key


@dataclass(frozen=True)
class FeatureRow:
    """One text's non-zero features: column indices and tf-idf values (each block l2-normalised)."""

    columns: np.ndarray
    values: np.ndarray


class CompiledModel:
    """Features and probabilities of a fitted pipeline as plain arrays, without scikit-learn.

    Built from a fitted pipeline (:meth:`from_pipeline`) or from the arrays and settings that
    :meth:`to_arrays` gives, which the artifact stores as a data-only file.
    """

    def __init__(self, arrays: dict[str, np.ndarray], settings: dict, tokenizer, word_index: dict | None = None):
        self.tokenizer = tokenizer
        self.lead_weight = float(settings["lead_weight"])
        self.char_sizes = range(settings["char_ngram_range"][0], settings["char_ngram_range"][1] + 1)
        if self.char_sizes.stop > 4:
            raise ValueError("the fast path packs character n-grams of at most 3 characters into integers")
        self.classes = np.asarray(settings["classes"])
        self.estimator_classes = list(settings["estimator_classes"])
        self.char_keys = arrays["char_keys"]
        self.char_columns = arrays["char_columns"]
        self.idf = arrays["idf"]
        self.coef_t = arrays["coef_t"]
        self.intercept = arrays["intercept"]
        self.positions = arrays["positions"]
        self.a, self.b = arrays["calibration_a"], arrays["calibration_b"]
        self.n_words = int(settings["n_words"])
        self.n_main = len(self.idf)  # the lead block's columns follow, in the same order
        self._word_names: list[str] | None = None
        if word_index is None:  # from stored arrays: the vocabulary is its words joined by newlines
            self._word_names = bytes(arrays["word_names"]).decode("utf-8").split("\n") if self.n_words else []
            word_index = {word: column for column, word in enumerate(self._word_names)}
        self.word_index = word_index
        self._columns: dict[tuple[str, ...], np.ndarray] = {}
        self._char_keys_by_column: np.ndarray | None = None

    @classmethod
    def from_pipeline(cls, pipeline, tokenizer) -> CompiledModel:
        """The fast path of a fitted pipeline (its vocabulary dict is shared, not copied)."""
        features = pipeline.named_steps["features"]
        if hasattr(features, "transformer_list"):  # format 1: words and chars in a FeatureUnion, no lead block
            (_, words), (_, chars) = features.transformer_list
            lead_weight = 0.0
        else:
            words, chars, lead_weight = features.words_, features.chars_, features.lead_weight
        classify = pipeline.named_steps["classify"]
        calibrated = classify.calibrated_classifiers_[0]
        estimator = calibrated.estimator
        if len(classify.classes_) < 3 or calibrated.method != "sigmoid" or len(classify.calibrated_classifiers_) != 1:
            raise ValueError("the fast path covers a multi-class, sigmoid-calibrated, single-estimator pipeline")
        n_words = len(words.vocabulary_)
        grams = list(chars.vocabulary_)
        keys = np.array([_gram_key(gram) for gram in grams], dtype=np.uint64)
        order = np.argsort(keys)
        classes = [str(c) for c in classify.classes_]
        arrays = {
            "char_keys": keys[order],
            "char_columns": np.array([chars.vocabulary_[grams[i]] + n_words for i in order], dtype=np.int64),
            "idf": np.concatenate([words.idf_, chars.idf_]),
            "coef_t": np.ascontiguousarray(estimator.coef_.T, dtype=np.float64),
            "intercept": np.asarray(estimator.intercept_, dtype=np.float64),
            "positions": np.array([classes.index(str(c)) for c in estimator.classes_], dtype=np.int64),
            "calibration_a": np.array([c.a_ for c in calibrated.calibrators], dtype=np.float64),
            "calibration_b": np.array([c.b_ for c in calibrated.calibrators], dtype=np.float64),
        }
        settings = {
            "lead_weight": float(lead_weight),
            "char_ngram_range": list(chars.ngram_range),
            "classes": classes,
            "estimator_classes": [str(c) for c in estimator.classes_],
            "n_words": n_words,
        }
        return cls(arrays, settings, tokenizer, word_index=words.vocabulary_)

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        """Everything the fast path needs, as named arrays and JSON-ready settings."""
        names = "\n".join(self.feature_name(column) for column in range(self.n_words))
        arrays = {
            "word_names": np.frombuffer(names.encode("utf-8"), dtype=np.uint8),
            "char_keys": self.char_keys,
            "char_columns": self.char_columns,
            "idf": self.idf,
            "coef_t": self.coef_t,
            "intercept": self.intercept,
            "positions": self.positions,
            "calibration_a": self.a,
            "calibration_b": self.b,
        }
        settings = {
            "lead_weight": self.lead_weight,
            "char_ngram_range": [self.char_sizes.start, self.char_sizes.stop - 1],
            "classes": [str(c) for c in self.classes],
            "estimator_classes": self.estimator_classes,
            "n_words": self.n_words,
        }
        return arrays, settings

    def columns_for(self, labels: tuple[str, ...]) -> np.ndarray:
        """Probability columns of the given class labels, in their order (cached)."""
        cached = self._columns.get(labels)
        if cached is None:
            classes = list(self.classes)
            cached = self._columns[labels] = np.array([classes.index(label) for label in labels])
        return cached

    def topic_weights(self, label: str) -> np.ndarray:
        """The linear model's coefficients for one class, one per feature column."""
        return self.coef_t[:, self.estimator_classes.index(label)]

    def base_column(self, column: int) -> int:
        """The whole-text column a lead-block column repeats (others are their own)."""
        return column - self.n_main if column >= self.n_main else column

    def feature_name(self, column: int) -> str:
        """A column's feature: a word, two words joined by a space, or a character n-gram."""
        column = self.base_column(column)
        if column < self.n_words:
            if self._word_names is None:
                names = [""] * self.n_words
                for word, index in self.word_index.items():
                    names[index] = word
                self._word_names = names
            return self._word_names[column]
        if self._char_keys_by_column is None:
            keys = np.zeros(len(self.idf) - self.n_words, dtype=np.uint64)
            keys[self.char_columns - self.n_words] = self.char_keys
            self._char_keys_by_column = keys
        return _gram_of(int(self._char_keys_by_column[column - self.n_words]))

    def row(self, normalized: str, words: list[str] | None = None, lead: str | None = None) -> FeatureRow:
        """The feature row of a normalised text and its normalised ``lead``.

        ``words`` are the text's word tokens when already cut.
        """
        main = self._block(normalized, words)
        if not self.lead_weight or lead is None:
            return main
        block = self._block(lead, None)
        return FeatureRow(
            np.concatenate([main.columns, block.columns + self.n_main]),
            np.concatenate([main.values, block.values * self.lead_weight]),
        )

    def _block(self, normalized: str, words: list[str] | None) -> FeatureRow:
        """Word and character tf-idf of one normalised text, each l2-normalised."""
        if words is None:
            words = self.tokenizer.words(normalized)
        # map/zip/join run in C; this is the per-text hot path.
        pairs = map(" ".join, zip(words, words[1:], strict=False))
        known = [c for c in map(self.word_index.get, [*words, *pairs]) if c is not None]
        char_columns = self._char_columns(_WHITE_SPACES.sub(" ", normalized))
        all_columns = np.concatenate([np.array(known, dtype=np.int64), char_columns])
        if not len(all_columns):
            return FeatureRow(np.empty(0, dtype=np.int64), np.empty(0))
        cols, counts = np.unique(all_columns, return_counts=True)
        values = (np.log(counts) + 1.0) * self.idf[cols]
        in_words = cols < self.n_words
        for block in (in_words, ~in_words):
            norm = np.sqrt(np.dot(values[block], values[block]))
            if norm > 0:
                values[block] /= norm
        return FeatureRow(cols, values)

    def _char_columns(self, text: str) -> np.ndarray:
        """Columns of every known character n-gram occurrence in ``text`` (repeats included)."""
        if not text:
            return np.empty(0, dtype=np.int64)
        points = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64) + 1
        keys = [points] if 1 in self.char_sizes else []
        if 2 in self.char_sizes:
            keys.append((points[:-1] << 21) | points[1:])
        if 3 in self.char_sizes:
            keys.append((points[:-2] << 42) | (points[1:-1] << 21) | points[2:])
        keys = np.concatenate(keys) if keys else np.empty(0, dtype=np.uint64)
        at = np.searchsorted(self.char_keys, keys)
        at[at == len(self.char_keys)] = 0
        return self.char_columns[at[self.char_keys[at] == keys]]

    def probabilities(self, rows: list[FeatureRow]) -> np.ndarray:
        """Calibrated probabilities, one column per class of the pipeline (its order)."""
        decision = np.empty((len(rows), len(self.intercept)))
        for start in range(0, len(rows), CHUNK):
            decision[start : start + CHUNK] = self._decision(rows[start : start + CHUNK])
        proba = np.zeros((len(rows), len(self.classes)))
        # scikit-learn's sigmoid calibration: 1 / (1 + exp(a * decision + b)).
        proba[:, self.positions] = 1.0 / (1.0 + np.exp(self.a * decision + self.b))
        denominator = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1 / len(self.classes))
        proba = np.divide(proba, denominator, out=uniform, where=denominator != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    def _decision(self, rows: list[FeatureRow]) -> np.ndarray:
        """The linear model's decision values: each row's values times the coefficients of its columns."""
        if len(rows) == 1:  # one text: no bookkeeping
            return (rows[0].values @ self.coef_t[rows[0].columns] + self.intercept)[np.newaxis, :]
        lengths = np.array([len(r.columns) for r in rows])
        decision = np.zeros((len(rows), len(self.intercept)))
        if lengths.sum():
            columns = np.concatenate([r.columns for r in rows])
            values = np.concatenate([r.values for r in rows])
            contributions = values[:, np.newaxis] * self.coef_t[columns]
            starts = np.concatenate([[0], np.cumsum(lengths)[:-1]])
            filled = lengths > 0
            decision[filled] = np.add.reduceat(contributions, starts[filled], axis=0)
        return decision + self.intercept
