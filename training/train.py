"""Training: cross-validated thresholds and metrics, the final fit, and gate metrics."""

from __future__ import annotations

import logging
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from sklearn.model_selection import StratifiedKFold

from model.artifact import current_version, load_model, read_metadata, save_version
from model.errors import NewstagError
from model.normalize import normalize
from model.pipeline import NONE_LABEL, PipelineSettings, TopicModel, build_pipeline, decide
from model.taxonomy import Taxonomy
from model.tokenizer import Tokenizer
from training.corpus import Record, corpus_sha256, fit_to_taxonomy, load_bundled
from training.gate import GateMargins, GateVerdict, check_taxonomy, gate_metrics, judge
from training.metrics import score
from training.review import DEFAULT_TARGET, choose_review_rule
from training.split import split_gate

logger = logging.getLogger(__name__)

THRESHOLD_GRID = np.round(np.arange(0.10, 0.81, 0.02), 2)
THRESHOLD_BOUNDS = (0.15, 0.6)
MIN_TOPIC_RECORDS = 30  # labelled records a topic needs (training and gate split together)


class TrainingError(NewstagError):
    """The corpus cannot train a model (too few records for a topic, for instance)."""


@dataclass(frozen=True)
class TrainingOptions:
    """What a training run does besides the pipeline's own settings."""

    folds: int = 5
    review_precision: float = DEFAULT_TARGET  # unflagged out-of-fold texts must be this often acceptable
    feedback_weight: float = 3.0  # an editor's correction counts this many times a corpus record
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
    if len(counts) < 3:
        # The classifier (and its compiled fast path) is multi-class: two topics need a third class.
        raise TrainingError(
            f"a model of {len(taxonomy)} topics needs out-of-scope records too (topic null: texts of none of "
            "the topics); add some to a --corpus file"
        )


def check_topic_records(records: list[Record], taxonomy: Taxonomy, minimum: int = MIN_TOPIC_RECORDS) -> None:
    """Refuse a corpus in which a topic has fewer than ``minimum`` labelled records, naming each such topic."""
    counts = Counter(r.topic for r in records)
    short = [t for t in taxonomy.topics if counts[t.id] < minimum]
    if short:
        listed = ", ".join(f"{t.id} {t.name} ({counts[t.id]})" for t in short)
        raise TrainingError(
            f"too few labelled records for topic(s) {listed}: each topic needs at least {minimum}; "
            "add records with --corpus or drop the topic from the taxonomy"
        )


def is_feedback(record: Record) -> bool:
    return record.source.startswith("feedback:")


def _fit(records: list[Record], options: TrainingOptions, tokenizer: Tokenizer):
    labels = _labels(records)
    smallest = min(Counter(labels).values())
    settings = options.settings
    fitted = PipelineSettings(**{**settings.to_dict(), "calibration_folds": min(settings.calibration_folds, smallest)})
    pipeline = build_pipeline(fitted, tokenizer)
    weights = np.array([options.feedback_weight if is_feedback(r) else 1.0 for r in records])
    pipeline.fit([r.text for r in records], labels, classify__sample_weight=weights)
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
        pipeline = _fit([records[i] for i in train_index], options, tokenizer)
        oof[test_index] = _topic_proba(pipeline, [texts[i] for i in test_index], taxonomy)
    thresholds = choose_thresholds(records, oof, taxonomy)
    review, review_figures = choose_review_rule(records, oof, taxonomy, thresholds, options.review_precision)
    if not review_figures["reached"]:
        logger.warning(
            "no review rule keeps unflagged texts %.0f%% acceptable on this corpus; the best reaches %s",
            100 * options.review_precision,
            review_figures["precision"],
        )
    cv_predictions = [decide(row, taxonomy, thresholds, review) for row in oof]
    cv_metrics = score(records, cv_predictions, taxonomy)

    step("final fit")
    model = TopicModel(_fit(records, options, tokenizer), taxonomy, thresholds, review)

    step("gate split")
    gate_metrics = score(gate, model.predict([r.text for r in gate], explain=False), taxonomy) if gate else None
    counts = Counter(r.topic or NONE_LABEL for r in records)
    metadata = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "taxonomy": taxonomy.to_dict(),
        "settings": {
            **options.settings.to_dict(),
            "folds": options.folds,
            "review_precision": options.review_precision,
        },
        "corpus": {
            "sha256": corpus_sha256(records),
            "records": len(records),
            "per_topic": {t: counts[t] for t in (*taxonomy.ids, NONE_LABEL) if counts[t]},
            "items": sum(r.kind == "item" for r in records),
            "feedback": sum(is_feedback(r) for r in records),
            "gate_sha256": corpus_sha256(gate) if gate else None,
            "gate_records": len(gate),
        },
        "thresholds": thresholds,
        "review": review_figures,
        "metrics": {"cv": cv_metrics, "gate": gate_metrics},
        "training_seconds": round(time.monotonic() - started, 1),
    }
    return model, metadata


