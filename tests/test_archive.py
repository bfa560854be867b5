"""``newstag tag-archive``: a 20,000-record archive tagged on Dask, locally and on a real cluster.

Given an archive of JSONL, CSV, Parquet and gzip-compressed JSONL with bad lines in it, an
operator tags it with one command and gets, for every good record, exactly what
``newstag predict`` says, and for every bad one a line in ``_errors.jsonl``; a worker killed
mid-partition, a Ctrl-C and a rerun change nothing in the result.
"""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from bench.archive import archive_text as news_text
from model.artifact import current_version
from newstag.archive import ArchiveInputError, discover_inputs, plan_partitions
from newstag.archive.readers import check_record, read_records

MAX_CHARS = 300  # NEWSTAG_MAX_TEXT_CHARS for every run here, so an over-long text is cheap to make


def write_archive(directory: Path) -> tuple[dict, dict]:
    """20,000 records in four files; returns {id: (source, line, text, carried)} and {(source, line): reason}."""
    directory.mkdir(parents=True)
    good, bad = {}, {}
    counter = itertools.count()

    jsonl = directory / "2004.jsonl"
    broken = {
        10: '{"id": "x10", "text": ',
        30: '{"text": "没有编号的稿件。"}',
        40: '{"id": "j40", "text": "   "}',
        50: '["不是对象"]',
        60: json.dumps({"id": "j60", "text": "长" * (MAX_CHARS + 1)}),
        2501: '{"id": "x2501", "text": "开头',
        7000: '{"id": "j7000"}',
    }
    reasons = {
        10: "invalid JSON",
        30: "no id",
        40: "empty text",
        50: "not a JSON object",
        60: f"text has {MAX_CHARS + 1} characters, over {MAX_CHARS}",
        2501: "invalid JSON",
        7000: "no text",
    }
    with open(jsonl, "w", encoding="utf-8") as f:
        for line in range(1, 7001):
            if line in broken:
                f.write(broken[line] + "\n")
                bad[(str(jsonl), line)] = reasons[line]
            elif line == 20:
                f.write("\n")  # a blank line is neither a record nor an error
            else:
                text, carried = news_text(next(counter)), {"date": f"2004-{line % 12 + 1:02d}-01", "meta": {"ed": line}}
                f.write(json.dumps({"id": f"j{line}", "text": text, **carried}, ensure_ascii=False) + "\n")
                good[f"j{line}"] = (str(jsonl), line, text, carried)

    table = directory / "2005.csv"
    with open(table, "w", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "page", "section"])
        for row in range(1, 6001):
            text = news_text(next(counter))
            if row == 5:
                text = text + "\n（第二段）记者 王某"  # a quoted newline inside a text
            if row == 100:
                writer.writerow([f"c{row}", "", "3", "法治"])
                bad[(str(table), row)] = "empty text"
            elif row == 200:
                writer.writerow(["", text, "3", "法治"])
                bad[(str(table), row)] = "no id"
            elif row == 300:
                writer.writerow([f"c{row}", text])
                bad[(str(table), row)] = "row has 2 fields, the header has 4"
            elif row == 2500:
                writer.writerow([f"c{row}", "长" * (MAX_CHARS + 5), "3", "法治"])
                bad[(str(table), row)] = f"text has {MAX_CHARS + 5} characters"
            else:
                writer.writerow([f"c{row}", text, str(row % 8), "平安"])
                good[f"c{row}"] = (str(table), row, text, {"page": str(row % 8), "section": "平安"})

    parquet = directory / "2006.parquet"
    ids, texts, pages = [], [], []
    for row in range(1, 5001):
        text = news_text(next(counter))
        ids.append(None if row == 1501 else f"p{row}")
        texts.append(None if row == 7 else "" if row == 4999 else text)
        pages.append(row % 16)
        if row in (7, 1501, 4999):
            bad[(str(parquet), row)] = {7: "no text", 1501: "no id", 4999: "empty text"}[row]
        else:
            good[f"p{row}"] = (str(parquet), row, text, {"page": row % 16})
    pq.write_table(pa.table({"id": ids, "text": texts, "page": pages}), parquet, row_group_size=1500)

    packed = directory / "2007.jsonl.gz"
    with gzip.open(packed, "wb") as f:
        for line in range(1, 2001):
            if line == 3:
                f.write(b'{"id": 3, "text"\n')
                bad[(str(packed), line)] = "invalid JSON"
            elif line == 1500:
                f.write(b'{"id": 1500, "text": "\xff\xfe"}\n')
                bad[(str(packed), line)] = "not UTF-8"
            else:
                text = news_text(next(counter))
                f.write((json.dumps({"id": 900000 + line, "text": text}, ensure_ascii=False) + "\n").encode())
                good[str(900000 + line)] = (str(packed), line, text, {})
    return good, bad


