"""End to end: editors correct tags through the service, the corrections train the next model,
compare shows what changed, reload serves it; worse models are refused by the gate."""

import json
import random

import pytest
import requests

from model.artifact import current_version, list_versions
from model.taxonomy import load_taxonomy
from tests.conftest import ADMIN_TOKEN
from tests.servers import ServerProcess
from tests.test_cli import run
from training.corpus import load_bundled
from training.split import split_gate

pytestmark = pytest.mark.slow  # real servers, processes or browsers

EDITOR = {"Authorization": "Bearer tok-chen"}
ADMIN = {"Authorization": f"Bearer {ADMIN_TOKEN}"}

# Texts an editor might find mis-tagged; each gets corrected to its second-best topic.
CASES = [
    "村口的说事室里，民警和村干部一道听两家人把话说完，当场写下和解协议。",
    "他们连夜把山脚下十三户村民转移到村文化礼堂，第二天一早山体就滑了下来。",
    "老旧小区加装电梯起争执，街道请来律师和楼道长，三次协商后签了协议。",
]


def classify(server, texts):
    response = requests.post(f"{server.url}/v1/classify", json={"texts": texts, "explain": False}, timeout=30)
    assert response.status_code == 200
    return response.json()


def write_corpus(path, records):
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def shuffled(records, topic=None, seed=3):
    """Training records with labels permuted: all of them, or only those of one topic.

    The ids stay: a training record's id never falls in the gate split, so a corpus of these and
    the bundled gate records, trained without the bundled corpus, is gated on the bundled gate split.
    """
    rng = random.Random(seed)
    ids = list(load_taxonomy().ids)
    out = []
    for r in records:
        label = r.topic
        if r.topic is not None and (topic is None or r.topic == topic):
            label = rng.choice(ids)
        out.append({"id": r.id, "text": r.text, "topic": label})
    return out


def test_corrections_flow_into_the_next_model_and_the_gate_refuses_worse_ones(private_root, tmp_path):
    root = private_root
    database = f"sqlite:///{tmp_path / 'feedback.sqlite3'}"
    env = {
        "NEWSTAG_ADMIN_TOKEN": ADMIN_TOKEN,
        "NEWSTAG_EDITOR_TOKENS": "chen:tok-chen",
        "NEWSTAG_DATABASE_URL": database,
    }
    first = current_version(root)
    with ServerProcess(root, workers=2, env=env) as server:
        before = classify(server, CASES)["results"]
        targets = [r["topics"][1]["topic"] for r in before]
        assert all(r["topic"] != t for r, t in zip(before, targets, strict=True))

        # Editors correct: one text twice, the second correction wins.
        wrong_first = next(t["topic"] for t in before[0]["topics"][2:])
        for text, topic in [(CASES[0], wrong_first), *zip(CASES, targets, strict=True)]:
            posted = requests.post(
                f"{server.url}/v1/feedback",
                headers=EDITOR,
                timeout=30,
                json={"text": text, "topic": topic, "predicted": before[0]["topic"]},
            )
            assert posted.status_code == 201

        exported = tmp_path / "corrections.jsonl"
        result = run(["feedback", "export", "--database", database, "--out", str(exported)], root)
        assert result.returncode == 0, result.stderr
        rows = [json.loads(line) for line in exported.read_text(encoding="utf-8").splitlines()]
        assert [(r["text"], r["topic"]) for r in rows] == list(zip(CASES, targets, strict=True))
        assert all(set(r) == {"id", "text", "topic", "also", "kind", "hard"} for r in rows)

        result = run(["train", "--with-feedback", "--database", database, "--out", str(root), "--folds", "2"], root)
        assert result.returncode == 0, result.stderr.decode()
        assert "Editors' corrections used: 3" in result.stdout.decode()
        assert "gate passed" in result.stdout.decode()
        second = current_version(root)
        meta = json.loads((root / second / "model.json").read_text(encoding="utf-8"))
        assert meta["corpus"]["feedback_used"] == 3 and meta["corpus"]["feedback"] == 3

        result = run(["compare", first, second, "--corpus", str(exported)], root)
        assert result.returncode == 0, result.stderr
        report = result.stdout.decode()
        for row, target in zip(rows, targets, strict=True):
            assert f"[{exported}] {row['id']}:" in report and f"-> {target}" in report

        # The running service still answers with the old model until it is reloaded.
        assert classify(server, CASES)["model_version"] == first
        reloaded = requests.post(f"{server.url}/v1/admin/reload", headers=ADMIN, timeout=120)
        assert reloaded.status_code == 200 and reloaded.json()["model_version"] == second
        assert set(server.wait_for_version(second, workers=2).values()) == {second}
        after = classify(server, CASES)
        assert [r["topic"] for r in after["results"]] == targets

        # A model trained on shuffled labels, and one with one topic's labels shuffled (half the
        # training records each: enough for the gate to see the fall, in half the training time).
        train_records, gate_records = split_gate(load_bundled(load_taxonomy()))
        train_records = train_records[::2]
        for name, records, expect in [
            ("all", shuffled(train_records), "macro-F1 fell by"),
            ("fire", shuffled(train_records, topic="fire"), "F1 of fire fell by"),
        ]:
            corpus = tmp_path / f"shuffled-{name}.jsonl"
            write_corpus(corpus, records + [r.to_dict() for r in gate_records])
            versions = set(list_versions(root))
            result = run(["train", "--no-bundled", "--corpus", str(corpus), "--out", str(root), "--folds", "2"], root)
            assert result.returncode == 1
            assert "gate refused the new model" in result.stderr.decode() and expect in result.stderr.decode()
            assert current_version(root) == second
            [refused] = set(list_versions(root)) - versions
            response = requests.post(
                f"{server.url}/v1/admin/reload", headers=ADMIN, json={"model": refused}, timeout=120
            )
            assert response.status_code == 409
            error = response.json()["error"]
            assert error["code"] == "gate_refused" and expect in error["message"]
            assert error["gate"]["passed"] is False
            assert classify(server, CASES[:1])["model_version"] == second

        # An operator may still force a refused model in, and roll back.
        forced = requests.post(
            f"{server.url}/v1/admin/reload", headers=ADMIN, json={"model": refused, "force": True}, timeout=120
        )
        assert forced.status_code == 200 and forced.json()["model_version"] == refused
        assert set(server.wait_for_version(refused, workers=2).values()) == {refused}
        # Rolling back is forced too: judged against the broken model, a good one can still lose on one
        # topic (here the fire-shuffled model never says fire, so its traffic precision is higher).
        back = requests.post(
            f"{server.url}/v1/admin/reload", headers=ADMIN, json={"model": second, "force": True}, timeout=120
        )
        assert back.status_code == 200 and back.json()["model_version"] == second
