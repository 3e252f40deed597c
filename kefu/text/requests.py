"""Buyer requests in 买家留言 and chat text: couriers wanted or refused, ship and delivery times, invoices, gifts.

Pure: `find_requirements(text, ordered_on=...)` returns what the buyer asked for, in the order they asked it. Courier
values are kefu's carrier codes (`kefu.domain.carriers`); dates ("周六前要到", "3号前到", "今天发") are ISO dates
counted from the day the order was placed, None when that day is not known.
"""

from __future__ import annotations

import calendar
import re
import unicodedata
from dataclasses import dataclass
from datetime import date, timedelta

from kefu.domain.carriers import CARRIERS
from kefu.domain.privacy import redact_phones

COURIER_WANTED = "courier_wanted"
COURIER_EXCLUDED = "courier_excluded"
EXTRA_FREIGHT = "extra_freight"
SHIP_TIME = "ship_time"
DELIVER_BY = "deliver_by"
OTHER = "other"
KINDS = (COURIER_WANTED, COURIER_EXCLUDED, EXTRA_FREIGHT, SHIP_TIME, DELIVER_BY, OTHER)

# ship_time values besides an ISO date (ship on or before that day)
MORNING, AFTERNOON, ASAP = "morning", "afternoon", "asap"
# other values
NO_INVOICE, INVOICE, NO_PRICE_SLIP, GIFT, CAREFUL_PACKING, CALL_BEFORE = (
    "no_invoice", "invoice", "no_price_slip", "gift", "careful_packing", "call_before")


@dataclass(frozen=True)
class Requirement:
    """One thing the buyer asked for: its kind, a value (carrier code, ISO date, word) and the words that asked."""

    kind: str
    value: str | None
    text: str


# ---------------------------------------------------------------- couriers

# What buyers call couriers beyond the carrier table's own names.
_EXTRA_ALIASES = {"邮局": "youzhengguonei", "平邮": "youzhengguonei", "邮政小包": "youzhengguonei",
                  "汇通": "huitongkuaidi", "顺风": "shunfeng"}
# Latin codes buyers type; matched only as whole words.
_LATIN_ALIASES = {"sf": "shunfeng", "ems": "ems", "zto": "zhongtong", "yto": "yuantong", "sto": "shentong", "j&t": "jtexpress"}
# Names that are ordinary words too: they count as a courier only after a verb like 发/走/用 or before 快递/物流.
_AMBIGUOUS = {"京东", "跨越", "安能", "百世", "优速"}
_NOT_A_COURIER_AFTER = re.compile(r"编码|编号")  # 邮政编码 is a postcode


def _alias_table() -> dict[str, str]:
    table: dict[str, str] = {}
    for carrier in CARRIERS:
        for alias in (carrier.name, *carrier.aliases):
            if re.fullmatch(r"[\u4e00-\u9fff]+(?:EMS)?", alias):
                table[alias.lower()] = carrier.code
    table.update(_EXTRA_ALIASES)
    return table


_ALIASES = _alias_table()
_COURIER = re.compile(
    "|".join(
        [re.escape(a) for a in sorted(_ALIASES, key=len, reverse=True)]
        + [rf"(?<![a-z]){re.escape(a)}(?![a-z])" for a in sorted(_LATIN_ALIASES, key=len, reverse=True)]
    )
)

_CLAUSE_SPLIT = re.compile(r"[，,。.!！?？;；\n\r\t~～…]+")
_CONNECTORS = re.compile(r"^(?:和|跟|与|及|或者|或|还有|、|/|\+|的|\s)*$")
_QUESTION_FORMS = re.compile(r"能不能|可不可以|可以不可以|是不是|要不要|行不行|不行吗|不可以吗|好不好")
_NEGATION_BEFORE = re.compile(r"不要|不想|不用|不能|不可以|不发|不走|不收|不接受|不喜欢|不选|别|勿|拒收|除了|除|讨厌|千万别")
_POSITIVE_BEFORE = re.compile(r"发|要|用|走|选|寄|只|换|改|请|麻烦|指定|必须|一定|务必|给我")
# After a courier: a complaint or refusal that holds whatever came before it ("发申通太慢").
_STRONG_AFTER = re.compile(r"太慢|很慢|慢死|不行|算了|免了|不好|到不了|不到|不送|丢件|丢过|丢了|不给力|没有网点|没网点|不方便|拒收")
# After a courier: a plain refusal, when nothing before it asked for the courier ("申通不要").
_WEAK_AFTER = re.compile(r"不要|别|不用|不发|勿|不需要|不接受")


