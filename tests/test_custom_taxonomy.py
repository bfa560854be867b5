"""A newsroom's own topics: a three-topic taxonomy trained without the bundled corpus is what the
service, the editor page, reports and compare show; the taxonomy file is checked; models of
different topics never meet at the gate unless an operator forces it."""

import json
import os
import shutil
from pathlib import Path

import pytest

from model.artifact import current_version, list_versions, read_metadata
from model.taxonomy import Taxonomy, TaxonomyError, load_taxonomy, load_taxonomy_file
from service import create_app
from tests.conftest import ADMIN_TOKEN, DATA, copy_version
from tests.test_cli import run
from training.corpus import Record, fit_to_taxonomy, load_corpus
from training.train import training_sets

CUSTOM = DATA / "custom_taxonomy"
TOPICS = CUSTOM / "topics.json"
CORPUS = CUSTOM / "corpus.jsonl"
OURS = ("environment", "ip", "labor")
NAMES = ["环境资源", "知识产权", "劳动保障"]
AUTH = {"Authorization": f"Bearer {ADMIN_TOKEN}"}
EDITOR_TOKEN = "tok-sun"

ENVIRONMENT_TEXT = (
    "本报讯 近日，长兴县生态环境分局执法人员在突击检查中发现，一家电镀企业私设暗管偷排含重金属废水，已依法立案查处。"
)
LABOR_TEXT = "本报讯 近日，萧山区人力社保局劳动保障监察大队督促一家建筑企业为四十余名农民工补发拖欠的工资。"
IP_TEXT = "本报讯 近日，义乌市人民法院审结一起侵害商标权纠纷案，被告销售假冒知名品牌的运动鞋，被判赔偿经济损失。"


def post(client, path, body, **kwargs):
    return client.post(path, data=json.dumps(body, ensure_ascii=False), content_type="application/json", **kwargs)


def train_args(root, *more):
    return ["train", "--taxonomy", TOPICS, "--corpus", CORPUS, "--no-bundled", "--out", root, "--folds", "2", *more]


@pytest.fixture(scope="module")
def custom_root(tmp_path_factory) -> Path:
    """A fresh root with one model of our three topics, trained on our corpus only (no force needed)."""
    root = tmp_path_factory.mktemp("custom") / "models"
    result = run(train_args(root), root)
    assert result.returncode == 0, result.stderr.decode()
    assert "Saved" in result.stdout.decode()
    return root


@pytest.fixture(scope="module")
def custom_client(custom_root, tmp_path_factory):
    database = tmp_path_factory.mktemp("custom-feedback") / "feedback.sqlite3"
    app = create_app(
        {
            "MODEL_ROOT": str(custom_root),
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "EDITOR_TOKENS": {"sun": EDITOR_TOKEN},
            "DATABASE_URL": f"sqlite:///{database}",
        }
    )
    return app.test_client()


# -- the taxonomy file -----------------------------------------------------------------------


def valid() -> dict:
    return json.loads(TOPICS.read_text(encoding="utf-8"))


def write(tmp_path, data) -> Path:
    path = tmp_path / "topics.json"
    path.write_text(data if isinstance(data, str) else json.dumps(data, ensure_ascii=False), encoding="utf-8")
    return path


def test_our_taxonomy_file_reads_with_its_ids_names_and_iptc_subjects():
    taxonomy = load_taxonomy_file(TOPICS)
    assert taxonomy.ids == OURS and [t.name for t in taxonomy.topics] == NAMES
    assert [s.code for s in taxonomy.get("environment").iptc] == ["06000000"]
    assert [s.uri for s in taxonomy.get("ip").iptc] == ["urn:newstag:topic:ip"]


def test_a_description_and_subjects_are_optional(tmp_path):
    data = {"version": "v", "topics": [{"id": "a1", "name": "甲"}, {"id": "b_2", "name": "乙"}]}
    taxonomy = load_taxonomy_file(write(tmp_path, data))
    assert taxonomy.ids == ("a1", "b_2") and taxonomy.get("a1").description == "" and taxonomy.get("a1").iptc == ()


