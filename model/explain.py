"""Which stretches of a text decided its topic, computed from the features the prediction used.

:func:`analyse` normalises a text once with its map back to the original, and cuts it once; the
fast path builds the feature row from those very words (no second normalise or tokenise), and
:func:`explain` turns the row's positive contributions to the winning topic into terms an editor
can read:

- a word (or a pair of adjacent words) the tokenizer cut is a term of its own; a pair longer than
  :data:`MAX_TERM_CHARS` characters is reported as its two words;
- overlapping character n-grams merge into the stretch they cover, reported once, at most
  :data:`MAX_TERM_CHARS` characters (longer stretches are split at word boundaries);
- a word found inside such a stretch adds its weight to the stretch;
- a single character is a term only where the tokenizer cut it as a word in this text.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from model.fastpath import CompiledModel, FeatureRow
from model.normalize import NormalizedText, normalize_with_offsets
from model.prediction import Term
from model.tokenizer import Tokenizer

MAX_TERM_CHARS = 12
# Only the heaviest contributions are turned into terms: enough to fill the answer's terms after
# merging, few enough that explaining costs less than predicting.
CANDIDATES = 48
# A term repeated all over a text is highlighted where it first stands, not thousands of times.
MAX_SPANS = 20


@dataclass(frozen=True)
class Analysis:
    """A text normalised (with offsets into the original) and its word tokens with their spans."""

    normalized: NormalizedText
    words: list[tuple[str, int, int]]

    @property
    def tokens(self) -> list[str]:
        return [word for word, _, _ in self.words]


def analyse(text: str, tokenizer: Tokenizer) -> Analysis:
    """Normalise and cut a text once, keeping what explanations need."""
    normalized = normalize_with_offsets(text)
    return Analysis(normalized, tokenizer.words_with_spans(normalized.text))


def _occurrences(text: str, gram: str) -> list[tuple[int, int]]:
    found, start = [], text.find(gram)
    while start != -1 and len(found) < MAX_SPANS:
        found.append((start, start + len(gram)))
        start = text.find(gram, start + 1)
    return found


def _pieces(start: int, end: int, bounds: list[int]) -> list[tuple[int, int]]:
    """[start, end) cut into pieces of at most MAX_TERM_CHARS, at word boundaries where possible."""
    pieces = []
    while end - start > MAX_TERM_CHARS:
        cuts = [b for b in bounds if start < b <= start + MAX_TERM_CHARS]
        cut = cuts[-1] if cuts else start + MAX_TERM_CHARS
        pieces.append((start, cut))
        start = cut
    pieces.append((start, end))
    return pieces


def explain(analysis: Analysis, row: FeatureRow, weights: np.ndarray, compiled: CompiledModel, limit: int) -> tuple:
    """The ``limit`` heaviest terms that pushed the topic whose coefficients are ``weights``."""
    contributions = row.values * weights[row.columns]
    positive = contributions > 0
    if not positive.any():
        return ()
    columns, amounts = row.columns[positive], contributions[positive]
    if len(columns) > CANDIDATES:  # the long tail never reaches the top terms
        keep = np.argpartition(-amounts, CANDIDATES)[:CANDIDATES]
        columns, amounts = columns[keep], amounts[keep]
    text = analysis.normalized.text
    words = analysis.words
    starts: dict[str, list[int]] = {}
    for index, (word, _, _) in enumerate(words):
        found = starts.setdefault(word, [])
        if len(found) < MAX_SPANS:
            found.append(index)
    single_words = {(s, e) for _, s, e in words if e - s == 1}

    word_terms: list[tuple[tuple[int, int], float]] = []  # (span, weight) per word-feature occurrence
    gram_spans: list[tuple[int, int, float]] = []  # (start, end, weight) per character n-gram occurrence
    column_list = columns.tolist()
    for column, name, amount in zip(column_list, compiled.feature_names(column_list), amounts.tolist(), strict=True):
        if compiled.base_column(column) < compiled.n_words:
            parts = name.split(" ")
            first = starts.get(parts[0], [])
            found = [
                i for i in first if all(i + j < len(words) and words[i + j][0] == part for j, part in enumerate(parts))
            ]
            for i in found:
                span = (words[i][1], words[i + len(parts) - 1][2])
                if span[1] - span[0] <= MAX_TERM_CHARS:
                    word_terms.append((span, amount / len(found)))
                    continue
                # Too long to read as one term (two long names, or the punctuation between them):
                # each word stands for itself, its share of the weight by length, cut if need be.
                pieces = [piece for _, s, e in words[i : i + len(parts)] for piece in _pieces(s, e, [])]
                length = sum(e - s for s, e in pieces)
                for piece in pieces:
                    word_terms.append((piece, amount / len(found) * (piece[1] - piece[0]) / length))
        elif name.isalnum():  # n-grams across punctuation or spaces mean nothing to an editor
            spans = _occurrences(text, name)
            for start, end in spans:
                gram_spans.append((start, end, amount / len(spans)))

    # Overlapping character n-grams become the stretch they cover.
    clusters: list[list] = []  # [start, end, weight]
    for start, end, amount in sorted(gram_spans):
        if clusters and start < clusters[-1][1]:
            clusters[-1][1] = max(clusters[-1][1], end)
            clusters[-1][2] += amount
        else:
            clusters.append([start, end, amount])
    bounds = sorted({e for _, _, e in words} | {s for _, s, _ in words})
    stretches: dict[tuple[int, int], float] = {}
    for start, end, amount in clusters:
        pieces = _pieces(start, end, bounds)
        for piece in pieces:
            stretches[piece] = stretches.get(piece, 0.0) + amount * (piece[1] - piece[0]) / (end - start)
    # A word inside a stretch joins it; other words stand alone.
    for (start, end), amount in sorted(word_terms, key=lambda t: t[0][0] - t[0][1]):  # longest first
        home = next(((s, e) for s, e in stretches if s <= start and end <= e), None)
        key = home or (start, end)
        stretches[key] = stretches.get(key, 0.0) + amount

    terms: dict[str, list] = {}  # display -> [weight, spans]
    for (start, end), amount in stretches.items():
        if end - start == 1 and (start, end) not in single_words:
            continue
        display = text[start:end]
        entry = terms.setdefault(display, [0.0, []])
        entry[0] += amount
        entry[1].append(analysis.normalized.original_span(start, end))
    best = sorted(terms.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    return tuple(Term(display, weight, _merged(spans)) for display, (weight, spans) in best)


def _merged(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)
