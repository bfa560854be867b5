"""The topic taxonomy, read from ``model/data/taxonomy.json`` or a newsroom's own file.

Each topic may list the subjects it maps to in the news industry's vocabularies, under
``"iptc"``: an IPTC Media Topic by its 8-digit code (``{"code": "20000133", "name": {"en":
"police", "zh-Hans": "警察"}, "match": "closeMatch"}``), or, for a topic IPTC has no concept
for, a URI of newstag's own (``{"uri": "urn:newstag:topic:party", "name": {…}}``). ``match`` is
the SKOS mapping relation from the newstag topic to the subject. Only the form of codes and
URIs is checked here: whether a code exists in IPTC's vocabulary is for the taxonomy's author.

A newsroom's own topic list (``newstag train --taxonomy FILE``) is read by
:func:`load_taxonomy_file`, which checks it more closely than the bundled file needs: the forms
of ids, names, fields and the number of topics. A trained model carries its taxonomy in its
``model.json``; what serves, reports and compares reads it from there.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import cached_property
from importlib import resources
from pathlib import Path

from model.errors import NewstagError

MEDIATOPIC = "http://cv.iptc.org/newscodes/mediatopic/"
MATCHES = ("exactMatch", "closeMatch", "broadMatch", "narrowMatch", "relatedMatch")

_CODE = re.compile(r"[0-9]{8}")
# A scheme, a colon and no whitespace: the form of an absolute URI, not its full grammar.
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:[^\s]+")
_MEDIATOPIC_URI = re.compile(r"https?://cv\.iptc\.org/newscodes/mediatopic/(?P<code>.*)")
_SUBJECT_KEYS = ("code", "uri", "name", "match")
_TOPIC_ID = re.compile(r"[a-z][a-z0-9_]{0,39}")
_TOPIC_KEYS = ("id", "name", "description", "iptc")
_TAXONOMY_KEYS = ("version", "topics", "boundary_rules")
# The editor page files "none of our topics" under this key, so no topic may be called so.
RESERVED_IDS = ("none",)
MIN_TOPICS = 2


class TaxonomyError(NewstagError, ValueError):
    """A taxonomy file that cannot be used as it is; the message names the topic and the fix."""


@dataclass(frozen=True)
class Subject:
    """A concept a topic maps to: an IPTC Media Topic or a concept of newstag's own scheme.

    ``names`` holds (language tag, label) pairs, e.g. (("en", "police"), ("zh-Hans", "警察")).
    """

    uri: str
    names: tuple[tuple[str, str], ...] = ()
    match: str | None = None

    @property
    def code(self) -> str | None:
        """The IPTC Media Topic code, or None for a subject outside that vocabulary."""
        return self.uri.removeprefix(MEDIATOPIC) if self.uri.startswith(MEDIATOPIC) else None

    def name(self, *languages: str) -> str | None:
        """The label in the first of ``languages`` that has one (any label if none is asked for)."""
        labels = dict(self.names)
        for language in languages or tuple(labels):
            if language in labels:
                return labels[language]
        return None

    def to_dict(self) -> dict:
        out: dict = {"code": self.code} if self.code is not None else {}
        out["uri"] = self.uri
        if self.names:
            out["name"] = dict(self.names)
        if self.match is not None:
            out["match"] = self.match
        return out

    @classmethod
    def from_dict(cls, data: object, where: str) -> Subject:
        """Read one entry of a topic's ``iptc`` list, checking the form of its code or URI."""
        if not isinstance(data, dict):
            raise TaxonomyError(
                f'{where}: expected an object such as {{"code": "20000133"}} or {{"uri": "urn:newstag:topic:…"}}, '
                f"got {type(data).__name__}"
            )
        _refuse_unknown_fields(data, _SUBJECT_KEYS, f"{where}: ")
        uri = _subject_uri(data, where)
        names = _names(data.get("name", {}), where)
        match = data.get("match")
        if match is not None and match not in MATCHES:
            raise TaxonomyError(f"{where}: match {match!r} is not one of {', '.join(MATCHES)}")
        return cls(uri, names, match)


def _refuse_unknown_fields(data: dict, allowed: tuple[str, ...], where: str = "") -> None:
    unknown = sorted(set(data) - set(allowed))
    if unknown:
        raise TaxonomyError(f"{where}unknown field(s) {', '.join(map(repr, unknown))}; use {', '.join(allowed)}")