class GateRefused(NewstagError):
    """The new model scored worse than the current one on the gate split; it was saved, not made current."""

    def __init__(self, verdict: GateVerdict, version_dir: Path):
        self.verdict, self.version_dir = verdict, version_dir
        super().__init__(
            f"{verdict.message}. The new version is kept as {version_dir.name} but is not current; "
            f"serve it anyway with `newstag models use {version_dir.name}` or train with --force."
        )


@dataclass(frozen=True)
class TrainingSet:
    """What one training run learns from and is gated on."""

    records: list[Record]
    gate: list[Record]
    gate_source: str = "bundled"  # "bundled": the bundled corpus's gate split; "corpus": the --corpus files'
    feedback_used: int = 0
    feedback_replaced: int = 0
    feedback_skipped_gate: int = 0


def training_sets(
    taxonomy: Taxonomy, extra: list[Record], use_bundled: bool = True, feedback: list[Record] = ()
) -> TrainingSet:
    """The training records and gate records from the bundled corpus, extra records and feedback.

    The gate split follows the corpus: with the bundled corpus it is the bundled corpus's gate
    split (extra records all train), without it the same share of the extra records, chosen by
    the same hash of their ids. Bundled records and corrections are fitted to ``taxonomy`` (a
    topic it lacks becomes an acceptable other topic it has, else out of scope). The gate stays
    unseen: a record or correction whose normalised text equals a gate text is left out. A
    correction replaces every record with the same normalised text (corrections arrive one per
    text, latest first); corrections never gate.
    """
    if use_bundled:
        source_train, gate = split_gate(load_bundled(taxonomy))
        extra_train = extra
    else:
        source_train = []
        extra_train, gate = split_gate(extra)
        if extra and not gate:
            logger.warning("none of the corpus records falls in the gate split: the model has no gate metrics")
    gate_texts = {normalize(r.text) for r in gate}
    kept = [r for r in extra_train if normalize(r.text) not in gate_texts]
    if len(kept) < len(extra_train):
        logger.warning("left out %d extra record(s) whose text is in the gate split", len(extra_train) - len(kept))
    feedback = fit_to_taxonomy(list(feedback), taxonomy)
    corrected_texts = [normalize(r.text) for r in feedback]
    usable = [r for r, text in zip(feedback, corrected_texts, strict=True) if text not in gate_texts]
    corrected = set(corrected_texts) - gate_texts
    base = source_train + kept
    remaining = [r for r in base if normalize(r.text) not in corrected]
    return TrainingSet(
        records=remaining + usable,
        gate=gate,
        gate_source="bundled" if use_bundled else "corpus",
        feedback_used=len(usable),
        feedback_replaced=len(base) - len(remaining),
        feedback_skipped_gate=len(feedback) - len(usable),
    )


def train_version(
    root: Path,
    taxonomy: Taxonomy,
    extra: list[Record] = (),
    use_bundled: bool = True,
    options: TrainingOptions = TrainingOptions(),
    on_step: Callable[[str], None] | None = None,
    feedback: list[Record] = (),
    margins: GateMargins = GateMargins(),
    force: bool = False,
) -> tuple[Path, dict]:
    """Train and save a new version under ``root``; make it current if it passes the gate.

    Raises TaxonomyChanged before training when the root's current version has other topics,
    and GateRefused (after saving the version) when the new one scores worse than the current
    version on the gate split; ``force`` overrides both (a new taxonomy is then not gated).
    """
    root = Path(root)
    previous = current_version(root)
    previous_meta = read_metadata(root / previous) if previous is not None else None
    taxonomy_change = None
    if previous_meta is not None:
        previous_taxonomy = Taxonomy.from_dict(previous_meta["taxonomy"])
        taxonomy_change = previous_taxonomy.topic_change(taxonomy)
        if not force:
            override = "train with --force to make it current anyway, or into another root with --out"
            check_taxonomy(previous, previous_taxonomy, taxonomy, override)
    sets = training_sets(taxonomy, list(extra), use_bundled, list(feedback))
    if not sets.records:
        raise TrainingError("no training records: give --corpus files or drop --no-bundled")
    check_topic_records(sets.records + sets.gate, taxonomy)
    model, metadata = train_model(sets.records, sets.gate, taxonomy, options, on_step)
    metadata["corpus"]["gate_source"] = sets.gate_source
    metadata["corpus"]["feedback_used"] = sets.feedback_used
    metadata["corpus"]["feedback_replaced"] = sets.feedback_replaced
    metadata["corpus"]["feedback_skipped_gate"] = sets.feedback_skipped_gate
    verdict = None
    if taxonomy_change is not None:
        metadata["taxonomy_change"] = {"against": previous, "change": taxonomy_change}
    elif previous is not None and sets.gate:
        previous_dir = root / previous
        old = gate_metrics(previous_meta, lambda: load_model(previous_dir).model, sets.gate, taxonomy)
        verdict = judge(old, metadata["metrics"]["gate"], margins)
        metadata["gate_check"] = {"against": previous, **verdict.to_dict(), "forced": force and not verdict.passed}
    passed = verdict is None or verdict.passed or force
    version_dir = save_version(root, model, metadata, make_current=passed)
    if not passed:
        raise GateRefused(verdict, version_dir)
    return version_dir, metadata