def newstag(args, root, timeout=600, **popen):
    env = {**os.environ, "NEWSTAG_MODEL_ROOT": str(root), "NEWSTAG_MAX_TEXT_CHARS": str(MAX_CHARS)}
    command = [sys.executable, "-m", "newstag", *map(str, args)]
    if popen:
        return subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, **popen)
    return subprocess.run(command, env=env, capture_output=True, timeout=timeout)


def output_rows(out: Path) -> list[dict]:
    """Every row of every part, in input order, ``input`` decoded from its JSON text."""
    rows = []
    for part in sorted(out.glob("part-*.parquet")):
        for row in pq.read_table(part).to_pylist():
            rows.append({**row, "input": json.loads(row["input"])})
    for part in sorted(out.glob("part-*.jsonl")):
        rows.extend(json.loads(line) for line in part.read_text(encoding="utf-8").splitlines())
    return rows


def temporaries(out: Path) -> list[Path]:
    return [path for path in out.rglob("*") if path.name.endswith(".tmp")]


def by_place(rows: list[dict]) -> dict:
    return {(row["source"], row["line"]): row for row in rows}


@pytest.fixture(scope="module")
def archive(tmp_path_factory):
    directory = tmp_path_factory.mktemp("archive") / "news"
    good, bad = write_archive(directory)
    return directory, good, bad


