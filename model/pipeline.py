"""The classification pipeline and the trained model that wraps it.

text -> normalise -> (word 1-2-grams from jieba | character 1-3-grams) tf-idf of the whole text,
as a second block of its lead, and as a third the first organ it names -> linear SVM with sigmoid
calibration -> one probability per topic. Texts that belong to no topic are trained as an
internal ``__none__`` class, whose share of probability keeps every topic below its threshold; it
never appears in the output.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from importlib import resources

import numpy as np
from scipy import sparse
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from model.fastpath import CompiledModel
from model.lead import normalized_leads
from model.normalize import normalize
from model.prediction import Prediction, ReviewRule
from model.predictor import Predictor, decide  # noqa: F401  (decide: training imports it from here)
from model.taxonomy import Taxonomy
from model.tokenizer import Tokenizer

NONE_LABEL = "__none__"


def organ_pattern() -> re.Pattern:
    """What makes a word an organ word: it contains a stem of ``model/data/organs.txt``."""
    text = resources.files("model").joinpath("data/organs.txt").read_text(encoding="utf-8")
    stems = [line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#")]
    return re.compile("|".join(map(re.escape, stems)))


def organ_columns(vocabulary: dict[str, int]) -> np.ndarray:
    """The word columns (single words, not pairs) of a word vocabulary that are organ words, sorted."""
    pattern = organ_pattern()
    return np.array(sorted(c for w, c in vocabulary.items() if " " not in w and pattern.search(w)), dtype=np.int64)


class TextNormalizer(TransformerMixin, BaseEstimator):
    """Pipeline step of format-1 models (trained before the lead block): raw texts to normalised texts.

    Kept so those models still load; new pipelines normalise inside :class:`TextFeatures`.
    """

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


class TextFeatures(TransformerMixin, BaseEstimator):
    """Word 1-2-gram and character n-gram tf-idf of a whole text, then of its lead as a second block.

    The lead block (headline, byline, first sentence: :func:`model.lead.lead_of`) uses the
    vocabularies and idf fitted on whole texts, l2-normalised on its own and scaled by
    ``lead_weight``; the classifier learns its own weights for it, so a lead that names the
    acting organ can outvote a body told in another organ's words. ``lead_weight=0`` leaves
    the block out. ``lead_from_normalized``: a one-line text's lead is read from its normalised
    form (:func:`model.lead.normalized_leads`; models of format 3 on, False in older ones).

    The organ block says which organ word (:func:`organ_columns`) the text names first: one
    column, of value ``organ_weight``. Reporters name the actor first, so the first organ named
    is where the actor is: in a lead before a body told in another organ's words (检察院 before
    民警), and in a story that opens on a scene and names the organ once (扒手 and 擒获, then
    狱警). ``organ_weight=0`` leaves the block out (models before format 4).
    """

    def __init__(
        self,
        tokenizer: Tokenizer | None = None,
        char_ngram_max: int = 3,
        word_min_df: int = 2,
        char_min_df: int = 2,
        lead_weight: float = 0.9,
        lead_from_normalized: bool = True,
        organ_weight: float = 0.3,
    ):
        self.tokenizer = tokenizer
        self.char_ngram_max = char_ngram_max
        self.word_min_df = word_min_df
        self.char_min_df = char_min_df
        self.lead_weight = lead_weight
        self.lead_from_normalized = lead_from_normalized
        self.organ_weight = organ_weight

    def __setstate__(self, state: dict) -> None:
        state.setdefault("lead_from_normalized", False)  # pickled before format 3
        state.setdefault("organ_weight", 0.0)  # pickled before format 4
        self.__dict__.update(state)

    def _unfitted(self) -> tuple[TfidfVectorizer, TfidfVectorizer]:
        words = TfidfVectorizer(
            analyzer=WordAnalyzer(self.tokenizer or Tokenizer()),
            sublinear_tf=True,
            min_df=self.word_min_df,
            dtype=np.float64,
        )
        chars = TfidfVectorizer(
            analyzer="char",
            ngram_range=(1, self.char_ngram_max),
            lowercase=False,
            sublinear_tf=True,
            min_df=self.char_min_df,
            dtype=np.float64,
        )
        return words, chars

    def fit(self, X, y=None):
        texts = [normalize(text) for text in X]
        words, chars = self._unfitted()
        self.words_, self.chars_ = words.fit(texts), chars.fit(texts)
        self._finish_fit()
        return self

    def fit_transform(self, X, y=None):
        """fit(X).transform(X) with each text cut and split into n-grams once, not twice (the same matrix)."""
        texts = [normalize(text) for text in X]
        self.words_, self.chars_ = self._unfitted()
        word_block = self.words_.fit_transform(texts)
        self._finish_fit()
        return self._stack(X, texts, [word_block, self.chars_.fit_transform(texts)])

    def transform(self, X):
        check_is_fitted(self, "words_")
        texts = [normalize(text) for text in X]
        return self._stack(X, texts, [self.words_.transform(texts), self.chars_.transform(texts)])

    def _finish_fit(self) -> None:
        """What fitting sets once the vectorizers are fitted: the input width and the organ columns."""
        self.n_features_in_ = 1
        self.organ_columns_ = organ_columns(self.words_.vocabulary_) if self.organ_weight else np.empty(0, np.int64)

    def _stack(self, X, texts: list[str], blocks: list) -> sparse.csr_matrix:
        """The whole-text blocks, then the lead block and the organ block when they have a weight."""
        if self.lead_weight:
            leads = normalized_leads(X, texts, self.lead_from_normalized)
            blocks += [self.lead_weight * self.words_.transform(leads), self.lead_weight * self.chars_.transform(leads)]
        if self.organ_weight:
            blocks.append(self._first_organs(texts))
        return sparse.hstack(blocks, format="csr")

    def _first_organs(self, texts: list[str]) -> sparse.csr_matrix:
        """The organ block: per text, ``organ_weight`` in the column of the first organ word it names."""
        vocabulary, tokenizer = self.words_.vocabulary_, self.words_.analyzer.tokenizer
        block = {column: k for k, column in enumerate(self.organ_columns_.tolist())}
        rows, columns = [], []
        for row, text in enumerate(texts):
            for word in tokenizer.words(text):
                k = block.get(vocabulary.get(word, -1))
                if k is not None:
                    rows.append(row)
                    columns.append(k)
                    break
        values = np.full(len(rows), float(self.organ_weight))
        return sparse.csr_matrix((values, (rows, columns)), shape=(len(texts), len(block)))


@dataclass(frozen=True)
class PipelineSettings:
    """Hyper-parameters of the pipeline; recorded in every artifact."""

    C: float = 0.5
    char_ngram_max: int = 3
    word_min_df: int = 2
    char_min_df: int = 2
    lead_weight: float = 0.9
    organ_weight: float = 0.3
    calibration_folds: int = 5

    def to_dict(self) -> dict:
        return dict(self.__dict__)


def build_pipeline(settings: PipelineSettings, tokenizer: Tokenizer) -> Pipeline:
    """A fresh, unfitted pipeline."""
    features = TextFeatures(
        tokenizer,
        char_ngram_max=settings.char_ngram_max,
        word_min_df=settings.word_min_df,
        char_min_df=settings.char_min_df,
        lead_weight=settings.lead_weight,
        organ_weight=settings.organ_weight,
    )
    classifier = CalibratedClassifierCV(
        LinearSVC(C=settings.C, random_state=0),
        method="sigmoid",
        cv=settings.calibration_folds,
        ensemble=False,
    )
    return Pipeline([("features", features), ("classify", classifier)])


@dataclass
class TopicModel:
    """A fitted pipeline with its taxonomy, per-topic thresholds and review margin."""

    pipeline: Pipeline
    taxonomy: Taxonomy
    thresholds: dict[str, float]
    review: ReviewRule = field(default_factory=ReviewRule)
    explain_terms: int = 8
    _compiled: CompiledModel | None = field(default=None, repr=False, compare=False)

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_compiled"] = None
        return state

    def __setstate__(self, state: dict) -> None:
        # Format-1 models had a review margin and a feature-name cache instead of a review rule.
        if "review" not in state:
            state["review"] = ReviewRule(0.0, state.pop("review_margin", 0.1))
        state.pop("_names", None)
        state.setdefault("_compiled", None)
        self.__dict__.update(state)

    @property
    def tokenizer(self) -> Tokenizer:
        return self.pipeline.named_steps["features"].words_.analyzer.tokenizer

    @property
    def predictor(self) -> Predictor:
        """The fast path: the same pipeline as arrays, with its decisions (built on first use, never pickled)."""
        if self._compiled is None:
            self._compiled = CompiledModel.from_pipeline(self.pipeline, self.tokenizer)
        return Predictor(self._compiled, self.taxonomy, self.thresholds, self.review, self.explain_terms)

    @property
    def compiled(self) -> CompiledModel:
        return self.predictor.compiled

    def warm(self) -> None:
        self.predictor.warm()

    def probabilities(self, texts: list[str]) -> np.ndarray:
        """One row per text, one column per topic in taxonomy order (the fast path)."""
        return self.predictor.probabilities(texts)

    def predict(self, texts: list[str], explain: bool = True) -> list[Prediction]:
        return self.predictor.predict(texts, explain)

    def reference_probabilities(self, texts: list[str]) -> np.ndarray:
        """The same through scikit-learn's own pipeline: the reference the fast path must equal."""
        columns = self.compiled.columns_for(self.taxonomy.ids)
        return self.pipeline.predict_proba(texts)[:, columns]
