"""Where a story happened: the county-, city- and province-level places a text names.

The table (``model/data/gazetteer.txt``) is derived from a dated, permissively licensed package by
``scripts/build_gazetteer.py``; its header says which. Evidence, strongest first: a place named
right before the organ that acts (德清县检察院, 乐清交警大队), a place in the headline, lead or
dateline, any other mention; short forms (余杭) count a little less than full names (余杭区). A
byline abbreviation (通讯员 桐检) only supports a place the text names. A county implies its city
and province, so only the most specific places named are returned. Names shared by several
divisions are settled by the other places in the text and then by the default province, or left
out.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import asdict, dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import NamedTuple

from model.errors import NewstagError
from model.normalize import AGENCY_SUFFIXES, BYLINE_ROLE

# Settles names several divisions share (普陀, 朝阳) when the text does not; a newsroom sets its own.
DEFAULT_PROVINCE = "浙江省"

__all__ = ["Gazetteer", "Place", "UnknownProvince", "add_places", "check_province", "find_places", "load_gazetteer"]

LEVELS = ("province", "city", "county")
MENTION_WEIGHT, ORGAN_BONUS, LEAD_BONUS = 1.0, 5.0, 2.0  # an organ in the lead: 8; later: 6; lead: 3
SHORT_FACTOR = 0.8  # a short form (余杭) is weaker evidence than the full name (余杭区)
ANCESTOR_SHARE = 0.5  # a city's own evidence lends this share to each of its counties named
BYLINE_SUPPORT = 1.0

# The organ that acts, right after a place: 德清县检察院, 乐清交警大队, 余杭警方, 鄞州区人民法院.
_ORGAN = re.compile(
    r"(?:(?:高级|中级)?人民)?(?:公安|警方|分局|大队|支队|交警|交通警察|交管|刑警|特警|巡警|检察|法院|中院|消防|司法局|"
    r"应急管理|应急局|禁毒|市场监管|市场监督|综合行政执法|行政执法|城管|政府|县委|市委|区委|政法委|纪委|"
    r"监委|综治|看守所|拘留所|戒毒|监狱|公证处|法律援助|反诈|边检|海关|税务|网格)"
)
# Units below a county are named after towns and streets (莘塍派出所, 平桥法庭, 安阳街道): a short
# form before one is a town's name, which only a county of the default province may share.
_SUBUNIT = re.compile(r"(?:人民)?法庭|派出所|司法所|中队|警务[站室]|检察室|街道|社区|镇(?![级村里])|乡(?![级村镇里])")
# A short form followed by these names a river, bay or street, not the place (钱塘江, 永康路).
_NOT_PLACE_AFTER = re.compile(r"[江河湾路巷弄]|大道|街(?!道)")
# A short form, one more character and a company word is a brand (东阳光药业), not the place.
_BRAND = re.compile(r"[^某一两几多本当的各该这市县区籍人](?:集团|药业|药|科技|股份|实业|控股|电器|电子|制药|化工|能源)")
# Full names that run into a generic word: 平安区县 (districts and counties), 西湖区域 (area).
_FULL_NAME_RUNS_ON = {"区": "域县", "县": "区"}
# Common surnames; a short form right after one is read as a given name (张永康, 王德清). Characters
# that are also prepositions or end common words (于 向 和 从 应 方 谢 贺) are left out.
_SURNAMES = set(
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高郑梁宋唐许韩冯邓曹彭曾肖田董潘袁蔡蒋余杜叶程魏苏吕丁任沈"
    "姚卢姜崔钟谭陆汪范金石廖贾夏韦付邹熊白孟秦邱侯江尹薛闫段雷黎史龙陶顾毛郝龚邵万钱严覃武戴莫孔汤施"
    "倪卓庞殷童俞翁柯楼葛鲍胥裘骆屠竺"
)
# Last characters of division names, which chain places (上海市长宁区 is not 市长), and separators.
_CHAIN = set("省市县区州盟旗、，,")
# Characters that sit before a place without making a word with it (在德清, 向东阳, 以东).
_BEFORE_PLACE = set("在从到赴至于自经离距和与及同对向往以由为据回去驻") | _CHAIN
# Characters that follow a place without making a word with it (瑞安全市 is 瑞安 + 全市).
_AFTER_PLACE = set("的一某两人籍市县区全各等和与及境辖当本警公检法交消司地城乡镇街村")
_SENTENCE = re.compile(r"\s*[^。！？!?\n]+[。！？!?\n]?")
_NAME_TOKEN = r"[\u4e00-\u9fff·]{2,4}"
_BYLINE = re.compile(
    rf"(?:(?<=[(（\[【〔])[ \u3000]*{BYLINE_ROLE}[ \u3000]*|(?:^|(?<=[\s讯，,]))[ \u3000]*{BYLINE_ROLE}[ \u3000]+)"
    rf"(?P<names>(?:{_NAME_TOKEN}(?:[ \u3000、]+|(?=[)）\]】〕，,\n])|$))+)",
    re.M,
)


class UnknownProvince(NewstagError, ValueError):
    """A default province that is not a province-level division in the table."""


@dataclass(frozen=True)
class Place:
    """A place the text names: its code, full name, level, path from the province, and spans."""

    adcode: str
    name: str
    level: str
    path: tuple[str, ...]
    spans: tuple[tuple[int, int], ...] = ()

    def to_dict(self) -> dict:
        """The JSON form: adcode, name, level, path and spans as lists."""
        return {**asdict(self), "path": list(self.path), "spans": [list(span) for span in self.spans]}


class _Form(NamedTuple):
    """One division a surface form can stand for."""

    adcode: str
    short: bool
    weak: bool  # counts only after an ancestor place or, in the default province, before an organ


@dataclass
class Gazetteer:
    """The divisions of the table, the surface forms that name them and the word edges of those forms."""

    header: tuple[str, ...]
    names: dict[str, str]
    levels: dict[str, str]
    parents: dict[str, str]
    shorts: dict[str, str]
    weak: dict[str, str]  # adcode -> its forms that need a parent place or an organ word, comma-separated
    codes: dict[str, list[str]]  # surface form -> the adcodes it can name
    left: dict[str, str]  # c -> x such that x+c is an ordinary word (c begins a short form)
    strong: dict[str, str]  # the same for very frequent words (面临, 抵达)
    right: dict[str, str]  # c -> y such that c+y is an ordinary word (c ends a short form)
    lengths: dict[str, tuple[int, ...]] = field(default_factory=dict)
    ancestors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    _forms: dict[str, tuple[_Form, ...]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        by_first: dict[str, set[int]] = defaultdict(set)
        for form in self.codes:
            by_first[form[0]].add(len(form))
        self.lengths = {c: tuple(sorted(n, reverse=True)) for c, n in by_first.items()}
        for code, parent in self.parents.items():  # at most county -> city -> province
            grand = self.parents.get(parent, "")
            self.ancestors[code] = (parent, grand) if grand else (parent,) if parent else ()

    def forms(self, form: str) -> tuple[_Form, ...]:
        """The divisions a surface form can name, and how it names each (worked out on first use)."""
        if form not in self._forms:
            self._forms[form] = tuple(
                _Form(c, form != self.names[c], form in self.weak.get(c, "").split(",")) for c in self.codes[form]
            )
        return self._forms[form]

    def path(self, adcode: str) -> tuple[str, ...]:
        """Names from the province down to this division."""
        return tuple(self.names[c] for c in reversed((adcode, *self.ancestors[adcode])))

    def province(self, adcode: str) -> str:
        """The adcode of the province-level division this one belongs to."""
        return (adcode, *self.ancestors[adcode])[-1]

    def province_code(self, name: str) -> str:
        """The adcode of a province given by full name, short form or adcode."""
        if self.levels.get(name) == "province":
            return name
        for code in self.codes.get(name, ()):
            if self.levels[code] == "province":
                return code
        raise UnknownProvince(f"{name!r} is not a province-level division; use a name such as 浙江省 or 浙江")


def load_gazetteer(path: Path | None = None) -> Gazetteer:
    """Read a gazetteer table; the bundled one (read once) when no path is given."""
    return _parse(Path(path).read_text(encoding="utf-8")) if path else _bundled()


@lru_cache(maxsize=1)
def _bundled() -> Gazetteer:
    return _parse(resources.files("model").joinpath("data/gazetteer.txt").read_text(encoding="utf-8"))


def _parse(text: str) -> Gazetteer:
    head, *blocks = re.split(r"^\[(\w+)\]\n", text, flags=re.M)
    sections = dict(zip(blocks[::2], blocks[1::2], strict=True))
    names, levels, parents, shorts, weak = {}, {}, {}, {}, {}
    codes: dict[str, list[str]] = defaultdict(list)
    for line in sections["divisions"].splitlines():
        if not line.startswith("#"):
            code, level, parent, name, short, weak_forms = line.split("\t")
            names[code], levels[code], parents[code], shorts[code] = name, level, parent, short
            codes[name].append(code)
            if short:
                codes[short].append(code)
            if weak_forms:
                weak[code] = weak_forms
    left, strong, right = (
        dict(line.split("\t") for line in sections[s].splitlines()) for s in ("left", "strong", "right")
    )
    header = tuple(line[1:].strip() for line in head.splitlines() if line.startswith("#"))
    return Gazetteer(header, names, levels, parents, shorts, weak, dict(codes), left, strong, right)


@dataclass
class _Mention:
    start: int
    end: int
    codes: tuple[str, ...]
    short: bool
    organ: bool
    lead: bool


def find_places(text: str, default_province: str = DEFAULT_PROVINCE, limit: int = 5) -> list[Place]:
    """The places a text names, most likely location of the story first."""
    gaz = _bundled()
    home = gaz.province_code(default_province) if default_province else ""
    blocked, abbreviations = _bylines(text)
    mentions = _accept(text, gaz, _select(text, gaz, blocked, home), home, _lead_end(text))
    _resolve(mentions, gaz, home)
    return _rank(gaz, [m for m in mentions if len(m.codes) == 1], abbreviations)[:limit]


def check_province(name: str) -> str:
    """``name`` unchanged if it is empty (no default province) or names a province-level division."""
    if name:
        _bundled().province_code(name)
    return name


def add_places(result: dict, text: str, default_province: str) -> dict:
    """A prediction's JSON with the ``places`` of its ``text`` added (before its paragraphs, if any)."""
    out = {key: value for key, value in result.items() if key != "paragraphs"}
    out["places"] = [place.to_dict() for place in find_places(text, default_province)]
    if "paragraphs" in result:
        out["paragraphs"] = result["paragraphs"]
    return out


