"""The ``newstag`` command line: train, evaluate, predict, tag-page, serve.

Only this module prints, configures logging and reads ``NEWSTAG_*`` environment variables;
everything else takes plain arguments.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import click

from model.artifact import ArtifactError, LoadedModel, current_version, default_model_root, load_model
from model.taxonomy import load_taxonomy
from training.corpus import MAX_TEXT_CHARS, CorpusError, load_corpus
from training.feedback import FeedbackError
from training.gate import DEFAULT_MACRO_MARGIN, DEFAULT_TOPIC_MARGIN, GateMargins
from training.train import GateRefused, TrainingError, TrainingOptions, train_version

logger = logging.getLogger("newstag")

PREDICT_BATCH = 256


def model_root_from_env(environ=os.environ) -> Path:
    """The model root: ``NEWSTAG_MODEL_ROOT`` or the user's data directory."""
    value = environ.get("NEWSTAG_MODEL_ROOT")
    return Path(value).expanduser() if value else default_model_root()


def _echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


class _Progress:
    """Training steps as a progress bar on a terminal, as plain lines otherwise."""

    def __init__(self, total: int):
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, file=sys.stderr, leave=False)

    def __call__(self, description: str) -> None:
        if self.bar is not None:
            self.bar.set_description(description)
            self.bar.update(1)
        else:
            click.echo(f"  {description}…", err=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def train_default_model(root: Path):
    """Train the bundled model into an empty ``root`` with progress on stderr."""
    progress = _Progress(total=TrainingOptions().folds + 2)
    try:
        return train_version(root, load_taxonomy(), on_step=progress)
    finally:
        progress.close()


def _corrections(database: str | None, since=None) -> list:
    """Editors' corrections as corpus records, the latest per text."""
    from training.feedback import FeedbackStore, default_database_url

    store = FeedbackStore(database or os.environ.get("NEWSTAG_DATABASE_URL") or default_database_url())
    try:
        return store.latest_records(since)
    finally:
        store.close()


def load_or_train(model: Path | None) -> LoadedModel:
    """The model a command uses: ``--model``, else the root's current, trained first if absent."""
    if model is not None:
        return load_model(model)
    root = model_root_from_env()
    if current_version(root) is None:
        click.echo(f"No model in {root} yet: training one from the bundled corpus first.", err=True)
        train_default_model(root)
    return load_model(root)


def _fail(exc: Exception) -> click.ClickException:
    return click.ClickException(str(exc))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="newstag")
def cli():
    """newstag: topic tags for Chinese legal and public-safety news.

    \b
    Example:
      newstag tag-page examples/sample_page.txt
    """
    logging.basicConfig(level=logging.WARNING, format="newstag: %(levelname)s %(name)s: %(message)s")


MODEL_OPTION = click.option(
    "--model",
    type=click.Path(path_type=Path),
    help="A model version directory, or a model root (meaning its current version). "
    "Default: the root in NEWSTAG_MODEL_ROOT or the user's data directory.",
)


ROOT_OPTION = click.option("--root", type=click.Path(path_type=Path), help="Model root (default: the configured root).")


