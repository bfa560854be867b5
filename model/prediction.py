"""Prediction objects: what the model says about one text, ready to become JSON."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, NamedTuple

if TYPE_CHECKING:  # the command line's help reads this module; numpy loads only to predict
    import numpy as np


class TopicScore(NamedTuple):
    """One topic's calibrated probability for a text (a tuple: eleven are made per text)."""

    topic: str
    name: str
    score: float

    def to_dict(self) -> dict:
        return {"topic": self.topic, "name": self.name, "score": round(self.score, 4)}


@dataclass(frozen=True)
class Term:
    """A term that pushed the winning topic, with where it stands in the original text."""

    term: str
    weight: float
    spans: tuple[tuple[int, int], ...]

    def to_dict(self) -> dict:
        return {
            "term": self.term,
            "weight": round(self.weight, 4),
            "spans": [list(span) for span in self.spans],
        }


@dataclass(frozen=True)
class Prediction:
    """The model's answer for one text.

    ``topics`` holds every topic, best first; ``labels`` the topics whose probability clears
    their own threshold; ``needs_review`` is set when none clears or the best two are close.
    """

    topics: tuple[TopicScore, ...]
    labels: tuple[str, ...]
    needs_review: bool
    explanation: tuple[Term, ...] = field(default=())

    @property
    def best(self) -> TopicScore:
        return self.topics[0]

    @property
    def topic(self) -> str:
        return self.best.topic

    @property
    def score(self) -> float:
        return self.best.score

    def to_dict(self, top_k: int | None = None, explain: bool = True) -> dict:
        """The JSON shape of ``newstag predict`` and the API."""
        topics = self.topics if top_k is None else self.topics[:top_k]
        out = {
            "topic": self.best.topic,
            "name": self.best.name,
            "score": round(self.best.score, 4),
            "labels": list(self.labels),
            "needs_review": self.needs_review,
            "topics": [t.to_dict() for t in topics],
        }
        if explain:
            out["explanation"] = [t.to_dict() for t in self.explanation]
        return out


@dataclass(frozen=True)
class ReviewRule:
    """When a prediction is flagged for an editor: no topic clears its threshold, the best score
    is below ``min_score``, or the best two are within ``min_margin``."""

    min_score: float = 0.0
    min_margin: float = 0.1

    def flags(self, best: float, second: float, labelled: bool) -> bool:
        return not labelled or best < self.min_score or best - second < self.min_margin

    def flags_all(self, best: np.ndarray, second: np.ndarray, labelled: np.ndarray) -> np.ndarray:
        """:meth:`flags` for arrays of predictions at once."""
        return ~labelled | (best < self.min_score) | (best - second < self.min_margin)

    def to_dict(self) -> dict:
        return {"min_score": self.min_score, "min_margin": self.min_margin}