def _bylines(text: str) -> tuple[bytearray, list[str]]:
    """Characters inside bylines (never places), and the place prefixes of agency abbreviations."""
    blocked = bytearray(len(text))
    prefixes: list[str] = []
    for match in _BYLINE.finditer(text):
        start, end = match.span("names")
        blocked[start:end] = b"\x01" * (end - start)
        for token in re.split(r"[ \u3000、]+", match.group("names")):
            suffix = next((s for s, _ in AGENCY_SUFFIXES if token.endswith(s) and len(token) > len(s)), "")
            if suffix:
                prefixes.append(token[: -len(suffix)])  # 桐检 -> 桐: 桐乡 or 桐庐, never decided alone
    return blocked, prefixes


def _lead_end(text: str) -> int:
    """Where the lead ends: the first sentence, after the headline when the text starts with one."""
    first = _SENTENCE.match(text)
    if first is None:
        return 0
    headline = first.group().endswith("\n") and len(first.group().strip()) <= 40  # short, no full stop
    return ((headline and _SENTENCE.match(text, first.end())) or first).end()


def _select(text: str, gaz: Gazetteer, blocked: bytearray, home: str) -> list[tuple[int, int]]:
    """Non-overlapping plausible matches: longest first, full names before short forms, then the
    short form inside fewer other words (莅临平湖: 平湖, not 临平), then the earlier one."""
    found = []
    for i, ch in enumerate(text):
        for n in gaz.lengths.get(ch, ()):
            form = text[i : i + n]
            if i + n > len(text) or form not in gaz.codes or any(blocked[i : i + n]):
                continue
            plausible = [f for f in gaz.forms(form) if _plausible(text, gaz, f, i, i + n, home)]
            if plausible:
                only_short = all(f.short for f in plausible)
                conflicts = _edge_conflicts(text, gaz, i, i + n) if only_short else 0
                found.append((-n, only_short, conflicts, i))
    taken = bytearray(len(text))
    chosen = []
    for neg_n, _, _, i in sorted(found):
        if not any(taken[i : i - neg_n]):
            taken[i : i - neg_n] = b"\x01" * -neg_n
            chosen.append((i, i - neg_n))
    return sorted(chosen)


