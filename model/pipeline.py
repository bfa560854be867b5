"""The classification pipeline and the trained model that wraps it.

text -> normalise -> (word 1-2-grams from jieba | character 1-3-grams) tf-idf -> linear SVM
with sigmoid calibration -> one probability per topic. Texts that belong to no topic are
trained as an internal ``__none__`` class, whose share of probability keeps every topic below
its threshold; it never appears in the output.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from model.fastpath import CompiledModel, FeatureRow
from model.normalize import NormalizedText, normalize, normalize_with_offsets
from model.prediction import Prediction, Term, TopicScore
from model.taxonomy import Taxonomy
from model.tokenizer import Tokenizer

NONE_LABEL = "__none__"


class TextNormalizer(TransformerMixin, BaseEstimator):
    """Pipeline step: raw texts to normalised texts (stateless)."""

    def fit(self, X, y=None):
        self.n_features_in_ = 1
        return self

    def transform(self, X):
        check_is_fitted(self, "n_features_in_")
        return [normalize(text) for text in X]


class WordAnalyzer:
    """TfidfVectorizer analyzer: jieba words and adjacent word pairs of a normalised text."""

    def __init__(self, tokenizer: Tokenizer):
        self.tokenizer = tokenizer

    def __call__(self, text: str) -> list[str]:
        words = self.tokenizer.words(text)
        return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


@dataclass(frozen=True)
class PipelineSettings:
    """Hyper-parameters of the pipeline; recorded in every artifact."""

    C: float = 0.5
    char_ngram_max: int = 3
    word_min_df: int = 2
    char_min_df: int = 2
    calibration_folds: int = 5

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def build_pipeline(settings: PipelineSettings, tokenizer: Tokenizer) -> Pipeline:
    """A fresh, unfitted pipeline."""
    words = TfidfVectorizer(
        analyzer=WordAnalyzer(tokenizer),
        sublinear_tf=True,
        min_df=settings.word_min_df,
        dtype=np.float64,
    )
    chars = TfidfVectorizer(
        analyzer="char",
        ngram_range=(1, settings.char_ngram_max),
        lowercase=False,
        sublinear_tf=True,
        min_df=settings.char_min_df,
        dtype=np.float64,
    )
    classifier = CalibratedClassifierCV(
        LinearSVC(C=settings.C, random_state=0),
        method="sigmoid",
        cv=settings.calibration_folds,
        ensemble=False,
    )
    return Pipeline(
        [
            ("normalize", TextNormalizer()),
            ("features", FeatureUnion([("words", words), ("chars", chars)])),
            ("classify", classifier),
        ]
    )


@dataclass
class TopicModel:
    """A fitted pipeline with its taxonomy, per-topic thresholds and review margin."""

    pipeline: Pipeline
    taxonomy: Taxonomy
    thresholds: dict[str, float]
    review_margin: float = 0.1
    explain_terms: int = 8
    _names: list[str] | None = field(default=None, repr=False, compare=False)
    _compiled: CompiledModel | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_names"] = None
        state["_compiled"] = None
        return state

    @property
    def compiled(self) -> CompiledModel:
        """The fast path: the same pipeline as arrays (built on first use, never pickled)."""
        if self._compiled is None:
            self._compiled = CompiledModel(self.pipeline, self.tokenizer)
        return self._compiled

    @property
    def tokenizer(self) -> Tokenizer:
        return self.pipeline.named_steps["features"].transformer_list[0][1].analyzer.tokenizer

    def warm(self) -> None:
        """Load the tokenizer dictionaries, compile the fast path and feature names, classify once."""
        self.tokenizer.warm()
        self._feature_names()
        self.predict(["预热"], explain=True)

    # -- probabilities ---------------------------------------------------------------------

    def _topic_columns(self) -> np.ndarray:
        return self.compiled.columns_for(self.taxonomy.ids)

    def _rows_and_probabilities(self, texts: list[str]) -> tuple[list[FeatureRow], np.ndarray]:
        """Feature rows of the texts and their topic probabilities (taxonomy order), by the fast path."""
        compiled = self.compiled
        rows = [compiled.row(normalize(t)) for t in texts]
        return rows, compiled.probabilities(rows)[:, self._topic_columns()]

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """One row per text, one column per topic in taxonomy order (the fast path)."""
        return self._rows_and_probabilities(texts)[1]

    def reference_probabilities(self, texts: list[str]) -> np.ndarray:
        """The same through scikit-learn's own pipeline: the reference the fast path must equal."""
        return self.pipeline.predict_proba(texts)[:, self._topic_columns()]

    # -- predictions -----------------------------------------------------------------------

    def predict(self, texts: list[str], explain: bool = True) -> list[Prediction]:
        """Predict every text; ``explain`` adds the deciding terms with their spans."""
        if not texts:
            return []
        rows, proba = self._rows_and_probabilities(texts)
        results = []
        for row, text, probs in zip(rows, texts, proba, strict=True):
            prediction = self._decide(probs)
            if explain:
                terms = self._explain(text, row, prediction.topic)
                prediction = Prediction(prediction.topics, prediction.labels, prediction.needs_review, terms)
            results.append(prediction)
        return results

    def _decide(self, probs: np.ndarray) -> Prediction:
        return decide(probs, self.taxonomy, self.thresholds, self.review_margin)

    # -- explanations ----------------------------------------------------------------------

    def _feature_names(self) -> list[str]:
        """The feature of every column of the feature matrix (word columns first)."""
        if self._names is None:
            names: list[str] = []
            for _, vectorizer in self.pipeline.named_steps["features"].transformer_list:
                names.extend(vectorizer.get_feature_names_out().tolist())
            self._names = names
        return self._names

    def _coefficients(self) -> np.ndarray:
        classify = self.pipeline.named_steps["classify"]
        check_is_fitted(classify)
        return classify.calibrated_classifiers_[0].estimator.coef_

    def _explain(self, text: str, row: FeatureRow, topic: str) -> tuple[Term, ...]:
        classes = list(self.pipeline.named_steps["classify"].classes_)
        coef = self._coefficients()[classes.index(topic)]
        names = self._feature_names()
        n_words = self.compiled.n_words
        weights: dict[str, float] = defaultdict(float)
        kinds: dict[str, set] = defaultdict(set)
        for index, value in zip(row.columns, row.values, strict=True):
            contribution = float(value * coef[index])
            if contribution <= 0:
                continue
            kind, feature = ("words" if index < n_words else "chars"), names[index]
            display = feature.replace(" ", "") if kind == "words" else feature
            # Character n-grams across punctuation or spaces mean nothing to an editor.
            if kind != "words" and not all(ch.isalnum() for ch in display):
                continue
            weights[display] += contribution
            kinds[display].add(feature if kind == "words" else None)
        candidates = sorted(weights.items(), key=lambda kv: (-kv[1], kv[0]))[: 5 * self.explain_terms]
        if not candidates:
            return ()
        normalized = normalize_with_offsets(text)
        words = self.tokenizer.words_with_spans(normalized.text)
        spans = {term: _spans(term, kinds[term], normalized, words) for term, _ in candidates}
        # A character n-gram found only inside a longer candidate (察 inside 检察) adds its
        # weight to that one; words stay terms of their own.
        kept: dict[str, float] = {}
        for term, weight in sorted(candidates, key=lambda kv: (-len(kv[0]), -kv[1], kv[0])):
            foldable = kinds[term] == {None}
            home = next((k for k in kept if foldable and _covered(spans[term], spans[k])), None)
            if home is None:
                kept[term] = weight
            else:
                kept[home] += weight
        # Then a term found only inside a heavier one (司法局 inside 柯城区司法局) joins it, so an
        # editor sees each stretch of text once.
        merged: dict[str, float] = {}
        for term, weight in sorted(kept.items(), key=lambda kv: (-kv[1], kv[0])):
            home = next((k for k in merged if _covered(spans[term], spans[k])), None)
            if home is None:
                merged[term] = weight
            else:
                merged[home] += weight
        best = sorted(merged.items(), key=lambda kv: (-kv[1], kv[0]))[: self.explain_terms]
        return tuple(Term(term, weight, spans[term]) for term, weight in best)


