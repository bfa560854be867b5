"""Scoring predictions against labelled records."""

from __future__ import annotations

from model.prediction import Prediction
from model.taxonomy import Taxonomy
from training.corpus import Record


def score(records: list[Record], predictions: list[Prediction], taxonomy: Taxonomy) -> dict:
    """Accuracy, accept-accuracy, macro-F1, per-topic P/R/F1, confusion matrix, review rates.

    Topic metrics use the records that have a topic and the best predicted topic; records
    without a topic (near-domain text) only count towards ``out_of_domain_review_rate``. With no
    topic records at all, accuracy, accept-accuracy, macro-F1 and the review rate are None: there is
    no topic to be right about.
    """
    # Imported here: training.gate and the CLI import this module, and sklearn.metrics is slow to load.
    from sklearn.metrics import confusion_matrix, precision_recall_fscore_support

    ids = list(taxonomy.ids)
    truth: list[str] = []
    guess: list[str] = []
    accepted = reviewed = 0
    ood = ood_reviewed = 0
    unflagged = unflagged_right = 0
    for record, prediction in zip(records, predictions, strict=True):
        if not prediction.needs_review:
            unflagged += 1
            unflagged_right += prediction.topic in record.accept  # out-of-scope text is never right
        if record.topic is None:
            ood += 1
            ood_reviewed += prediction.needs_review
            continue
        truth.append(record.topic)
        guess.append(prediction.topic)
        accepted += prediction.topic in record.accept
        reviewed += prediction.needs_review
    n = len(truth)
    if n:
        confusion = confusion_matrix(truth, guess, labels=ids).tolist()
        columns = precision_recall_fscore_support(truth, guess, labels=ids, average=None, zero_division=0)
    else:
        # sklearn refuses empty input; with no topic records every per-topic count is zero.
        confusion = [[0] * len(ids) for _ in ids]
        columns = ([0.0] * len(ids), [0.0] * len(ids), [0.0] * len(ids), [0] * len(ids))
    per_topic = {
        topic: {"precision": float(p), "recall": float(r), "f1": float(f), "support": int(s)}
        for topic, p, r, f, s in zip(ids, *columns, strict=True)
    }
    correct = sum(confusion[i][i] for i in range(len(ids)))
    present = [t for t in ids if per_topic[t]["support"]]
    return {
        "n": n,
        "accuracy": correct / n if n else None,
        "accept_accuracy": accepted / n if n else None,
        "macro_f1": sum(per_topic[t]["f1"] for t in present) / len(present) if present else None,
        "review_rate": reviewed / n if n else None,
        "out_of_domain": ood,
        "out_of_domain_review_rate": ood_reviewed / ood if ood else None,
        "coverage": unflagged / len(records) if records else 0.0,
        "unflagged_accept_accuracy": unflagged_right / unflagged if unflagged else None,
        "review_curve": review_curve(records, predictions),
        "per_topic": per_topic,
        "labels": ids,
        "confusion": confusion,
    }


def review_curve(records: list[Record], predictions: list[Prediction], steps: int = 20) -> list[dict]:
    """What an editor gets at each review rate: flag the least confident texts first and score the rest.

    One point per review rate 0, 1/steps, …: the share of texts left unflagged that are acceptable
    (an out-of-scope text left unflagged counts as wrong).
    """
    ranked = sorted(zip(predictions, records, strict=True), key=lambda pair: -pair[0].score)
    right = [prediction.topic in record.accept for prediction, record in ranked]
    points = []
    for step in range(steps):
        kept = round(len(right) * (1 - step / steps))
        if kept:
            points.append({"review_rate": step / steps, "accept_accuracy": sum(right[:kept]) / kept})
    return points


def format_report(metrics: dict, title: str) -> str:
    """A plain-text table of a score() result."""
    if not metrics["n"]:
        lines = [f"{title}: no texts with a topic, so no accuracy, macro-F1 or per-topic figures"]
    else:
        lines = [
            f"{title}: {metrics['n']} texts, accuracy {metrics['accuracy']:.3f}, "
            f"accept-accuracy {metrics['accept_accuracy']:.3f}, macro-F1 {metrics['macro_f1']:.3f}, "
            f"flagged for review {metrics['review_rate']:.1%}",
            f"{'topic':<15}{'precision':>10}{'recall':>10}{'f1':>10}{'support':>9}",
        ]
        for topic, m in metrics["per_topic"].items():
            lines.append(f"{topic:<15}{m['precision']:>10.3f}{m['recall']:>10.3f}{m['f1']:>10.3f}{m['support']:>9}")
    if metrics.get("unflagged_accept_accuracy") is not None:
        lines.append(
            f"not flagged for review: {metrics['coverage']:.1%} of texts, "
            f"{metrics['unflagged_accept_accuracy']:.3f} of them acceptable"
        )
    if metrics.get("out_of_domain"):
        lines.append(
            f"out-of-domain texts: {metrics['out_of_domain']}, flagged for review "
            f"{metrics['out_of_domain_review_rate']:.1%}"
        )
    return "\n".join(lines)
