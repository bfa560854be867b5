"""A newsroom's CMS reads newstag's answers as IPTC ninjs 3.1 items.

Every item made here is validated against IPTC's published schema
(``../shared/schemas/ninjs-schema_3.1.json``) with format checking on, offline: the schema's
one external reference (GeoJSON) is served by a local stand-in and nothing is fetched.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError
from referencing import Registry, Resource
from referencing.exceptions import NoSuchResource
from referencing.jsonschema import DRAFT202012

from model.ninjs import NinjsError, item_uri, page_scope, page_to_ninjs, text_uri, to_ninjs
from model.pipeline import decide
from model.prediction import ReviewRule
from model.taxonomy import MEDIATOPIC, Taxonomy, Topic, load_taxonomy

SCHEMA = Path(__file__).resolve().parents[2] / "shared" / "schemas" / "ninjs-schema_3.1.json"
GEOJSON = "https://geojson.org/schema/GeoJSON.json"
# Enough of GeoJSON to tell a stand-in from no schema at all: an object with a known type.
GEOJSON_STAND_IN = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": GEOJSON,
    "type": "object",
    "required": ["type"],
    "properties": {
        "type": {
            "enum": [
                "Point",
                "MultiPoint",
                "LineString",
                "MultiLineString",
                "Polygon",
                "MultiPolygon",
                "GeometryCollection",
                "Feature",
                "FeatureCollection",
            ]
        }
    },
}
MODEL = "20250601-test"
TEXT = "瑞安市公安局莘塍派出所近日破获一起冒充客服电信网络诈骗案，为群众止付挽损12万元。"


def _refuse(uri: str) -> Resource:
    """Registry retrieval: never go to the network."""
    raise NoSuchResource(ref=uri)


def ninjs_validator() -> Draft202012Validator:
    """IPTC's ninjs 3.1 schema with format checking on, GeoJSON local; a missing schema fails the test."""
    if not SCHEMA.is_file():
        pytest.fail(f"the ninjs schema is missing: expected {SCHEMA} (shared/ beside the repository)")
    schema = json.loads(SCHEMA.read_text(encoding="utf-8"))
    Draft202012Validator.check_schema(schema)
    registry = Registry(retrieve=_refuse).with_resource(GEOJSON, DRAFT202012.create_resource(GEOJSON_STAND_IN))
    return Draft202012Validator(schema, registry=registry, format_checker=Draft202012Validator.FORMAT_CHECKER)


@pytest.fixture(scope="module")
def validator() -> Draft202012Validator:
    return ninjs_validator()


@pytest.fixture
def ninjs(validator, taxonomy):
    """to_ninjs with the bundled taxonomy, checking every item it makes against the schema."""

    def make(result: dict, **kwargs) -> dict:
        kwargs.setdefault("text", TEXT)
        item = to_ninjs(result, kwargs.pop("taxonomy", taxonomy), MODEL, **kwargs)
        validator.validate(item)
        return item

    return make


def predicted(taxonomy: Taxonomy, scores: dict[str, float], threshold: float = 0.5, **extra) -> dict:
    """The JSON the model gives for a text with these topic probabilities (others get 0.01)."""
    row = np.array([scores.get(t, 0.01) for t in taxonomy.ids])
    prediction = decide(row, taxonomy, {t: threshold for t in taxonomy.ids}, ReviewRule())
    return {**prediction.to_dict(explain=False), **extra}


def codes(item: dict) -> list[str]:
    return [s["uri"].removeprefix(MEDIATOPIC) for s in item.get("subjects", [])]


# -- the validator itself: formats are checked, GeoJSON is local ------------------------------


def test_the_validator_checks_uri_and_date_time_formats(validator):
    assert {"uri", "date-time"} <= set(Draft202012Validator.FORMAT_CHECKER.checkers)
    validator.validate({"uri": "urn:newstag:item:a1", "versionCreated": "2025-06-01T08:00:00+08:00"})
    with pytest.raises(ValidationError, match="is not a 'uri'"):
        validator.validate({"uri": "item a1"})
    with pytest.raises(ValidationError, match="is not a 'date-time'"):
        validator.validate({"uri": "urn:newstag:item:a1", "versionCreated": "yesterday"})


def test_geojson_is_checked_against_the_local_stand_in_and_never_fetched(validator):
    point = {"uri": "urn:newstag:item:a1", "places": [{"name": "瑞安市", "geoJSON": {"type": "Point"}}]}
    validator.validate(point)
    point["places"][0]["geoJSON"] = {"coordinates": [120.6, 27.8]}
    with pytest.raises(ValidationError, match="'type' is a required property"):
        validator.validate(point)


# -- what the newsroom sees ------------------------------------------------------------------


