"""Trust: how often an unflagged tag is acceptable, and how much is left unflagged.

Scores the model ``newstag train`` makes (the bundled corpus less its gate split, thresholds and
review rule chosen on out-of-fold predictions) with ``training.metrics.score``, the figures
``newstag evaluate`` reports: on each real-news file of ``../shared/data`` and on the gate split,
whose out-of-scope records count as wrong when left unflagged. Real text that fits no topic comes
from THUCNews: the titles of its test split in the sections a legal and public-safety page never
covers (``FOREIGN_SECTIONS``), scored as out-of-scope records; only their flagged share is read.
"""

from __future__ import annotations

from bench import THUCNEWS
from bench.texts import _jsonl, bundled_records, real_news
from model.pipeline import TopicModel
from training.corpus import Record
from training.metrics import score
from training.split import split_gate

# What issue 12 asks of every source; the report marks each figure against it.
TARGETS = {
    "accept_accuracy": 0.95,
    "macro_f1": 0.85,
    "unflagged_accept_accuracy": 0.98,
    "coverage": 0.85,
    "out_of_domain_review_rate": 0.90,
}
FIGURES = ("n", "out_of_domain", "review_rate", *TARGETS)
# THUCNews sections that are none of our topics. Society and politics are left out: they hold police,
# court and disaster news. A few titles of these sections are ours too (an exam-fraud warning, a
# celebrity's crash), so their flagged share is a floor under what a perfect model would score.
FOREIGN_SECTIONS = ("education", "entertainment", "finance", "game", "realty", "science", "sports", "stocks")


def as_record(row: dict) -> Record:
    """A real-news row as a corpus record: ``topic`` the best label, ``accept`` every acceptable one."""
    topic = row.get("topic")
    also = tuple(label for label in row.get("accept", ()) if label != topic)
    return Record(id=str(row.get("id", "")), text=row["text"], topic=topic, also=also)


def trust_of(model: TopicModel, name: str, records: list[Record], predictions: list | None = None) -> dict:
    """The trust figures of ``model`` on ``records`` (or of its ``predictions`` for them), under ``name``."""
    if predictions is None:
        predictions = model.predict([r.text for r in records], explain=False)
    metrics = score(records, predictions, model.taxonomy)
    row = {"source": name, **{key: metrics[key] for key in FIGURES}}
    if not row["n"]:
        # score() gives None for the topic figures; the unflagged texts are all wrong by definition,
        # which the out-of-scope flagged share already says, so that figure is None too.
        row["unflagged_accept_accuracy"] = None
    return row


def foreign_titles() -> list[Record] | None:
    """THUCNews test titles of ``FOREIGN_SECTIONS`` as out-of-scope records, or None when absent."""
    path = THUCNEWS / "test.jsonl"
    if not path.exists():
        return None
    return [
        Record(id=f"thucnews-{index}", text=row["text"], topic=None)
        for index, row in enumerate(_jsonl(path))
        if row["label"] in FOREIGN_SECTIONS
    ]


def trust(model: TopicModel) -> list[dict]:
    """One row per real-news file (when ``../shared/data`` is present), the foreign THUCNews titles,
    the gate split, then the gate split's items, paragraphs and hard cases (rows marked ``part``)."""
    rows = []
    for name, items in (real_news() or {}).items():
        rows.append(trust_of(model, name, [as_record(row) for row in items]))
    foreign = foreign_titles()
    if foreign:
        rows.append(trust_of(model, "THUCNews titles, sections none of ours", foreign))
    _, gate = split_gate(list(bundled_records()))
    predicted = model.predict([r.text for r in gate], explain=False)
    rows.append(trust_of(model, "gate split (bundled corpus)", gate, predicted))
    # The same split by kind, as the issue asks for evidence per kind; part of the row above, so not charted.
    for part, keep in (
        ("items", lambda r: r.kind == "item"),
        ("paragraphs", lambda r: r.kind == "paragraph"),
        ("hard cases", lambda r: r.hard),
    ):
        pairs = [(r, p) for r, p in zip(gate, predicted, strict=True) if keep(r)]
        records, predictions = [r for r, _ in pairs], [p for _, p in pairs]
        rows.append({**trust_of(model, f"gate split: {part}", records, predictions), "part": True})
    return rows