def _covered(inner: tuple[tuple[int, int], ...], outer: tuple[tuple[int, int], ...]) -> bool:
    """Whether every span of ``inner`` lies inside some span of ``outer``."""
    return bool(inner) and all(any(s >= a and e <= b for a, b in outer) for s, e in inner)


def decide(probs: np.ndarray, taxonomy: Taxonomy, thresholds: dict[str, float], review_margin: float) -> Prediction:
    """A prediction from one row of topic probabilities (taxonomy order)."""
    values = probs.tolist()
    # Best first; Python's sort is stable, so ties keep taxonomy order.
    order = sorted(range(len(values)), key=values.__getitem__, reverse=True)
    ids, topics_of = taxonomy.ids, taxonomy.topics
    topics = tuple(TopicScore(ids[i], topics_of[i].name, values[i]) for i in order)
    labels = tuple(t.topic for t in topics if t.score >= thresholds[t.topic])
    close = len(topics) > 1 and topics[0].score - topics[1].score < review_margin
    return Prediction(topics, labels, needs_review=not labels or close)


def _spans(
    term: str,
    word_features: set,
    normalized: NormalizedText,
    words: list[tuple[str, int, int]],
) -> tuple[tuple[int, int], ...]:
    """Where a term stands in the original text, as merged [start, end) spans."""
    found: set[tuple[int, int]] = set()
    for feature in word_features:
        if feature is None:
            continue
        parts = feature.split(" ")
        for i in range(len(words) - len(parts) + 1):
            if all(words[i + j][0] == part for j, part in enumerate(parts)):
                found.add((words[i][1], words[i + len(parts) - 1][2]))
    if None in word_features or not found:
        start = normalized.text.find(term)
        while start != -1:
            found.add((start, start + len(term)))
            start = normalized.text.find(term, start + 1)
    spans = sorted(normalized.original_span(s, e) for s, e in found)
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(merged[-1][1], end))
        else:
            merged.append((start, end))
    return tuple(merged)
