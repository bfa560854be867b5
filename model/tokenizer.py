"""Word tokenizer: jieba's dictionary and algorithm plus the bundled domain dictionary.

jieba is the tokenizer of record. When the ``rjieba`` package (the jieba-rs binding) is
installed it does the same work about fifteen times faster; both get the same words with the
same frequencies, no HMM, and the test suite checks that they cut every corpus record the
same way. Without rjieba, or with ``backend="jieba"``, jieba itself runs.
"""

from __future__ import annotations

import functools
import importlib.machinery
import importlib.util
import logging
import re
import threading
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

from model.jiebacut import CompactJieba

if TYPE_CHECKING:
    import jieba

logger = logging.getLogger(__name__)

BACKENDS = ("auto", "jieba", "rjieba")

# Three identical Chinese characters in a row (汪汪汪) make two cuts equally likely; jieba and
# jieba-rs break that tie differently, so such texts get jieba's cut: from jieba itself with
# backend="jieba", else from model.jiebacut, which gives jieba's cut from a compact copy of its
# dictionary. (Runs of letters or digits are one token in both.)
_TIE_PRONE = re.compile(r"([\u3400-\u9fff])\1\1")


def _is_word(token: str) -> bool:
    """A token worth a feature: not whitespace, not punctuation only."""
    return token.isalnum() or any(ch.isalnum() for ch in token)


# The same test as a pattern, for filter() in C: Python's \w is exactly str.isalnum() plus "_".
WORD = re.compile(r"[^\W_]")
# Between two texts cut as one string: a line break, which always ends a token and is never a word.
BREAK = "\n"


def joined_with_breaks(token_lists: Iterable[list[str]]) -> list[str]:
    """Token lists in one list, a BREAK token between two of them."""
    tokens: list[str] = []
    for index, token_list in enumerate(token_lists):
        if index:
            tokens.append(BREAK)
        tokens.extend(token_list)
    return tokens


def load_domain_words() -> list[tuple[str, int]]:
    """The bundled domain dictionary: (word, frequency) in file order."""
    text = resources.files("model").joinpath("data/domain_dict.txt").read_text(encoding="utf-8")
    words = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            word, freq = line.split()[:2]
            words.append((word, int(freq)))
    return words


# Built jieba engines by their extra words, shared by every Tokenizer of the process: jieba's own
# (backend="jieba", about 65 MB) and the compact ones that cut tie-prone texts beside rjieba
# (under 15 MB, built when such a text first comes).
_JIEBA_ENGINES: dict[tuple[str, ...], jieba.Tokenizer] = {}
_COMPACT_ENGINES: dict[tuple[str, ...], CompactJieba] = {}
_ENGINES_LOCK = threading.Lock()


def _words_to_add(extra_words: tuple[str, ...]) -> list[tuple[str, int | None]]:
    """The domain words with their frequencies, then the extra words (frequency left to jieba)."""
    return [*load_domain_words(), *((word, None) for word in extra_words)]


def _build_jieba(extra_words: tuple[str, ...]) -> jieba.Tokenizer:
    with _ENGINES_LOCK:
        engine = _JIEBA_ENGINES.get(extra_words)
        if engine is None:
            import jieba

            # jieba installs its own stderr handler at DEBUG level and announces every dictionary
            # load; a library must not talk on stderr, so only its warnings pass.
            jieba.setLogLevel(logging.WARNING)
            engine = jieba.Tokenizer()
            engine.initialize()
            for word, freq in _words_to_add(extra_words):
                engine.add_word(word, freq)
            _JIEBA_ENGINES[extra_words] = engine
    return engine


def _build_compact(extra_words: tuple[str, ...]) -> CompactJieba:
    with _ENGINES_LOCK:
        engine = _COMPACT_ENGINES.get(extra_words)
        if engine is None:
            engine = _COMPACT_ENGINES[extra_words] = CompactJieba(added=_words_to_add(extra_words))
    return engine


@functools.cache
def rjieba_engine_class() -> type | None:
    """rjieba's ``Jieba`` class, or None when rjieba is not installed or does not load.

    The package's ``__init__`` builds a default engine (about 25 MB of dictionary) that newstag
    never uses, since its engines carry the domain words; so the compiled module is loaded from
    the package directory without running ``__init__``. Asked once per process.
    """
    spec = importlib.util.find_spec("rjieba")
    for folder in (spec.submodule_search_locations or []) if spec else []:
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            path = Path(folder) / f"rjieba{suffix}"
            if not path.is_file():
                continue
            loader = importlib.machinery.ExtensionFileLoader("rjieba.rjieba", str(path))
            try:
                module = importlib.util.module_from_spec(importlib.util.spec_from_loader(loader.name, loader))
                loader.exec_module(module)
                return module.Jieba
            except (ImportError, AttributeError):
                return None
    return None