def _courier_groups(clause: str) -> list[tuple[int, int, list[str]]]:
    """Courier mentions as groups joined by 和/、/或 (start, end, codes), ambiguous names kept only in context."""
    mentions: list[tuple[int, int, str]] = []
    for match in _COURIER.finditer(clause):
        word = match.group(0)
        if word in _AMBIGUOUS:
            before, after = clause[max(0, match.start() - 2) : match.start()], clause[match.end() : match.end() + 2]
            if not re.search(r"[发走用寄要]", before) and not re.match(r"快递|物流|速运|快运", after):
                continue
        if _NOT_A_COURIER_AFTER.match(clause, match.end()):
            continue
        code = _ALIASES.get(word) or _LATIN_ALIASES[word]
        mentions.append((match.start(), match.end(), code))
    groups: list[tuple[int, int, list[str]]] = []
    for start, end, code in mentions:
        if groups and _CONNECTORS.match(clause[groups[-1][1] : start]):
            first, _, codes = groups[-1]
            groups[-1] = (first, end, codes + [code])
        else:
            groups.append((start, end, [code]))
    return groups


def _courier_asks(clause: str) -> list[Requirement]:
    groups = _courier_groups(clause)
    asks: list[Requirement] = []
    for index, (start, end, codes) in enumerate(groups):
        before_from = groups[index - 1][1] if index else 0
        after_to = groups[index + 1][0] if index + 1 < len(groups) else len(clause)
        before = _QUESTION_FORMS.sub("", clause[before_from:start])
        after = _QUESTION_FORMS.sub("", clause[end:after_to])
        if _NEGATION_BEFORE.search(before) or _STRONG_AFTER.search(after):
            kind = COURIER_EXCLUDED
        elif _POSITIVE_BEFORE.search(before):
            kind = COURIER_WANTED
        elif _WEAK_AFTER.search(after):
            kind = COURIER_EXCLUDED
        else:
            kind = COURIER_WANTED
        asks.extend(Requirement(kind, code, clause) for code in dict.fromkeys(codes))
    return asks


_EXTRA_FREIGHT = re.compile(
    r"(?<!不)(?<!不想)(?:补运费|补邮费|补差价|补运差|补差|加运费|加邮费|加钱|我出运费|运费我出|邮费我出|运费我来出|"
    r"我来出运费|我付运费|运费我付|到付|补\s*\d+\s*(?:元|块))"
)

# ---------------------------------------------------------------- times

_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6, "七": 6}
_NUMBER = r"\d{1,2}|[一二三四五六七八九十两]{1,3}"
_NOT = r"(?<!不)(?<!不要)(?<!别)(?<!不用)"
_ARRIVE = r"(?:要|能|得|一定|必须|务必|可以|需要|就)?(?:收到|送到|到货|到手|到|用)"
_SHIP = r"(?:要|能|得|一定|必须|务必|可以|就|再)?(?:发货|发出|寄出|发)"

_WEEKDAY_BY = re.compile(rf"(这|本|下)?(?:周|星期|礼拜)([一二三四五六日天七])(?:之前|以前|前)?({_ARRIVE}|{_SHIP})")
_DATE_BY = re.compile(rf"(?:({_NUMBER})月)?({_NUMBER})(?:号|日)(?:之前|以前|前)?({_ARRIVE}|{_SHIP})")
_RELATIVE_DAY = re.compile(rf"{_NOT}(今天|今日|当天|明天|后天)(?:之内|内|就)?({_ARRIVE}|{_SHIP})")
_MORNING = re.compile(rf"{_NOT}(?:上午|早上|中午前|中午之前|12点前|十二点前)(?:就|能|要)?(?:发货|发出|发)")
_AFTERNOON = re.compile(rf"{_NOT}(?:下午|晚上|傍晚)(?:再|才)?(?:发货|发出|发)")
_ASAP = re.compile(r"(?<!不)(?<!不是)(?:尽快发|尽早发|快点发|早点发|赶紧发|马上发|立刻发|速发|急用|急需|着急用|加急|很急|急着用|赶时间)")
_RELATIVE_DAYS = {"今天": 0, "今日": 0, "当天": 0, "明天": 1, "后天": 2}