def change(edit):
    data = valid()
    edit(data)
    return data


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (["environment"], "a taxonomy is a JSON object"),
        (change(lambda d: d.update(topcs=[])), "unknown field(s) 'topcs'"),
        (change(lambda d: d.pop("version")), '"version" must be a non-empty string'),
        (change(lambda d: d.update(version=2)), '"version" must be a non-empty string'),
        (change(lambda d: d.update(topics=d["topics"][:1])), '"topics" must be a list of at least 2 topics'),
        (change(lambda d: d.update(topics={"environment": {}})), '"topics" must be a list'),
        (change(lambda d: d.update(boundary_rules="环境优先")), '"boundary_rules" must be a list of strings'),
        (change(lambda d: d["topics"].append("labor")), "topics[3]: expected an object"),
        (change(lambda d: d["topics"][1].pop("id")), 'topics[1]: "id" is missing'),
        (change(lambda d: d["topics"][0].update(id="Environment")), "topic 'Environment': the id must be lowercase"),
        (change(lambda d: d["topics"][0].update(id="1env")), "topic '1env': the id must be lowercase"),
        (change(lambda d: d["topics"][0].update(id="env-res")), "topic 'env-res': the id must be lowercase"),
        (change(lambda d: d["topics"][0].update(id="e" * 41)), "at most 40 characters"),
        (change(lambda d: d["topics"][0].update(id="none")), "topic 'none': the id 'none' is reserved"),
        (change(lambda d: d["topics"][2].update(id="ip")), "topics[2]: id 'ip' is also topics[1]"),
        (change(lambda d: d["topics"][1].pop("name")), "topic 'ip': \"name\" must be a non-blank string"),
        (change(lambda d: d["topics"][1].update(name="  ")), "topic 'ip': \"name\" must be a non-blank string"),
        (change(lambda d: d["topics"][2].update(name="知识产权")), "topic 'labor': name '知识产权' is also topic 'ip'"),
        (change(lambda d: d["topics"][0].update(description=["污染"])), "topic 'environment': \"description\" must"),
        (change(lambda d: d["topics"][0].update(label="环境")), "topic 'environment': unknown field(s) 'label'"),
        (change(lambda d: d["topics"][0].update(iptc=[{"code": "6000000"}])), "topic 'environment': iptc[0]: code"),
        (change(lambda d: d["topics"][1].update(iptc=[{"uri": "ip"}])), "topic 'ip': iptc[0]: uri 'ip' is not an"),
    ],
)
def test_a_bad_taxonomy_file_is_refused_naming_the_topic_and_the_fix(tmp_path, data, message):
    path = write(tmp_path, data)
    with pytest.raises(TaxonomyError) as caught:
        load_taxonomy_file(path)
    assert str(caught.value).startswith(f"{path}: ")
    assert message in str(caught.value)


def test_a_missing_malformed_or_directory_file_is_a_clear_error(tmp_path):
    with pytest.raises(TaxonomyError, match="no such taxonomy file"):
        load_taxonomy_file(tmp_path / "absent.json")
    with pytest.raises(TaxonomyError, match=r"invalid JSON: .* \(line 1, column"):
        load_taxonomy_file(write(tmp_path, '{"version": "v", "topics": ['))
    with pytest.raises(TaxonomyError, match="is a directory"):
        load_taxonomy_file(tmp_path)


def test_topic_change_compares_ids_in_any_order():
    ours = load_taxonomy_file(TOPICS)
    reordered = Taxonomy(ours.version, tuple(reversed(ours.topics)))
    renamed = Taxonomy.from_dict(change(lambda d: d["topics"][0].update(name="生态环境")))
    assert ours.topic_change(reordered) is None and ours.topic_change(renamed) is None
    assert load_taxonomy().topic_change(ours) == (
        "adds environment, ip, labor; drops policing, traffic, fire, anti_drug, anti_fraud, procuratorate, court, "
        "justice, grassroots, emergency, party"
    )


# -- the corpus for a taxonomy ---------------------------------------------------------------


