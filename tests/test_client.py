"""A client generated from /openapi.json by openapi-python-client works against a real server.

A schema the generator cannot type becomes ``Any`` or collapses into a neighbour, often without a
warning. So the test generates with ``--fail-on-warning`` and also checks the generated shapes that
once went wrong (the classify body, ``PageItem``), then drives the server only through the
generated, typed models.
"""

from __future__ import annotations

import importlib
import json
import shutil
import subprocess
import sys
import typing
from pathlib import Path

import httpx
import pytest
import requests

from tests.servers import ServerProcess

PACKAGE = "newstag_client"
FIRE = "近日，嘉兴市秀洲区消防救援大队开展高层建筑灭火救援演练。"
DRUGS = "民警在出租屋内查获冰毒12克，犯罪嫌疑人王某因涉嫌非法持有毒品罪被依法刑事拘留。"
PAGE = Path(__file__).parent / "data" / "pages" / "page_other_sections.txt"


@pytest.fixture(scope="module")
def server(tmp_path_factory, model_root):
    root = tmp_path_factory.mktemp("client-served") / "models"
    shutil.copytree(model_root, root)
    with ServerProcess(root, workers=1) as process:
        yield process


def generate(document: dict, workdir: Path) -> subprocess.CompletedProcess:
    """Run openapi-python-client on ``document``; the package lands in ``workdir / PACKAGE``."""
    spec = workdir / "openapi.json"
    spec.write_text(json.dumps(document, ensure_ascii=False), encoding="utf-8")
    # No post hooks: the default ones call ruff from PATH, which the test must not depend on.
    config = workdir / "generator.json"
    config.write_text(json.dumps({"post_hooks": [], "package_name_override": PACKAGE}), encoding="utf-8")
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "openapi_python_client",
            "generate",
            "--path",
            str(spec),
            "--output-path",
            str(workdir / PACKAGE),
            "--meta",
            "none",
            "--config",
            str(config),
            "--fail-on-warning",
        ],
        cwd=workdir,
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.fixture
def generated(server, tmp_path):
    """The generated client package, imported from tmp_path; sys.path and sys.modules restored after."""
    document = requests.get(f"{server.url}/openapi.json", timeout=10).json()
    run = generate(document, tmp_path)
    assert run.returncode == 0, f"generator failed or warned:\n{run.stdout}\n{run.stderr}"
    assert "warning" not in (run.stdout + run.stderr).lower(), run.stdout + run.stderr
    sys.path.insert(0, str(tmp_path))
    importlib.invalidate_caches()
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(tmp_path))
        for name in [n for n in sys.modules if n == PACKAGE or n.startswith(f"{PACKAGE}.")]:
            del sys.modules[name]


