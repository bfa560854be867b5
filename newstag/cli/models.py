"""``newstag models``: list, use and prune the versions of a model root."""

from __future__ import annotations

import click

from newstag.cli.options import root_option, settings


@click.group()
def models():
    """Model versions in the model root: list, use (roll back or forward), prune."""


@models.command("list")
@root_option
def list_versions(root):
    """List versions, oldest first, with date, corpus size, gate macro-F1; * marks current.

    \b
    Example:
      newstag models list
    """
    from model.artifact import ArtifactError, current_version, list_versions, read_metadata

    root = root or settings().root
    current = current_version(root)
    versions = list_versions(root)
    if not versions:
        click.echo(f"No model versions in {root}.")
        return
    click.echo(
        f"  {'version':<30}{'created':<27}{'records':>8}{'feedback':>9}{'gate macro-F1':>15}"
        f"{'review target':>15}{'unflagged':>11}{'acceptable':>12}"
    )
    for version in versions:
        try:
            meta = read_metadata(root / version)
        except ArtifactError as exc:
            click.echo(f"  {version:<30}damaged: {exc}")
            continue
        gate = (meta.get("metrics") or {}).get("gate") or {}
        corpus = meta.get("corpus", {})
        marker = "*" if version == current else " "
        macro = f"{gate['macro_f1']:.3f}" if gate.get("macro_f1") is not None else "-"
        review = meta.get("review") or {}
        target = f"{review['target']:.2f}" + ("" if review.get("reached") else " (not met)") if review else "-"
        coverage = f"{review['coverage']:.1%}" if review else "-"
        precision = f"{review['precision']:.3f}" if review.get("precision") is not None else "-"
        click.echo(
            f"{marker} {version:<30}{meta.get('created', '-'):<27}{corpus.get('records', '-'):>8}"
            f"{corpus.get('feedback', 0):>9}{macro:>15}{target:>15}{coverage:>11}{precision:>12}"
        )


@models.command("use")
@click.argument("version")
@root_option
def use(version, root):
    """Make VERSION current (a rollback or roll-forward); reload the service to serve it.

    \b
    Example:
      newstag models use VERSION
    """
    from model.artifact import switch_current, verify

    root = root or settings().root
    verify(root / version)
    switch_current(root, version)
    click.echo(f"{version} is now current in {root}. Reload a running service: POST /v1/admin/reload")


@models.command("prune")
@click.option("--keep", type=click.IntRange(min=1), required=True, help="How many of the newest versions to keep.")
@root_option
def prune(keep, root):
    """Delete all but the newest KEEP versions; the current version is always kept.

    \b
    Example:
      newstag models prune --keep 5
    """
    import shutil

    from model.artifact import current_version, list_versions

    root = root or settings().root
    current = current_version(root)
    versions = list_versions(root)
    doomed = [v for v in versions[: max(len(versions) - keep, 0)] if v != current]
    for version in doomed:
        shutil.rmtree(root / version)
        click.echo(f"removed {version}")
    click.echo(f"{len(versions) - len(doomed)} version(s) kept in {root}.")


@models.command("convert")
@click.argument("version")
@root_option
def convert(version, root):
    """Write the data-only file (model.npz) of a VERSION trained before them.

    Such versions load through pickle, which needs scikit-learn and can run code from the file;
    once converted they load from arrays alone. Only the version's model.npz and model.json are
    written; the pipeline file stays as it is.

    \b
    Example:
      newstag models convert VERSION
    """
    from model.artifact import DATA_FILE, convert_version, read_metadata

    root = root or settings().root
    if "serving" in read_metadata(root / version):
        click.echo(f"{version} already has its data-only file ({DATA_FILE}).")
        return
    path = convert_version(root / version)
    click.echo(f"Wrote {path}; {version} now loads without scikit-learn.")
