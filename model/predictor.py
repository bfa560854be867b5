"""Answers of a trained model from its compiled arrays: probabilities, decisions, explanations.

A :class:`Predictor` needs no scikit-learn: the service and the command line load one from a
version's data-only file (:mod:`model.artifact`); training wraps a fitted pipeline in a
:class:`model.pipeline.TopicModel`, which predicts through the same code.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from itertools import compress, repeat

import numpy as np

from model.explain import Analysis, explain_all
from model.fastpath import CompiledModel, Features
from model.lead import normalized_leads
from model.normalize import normalize_all, normalize_with_offsets
from model.prediction import Prediction, ReviewRule, TopicScore
from model.taxonomy import Taxonomy
from model.tokenizer import Tokenizer

# Texts whose features are built and scored together (see Predictor.probabilities).
BATCH_TEXTS = 512

_pause_lock = threading.Lock()
_pauses = 0
_collector_was_enabled = False


@contextmanager
def collector_paused() -> Iterator[None]:
    """Run a block with Python's cycle collector paused, nested and across threads.

    A batch's predictions are a dozen small tuples per text and no reference cycles: the
    collector, which starts after every few hundred new objects and walks the ones still young,
    finds nothing to free among them and took about half the time of building them (a tenth of
    tagging a batch). Reference counting still frees everything as usual; the collector runs
    again when the last paused block ends, if it ran before the first began.
    """
    global _pauses, _collector_was_enabled
    with _pause_lock:
        if _pauses == 0:
            _collector_was_enabled = gc.isenabled()
            gc.disable()
        _pauses += 1
    try:
        yield
    finally:
        with _pause_lock:
            _pauses -= 1
            if _pauses == 0 and _collector_was_enabled:
                gc.enable()


class Predictor:
    """A compiled model with its taxonomy, per-topic thresholds and review rule."""

    def __init__(
        self,
        compiled: CompiledModel,
        taxonomy: Taxonomy,
        thresholds: dict[str, float],
        review: ReviewRule,
        explain_terms: int = 8,
    ):
        self.compiled = compiled
        self.taxonomy = taxonomy
        self.thresholds = thresholds
        self.review = review
        self.explain_terms = explain_terms

    @property
    def tokenizer(self) -> Tokenizer:
        return self.compiled.tokenizer

    def warm(self) -> None:
        """Load the tokenizer dictionaries, compile the fast path, classify and explain once."""
        self.tokenizer.warm()
        self.predict(["近日，某派出所民警在巡逻中查获一辆被盗电动车。"], explain=True)

    # -- probabilities ---------------------------------------------------------------------

    def _topic_probabilities(self, features: Features) -> np.ndarray:
        """The rows' probabilities, one column per topic in taxonomy order (no internal class)."""
        return self.compiled.probabilities(features)[:, self.compiled.columns_for(self.taxonomy.ids)]

    def _leads(self, texts: list[str], normalized: list[str]) -> list[str] | None:
        if not self.compiled.lead_weight:
            return None
        return normalized_leads(texts, normalized, self.compiled.lead_from_normalized)

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """One row per text, one column per topic in taxonomy order (the fast path, batched).

        Texts go through BATCH_TEXTS at a time: the batch's arrays then stay in the processor's
        cache, and a call with a million texts holds no more temporary memory than one with a
        few hundred.
        """
        parts = [np.empty((0, len(self.taxonomy)))]
        for start in range(0, len(texts), BATCH_TEXTS):
            batch = texts[start : start + BATCH_TEXTS]
            normalized = normalize_all(batch)
            features = self.compiled.features(normalized, leads=self._leads(batch, normalized))
            parts.append(self._topic_probabilities(features))
        return np.concatenate(parts)

    # -- predictions -----------------------------------------------------------------------

    def predict(self, texts: list[str], explain: bool = True) -> list[Prediction]:
        """Predict every text; ``explain`` adds the deciding terms with their spans.

        With ``explain`` each text is normalised with offsets and cut once, and both the
        features and the explanation come from that one pass.
        """
        if not texts:
            return []
        with collector_paused():
            return self._predict(texts, explain)

    def _predict(self, texts: list[str], explain: bool) -> list[Prediction]:
        if not explain:
            return decide_all(self.probabilities(texts), self.taxonomy, self.thresholds, self.review)
        return [
            p
            for start in range(0, len(texts), BATCH_TEXTS)
            for p in self._explained(texts[start : start + BATCH_TEXTS])
        ]

    def _explained(self, texts: list[str]) -> list[Prediction]:
        """Predictions with their deciding terms: one normalise (with offsets) and one cut per text."""
        compiled = self.compiled
        normalized = [normalize_with_offsets(text) for text in texts]
        plain = [n.text for n in normalized]
        features, words = compiled.features_and_words(plain, self._leads(texts, plain))
        analyses = [Analysis(n, w) for n, w in zip(normalized, words, strict=True)]
        decisions = decide_all(self._topic_probabilities(features), self.taxonomy, self.thresholds, self.review)
        topics = [prediction.topic for prediction in decisions]
        terms = explain_all(analyses, features, topics, compiled, self.explain_terms)
        return [
            Prediction(prediction.topics, prediction.labels, prediction.needs_review, found)
            for prediction, found in zip(decisions, terms, strict=True)
        ]