def _subject_uri(data: dict, where: str) -> str:
    """The subject's URI: IPTC's for an 8-digit ``code``, else the ``uri`` given."""
    code, uri = data.get("code"), data.get("uri")
    if code is not None:
        if not isinstance(code, str) or not _CODE.fullmatch(code):
            raise TaxonomyError(
                f"{where}: code {code!r} is not an IPTC Media Topic code; write it as a string of 8 digits, "
                'e.g. "20000133"'
            )
        if uri is not None and _mediatopic_code(uri, where) != code:
            raise TaxonomyError(f"{where}: uri {uri!r} does not match code {code!r}; give one of them")
        return MEDIATOPIC + code
    if uri is None:
        raise TaxonomyError(f'{where}: give an IPTC "code" (8 digits) or, for a concept IPTC lacks, a "uri"')
    in_mediatopic = _mediatopic_code(uri, where)
    return MEDIATOPIC + in_mediatopic if in_mediatopic is not None else uri


def _mediatopic_code(uri: object, where: str) -> str | None:
    """The code of a URI in IPTC's Media Topic namespace, None for any other URI; bad forms are refused."""
    if not isinstance(uri, str) or not _URI.fullmatch(uri):
        raise TaxonomyError(
            f"{where}: uri {uri!r} is not an absolute URI (scheme, colon, no spaces), e.g. urn:newstag:topic:party"
        )
    found = _MEDIATOPIC_URI.fullmatch(uri)
    if found is None:
        return None
    if not _CODE.fullmatch(found["code"]):
        raise TaxonomyError(f"{where}: uri {uri!r} does not end in an 8-digit IPTC Media Topic code")
    return found["code"]


def _names(data: object, where: str) -> tuple[tuple[str, str], ...]:
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and k and isinstance(v, str) and v.strip() for k, v in data.items()
    ):
        example = '{"en": "police", "zh-Hans": "警察"}'
        raise TaxonomyError(f"{where}: name must map language tags to labels, e.g. {example}")
    return tuple(data.items())


@dataclass(frozen=True)
class Topic:
    """One topic: stable id, Chinese display name, scope description, the subjects it maps to."""

    id: str
    name: str
    description: str
    iptc: tuple[Subject, ...] = ()

    def to_dict(self) -> dict:
        out = {"id": self.id, "name": self.name, "description": self.description}
        if self.iptc:
            out["iptc"] = [s.to_dict() for s in self.iptc]
        return out

    @classmethod
    def from_dict(cls, data: dict) -> Topic:
        entries = data.get("iptc", [])
        if not isinstance(entries, list):
            raise TaxonomyError(f"topic {data['id']!r}: iptc must be a list of subjects")
        subjects = tuple(Subject.from_dict(e, f"topic {data['id']!r}: iptc[{i}]") for i, e in enumerate(entries))
        uris = [s.uri for s in subjects]
        if len(set(uris)) != len(uris):
            raise TaxonomyError(f"topic {data['id']!r}: iptc lists the same subject twice")
        return cls(data["id"], data["name"], data.get("description", ""), subjects)


@dataclass(frozen=True)
class Taxonomy:
    """The ordered set of topics and the boundary rules that separate them."""

    version: str
    topics: tuple[Topic, ...]
    boundary_rules: tuple[str, ...] = ()

    @cached_property
    def ids(self) -> tuple[str, ...]:
        return tuple(t.id for t in self.topics)

    def __contains__(self, topic_id: object) -> bool:
        return topic_id in self.ids

    def __len__(self) -> int:
        return len(self.topics)

    def get(self, topic_id: str) -> Topic:
        for topic in self.topics:
            if topic.id == topic_id:
                return topic
        raise KeyError(topic_id)

    def name(self, topic_id: str) -> str:
        return self.get(topic_id).name

    def topic_change(self, other: Taxonomy) -> str | None:
        """How ``other``'s topics differ from these ("adds …; drops …"), or None for the same topic ids.

        Ids decide, in any order: a new name, description or IPTC code is the same topic to a model.
        """
        added = [t for t in other.ids if t not in self.ids]
        dropped = [t for t in self.ids if t not in other.ids]
        if not added and not dropped:
            return None
        parts = (f"adds {', '.join(added)}" if added else "", f"drops {', '.join(dropped)}" if dropped else "")
        return "; ".join(p for p in parts if p)

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "topics": [t.to_dict() for t in self.topics],
            "boundary_rules": list(self.boundary_rules),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Taxonomy:
        topics = tuple(Topic.from_dict(t) for t in data["topics"])
        if len({t.id for t in topics}) != len(topics):
            raise TaxonomyError("taxonomy has duplicate topic ids")
        return cls(data["version"], topics, tuple(data.get("boundary_rules", ())))