@pytest.mark.slow
def test_generated_client_against_a_real_server(server, generated):
    models = importlib.import_module(f"{PACKAGE}.models")
    classify = importlib.import_module(f"{PACKAGE}.api.default.post_v1_classify")
    tag_page = importlib.import_module(f"{PACKAGE}.api.default.post_v1_tag_page")
    topics_api = importlib.import_module(f"{PACKAGE}.api.default.get_v1_topics")

    def hints(obj) -> dict:
        # The generated modules import their neighbours under TYPE_CHECKING only.
        return typing.get_type_hints(obj, localns=vars(models))

    # -- the generated shapes: what a schema the generator misreads would break ----------------
    # Neither failure warns: the classify body silently becomes Any, PageItem silently becomes Prediction.
    body = hints(classify.sync)["body"]
    assert set(typing.get_args(body)) == {models.ClassifyText, models.ClassifyTexts, models.ClassifyItems}, body
    assert hasattr(models, "PageItem"), "PageItem was not generated (collapsed into another schema?)"
    prediction = {"id", "topic", "name", "score", "labels", "needs_review", "topics", "explanation"}
    page_item = prediction | {"section", "headline", "subtitle", "byline", "text", "paragraphs"}
    assert set(hints(models.PageItem)) >= page_item
    assert set(hints(models.Prediction)) >= prediction
    assert not set(hints(models.Prediction)) & {"headline", "byline", "paragraphs"}
    assert set(hints(models.ClassifyResponse)) >= {"model_version", "results"}
    assert hints(models.ClassifyResponse)["results"] == list[models.Prediction]
    assert hints(models.TagPageResponse)["items"] == list[models.PageItem]
    assert {"id", "text"} <= set(hints(models.ClassifyItem))

    client = generated.Client(base_url=server.url, timeout=httpx.Timeout(30.0), raise_on_unexpected_status=True)
    with client:
        # -- one text -------------------------------------------------------------------------
        one = classify.sync(client=client, body=models.ClassifyText(text=FIRE))
        assert isinstance(one, models.ClassifyResponse), one
        [result] = one.results
        assert isinstance(result, models.Prediction)
        assert result.topic == "fire" and isinstance(result.topic, models.PredictionTopic)
        assert 0 <= result.score <= 1 and isinstance(result.needs_review, bool)
        assert all(isinstance(t, models.TopicScore) for t in result.topics)
        assert result.explanation and all(isinstance(term, models.Term) for term in result.explanation)
        assert not result.id  # no id sent, none returned

        short = classify.sync(client=client, body=models.ClassifyText(text=FIRE, top_k=2, explain=False))
        assert isinstance(short, models.ClassifyResponse)
        assert len(short.results[0].topics) == 2 and not short.results[0].explanation

        # -- a batch --------------------------------------------------------------------------
        batch = classify.sync(client=client, body=models.ClassifyTexts(texts=[FIRE, DRUGS]))
        assert isinstance(batch, models.ClassifyResponse)
        assert [r.topic for r in batch.results][:1] == ["fire"] and len(batch.results) == 2
        assert batch.results[1].topic in {"anti_drug", "policing"}
        assert batch.model_version == one.model_version

        # -- items with ids -------------------------------------------------------------------
        items = models.ClassifyItems(
            items=[models.ClassifyItem(id="a-1", text=FIRE), models.ClassifyItem(id=7, text=DRUGS)]
        )
        tagged_items = classify.sync(client=client, body=items)
        assert isinstance(tagged_items, models.ClassifyResponse)
        assert [r.id for r in tagged_items.results] == ["a-1", 7]
        assert tagged_items.results[0].topic == "fire"

        # -- a page: every item's headline, byline and paragraphs as typed attributes ---------
        expected = json.loads(PAGE.with_suffix(".expected.json").read_text(encoding="utf-8"))["items"]
        page = tag_page.sync(client=client, body=models.TagPageRequest(text=PAGE.read_text(encoding="utf-8")))
        assert isinstance(page, models.TagPageResponse), page
        assert len(page.items) == len(expected)
        for item, want in zip(page.items, expected, strict=True):
            assert isinstance(item, models.PageItem)
            assert item.headline == want["headline"]
            assert item.byline == want["byline"]
            assert item.section == want["section"]
            assert item.id.startswith("item-")
            assert len(item.paragraphs) == want["paragraphs"]
            assert all(isinstance(p, models.ParagraphPrediction) and p.text for p in item.paragraphs)
            assert item.topic in want["accept"]

        # -- topics ---------------------------------------------------------------------------
        topics = topics_api.sync(client=client)
        assert isinstance(topics, models.Topics)
        assert all(isinstance(t, models.Topic) and t.name and t.description for t in topics.topics)
        assert {t.id for t in topics.topics} == set(models.TopicId)
        assert "fire" in {t.id for t in topics.topics}

        # -- an empty batch: a typed error ----------------------------------------------------
        refused = classify.sync_detailed(client=client, body=models.ClassifyTexts(texts=[]))
        assert refused.status_code == 422
        assert isinstance(refused.parsed, models.Error), refused.parsed
        assert isinstance(refused.parsed.error, models.ErrorDetail)
        assert refused.parsed.error.code == "empty_batch" and refused.parsed.error.message