def decide(probs: np.ndarray, taxonomy: Taxonomy, thresholds: dict[str, float], review: ReviewRule) -> Prediction:
    """A prediction from one row of topic probabilities (taxonomy order)."""
    values = probs.tolist()
    # Best first; Python's sort is stable, so ties keep taxonomy order.
    order = sorted(range(len(values)), key=values.__getitem__, reverse=True)
    ids, topics_of = taxonomy.ids, taxonomy.topics
    topics = tuple(TopicScore(ids[i], topics_of[i].name, values[i]) for i in order)
    labels = tuple(t.topic for t in topics if t.score >= thresholds[t.topic])
    second = topics[1].score if len(topics) > 1 else 0.0
    return Prediction(topics, labels, needs_review=review.flags(topics[0].score, second, bool(labels)))


def decide_all(
    proba: np.ndarray, taxonomy: Taxonomy, thresholds: dict[str, float], review: ReviewRule
) -> list[Prediction]:
    """What :func:`decide` gives each row of ``proba``, ranked, labelled and flagged as arrays."""
    if len(proba) > BATCH_TEXTS:
        return [
            p
            for start in range(0, len(proba), BATCH_TEXTS)
            for p in decide_all(proba[start : start + BATCH_TEXTS], taxonomy, thresholds, review)
        ]
    if not len(proba):
        return []
    # A stable sort of the negated values: best first, ties in taxonomy order, as decide sorts.
    order = np.argsort(-proba, axis=1, kind="stable")
    ranked = np.take_along_axis(proba, order, axis=1)
    cut = np.array([thresholds[i] for i in taxonomy.ids])
    labelled = np.take_along_axis(proba >= cut, order, axis=1)
    second = ranked[:, 1] if ranked.shape[1] > 1 else np.zeros(len(ranked))
    flags = review.flags_all(ranked[:, 0], second, labelled.any(axis=1)).tolist()
    ids = np.array(taxonomy.ids, dtype=object)[order].tolist()
    names = np.array([t.name for t in taxonomy.topics], dtype=object)[order].tolist()
    make = tuple.__new__
    return [
        Prediction(
            tuple(map(make, repeat(TopicScore), zip(row_ids, row_names, row_values, strict=True))),
            tuple(compress(row_ids, row_labelled)),
            needs_review=flag,
        )
        for row_ids, row_names, row_values, row_labelled, flag in zip(
            ids, names, ranked.tolist(), labelled.tolist(), flags, strict=True
        )
    ]