@cli.command()
@click.option(
    "--corpus",
    "corpora",
    multiple=True,
    type=click.Path(path_type=Path),
    help="Extra JSONL or CSV corpus (fields id, text, topic[, also, kind, hard]). Repeatable.",
)
@click.option("--no-bundled", is_flag=True, help="Train on the --corpus files only.")
@click.option("--out", type=click.Path(path_type=Path), help="Model root to write to (default: the configured root).")
@click.option(
    "--folds",
    type=click.IntRange(2, 20),
    default=5,
    show_default=True,
    help="Cross-validation folds for thresholds and metrics.",
)
@click.option("--with-feedback", is_flag=True, help="Add editors' corrections from the feedback store.")
@click.option("--database", help="Feedback store URL (default: NEWSTAG_DATABASE_URL or SQLite in the data directory).")
@click.option("--force", is_flag=True, help="Make the new version current even if the gate refuses it.")
@click.option(
    "--gate-margin",
    type=click.FloatRange(0, 1),
    default=DEFAULT_MACRO_MARGIN,
    show_default=True,
    help="How far macro-F1 on the gate split may fall below the current model's.",
)
@click.option(
    "--gate-topic-margin",
    type=click.FloatRange(0, 1),
    default=DEFAULT_TOPIC_MARGIN,
    show_default=True,
    help="How far any one topic's F1 on the gate split may fall.",
)
def train(corpora, no_bundled, out, folds, with_feedback, database, force, gate_margin, gate_topic_margin):
    """Train a model version and make it current.

    Trains on the bundled corpus (less its gate split) plus any --corpus files and, with
    --with-feedback, editors' corrections (a correction replaces any record with the same
    text; the latest correction of a text wins). Prints cross-validated and gate metrics per
    topic and writes a new version under the model root. The version becomes current only if
    it passes the gate: macro-F1 on the gate split no more than --gate-margin below the
    current model's, no topic's F1 more than --gate-topic-margin below (--force overrides).
    A failed run leaves the root as it was.

    \b
    Example:
      newstag train --corpus our_labels.jsonl --with-feedback --out /srv/newstag/models
    """
    from training.metrics import format_report

    if no_bundled and not corpora:
        raise click.UsageError("--no-bundled needs at least one --corpus file")
    root = out or model_root_from_env()
    progress = _Progress(total=folds + 2)
    try:
        taxonomy = load_taxonomy()
        extra = load_corpus(list(corpora), taxonomy)
        feedback = _corrections(database) if with_feedback else []
        version_dir, meta = train_version(
            root,
            taxonomy,
            extra,
            not no_bundled,
            TrainingOptions(folds=folds),
            progress,
            feedback,
            GateMargins(gate_margin, gate_topic_margin),
            force,
        )
    except (GateRefused, CorpusError, TrainingError, ArtifactError, FeedbackError, OSError) as exc:
        raise _fail(exc) from None
    finally:
        progress.close()
    corpus = meta["corpus"]
    click.echo(f"Trained {corpus['records']} records in {meta['training_seconds']} s.")
    if with_feedback:
        click.echo(
            f"Editors' corrections used: {corpus['feedback_used']} (replacing {corpus['feedback_replaced']} "
            f"records; {corpus['feedback_skipped_gate']} left out because their text is in the gate split)."
        )
    click.echo(format_report(meta["metrics"]["cv"], f"{folds}-fold cross-validation"))
    if meta["metrics"]["gate"]:
        click.echo(format_report(meta["metrics"]["gate"], "gate split"))
    if "gate_check" in meta:
        check = meta["gate_check"]
        verdict = "forced past the gate" if check["forced"] else "gate passed"
        click.echo(
            f"{verdict}: macro-F1 {check['macro_f1_old']:.3f} ({check['against']}) -> {check['macro_f1_new']:.3f}"
        )
    click.echo(f"Saved {version_dir} (now current).")


@cli.command()
@MODEL_OPTION
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
def evaluate(model, corpora, report_dir):
    """Score a model on a labelled corpus.

    Prints accuracy, accept-accuracy (the best topic is among the record's topic and
    'also'), macro-F1 and per-topic precision, recall and F1; --report also writes an HTML
    report with the confusion matrix as a picture.

    \b
    Example:
      newstag evaluate --corpus held_out.jsonl --report reports/2026-11
    """
    from training.metrics import format_report, score
    from training.report import write_report

    try:
        loaded = load_or_train(model)
        taxonomy = loaded.model.taxonomy
        records = load_corpus(list(corpora), taxonomy)
        if not records:
            raise CorpusError(corpora[0], None, "no records")
        predictions = loaded.model.predict([r.text for r in records], explain=False)
        metrics = score(records, predictions, taxonomy)
        click.echo(format_report(metrics, f"model {loaded.version}"))
        if report_dir:
            path = write_report(metrics, taxonomy, report_dir, f"newstag {loaded.version}")
            click.echo(f"Report written to {path}")
    except (CorpusError, TrainingError, ArtifactError, OSError) as exc:
        raise _fail(exc) from None


@dataclass(frozen=True)
class _Input:
    where: str
    id: object
    text: str


