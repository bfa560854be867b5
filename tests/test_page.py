"""Splitting pasted pages into items, on pages written for these tests."""

import json
import random

import pytest

from model.page import split_page, tag_page
from tests.conftest import DATA

PAGES = sorted((DATA / "pages").glob("*.txt"))


def _expected(page):
    return json.loads(page.with_suffix(".expected.json").read_text(encoding="utf-8"))["items"]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_page_splits_into_the_expected_items(page):
    items = split_page(page.read_bytes().decode("utf-8"))
    expected = _expected(page)
    assert [(i.section, i.headline, i.byline, len(i.paragraphs)) for i in items] == [
        (e["section"], e["headline"], e["byline"], e["paragraphs"]) for e in expected
    ]
    assert [i.id for i in items] == [f"item-{n}" for n in range(1, len(items) + 1)]


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.stem)
def test_every_item_of_a_page_gets_an_acceptable_topic(topic_model, page):
    tagged = tag_page(topic_model, page.read_bytes().decode("utf-8"))
    expected = _expected(page)
    assert len(tagged) == len(expected)
    wrong = [
        (t["headline"], t["topic"], e["accept"])
        for t, e in zip(tagged, expected, strict=False)
        if t["topic"] not in e["accept"]
    ]
    assert wrong == []


def test_tagged_items_carry_text_paragraphs_and_explanations(topic_model):
    page = "法治快讯\n\n巡逻护平安\n\n通讯员 张明\n\n本报讯 近日，某派出所开展夜间巡逻。\n\n该所共抓获嫌疑人3名。\n"
    [item] = tag_page(topic_model, page)
    assert item["id"] == "item-1" and item["section"] == "法治快讯"
    assert item["text"] == "巡逻护平安\n通讯员 张明\n本报讯 近日，某派出所开展夜间巡逻。\n该所共抓获嫌疑人3名。"
    assert [p["text"] for p in item["paragraphs"]] == [
        "本报讯 近日，某派出所开展夜间巡逻。",
        "该所共抓获嫌疑人3名。",
    ]
    assert item["topic"] == "policing" and item["explanation"]
    for paragraph in item["paragraphs"]:
        assert {"topic", "name", "score", "explanation"} <= set(paragraph)
    plain = tag_page(topic_model, page, explain=False)[0]
    assert "explanation" not in plain and "explanation" not in plain["paragraphs"][0]


def test_items_without_bylines_or_sections():
    page = "夜查酒驾\n本报讯 近日，交警在城区开展夜查。\n消防演练\n本报讯 近日，消防救援站开展演练。\n"
    items = split_page(page)
    assert [(i.section, i.headline, i.byline) for i in items] == [
        (None, "夜查酒驾", None),
        (None, "消防演练", None),
    ]


def test_windows_and_old_mac_line_ends():
    page = "短讯\r\n\r\n夜查酒驾\r\n通讯员 李四\r\n本报讯 近日，交警开展夜查。\r\n"
    assert split_page(page)[0].byline == "通讯员 李四"
    assert split_page(page.replace("\r\n", "\r"))[0].headline == "夜查酒驾"


def test_photo_caption_takes_the_byline_that_follows_it():
    page = "图片新闻\n\n演练筑防线\n\n近日，某消防救援站开展演练。\n\n通讯员 王五\n\n反诈进社区\n\n近日，民警走进社区宣传反诈。\n\n通讯员 赵六\n"
    items = split_page(page)
    assert [(i.headline, i.byline, len(i.paragraphs)) for i in items] == [
        ("演练筑防线", "通讯员 王五", 1),
        ("反诈进社区", "通讯员 赵六", 1),
    ]


def test_subtitle_and_inline_byline():
    page = "守护一方平安\n——某县推进平安建设纪实\n本报讯（记者 王五 通讯员 赵六）近日，某县召开平安建设推进会。\n"
    [item] = split_page(page)
    assert item.headline == "守护一方平安" and item.subtitle == "——某县推进平安建设纪实"
    assert item.byline == "记者 王五 通讯员 赵六"


def test_body_paragraphs_starting_with_a_lead_in_start_new_items_without_headlines():
    page = "本报讯 近日，某派出所开展巡逻。\n本报讯 近日，某法院审结一起案件。\n该院表示将继续努力。\n"
    items = split_page(page)
    assert [len(i.paragraphs) for i in items] == [1, 2]
    assert all(i.headline is None for i in items)


@pytest.mark.parametrize(
    "page",
    [
        "",
        "\n\n \n",
        "".join(
            random.Random(1).choice("的一是在不了有和人这中大为上个国我以要他时来用们生到作地于出就分对成会可主发年动")
            for _ in range(3000)
        ),
        "一段很长的正文。" * 2000,
        "\x00\x01\x02 \ud800 ###",
        "\n".join(f"标题{n}\n通讯员 张三\n本报讯 近日，第{n}条消息。" for n in range(500)),
    ],
    ids=["empty", "blank", "random-characters", "one-giant-paragraph", "control-characters", "500-items"],
)
def test_splitting_never_fails(page):
    items = split_page(page)
    assert all(item.text for item in items) or not items
    if page.startswith("标题0"):
        assert len(items) == 500
