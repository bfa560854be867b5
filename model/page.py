"""Splitting a pasted newspaper page into sections and items, and tagging them.

A page is plain text, one block a line (blank lines between blocks are optional):
section headers and headlines are short lines without sentence-final punctuation, bylines
name reporters (``通讯员 …``, ``本报记者 …``), everything else is body text. A run of short
lines before a body is "section headers…, headline"; a line starting with a dash is a
subtitle; a byline after the body of an item that has none belongs to it (photo captions).
Nothing here depends on a particular paper's section names.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from model.lead import LEADIN, folded, is_byline, is_headline
from model.normalize import BYLINE_ROLE
from model.prediction import Prediction

if TYPE_CHECKING:
    from model.predictor import Predictor

_SUBTITLE = re.compile(r"^(?:——|—|--|－－|─)")
_INLINE_BYLINE = re.compile(rf"^(?:本报讯|本报消息)?[ ]*[(（【〔][ ]*({BYLINE_ROLE}[^()（）【】〔〕]{{1,60}})[)）】〕]")


@dataclass
class PageItem:
    """One news item of a page."""

    id: str
    section: str | None = None
    headline: str | None = None
    subtitle: str | None = None
    byline: str | None = None
    paragraphs: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The item's full text: headline, subtitle, byline and paragraphs, a line each."""
        parts = [self.headline, self.subtitle, self.byline, *self.paragraphs]
        return "\n".join(p for p in parts if p)


def split_page(page: str) -> list[PageItem]:
    """The items of a page, in order, with ids ``item-1``, ``item-2``…"""
    items: list[PageItem] = []
    section: str | None = None
    pending: list[str] = []  # short lines not yet known to be sections or a headline

    def new_item(**fields) -> PageItem:
        item = PageItem(id=f"item-{len(items) + 1}", section=section, **fields)
        items.append(item)
        return item

    def open_pending() -> PageItem:
        """Turn the pending short lines into section header(s) and a headline."""
        nonlocal section
        titles = [line for line in pending if not _SUBTITLE.match(folded(line))]
        subtitles = [line for line in pending if _SUBTITLE.match(folded(line))]
        pending.clear()
        if len(titles) >= 2:
            section = titles[-2]
        return new_item(
            headline=titles[-1] if titles else None,
            subtitle=" ".join(subtitles) or None,
        )

    for raw in page.splitlines():
        line = raw.strip()
        if not line:
            continue
        current = items[-1] if items else None
        if is_byline(line):
            if pending:
                open_pending().byline = line
            elif current is not None and current.byline is None:
                # Right under the headline, or after a photo caption.
                current.byline = line
            else:
                new_item(byline=line)
        elif _SUBTITLE.match(folded(line)) and len(line) <= 60 and (pending or current):
            if pending:
                pending.append(line)
            elif not current.paragraphs:
                current.subtitle = f"{current.subtitle} {line}" if current.subtitle else line
            else:
                current.paragraphs.append(line)
        elif is_headline(line):
            pending.append(line)
        else:
            if pending:
                item = open_pending()
            elif current is None or (current.paragraphs and LEADIN.match(folded(line)) is not None):
                item = new_item()
            else:
                item = current
            if not item.paragraphs and item.byline is None:
                inline = _INLINE_BYLINE.match(folded(line))
                if inline:
                    item.byline = inline.group(1).strip()
            item.paragraphs.append(line)
    if pending:
        current = items[-1] if items else None
        if current is not None and current.paragraphs:
            # Trailing short lines after a body are more body (an unpunctuated last line).
            current.paragraphs.extend(pending)
        else:
            open_pending()
    return items


def tag_page(model: Predictor, page: str, explain: bool = True) -> list[dict]:
    """Split a page and tag every item from all its text and every paragraph on its own."""
    items = split_page(page)
    texts: list[str] = []
    for item in items:
        texts.append(item.text)
        texts.extend(item.paragraphs)
    predictions = iter(model.predict(texts, explain=explain))
    out = []
    for item in items:
        whole: Prediction = next(predictions)
        entry = {
            "id": item.id,
            "section": item.section,
            "headline": item.headline,
            "subtitle": item.subtitle,
            "byline": item.byline,
            "text": item.text,
            **whole.to_dict(explain=explain),
        }
        entry["paragraphs"] = [
            {"text": paragraph, **next(predictions).to_dict(explain=explain)} for paragraph in item.paragraphs
        ]
        out.append(entry)
    return out
