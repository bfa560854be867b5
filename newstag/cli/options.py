"""What several commands share: options, settings, the model a command uses, progress, JSON out."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import click

if TYPE_CHECKING:
    from model.artifact import LoadedModel
    from newstag.settings import Settings

T = TypeVar("T")

# Files with at least this many lines get a progress bar (on a terminal, unless --no-progress).
PROGRESS_MIN_LINES = 1000

model_option = click.option(
    "--model",
    type=click.Path(path_type=Path),
    help="A model version directory, or a model root (meaning its current version). "
    "Default: the root in NEWSTAG_MODEL_ROOT or the user's data directory.",
)
root_option = click.option(
    "--root", type=click.Path(path_type=Path), help="Model root (default: NEWSTAG_MODEL_ROOT or the data directory)."
)
no_progress_option = click.option("--no-progress", is_flag=True, help="No progress bar on stderr.")
database_option = click.option(
    "--database", help="Feedback store URL (default: NEWSTAG_DATABASE_URL or SQLite in the data directory)."
)
province_option = click.option(
    "--province",
    metavar="NAME",
    help="Province that settles place names several divisions share (普陀, 朝阳), e.g. 浙江省 or 上海; "
    "'' for none. Default: NEWSTAG_DEFAULT_PROVINCE.",
)
payload_format_option = click.option(
    "--format",
    "payload_format",
    type=click.Choice(["json", "ninjs"]),
    default="json",
    show_default=True,
    help="newstag's JSON, or IPTC ninjs 3.1 news items (subjects are the topics' IPTC Media Topics).",
)


def settings(**flags) -> Settings:
    """The settings for this command: defaults < NEWSTAG_* environment < the given flags (None = unset)."""
    from newstag.settings import load_settings

    return load_settings(flags)


def default_province(flag: str | None) -> str:
    """The default province for places: --province (a usage error if unknown), else the settings' (checked)."""
    from model.places import UnknownProvince, check_province

    if flag is None:
        return settings().checked_province()
    try:
        return check_province(flag.strip())
    except UnknownProvince as exc:
        raise click.BadParameter(str(exc), ctx=click.get_current_context(), param_hint="'--province'") from None


def echo_json(data) -> None:
    click.echo(json.dumps(data, ensure_ascii=False))


def progress_enabled(no_progress: bool) -> bool:
    return not no_progress and sys.stderr.isatty()


def with_progress(items: Iterable[T], total: int, description: str, enabled: bool) -> Iterator[T]:
    """``items`` with a tqdm bar on stderr when enabled."""
    if not enabled:
        yield from items
        return
    from tqdm import tqdm

    with tqdm(total=total, desc=description, file=sys.stderr, leave=False, unit="text") as bar:
        for item in items:
            yield item
            bar.update(1)


class TrainingSteps:
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


def ensure_trained(root: Path) -> None:
    """Train the bundled model into ``root`` first when it has no current version (says so on stderr)."""
    from model.artifact import current_version

    if current_version(root) is not None:
        return
    from model.taxonomy import load_taxonomy
    from training.train import TrainingOptions, train_version

    click.echo(f"No model in {root} yet: training one from the bundled corpus first.", err=True)
    steps = TrainingSteps(total=TrainingOptions().folds + 2)
    try:
        train_version(root, load_taxonomy(), on_step=steps)
    finally:
        steps.close()


def load_or_train(model: Path | None) -> LoadedModel:
    """The model a command uses: ``--model``, else the configured root's current, trained first if absent."""
    from model.artifact import load_model

    if model is not None:
        return load_model(model)
    root = settings().root
    ensure_trained(root)
    return load_model(root)


def read_input(file: str | None) -> tuple[str, str]:
    """(label, text) of a UTF-8 file or standard input ("-" or None)."""
    from model.errors import NewstagError

    label = file if file and file != "-" else "<stdin>"
    try:
        raw = sys.stdin.buffer.read() if label == "<stdin>" else Path(file).read_bytes()
    except OSError as exc:
        raise NewstagError(f"{label}: cannot read: {exc.strerror or exc}") from None
    try:
        return label, raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise NewstagError(f"{label}: not UTF-8 text (byte {exc.start})") from None
