"""``newstag train``: a new model version from the bundled corpus, extra corpora and corrections."""

from __future__ import annotations

from pathlib import Path

import click

from newstag.cli.options import TrainingSteps, database_option, settings
from training.review import DEFAULT_TARGET


def describe_review(review: dict) -> str:
    """The review rule training chose, and what it reached on out-of-fold predictions."""
    rule = review["rule"]
    text = (
        f"Review flag: no topic over its threshold, best score under {rule['min_score']:.2f}"
        + (f", or best two within {rule['min_margin']:.2f}" if rule["min_margin"] else "")
        + f". Cross-validated: {review['coverage']:.1%} of texts unflagged, "
        f"{review['precision']:.3f} of those acceptable (target {review['target']:.2f})"
    )
    if not review["reached"]:
        text += f"; the target was NOT reached on this corpus, the best rule reaches {review['precision']:.3f}"
    return text + "."


def corrections(database: str | None, since=None) -> list:
    """Editors' corrections as corpus records, the latest per text."""
    from training.feedback import FeedbackStore

    store = FeedbackStore(database or settings().database)
    try:
        return store.latest_records(since)
    finally:
        store.close()


@click.command()
@click.option(
    "--corpus",
    "corpora",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Extra JSONL or CSV corpus (fields id, text, topic[, also, kind, hard]). Repeatable.",
)
@click.option("--no-bundled", is_flag=True, help="Train on the --corpus files only; the gate split is then theirs.")
@click.option(
    "--taxonomy",
    "taxonomy_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Your own topic list (JSON: version, topics with id, name[, description, iptc]) instead of the "
    "package's. Bundled records of a topic it lacks count as out of scope.",
)
@click.option("--out", type=click.Path(path_type=Path), help="Model root to write to (default: the configured root).")
@click.option("--folds", type=click.IntRange(2, 20), default=5, show_default=True, help="Cross-validation folds.")
@click.option("--with-feedback", is_flag=True, help="Add editors' corrections from the feedback store.")
@database_option
@click.option("--force", is_flag=True, help="Make the new version current even if the gate refuses it.")
@click.option(
    "--gate-margin",
    type=float,
    help="How far macro-F1 on the gate split may fall below the current model's (default: NEWSTAG_GATE_MARGIN).",
)
@click.option(
    "--review-precision",
    type=click.FloatRange(0.5, 1.0),
    default=DEFAULT_TARGET,
    show_default=True,
    help="Choose the review flag so that texts it leaves unflagged are this often right (cross-validated).",
)
@click.option(
    "--gate-topic-margin",
    type=float,
    help="How far any one topic's F1 on the gate split may fall (default: NEWSTAG_GATE_TOPIC_MARGIN).",
)
def train(
    corpora,
    no_bundled,
    taxonomy_file,
    out,
    folds,
    with_feedback,
    database,
    force,
    review_precision,
    gate_margin,
    gate_topic_margin,
):
    """Train a model version and make it current.

    Trains on the bundled corpus (less its gate split) plus any --corpus files and, with
    --with-feedback, editors' corrections (a correction replaces any record with the same
    text; the latest correction of a text wins). Prints cross-validated and gate metrics per
    topic and writes a new version under the model root. The version becomes current only if
    it passes the gate: macro-F1 on the gate split no more than --gate-margin below the
    current model's, no topic's F1 more than --gate-topic-margin below (--force overrides).
    With --no-bundled the gate split is a fixed share of the --corpus records (by a hash of
    their ids), so such a model has a gate of its own. A failed run leaves the root as it was.

    --taxonomy FILE trains for your own topic list: the model carries it, and the service,
    reports and compare follow it. Every topic needs at least 30 labelled records; a bundled
    record of a topic the list lacks takes an acceptable other topic the list has ('also'),
    else joins the out-of-scope texts (topic null). A root whose current model has other
    topics is refused unless --force (the gate cannot compare them); a fresh root needs none.

    \b
    Example:
      newstag train --corpus our_labels.jsonl --folds 3 --out models
      newstag train --taxonomy our_topics.json --corpus our_topics.jsonl --no-bundled --out our_models
    """
    from model.taxonomy import load_taxonomy, load_taxonomy_file
    from training.corpus import load_corpus
    from training.gate import macro_change
    from training.metrics import format_report
    from training.train import TrainingOptions, train_version

    if no_bundled and not corpora:
        raise click.UsageError("--no-bundled needs at least one --corpus file")
    config = settings(gate_margin=gate_margin, gate_topic_margin=gate_topic_margin, database_url=database)
    root = out or config.root
    taxonomy = load_taxonomy_file(taxonomy_file) if taxonomy_file else load_taxonomy()
    extra = load_corpus(list(corpora), taxonomy)
    feedback = corrections(config.database) if with_feedback else []
    steps = TrainingSteps(total=folds + 2)
    try:
        version_dir, meta = train_version(
            root,
            taxonomy,
            extra,
            use_bundled=not no_bundled,
            options=TrainingOptions(folds=folds, review_precision=review_precision),
            on_step=steps,
            feedback=feedback,
            margins=config.margins,
            force=force,
        )
    finally:
        steps.close()
    corpus = meta["corpus"]
    click.echo(f"Trained {corpus['records']} records in {meta['training_seconds']} s.")
    if with_feedback:
        click.echo(
            f"Editors' corrections used: {corpus['feedback_used']} (replacing {corpus['feedback_replaced']} "
            f"records; {corpus['feedback_skipped_gate']} left out because their text is in the gate split)."
        )
    click.echo(format_report(meta["metrics"]["cv"], f"{folds}-fold cross-validation"))
    click.echo(describe_review(meta["review"]))
    if meta["metrics"]["gate"]:
        click.echo(format_report(meta["metrics"]["gate"], "gate split"))
    if "taxonomy_change" in meta:
        change = meta["taxonomy_change"]
        click.echo(f"Taxonomy changed (forced): the new model {change['change']} compared with {change['against']}.")
    if "gate_check" in meta:
        check = meta["gate_check"]
        verdict = "forced past the gate" if check["forced"] else "gate passed"
        click.echo(
            f"{verdict} against {check['against']}: {macro_change(check['macro_f1_old'], check['macro_f1_new'])}"
        )
    click.echo(f"Saved {version_dir} (now current).")
