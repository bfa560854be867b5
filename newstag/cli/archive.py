"""``newstag tag-archive``: tag every record of an archive on Dask, resumably, into part files."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

import click

from newstag.cli.options import (
    default_province,
    model_option,
    no_progress_option,
    progress_enabled,
    province_option,
    settings,
)

SHOWN_FAILURES = 10


class PartitionProgress:
    """Records done, records/s and ETA on stderr, advanced as partitions finish (when enabled).

    The bar appears once the workers are ready, so its rate is the tagging rate; until then a
    line says what is happening.
    """

    def __init__(self, total: int, done: int, enabled: bool):
        self.total, self.done, self.enabled = total, done, enabled
        self.bar = None
        if enabled:
            click.echo("Starting the workers and loading the model…", err=True)

    def start(self) -> None:
        if self.enabled:
            from tqdm import tqdm

            self.bar = tqdm(
                total=self.total,
                initial=self.done,
                desc="tagging",
                unit="rec",
                unit_scale=True,
                file=sys.stderr,
                leave=False,
                smoothing=0.1,
            )

    def advance(self, records: int) -> None:
        if self.bar is not None:
            self.bar.update(records)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()


def _model_version_dir(model: Path | None) -> tuple[Path, dict]:
    """The version directory the job uses, verified here first so a broken model fails before any work."""
    from model.artifact import resolve_model_dir, verify
    from newstag.cli.options import ensure_trained

    if model is None:
        model = settings().root
        ensure_trained(model)
    version_dir = resolve_model_dir(model).resolve()
    return version_dir, verify(version_dir)


def _summary(outcome) -> str:
    """One line: what this run did, how fast, what was already done, where the bad records are."""
    if outcome.ran == 0 and not outcome.failures:
        line = f"Nothing to tag: all {outcome.partitions} partitions were already complete"
    else:
        line = (
            f"Tagged {outcome.tagged:,} of {outcome.records:,} records in {outcome.ran} "
            f"partition{'s' * (outcome.ran != 1)} in {outcome.seconds:.1f} s "
            f"({outcome.records_per_second:,.0f} records/s)"
        )
    if outcome.skipped and outcome.ran:
        line += f"; {outcome.skipped} partition{'s were' if outcome.skipped != 1 else ' was'} already complete"
    if outcome.bad:
        line += f"; {outcome.bad:,} bad record{'s' * (outcome.bad != 1)} in all, listed in {outcome.errors_file}"
    return line + f"; output in {outcome.errors_file.parent}"


@click.command("tag-archive")
@click.argument("inputs", nargs=-1, required=True)
@click.option(
    "--out",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output directory: part files, _manifest.json and _errors.jsonl.",
)
@click.option(
    "--format",
    "output_format",
    type=click.Choice(["parquet", "jsonl"]),
    default="parquet",
    show_default=True,
    help="Format of the part files.",
)
@click.option("--id-field", default="id", show_default=True, help="Field (or column) holding each record's id.")
@click.option("--text-field", default="text", show_default=True, help="Field (or column) holding the text.")
@click.option(
    "--scheduler", metavar="tcp://HOST:8786", help="Run on this Dask scheduler's workers instead of a local cluster."
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    help="Worker processes of the local cluster (default: the number of cores).",
)
@click.option(
    "--partition-size",
    type=click.IntRange(min=1),
    default=50_000,
    show_default=True,
    help="Records per partition (one part file each).",
)
@province_option
@model_option
@click.option("--restart", is_flag=True, help="Delete earlier results in --out and tag everything again.")
@no_progress_option
@click.pass_context
def tag_archive(
    ctx,
    inputs,
    out,
    output_format,
    id_field,
    text_field,
    scheduler,
    workers,
    partition_size,
    province,
    model,
    restart,
    no_progress,
):
    """Tag every record of JSONL, CSV and Parquet files into part files, on Dask.

    INPUTS are files, directories (searched recursively) or globs; .jsonl.gz and .csv.gz are
    read too. Each record needs an id and a text; its other fields are carried through under
    "input", and it gets what `newstag predict --top-k 3 --no-explain` gives, places
    included. Each partition of --partition-size records becomes one part file in --out,
    written under a temporary name and renamed when complete, so a rerun of the same command
    skips what is done; a rerun with another model, changed inputs or other options is
    refused unless --restart. Bad records go to --out/_errors.jsonl and make the exit status 1.

    \b
    Example:
      newstag tag-archive archive/ --out tagged/ --workers 2
    """
    from newstag.archive import ArchiveInputError, ResumeRefused, discover_inputs
    from newstag.archive.job import ArchiveRun
    from newstag.archive.spec import JobSpec

    if scheduler and workers:
        raise click.UsageError("--workers sizes a local cluster; with --scheduler the cluster's own workers run")
    max_chars = settings().max_text_chars
    province = default_province(province)
    out = out.expanduser().resolve()
    try:
        files = discover_inputs(inputs, exclude=out)
    except ArchiveInputError as exc:
        raise click.UsageError(str(exc)) from None
    version_dir, metadata = _model_version_dir(model)
    job = JobSpec(
        str(out),
        output_format,
        id_field,
        text_field,
        max_chars,
        str(version_dir),
        metadata["artifact"]["sha256"],
        metadata["version"],
        province,
    )
    try:
        run = ArchiveRun(out, files, job, partition_size, restart)
    except (ArchiveInputError, ResumeRefused) as exc:
        raise click.UsageError(str(exc)) from None
    if run.skipped:
        click.echo(f"Resuming: {run.skipped} of {len(run.parts)} partitions already complete, skipped.", err=True)
    status = _run(run, scheduler, workers or _cores(), progress_enabled(no_progress))
    outcome = run.finish(status)
    if status == "interrupted":
        click.echo(
            f"newstag: interrupted: {len(run.done)} of {outcome.partitions} partitions complete in {out}; "
            "run the same command again to resume",
            err=True,
        )
        ctx.exit(130)
    click.echo(_summary(outcome))
    failures = sorted(outcome.failures)
    for failure in failures[:SHOWN_FAILURES]:
        click.echo(f"newstag: partition {failure}", err=True)
    if len(failures) > SHOWN_FAILURES:
        click.echo(f"newstag: … and {len(failures) - SHOWN_FAILURES} more in {out / '_manifest.json'}", err=True)
    if failures:
        click.echo(f"newstag: {len(failures)} task(s) failed; the partitions done are kept", err=True)
    if outcome.failures or outcome.bad:
        ctx.exit(1)


def _cores() -> int:
    """Cores this process may use (a container's share, not the machine's)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def _quiet_dask() -> None:
    """Dask reports every worker and connection at INFO; the command's own messages say what matters."""
    import distributed  # noqa: F401 -- importing it sets its loggers' levels, so this comes after

    logging.getLogger("distributed").setLevel(logging.ERROR)


def _run(run, scheduler: str | None, workers: int, show_progress: bool) -> str:
    """Tag the pending partitions; "complete", or "interrupted" after Ctrl-C (a failure raises, books closed)."""
    from model.errors import NewstagError
    from newstag.archive.engine import dask_client, run_tasks

    tasks = run.tasks()
    if not tasks:
        return "complete"
    _quiet_dask()
    progress = PartitionProgress(run.total_count, run.done_count, show_progress)

    def on_result(result) -> None:
        progress.advance(run.record(result).count)

    try:
        run.start_clock()
        with dask_client(scheduler, workers) as client:
            run_tasks(client, tasks, run.job, on_result, run.fail, on_started=progress.start)
    except KeyboardInterrupt:
        return "interrupted"
    except NewstagError:
        run.finish("failed")
        raise
    finally:
        progress.close()
    return "complete"