def load_taxonomy() -> Taxonomy:
    """Read the bundled taxonomy."""
    text = resources.files("model").joinpath("data/taxonomy.json").read_text(encoding="utf-8")
    return Taxonomy.from_dict(json.loads(text))


def load_taxonomy_file(path: str | Path) -> Taxonomy:
    """Read and check a newsroom's own taxonomy file; every refusal names the topic and the fix."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise TaxonomyError(f"{path}: no such taxonomy file") from None
    except IsADirectoryError:
        raise TaxonomyError(f"{path}: is a directory, expected a taxonomy JSON file") from None
    except UnicodeDecodeError:
        raise TaxonomyError(f"{path}: not UTF-8 text") from None
    except OSError as exc:
        raise TaxonomyError(f"{path}: cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TaxonomyError(f"{path}: invalid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})") from None
    try:
        check_taxonomy_data(data)
        return Taxonomy.from_dict(data)
    except TaxonomyError as exc:
        raise TaxonomyError(f"{path}: {exc}") from None


def check_taxonomy_data(data: object) -> None:
    """Check a taxonomy's JSON more closely than the bundled file needs: a user wrote it."""
    example = '{"version": "2026-1", "topics": [{"id": "environment", "name": "环境资源"}, …]}'
    if not isinstance(data, dict):
        raise TaxonomyError(f"a taxonomy is a JSON object such as {example}")
    _refuse_unknown_fields(data, _TAXONOMY_KEYS)
    version = data.get("version")
    if not isinstance(version, str) or not version.strip():
        raise TaxonomyError(f'"version" must be a non-empty string naming this topic list, e.g. {example}')
    topics = data.get("topics")
    if not isinstance(topics, list) or len(topics) < MIN_TOPICS:
        raise TaxonomyError(f'"topics" must be a list of at least {MIN_TOPICS} topics, e.g. {example}')
    rules = data.get("boundary_rules", [])
    if not isinstance(rules, list) or not all(isinstance(r, str) for r in rules):
        raise TaxonomyError('"boundary_rules" must be a list of strings (or left out)')
    ids: dict[str, int] = {}
    names: dict[str, str] = {}
    for index, topic in enumerate(topics):
        topic_id = _check_topic(topic, index)
        if topic_id in ids:
            raise TaxonomyError(f"topics[{index}]: id {topic_id!r} is also topics[{ids[topic_id]}]; ids must differ")
        ids[topic_id] = index
        name = topic["name"].strip()
        if name in names:
            raise TaxonomyError(
                f"topic {topic_id!r}: name {name!r} is also topic {names[name]!r}'s; editors tell topics apart by name"
            )
        names[name] = topic_id


def _check_topic(topic: object, index: int) -> str:
    """One entry of ``topics``; returns its id."""
    if not isinstance(topic, dict):
        raise TaxonomyError(f'topics[{index}]: expected an object such as {{"id": "environment", "name": "环境资源"}}')
    topic_id = topic.get("id")
    if not isinstance(topic_id, str):
        raise TaxonomyError(f'topics[{index}]: "id" is missing; give a short id such as "environment"')
    where = f"topic {topic_id!r}"
    if not _TOPIC_ID.fullmatch(topic_id):
        raise TaxonomyError(
            f"{where}: the id must be lowercase ASCII letters, digits and underscores, starting with a letter, "
            'at most 40 characters (e.g. "environment", "ip_rights")'
        )
    if topic_id in RESERVED_IDS:
        raise TaxonomyError(f"{where}: the id {topic_id!r} is reserved (it means 'none of our topics'); choose another")
    _refuse_unknown_fields(topic, _TOPIC_KEYS, f"{where}: ")
    name = topic.get("name")
    if not isinstance(name, str) or not name.strip():
        raise TaxonomyError(f'{where}: "name" must be a non-blank string, the name editors see (e.g. "环境资源")')
    description = topic.get("description", "")
    if not isinstance(description, str):
        raise TaxonomyError(f'{where}: "description" must be a string (or left out)')
    return topic_id
