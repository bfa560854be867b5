"""Training: cross-validated thresholds and metrics, the final fit, and gate metrics."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from sklearn.model_selection import StratifiedKFold

from model.artifact import save_version
from model.normalize import normalize
from model.pipeline import NONE_LABEL, PipelineSettings, TopicModel, build_pipeline, decide
from model.taxonomy import Taxonomy
from model.tokenizer import Tokenizer
from training.corpus import Record, corpus_sha256, load_bundled
from training.metrics import score
from training.split import split_gate

logger = logging.getLogger(__name__)

THRESHOLD_GRID = np.round(np.arange(0.10, 0.81, 0.02), 2)
THRESHOLD_BOUNDS = (0.15, 0.6)


class TrainingError(Exception):
    """The corpus cannot train a model (too few records for a topic, for instance)."""


@dataclass(frozen=True)
class TrainingOptions:
    """What a training run does besides the pipeline's own settings."""

    folds: int = 5
    review_margin: float = 0.1
    settings: PipelineSettings = field(default_factory=PipelineSettings)


def _labels(records: list[Record]) -> np.ndarray:
    return np.array([r.topic or NONE_LABEL for r in records])


def _check_counts(records: list[Record], folds: int, taxonomy: Taxonomy) -> None:
    counts = Counter(r.topic or NONE_LABEL for r in records)
    missing = [t for t in taxonomy.ids if counts[t] == 0]
    if missing:
        raise TrainingError(f"no training records for topic(s) {', '.join(missing)}")
    small = {t: n for t, n in counts.items() if n < folds}
    if small:
        listed = ", ".join(f"{t} ({n})" for t, n in sorted(small.items()))
        raise TrainingError(f"every topic needs at least {folds} records for {folds}-fold training; too few: {listed}")


def _fit(records: list[Record], settings: PipelineSettings, tokenizer: Tokenizer):
    labels = _labels(records)
    smallest = min(Counter(labels).values())
    fitted = PipelineSettings(**{**settings.to_dict(), "calibration_folds": min(settings.calibration_folds, smallest)})
    pipeline = build_pipeline(fitted, tokenizer)
    pipeline.fit([r.text for r in records], labels)
    return pipeline


def _topic_proba(pipeline, texts: list[str], taxonomy: Taxonomy) -> np.ndarray:
    classes = list(pipeline.classes_)
    proba = pipeline.predict_proba(texts)
    return proba[:, [classes.index(t) for t in taxonomy.ids]]


def choose_thresholds(records: list[Record], proba: np.ndarray, taxonomy: Taxonomy) -> dict[str, float]:
    """Per topic, the probability threshold with the best F1 for "this topic is acceptable"."""
    thresholds = {}
    for column, topic in enumerate(taxonomy.ids):
        truth = np.array([topic in r.accept for r in records])
        best, best_f1 = 0.5, -1.0
        for threshold in THRESHOLD_GRID:
            predicted = proba[:, column] >= threshold
            tp = int(np.sum(predicted & truth))
            denominator = int(predicted.sum() + truth.sum())
            f1 = 2 * tp / denominator if denominator else 0.0
            if f1 > best_f1 + 1e-12:
                best, best_f1 = float(threshold), f1
        thresholds[topic] = float(min(max(best, THRESHOLD_BOUNDS[0]), THRESHOLD_BOUNDS[1]))
    return thresholds


def train_model(
    records: list[Record],
    gate: list[Record],
    taxonomy: Taxonomy,
    options: TrainingOptions = TrainingOptions(),
    on_step: Callable[[str], None] | None = None,
) -> tuple[TopicModel, dict]:
    """Train on ``records``; score cross-validation and the ``gate`` records; return model and metadata.

    Steps: ``folds`` cross-validation fits (out-of-fold probabilities choose the per-topic
    thresholds and give the cross-validated metrics), the final fit, then the gate score.
    """
    step = on_step or (lambda description: None)
    started = time.monotonic()
    _check_counts(records, options.folds, taxonomy)
    tokenizer = Tokenizer()
    labels = _labels(records)
    texts = [r.text for r in records]
    oof = np.zeros((len(records), len(taxonomy)))
    folds = StratifiedKFold(n_splits=options.folds, shuffle=True, random_state=0)
    for number, (train_index, test_index) in enumerate(folds.split(texts, labels), 1):
        step(f"cross-validation fold {number}/{options.folds}")
        pipeline = _fit([records[i] for i in train_index], options.settings, tokenizer)
        oof[test_index] = _topic_proba(pipeline, [texts[i] for i in test_index], taxonomy)
    thresholds = choose_thresholds(records, oof, taxonomy)
    cv_predictions = [decide(row, taxonomy, thresholds, options.review_margin) for row in oof]
    cv_metrics = score(records, cv_predictions, taxonomy)

    step("final fit")
    model = TopicModel(_fit(records, options.settings, tokenizer), taxonomy, thresholds, options.review_margin)

    step("gate split")
    gate_metrics = score(gate, model.predict([r.text for r in gate], explain=False), taxonomy) if gate else None
    counts = Counter(r.topic or NONE_LABEL for r in records)
    metadata = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "taxonomy": taxonomy.to_dict(),
        "settings": {
            **options.settings.to_dict(),
            "folds": options.folds,
            "review_margin": options.review_margin,
        },
        "corpus": {
            "sha256": corpus_sha256(records),
            "records": len(records),
            "per_topic": {t: counts[t] for t in (*taxonomy.ids, NONE_LABEL) if counts[t]},
            "items": sum(r.kind == "item" for r in records),
            "gate_sha256": corpus_sha256(gate) if gate else None,
            "gate_records": len(gate),
        },
        "thresholds": thresholds,
        "metrics": {"cv": cv_metrics, "gate": gate_metrics},
        "training_seconds": round(time.monotonic() - started, 1),
    }
    return model, metadata


def training_sets(
    taxonomy: Taxonomy, extra: list[Record], use_bundled: bool = True
) -> tuple[list[Record], list[Record]]:
    """(training records, gate records) from the bundled corpus and operators' extra records.

    The gate is always the bundled corpus's gate split; an extra record whose normalised text
    equals a gate text is left out so the gate stays unseen.
    """

    bundled_train, gate = split_gate(load_bundled(taxonomy))
    gate_texts = {normalize(r.text) for r in gate}
    kept = [r for r in extra if normalize(r.text) not in gate_texts]
    if len(kept) < len(extra):
        logger.warning("left out %d extra record(s) whose text is in the gate split", len(extra) - len(kept))
    return (bundled_train if use_bundled else []) + kept, gate


def train_version(
    root,
    taxonomy: Taxonomy,
    extra: list[Record] = (),
    use_bundled: bool = True,
    options: TrainingOptions = TrainingOptions(),
    on_step: Callable[[str], None] | None = None,
):
    """Train and save a new version under ``root``, make it current, return (dir, metadata)."""
    records, gate = training_sets(taxonomy, list(extra), use_bundled)
    if not records:
        raise TrainingError("no training records: give --corpus files or drop --no-bundled")
    model, metadata = train_model(records, gate, taxonomy, options, on_step)
    version_dir = save_version(root, model, metadata)
    return version_dir, metadata
