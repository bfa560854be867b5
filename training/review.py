"""Choosing the review rule: which predictions an editor must check, so the rest can be trusted.

The rule (:class:`model.pipeline.ReviewRule`) flags a prediction when no topic clears its
threshold, the best score is low, or the best two are close. Training picks the rule on
out-of-fold predictions: the one that leaves the most texts unflagged while unflagged texts stay
at least ``target`` acceptable (an out-of-scope text left unflagged counts as wrong).
"""

from __future__ import annotations

from model.prediction import ReviewRule
from model.taxonomy import Taxonomy
from training.corpus import Record

DEFAULT_TARGET = 0.98  # unflagged texts must be this often acceptable
SCORE_GRID = tuple(round(0.01 * step, 2) for step in range(96))
MARGIN_GRID = (0.0, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3)


def choose_review_rule(
    records: list[Record], proba, taxonomy: Taxonomy, thresholds: dict[str, float], target: float = DEFAULT_TARGET
) -> tuple[ReviewRule, dict]:
    """The rule with the widest coverage whose unflagged texts are ``target`` acceptable, and its figures.

    When no rule reaches the target (a small or noisy corpus), the most precise one is kept and
    the figures say it fell short.
    """
    import numpy as np  # here: the command line reads DEFAULT_TARGET without loading numpy

    ids = taxonomy.ids
    ranked = np.sort(proba, axis=1)
    best, second = ranked[:, -1], ranked[:, -2]
    winners = proba.argmax(axis=1)
    acceptable = np.array([ids[w] in r.accept for w, r in zip(winners, records, strict=True)])
    labelled = (proba >= np.array([thresholds[t] for t in ids])).any(axis=1)
    found = []  # (reached, precision or coverage first, …, rule)
    for margin in MARGIN_GRID:
        for score in SCORE_GRID:
            unflagged = labelled & (best >= score) & (best - second >= margin)
            kept = int(unflagged.sum())
            if not kept:
                continue
            precision = float((acceptable & unflagged).sum() / kept)
            coverage = kept / len(records)
            reached = precision >= target
            # Reached: widest coverage wins, then the simpler rule; otherwise the most precise.
            key = (reached, coverage if reached else precision, -margin, -score)
            found.append((key, ReviewRule(float(score), float(margin)), precision, coverage))
    if not found:
        rule = ReviewRule()
        return rule, {"rule": rule.to_dict(), "target": target, "precision": None, "coverage": 0.0, "reached": False}
    key, rule, precision, coverage = max(found, key=lambda f: f[0])
    return rule, {
        "rule": rule.to_dict(),
        "target": target,
        "precision": round(precision, 4),
        "coverage": round(coverage, 4),
        "reached": key[0],
    }