def _plausible(text: str, gaz: Gazetteer, f: _Form, start: int, end: int, home: str) -> bool:
    """Whether a form can name this division here at all, judging only by the characters around it."""
    form, before, after = text[start:end], text[start - 1 : start], text[end : end + 1]
    at_home = gaz.province(f.adcode) == home
    if not f.short:
        if after and after in _FULL_NAME_RUNS_ON.get(form[-1], ""):
            return False
        # 沿海城市 is not 海城市: a name from elsewhere whose first character ends a word before it.
        near = before + form[0] in gaz.codes or before not in _BEFORE_PLACE and before in gaz.left.get(form[0], "")
        straddles = bool(before) and before not in _CHAIN and near
        return at_home or gaz.levels[f.adcode] == "province" or not straddles
    if _ORGAN.match(text, start):
        return False  # 西湖区公安分局: 公安 is the organ here, not 公安县
    if before in _SURNAMES and not _ends_form(text, gaz, start):
        return False  # 张永康, 王德清: a given name, not the place
    if _starts_form(text, gaz, end):
        return True  # 宁波江北, 台州路桥
    if _NOT_PLACE_AFTER.match(text, end) or _BRAND.match(text, end):
        return False
    if _SUBUNIT.match(text, end):
        return at_home and gaz.levels[f.adcode] == "county"  # 临平街道, but not 安阳街道 in 瑞安
    return True


