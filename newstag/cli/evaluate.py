"""``newstag evaluate``: score a model on a labelled corpus, optionally with an HTML report."""

from __future__ import annotations

from pathlib import Path

import click

from newstag.cli.options import load_or_train, model_option, no_progress_option, progress_enabled

BATCH = 256


def predict_records(model, records, progress: bool, description: str) -> list:
    """Predictions for corpus records in batches, with a progress bar for 1,000 or more."""
    from newstag.cli.options import PROGRESS_MIN_LINES, with_progress

    batches = [records[i : i + BATCH] for i in range(0, len(records), BATCH)]
    predictions = []
    shown = progress and len(records) >= PROGRESS_MIN_LINES
    for batch in with_progress(batches, len(batches), description, shown):
        predictions.extend(model.predict([r.text for r in batch], explain=False))
    return predictions


@click.command()
@model_option
@click.option(
    "--corpus",
    "corpora",
    multiple=True,
    required=True,
    type=click.Path(path_type=Path),
    help="Labelled JSONL or CSV corpus to score. Repeatable.",
)
@click.option(
    "--report",
    "report_dir",
    type=click.Path(path_type=Path),
    help="Directory for report.html, confusion.png and metrics.json.",
)
@no_progress_option
def evaluate(model, corpora, report_dir, no_progress):
    """Score a model on a labelled corpus.

    Prints accuracy, accept-accuracy (the best topic is among the record's topic and
    'also'), macro-F1 and per-topic precision, recall and F1; --report also writes an HTML
    report with the confusion matrix as a picture.

    \b
    Example:
      newstag evaluate --corpus held_out.jsonl --report reports/2026-11
    """
    from training.corpus import CorpusError, load_corpus
    from training.metrics import format_report, score

    loaded = load_or_train(model)
    taxonomy = loaded.model.taxonomy
    records = load_corpus(list(corpora), taxonomy)
    if not records:
        raise CorpusError(corpora[0], None, "no records")
    predictions = predict_records(loaded.model, records, progress_enabled(no_progress), "scoring")
    metrics = score(records, predictions, taxonomy)
    click.echo(format_report(metrics, f"model {loaded.version}"))
    if report_dir:
        from training.report import write_report

        path = write_report(metrics, taxonomy, report_dir, f"newstag {loaded.version}")
        click.echo(f"Report written to {path}")