def rjieba_available() -> bool:
    """Whether rjieba can be used (asked once: Tokenizer.cut checks it for every text)."""
    return rjieba_engine_class() is not None


class Tokenizer:
    """Cuts normalised text into words. Picklable: engines are rebuilt lazily after loading,
    and :meth:`warm` builds them ahead of the first request."""

    def __init__(self, extra_words: tuple[str, ...] = (), backend: str = "auto"):
        if backend not in BACKENDS:
            raise ValueError(f"unknown tokenizer backend {backend!r}; choose from {', '.join(BACKENDS)}")
        self.extra_words = tuple(extra_words)
        self.backend = backend
        self._jieba: jieba.Tokenizer | None = None
        self._rjieba = None
        self._compact: CompactJieba | None = None
        self._lock = threading.Lock()

    def __getstate__(self) -> dict:
        return {"extra_words": self.extra_words, "backend": self.backend}

    def __setstate__(self, state: dict) -> None:
        self.__init__(state["extra_words"], state.get("backend", "auto"))

    @property
    def uses_rjieba(self) -> bool:
        return self.backend == "rjieba" or (self.backend == "auto" and rjieba_available())

    def _jieba_engine(self) -> jieba.Tokenizer:
        if self._jieba is None:
            self._jieba = _build_jieba(self.extra_words)
        return self._jieba

    def _rjieba_engine(self):
        if self._rjieba is None:
            with self._lock:
                if self._rjieba is None:
                    engine_class = rjieba_engine_class()
                    if engine_class is None:
                        raise ImportError("the rjieba backend needs the rjieba package (or use backend='jieba')")
                    engine = engine_class()
                    for word, freq in _words_to_add(self.extra_words):
                        engine.add_word(word, freq, None)
                    self._rjieba = engine
        return self._rjieba

    def warm(self) -> None:
        """Load the dictionaries now rather than on the first text."""
        if self.uses_rjieba:
            self._rjieba_engine()
        else:
            self._jieba_engine()

    def cut(self, text: str) -> list[str]:
        """Every token of a normalised text, punctuation and spaces included, in order."""
        if not self.uses_rjieba:
            return self._jieba_engine().lcut(text, HMM=False)
        if _TIE_PRONE.search(text):
            if self._compact is None:
                self._compact = _build_compact(self.extra_words)
            # Only the runs that hold the tie need jieba's rule; rjieba cuts the others.
            return self._compact.cut(text, self._rjieba_unless_tie_prone)
        return self._rjieba_engine().cut(text, False)

    def _rjieba_unless_tie_prone(self, run: str) -> list[str] | None:
        return None if _TIE_PRONE.search(run) else self._rjieba_engine().cut(run, False)

    def words(self, text: str) -> list[str]:
        """The word tokens of a normalised text, punctuation and spaces left out."""
        return list(filter(WORD.search, self.cut(text)))

    def cut_joined(self, texts: Sequence[str]) -> list[str]:
        """Every token of many normalised texts in one list, a BREAK token between two texts.

        Normalised texts hold no line break, and a line break ends a token in both engines, so
        cutting texts joined by one gives each text's own tokens; rjieba gets each run of texts
        it can cut as one string.
        """
        segments: list[list[str]] = []
        run: list[str] = []
        for text in texts:
            if self.uses_rjieba and not _TIE_PRONE.search(text):
                run.append(text)
                continue
            if run:
                segments.append(self._rjieba_engine().cut(BREAK.join(run), False))
                run = []
            segments.append(self.cut(text))
        if run:
            segments.append(self._rjieba_engine().cut(BREAK.join(run), False))
        return joined_with_breaks(segments)

    def words_with_spans(self, text: str) -> list[tuple[str, int, int]]:
        """Like :meth:`words`, with each token's [start, end) in ``text``."""
        spans, position = [], 0
        for token in self.cut(text):
            end = position + len(token)
            if _is_word(token):
                spans.append((token, position, end))
            position = end
        return spans
