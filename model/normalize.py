"""Text normalisation: width folding, whitespace, lead-ins and bylines.

Two entry points share every rule: :func:`normalize` returns only the normalised string
(the fast path used for features), :func:`normalize_with_offsets` also maps each normalised
character back to the original text so explanations can highlight the original.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

_NEWLINES = "\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"


class _CharMap(dict):
    """str.translate table built on demand: NFKC of each character, lower-cased.

    Newlines survive as ``\\n`` (bylines are found line by line), other whitespace becomes a
    space, control characters and lone surrogates are dropped.
    """

    def __missing__(self, code: int) -> str:
        ch = chr(code)
        if ch in _NEWLINES:
            out = "\n"
        elif 0xD800 <= code <= 0xDFFF:
            out = ""
        elif ch.isspace():
            out = " "
        elif unicodedata.category(ch) in ("Cc", "Cf"):
            out = ""
        else:
            out = unicodedata.normalize("NFKC", ch).lower()
            if out.isspace():
                out = " "
        self[code] = out
        return out


_CHARMAP = _CharMap()

BYLINE_ROLE = r"(?:本报记者|本报通讯员|特约记者|见习记者|实习记者|实习生|通讯员|记者)"
_NAME = r"[\u4e00-\u9fff·]{2,5}"
# A whole line that is only a byline: "通讯员 陈晓东 李婷", "本报记者 王五 通讯员 桐检".
BYLINE_LINE = re.compile(rf"^[ ]*(?:{BYLINE_ROLE}[ ]*(?:{_NAME}(?:[ 、,]+|[ ]*$))+)+[ ]*$", re.M)
# A byline in brackets inside a paragraph: "本报讯(记者 王五 通讯员 赵六)".
_BYLINE_BRACKETS = re.compile(rf"[(\[【〔][ ]*{BYLINE_ROLE}[^()\[\]【】〔〕\n]{{0,60}}[)\]】〕]")
# A byline right after the lead-in, without brackets: "本报讯 通讯员 吴检 近日,…".
_BYLINE_AFTER_LEADIN = re.compile(rf"(?<=本报讯)[ ]*(?:{BYLINE_ROLE}[ ]*{_NAME}(?:[ 、]+{_NAME})*[ ]+)+")
_LEADIN = re.compile(r"本报讯|本报消息")
_NAME_IN_BYLINE = re.compile(_NAME)
_SPACES = re.compile(r"\s+")

# Agency abbreviations in bylines ("通讯员 桐检" = 桐乡检察): suffix -> the word it stands for.
# Longest suffixes first. A reporter's personal name is dropped; an abbreviation is a signal.
AGENCY_SUFFIXES: tuple[tuple[str, str], ...] = (
    ("禁毒办", "禁毒"),
    ("禁毒", "禁毒"),
    ("反诈", "反诈"),
    ("交警", "交警"),
    ("应急", "应急"),
    ("消宣", "消防"),
    ("检宣", "检察"),
    ("法宣", "法院"),
    ("公宣", "公安"),
    ("司宣", "司法"),
    ("消", "消防"),
    ("检", "检察"),
    ("法", "法院"),
    ("公", "公安"),
    ("警", "公安"),
    ("司", "司法"),
)


def agency_of(name: str) -> str | None:
    """The agency word a byline abbreviation such as ``桐检`` stands for, or None."""
    if len(name) > 5:
        return None
    for suffix, word in AGENCY_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix) or name == suffix and len(suffix) > 1:
            return word
    return None


@dataclass(frozen=True)
class NormalizedText:
    """A normalised text and, for each of its characters, the index it came from."""

    original: str
    text: str
    offsets: tuple[int, ...]

    def original_span(self, start: int, end: int) -> tuple[int, int]:
        """The span of the original text that normalised characters [start, end) came from."""
        return self.offsets[start], self.offsets[end - 1] + 1


# A replacement piece: (string, first source index, end source index) in the text being edited.
_Piece = tuple[str, int, int]


def _sub(
    pattern: re.Pattern,
    repl: Callable[[re.Match], Iterable[_Piece]],
    text: str,
    offsets: list[int],
) -> tuple[str, list[int]]:
    """re.sub that also carries the offset map along (normalize runs plain re.sub)."""
    out: list[str] = []
    out_offsets: list[int] = []
    pos = 0
    for match in pattern.finditer(text):
        out.append(text[pos : match.start()])
        out_offsets.extend(offsets[pos : match.start()])
        for piece, start, end in repl(match):
            out.append(piece)
            # The first half of a piece maps to the start of its source, the second half to
            # its end, so a term drawn from the piece highlights the whole source.
            half = len(piece) / 2
            out_offsets.extend(offsets[start if i < half else end - 1] for i in range(len(piece)))
        pos = match.end()
    out.append(text[pos:])
    out_offsets.extend(offsets[pos:])
    return "".join(out), out_offsets


def _byline_pieces(match: re.Match) -> list[_Piece]:
    """Keep only the agency words of a byline, placed where their abbreviation stood."""
    pieces: list[_Piece] = [(" ", match.start(), match.start() + 1)]
    for name in _NAME_IN_BYLINE.finditer(match.group(0)):
        word = agency_of(name.group(0))
        if word:
            start = match.start() + name.start()
            pieces.append((f" {word} ", start, start + len(name.group(0))))
    return pieces


def _drop(match: re.Match) -> list[_Piece]:
    return []


def _one_space(match: re.Match) -> list[_Piece]:
    return [(" ", match.start(), match.start() + 1)]


_RULES: tuple[tuple[re.Pattern, Callable[[re.Match], Iterable[_Piece]]], ...] = (
    (BYLINE_LINE, _byline_pieces),
    (_BYLINE_BRACKETS, _byline_pieces),
    (_BYLINE_AFTER_LEADIN, _byline_pieces),
    (_LEADIN, _drop),
    (_SPACES, _one_space),
)


def _apply_rules(text: str, offsets: list[int]) -> tuple[str, list[int]]:
    for pattern, repl in _RULES:
        text, offsets = _sub(pattern, repl, text, offsets)
    # Strip, keeping the map in step.
    start = len(text) - len(text.lstrip())
    end = len(text.rstrip())
    return text[start:end], offsets[start:end]


def _joined_pieces(repl: Callable[[re.Match], Iterable[_Piece]]) -> Callable[[re.Match], str]:
    return lambda match: "".join(piece for piece, _, _ in repl(match))


# The rules as plain re.sub replacements, for normalising without the offset map. The two whose
# replacement is always the same string pass it as a string, which re.sub applies without a call
# into Python per match (a text has a few dozen whitespace runs).
_CONSTANT = {_drop: "", _one_space: " "}
_PLAIN_RULES = tuple(
    (pattern, _CONSTANT[repl] if repl in _CONSTANT else _joined_pieces(repl)) for pattern, repl in _RULES
)


def normalize(text: str) -> str:
    """Normalise a text for features: NFKC, lower case, bylines reduced to agency words.

    The same rules as :func:`normalize_with_offsets`, run by re.sub without the offset map.
    """
    return normalize_all([text])[0]


# Between two texts normalised together. Translation drops control characters, so no text holds
# one; the line breaks around it keep each text's first and last lines lines of their own.
_SEPARATOR = "\n\x00\n"


def normalize_all(texts: Sequence[str]) -> list[str]:
    """:func:`normalize` of each text, the rules run once over all of them joined."""
    if not texts:
        return []
    joined = _SEPARATOR.join(text.translate(_CHARMAP) for text in texts)
    for pattern, repl in _PLAIN_RULES:
        joined = pattern.sub(repl, joined)
    return [part.strip() for part in joined.split("\x00")]


def normalize_with_offsets(text: str) -> NormalizedText:
    """Normalise like :func:`normalize` and keep the map back to the original characters."""
    pieces = [_CHARMAP[code] for code in map(ord, text)]
    lengths = list(map(len, pieces))
    if lengths.count(1) == len(lengths):  # the usual case: every character maps to one
        offsets = list(range(len(text)))
    else:
        offsets = [index for index, n in enumerate(lengths) for _ in range(n)]
    normalized, mapped = _apply_rules("".join(pieces), offsets)
    return NormalizedText(text, normalized, tuple(mapped))