def test_a_record_of_a_dropped_topic_takes_an_acceptable_other_topic_or_leaves_the_scope():
    taxonomy = Taxonomy.from_dict(
        {"version": "v", "topics": [{"id": "court", "name": "法院"}, {"id": "anti_drug", "name": "禁毒"}]}
    )
    records = [
        Record("a", "法院审理一起贩毒案。", "court", ("anti_drug",)),
        Record("b", "公安查获毒品。", "policing", ("anti_drug",)),
        Record("c", "派出所巡逻。", "policing", ("grassroots",)),
        Record("d", "市场监管抽检。", None),
    ]
    fitted = fit_to_taxonomy(records, taxonomy)
    assert fitted[0] is records[0]
    assert [(r.topic, r.also) for r in fitted] == [
        ("court", ("anti_drug",)),
        ("anti_drug", ()),
        (None, ()),
        (None, ()),
    ]


def test_training_without_a_bundled_topic_turns_its_records_out_of_scope():
    bundled = load_taxonomy()
    without_party = Taxonomy(bundled.version, tuple(t for t in bundled.topics if t.id != "party"))
    sets = training_sets(without_party, [], use_bundled=True)
    everything = sets.records + sets.gate
    assert {r.topic for r in everything} == {*without_party.ids, None}
    assert not any("party" in r.accept for r in everything)
    assert sets.gate_source == "bundled" and sets.gate


def test_without_the_bundled_corpus_the_gate_split_is_the_corpus_own():
    taxonomy = load_taxonomy_file(TOPICS)
    records = load_corpus([CORPUS], taxonomy)
    sets = training_sets(taxonomy, records, use_bundled=False)
    assert sets.gate_source == "corpus"
    assert {r.id for r in sets.gate} | {r.id for r in sets.records} == {r.id for r in records}
    assert not {r.id for r in sets.gate} & {r.id for r in sets.records}
    assert {r.topic for r in sets.gate} == {*OURS, None}  # every topic and the out-of-scope texts are gated


# -- training refusals -----------------------------------------------------------------------


def corpus_lines(keep=lambda row: True) -> list[dict]:
    rows = [json.loads(line) for line in CORPUS.read_text(encoding="utf-8").splitlines()]
    return [row for row in rows if keep(row)]


def write_corpus(path, rows) -> Path:
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows), encoding="utf-8")
    return path


