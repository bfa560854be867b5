"""Which stretches of a text decided its topic, computed from the features the prediction used.

An :class:`Analysis` is a text normalised with its map back to the original and the word
tokens the fast path cut for its features (:meth:`model.fastpath.CompiledModel.features_and_words`):
no second normalise or cut. :func:`explain_all` finds the positive contributions to each text's
winning topic for a whole batch as arrays, and turns each text's heaviest ones into terms an
editor can read:

- a word (or a pair of adjacent words) the tokenizer cut is a term of its own; a pair longer than
  :data:`MAX_TERM_CHARS` characters is reported as its two words;
- overlapping character n-grams merge into the stretch they cover, reported once, at most
  :data:`MAX_TERM_CHARS` characters (longer stretches are split at word boundaries);
- a word found inside such a stretch adds its weight to the stretch;
- a single character is a term only where the tokenizer cut it as a word in this text.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from model.fastpath import CompiledModel, Features
from model.normalize import NormalizedText
from model.prediction import Term

MAX_TERM_CHARS = 12
# Only the heaviest contributions are turned into terms. A term's weight sums many small ones
# (every n-gram of its stretch), so fewer change the answer: with 32, most texts' terms differ.
CANDIDATES = 48
# A term repeated all over a text is highlighted where it first stands, not thousands of times.
MAX_SPANS = 20


@dataclass(frozen=True)
class Analysis:
    """A text normalised (with offsets into the original) and its word tokens with their spans."""

    normalized: NormalizedText
    words: list[tuple[str, int, int]]


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


def explain_all(
    analyses: Sequence[Analysis], features: Features, labels: Sequence[str], compiled: CompiledModel, limit: int
) -> list[tuple]:
    """The ``limit`` heaviest terms that pushed row i of a batch to class ``labels[i]``, per row.

    The batch's contributions, each row's heaviest ones and their feature names are found as
    arrays over all rows at once; only turning them into terms goes text by text.
    """
    n = len(analyses)
    rows = np.repeat(np.arange(n), np.diff(features.indptr))
    classes = np.array([compiled.estimator_classes.index(label) for label in labels], dtype=np.int64)
    contributions = features.values * compiled.coef_t[features.columns, classes[rows]]
    positive = contributions > 0
    rows, columns, amounts = rows[positive], features.columns[positive], contributions[positive]
    # Each row's contributions heaviest first, then the first CANDIDATES of each row.
    order = np.lexsort((-amounts, rows))
    rows, columns, amounts = rows[order], columns[order], amounts[order]
    rank = np.arange(len(rows)) - np.searchsorted(rows, rows)
    keep = rank < CANDIDATES
    rows, columns, amounts = rows[keep], columns[keep], amounts[keep]
    bounds = np.searchsorted(rows, np.arange(n + 1)).tolist()
    names, is_word = compiled.named_columns(columns)
    amounts = amounts.tolist()
    return [
        _terms(analysis, names[begin:end], is_word[begin:end], amounts[begin:end], limit)
        for analysis, begin, end in zip(analyses, bounds, bounds[1:], strict=False)
    ]


def _terms(analysis: Analysis, names: list[str], is_word: list[bool], amounts: list[float], limit: int) -> tuple:
    """Terms from a text's heaviest positive contributions: feature names, which are words, amounts."""
    if not names:
        return ()
    text = analysis.normalized.text
    words = analysis.words
    # Where each word a word feature begins with stands in the text (at most MAX_SPANS places).
    firsts = {name.split(" ", 1)[0] for name, word in zip(names, is_word, strict=True) if word}
    starts: dict[str, list[int]] = {}
    for index, (word, _, _) in enumerate(words):
        if word in firsts:
            found = starts.setdefault(word, [])
            if len(found) < MAX_SPANS:
                found.append(index)

    word_terms: list[tuple[tuple[int, int], float]] = []  # (span, weight) per word-feature occurrence
    gram_spans: list[tuple[int, int, float]] = []  # (start, end, weight) per character n-gram occurrence
    for name, word, amount in zip(names, is_word, amounts, strict=True):
        if word:
            parts = name.split(" ")
            first = starts.get(parts[0], [])
            if len(parts) == 1:
                found = first
            else:
                found = [
                    i
                    for i in first
                    if i + len(parts) <= len(words) and all(words[i + j][0] == part for j, part in enumerate(parts))
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
    stretches: dict[tuple[int, int], float] = {}
    bounds: list[int] | None = None
    for start, end, amount in clusters:
        if end - start <= MAX_TERM_CHARS:
            stretches[(start, end)] = amount
            continue
        if bounds is None:
            bounds = sorted({e for _, _, e in words} | {s for _, s, _ in words})
        for piece in _pieces(start, end, bounds):
            stretches[piece] = stretches.get(piece, 0.0) + amount * (piece[1] - piece[0]) / (end - start)
    # A word inside a stretch joins it; other words stand alone (and take in shorter words inside them).
    pieces = list(stretches)  # in order and apart: at most one holds a given span
    piece_starts = [start for start, _ in pieces]
    alone: list[tuple[int, int]] = []
    for (start, end), amount in sorted(word_terms, key=lambda t: t[0][0] - t[0][1]):  # longest first
        at = bisect_right(piece_starts, start) - 1
        if at >= 0 and end <= pieces[at][1]:
            key = pieces[at]
        else:
            key = next((span for span in alone if span[0] <= start and end <= span[1]), None)
            if key is None:
                key = (start, end)
                alone.append(key)
        stretches[key] = stretches.get(key, 0.0) + amount

    terms: dict[str, list] = {}  # display -> [weight, spans in the normalised text]
    single_words: set[tuple[int, int]] | None = None
    for (start, end), amount in stretches.items():
        if end - start == 1:
            if single_words is None:
                single_words = {(s, e) for _, s, e in words if e - s == 1}
            if (start, end) not in single_words:
                continue
        entry = terms.setdefault(text[start:end], [0.0, []])
        entry[0] += amount
        entry[1].append((start, end))
    best = sorted(terms.items(), key=lambda kv: (-kv[1][0], kv[0]))[:limit]
    original = analysis.normalized.original_span
    return tuple(
        Term(display, weight, _merged([original(start, end) for start, end in spans]))
        for display, (weight, spans) in best
    )


def _merged(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if out and start <= out[-1][1]:
            out[-1] = (out[-1][0], max(out[-1][1], end))
        else:
            out.append((start, end))
    return tuple(out)