def _ends_form(text: str, gaz: Gazetteer, end: int) -> bool:
    return any(text[max(end - n, 0) : end] in gaz.codes for n in (2, 3, 4))


def _starts_form(text: str, gaz: Gazetteer, start: int) -> bool:
    return any(text[start : start + n] in gaz.codes for n in gaz.lengths.get(text[start : start + 1], ()))


def _edge_conflicts(text: str, gaz: Gazetteer, start: int, end: int) -> int:
    """How many edges of a short form at [start, end) make an ordinary word with the character beside it
    (欢庆元旦: 欢庆 and 元旦 around 庆元); 2 also for one very frequent word before it (面临海量)."""
    before, after = text[start - 1 : start], text[end : end + 1]
    left = 0
    if before and before not in _BEFORE_PLACE:
        left = 2 if before in gaz.strong.get(text[start], "") else int(before in gaz.left.get(text[start], ""))
    right = bool(after) and after not in _AFTER_PLACE and after in gaz.right.get(text[end - 1], "")
    return left + int(right)


def _accept(text: str, gaz: Gazetteer, spans: list[tuple[int, int]], home: str, lead_end: int) -> list[_Mention]:
    """The matches that name a place here, each with the divisions it may stand for."""
    mentions: list[_Mention] = []
    for start, end in spans:
        previous = mentions[-1] if mentions and mentions[-1].end == start else None
        organ = _ORGAN.match(text, end) is not None
        standalone = _starts_form(text, gaz, end) or _edge_conflicts(text, gaz, start, end) < 2
        codes, short = [], True
        for f in gaz.forms(text[start:end]):
            qualified = previous is not None and not set(previous.codes).isdisjoint(gaz.ancestors[f.adcode])
            if qualified or _counts(gaz, f, organ, standalone, home):
                codes.append(f.adcode)
                short = short and f.short
        if codes:
            mentions.append(_Mention(start, end, tuple(codes), short, organ, start < lead_end))
    return mentions