def test_a_corpus_record_of_a_topic_outside_the_taxonomy_names_its_file_and_line(tmp_path):
    rows = corpus_lines()
    rows.insert(4, {"id": "old-1", "text": "派出所民警夜间巡逻。", "topic": "policing"})
    corpus = write_corpus(tmp_path / "ours.jsonl", rows)
    result = run(["train", "--taxonomy", TOPICS, "--corpus", corpus, "--no-bundled", "--out", tmp_path / "m"], tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.decode().splitlines()
    assert line.startswith(
        f"newstag: error: {corpus}:5: record old-1: unknown topic 'policing' (known: environment, ip"
    )
    assert not (tmp_path / "m").exists()


def test_a_topic_with_fewer_than_30_records_is_refused_naming_the_topic_and_the_count(tmp_path):
    ip = iter(range(100))
    corpus = write_corpus(tmp_path / "ours.jsonl", corpus_lines(lambda row: row["topic"] != "ip" or next(ip) < 12))
    result = run(["train", "--taxonomy", TOPICS, "--corpus", corpus, "--no-bundled", "--out", tmp_path / "m"], tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.decode().splitlines()[-1:]
    assert line == (
        "newstag: error: too few labelled records for topic(s) ip 知识产权 (12): each topic needs at least 30; "
        "add records with --corpus or drop the topic from the taxonomy"
    )
    assert "Traceback" not in result.stderr.decode() and list_versions(tmp_path / "m") == []


def test_two_topics_are_enough_with_out_of_scope_texts_and_refused_without(tmp_path):
    data = change(lambda d: d.update(topics=d["topics"][:2]))
    taxonomy_file = write(tmp_path, data)
    without_others = write_corpus(
        tmp_path / "two.jsonl", corpus_lines(lambda row: row["topic"] in ("environment", "ip"))
    )
    result = run(
        ["train", "--taxonomy", taxonomy_file, "--corpus", without_others, "--no-bundled", "--out", tmp_path / "m"],
        tmp_path,
    )
    assert result.returncode == 1
    assert "needs out-of-scope records too (topic null" in result.stderr.decode().splitlines()[-1]
    with_others = write_corpus(
        tmp_path / "two-and-others.jsonl", corpus_lines(lambda row: row["topic"] in ("environment", "ip", None))
    )
    args = [
        "--taxonomy",
        taxonomy_file,
        "--corpus",
        with_others,
        "--no-bundled",
        "--out",
        tmp_path / "m",
        "--folds",
        "2",
    ]
    result = run(["train", *args], tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert read_metadata(tmp_path / "m" / current_version(tmp_path / "m"))["taxonomy"]["topics"][1]["id"] == "ip"


# -- the model of our topics, served -----------------------------------------------------------


def test_the_model_carries_our_taxonomy_and_a_gate_of_its_own(custom_root):
    meta = read_metadata(custom_root / current_version(custom_root))
    assert Taxonomy.from_dict(meta["taxonomy"]) == load_taxonomy_file(TOPICS)
    assert meta["corpus"]["gate_source"] == "corpus" and meta["corpus"]["gate_records"] > 0
    assert set(meta["metrics"]["gate"]["per_topic"]) == set(OURS)
    assert set(meta["corpus"]["per_topic"]) == {*OURS, "__none__"}


def test_topics_and_the_openapi_enum_are_exactly_our_three(custom_client):
    topics = custom_client.get("/v1/topics").get_json()["topics"]
    assert [t["id"] for t in topics] == list(OURS) and [t["name"] for t in topics] == NAMES
    assert topics[0]["iptc"][0]["code"] == "06000000"
    schemas = custom_client.get("/openapi.json").get_json()["components"]["schemas"]
    assert schemas["Topic"]["properties"]["id"]["enum"] == list(OURS)
    assert schemas["TopicScore"]["properties"]["topic"]["enum"] == list(OURS)
    feedback_topic = schemas["FeedbackRequest"]["properties"]["topic"]["anyOf"]
    assert [s["enum"] for s in feedback_topic if "enum" in s] == [list(OURS)]
    assert schemas["ClassifyText"]["properties"]["top_k"]["anyOf"][0]["maximum"] == 3


def test_classify_tags_with_our_topics(custom_client):
    response = post(custom_client, "/v1/classify", {"texts": [ENVIRONMENT_TEXT, IP_TEXT, LABOR_TEXT]})
    assert response.status_code == 200
    results = response.get_json()["results"]
    assert [r["topic"] for r in results] == list(OURS)
    assert results[0]["name"] == "环境资源"
    assert {s["topic"] for r in results for s in r["topics"]} == set(OURS)
    ninjs = post(custom_client, "/v1/classify", {"text": ENVIRONMENT_TEXT, "format": "ninjs"}).get_json()
    assert ninjs["items"][0]["subjects"][0]["uri"] == "http://cv.iptc.org/newscodes/mediatopic/06000000"


def test_a_correction_must_name_one_of_the_serving_models_topics(custom_client):
    headers = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
    old = post(custom_client, "/v1/feedback", {"text": ENVIRONMENT_TEXT, "topic": "policing"}, headers=headers)
    assert old.status_code == 422
    error = old.get_json()["error"]
    assert error["code"] == "unknown_topic" and "known: environment, ip, labor" in error["message"]
    ours = post(custom_client, "/v1/feedback", {"text": ENVIRONMENT_TEXT, "topic": "environment"}, headers=headers)
    assert ours.status_code == 201 and ours.get_json()["topic"] == "environment"


def test_predict_evaluate_and_the_report_follow_the_models_taxonomy(custom_root, tmp_path):
    result = run(["predict", "--model", custom_root, "--no-explain"], custom_root, stdin=LABOR_TEXT + "\n")
    assert result.returncode == 0, result.stderr.decode()
    answer = json.loads(result.stdout)
    assert answer["topic"] == "labor" and {t["topic"] for t in answer["topics"]} == set(OURS)
    report = tmp_path / "report"
    result = run(["evaluate", "--model", custom_root, "--corpus", CORPUS, "--report", report], custom_root)
    assert result.returncode == 0, result.stderr.decode()
    assert "environment" in result.stdout.decode() and "policing" not in result.stdout.decode()
    metrics = json.loads((report / "metrics.json").read_text(encoding="utf-8"))
    assert metrics["labels"] == list(OURS) and len(metrics["confusion"]) == 3
    html = (report / "report.html").read_text(encoding="utf-8")
    assert all(name in html for name in NAMES) and "公安" not in html


def test_compare_needs_our_records_for_our_gate_and_refuses_other_topics(custom_root, model_root, tmp_path):
    version = current_version(custom_root)
    copy = copy_version(custom_root)
    result = run(["compare", version, copy], custom_root)
    assert result.returncode == 1 and "give labelled records to compare on with --corpus" in result.stderr.decode()
    html = tmp_path / "compare.html"
    result = run(["compare", version, copy, "--corpus", CORPUS, "--html", html], custom_root)
    assert result.returncode == 0, result.stderr.decode()
    out = result.stdout.decode()
    assert "0 text(s) changed label" in out and "labor" in out and "policing" not in out
    assert "environment" in html.read_text(encoding="utf-8")
    result = run(["compare", str(model_root), version], custom_root)
    assert result.returncode == 1
    [line] = result.stderr.decode().splitlines()
    assert "the taxonomy changed: the new model adds environment, ip, labor; drops policing" in line
    assert "compare scores models of the same topics" in line
    shutil.rmtree(custom_root / copy)


# -- models of different topics ----------------------------------------------------------------


def test_training_into_a_root_of_other_topics_is_refused_unless_forced(private_root, tmp_path):
    before = list_versions(private_root)
    result = run(train_args(private_root), tmp_path)
    assert result.returncode == 1
    [line] = result.stderr.decode().splitlines()
    assert line.startswith(
        "newstag: error: the taxonomy changed: the new model adds environment, ip, labor; drops policing, "
    )
    assert f"compared with {before[-1]}" in line and "train with --force to make it current anyway" in line
    assert list_versions(private_root) == before  # refused before training


@pytest.mark.slow
def test_forced_training_into_a_root_of_other_topics_makes_ours_current(private_root, tmp_path):
    bundled_version = current_version(private_root)
    result = run(train_args(private_root, "--force"), tmp_path)
    assert result.returncode == 0, result.stderr.decode()
    assert "Taxonomy changed (forced): the new model adds environment" in result.stdout.decode()
    meta = read_metadata(private_root / current_version(private_root))
    assert meta["taxonomy_change"]["against"] == bundled_version and "gate_check" not in meta
    # Back to the package's topics: refused the same way, in the other direction.
    result = run(["train", "--out", private_root, "--folds", "2"], tmp_path)
    assert result.returncode == 1 and "drops environment, ip, labor" in result.stderr.decode()


def test_reload_to_a_model_of_other_topics_is_409_unless_forced(private_root, custom_root, tmp_path):
    bundled_version = current_version(private_root)
    ours = current_version(custom_root)
    shutil.copytree(custom_root / ours, private_root / ours)
    database = tmp_path / "feedback.sqlite3"
    app = create_app(
        {
            "MODEL_ROOT": str(private_root),
            "ADMIN_TOKEN": ADMIN_TOKEN,
            "EDITOR_TOKENS": {"sun": EDITOR_TOKEN},
            "DATABASE_URL": f"sqlite:///{database}",
        }
    )
    client = app.test_client()
    assert len(client.get("/v1/topics").get_json()["topics"]) == 11

    refused = post(client, "/v1/admin/reload", {"model": ours}, headers=AUTH)
    assert refused.status_code == 409
    error = refused.get_json()["error"]
    assert error["code"] == "taxonomy_changed" and "send force to serve it anyway" in error["message"]
    assert error["change"].startswith("adds environment, ip, labor; drops policing")
    assert client.get("/readyz").get_json()["model_version"] == bundled_version

    forced = post(client, "/v1/admin/reload", {"model": ours, "force": True}, headers=AUTH)
    assert forced.status_code == 200 and forced.get_json()["model_version"] == ours
    assert [t["id"] for t in client.get("/v1/topics").get_json()["topics"]] == list(OURS)
    enum = client.get("/openapi.json").get_json()["components"]["schemas"]["Topic"]["properties"]["id"]["enum"]
    assert enum == list(OURS)
    assert post(client, "/v1/classify", {"text": ENVIRONMENT_TEXT}).get_json()["results"][0]["topic"] == "environment"
    headers = {"Authorization": f"Bearer {EDITOR_TOKEN}"}
    assert post(client, "/v1/feedback", {"text": IP_TEXT, "topic": "court"}, headers=headers).status_code == 422

    back = post(client, "/v1/admin/reload", {"model": bundled_version}, headers=AUTH)
    assert back.status_code == 409 and back.get_json()["error"]["code"] == "taxonomy_changed"
    assert "drops environment, ip, labor" in back.get_json()["error"]["message"]


# -- the editor page -------------------------------------------------------------------------


PAGE = f"""环境与法治

电镀厂暗管偷排被查

{ENVIRONMENT_TEXT}

假冒运动鞋商家被判赔偿

{IP_TEXT}

四十余名农民工拿回欠薪

{LABOR_TEXT}
"""


@pytest.mark.slow
def test_the_editor_page_shows_only_our_topics(custom_root, tmp_path):
    from playwright.sync_api import sync_playwright

    from tests.servers import ServerProcess
    from tests.test_editor_page import ARTIFACTS, CHROMIUM, CHROMIUM_ARGS

    if not Path(CHROMIUM).exists():
        message = f"{CHROMIUM} is missing: scripts/test.sh installs Debian's chromium"
        if os.environ.get("CI") == "true":
            pytest.fail(message)
        pytest.skip(message)
    root = tmp_path / "models"
    shutil.copytree(custom_root, root)
    env = {"NEWSTAG_EDITOR_TOKENS": f"sun:{EDITOR_TOKEN}", "NEWSTAG_DATABASE_URL": f"sqlite:///{tmp_path / 'fb.db'}"}
    with ServerProcess(root, workers=1, env=env) as server, sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page(locale="zh-CN", viewport={"width": 1200, "height": 900})
        errors = []
        page.on("console", lambda message: message.type == "error" and errors.append(message.text))
        page.goto(server.url + "/")
        page.wait_for_function("document.querySelector('#filters') !== null")
        page.fill("#page-text", PAGE)
        page.click("#tag-button")
        page.wait_for_selector("#result:not([hidden])")
        items = page.locator("#items > li.item")
        assert items.count() == 3
        assert [i.get_attribute("data-topic") for i in items.all()] == list(OURS)
        assert [i.locator(".chip").first.inner_text() for i in items.all()] == NAMES
        # The correction menu offers our three topics and "none of ours", nothing of the package's.
        options = items.first.locator(".correct-topic option")
        assert [o.get_attribute("value") for o in options.all()] == [*OURS, "none"]
        labels = [f"{name}（{topic}）" for name, topic in zip(NAMES, OURS, strict=True)]
        assert [o.inner_text() for o in options.all()] == [*labels, "不属于以上主题"]
        buttons = [b.inner_text() for b in page.locator("#filters button").all()]
        assert buttons == ["全部（3）", "环境资源（1）", "知识产权（1）", "劳动保障（1）"]
        body = page.locator("body").inner_text()
        assert not any(name in body for name in ("公安", "消防", "交通安全", "党建队伍"))
        # A correction to one of ours is saved.
        page.fill("#editor-token", EDITOR_TOKEN)
        items.nth(2).locator(".correct-topic").select_option("ip")
        items.nth(2).locator(".save-correction").click()
        page.locator("#items > li.item").nth(2).locator(".saved.ok").wait_for()
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "editor-page-own-topics.png"), full_page=True)
        assert errors == []
        browser.close()


def test_the_help_names_the_taxonomy_option(tmp_path):
    help_text = run(["train", "--help"], tmp_path).stdout.decode()
    assert "--taxonomy" in help_text and "at least 30" in help_text and "newstag train --taxonomy" in help_text


def test_the_readme_example_list_reads(tmp_path):
    readme = (Path(__file__).parent.parent / "README.md").read_text(encoding="utf-8")
    example = readme.split("## Your own topic list", 1)[1].split("```json", 1)[1].split("```", 1)[0]
    assert load_taxonomy_file(write(tmp_path, example)).ids == OURS
