"""The fitted pipeline compiled to plain arrays, for speed.

scikit-learn's vectorizers, FeatureUnion and calibrated classifier check and convert their
input on every call; for one paragraph that overhead is most of the time. This module keeps
the fitted numbers (vocabularies, idf, SVM coefficients, sigmoid calibrators) and computes the
same tf-idf, decision values and calibrated probabilities directly. The test suite checks
that its probabilities equal the pipeline's on every corpus record.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import compress, repeat

import numpy as np

from model.tokenizer import BREAK, WORD

# Decision values are computed for about this many features at a time: the products (features x
# classes, 8 bytes each; under 1 MB for a dozen classes) then stay in the processor's cache, which
# on the benchmark's batch makes this step 1.6 times as fast as chunks of 65,536 did.
CHUNK_ENTRIES = 1 << 13
# A character jieba or rjieba may cut inside a longer run (\w also covers CJK); kept wide on purpose.
_IN_RUN = re.compile(r"[\w+#&.%\-]")
# scikit-learn's char analyzer collapses whitespace runs the same way before cutting n-grams.
_WHITE_SPACES = re.compile(r"\s\s+")


def _gram_of(key: int) -> str:
    """The character n-gram a packed key stands for (the inverse of :func:`_gram_key`)."""
    chars = []
    while key:
        chars.append(chr((key & 0x1FFFFF) - 1))
        key >>= 21
    return "".join(reversed(chars))


def _grams_of(keys: np.ndarray) -> list[str]:
    """:func:`_gram_of` of many keys (n <= 3), the code points unpacked as arrays."""
    keys = np.asarray(keys, dtype=np.uint64)
    points = [(keys >> np.uint64(shift)) & np.uint64(0x1FFFFF) for shift in (42, 21, 0)]
    # A missing leading character is 0; every stored character is its code point plus one.
    rows = np.stack(points, axis=1).astype(np.int64).tolist()
    return ["".join([chr(p - 1) for p in row if p]) for row in rows]


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


class GramTable:
    """Packed character n-gram keys to columns, as an open-addressing hash table in arrays.

    A key's home slot is a multiplicative hash of it; a key that finds its home taken goes to
    the next free slot. Lookups probe every key of a batch at once, one slot further each round,
    until each has met its key or a free slot: a few array passes instead of a binary search's
    dozen random reads per key. Slots are about 2.5 times the keys, so runs stay short.
    """

    _EMPTY = 0  # no packed key is 0: every code point is stored plus one
    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)

    def __init__(self, keys: np.ndarray, columns: np.ndarray):
        bits = max(4, int(len(keys) * 2.5).bit_length())
        self._size(bits)
        self.keys = np.zeros(1 << bits, dtype=np.uint64)
        self.columns = np.full(1 << bits, -1, dtype=np.int64)
        home = self._home(keys)
        pending = np.arange(len(keys))
        self.probes = 0
        while len(pending):
            slots = (home[pending] + self.probes) & self.mask
            free = self.keys[slots] == self._EMPTY
            # Of the keys wanting one free slot in this round, the first takes it.
            _, first = np.unique(slots[free], return_index=True)
            placed = pending[free][first]
            self.keys[slots[free][first]] = keys[placed]
            self.columns[slots[free][first]] = columns[placed]
            done = np.zeros(len(pending), dtype=bool)
            done[np.flatnonzero(free)[first]] = True
            pending = pending[~done]
            self.probes += 1

    def _size(self, bits: int) -> None:
        self.mask = (1 << bits) - 1
        self.shift = np.uint64(64 - bits)

    @classmethod
    def stored(cls, slots: np.ndarray, columns: np.ndarray, probes: int) -> GramTable:
        """A table as :meth:`to_arrays` gave it (saved with the model, so loading builds nothing)."""
        bits = len(slots).bit_length() - 1
        if len(slots) != 1 << bits or len(columns) != len(slots) or probes < 0:
            raise ValueError("a stored hash table needs a power-of-two number of slots, one column each")
        table = cls.__new__(cls)
        table._size(bits)
        table.keys = np.asarray(slots, dtype=np.uint64)
        table.columns = np.asarray(columns, dtype=np.int64)
        table.probes = int(probes)
        return table

    def to_arrays(self) -> tuple[np.ndarray, np.ndarray, int]:
        return self.keys, self.columns, self.probes

    def _home(self, keys: np.ndarray) -> np.ndarray:
        return ((keys * self._MULTIPLIER) >> self.shift).astype(np.int64)

    def find(self, keys: np.ndarray) -> np.ndarray:
        """Each key's column, -1 for keys not in the table."""
        found = np.full(len(keys), -1, dtype=np.int64)
        home = self._home(keys)
        pending = np.arange(len(keys))
        for probe in range(self.probes):
            slots = (home[pending] + probe) & self.mask
            stored = self.keys[slots]
            hit = stored == keys[pending]
            found[pending[hit]] = self.columns[slots[hit]]
            pending = pending[~hit & (stored != self._EMPTY)]
            if not len(pending):
                break
        return found