def _number(text: str) -> int | None:
    """A day or month number written 3, 03, 三, 十五 or 二十一."""
    if text.isdigit():
        return int(text)
    if "十" in text:
        tens, _, ones = text.partition("十")
        return (_DIGITS.get(tens, 0) if tens else 1) * 10 + (_DIGITS.get(ones, 0) if ones else 0)
    return _DIGITS.get(text) if len(text) == 1 else None


def _is_ship(word: str) -> bool:
    return any(w in word for w in ("发", "寄"))


def _weekday_date(ordered_on: date, weekday: int, which: str | None) -> date:
    """这周六 is in the order's week, 下周六 a week later, plain 周六 the next Saturday after the order day."""
    monday = ordered_on - timedelta(days=ordered_on.weekday())
    if which in ("这", "本"):
        day = monday + timedelta(days=weekday)
        return day if day >= ordered_on else day + timedelta(days=7)
    if which == "下":
        return monday + timedelta(days=7 + weekday)
    ahead = (weekday - ordered_on.weekday()) % 7
    return ordered_on + timedelta(days=ahead or 7)


def _clamped(year: int, month: int, day: int) -> date:
    return date(year, month, min(day, calendar.monthrange(year, month)[1]))


def _month_day_date(ordered_on: date, month: int | None, day: int) -> date | None:
    """3号 is the next 3rd after the order day; 3月5号 that day this year, else next year."""
    if not 1 <= day <= 31 or (month is not None and not 1 <= month <= 12):
        return None
    if month is not None:
        found = _clamped(ordered_on.year, month, day)
        return found if found >= ordered_on else _clamped(ordered_on.year + 1, month, day)
    found = _clamped(ordered_on.year, ordered_on.month, day)
    if found > ordered_on:
        return found
    year, month = (ordered_on.year + 1, 1) if ordered_on.month == 12 else (ordered_on.year, ordered_on.month + 1)
    return _clamped(year, month, day)


def _time_asks(text: str, ordered_on: date | None) -> list[tuple[int, Requirement]]:
    asks: list[tuple[int, Requirement]] = []

    def add(position: int, kind: str, value: str | None, words: str) -> None:
        asks.append((position, Requirement(kind, value, words)))

    def iso(day: date | None) -> str | None:
        return day.isoformat() if day else None

    for m in _WEEKDAY_BY.finditer(text):
        day = _weekday_date(ordered_on, _WEEKDAYS[m.group(2)], m.group(1)) if ordered_on else None
        add(m.start(), SHIP_TIME if _is_ship(m.group(3)) else DELIVER_BY, iso(day), m.group(0))
    for m in _DATE_BY.finditer(text):
        if text[max(0, m.start() - 1) : m.start()].isdigit():
            continue
        month = _number(m.group(1)) if m.group(1) else None
        number = _number(m.group(2))
        if number is None or (m.group(1) and month is None):
            continue
        day = _month_day_date(ordered_on, month, number) if ordered_on else None
        if ordered_on and day is None:
            continue
        add(m.start(), SHIP_TIME if _is_ship(m.group(3)) else DELIVER_BY, iso(day), m.group(0))
    for m in _RELATIVE_DAY.finditer(text):
        day = ordered_on + timedelta(days=_RELATIVE_DAYS[m.group(1)]) if ordered_on else None
        add(m.start(), SHIP_TIME if _is_ship(m.group(2)) else DELIVER_BY, iso(day), m.group(0))
    for pattern, value in ((_MORNING, MORNING), (_AFTERNOON, AFTERNOON), (_ASAP, ASAP)):
        for m in pattern.finditer(text):
            add(m.start(), SHIP_TIME, value, m.group(0))
    return asks


