"""Every command's --help has an example, and the example runs."""

import json
import shlex
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest

from model.artifact import current_version, list_versions
from newstag.cli import cli
from tests.conftest import copy_version
from tests.servers import free_port, wait_until
from tests.test_cli import run

REPO = Path(__file__).parent.parent
# Examples that train or start processes run in the slow lane.
SLOW = {"train", "serve", "tag-archive"}


def command_paths(group=cli, prefix=()):
    """Every runnable command as its words after `newstag`, groups walked recursively."""
    context = click.Context(group)
    for name in group.list_commands(context):
        command = group.get_command(context, name)
        if isinstance(command, click.Group):
            yield from command_paths(command, (*prefix, name))
        else:
            yield (*prefix, name)


def examples(path, root):
    help_text = run([*path, "--help"], root).stdout.decode()
    assert "Example:" in help_text, f"`newstag {' '.join(path)} --help` has no example"
    block = help_text.split("Example:", 1)[1].lstrip("\n").split("\n\n", 1)[0]  # up to the next blank line
    return [line.strip() for line in block.splitlines() if line.strip()]


@pytest.fixture
def workspace(tmp_path, private_root, monkeypatch):
    """A directory with the files the examples name, and a root with two versions."""
    shutil.copytree(REPO / "examples", tmp_path / "examples")
    shutil.copy(REPO / "tests" / "data" / "custom_taxonomy" / "topics.json", tmp_path / "our_topics.json")
    shutil.copy(REPO / "tests" / "data" / "custom_taxonomy" / "corpus.jsonl", tmp_path / "our_topics.jsonl")
    labelled = [
        {"id": "ours-1", "text": "近日，某派出所民警在夜间巡逻中抓获一名盗窃电动车的嫌疑人。", "topic": "policing"},
        {"id": "ours-2", "text": "某县人民法院公开开庭审理一起故意伤害案，当庭宣判。", "topic": "court"},
    ]
    for name in ("our_labels.jsonl", "held_out.jsonl"):
        (tmp_path / name).write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in labelled), "utf-8")
    copy_version(private_root)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def filled(example, root):
    """The example with its placeholders (VERSION, OLD_VERSION, NEW_VERSION) given real values."""
    old, new = list_versions(root)[:2]
    values = {"VERSION": new, "OLD_VERSION": old, "NEW_VERSION": new}
    return [values.get(word, word) for word in shlex.split(example)]


@pytest.mark.parametrize("path", sorted(p for p in command_paths() if p[-1] not in SLOW), ids=" ".join)
def test_the_example_of_every_quick_command_runs(path, workspace, private_root):
    env = {"NEWSTAG_DATABASE_URL": f"sqlite:///{workspace / 'feedback.sqlite3'}"}
    found = examples(path, private_root)
    assert found
    for example in found:
        stdin = None
        if example.startswith("echo "):
            piped, example = example.split("|", 1)
            stdin = shlex.split(piped)[1] + "\n"
        words = filled(example, private_root)
        assert words[0] == "newstag"
        result = run(words[1:], private_root, stdin=stdin, env=env)
        assert result.returncode == 0, (example, result.stderr.decode())
    assert current_version(private_root)


def test_the_top_level_help_names_every_command_with_an_example(private_root):
    help_text = run(["--help"], private_root).stdout.decode()
    for name in ("train", "evaluate", "predict", "tag-page", "serve", "compare", "feedback", "models"):
        assert name in help_text
    assert "newstag tag-page examples/page.txt" in help_text
    assert (REPO / "examples" / "page.txt").is_file()


@pytest.mark.slow
def test_the_train_examples_run(workspace, private_root):
    bundled, ours = examples(("train",), private_root)
    for example, root in ((bundled, "models"), (ours, "our_models")):
        result = run(filled(example, private_root)[1:], private_root)
        assert result.returncode == 0, result.stderr.decode()
        assert current_version(workspace / root)


@pytest.mark.slow
def test_the_tag_archive_example_runs(workspace, private_root):
    (workspace / "archive").mkdir()
    lines = [{"id": f"a{n}", "text": f"近日，某派出所民警在第{n}次夜间巡逻中抓获一名盗窃嫌疑人。"} for n in range(40)]
    (workspace / "archive" / "2004.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in lines))
    [example] = examples(("tag-archive",), private_root)
    result = run(shlex.split(example)[1:] + ["--no-progress"], private_root)
    assert result.returncode == 0, result.stderr.decode()
    assert list((workspace / "tagged").glob("part-*.parquet"))


@pytest.mark.slow
def test_the_serve_example_runs(workspace, private_root):
    """Started as the example says (another free port), it answers, then stops on SIGTERM."""
    import os

    import requests

    [example] = examples(("serve",), private_root)
    words = shlex.split(example)
    env = dict(os.environ, NEWSTAG_MODEL_ROOT=str(private_root))
    while "=" in words[0]:
        name, value = words.pop(0).split("=", 1)
        env[name] = value
    port = free_port()
    words[words.index("--port") + 1] = str(port)
    process = subprocess.Popen([sys.executable, "-m", *words], env=env, stderr=subprocess.DEVNULL)
    try:
        wait_until(lambda: _ready(requests, port), timeout=120, message="the served example never became ready")
    finally:
        process.send_signal(signal.SIGTERM)
        assert process.wait(60) == 0


def _ready(requests, port):
    try:
        return requests.get(f"http://127.0.0.1:{port}/readyz", timeout=2).status_code == 200
    except requests.RequestException:
        return False


HELP_IMPORTS = """
import sys
from newstag.cli import cli
for args in (["--help"], ["predict", "--help"], ["train", "--help"], ["tag-archive", "--help"]):
    try:
        cli.main(args, prog_name="newstag", standalone_mode=False)
    except SystemExit:
        pass
heavy = {"numpy", "sklearn", "scipy", "jieba", "rjieba", "flask", "dask", "pandas", "pyarrow", "sqlalchemy"}
print(sorted({name.split(".")[0] for name in sys.modules} & heavy))
"""


def test_help_loads_none_of_the_heavy_libraries():
    """Help must come back at once (issue 13: within 0.3 s): it reads no model and imports no numpy."""
    result = subprocess.run([sys.executable, "-c", HELP_IMPORTS], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"
