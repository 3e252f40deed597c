"""Reading a buyer's answer to the stockout options: "先发有货的", "换白色", "可以等到下周", "取消吧", "2" …

Options are numbered as the message numbers them: 1 ship what is in stock now and refund the rest, 2 take a substitute
SKU, 3 wait for the restock, 4 cancel the order. A reply that names none of them (or names two that contradict each
other) leaves the case waiting; `BuyerChoice.understood` is False and the workbench says so.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, timedelta

SHIP_AVAILABLE, SUBSTITUTE, WAIT, CANCEL = "ship_available", "substitute", "wait", "cancel"
OPTIONS: tuple[str, ...] = (SHIP_AVAILABLE, SUBSTITUTE, WAIT, CANCEL)  # option n is OPTIONS[n - 1]


@dataclass(frozen=True)
class BuyerChoice:
    """What the buyer chose, with the colour/size they asked for and the date they will wait until, when said."""

    option: str | None
    substitute_hint: str | None = None
    wait_until: date | None = None
    matched: str | None = None  # the words that decided it

    @property
    def understood(self) -> bool:
        return self.option is not None


def option_number(option: str) -> int:
    return OPTIONS.index(option) + 1


_FULL_WIDTH = str.maketrans("０１２３４５６７８９，。！？：；　", "0123456789,.!?:; ")
_DIGIT_ONLY = re.compile(r"^(?:我?选(?:择)?|第|方案|option)?\s*([1-4])\s*(?:号|个|种|条)?\s*(?:吧|吧?[,.!]?\s*谢谢)?[,.!~]*$")
_NEGATED = re.compile(r"(?:不|别|不要|不用|不想|不能|没法|无法)(?:再|能|想|要)?(?:取消|退款|退|换|等|改)|等不(?:了|及|起)")
_CANCEL = re.compile(r"取消|不要了|全部退|全额退|全退|退全款|整单退|都退|cancel")
_SHIP = re.compile(r"先发|有货的?先|发有货|有的先发|缺的(?:部分)?退|退款|退钱|退差|refund|ship (?:what|the rest)")
_SUBSTITUTE = re.compile(r"(?:换成|换个|换一?个|换|改成|改为|改)\s*([^\s,.!?吧呢啊的了]{0,12})|其他(?:颜色|尺码|款式)|别的(?:颜色|尺码)|substitute|swap")
_WAIT = re.compile(r"等|wait")
_HINT_NOISE = re.compile(r"^(?:成|为|一个|一件|个|件|其他|别的)+|(?:色的|的|吧|呢|也行|也可以|可以|就行|就好)+$")


def _normalise(text: str) -> str:
    return text.translate(_FULL_WIDTH).strip().lower()


def _hint(found: re.Match[str]) -> str | None:
    if found.lastindex is None or not found.group(1):
        return None
    hint = _HINT_NOISE.sub("", found.group(1)).strip()
    if hint in {"", "货", "款", "颜色", "尺码", "规格", "一下"}:
        return None
    return hint.upper() if re.fullmatch(r"[a-z0-9]+", hint) else hint


_WEEKDAYS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_NUMBERS = {"一": 1, "两": 2, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9, "十": 10, "半": 0}


def _count(text: str) -> int | None:
    if text.isdigit():
        return int(text)
    return _NUMBERS.get(text)


def wait_until(text: str, today: date) -> date | None:
    """The last day a buyer says they will wait: 下周, 下周五, 周五, 3月20号, 20号, 一周, 10天, 月底; None when unsaid."""
    text = _normalise(text)
    if found := re.search(r"(\d{1,2})月(\d{1,2})[日号]?", text):
        month, day = int(found.group(1)), int(found.group(2))
        year = today.year + (1 if month < today.month else 0)
        try:
            return date(year, month, day)
        except ValueError:
            return None
    if found := re.search(r"(下下|下)?(?:个)?(?:周|星期|礼拜)([一二三四五六日天])", text):
        weeks = {"下下": 2, "下": 1, None: 0}[found.group(1)]
        monday = today - timedelta(days=today.weekday()) + timedelta(weeks=weeks)
        target = monday + timedelta(days=_WEEKDAYS[found.group(2)])
        return target if target >= today else target + timedelta(weeks=1)
    if found := re.search(r"(下下|下)(?:个)?(?:周|星期|礼拜)", text):
        weeks = 2 if found.group(1) == "下下" else 1
        return today - timedelta(days=today.weekday()) + timedelta(weeks=weeks, days=6)  # to the end of that week
    if "月底" in text:
        return date(today.year, today.month, calendar.monthrange(today.year, today.month)[1])
    if found := re.search(r"(\d{1,2})[日号]", text):
        day = int(found.group(1))
        month, year = (today.month, today.year) if day >= today.day else ((today.month % 12) + 1, today.year + (today.month == 12))
        try:
            return date(year, month, day)
        except ValueError:
            return None
    if found := re.search(r"(\d{1,2}|[一两二三四五六七八九十])个?(?:周|星期|礼拜)", text):
        weeks = _count(found.group(1))
        return today + timedelta(weeks=weeks) if weeks else None
    if found := re.search(r"(\d{1,2}|[一两二三四五六七八九十])(?:天|日)", text):
        days = _count(found.group(1))
        return today + timedelta(days=days) if days else None
    return None


def parse_buyer_reply(text: str | None, *, today: date) -> BuyerChoice:
    """The option a reply chooses, or an unknown choice (option None) when it names none or contradicts itself."""
    if not text or not text.strip():
        return BuyerChoice(None)
    said = _normalise(text)
    if found := _DIGIT_ONLY.match(said):
        return BuyerChoice(OPTIONS[int(found.group(1)) - 1], matched=found.group(0))
    positive = _NEGATED.sub(" ", said)  # "不等了，退款吧" → " 了，退款吧": refusals never count as a choice
    if found := _CANCEL.search(positive):
        return BuyerChoice(CANCEL, matched=found.group(0))
    ship, swap, wait = _SHIP.search(positive), _SUBSTITUTE.search(positive), _WAIT.search(positive)
    if ship and not swap:
        return BuyerChoice(SHIP_AVAILABLE, matched=ship.group(0))
    if swap and not ship:
        return BuyerChoice(SUBSTITUTE, substitute_hint=_hint(swap), matched=swap.group(0))
    if wait and not (ship or swap):
        return BuyerChoice(WAIT, wait_until=wait_until(positive, today), matched=wait.group(0))
    return BuyerChoice(None)
