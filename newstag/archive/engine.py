"""Dask: a local cluster or an existing scheduler, the model plugin, and the partitions as tasks."""

from __future__ import annotations

import logging
import secrets
import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from model.errors import NewstagError
from newstag.archive.inputs import InputFile
from newstag.archive.partitions import Partition
from newstag.archive.spec import JobSpec, PartResult

CONNECT_TIMEOUT = "10s"
WORKER_WAIT_SECONDS = 120

Task = tuple[InputFile, tuple[Partition, ...]]


class ClusterError(NewstagError):
    """The Dask cluster cannot be reached or cannot run the job."""


@contextmanager
def dask_client(scheduler: str | None, workers: int) -> Iterator:
    """A client of the scheduler at ``scheduler``, or of a local cluster of ``workers`` processes for the block."""
    from distributed import Client, LocalCluster

    if scheduler:
        try:
            client = Client(scheduler, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as exc:
            raise ClusterError(f"cannot reach the Dask scheduler at {scheduler}: {exc}") from None
        try:
            client.wait_for_workers(1, timeout=WORKER_WAIT_SECONDS)
        except TimeoutError:
            client.close()
            raise ClusterError(
                f"no worker joined the Dask scheduler at {scheduler} within {WORKER_WAIT_SECONDS} s; "
                "start some with `dask worker " + scheduler + "`"
            ) from None
        try:
            yield client
        finally:
            client.close()
        return
    # One thread per worker process: tagging holds the GIL, so processes are what scale.
    with _sigint_ignored_by_children():
        cluster = LocalCluster(
            n_workers=workers,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
            # The scheduler serves health routes even without a dashboard, by default on port 8787;
            # a free port on loopback never collides with another job or a user's own cluster.
            scheduler_kwargs={"dashboard_address": "127.0.0.1:0"},
            # A failed task is reported by the command, once; the workers need not log it too.
            silence_logs=logging.CRITICAL,
        )
    try:
        with Client(cluster) as client:
            yield client
    finally:
        cluster.close()


@contextmanager
def _sigint_ignored_by_children() -> Iterator[None]:
    """Start worker processes with Ctrl-C ignored: the command stops them in order, they do not die mid-write.

    A terminal sends SIGINT to the whole process group; an ignored signal stays ignored in the
    processes started meanwhile (and Python keeps it so). This process ignores it only while the
    cluster starts (a second or two) and handles it as before from then on.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def group_tasks(inputs: list[InputFile], pending: list[Partition]) -> list[Task]:
    """One task per partition, except that a gzip file's partitions share one task that streams it once."""
    by_path = {source.path: source for source in inputs}
    tasks: list[Task] = []
    streamed: dict[str, list[Partition]] = {}
    for part in pending:
        source = by_path[part.source]
        if source.compressed:
            if part.source not in streamed:
                streamed[part.source] = []
                tasks.append((source, ()))  # placeholder keeps the input order
            streamed[part.source].append(part)
        else:
            tasks.append((source, (part,)))
    return [(source, parts or tuple(streamed[source.path])) for source, parts in tasks]


def run_tasks(
    client,
    tasks: list[Task],
    job: JobSpec,
    on_result: Callable[[PartResult], None],
    on_failure: Callable[[tuple[Partition, ...], BaseException], None],
    on_started: Callable[[], None] = lambda: None,
) -> None:
    """Run every task on the cluster, reporting each partition as its task ends; Ctrl-C cancels the rest.

    ``on_started`` is called once the workers have loaded the model, before the first task.
    """
    from distributed import as_completed

    from newstag.archive.worker import ModelPlugin, tag_partitions

    plugin = ModelPlugin(job.model_dir, job.model_sha256)
    try:
        client.register_plugin(plugin)
    except NewstagError as exc:
        raise ClusterError(
            f"a worker cannot load the model: {exc} (on a cluster the model directory, the inputs and the "
            "output directory must be on storage every worker sees, at the same paths)"
        ) from None
    on_started()  # every worker has the model now; what follows is tagging
    run = secrets.token_hex(4)
    futures = {
        client.submit(
            tag_partitions, source, parts, job, key=f"newstag-archive-{parts[0].stem}-{run}", pure=False
        ): parts
        for source, parts in tasks
    }
    try:
        for future in as_completed(futures):
            try:
                results = future.result()
            except Exception as exc:
                on_failure(futures[future], exc)
                continue
            for result in results:
                on_result(result)
    except BaseException:
        client.cancel(list(futures), force=True)
        raise
    finally:
        # Workers of a long-lived cluster drop the model again (a later job with it reloads it).
        try:
            client.unregister_worker_plugin(plugin.name)
        except Exception:  # a worker that missed this keeps a copy in memory; the output is not affected
            logging.getLogger(__name__).debug("could not unregister %s", plugin.name, exc_info=True)
