"""``newstag feedback``: editors' corrections in the feedback store."""

from __future__ import annotations

import json
from pathlib import Path

import click

from newstag.cli.options import database_option


@click.group()
def feedback():
    """Editors' corrections in the feedback store."""


@feedback.command("export")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Only corrections made on or after this date (UTC).",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@database_option
def export(since, out, database):
    """Write editors' corrections as corpus JSONL (id, text, topic, also, kind, hard).

    One record per corrected text: the latest correction of a text wins. The file can be
    given to `newstag train --corpus` or kept as a labelled test set.

    \b
    Example:
      newstag feedback export --since 2026-11-01 --out corrections.jsonl
    """
    from datetime import UTC

    from newstag.cli.train import corrections

    records = corrections(database, since.replace(tzinfo=UTC) if since else None)
    lines = "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records)
    if out is None:
        click.echo(lines, nl=False)
    else:
        out.write_text(lines, encoding="utf-8")
        click.echo(f"Wrote {len(records)} correction(s) to {out}", err=True)
