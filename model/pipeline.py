"""The classification pipeline and the trained model that wraps it.

text -> normalise -> (word 1-2-grams from jieba | character 1-3-grams) tf-idf -> linear SVM
with sigmoid calibration -> one probability per topic. Texts that belong to no topic are
trained as an internal ``__none__`` class, whose share of probability keeps every topic below
its threshold; it never appears in the output.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import FeatureUnion, Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from model.explain import analyse
from model.explain import explain as explain_terms
from model.fastpath import CompiledModel, FeatureRow
from model.normalize import normalize
from model.prediction import Prediction, TopicScore
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
    _compiled: CompiledModel | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
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
        """Load the tokenizer dictionaries, compile the fast path, classify and explain once."""
        self.tokenizer.warm()
        self.predict(["近日，某派出所民警在巡逻中查获一辆被盗电动车。"], explain=True)

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
        """Predict every text; ``explain`` adds the deciding terms with their spans.

        With ``explain`` each text is normalised with offsets and cut once, and both the
        features and the explanation come from that one pass.
        """
        if not texts:
            return []
        if not explain:
            return [self._decide(probs) for probs in self.probabilities(texts)]
        compiled = self.compiled
        analyses = [analyse(text, self.tokenizer) for text in texts]
        rows = [compiled.row(a.normalized.text, a.tokens) for a in analyses]
        proba = compiled.probabilities(rows)[:, self._topic_columns()]
        results = []
        for analysis, row, probs in zip(analyses, rows, proba, strict=True):
            prediction = self._decide(probs)
            weights = compiled.topic_weights(prediction.topic)
            terms = explain_terms(analysis, row, weights, compiled, self.explain_terms)
            results.append(Prediction(prediction.topics, prediction.labels, prediction.needs_review, terms))
        return results

    def _decide(self, probs: np.ndarray) -> Prediction:
        return decide(probs, self.taxonomy, self.thresholds, self.review_margin)


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
