"""``newstag tag-page``: split a pasted page into items and tag each."""

from __future__ import annotations

import json

import click

from model.errors import NewstagError
from newstag.cli.options import load_or_train, model_option, read_input


@click.command("tag-page")
@model_option
@click.argument("file", required=False, type=click.Path(allow_dash=True))
@click.option("--no-explain", is_flag=True, help="Leave out the deciding terms.")
def tag_page(model, file, no_explain):
    """Split a pasted newspaper page into items and tag each, paragraph by paragraph.

    Reads FILE (or standard input): plain text with section headers, headlines, bylines
    and paragraphs on their own lines. Prints {"items": [...]} as JSON.

    \b
    Example:
      newstag tag-page examples/page.txt
    """
    from model.page import tag_page as tag

    label, page = read_input(file)
    if not page.strip():
        raise NewstagError(f"{label}: empty page")
    loaded = load_or_train(model)
    items = tag(loaded.model, page, explain=not no_explain)
    click.echo(json.dumps({"items": items}, ensure_ascii=False, indent=2))
