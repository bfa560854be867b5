"""``newstag predict``: one JSON line out for every text line in."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import click

from model.errors import NewstagError
from newstag.cli.options import (
    PROGRESS_MIN_LINES,
    default_province,
    echo_json,
    load_or_train,
    model_option,
    no_progress_option,
    payload_format_option,
    progress_enabled,
    province_option,
    read_input,
    settings,
    with_progress,
)

BATCH = 256


@dataclass(frozen=True)
class InputLine:
    where: str
    id: object
    text: str


def parse_lines(label: str, content: str, max_chars: int, report: Callable[[str], None]) -> Iterator[InputLine]:
    """Texts from JSONL or plain-text lines; bad lines are reported and skipped."""
    for number, line in enumerate(content.splitlines(), 1):
        where = f"{label}:{number}"
        if not line.strip():
            continue
        record_id, text = None, line
        if line.lstrip().startswith("{"):
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                report(f"{where}: invalid JSON: {exc.msg}")
                continue
            if not isinstance(data, dict) or not isinstance(data.get("text"), str):
                report(f"{where}: a JSON line needs a string field 'text'")
                continue
            record_id, text = data.get("id"), data["text"]
        if not text.strip():
            report(f"{where}: empty text")
        elif len(text) > max_chars:
            report(f"{where}: text has {len(text)} characters, over {max_chars}")
        else:
            yield InputLine(where, record_id, text)


@click.command()
@model_option
@click.argument("files", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--top-k", type=click.IntRange(min=1), help="List only the best N topics.")
@click.option("--no-explain", is_flag=True, help="Leave out the deciding terms.")
@province_option
@payload_format_option
@no_progress_option
@click.pass_context
def predict(ctx, model, files, top_k, no_explain, province, payload_format, no_progress):
    """Tag texts: one JSON line out for every line in.

    Input lines are JSON objects {"id": …, "text": …} or plain text (blank lines are
    skipped), from FILES or standard input. A bad line is reported on stderr with its file
    and line number; the others are still tagged, and the exit status is 1. Each answer
    lists the places the text names (most likely first). With --format ninjs each line is
    an IPTC ninjs 3.1 item instead (--top-k and --no-explain do not apply).

    \b
    Example:
      echo '{"id": "a1", "text": "近日，某派出所开展夜间巡逻。"}' | newstag predict
      echo '普陀区消防救援大队开展渔船消防检查。' | newstag predict --format ninjs --province 上海
    """
    from model.ninjs import to_ninjs
    from model.places import add_places

    max_chars = settings().max_text_chars
    province = default_province(province)
    loaded = load_or_train(model)
    ninjs = payload_format == "ninjs"
    explain = not no_explain and not ninjs
    failures = 0

    def report(message: str) -> None:
        nonlocal failures
        failures += 1
        click.echo(f"newstag: {message}", err=True)

    for name in files or ("-",):
        try:
            label, content = read_input(name)
        except NewstagError as exc:
            report(str(exc))
            continue
        lines = list(parse_lines(label, content, max_chars, report))
        batches = [lines[i : i + BATCH] for i in range(0, len(lines), BATCH)]
        shown = progress_enabled(no_progress) and len(lines) >= PROGRESS_MIN_LINES
        for batch in with_progress(batches, len(batches), label, shown):
            predictions = loaded.model.predict([line.text for line in batch], explain=explain)
            for line, prediction in zip(batch, predictions, strict=True):
                out = {"id": line.id} if line.id is not None else {}
                out.update(prediction.to_dict(top_k=None if ninjs else top_k, explain=explain))
                out = add_places(out, line.text, province)
                echo_json(to_ninjs(out, loaded.model.taxonomy, loaded.version, text=line.text) if ninjs else out)
    if failures:
        ctx.exit(1)
