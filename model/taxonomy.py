"""The topic taxonomy, read from ``model/data/taxonomy.json``."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from importlib import resources


@dataclass(frozen=True)
class Topic:
    """One topic: stable id, Chinese display name, scope description."""

    id: str
    name: str
    description: str

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "description": self.description}


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

    def to_dict(self) -> dict:
        return {
            "version": self.version,
            "topics": [t.to_dict() for t in self.topics],
            "boundary_rules": list(self.boundary_rules),
        }

    @classmethod
    def from_dict(cls, data: dict) -> Taxonomy:
        topics = tuple(Topic(t["id"], t["name"], t["description"]) for t in data["topics"])
        if len({t.id for t in topics}) != len(topics):
            raise ValueError("taxonomy has duplicate topic ids")
        return cls(data["version"], topics, tuple(data.get("boundary_rules", ())))


def load_taxonomy() -> Taxonomy:
    """Read the bundled taxonomy."""
    text = resources.files("model").joinpath("data/taxonomy.json").read_text(encoding="utf-8")
    return Taxonomy.from_dict(json.loads(text))
