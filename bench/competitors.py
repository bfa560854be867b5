"""The models compared: newstag's pipeline, fastText (default and tuned) and ComplementNB.

Each has ``name``, ``fit(texts, labels) -> self`` and ``predict(texts) -> list[str]``. fastText
and ComplementNB get jieba's words of the same normalised text newstag sees.
"""

from __future__ import annotations

import os
import tempfile

from model.normalize import normalize
from model.pipeline import PipelineSettings, build_pipeline
from model.tokenizer import Tokenizer

TOKENIZER = Tokenizer()
JIEBA = Tokenizer(backend="jieba")  # fastText gets the tokens of record from jieba itself


def normalised_words(text: str) -> list[str]:
    """ComplementNB's analyzer: newstag's words of the normalised text."""
    return TOKENIZER.words(normalize(text))


class Newstag:
    """newstag's pipeline with its default settings (no thresholds, no review rule: best topic only)."""

    name = "newstag"

    def fit(self, texts, labels):
        self.pipeline = build_pipeline(PipelineSettings(), TOKENIZER).fit(texts, labels)
        return self

    def predict(self, texts):
        return list(self.pipeline.predict(texts))


class FastText:
    """fastText supervised on the same jieba tokens (of the same normalised text)."""

    def __init__(self, tuned: bool):
        self.tuned = tuned
        self.name = "fastText tuned" if tuned else "fastText default"

    @staticmethod
    def tokens(text: str) -> str:
        return " ".join(JIEBA.words(normalize(text)))

    def fit(self, texts, labels):
        import fasttext

        with tempfile.NamedTemporaryFile("w", suffix=".txt", delete=False, encoding="utf-8") as handle:
            for text, label in zip(texts, labels, strict=True):
                handle.write(f"__label__{label} {self.tokens(text)}\n")
        options = dict(epoch=25, lr=0.5, wordNgrams=2, minCount=1, dim=100) if self.tuned else {}
        try:
            self.model = fasttext.train_supervised(handle.name, verbose=0, thread=2, seed=0, **options)
        finally:
            os.unlink(handle.name)
        return self

    def predict(self, texts):
        labels, _ = self.model.predict([self.tokens(t) for t in texts], k=1)
        return [label[0].removeprefix("__label__") for label in labels]


class NaiveBayes:
    name = "ComplementNB (word tf-idf)"

    def fit(self, texts, labels):
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.naive_bayes import ComplementNB

        self.vectorizer = TfidfVectorizer(analyzer=normalised_words, sublinear_tf=True)
        self.model = ComplementNB(alpha=0.3).fit(self.vectorizer.fit_transform(texts), labels)
        return self

    def predict(self, texts):
        return list(self.model.predict(self.vectorizer.transform(texts)))


def competitors() -> list:
    """Fresh, unfitted competitors, newstag first."""
    return [Newstag(), FastText(tuned=False), FastText(tuned=True), NaiveBayes()]