@dataclass(frozen=True)
class _Occurrences:
    """Feature occurrences of a batch: row and column of each, and where it ends in its text."""

    rows: np.ndarray
    columns: np.ndarray
    ends: np.ndarray | None
    # Each text's word tokens with their [start, end) in it, when asked for (see features_and_words).
    words: list[list[tuple[str, int, int]]] | None = None


def _pairs_of_known_words(vocabulary: dict[str, int]) -> bool:
    """Whether both words of every word pair in the vocabulary are in it too."""
    return all(word in vocabulary for term in vocabulary if " " in term for word in term.split(" "))


def _pair_keys(firsts: np.ndarray, seconds: np.ndarray, n_words: int) -> np.ndarray:
    """A word pair as one integer from its words' columns (plus one: 0 marks a free slot)."""
    return (firsts * n_words + seconds + 1).astype(np.uint64)


def _words_with_spans(
    tokens: list[str], words: np.ndarray, token_ends: np.ndarray, lengths: np.ndarray, text_starts: np.ndarray
) -> list[list[tuple[str, int, int]]]:
    """Each text's word tokens with their [start, end) in it, from a joined cut that covers the texts.

    ``words``: which tokens are words; ``token_ends``, ``lengths``: each token's end in the joined
    texts and its length; ``text_starts``: where each text begins in them.
    """
    at = np.flatnonzero(words)
    begins = token_ends[at] - lengths[at]
    rows = np.searchsorted(text_starts, begins, side="right") - 1
    begins -= text_starts[rows]
    spans = list(zip([tokens[i] for i in at.tolist()], begins.tolist(), (begins + lengths[at]).tolist(), strict=True))
    bounds = np.searchsorted(rows, np.arange(len(text_starts) + 1)).tolist()
    return [spans[begin:end] for begin, end in zip(bounds, bounds[1:], strict=False)]


