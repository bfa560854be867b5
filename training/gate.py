"""The gate: a new model must not score worse than the current one on the gate split.

Only models of the same topics compare: a model of another taxonomy (topic ids added or dropped)
is refused with :class:`TaxonomyChanged` before any metric is looked at.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from model.errors import NewstagError
from training.corpus import Record, corpus_sha256

if TYPE_CHECKING:  # light at import: the settings read GateMargins' defaults
    from model.artifact import LoadedModel
    from model.pipeline import TopicModel
    from model.taxonomy import Taxonomy


class TaxonomyChanged(NewstagError):
    """Two models of different topic lists: the gate cannot say which is better."""

    def __init__(self, current: str, change: str, override: str):
        self.current, self.change = current, change
        super().__init__(
            f"the taxonomy changed: the new model {change} compared with {current}, so the gate cannot compare "
            f"them; {override}"
        )


def check_taxonomy(current: str, old: Taxonomy, new: Taxonomy, override: str) -> None:
    """Raise TaxonomyChanged when ``new`` has other topic ids than ``old`` (``override`` says how to go on)."""
    change = old.topic_change(new)
    if change is not None:
        raise TaxonomyChanged(current, change, override)


@dataclass(frozen=True)
class GateMargins:
    """How far below the current model a new one may fall: macro-F1, and F1 of any one topic."""

    macro: float = 0.02
    topic: float = 0.05


@dataclass(frozen=True)
class GateVerdict:
    """Whether a new model passes, with the differences that decided it."""

    passed: bool
    macro_f1_old: float | None  # None when the gate split holds no text with a topic
    macro_f1_new: float | None
    topic_drops: dict[str, float] = field(default_factory=dict)  # topics that fell past the topic margin
    reasons: tuple[str, ...] = ()

    @property
    def message(self) -> str:
        if self.passed:
            return f"gate passed: {macro_change(self.macro_f1_old, self.macro_f1_new)}"
        return "gate refused the new model: " + "; ".join(self.reasons)

    def to_dict(self) -> dict:
        return {
            "passed": self.passed,
            "macro_f1_old": _rounded(self.macro_f1_old),
            "macro_f1_new": _rounded(self.macro_f1_new),
            "topic_drops": {t: round(d, 4) for t, d in self.topic_drops.items()},
            "reasons": list(self.reasons),
        }


def _rounded(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def macro_change(old: float | None, new: float | None) -> str:
    """'macro-F1 0.812 -> 0.830', or what stands in for it when the gate split holds no topic text."""
    if old is None or new is None:
        return "the gate split holds no text with a topic, so there is no macro-F1 to compare"
    return f"macro-F1 {old:.3f} -> {new:.3f}"


def judge(old: dict, new: dict, margins: GateMargins = GateMargins()) -> GateVerdict:
    """Compare two score() results on the same gate records.

    With no topic text in the gate split (a small custom corpus) there is nothing to fall below:
    the new model passes.
    """
    reasons = []
    macro_drop = 0.0 if old["macro_f1"] is None or new["macro_f1"] is None else old["macro_f1"] - new["macro_f1"]
    if macro_drop > margins.macro:
        reasons.append(
            f"macro-F1 fell by {macro_drop:.3f} ({old['macro_f1']:.3f} -> {new['macro_f1']:.3f}), "
            f"more than the margin {margins.macro:.3f}"
        )
    drops = {}
    for topic, old_topic in old["per_topic"].items():
        new_f1 = new["per_topic"].get(topic, {}).get("f1", 0.0)
        drop = old_topic["f1"] - new_f1
        if drop > margins.topic:
            drops[topic] = drop
            reasons.append(
                f"F1 of {topic} fell by {drop:.3f} ({old_topic['f1']:.3f} -> {new_f1:.3f}), "
                f"more than the topic margin {margins.topic:.3f}"
            )
    return GateVerdict(not reasons, old["macro_f1"], new["macro_f1"], drops, tuple(reasons))


def gate_metrics(metadata: dict, model: Callable[[], TopicModel], gate: list[Record], taxonomy: Taxonomy) -> dict:
    """A model's score on the gate records: the one its metadata records when the split is the
    same, else scored now (``model`` is called only then)."""
    from training.metrics import score

    recorded = metadata.get("metrics", {}).get("gate")
    if recorded and metadata.get("corpus", {}).get("gate_sha256") == corpus_sha256(gate):
        return recorded
    return score(gate, model().predict([r.text for r in gate], explain=False), taxonomy)


def check_candidate(current: LoadedModel, candidate: LoadedModel, margins: GateMargins = GateMargins()) -> GateVerdict:
    """Judge a candidate against the model now serving by the gate metrics both recorded when trained.

    Nothing is re-scored: a service never loads the corpus or scikit-learn to reload. Raises
    TaxonomyChanged when the two have different topics.
    """
    check_taxonomy(current.version, current.model.taxonomy, candidate.model.taxonomy, "send force to serve it anyway")
    old, new = (m.metadata.get("metrics", {}).get("gate") for m in (current, candidate))
    if not old or not new:
        missing = current if not old else candidate
        return GateVerdict(False, 0.0, 0.0, reasons=(f"{missing.version} recorded no gate metrics",))
    return judge(old, new, margins)