def _read_lines(paths: tuple[str, ...], report: Callable[[str], None]) -> Iterator[_Input]:
    """Texts from JSONL or plain-text lines; bad lines are reported and skipped."""
    for name in paths or ("-",):
        label = "<stdin>" if name == "-" else name
        try:
            raw = sys.stdin.buffer.read() if name == "-" else Path(name).read_bytes()
            content = raw.decode("utf-8-sig")
        except OSError as exc:
            report(f"{label}: cannot read: {exc.strerror or exc}")
            continue
        except UnicodeDecodeError as exc:
            report(f"{label}: not UTF-8 text (byte {exc.start})")
            continue
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
            elif len(text) > MAX_TEXT_CHARS:
                report(f"{where}: text has {len(text)} characters, over {MAX_TEXT_CHARS}")
            else:
                yield _Input(where, record_id, text)


@cli.command()
@MODEL_OPTION
@click.argument("files", nargs=-1, type=click.Path(allow_dash=True))
@click.option("--top-k", type=click.IntRange(min=1), help="List only the best N topics.")
@click.option("--no-explain", is_flag=True, help="Leave out the deciding terms.")
@click.pass_context
def predict(ctx, model, files, top_k, no_explain):
    """Tag texts: one JSON line out for every line in.

    Input lines are JSON objects {"id": …, "text": …} or plain text (blank lines are
    skipped), from FILES or standard input. A bad line is reported on stderr with its file
    and line number; the others are still tagged, and the exit status is 1.

    \b
    Example:
      echo '{"id": "a1", "text": "近日，某派出所开展夜间巡逻。"}' | newstag predict
    """
    try:
        loaded = load_or_train(model)
    except (CorpusError, TrainingError, ArtifactError, OSError) as exc:
        raise _fail(exc) from None
    failures = 0
    batch: list[_Input] = []

    def report(message: str) -> None:
        nonlocal failures
        failures += 1
        click.echo(f"newstag: {message}", err=True)

    def flush() -> None:
        predictions = loaded.model.predict([item.text for item in batch], explain=not no_explain)
        for item, prediction in zip(batch, predictions, strict=False):
            out = {"id": item.id} if item.id is not None else {}
            out.update(prediction.to_dict(top_k=top_k, explain=not no_explain))
            _echo_json(out)
        batch.clear()

    for item in _read_lines(files, report):
        batch.append(item)
        if len(batch) >= PREDICT_BATCH:
            flush()
    flush()
    if failures:
        ctx.exit(1)


@cli.command("tag-page")
@MODEL_OPTION
@click.argument("file", required=False, type=click.Path(allow_dash=True))
@click.option("--no-explain", is_flag=True, help="Leave out the deciding terms.")
def tag_page_command(model, file, no_explain):
    """Split a pasted newspaper page into items and tag each, paragraph by paragraph.

    Reads FILE (or standard input): plain text with section headers, headlines, bylines
    and paragraphs on their own lines. Prints {"items": [...]} as JSON.

    \b
    Example:
      newstag tag-page examples/sample_page.txt
    """
    from model.page import tag_page

    label = file if file and file != "-" else "<stdin>"
    try:
        raw = sys.stdin.buffer.read() if label == "<stdin>" else Path(file).read_bytes()
        page = raw.decode("utf-8-sig")
    except OSError as exc:
        raise click.ClickException(f"{label}: cannot read: {exc.strerror or exc}") from None
    except UnicodeDecodeError as exc:
        raise click.ClickException(f"{label}: not UTF-8 text (byte {exc.start})") from None
    if not page.strip():
        raise click.ClickException(f"{label}: empty page")
    try:
        loaded = load_or_train(model)
    except (CorpusError, TrainingError, ArtifactError, OSError) as exc:
        raise _fail(exc) from None
    items = tag_page(loaded.model, page, explain=not no_explain)
    click.echo(json.dumps({"items": items}, ensure_ascii=False, indent=2))


@cli.group()
def feedback():
    """Editors' corrections in the feedback store."""


