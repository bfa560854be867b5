"""``newstag compare``: two model versions side by side."""

from __future__ import annotations

from pathlib import Path

import click

from newstag.cli.options import no_progress_option, progress_enabled, settings


def resolve_version(value: str) -> Path:
    """A version id of the configured root, a version directory, or a root (its current)."""
    from model.artifact import resolve_model_dir

    path = Path(value)
    if not path.exists():
        path = settings().root / value
    return resolve_model_dir(path)


@click.command()
@click.argument("old")
@click.argument("new")
@click.option(
    "--corpus",
    "corpora",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Another labelled corpus to compare on, besides the gate split. Repeatable.",
)
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path), help="Also write an HTML report.")
@no_progress_option
def compare(old, new, corpora, html_path, no_progress):
    """Compare two model versions on the gate split and any given corpus.

    OLD and NEW are version ids of the model root, version directories or roots. Prints
    per-topic F1 of both, the difference, and every text whose label changed. Both must have
    the same topics; the gate split is the bundled corpus's unless NEW was trained without it
    (then give its held-out records with --corpus).

    \b
    Example:
      newstag compare OLD_VERSION NEW_VERSION --html compare.html
    """
    from model.artifact import load_model
    from model.errors import NewstagError
    from training.compare import compare_models, format_comparison, write_comparison_html
    from training.corpus import corpus_sha256, load_bundled, load_corpus
    from training.gate import check_taxonomy
    from training.split import split_gate

    old_model, new_model = load_model(resolve_version(old)), load_model(resolve_version(new))
    taxonomy = new_model.model.taxonomy
    check_taxonomy(old_model.version, old_model.model.taxonomy, taxonomy, "compare scores models of the same topics")
    sets = {}
    gate = split_gate(load_bundled(taxonomy))[1]
    recorded = new_model.metadata.get("corpus", {}).get("gate_sha256")
    if recorded in (None, corpus_sha256(gate)):
        sets["gate split"] = gate
    elif not corpora:
        raise NewstagError(
            f"{new_model.version} was gated on records of its own training corpus, not on the bundled corpus's "
            "gate split: give labelled records to compare on with --corpus"
        )
    for path in corpora:
        sets[str(path)] = load_corpus([path], taxonomy)
    result = compare_models(old_model, new_model, sets, taxonomy, progress=progress_enabled(no_progress))
    click.echo(format_comparison(result))
    if html_path:
        click.echo(f"HTML written to {write_comparison_html(result, html_path)}")
