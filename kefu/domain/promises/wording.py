"""Reading reply wording for the promise guard: sentences, clauses, negation, hedges, conditions, Chinese numbers."""

from __future__ import annotations

import re

CHINESE_DIGITS = {"零": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}

_SENTENCE = re.compile(r"[^。!?！？\n；;]+")
_CLAUSE = re.compile(r"[^,，。!?！？\n；;]+")
_NEGATION = re.compile(
    r"(?:不|没|无|未|别|勿|非|暂不|无法|不能|不会|不可以|没办法|没法|不支持|不一定|不保证|不敢保证|没有办法|不好说|难以|恕不)"
)
_HEDGE = re.compile(r"一般|大概|大约|预计|正常(?:情况)?|通常|左右|尽量|争取|可能|应该|估计|参考|不出意外|如无意外|大多|多数|具体以|为准")
_CONDITION = re.compile(
    r"(?:\d{1,2}(?::\d{2})?|[一二三四五六七八九十]+)(?:点|时)(?:之?前|以前)[^,，。]{0,4}(?:付款|下单|拍|支付)"
    r"|(?:付款|下单|拍下?|支付)[^,，。]{0,3}(?:的话|之后|后)?[^,，。]{0,2}(?:当天|次日)"
    r"|如果|假如|要是|只要|满\d+"
)


def sentences_of(text: str) -> list[str]:
    """Sentences split at 。！？; and line breaks, stripped, empty ones dropped."""
    return [part.strip() for part in _SENTENCE.findall(text) if part.strip()]


def clauses_of(sentence: str) -> list[str]:
    """Clauses of a sentence split at commas (not at 、, which lists: 除新疆、西藏外)."""
    return [part.strip() for part in _CLAUSE.findall(sentence) if part.strip()]


def is_negated(clause: str, position: int, window: int = 6) -> bool:
    """Whether a negation stands in the few characters before position (不包邮, 暂不支持货到付款, 不能保证明天到)."""
    before = clause[max(0, position - window) : position]
    return bool(_NEGATION.search(before))


def is_hedged(clause: str) -> bool:
    """Whether the clause is an estimate, not a promise (一般/预计/尽量/以…为准)."""
    return bool(_HEDGE.search(clause))


def is_conditional(clause: str) -> bool:
    """Whether the clause states a condition or the shop's policy (16点前付款当天发, 如果…), not a promise."""
    return bool(_CONDITION.search(clause))


def number_of(word: str | None) -> int | None:
    """An Arabic or simple Chinese number (3, 三, 两, 十二, 二十四) as an int; None when it is not one."""
    if not word:
        return None
    if word.isdigit():
        return int(word)
    if "十" in word:
        tens, _, units = word.partition("十")
        tens_value = CHINESE_DIGITS.get(tens, 0) if tens else 1
        units_value = CHINESE_DIGITS.get(units, 0) if units else 0
        if (tens and tens not in CHINESE_DIGITS) or (units and units not in CHINESE_DIGITS):
            return None
        return tens_value * 10 + units_value
    if len(word) == 1 and word in CHINESE_DIGITS:
        return CHINESE_DIGITS[word]
    return None