@feedback.command("export")
@click.option(
    "--since",
    type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%dT%H:%M:%S"]),
    help="Only corrections made on or after this date (UTC).",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write here instead of stdout.")
@click.option("--database", help="Feedback store URL (default: NEWSTAG_DATABASE_URL or SQLite in the data directory).")
def feedback_export(since, out, database):
    """Write editors' corrections as corpus JSONL (id, text, topic, also, kind, hard).

    One record per corrected text: the latest correction of a text wins. The file can be
    given to `newstag train --corpus` or kept as a labelled test set.

    \b
    Example:
      newstag feedback export --since 2026-11-01 --out corrections.jsonl
    """
    from datetime import UTC

    try:
        records = _corrections(database, since.replace(tzinfo=UTC) if since else None)
    except FeedbackError as exc:
        raise _fail(exc) from None
    lines = "".join(json.dumps(r.to_dict(), ensure_ascii=False) + "\n" for r in records)
    if out is None:
        click.echo(lines, nl=False)
    else:
        try:
            out.write_text(lines, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"{out}: cannot write: {exc.strerror or exc}") from None
        click.echo(f"Wrote {len(records)} correction(s) to {out}", err=True)


def _resolve_version(value: str) -> Path:
    """A version id of the configured root, a version directory, or a root (its current)."""
    from model.artifact import resolve_model_dir

    path = Path(value)
    if not path.exists():
        path = model_root_from_env() / value
    return resolve_model_dir(path)


@cli.command()
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
def compare(old, new, corpora, html_path):
    """Compare two model versions on the gate split and any given corpus.

    OLD and NEW are version ids of the model root, version directories or roots. Prints
    per-topic F1 of both, the difference, and every text whose label changed.

    \b
    Example:
      newstag compare 20261101T080000412Z-1a2b3c 20261128T140000412Z-4d5e6f --html compare.html
    """
    from training.compare import compare_models, format_comparison, write_comparison_html
    from training.corpus import load_bundled
    from training.split import split_gate

    try:
        old_model, new_model = load_model(_resolve_version(old)), load_model(_resolve_version(new))
        taxonomy = new_model.model.taxonomy
        sets = {"gate split": split_gate(load_bundled(taxonomy))[1]}
        for path in corpora:
            sets[str(path)] = load_corpus([path], taxonomy)
        result = compare_models(old_model, new_model, sets, taxonomy)
    except (ArtifactError, CorpusError, OSError) as exc:
        raise _fail(exc) from None
    click.echo(format_comparison(result))
    if html_path:
        click.echo(f"HTML written to {write_comparison_html(result, html_path)}")


@cli.group()
def models():
    """Model versions in the model root: list, use (roll back or forward), prune."""


@models.command("list")
@ROOT_OPTION
def models_list(root):
    """List versions, oldest first, with date, corpus size, gate macro-F1; * marks current.

    \b
    Example:
      newstag models list
    """
    from model.artifact import list_versions, read_metadata

    root = root or model_root_from_env()
    current = current_version(root)
    versions = list_versions(root)
    if not versions:
        click.echo(f"No model versions in {root}.")
        return
    click.echo(f"  {'version':<30}{'created':<27}{'records':>8}{'feedback':>9}{'gate macro-F1':>15}")
    for version in versions:
        try:
            meta = read_metadata(root / version)
        except ArtifactError as exc:
            click.echo(f"  {version:<30}damaged: {exc}")
            continue
        gate = (meta.get("metrics") or {}).get("gate") or {}
        corpus = meta.get("corpus", {})
        marker = "*" if version == current else " "
        macro = f"{gate['macro_f1']:.3f}" if "macro_f1" in gate else "-"
        click.echo(
            f"{marker} {version:<30}{meta.get('created', '-'):<27}{corpus.get('records', '-'):>8}"
            f"{corpus.get('feedback', 0):>9}{macro:>15}"
        )


@models.command("use")
@click.argument("version")
@ROOT_OPTION
def models_use(version, root):
    """Make VERSION current (a rollback or roll-forward); reload the service to serve it.

    \b
    Example:
      newstag models use 20261101T080000412Z-1a2b3c
    """
    from model.artifact import switch_current, verify

    root = root or model_root_from_env()
    try:
        verify(root / version)
        switch_current(root, version)
    except ArtifactError as exc:
        raise _fail(exc) from None
    click.echo(f"{version} is now current in {root}. Reload a running service: POST /v1/admin/reload")


@models.command("prune")
@click.option("--keep", type=click.IntRange(min=1), required=True, help="How many of the newest versions to keep.")
@ROOT_OPTION
def models_prune(keep, root):
    """Delete all but the newest KEEP versions; the current version is always kept.

    \b
    Example:
      newstag models prune --keep 5
    """
    import shutil

    from model.artifact import list_versions

    root = root or model_root_from_env()
    current = current_version(root)
    versions = list_versions(root)
    doomed = [v for v in versions[: max(len(versions) - keep, 0)] if v != current]
    for version in doomed:
        shutil.rmtree(root / version)
        click.echo(f"removed {version}")
    click.echo(f"{len(versions) - len(doomed)} version(s) kept in {root}.")


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, envvar="NEWSTAG_HOST", help="Address to listen on.")
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True, envvar="NEWSTAG_PORT")
@click.option(
    "--workers",
    type=click.IntRange(1, 64),
    default=2,
    show_default=True,
    envvar="NEWSTAG_WORKERS",
    help="Worker processes; each loads the model once.",
)
@click.option(
    "--keepalive",
    type=click.IntRange(0, 300),
    default=0,
    show_default=True,
    envvar="NEWSTAG_KEEPALIVE",
    help="Seconds a connection may wait for its next request; 0 closes it after each answer.",
)
@MODEL_OPTION
def serve(host, port, workers, keepalive, model):
    """Run the HTTP service (gunicorn with gevent workers) until stopped.

    Serves the JSON API, /openapi.json and the editor page. Settings come from NEWSTAG_*
    variables (NEWSTAG_MODEL_ROOT, NEWSTAG_ADMIN_TOKEN, NEWSTAG_CORS_ORIGINS, limits), then
    these flags. Without --model it serves the root's current model, training the bundled
    one first if the root has none.

    \b
    Example:
      NEWSTAG_ADMIN_TOKEN=s3cret newstag serve --port 8000 --workers 2
    """
    from model.artifact import resolve_model_dir, verify
    from service.config import ConfigError, settings_from_environ
    from service.server import serve as run_server

    try:
        config = settings_from_environ(os.environ)
    except ConfigError as exc:
        raise _fail(exc) from None
    root = model_root_from_env()
    config["MODEL_ROOT"] = str(root)
    try:
        if model is not None:
            config["MODEL"] = str(resolve_model_dir(model))
            verify(Path(config["MODEL"]))
        else:
            if current_version(root) is None:
                click.echo(f"No model in {root} yet: training one from the bundled corpus first.", err=True)
                train_default_model(root)
            verify(resolve_model_dir(root))
    except (CorpusError, TrainingError, ArtifactError, OSError) as exc:
        raise _fail(exc) from None
    logging.getLogger().setLevel(logging.INFO)
    access_log = logging.getLogger("newstag.access")  # one bare JSON line a request, nothing around it
    access_log.propagate = False
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(message)s"))
    access_log.addHandler(handler)
    from model.tokenizer import preload_jieba

    # Workers fork from this process: jieba's dictionary, built once here, is theirs for free
    # (it serves the rare texts the faster rjieba must not cut).
    preload_jieba()
    run_server(config, host, port, workers, keepalive=keepalive)


def main(argv: list[str] | None = None) -> int:
    """Console-script entry point; usage errors become one line and exit status 2."""
    try:
        result = cli.main(args=argv, prog_name="newstag", standalone_mode=False)
    except click.UsageError as exc:
        hint = (
            f" (see 'newstag {exc.ctx.info_name} --help')" if exc.ctx and exc.ctx.parent else " (see 'newstag --help')"
        )
        click.echo(f"newstag: {exc.format_message()}{hint}", err=True)
        return 2
    except click.ClickException as exc:
        click.echo(f"newstag: error: {exc.format_message()}", err=True)
        return exc.exit_code
    except click.Abort:
        click.echo("newstag: aborted", err=True)
        return 130
    return result if isinstance(result, int) else 0