@pytest.fixture(scope="module")
def model_meta(model_root) -> dict:
    """The current model's ``model.json`` (its version and artifact hash), read without unpickling it."""
    return json.loads((model_root / current_version(model_root) / "model.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def predicted(archive, model_root, tmp_path_factory):
    """What ``newstag predict --top-k 3 --no-explain`` says for every good record, by id."""
    _, good, _ = archive
    lines = tmp_path_factory.mktemp("predict") / "good.jsonl"
    lines.write_text(
        "".join(
            json.dumps({"id": key, "text": text}, ensure_ascii=False) + "\n" for key, (*_, text, _) in good.items()
        ),
        encoding="utf-8",
    )
    result = newstag(["predict", "--top-k", "3", "--no-explain", lines], model_root)
    assert result.returncode == 0, result.stderr.decode()
    return {str(answer["id"]): answer for answer in map(json.loads, result.stdout.decode().splitlines())}


@pytest.fixture(scope="module")
def tagged_locally(archive, model_root, tmp_path_factory):
    """The archive tagged by a local cluster of two workers: (result, output directory)."""
    directory, _, _ = archive
    out = tmp_path_factory.mktemp("local") / "tagged"
    result = newstag(["tag-archive", directory, "--out", out, "--workers", 2, "--partition-size", 2500], model_root)
    return result, out


# -- reading and partitioning (no cluster, no model) ------------------------------------------------


def test_partitions_start_where_their_records_start_in_every_format(archive):
    directory, good, bad = archive
    inputs = discover_inputs([str(directory)])
    assert [Path(source.path).name for source in inputs] == ["2004.jsonl", "2005.csv", "2006.parquet", "2007.jsonl.gz"]
    parts = plan_partitions(inputs, 1000, "id", "text")
    assert [part.stem for part in parts[:2]] == ["part-00000", "part-00001"]
    assert [(Path(p.source).name, p.count) for p in parts].count(("2006.parquet", 1000)) == 5
    by_source = {source.path: source for source in inputs}
    seen = {}
    for part in parts:
        for number, fields, reason in read_records(by_source[part.source], part.first, part.count, part.offset):
            assert part.first <= number < part.end
            seen[(part.source, number)] = reason or check_record(number, fields, "id", "text", MAX_CHARS)
    for key, (source, line, text, carried) in good.items():
        record = seen.pop((source, line))
        assert (str(record.id), record.text, record.carried) == (key, text, carried)
    assert seen.keys() == bad.keys()  # what is left is exactly the bad records, each for its reason
    for where, reason in seen.items():
        assert isinstance(reason, str) and bad[where] in reason, where


def test_a_gzip_csv_is_streamed_from_the_top_into_each_of_its_partitions(tmp_path):
    packed = tmp_path / "pages.csv.gz"
    with gzip.open(packed, "wt", encoding="utf-8", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["text", "id"])
        for row in range(1, 8):
            writer.writerow([news_text(row) + ("\n续" if row % 3 == 0 else ""), f"g{row}"])
    [source] = discover_inputs([str(packed)])
    parts = plan_partitions([source], 3, "id", "text")
    assert [(part.first, part.count, part.offset) for part in parts] == [(1, 3, None), (4, 3, None), (7, 1, None)]
    second = [
        check_record(number, fields, "id", "text", MAX_CHARS)
        for number, fields, _ in read_records(source, parts[1].first, parts[1].count, parts[1].offset)
    ]
    assert [(record.number, record.id, record.text) for record in second] == [
        (4, "g4", news_text(4)),
        (5, "g5", news_text(5)),
        (6, "g6", news_text(6) + "\n续"),
    ]


def test_inputs_are_found_in_directories_and_globs_and_missing_ones_are_named(archive, tmp_path):
    directory, _, _ = archive
    found = discover_inputs([str(directory / "*.csv"), str(directory / "2005.csv"), str(directory)])
    assert [Path(source.path).name for source in found] == ["2005.csv", "2004.jsonl", "2006.parquet", "2007.jsonl.gz"]
    with pytest.raises(ArchiveInputError, match="no input files in this directory"):
        discover_inputs([str(directory.parent)], exclude=directory)  # the output directory is never an input
    with pytest.raises(ArchiveInputError, match="absent.jsonl: no such file or directory"):
        discover_inputs([str(tmp_path / "absent.jsonl")])
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(ArchiveInputError, match="not an input file"):
        discover_inputs([str(tmp_path / "notes.txt")])
    with pytest.raises(ArchiveInputError, match="matches no input file"):
        discover_inputs([str(tmp_path / "*.parquet")])


def test_a_missing_input_is_a_usage_error_before_any_work(tmp_path):
    result = newstag(["tag-archive", tmp_path / "absent.jsonl", "--out", tmp_path / "out"], tmp_path / "models")
    assert result.returncode == 2
    assert f"{tmp_path / 'absent.jsonl'}: no such file or directory" in result.stderr.decode()
    assert not (tmp_path / "models").exists() and not (tmp_path / "out").exists()


def test_help_has_an_example(tmp_path):
    result = newstag(["tag-archive", "--help"], tmp_path)
    assert result.returncode == 0 and "Example:" in result.stdout.decode()


@pytest.mark.slow
def test_a_csv_without_the_text_column_is_a_usage_error_before_any_work(model_root, tmp_path):
    table = tmp_path / "no_text.csv"
    table.write_text("id,body\n1,近日开展巡逻。\n", encoding="utf-8")
    result = newstag(["tag-archive", table, "--out", tmp_path / "out"], model_root)
    assert result.returncode == 2
    assert f"{table}: no column 'text' (columns: id, body)" in result.stderr.decode()
    assert not (tmp_path / "out").exists()


# -- the command on real clusters ---------------------------------------------------------------------

PART_TEMPORARY = re.compile(r"^\.(part-\d+\.parquet)\..*-(\d+)-[0-9a-f]+\.tmp$")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(found, job: subprocess.Popen, timeout: float = 180):
    """Poll ``found()`` until it gives something; fail if the job ends first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = found()
        if value:
            return value
        if job.poll() is not None:
            stdout, stderr = job.communicate()
            pytest.fail(f"the job ended ({job.returncode}) before it was caught mid-way:\n{stdout}\n{stderr}")
        time.sleep(0.005)
    pytest.fail("timed out waiting for the job")


def tagging_now(out: Path):
    """The name match of a part being tagged right now in ``out``, if one is."""
    for name in os.listdir(out) if out.exists() else ():
        match = PART_TEMPORARY.match(name)
        try:
            if match and (out / name).stat().st_size < 1024:
                return match
        except FileNotFoundError:  # renamed meanwhile
            continue
    return None


def wait_gone(pid: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
        except (FileNotFoundError, ProcessLookupError):
            return
        if state in ("Z", "X"):
            return
        time.sleep(0.01)
    pytest.fail(f"process {pid} still alive")


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            process.terminate()
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


class DaskCluster:
    """A ``dask scheduler`` and ``dask worker`` processes on loopback, as an operator would start them."""

    def __init__(self, log_dir: Path, workers: int):
        self.address = f"tcp://127.0.0.1:{free_port()}"
        self.log_dir, self.workers, self.processes = log_dir, workers, []

    def __enter__(self) -> DaskCluster:
        dask = Path(sys.executable).with_name("dask")
        port = self.address.rsplit(":", 1)[1]
        self.start([dask, "scheduler", "--host", "127.0.0.1", "--port", port, "--no-dashboard"], "scheduler")
        for n in range(self.workers):
            self.start(
                [
                    dask,
                    "worker",
                    self.address,
                    "--nworkers",
                    "1",
                    "--nthreads",
                    "1",
                    "--host",
                    "127.0.0.1",
                    "--no-dashboard",
                    "--name",
                    f"w{n}",
                ],
                f"worker{n}",
            )
        ready = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from distributed import Client; c = Client(sys.argv[1], timeout=60); "
                "c.wait_for_workers(int(sys.argv[2]), timeout=120); c.close()",
                self.address,
                str(self.workers),
            ],
            capture_output=True,
            timeout=200,
        )
        if ready.returncode:
            self.__exit__()
            pytest.fail(f"the cluster did not start: {ready.stderr.decode()}\n{self.logs()}")
        return self

    def start(self, command: list, name: str) -> None:
        log = open(self.log_dir / f"{name}.log", "wb")  # noqa: SIM115 -- the process writes it until stop()
        self.processes.append(subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=self.log_dir))
        log.close()

    def logs(self) -> str:
        return "\n".join(path.read_text(errors="replace")[-3000:] for path in sorted(self.log_dir.glob("*.log")))

    def __exit__(self, *exc) -> None:
        stop(self.processes[1:])
        stop(self.processes[:1])


def assert_same_as_predict(rows: list[dict], good: dict, predicted: dict) -> None:
    assert sorted(str(row["id"]) for row in rows) == sorted(good)
    for row in rows:
        key = str(row["id"])
        source, line, _, carried = good[key]
        assert (row["source"], row["line"], row["input"]) == (source, line, carried), key
        answer = predicted[key]
        own = {k: v for k, v in row.items() if k not in ("id", "input", "model_version", "source", "line")}
        assert own.keys() == answer.keys() - {"id"}, key  # every field predict gives, nothing else
        assert (own["topic"], own["name"], own["labels"], own["needs_review"]) == (
            answer["topic"],
            answer["name"],
            answer["labels"],
            answer["needs_review"],
        ), key
        assert abs(own["score"] - answer["score"]) <= 1e-4, key
        assert [(t["topic"], t["name"]) for t in own["topics"]] == [(t["topic"], t["name"]) for t in answer["topics"]]
        assert all(abs(a["score"] - b["score"]) <= 1e-4 for a, b in zip(own["topics"], answer["topics"], strict=True))


def in_input_order(places) -> list:
    files = ["2004.jsonl", "2005.csv", "2006.parquet", "2007.jsonl.gz"]
    return sorted(places, key=lambda where: (files.index(Path(where[0]).name), where[1]))


@pytest.mark.slow
def test_a_local_cluster_tags_every_good_record_as_predict_does_and_lists_every_bad_one(
    archive, predicted, tagged_locally, model_meta
):
    _, good, bad = archive
    result, out = tagged_locally
    assert result.returncode == 1, result.stderr.decode()  # some records were bad
    summary = result.stdout.decode().strip()
    assert summary.startswith(f"Tagged {len(good):,} of {len(good) + len(bad):,} records in 9 partitions in ")
    assert f"; {len(bad)} bad records in all, listed in {out / '_errors.jsonl'}; output in {out}" in summary

    rows = output_rows(out)
    assert_same_as_predict(rows, good, predicted)
    assert {row["model_version"] for row in rows} == {model_meta["version"]}
    names = pq.read_schema(out / "part-00000.parquet").names  # fields predict gains later sit before the last 3
    assert names[:8] == ["id", "input", "topic", "name", "score", "labels", "needs_review", "topics"]
    assert names[-3:] == ["model_version", "source", "line"]
    quoted_newline = next(row for row in rows if row["id"] == "c5")
    assert (quoted_newline["line"], quoted_newline["input"]) == (5, {"page": "5", "section": "平安"})

    errors = [json.loads(line) for line in (out / "_errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert [(error["source"], error["line"]) for error in errors] == in_input_order(bad)
    for error in errors:
        assert bad[(error["source"], error["line"])] in error["reason"], error

    manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["status"] == "complete"
    assert manifest["model"]["version"] == model_meta["version"]
    assert manifest["model"]["sha256"] == model_meta["artifact"]["sha256"]
    assert manifest["totals"] == {"partitions": 9, "complete": 9, "records": len(good), "errors": len(bad)}
    assert [(p["file"], p["status"]) for p in manifest["partitions"]] == [
        (f"part-{i:05d}.parquet", "complete") for i in range(9)
    ]
    for source in manifest["inputs"]:
        stat = os.stat(source["path"])
        assert (source["size"], source["mtime_ns"]) == (stat.st_size, stat.st_mtime_ns)
    assert manifest["records_per_second"] > 0 and manifest["started_at"] < manifest["finished_at"]
    assert temporaries(out) == []


@pytest.mark.slow
def test_a_dask_cluster_gives_the_same_rows_when_a_worker_is_killed_mid_partition(
    archive, tagged_locally, model_root, tmp_path
):
    directory, _, _ = archive
    _, local = tagged_locally
    out = tmp_path / "tagged"
    (tmp_path / "logs").mkdir()
    with DaskCluster(tmp_path / "logs", workers=2) as cluster:
        job = newstag(
            ["tag-archive", directory, "--out", out, "--scheduler", cluster.address, "--partition-size", 2500],
            model_root,
            start_new_session=True,
        )
        try:
            # The marker: a part's temporary file, named after the worker process writing it, still
            # small (a 2,500-record partition stays below one row group: its rows go out at the end).
            match = wait_for(lambda: tagging_now(out), job)
            victim = int(match.group(2))
            os.kill(victim, signal.SIGKILL)
            wait_gone(victim)
            assert (out / match.group(0)).exists() and not (out / match.group(1)).exists()  # it died mid-partition
            stdout, stderr = job.communicate(timeout=300)
        finally:
            stop([job])
        assert job.returncode == 1, f"{stderr.decode()}\n{cluster.logs()}"
    assert by_place(output_rows(out)) == by_place(output_rows(local))
    assert (out / "_errors.jsonl").read_bytes() == (local / "_errors.jsonl").read_bytes()
    manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
    redone = next(p for p in manifest["partitions"] if p["file"] == match.group(1))
    assert redone["status"] == "complete" and not redone["worker"].endswith(f":{victim}")
    assert temporaries(out) == []


@pytest.mark.slow
def test_ctrl_c_stops_cleanly_and_a_rerun_tags_only_what_is_missing(archive, tagged_locally, model_root, tmp_path):
    directory, _, bad = archive
    _, local = tagged_locally
    out = tmp_path / "tagged"
    command = ["tag-archive", directory, "--out", out, "--workers", 2, "--partition-size", 1000]
    job = newstag(command, model_root, start_new_session=True)
    try:
        wait_for(lambda: len(list(out.glob("part-*.parquet"))) >= 3, job)
        os.killpg(job.pid, signal.SIGINT)  # what Ctrl-C in a terminal does: the whole process group
        stdout, stderr = job.communicate(timeout=120)
    finally:
        stop([job])
    assert job.returncode == 130, stderr.decode()
    assert "run the same command again to resume" in stderr.decode()
    assert temporaries(out) == []
    complete = {path.name: path.stat().st_mtime_ns for path in out.glob("part-*.parquet")}
    assert 3 <= len(complete) < 20
    manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
    assert (manifest["status"], manifest["totals"]["complete"]) == ("interrupted", len(complete))
    listed = [json.loads(line) for line in (out / "_errors.jsonl").read_text(encoding="utf-8").splitlines()]
    assert {(error["source"], error["line"]) for error in listed} <= bad.keys()

    rerun = newstag(command, model_root)
    assert rerun.returncode == 1, rerun.stderr.decode()
    assert f"Resuming: {len(complete)} of 20 partitions already complete, skipped." in rerun.stderr.decode()
    assert f" in {20 - len(complete)} partitions in " in rerun.stdout.decode()
    assert {name: (out / name).stat().st_mtime_ns for name in complete} == complete  # not written again
    assert by_place(output_rows(out)) == by_place(output_rows(local))
    assert (out / "_errors.jsonl").read_bytes() == (local / "_errors.jsonl").read_bytes()
    runs = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))["runs"]
    assert [(run["status"], run["partitions_skipped"]) for run in runs] == [
        ("interrupted", 0),
        ("complete", len(complete)),
    ]
    assert temporaries(out) == []


def another_version_of(root: Path, tmp_path: Path) -> tuple[Path, str]:
    """A model root whose current version is the same artifact under another version id."""
    version = "20300101T000000000Z-0a1b2c"
    other = tmp_path / "other-models"
    shutil.copytree(root / current_version(root), other / version)
    meta = json.loads((other / version / "model.json").read_text(encoding="utf-8"))
    meta["version"] = version
    (other / version / "model.json").write_text(json.dumps(meta), encoding="utf-8")
    (other / "current").write_text(version + "\n")
    return other, version


@pytest.mark.slow
def test_a_rerun_that_would_mix_answers_is_refused_until_restart(model_root, model_meta, tmp_path):
    small = tmp_path / "small.jsonl"
    small.write_text(
        "".join(json.dumps({"id": i, "text": news_text(i)}, ensure_ascii=False) + "\n" for i in range(300)),
        encoding="utf-8",
    )
    out = tmp_path / "tagged"
    command = ["tag-archive", small, "--out", out, "--workers", 1, "--format", "jsonl", "--partition-size", 100]
    first = newstag(command, model_root)
    assert first.returncode == 0, first.stderr.decode()
    parts = {path.name: path.stat().st_mtime_ns for path in out.glob("part-*.jsonl")}
    assert sorted(parts) == ["part-00000.jsonl", "part-00001.jsonl", "part-00002.jsonl"]

    other, version = another_version_of(model_root, tmp_path)
    refused = newstag([*command, "--model", other], model_root)
    assert refused.returncode == 2
    message = refused.stderr.decode()
    assert f"it was tagged with model {model_meta['version']}, this run uses {version}" in message
    assert "--restart" in message
    resized = newstag([*command[:-1], 50], model_root)
    assert resized.returncode == 2 and "--partition-size was 100, now 50" in resized.stderr.decode()
    stat = small.stat()
    os.utime(small, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000_000))
    changed = newstag(command, model_root)
    assert changed.returncode == 2 and f"changed since (size or modification time): {small}" in changed.stderr.decode()
    assert {path.name: path.stat().st_mtime_ns for path in out.glob("part-*.jsonl")} == parts  # nothing touched

    restarted = newstag([*command, "--model", other, "--restart"], model_root)
    assert restarted.returncode == 0, restarted.stderr.decode()
    rows = output_rows(out)
    assert len(rows) == 300 and {row["model_version"] for row in rows} == {version}
    assert [row["id"] for row in rows] == list(range(300))  # JSONL output keeps the id's own type
    manifest = json.loads((out / "_manifest.json").read_text(encoding="utf-8"))
    assert manifest["model"]["version"] == version and len(manifest["runs"]) == 1
