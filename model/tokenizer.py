"""Word tokenizer: jieba with the bundled domain dictionary."""

from __future__ import annotations

import logging
import threading
from importlib import resources

import jieba

# jieba installs its own stderr handler at DEBUG level and announces every dictionary load;
# a library must not talk on stderr, so only its warnings pass.
jieba.setLogLevel(logging.WARNING)

logger = logging.getLogger(__name__)


def _is_word(token: str) -> bool:
    """A token worth a feature: not whitespace, not punctuation only."""
    return any(ch.isalnum() for ch in token)


def load_domain_words() -> list[str]:
    """The bundled domain dictionary's words, in file order."""
    text = resources.files("model").joinpath("data/domain_dict.txt").read_text(encoding="utf-8")
    words = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.append(line.split()[0])
    return words


class Tokenizer:
    """jieba (no HMM, so segmentation depends on the dictionaries alone) plus domain words.

    Picklable: the jieba state is rebuilt lazily after loading, and :meth:`warm` builds it
    ahead of the first request.
    """

    def __init__(self, extra_words: tuple[str, ...] = ()):
        self.extra_words = tuple(extra_words)
        self._jieba: jieba.Tokenizer | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        return {"extra_words": self.extra_words}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["extra_words"])

    def _engine(self) -> jieba.Tokenizer:
        engine = self._jieba
        if engine is None:
            with self._lock:
                if self._jieba is None:
                    engine = jieba.Tokenizer()
                    engine.initialize()
                    for word in (*load_domain_words(), *self.extra_words):
                        engine.add_word(word)
                    self._jieba = engine
                engine = self._jieba
        return engine

    def warm(self) -> None:
        """Load the dictionaries now rather than on the first text."""
        self._engine()

    def words(self, text: str) -> list[str]:
        """The word tokens of a normalised text, punctuation and spaces left out."""
        return [t for t in self._engine().lcut(text, HMM=False) if _is_word(t)]

    def words_with_spans(self, text: str) -> list[tuple[str, int, int]]:
        """Like :meth:`words`, with each token's [start, end) in ``text``."""
        return [t for t in self._engine().tokenize(text, HMM=False) if _is_word(t[0])]
