"""``newstag tag-page``: split a pasted page into items and tag each."""

from __future__ import annotations

import json

import click

from model.errors import NewstagError
from newstag.cli.options import (
    default_province,
    load_or_train,
    model_option,
    payload_format_option,
    province_option,
    read_input,
)


@click.command("tag-page")
@model_option
@click.argument("file", required=False, type=click.Path(allow_dash=True))
@click.option("--no-explain", is_flag=True, help="Leave out the deciding terms.")
@province_option
@payload_format_option
def tag_page(model, file, no_explain, province, payload_format):
    """Split a pasted newspaper page into items and tag each, paragraph by paragraph.

    Reads FILE (or standard input): plain text with section headers, headlines, bylines
    and paragraphs on their own lines. Prints {"items": [...]} as JSON, each item with the
    places it names (most likely first). With --format ninjs it prints a JSON array of IPTC
    ninjs 3.1 items instead, their URIs unique to the page.

    \b
    Example:
      newstag tag-page examples/page.txt
      newstag tag-page --format ninjs --province 浙江省 examples/page.txt
    """
    from model.ninjs import page_to_ninjs
    from model.page import tag_page as tag
    from model.places import add_places

    label, page = read_input(file)
    if not page.strip():
        raise NewstagError(f"{label}: empty page")
    province = default_province(province)
    loaded = load_or_train(model)
    ninjs = payload_format == "ninjs"
    tagged = tag(loaded.model, page, explain=not no_explain and not ninjs)
    items = [add_places(item, item["text"], province) for item in tagged]
    if ninjs:
        out = page_to_ninjs(items, page, loaded.model.taxonomy, loaded.version)
    else:
        out = {"items": items}
    click.echo(json.dumps(out, ensure_ascii=False, indent=2))
