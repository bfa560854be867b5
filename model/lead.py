"""The lead of a text: where a reporter names who acted.

A news item's headline, byline and first sentence name the organ that acted (…检察院以涉嫌…罪
对…提起公诉); its body may then retell the case in another organ's words for paragraphs. The
pipeline gives the lead its own feature block so the lead can outvote the body. For a single
paragraph the lead is its first sentence.

Models of format 3 and later read a one-line text's lead from its normalised form (the same
first sentence, found after normalisation), so the lead is a prefix of the normalised text and
the fast path takes its features from the text's own; items still go line by line through
:func:`lead_of`, which needs their original lines.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence

from model.normalize import BYLINE_LINE, normalize_all

HEADLINE_MAX_CHARS = 40
_SENTENCE_END = "。！？!?；;…:：,，、"
_CLOSERS = "”’\"'）)」』】》>"
LEADIN = re.compile(r"^(?:本报讯|本报消息|据.{1,12}(?:报道|消息))")
_FIRST_SENTENCE = re.compile(r"[^。！？!?]*[。！？!?]?[”’」』]?")
_QUOTE_OPENERS = "“「『\"'"
# Lines before the body that can stand in a lead: headline, subtitle, byline.
_MAX_HEAD_LINES = 4
_MAX_LEAD_CHARS = 200
# Every character str.splitlines splits at: a text without one is a single line.
_LINE_BOUNDARY = re.compile("[\n\r\v\f\x1c-\x1e\x85\u2028\u2029]")


def folded(line: str) -> str:
    return unicodedata.normalize("NFKC", line).strip()


def is_byline(line: str) -> bool:
    """A line that only names reporters: ``通讯员 陈晓东``, ``本报记者 王五 通讯员 桐检``."""
    return len(line) <= 60 and BYLINE_LINE.fullmatch(folded(line)) is not None


def is_headline(line: str) -> bool:
    """Headline-like: short, no sentence inside, no sentence-final punctuation, no lead-in."""
    line = folded(line)
    if len(line) > HEADLINE_MAX_CHARS or "。" in line or LEADIN.match(line):
        return False
    core = line.rstrip(_CLOSERS)
    return bool(core) and core[-1] not in _SENTENCE_END


def first_sentence(line: str) -> str:
    """The first sentence of a paragraph; two when the first is a quotation (the actor follows it)."""
    first = _FIRST_SENTENCE.match(line).group(0)
    if first.lstrip()[:1] in _QUOTE_OPENERS and len(first) < len(line):
        first += _FIRST_SENTENCE.match(line, len(first)).group(0)
    return first[:_MAX_LEAD_CHARS]


def lead_of(text: str) -> str:
    """Headline, subtitle and byline lines before the body, then the body's first sentence."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    parts = []
    for line in lines:
        if len(parts) < _MAX_HEAD_LINES and (is_headline(line) or is_byline(line)):
            parts.append(line)
            continue
        parts.append(first_sentence(line))
        break
    return "\n".join(parts)


def normalized_leads(texts: Sequence[str], normalized: Sequence[str], from_normalized: bool) -> list[str]:
    """Each text's lead, normalised. ``normalized``: the texts' normalised forms.

    With ``from_normalized`` (format 3 and later) a text of one non-blank line has the lead
    :func:`lead_of` would find, read from its normalised form; other texts, and every text
    without it, get ``normalize(lead_of(text))``.
    """
    leads: list[str | None] = [None] * len(texts)
    apart = []
    for index, (text, norm) in enumerate(zip(texts, normalized, strict=True)):
        if from_normalized and (
            not _LINE_BOUNDARY.search(text) or sum(1 for line in text.splitlines() if line.strip()) <= 1
        ):
            leads[index] = norm if is_headline(norm) else first_sentence(norm)
        else:
            apart.append(index)
    for index, lead in zip(apart, normalize_all([lead_of(texts[i]) for i in apart]), strict=True):
        leads[index] = lead
    return leads
