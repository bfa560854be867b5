"""Scoring predictions against labelled records."""

from __future__ import annotations

from model.prediction import Prediction
from model.taxonomy import Taxonomy
from training.corpus import Record


def score(records: list[Record], predictions: list[Prediction], taxonomy: Taxonomy) -> dict:
    """Accuracy, accept-accuracy, macro-F1, per-topic P/R/F1, confusion matrix, review rates.

    Topic metrics use the records that have a topic and the best predicted topic; records
    without a topic (near-domain text) only count towards ``out_of_domain_review_rate``.
    """
    ids = list(taxonomy.ids)
    index = {t: i for i, t in enumerate(ids)}
    confusion = [[0] * len(ids) for _ in ids]
    correct = accepted = reviewed = 0
    ood = ood_reviewed = 0
    for record, prediction in zip(records, predictions, strict=True):
        if record.topic is None:
            ood += 1
            ood_reviewed += prediction.needs_review
            continue
        confusion[index[record.topic]][index[prediction.topic]] += 1
        correct += prediction.topic == record.topic
        accepted += prediction.topic in record.accept
        reviewed += prediction.needs_review
    n = sum(map(sum, confusion))
    per_topic = {}
    for i, topic in enumerate(ids):
        tp = confusion[i][i]
        predicted = sum(row[i] for row in confusion)
        support = sum(confusion[i])
        precision = tp / predicted if predicted else 0.0
        recall = tp / support if support else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_topic[topic] = {"precision": precision, "recall": recall, "f1": f1, "support": support}
    present = [t for t in ids if per_topic[t]["support"]]
    return {
        "n": n,
        "accuracy": correct / n if n else 0.0,
        "accept_accuracy": accepted / n if n else 0.0,
        "macro_f1": sum(per_topic[t]["f1"] for t in present) / len(present) if present else 0.0,
        "review_rate": reviewed / n if n else 0.0,
        "out_of_domain": ood,
        "out_of_domain_review_rate": ood_reviewed / ood if ood else None,
        "per_topic": per_topic,
        "labels": ids,
        "confusion": confusion,
    }


def format_report(metrics: dict, title: str) -> str:
    """A plain-text table of a score() result."""
    lines = [
        f"{title}: {metrics['n']} texts, accuracy {metrics['accuracy']:.3f}, "
        f"accept-accuracy {metrics['accept_accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}, "
        f"flagged for review {metrics['review_rate']:.1%}",
        f"{'topic':<15}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}",
    ]
    for topic, m in metrics["per_topic"].items():
        lines.append(f"{topic:<15}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>10.3f}{m['support']:>9}")
    if metrics.get("out_of_domain"):
        lines.append(
            f"out-of-domain texts: {metrics['out_of_domain']}, flagged for review "
            f"{metrics['out_of_domain_review_rate']:.1%}"
        )
    return "\n".join(lines)
