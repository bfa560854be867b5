"""A newsroom files items by place and exchanges them as IPTC ninjs.

Given a page, the county desk sees every item with the county it happened in; the CMS gets the
same items as ninjs 3.1 objects that validate against IPTC's schema (offline, formats checked);
a paper in another province says so once and the shared names (普陀, 鼓楼) follow it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from model.ninjs import page_scope
from service import create_app
from tests.test_cli import run
from tests.test_ninjs import ninjs_validator

REPO = Path(__file__).parent.parent
PAGES = REPO / "tests" / "data" / "pages"
SAMPLE = REPO.parent / "shared" / "examples" / "sample_page.txt"
EXAMPLE = REPO / "examples" / "page.txt"

# Where each item of our test pages happened, as an editor reads it: the most likely place's path.
# Items that name no county get the city or province they name.
FIRST_PLACE = {
    "page_no_sections.txt": [
        "浙江省/宁波市/北仑区",  # 宁波市公安局北仑分局
        "浙江省/温州市/乐清市",  # 乐清市公安局交通警察大队
        "浙江省/嘉兴市/平湖市",  # 平湖市应急管理局
        "浙江省/金华市/东阳市",  # 东阳市吴宁派出所
        "浙江省/湖州市/长兴县",  # 长兴县雉城街道
    ],
    "page_other_sections.txt": [
        "浙江省/宁波市/海曙区",
        "浙江省/绍兴市/柯桥区",
        "浙江省/台州市/仙居县",  # 仙居县17岁的小周; the byline 仙检 only backs it
        "浙江省/湖州市/南浔区",
        "浙江省/温州市/瓯海区",  # 温州市公安局瓯海区分局
        "浙江省/台州市/路桥区",  # 台州市公安局交通警察局路桥大队
        "浙江省/丽水市/青田县",
    ],
    "page_reporter_bylines.txt": [
        "浙江省",  # 浙江省人民检察院: a province-wide report
        "浙江省/嘉兴市/海盐县",
        "浙江省/衢州市/江山市",
        "浙江省/金华市/义乌市",
        "浙江省/绍兴市/诸暨市",
        "浙江省/舟山市/岱山县",  # the debtor's money was in 宁波, the story in 岱山县
    ],
    "page_single_item.txt": ["浙江省/湖州市/德清县"],
    "page_windows.txt": [
        "浙江省/丽水市/景宁畲族自治县",
        "浙江省/台州市/温岭市",
        "浙江省/衢州市/开化县",
        "浙江省/杭州市",  # 在杭州开班: only the city is named
    ],
}
SAMPLE_COUNTIES = [
    "浙江省/嘉兴市/南湖区",
    "浙江省/丽水市/莲都区",
    "浙江省/舟山市/定海区",
    "浙江省/金华市/婺城区",
    "浙江省/湖州市/吴兴区",
    "浙江省/衢州市/柯城区",
]
# 普陀区 is a district of 舟山 (Zhejiang) and of 上海: the default province decides.
PUTUO = "普陀区消防救援大队开展渔船消防检查。"
PUTUO_ZHEJIANG, PUTUO_SHANGHAI = "浙江省/舟山市/普陀区", "上海市/普陀区"
FIRE = "近日，嘉兴市秀洲区消防救援大队开展高层建筑灭火救援演练。"


@pytest.fixture(scope="module")
def validator():
    return ninjs_validator()


def first_path(answer: dict) -> str | None:
    return "/".join(answer["places"][0]["path"]) if answer["places"] else None


def post(client, path: str, body: dict):
    return client.post(path, data=json.dumps(body, ensure_ascii=False), content_type="application/json")


def cli_json(args, root, **kwargs):
    result = run(args, root, **kwargs)
    assert result.returncode == 0, result.stderr.decode()
    return result.stdout.decode()


def subject_uris(taxonomy, labels) -> set[str]:
    return {subject.uri for topic in labels for subject in taxonomy.get(topic).iptc}


# -- places in the plain JSON answers -----------------------------------------------------------


def test_every_predict_line_lists_its_places_most_likely_first(model_root, tmp_path):
    lines = tmp_path / "in.jsonl"
    lines.write_text(
        json.dumps({"id": "a1", "text": FIRE}, ensure_ascii=False)
        + "\n"
        + json.dumps({"id": "a2", "text": "近日，该院召开听证会，邀请人民监督员参加。"}, ensure_ascii=False)
        + "\n",
        encoding="utf-8",
    )
    first, second = map(json.loads, cli_json(["predict", lines], model_root).splitlines())
    assert list(first)[-2:] == ["explanation", "places"]
    assert first["places"] == [
        {
            "adcode": "330411",
            "name": "秀洲区",
            "level": "county",
            "path": ["浙江省", "嘉兴市", "秀洲区"],
            "spans": [[6, 9]],
        }
    ]
    assert FIRE[6:9] == "秀洲区"
    assert second["places"] == []


@pytest.mark.parametrize("name", sorted(FIRST_PLACE))
def test_tag_page_gives_each_item_the_place_it_names(model_root, name):
    items = json.loads(cli_json(["tag-page", "--no-explain", PAGES / name], model_root))["items"]
    assert [first_path(item) for item in items] == FIRST_PLACE[name]
    for item in items:
        for place in item["places"]:
            assert all(item["text"][start:end] in place["name"] for start, end in place["spans"]), place
        assert list(item)[-2:] == ["places", "paragraphs"]
        assert all("places" not in paragraph for paragraph in item["paragraphs"])


def test_every_item_of_the_shared_sample_page_names_its_county(model_root):
    items = json.loads(cli_json(["tag-page", SAMPLE], model_root))["items"]
    assert [first_path(item) for item in items] == SAMPLE_COUNTIES
    assert all(item["places"][0]["level"] == "county" for item in items)


def test_the_api_answers_carry_places(client):
    one = post(client, "/v1/classify", {"text": FIRE}).get_json()["results"][0]
    assert first_path(one) == "浙江省/嘉兴市/秀洲区"
    batch = post(client, "/v1/classify", {"items": [{"id": 1, "text": PUTUO}, {"id": "b", "text": "禁毒宣传"}]})
    assert [first_path(r) for r in batch.get_json()["results"]] == [PUTUO_ZHEJIANG, None]
    for name, expected in FIRST_PLACE.items():
        response = post(client, "/v1/tag-page", {"text": (PAGES / name).read_text(encoding="utf-8-sig")})
        assert response.status_code == 200, response.get_json()
        assert [first_path(item) for item in response.get_json()["items"]] == expected, name


def test_the_openapi_document_describes_places(client):
    schemas = client.get("/openapi.json").get_json()["components"]["schemas"]
    place = schemas["Place"]
    assert set(place["required"]) == {"adcode", "name", "level", "path", "spans"}
    assert place["properties"]["level"]["enum"] == ["province", "city", "county"]
    for model in ("Prediction", "PageItem"):
        assert "places" in schemas[model]["required"]
        assert schemas[model]["properties"]["places"]["items"] == {"$ref": "#/components/schemas/Place"}
    assert "places" not in schemas["ParagraphPrediction"]["properties"]


# -- the default province ---------------------------------------------------------------------


def test_province_settles_a_name_two_provinces_share_on_every_command(model_root, tmp_path):
    def predicted(*flags, env=None):
        return first_path(json.loads(cli_json(["predict", *flags], model_root, stdin=PUTUO + "\n", env=env)))

    assert predicted() == PUTUO_ZHEJIANG
    assert predicted("--province", "上海") == PUTUO_SHANGHAI
    assert predicted("--province", "上海市") == PUTUO_SHANGHAI
    assert predicted("--province", "") is None  # no default province: a shared name is left out
    assert predicted(env={"NEWSTAG_DEFAULT_PROVINCE": "上海"}) == PUTUO_SHANGHAI
    assert predicted(env={"NEWSTAG_DEFAULT_PROVINCE": ""}) is None
    assert predicted("--province", "浙江", env={"NEWSTAG_DEFAULT_PROVINCE": "上海"}) == PUTUO_ZHEJIANG

    page = tmp_path / "page.txt"
    page.write_text(f"渔船消防检查\n\n通讯员 王海波\n\n本报讯 近日，{PUTUO}\n", encoding="utf-8")
    [item] = json.loads(cli_json(["tag-page", "--province", "上海", page], model_root))["items"]
    assert first_path(item) == PUTUO_SHANGHAI
    ninjs = json.loads(cli_json(["tag-page", "--format", "ninjs", "--province", "上海", page], model_root))
    assert ninjs[0]["places"] == [{"name": "普陀区", "literal": "310107", "rel": "about"}]


def test_an_unknown_province_is_refused_before_any_work(model_root):
    flag = run(["predict", "--province", "火星"], model_root, stdin=PUTUO + "\n")
    assert flag.returncode == 2 and flag.stdout == b""
    assert "Invalid value for '--province': '火星' is not a province-level division" in flag.stderr.decode()
    env = run(["tag-page", "-"], model_root, stdin=PUTUO, env={"NEWSTAG_DEFAULT_PROVINCE": "杭州市"})
    assert env.returncode == 1 and env.stdout == b""
    assert env.stderr.decode().startswith("newstag: error: NEWSTAG_DEFAULT_PROVINCE='杭州市': ")


def test_the_service_follows_its_default_province_and_refuses_an_unknown_one(model_root):
    from newstag.settings import ConfigError

    client = create_app({"MODEL_ROOT": str(model_root), "DEFAULT_PROVINCE": "上海"}).test_client()
    [result] = post(client, "/v1/classify", {"text": PUTUO}).get_json()["results"]
    assert first_path(result) == PUTUO_SHANGHAI
    with pytest.raises(ConfigError, match="NEWSTAG_DEFAULT_PROVINCE='火星'.*not a province-level division"):
        create_app({"MODEL_ROOT": str(model_root), "DEFAULT_PROVINCE": "火星", "LOAD_MODEL": False})


# -- ninjs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("page", [SAMPLE, EXAMPLE], ids=["shared-sample", "example"])
def test_tag_page_as_ninjs_validates_against_iptcs_schema(model_root, loaded, validator, page):
    text = page.read_text(encoding="utf-8-sig")
    items = json.loads(cli_json(["tag-page", "--format", "ninjs", page], model_root))
    plain = json.loads(cli_json(["tag-page", page], model_root))["items"]

    assert isinstance(items, list) and len(items) == len(plain)
    for item, answer in zip(items, plain, strict=True):
        validator.validate(item)
        assert item["uri"] == f"urn:newstag:item:{page_scope(text)}:{answer['id']}"
        assert item["headlines"][0] == {"role": "main", "value": answer["headline"]}
        assert item["by"] == answer["byline"]
        assert item["bodies"][0]["value"] == "\n".join(p["text"] for p in answer["paragraphs"])
        assert {s["uri"] for s in item["subjects"]} == subject_uris(
            loaded.model.taxonomy, answer["labels"] or [answer["topic"]]
        )
        assert all(s["creator"] == f"newstag model {loaded.version}" for s in item["subjects"])
        assert [p["literal"] for p in item.get("places", [])] == [p["adcode"] for p in answer["places"]]
    assert len({item["uri"] for item in items}) == len(items)


def test_item_uris_differ_between_pages(model_root, tmp_path):
    other = tmp_path / "other.txt"
    other.write_text(SAMPLE.read_text(encoding="utf-8") + "\n补白\n\n本报讯 近日，某派出所开展夜间巡逻。\n", "utf-8")
    first = json.loads(cli_json(["tag-page", "--format", "ninjs", SAMPLE], model_root))
    second = json.loads(cli_json(["tag-page", "--format", "ninjs", other], model_root))
    assert first[0]["uri"].endswith(":item-1") and second[0]["uri"].endswith(":item-1")
    assert not {item["uri"] for item in first} & {item["uri"] for item in second}


def test_predict_as_ninjs_writes_one_valid_item_a_line(model_root, loaded, validator):
    stdin = json.dumps({"id": "2025-06/a1", "text": FIRE}, ensure_ascii=False) + "\n" + PUTUO + "\n"
    first, second = map(json.loads, cli_json(["predict", "--format", "ninjs"], model_root, stdin=stdin).splitlines())
    for item in (first, second):
        validator.validate(item)
    assert first["uri"] == "urn:newstag:item:2025-06%2Fa1"
    assert second["uri"].startswith("urn:newstag:text:sha256:")
    assert [s["uri"] for s in first["subjects"]] == [s.uri for s in loaded.model.taxonomy.get("fire").iptc]
    assert first["places"] == [{"name": "秀洲区", "literal": "330411", "rel": "about"}]
    assert second["bodies"][0]["value"] == PUTUO


def test_the_api_answers_ninjs_that_validates(client, validator):
    for body in ({"text": FIRE}, {"texts": [FIRE, PUTUO]}, {"items": [{"id": 7, "text": FIRE}], "top_k": 1}):
        response = post(client, "/v1/classify", {**body, "format": "ninjs"})
        assert response.status_code == 200, response.get_json()
        answer = response.get_json()
        assert set(answer) == {"model_version", "items"}
        for item in answer["items"]:
            validator.validate(item)
            assert item["places"][0]["literal"] in ("330411", "330903")
    assert answer["items"][0]["uri"] == "urn:newstag:item:7"

    text = SAMPLE.read_text(encoding="utf-8")
    page = post(client, "/v1/tag-page", {"text": text, "format": "ninjs"}).get_json()
    assert len(page["items"]) == len(SAMPLE_COUNTIES)
    for item, county in zip(page["items"], SAMPLE_COUNTIES, strict=True):
        validator.validate(item)
        assert item["uri"].startswith(f"urn:newstag:item:{page_scope(text)}:item-")
        assert item["places"][0]["name"] == county.rsplit("/", 1)[1]


def test_the_api_refuses_an_unknown_format_and_the_document_offers_both(client):
    response = post(client, "/v1/classify", {"text": FIRE, "format": "xml"})
    assert response.status_code == 422
    assert response.get_json()["error"]["code"] == "invalid_format"
    assert post(client, "/v1/tag-page", {"text": FIRE, "format": "NINJS"}).status_code == 422

    document = client.get("/openapi.json").get_json()
    schemas = document["components"]["schemas"]
    for name in ("ClassifyText", "ClassifyTexts", "ClassifyItems", "TagPageRequest"):
        assert schemas[name]["properties"]["format"]["enum"] == ["json", "ninjs"]
        assert schemas[name]["additionalProperties"] is False
    for path, plain in (("/v1/classify", "ClassifyResponse"), ("/v1/tag-page", "TagPageResponse")):
        answer = document["paths"][path]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
        assert answer == {
            "anyOf": [{"$ref": f"#/components/schemas/{plain}"}, {"$ref": "#/components/schemas/NinjsResponse"}]
        }
    assert schemas["NinjsResponse"]["properties"]["items"]["items"] == {"$ref": "#/components/schemas/NinjsItem"}
    assert schemas["NinjsItem"]["required"] == ["uri", "type", "standard", "language", "bodies"]


# -- archive rows -----------------------------------------------------------------------------


@pytest.mark.slow
def test_archive_rows_carry_the_places_predict_gives(model_root, tmp_path):
    records = [{"id": 1, "text": PUTUO}, {"id": 2, "text": FIRE}, {"id": 3, "text": "禁毒宣传进校园。"}]
    archive = tmp_path / "archive.jsonl"
    archive.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    predicted = cli_json(["predict", "--top-k", "3", "--no-explain", "--province", "上海", archive], model_root)
    expected = {answer["id"]: answer["places"] for answer in map(json.loads, predicted.splitlines())}

    out = tmp_path / "tagged"
    command = [sys.executable, "-m", "newstag", "tag-archive", archive, "--out", out, "--workers", "1"]
    env = {**os.environ, "NEWSTAG_MODEL_ROOT": str(model_root), "NEWSTAG_DEFAULT_PROVINCE": "浙江省"}
    done = subprocess.run([*map(str, command), "--province", "上海", "--no-progress"], env=env, capture_output=True)
    assert done.returncode == 0, done.stderr.decode()

    import pyarrow.parquet as pq

    rows = pq.read_table(out / "part-00000.parquet").to_pylist()
    assert {int(row["id"]): row["places"] for row in rows} == expected
    assert first_path(rows[0]) == PUTUO_SHANGHAI
    refused = subprocess.run(list(map(str, command)), env=env, capture_output=True)
    assert refused.returncode == 2 and "--province was 上海, now 浙江省" in refused.stderr.decode()