def test_a_police_story_is_filed_under_iptc_police_with_the_models_confidence(ninjs, taxonomy):
    result = predicted(taxonomy, {"policing": 0.874}, id="a1")

    item = ninjs(result, headline="瑞安警方夜巡护平安", byline="通讯员 瑞公宣")

    assert item["uri"] == "urn:newstag:item:a1"
    assert item["type"] == "text"
    assert item["headlines"] == [{"role": "main", "value": "瑞安警方夜巡护平安"}]
    assert item["by"] == "通讯员 瑞公宣"
    assert item["bodies"] == [{"role": "main", "contentType": "text/plain", "charCount": len(TEXT), "value": TEXT}]
    assert item["subjects"] == [
        {
            "uri": "http://cv.iptc.org/newscodes/mediatopic/20000133",
            "name": "警察",
            "literal": "medtop:20000133",
            "rel": "classifies",
            "creator": f"newstag model {MODEL}",
            "confidence": 87,
        }
    ]
    assert "edNote" not in item and "places" not in item


def test_confidence_is_the_integer_percentage_of_the_score(ninjs, taxonomy):
    item = ninjs(predicted(taxonomy, {"court": 0.9951}))
    (subject,) = item["subjects"]
    assert subject["confidence"] == 100 and type(subject["confidence"]) is int
    item = ninjs(predicted(taxonomy, {"court": 0.0149}, threshold=0.014))
    assert [s["confidence"] for s in item["subjects"]] == [1]


def test_a_telecom_fraud_case_solved_by_the_police_carries_the_subjects_of_both_labels(ninjs, taxonomy):
    result = predicted(taxonomy, {"anti_fraud": 0.81, "policing": 0.58})

    item = ninjs(result)

    assert result["labels"] == ["anti_fraud", "policing"]
    assert codes(item) == ["20000097", "20000086", "20000133"]
    assert [s["name"] for s in item["subjects"]] == ["欺诈", "网络犯罪", "警察"]
    assert [s["confidence"] for s in item["subjects"]] == [81, 81, 58]


def test_an_item_no_topic_claims_gets_its_best_topic_and_a_note_for_the_editor(ninjs, taxonomy):
    result = predicted(taxonomy, {"emergency": 0.31, "fire": 0.12})
    assert result["labels"] == [] and result["needs_review"]

    item = ninjs(result)

    assert codes(item) == ["03000000", "20000168"]
    assert {s["confidence"] for s in item["subjects"]} == {31}
    assert item["edNote"] == "newstag: needs review (no topic cleared its threshold)"


def test_two_close_labels_are_both_kept_and_flagged(ninjs, taxonomy):
    item = ninjs(predicted(taxonomy, {"procuratorate": 0.71, "court": 0.66}))
    assert codes(item) == ["20000118", "20000107"]
    assert item["edNote"] == "newstag: needs review (the two best topics are close)"


def test_topics_iptc_lacks_are_given_newstags_own_concept(ninjs, taxonomy):
    item = ninjs(predicted(taxonomy, {"party": 0.93}))
    assert item["subjects"] == [
        {
            "uri": "urn:newstag:topic:party",
            "name": "党建队伍",
            "rel": "classifies",
            "creator": f"newstag model {MODEL}",
            "confidence": 93,
        }
    ]


@pytest.mark.parametrize("topic_id", load_taxonomy().ids)
def test_every_topic_makes_a_valid_item_with_its_mapped_subjects(ninjs, taxonomy, topic_id):
    item = ninjs(predicted(taxonomy, {topic_id: 0.8}))
    assert [s["uri"] for s in item["subjects"]] == [s.uri for s in taxonomy.get(topic_id).iptc]


def test_places_give_name_and_division_code_the_first_being_where_the_story_is(ninjs, taxonomy):
    places = [
        {
            "adcode": "330381",
            "name": "瑞安市",
            "level": "county",
            "path": ["浙江省", "温州市", "瑞安市"],
            "spans": [[0, 3]],
        },
        {"adcode": "330300", "name": "温州市", "level": "city", "path": ["浙江省", "温州市"], "spans": []},
    ]

    item = ninjs(predicted(taxonomy, {"anti_fraud": 0.8}, places=places))

    assert item["places"] == [
        {"name": "瑞安市", "literal": "330381", "rel": "about"},
        {"name": "温州市", "literal": "330300", "rel": "mentions"},
    ]
    assert all("geoJSON" not in place for place in item["places"])


def test_an_empty_places_list_leaves_places_out(ninjs, taxonomy):
    assert "places" not in ninjs(predicted(taxonomy, {"fire": 0.8}, places=[]))


# -- the item's URI --------------------------------------------------------------------------


def test_ids_become_valid_urns_with_unsafe_characters_percent_encoded(ninjs, taxonomy):
    item = ninjs(predicted(taxonomy, {"fire": 0.8}, id="瑞安 第3版/头条?#1"))
    assert item["uri"] == "urn:newstag:item:%E7%91%9E%E5%AE%89%20%E7%AC%AC3%E7%89%88%2F%E5%A4%B4%E6%9D%A1%3F%231"
    assert ninjs(predicted(taxonomy, {"fire": 0.8}, id=42))["uri"] == "urn:newstag:item:42"