def _counts(gaz: Gazetteer, f: _Form, organ: bool, standalone: bool, home: str) -> bool:
    """Whether a form names this division with no ancestor place right before it (温州瓯海)."""
    if not f.short:
        return organ or not f.weak  # 城区, 老城区, 赵县 are words or names unless an organ follows
    at_home = gaz.province(f.adcode) == home
    if f.weak:
        return organ and at_home  # 江山交警, 天台消防; never 朝阳警方, which could be four places
    if organ:
        return True  # 昆山警方, 晋江公安
    if gaz.levels[f.adcode] == "county" and not at_home:
        return False  # a bare county short form from another province is too easily a word
    return standalone


def _resolve(mentions: list[_Mention], gaz: Gazetteer, home: str) -> None:
    """Narrow ambiguous mentions by the other places named, then the default province."""
    for _ in range(3):
        context: set[str] = set()
        for m in mentions:
            if len(m.codes) == 1:
                context.update((m.codes[0], *gaz.ancestors[m.codes[0]]))
        changed = False
        for m in mentions:
            if len(m.codes) > 1:
                narrowed = _narrow(m.codes, gaz, context, home)
                changed |= narrowed != m.codes
                m.codes = narrowed
        if not changed:
            return


def _narrow(codes: tuple[str, ...], gaz: Gazetteer, context: set[str], home: str) -> tuple[str, ...]:
    """The candidates closest to the context; a province over its namesakes; the outermost; the home ones."""

    def closeness(code: str) -> int:
        chain = (code, *gaz.ancestors[code])
        if any(c in context and gaz.levels[c] != "province" for c in chain):
            return 2
        return 1 if any(c in context for c in chain) else 0

    best = max(closeness(c) for c in codes)
    if best:
        codes = tuple(c for c in codes if closeness(c) == best)
    provinces = tuple(c for c in codes if gaz.levels[c] == "province")
    if provinces and len(codes) > 1 and not best:
        codes = provinces  # 河南, 吉林: a province's short form means the province
    if len(codes) > 1:
        codes = _outermost(codes, gaz)
    if len(codes) > 1 and home:
        at_home = tuple(c for c in codes if gaz.province(c) == home)
        codes = _outermost(at_home, gaz) if at_home else codes
    return codes


def _outermost(codes: tuple[str, ...], gaz: Gazetteer) -> tuple[str, ...]:
    """The one code that contains all the others (通化 -> 通化市 over 通化县), else all of them."""
    for c in codes:
        if all(o == c or c in gaz.ancestors[o] for o in codes):
            return (c,)
    return codes


def _rank(gaz: Gazetteer, mentions: list[_Mention], abbreviations: list[str]) -> list[Place]:
    """Score each place by its evidence and return the most specific ones, best first."""
    score: dict[str, float] = defaultdict(float)
    spans: dict[str, list[tuple[int, int]]] = defaultdict(list)
    for m, after in zip(mentions, [*mentions[1:], None], strict=False):
        code = m.codes[0]
        weight = MENTION_WEIGHT + ORGAN_BONUS * m.organ + LEAD_BONUS * m.lead
        if after and after.start == m.end and code in gaz.ancestors[after.codes[0]]:
            weight = 0.0  # 江苏省苏州市吴江区 is one mention of 吴江区, not three places
        score[code] += weight * (SHORT_FACTOR if m.short else 1.0)
        spans[code].append((m.start, m.end))
    for prefix in abbreviations:
        for code in list(score):
            if gaz.names[code].startswith(prefix) or gaz.shorts[code].startswith(prefix):
                score[code] += BYLINE_SUPPORT  # 桐检 backs 桐乡 only when the text names 桐乡
    inner = {a for code in score for a in gaz.ancestors[code]}

    def total(code: str) -> float:
        return score[code] + ANCESTOR_SHARE * sum(score.get(a, 0.0) for a in gaz.ancestors[code])

    # Ties go to the more specific place (a county over a dateline's city), then the first named.
    leaves = sorted(
        (code for code in score if code not in inner),
        key=lambda code: (-total(code), -LEVELS.index(gaz.levels[code]), spans[code][0][0]),
    )
    return [Place(code, gaz.names[code], gaz.levels[code], gaz.path(code), tuple(spans[code])) for code in leaves]
