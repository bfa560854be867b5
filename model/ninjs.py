"""One prediction as an IPTC ninjs 3.1 news item ("News in JSON").

The item carries its text as a plain-text body, the topics the model gave it as ``subjects``
(each topic's IPTC Media Topics, or newstag's own concept where IPTC has none, from the
taxonomy) and the places found in it. Property names follow the ninjs 3.1 JSON Schema
(``contentType``, ``versionCreated``…); only ``uri`` is required there. No date is invented:
the tagger does not know when an item was created.
"""

from __future__ import annotations

import hashlib
import re
from urllib.parse import quote

from model.errors import NewstagError
from model.taxonomy import Subject, Taxonomy

NINJS_VERSION = "3.1"
NINJS_SCHEMA = "http://www.iptc.org/std/ninjs/ninjs-schema_3.1.json#"
LANGUAGE = "zh-Hans"
# How the content relates to what is put in these lists (values as in IPTC's own ninjs examples).
SUBJECT_REL = "classifies"
MAIN_PLACE_REL = "about"
OTHER_PLACE_REL = "mentions"

# RFC 3986 pchar without percent: what may stand unencoded in the last part of our URNs.
_URN_SAFE = "-._~!$&'()*+,;=:@"
_ABSOLUTE_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")


class NinjsError(NewstagError, ValueError):
    """Arguments that cannot make a valid ninjs item."""


def item_uri(item_id: object, scope: str | None = None) -> str:
    """A ``urn:newstag:item:`` URI for an item id (``scope`` tells apart ids reused per page or batch)."""
    parts = [str(item_id)] if scope is None else [scope, str(item_id)]
    return "urn:newstag:item:" + ":".join(quote(part, safe=_URN_SAFE) for part in parts)


def text_uri(text: str) -> str:
    """A ``urn:newstag:text:`` URI naming a text by its SHA-256, for items that come without an id."""
    return "urn:newstag:text:sha256:" + hashlib.sha256(text.encode("utf-8")).hexdigest()


def page_scope(page: str) -> str:
    """``page-`` and 16 hex digits of the page's SHA-256: scopes the ids ``item-1``… every page reuses."""
    return "page-" + hashlib.sha256(page.encode("utf-8")).hexdigest()[:16]


def page_to_ninjs(items: list[dict], page: str, taxonomy: Taxonomy, model_version: str) -> list[dict]:
    """ninjs items for the items of a tagged page (``model.page.tag_page``'s, places added), URIs scoped to it.

    The body is the item's paragraphs: its headline, subtitle and byline have properties of their own.
    """
    scope = page_scope(page)
    return [
        to_ninjs(
            item,
            taxonomy,
            model_version,
            uri=item_uri(item["id"], scope),
            headline=item.get("headline"),
            subtitle=item.get("subtitle"),
            byline=item.get("byline"),
            text="\n".join(p["text"] for p in item.get("paragraphs", ())) or item["text"],
        )
        for item in items
    ]


def to_ninjs(
    result: dict,
    taxonomy: Taxonomy,
    model_version: str,
    *,
    uri: str | None = None,
    headline: str | None = None,
    subtitle: str | None = None,
    byline: str | None = None,
    text: str,
) -> dict:
    """A ninjs 3.1 object for one prediction (``Prediction.to_dict()``, optionally with ``id`` and ``places``).

    The URI is ``uri`` if given, else one made from the result's ``id``, else one made from
    the text. Subjects come from every label, or from the best topic when no label cleared
    its threshold (the item then also gets an ``edNote`` saying it needs review).
    """
    item = {
        "uri": _item_uri(result, uri, text),
        "type": "text",
        "standard": {"name": "ninjs", "version": NINJS_VERSION, "schema": NINJS_SCHEMA},
        "language": LANGUAGE,
    }
    headlines = [{"role": role, "value": value} for role, value in (("main", headline), ("sub", subtitle)) if value]
    if headlines:
        item["headlines"] = headlines
    if byline:
        item["by"] = byline
    item["bodies"] = [{"role": "main", "contentType": "text/plain", "charCount": len(text), "value": text}]
    subjects = _subjects(result, taxonomy, f"newstag model {model_version}")
    if subjects:
        item["subjects"] = subjects
    places = [_place(place, first=i == 0) for i, place in enumerate(result.get("places") or ())]
    if places:
        item["places"] = places
    if result.get("needs_review"):
        why = "no topic cleared its threshold" if not result.get("labels") else "the two best topics are close"
        item["edNote"] = f"newstag: needs review ({why})"
    return item


def _item_uri(result: dict, uri: str | None, text: str) -> str:
    if uri is not None:
        if not _ABSOLUTE_URI.fullmatch(uri):
            raise NinjsError(f"uri {uri!r} is not an absolute URI (scheme, colon, no spaces)")
        return uri
    item_id = result.get("id")
    if item_id is None or str(item_id) == "":
        return text_uri(text)
    return item_uri(item_id)


def _subjects(result: dict, taxonomy: Taxonomy, creator: str) -> list[dict]:
    """Every mapped subject of the labels (or of the best topic), once each, at its best confidence."""
    scores = {t["topic"]: t["score"] for t in result.get("topics", ())}
    scores.setdefault(result["topic"], result["score"])
    topics = result.get("labels") or [result["topic"]]
    best: dict[str, dict] = {}
    for topic_id in topics:
        if topic_id not in taxonomy:
            raise NinjsError(f"topic {topic_id!r} is not in the taxonomy ({', '.join(taxonomy.ids)})")
        score = scores.get(topic_id)
        for subject in taxonomy.get(topic_id).iptc:
            entry = _subject(subject, score, creator)
            kept = best.get(subject.uri)
            if kept is None or entry.get("confidence", -1) > kept.get("confidence", -1):
                best[subject.uri] = entry
    return list(best.values())


def _subject(subject: Subject, score: float | None, creator: str) -> dict:
    entry = {"uri": subject.uri}
    name = subject.name(LANGUAGE, "en")
    if name is not None:
        entry["name"] = name
    if subject.code is not None:
        entry["literal"] = f"medtop:{subject.code}"
    entry["rel"] = SUBJECT_REL
    entry["creator"] = creator
    if score is not None:
        # A topic cut from the list by top_k has no score here: better no confidence than a made-up one.
        entry["confidence"] = min(100, max(0, round(score * 100)))
    return entry


def _place(place: dict, first: bool) -> dict:
    """A ninjs place: the name, the 6-digit division code as literal; never geoJSON."""
    return {
        "name": place["name"],
        "literal": str(place["adcode"]),
        "rel": MAIN_PLACE_REL if first else OTHER_PLACE_REL,
    }