def test_a_uri_given_by_the_caller_wins_over_the_id(ninjs, taxonomy):
    item = ninjs(predicted(taxonomy, {"fire": 0.8}, id="a1"), uri="https://news.example.cn/2025/06/01/a1")
    assert item["uri"] == "https://news.example.cn/2025/06/01/a1"


def test_an_item_without_id_is_named_by_its_text(ninjs, taxonomy):
    item = ninjs(predicted(taxonomy, {"fire": 0.8}))
    assert item["uri"] == text_uri(TEXT)
    assert (
        item["uri"].startswith("urn:newstag:text:sha256:") and len(item["uri"]) == len("urn:newstag:text:sha256:") + 64
    )


def test_items_of_different_pages_can_be_told_apart_by_a_scope():
    assert item_uri("item-1", scope="page-20250601") == "urn:newstag:item:page-20250601:item-1"


def test_a_pages_items_are_scoped_by_the_page_and_keep_headline_subtitle_and_byline_apart(validator, taxonomy):
    page = "物业纠纷化解在小区\n——柯桥法院把“共享法庭”设进物业服务中心\n通讯员 钱蕾\n本报讯 第一段。\n第二段。"
    item = {
        **predicted(taxonomy, {"court": 0.9}),
        "id": "item-1",
        "headline": "物业纠纷化解在小区",
        "subtitle": "——柯桥法院把“共享法庭”设进物业服务中心",
        "byline": "通讯员 钱蕾",
        "text": page,
        "places": [],
        "paragraphs": [{"text": "本报讯 第一段。"}, {"text": "第二段。"}],
    }

    [ninjs] = page_to_ninjs([item], page, taxonomy, MODEL)

    validator.validate(ninjs)
    assert page_scope(page).startswith("page-") and len(page_scope(page)) == len("page-") + 16
    assert ninjs["uri"] == f"urn:newstag:item:{page_scope(page)}:item-1"
    assert ninjs["headlines"] == [
        {"role": "main", "value": "物业纠纷化解在小区"},
        {"role": "sub", "value": "——柯桥法院把“共享法庭”设进物业服务中心"},
    ]
    assert ninjs["by"] == "通讯员 钱蕾"
    assert ninjs["bodies"][0]["value"] == "本报讯 第一段。\n第二段。"
    assert page_scope(page + "\n") != page_scope(page)


def test_a_uri_that_is_not_a_uri_is_refused(taxonomy):
    with pytest.raises(NinjsError, match="not an absolute URI"):
        to_ninjs(predicted(taxonomy, {"fire": 0.8}), taxonomy, MODEL, uri="item 1", text=TEXT)


# -- results from other shapes and taxonomies ------------------------------------------------


def test_a_label_cut_by_top_k_keeps_its_subjects_without_a_made_up_confidence(ninjs, taxonomy):
    result = predicted(taxonomy, {"anti_drug": 0.9, "policing": 0.7})
    result["topics"] = result["topics"][:1]

    item = ninjs(result)

    assert [(s["uri"].removeprefix(MEDIATOPIC), s.get("confidence")) for s in item["subjects"]] == [
        ("20000095", 90),
        ("20000133", None),
    ]


def test_a_subject_shared_by_two_labels_appears_once_at_its_best_confidence(ninjs):
    shared = {"code": "20000129", "name": {"en": "law enforcement", "zh-Hans": "执法机构"}}
    taxonomy = Taxonomy.from_dict(
        {
            "version": "t",
            "topics": [
                {"id": "a", "name": "甲", "description": "甲", "iptc": [shared]},
                {"id": "b", "name": "乙", "description": "乙", "iptc": [shared, {"code": "20000107"}]},
            ],
        }
    )

    item = ninjs(predicted(taxonomy, {"a": 0.6, "b": 0.9}), taxonomy=taxonomy)

    assert [(s["uri"].removeprefix(MEDIATOPIC), s["confidence"]) for s in item["subjects"]] == [
        ("20000129", 90),
        ("20000107", 90),
    ]
    assert "name" not in item["subjects"][1]


def test_a_topic_without_mapped_subjects_adds_none(ninjs):
    taxonomy = Taxonomy("t", (Topic("a", "甲", "甲"), Topic("b", "乙", "乙")))
    assert "subjects" not in ninjs(predicted(taxonomy, {"a": 0.9}), taxonomy=taxonomy)


def test_a_topic_unknown_to_the_taxonomy_is_refused(taxonomy):
    result = predicted(taxonomy, {"fire": 0.8})
    result["labels"] = ["environment"]
    with pytest.raises(NinjsError, match="'environment' is not in the taxonomy"):
        to_ninjs(result, taxonomy, MODEL, text=TEXT)