def _words_and_breaks(tokens: list[str], lengths: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Which tokens of a joined cut are words or text breaks, and which are breaks.

    A token is a word when it holds a letter or digit (``Tokenizer.words``): most are all
    letters (str.isalnum), a single other character is not one; the pattern decides only
    longer mixed tokens, such as ``3.5``.
    """
    keep = np.fromiter(map(str.isalnum, tokens), dtype=bool, count=len(tokens))
    breaks = np.fromiter(map(BREAK.__eq__, tokens), dtype=bool, count=len(tokens))
    for index in np.flatnonzero(~keep & (lengths > 1)).tolist():
        keep[index] = WORD.search(tokens[index]) is not None
    return keep | breaks, breaks


# str.isalnum of every code point, filled a page of 256 code points at a time as texts need them
# (a Chinese paragraph touches a few dozen pages; filling all 4,352 took 10 ms of a worker's start).
_ALNUM = np.zeros(0x110000, dtype=bool)
_ALNUM_FILLED = np.zeros(0x110000 >> 8, dtype=bool)


def _alnum(points: np.ndarray) -> np.ndarray:
    """str.isalnum of each code point."""
    needed = np.zeros(len(_ALNUM_FILLED), dtype=bool)
    needed[points >> 8] = True
    for page in np.flatnonzero(needed & ~_ALNUM_FILLED).tolist():
        first = page << 8
        _ALNUM[first : first + 256] = [chr(point).isalnum() for point in range(first, first + 256)]
        _ALNUM_FILLED[page] = True  # after the page: another thread reads a page only once it is filled
    return _ALNUM[points]


def _packed_keys(points: np.ndarray, starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """:func:`_gram_key` of the strings of 1 to 3 code points at ``starts`` with ``lengths``."""
    keys = points[starts].astype(np.uint64) + 1
    for shift in (1, 2):
        longer = np.flatnonzero(lengths > shift)
        following = points[starts[longer] + shift].astype(np.uint64) + 1
        keys[longer] = (keys[longer] << np.uint64(21)) | following
    return keys


def _code_points(text: str) -> np.ndarray:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _lead_length(text: str, lead: str) -> int:
    """The lead's length when it begins ``text`` and a token must end where it does, else -1.

    Both tokenizers cut runs of CJK characters, letters, digits and ``+#&._%-`` one run at a
    time, every other character on its own: a lead whose last character, or the character
    after it, lies outside such runs ends on a token boundary, and its words and character
    n-grams are exactly the text's that end inside it.
    """
    length = len(lead)
    if not text.startswith(lead):
        return -1
    if length == len(text) or not _IN_RUN.match(text[length - 1]) or not _IN_RUN.match(text[length]):
        return length
    return -1


@dataclass(frozen=True)
class Features:
    """The feature rows of a batch, compressed by row: row i is entries indptr[i] to indptr[i + 1]."""

    indptr: np.ndarray
    columns: np.ndarray
    values: np.ndarray

    def __len__(self) -> int:
        return len(self.indptr) - 1

    def row(self, index: int) -> FeatureRow:
        begin, end = self.indptr[index], self.indptr[index + 1]
        return FeatureRow(self.columns[begin:end], self.values[begin:end])


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
        # Whether every word pair of the vocabulary is two of its words (see _word_columns).
        self.pairs_of_known_words = bool(settings.get("pairs_of_known_words", False))
        # How the lead of a one-line text is found (model.lead.normalized_leads); False before format 3.
        self.lead_from_normalized = bool(settings.get("lead_from_normalized", False))
        self.n_main = len(self.idf)  # the lead block's columns follow, in the same order
        # The organ block (format 4 on) follows the lead block, or the main block without one:
        # its column k says that word column organ_columns[k] is the first organ word a text names
        # (model.pipeline.TextFeatures), and it alone in the block is set, so its value is the weight.
        self.organ_weight = float(settings.get("organ_weight", 0.0))
        self.organ_columns = np.asarray(arrays.get("organ_columns", np.empty(0, np.int64)), dtype=np.int64)
        self.organ_offset = 2 * self.n_main if self.lead_weight else self.n_main
        self._organ_of = np.full(self.n_main, -1, dtype=np.int64)
        self._organ_of[self.organ_columns] = np.arange(len(self.organ_columns))
        self._word_names: list[str] | None = None
        if word_index is None:  # from stored arrays: the vocabulary is its words joined by newlines
            self._word_names = bytes(arrays["word_names"]).decode("utf-8").split("\n") if self.n_words else []
            word_index = {word: column for column, word in enumerate(self._word_names)}
        self.word_index = word_index
        self._columns: dict[tuple[str, ...], np.ndarray] = {}
        # Hash tables saved with the model (cached_property reads them from __dict__); older
        # files have none, and the tables are built on first use.
        for name in ("gram", "pair", "word"):
            if f"{name}_slots" in arrays:
                slots, columns = arrays[f"{name}_slots"], arrays[f"{name}_slot_columns"]
                self.__dict__[f"_{name}_table"] = GramTable.stored(slots, columns, settings[f"{name}_probes"])

    @cached_property
    def _gram_table(self) -> GramTable:
        return GramTable(self.char_keys, self.char_columns)

    @cached_property
    def _pair_table(self) -> GramTable:
        """The vocabulary's word pairs keyed by their two words' columns (see _pair_keys)."""
        index = self.word_index
        pairs = [(term.split(" "), column) for term, column in index.items() if " " in term]
        firsts = np.array([index[first] for (first, _), _ in pairs], dtype=np.int64)
        seconds = np.array([index[second] for (_, second), _ in pairs], dtype=np.int64)
        columns = np.array([column for _, column in pairs], dtype=np.int64)
        return GramTable(_pair_keys(firsts, seconds, self.n_words), columns)

    @cached_property
    def _word_table(self) -> GramTable:
        """The vocabulary's words of at most three characters, keyed as character n-grams are."""
        short = [(word, column) for word, column in self.word_index.items() if len(word) <= 3 and " " not in word]
        keys = np.array([_gram_key(word) for word, _ in short], dtype=np.uint64)
        return GramTable(keys, np.array([column for _, column in short], dtype=np.int64))

    @classmethod
    def from_pipeline(cls, pipeline, tokenizer) -> CompiledModel:
        """The fast path of a fitted pipeline (its vocabulary dict is shared, not copied)."""
        features = pipeline.named_steps["features"]
        if hasattr(features, "transformer_list"):  # format 1: words and chars in a FeatureUnion, no lead block
            (_, words), (_, chars) = features.transformer_list
            lead_weight, lead_from_normalized = 0.0, False
        else:
            words, chars, lead_weight = features.words_, features.chars_, features.lead_weight
            lead_from_normalized = features.lead_from_normalized
        organ_weight = getattr(features, "organ_weight", 0.0)
        organs = features.organ_columns_ if organ_weight else np.empty(0, np.int64)
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
            "organ_columns": np.asarray(organs, dtype=np.int64),
        }
        settings = {
            "lead_weight": float(lead_weight),
            "organ_weight": float(organ_weight),
            "char_ngram_range": list(chars.ngram_range),
            "classes": classes,
            "estimator_classes": [str(c) for c in estimator.classes_],
            "n_words": n_words,
            "pairs_of_known_words": _pairs_of_known_words(words.vocabulary_),
            "lead_from_normalized": bool(lead_from_normalized),
        }
        return cls(arrays, settings, tokenizer, word_index=words.vocabulary_)

    def to_arrays(self) -> tuple[dict[str, np.ndarray], dict]:
        """Everything the fast path needs, as named arrays and JSON-ready settings."""
        names = "\n".join(self.feature_names(range(self.n_words)))
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
            "organ_columns": self.organ_columns,
        }
        tables = {}
        for name in ("gram", "pair", "word") if self.pairs_of_known_words else ("gram",):
            slots, columns, probes = getattr(self, f"_{name}_table").to_arrays()
            arrays[f"{name}_slots"], arrays[f"{name}_slot_columns"] = slots, columns
            tables[f"{name}_probes"] = probes
        settings = {
            **tables,
            "lead_weight": self.lead_weight,
            "organ_weight": self.organ_weight,
            "char_ngram_range": [self.char_sizes.start, self.char_sizes.stop - 1],
            "classes": [str(c) for c in self.classes],
            "estimator_classes": self.estimator_classes,
            "n_words": self.n_words,
            "pairs_of_known_words": self.pairs_of_known_words,
            "lead_from_normalized": self.lead_from_normalized,
        }
        return arrays, settings

    def columns_for(self, labels: tuple[str, ...]) -> np.ndarray:
        """Probability columns of the given class labels, in their order (cached)."""
        cached = self._columns.get(labels)
        if cached is None:
            classes = list(self.classes)
            cached = self._columns[labels] = np.array([classes.index(label) for label in labels])
        return cached

    def feature_name(self, column: int) -> str:
        """A column's feature: a word, two words joined by a space, or a character n-gram."""
        return self.feature_names([column])[0]

    @cached_property
    def _word_names_array(self) -> np.ndarray:
        """Each word column's word or word pair, as an array of str objects."""
        names = self._word_names
        if names is None:
            names = [""] * self.n_words
            for word, index in self.word_index.items():
                names[index] = word
        out = np.empty(self.n_words, dtype=object)
        out[:] = names
        return out

    @cached_property
    def _char_keys_by_column(self) -> np.ndarray:
        """Each character column's packed n-gram key (the inverse of char_keys -> char_columns)."""
        keys = np.zeros(len(self.idf) - self.n_words, dtype=np.uint64)
        keys[self.char_columns - self.n_words] = self.char_keys
        return keys

    def feature_names(self, columns) -> list[str]:
        """:meth:`feature_name` of many columns, looked up and decoded as arrays."""
        return self.named_columns(columns)[0]

    def named_columns(self, columns) -> tuple[list[str], list[bool]]:
        """Each column's feature name, and whether it is a word feature (a word or word pair).

        A lead-block or organ-block column has the name and kind of the whole-text column it repeats.
        """
        bases = self._blocks_and_bases(np.asarray(columns, dtype=np.int64))[1]
        words = bases < self.n_words
        names = np.empty(len(bases), dtype=object)
        names[words] = self._word_names_array[bases[words]]
        if not words.all():
            names[~words] = _grams_of(self._char_keys_by_column[bases[~words] - self.n_words])
        return names.tolist(), words.tolist()

    def _blocks_and_bases(self, columns: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Each column's block (0 whole text, 1 lead, 2 organ words) and the whole-text column it repeats."""
        blocks = (columns >= self.n_main).astype(np.int64)
        bases = columns - blocks * self.n_main
        if self.organ_weight:
            organ = columns >= self.organ_offset
            blocks[organ] = 2
            bases[organ] = self.organ_columns[columns[organ] - self.organ_offset]
        return blocks, bases

    def features(self, texts: Sequence[str], leads: Sequence[str] | None = None) -> Features:
        """The feature rows of normalised texts and their normalised ``leads``, the batch as arrays.

        Every step after the cut runs once over the whole batch: word and pair lookups, one
        search for every character n-gram of every text, one sort that counts the features of
        all rows, and the per-block l2 norms. A lead that begins its text and ends where both
        tokenizers must end a token (see :func:`_lead_length`) takes its features from the
        text's own occurrences; other leads are cut and searched on their own.
        """
        return self._features_of(self._occurrences(texts), texts, leads)

    def features_and_words(
        self, texts: Sequence[str], leads: Sequence[str] | None = None
    ) -> tuple[Features, list[list[tuple[str, int, int]]]]:
        """:meth:`features` of texts it cuts itself, and each text's word tokens with their
        [start, end) in it (what :meth:`model.tokenizer.Tokenizer.words_with_spans` gives), from
        the same cut: explanations need no second one.
        """
        found = self._occurrences(texts, with_words=True)
        return self._features_of(found, texts, leads), found.words

    def _features_of(self, found: _Occurrences, texts: Sequence[str], leads: Sequence[str] | None) -> Features:
        n = len(texts)
        rows, columns = [found.rows], [found.columns]
        if self.organ_weight:  # the organ block: each text's first organ word
            organ = self._organ_of[found.columns]
            named = np.flatnonzero(organ >= 0)
            # A row's word tokens come in text order, before its pairs and n-grams (see _occurrences).
            texts_naming, first = np.unique(found.rows[named], return_index=True)
            rows.append(texts_naming)
            columns.append(organ[named[first]] + self.organ_offset)
        if not self.lead_weight or leads is None:
            return self._tfidf(np.concatenate(rows), np.concatenate(columns), n)
        if found.ends is None:  # no positions (see _occurrences): every lead is cut on its own
            lengths = np.full(n, -1)
            in_lead = np.zeros(len(found.rows), dtype=bool)
        else:
            lengths = np.array([_lead_length(text, lead) for text, lead in zip(texts, leads, strict=True)])
            in_lead = found.ends <= lengths[found.rows]
        rows.append(found.rows[in_lead])
        columns.append(found.columns[in_lead] + self.n_main)
        apart = np.flatnonzero(lengths < 0)
        if len(apart):
            own = self._occurrences([leads[i] for i in apart])
            rows.append(apart[own.rows])
            columns.append(own.columns + self.n_main)
        return self._tfidf(np.concatenate(rows), np.concatenate(columns), n)

    def _tfidf(self, rows: np.ndarray, columns: np.ndarray, n: int) -> Features:
        """Rows of sublinear tf-idf from feature occurrences, each block of each row l2-normalised.

        Columns from ``n_main`` on are the lead block's (the main block's columns moved on), and
        from ``organ_offset`` on the organ block's: one sort counts them all, which leaves each
        row's blocks in that order, and the lead and organ values are weighted after their norm.
        """
        width = self.organ_offset + len(self.organ_columns) if self.organ_weight else self.organ_offset
        keys, counts = np.unique(rows * width + columns, return_counts=True)
        rows, columns = np.divmod(keys, width)
        block, base = self._blocks_and_bases(columns)
        values = (np.log(counts) + 1.0) * self.idf[base]
        if len(values):
            # Rows are sorted; within a row's block word columns come before character columns.
            group = rows * 6 + block * 2 + (base >= self.n_words)
            starts = np.flatnonzero(np.concatenate([[True], group[1:] != group[:-1]]))
            norms = np.repeat(np.sqrt(np.add.reduceat(values * values, starts)), np.diff([*starts, len(values)]))
            np.divide(values, norms, out=values, where=norms > 0)
            values[block == 1] *= self.lead_weight
            values[block == 2] *= self.organ_weight
        return Features(np.searchsorted(rows, np.arange(n + 1)), columns, values)

    def _occurrences(self, texts: Sequence[str], with_words: bool = False) -> _Occurrences:
        """Every known word, word pair and character n-gram occurrence of normalised texts.

        Word tokens come first, in text order, then word pairs, then character n-grams.
        Texts are cut and searched joined by a line break, which normalised text never holds,
        which ends a token in both tokenizers, and which no feature contains. Ends are code
        points from the start of the text (None when whitespace runs make the two searches
        count differently). ``with_words``: also give each text's word tokens with their spans.
        """
        joined = BREAK.join(texts)
        starts = np.cumsum([0, *(len(text) + 1 for text in texts)])[:-1]
        points = _code_points(joined)
        tokens = self.tokenizer.cut_joined(texts)
        lengths = np.fromiter(map(len, tokens), dtype=np.int64, count=len(tokens))
        token_ends = np.cumsum(lengths)
        covered = bool(len(tokens)) and token_ends[-1] == len(points) and lengths.min() > 0
        if self.pairs_of_known_words and covered:
            keep, breaks, columns = self._known_tokens(tokens, lengths, token_ends - lengths, points)
        else:
            keep, breaks = _words_and_breaks(tokens, lengths)
            columns = None
        text_words = None
        if with_words:
            text_words = (
                _words_with_spans(tokens, keep & ~breaks, token_ends, lengths, starts)
                if covered
                else [self.tokenizer.words_with_spans(text) for text in texts]
            )
        tokens = None if columns is not None else list(compress(tokens, keep.tolist()))
        token_ends, breaks = token_ends[keep], breaks[keep]
        word_rows, word_columns, at = self._word_columns(tokens, breaks, columns)
        # scikit-learn's char analyzer collapses each text's whitespace runs to one space first.
        spaced = BREAK.join(_WHITE_SPACES.sub(" ", text) for text in texts)
        same = spaced == joined
        char_rows, char_columns, char_ends = self._char_columns(points if same else _code_points(spaced))
        rows = np.concatenate([word_rows, char_rows])
        columns = np.concatenate([word_columns, char_columns])
        if not same:
            return _Occurrences(rows, columns, None, text_words)
        ends = np.concatenate([token_ends[at], char_ends]) - starts[rows]
        return _Occurrences(rows, columns, ends, text_words)

    def _known_tokens(
        self, tokens: list[str], lengths: np.ndarray, token_starts: np.ndarray, points: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """What :func:`_words_and_breaks` and the vocabulary say of a joined cut, from code points.

        ``points``: the code points of the joined texts, which the tokens cover in order. A
        token is a word when any of its characters is a letter or digit (str.isalnum of the
        token, or the word pattern's search, says the same); a break is the one-character token
        BREAK. Words of at most three characters are found in the word table by their packed
        key; only longer ones are looked up in the vocabulary one by one. Returns which tokens
        to keep and which are breaks (both over all tokens, as :func:`_words_and_breaks` gives
        them), and each kept token's column (-1 when unknown).
        """
        keep = np.logical_or.reduceat(_alnum(points), token_starts)
        breaks = (lengths == 1) & (points[token_starts] == ord(BREAK))
        keep |= breaks
        kept = np.flatnonzero(keep)
        kept_lengths, kept_breaks = lengths[kept], breaks[kept]
        columns = np.full(len(kept), -1, dtype=np.int64)
        short = np.flatnonzero((kept_lengths <= 3) & ~kept_breaks)
        columns[short] = self._word_table.find(_packed_keys(points, token_starts[kept[short]], kept_lengths[short]))
        long = np.flatnonzero(kept_lengths > 3)
        if len(long):
            get = self.word_index.get
            columns[long] = [get(tokens[index], -1) for index in kept[long].tolist()]
        return keep, breaks, columns

    def _word_columns(
        self, tokens: list[str] | None, breaks: np.ndarray, columns: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows and columns of the known words and word pairs among tokens (texts separated by
        line-break tokens, which are never known), and the index of each one's last token.

        ``columns``: each token's column when already looked up (then ``tokens`` may be None).
        When every pair of the vocabulary is two of its words (a pair is never more frequent
        than its words, and nothing but the minimum frequency pruned the vocabulary), only
        pairs of two known words are looked up.
        """
        get = self.word_index.get
        if columns is None:
            columns = np.fromiter(map(get, tokens, repeat(-1)), dtype=np.int64, count=len(tokens))
        count = len(columns)
        if self.pairs_of_known_words:
            first = np.flatnonzero((columns[:-1] >= 0) & (columns[1:] >= 0))
            pair_columns = self._pair_table.find(_pair_keys(columns[first], columns[first + 1], self.n_words))
        else:
            first = np.arange(max(count - 1, 0))
            pairs = map(" ".join, zip(tokens, tokens[1:], strict=False))
            pair_columns = np.fromiter(map(get, pairs, repeat(-1)), dtype=np.int64, count=len(first))
        row_of_token = np.cumsum(breaks)
        rows = np.concatenate([row_of_token, row_of_token[first]])
        last = np.concatenate([np.arange(count), first + 1])
        columns = np.concatenate([columns, pair_columns])
        known = np.flatnonzero(columns >= 0)
        return rows[known], columns[known], last[known]

    def _char_columns(self, joined: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Rows, columns and end positions (in ``joined``, code points of texts joined by BREAK)
        of every known character n-gram occurrence."""
        if not len(joined):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        points = joined.astype(np.uint64) + 1
        breaks = points == ord(BREAK) + 1
        row_at = np.cumsum(breaks)
        keys, rows, inside, ends = [], [], [], []
        for size in self.char_sizes:
            key = points[: len(points) - size + 1]
            crossing = breaks[: len(points) - size + 1]
            for shift in range(1, size):
                key = (key << 21) | points[shift : len(points) - size + 1 + shift]
                crossing = crossing | breaks[shift : len(points) - size + 1 + shift]
            keys.append(key)
            rows.append(row_at[: len(key)])
            inside.append(~crossing)
            ends.append(np.arange(size, len(key) + size))
        keys, rows, inside, ends = map(np.concatenate, (keys, rows, inside, ends))
        columns = self._gram_table.find(keys)
        found = np.flatnonzero((columns >= 0) & inside)
        return rows[found], columns[found], ends[found]

    def probabilities(self, features: Features) -> np.ndarray:
        """Calibrated probabilities, one column per class of the pipeline (its order)."""
        decision = self._decision(features)
        proba = np.zeros((len(features), len(self.classes)))
        # scikit-learn's sigmoid calibration: 1 / (1 + exp(a * decision + b)).
        proba[:, self.positions] = 1.0 / (1.0 + np.exp(self.a * decision + self.b))
        denominator = proba.sum(axis=1, keepdims=True)
        uniform = np.full_like(proba, 1 / len(self.classes))
        proba = np.divide(proba, denominator, out=uniform, where=denominator != 0)
        proba[(proba > 1.0) & (proba <= 1.0 + 1e-5)] = 1.0
        return proba

    def _decision(self, features: Features) -> np.ndarray:
        """The linear model's decision values: each row's values times the coefficients of its columns.

        Rows go through in chunks of about CHUNK_ENTRIES features, which bounds the temporary
        (features x classes) products however long the texts.
        """
        indptr = features.indptr
        decision = np.zeros((len(features), len(self.intercept)))
        buffer = np.empty((min(CHUNK_ENTRIES, len(features.columns)), len(self.intercept)))
        first = 0
        while first < len(features):
            # As many rows as fit in the buffer, and at least one (a row longer than the buffer gets its own).
            last = max(first + 1, int(np.searchsorted(indptr, indptr[first] + CHUNK_ENTRIES, side="right")) - 1)
            last = min(last, len(features))
            begin, end = indptr[first], indptr[last]
            if end > begin:
                part = buffer[: end - begin] if end - begin <= len(buffer) else np.empty((end - begin, len(buffer[0])))
                np.take(self.coef_t, features.columns[begin:end], axis=0, out=part)
                part *= features.values[begin:end, np.newaxis]
                starts = indptr[first:last] - begin
                filled = indptr[first + 1 : last + 1] > indptr[first:last]
                decision[first:last][filled] = np.add.reduceat(part, starts[filled], axis=0)
            first = last
        return decision + self.intercept
