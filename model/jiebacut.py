"""jieba's dictionary cut (no HMM) over a compact copy of jieba's dictionary.

rjieba cuts almost every text exactly as jieba does. Where two cuts score exactly the same
(three identical characters in a row) the two break the tie differently, and jieba is the
tokenizer of record, so those texts need jieba's own cut. jieba keeps its dictionary as a
Python dict of about 580,000 words and word prefixes, some 65 MB in every process that cuts
one such text. :class:`CompactJieba` reads the same dictionary file into one sorted bytes
buffer with offsets and frequencies (under 10 MB), finds words and prefixes by binary search,
and applies the rules jieba applies, so it gives jieba's cut:

- text splits into runs of CJK characters (U+4E00 to U+9FD5), ASCII letters, digits and
  ``+#&._%-``, and everything else; a line break pair or one whitespace character is a token,
  any other character outside the runs is a token by itself;
- inside a run, every position lists the dictionary words starting there (extending while the
  piece is a word or the prefix of one), or itself alone; the cut maximises the sum of
  log(frequency) - log(total) from the end backwards, an unknown piece counting frequency 1,
  equal sums going to the longer word;
- single ASCII letters or digits next to each other in that cut are joined into one token.

Words added after the dictionary (newstag's domain words) follow jieba's ``add_word``: the
given frequency, or, when none is given, the one jieba would suggest; each adds to the total.
"""

from __future__ import annotations

import importlib.util
import math
import re
from array import array
from bisect import bisect_left
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

_RUN = re.compile("([\u4e00-\u9fd5a-zA-Z0-9+#&._%\\-]+)")
_SPACE = re.compile("(\r\n|\\s)")
_ASCII_ALNUM = re.compile("[a-zA-Z0-9]")


def jieba_dictionary_file() -> Path:
    """jieba's main dictionary, found without importing jieba."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError("jieba is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / "dict.txt"


class _SortedWords:
    """The dictionary's words, UTF-8 encoded, sorted, in one buffer (a sequence for bisect).

    UTF-8 keeps code-point order, so bytes sort as the strings would.
    """

    def __init__(self, words: list[bytes]):
        self.buffer = b"".join(words)
        self.offsets = array("q", [0])
        end = 0
        for word in words:
            end += len(word)
            self.offsets.append(end)

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def __getitem__(self, index: int) -> bytes:
        return self.buffer[self.offsets[index] : self.offsets[index + 1]]


class CompactJieba:
    """jieba's cut without HMM, from its dictionary file plus added words."""

    def __init__(self, dictionary: Path | None = None, added: Iterable[tuple[str, int | None]] = ()):
        raw = (dictionary or jieba_dictionary_file()).read_bytes()
        last: dict[bytes, int] = {}
        total = 0
        for number, line in enumerate(raw.split(b"\n"), 1):
            line = line.strip()
            if not line:
                continue
            fields = line.split(b" ")
            if len(fields) < 2 or not fields[1].isdigit():
                raise ValueError(f"jieba dictionary line {number} is not 'word frequency [tag]'")
            last[fields[0]] = int(fields[1])  # a repeated word keeps its last frequency
            total += int(fields[1])  # and every line counts in the total, as in jieba
        del raw
        words = sorted(last)
        self._words = _SortedWords(words)
        self._freqs = array("q", (last[word] for word in words))
        del last, words
        self.total = total
        self._added: dict[str, int] = {}
        self._added_prefixes: set[str] = set()
        for word, freq in added:
            self.add_word(word, freq)

    # -- the dictionary ----------------------------------------------------------------------

    def _lookup(self, piece: str) -> tuple[bool, int]:
        """Whether ``piece`` is a word or a word's prefix, and its frequency (0 for a prefix)."""
        if piece in self._added:
            return True, self._added[piece]
        key = piece.encode("utf-8")
        at = bisect_left(self._words, key)
        if at < len(self._words):
            found = self._words[at]
            if found == key:
                return True, self._freqs[at]
            if found.startswith(key):
                return True, 0
        return piece in self._added_prefixes, 0

    def add_word(self, word: str, freq: int | None = None) -> None:
        """Add or reweigh a word as jieba's add_word does (no freq: the frequency it suggests)."""
        freq = int(freq) if freq is not None else self.suggest_freq(word)
        self._added[word] = freq
        self.total += freq
        self._added_prefixes.update(word[:end] for end in range(1, len(word)))

    def suggest_freq(self, word: str) -> int:
        """The frequency that makes ``word`` one token: above the product of its pieces' odds."""
        odds = 1.0
        for piece in self.cut(word):
            odds *= (self._lookup(piece)[1] or 1) / float(self.total)
        return max(int(odds * self.total) + 1, self._lookup(word)[1] or 1)

    # -- cutting -----------------------------------------------------------------------------

    def cut(self, text: str, delegate: Callable[[str], list[str] | None] | None = None) -> list[str]:
        """jieba's tokens of ``text``. Runs are cut one by one, each on its own, so ``delegate``
        may cut a run instead (a faster engine that agrees on that run); None leaves it here."""
        return list(self._tokens(text, delegate))

    def _tokens(self, text: str, delegate: Callable[[str], list[str] | None] | None) -> Iterator[str]:
        for block in _RUN.split(text):
            if not block:
                continue
            if _RUN.fullmatch(block):
                elsewhere = delegate(block) if delegate else None
                yield from self._cut_run(block) if elsewhere is None else elsewhere
                continue
            for piece in _SPACE.split(block):
                if _SPACE.fullmatch(piece):
                    yield piece
                else:
                    yield from piece

    def _cut_run(self, run: str) -> Iterator[str]:
        n = len(run)
        log_total = math.log(self.total)
        # best[i]: (score of the best cut of run[i:], end index of its first word)
        best: list[tuple[float, int]] = [(0.0, 0)] * (n + 1)
        for start in range(n - 1, -1, -1):
            candidates = []
            for end in self._word_ends(run, start):
                freq = self._lookup(run[start : end + 1])[1]
                candidates.append((math.log(freq or 1) - log_total + best[end + 1][0], end))
            best[start] = max(candidates)
        letters = ""
        start = 0
        while start < n:
            end = best[start][1] + 1
            word = run[start:end]
            if len(word) == 1 and _ASCII_ALNUM.match(word):
                letters += word
            else:
                if letters:
                    yield letters
                    letters = ""
                yield word
            start = end
        if letters:
            yield letters

    def _word_ends(self, run: str, start: int) -> list[int]:
        """End indices (inclusive) of the dictionary words starting at ``start``, or [start]."""
        ends = []
        end = start
        while end < len(run):
            present, freq = self._lookup(run[start : end + 1])
            if not present:
                break
            if freq:
                ends.append(end)
            end += 1
        return ends or [start]