# ---------------------------------------------------------------- other asks

_NO_INVOICE = re.compile(r"(?:不要|不用|不需要|别|勿|无需)(?:放|开|寄|给)?(?:纸质)?发票|发票(?:不要|不用|别|勿)(?:放|开|寄)?")
_INVOICE = re.compile(r"(?:要|需要|开|请开|麻烦开|帮忙开)(?:张|个|一张)?(?:电子|纸质|增值税|专用|普通)?发票|发票(?:要|需要)")
_NO_PRICE_SLIP = re.compile(
    r"(?:不要|不用|不需要|别|勿|无需)(?:放|带|夹)?(?:小票|收据|价格单|价格|价签|清单|单据|送货单|发货单|购物单)|"
    r"(?:小票|收据|价格单|清单|单据|送货单|发货单)(?:不要|别|勿)(?:放)?"
)
_GIFT = re.compile(r"(?<!不是)(?:送人|送礼|礼物|礼品|送朋友|送女朋友|送男朋友|送老婆|送老公|送妈妈|送爸爸)")
_CAREFUL = re.compile(r"包装(?:好|结实|仔细|严实)|多包几层|包严实|包好一点|包好点|易碎|别压|不要压|轻拿轻放|小心轻放")
_CALL = re.compile(r"(?:送货前|送之前|派送前|送前|到了|到之前)(?:请|先|要)?(?:打|来|给我打)?(?:个)?电话|电话联系")


def _other_asks(text: str) -> list[tuple[int, Requirement]]:
    asks: list[tuple[int, Requirement]] = []
    refused_invoice = [m for m in _NO_INVOICE.finditer(text)]
    for m in refused_invoice:
        asks.append((m.start(), Requirement(OTHER, NO_INVOICE, m.group(0))))
    if not refused_invoice:
        for m in _INVOICE.finditer(text):
            asks.append((m.start(), Requirement(OTHER, INVOICE, m.group(0))))
    for pattern, value in ((_NO_PRICE_SLIP, NO_PRICE_SLIP), (_GIFT, GIFT), (_CAREFUL, CAREFUL_PACKING), (_CALL, CALL_BEFORE)):
        for m in pattern.finditer(text):
            asks.append((m.start(), Requirement(OTHER, value, m.group(0))))
    return asks


# ---------------------------------------------------------------- all together


def normalised(text: str) -> str:
    """Full-width forms folded (NFKC), Latin lower-cased, phone numbers redacted."""
    return (redact_phones(unicodedata.normalize("NFKC", text)) or "").lower()


def find_requirements(text: str | None, *, ordered_on: date | None = None) -> list[Requirement]:
    """What the buyer asked for in a message, in the order asked; each (kind, value) once."""
    if not text or not text.strip():
        return []
    text = normalised(text)
    found: list[tuple[int, Requirement]] = []
    offset = 0
    wanted: list[str] = []
    for clause in _CLAUSE_SPLIT.split(text):
        position = text.find(clause, offset) if clause else offset
        offset = position + len(clause)
        if not clause:
            continue
        for ask in _courier_asks(clause):
            found.append((position, ask))
            if ask.kind == COURIER_WANTED:
                wanted.append(ask.value or "")
        for m in _EXTRA_FREIGHT.finditer(clause):
            found.append((position + m.start(), Requirement(EXTRA_FREIGHT, None, clause)))
    found.extend(_time_asks(text, ordered_on))
    found.extend(_other_asks(text))
    found.sort(key=lambda item: item[0])
    seen: set[tuple[str, str | None]] = set()
    result: list[Requirement] = []
    for _, ask in found:
        if ask.kind == EXTRA_FREIGHT:
            ask = Requirement(EXTRA_FREIGHT, wanted[0] if wanted else None, ask.text)
        if (ask.kind, ask.value) not in seen:
            seen.add((ask.kind, ask.value))
            result.append(ask)
    return result
