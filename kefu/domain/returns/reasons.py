"""Return reasons: a TOP reason string (and the buyer's free-text desc) mapped to a reason code, its side and fault.

"Subjective" reasons are the shop's to fix (quality, description, wrong or missing items, service); "objective"
reasons are the buyer's choice or outside the shop (taste, size choice, changed mind, courier). A seller-fault reason
(quality problem, wrong item, missing piece, not as described, damaged in transit) is always accepted whatever the
no-reason window says, and the seller pays the freight.
"""

from __future__ import annotations

import importlib
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

SUBJECTIVE, OBJECTIVE = "subjective", "objective"
SIDES = (SUBJECTIVE, OBJECTIVE)


@dataclass(frozen=True)
class ReasonKind:
    """One reason code: its side, whether the seller is at fault, and how it reads."""

    code: str
    side: str
    seller_fault: bool
    zh: str
    en: str


REASONS: dict[str, ReasonKind] = {r.code: r for r in (
    ReasonKind("quality", SUBJECTIVE, True, "质量问题", "quality problem"),
    ReasonKind("not_as_described", SUBJECTIVE, True, "商品与描述不符", "not as described"),
    ReasonKind("colour_differs", SUBJECTIVE, True, "颜色/色差与图片不符", "colour differs from the photos"),
    ReasonKind("wrong_item", SUBJECTIVE, True, "卖家发错货", "wrong item sent"),
    ReasonKind("missing_item", SUBJECTIVE, True, "少件/漏发", "missing piece"),
    ReasonKind("service", SUBJECTIVE, False, "服务态度", "service"),
    ReasonKind("courier_damaged", OBJECTIVE, True, "物流破损", "damaged in transit"),
    ReasonKind("courier", OBJECTIVE, False, "物流问题", "courier"),
    ReasonKind("size_choice", OBJECTIVE, False, "尺码拍错/不合适", "size chosen wrong"),
    ReasonKind("taste", OBJECTIVE, False, "不喜欢/效果不好", "taste: does not like it"),
    ReasonKind("changed_mind", OBJECTIVE, False, "七天无理由/不想要了", "no reason / changed mind"),
    ReasonKind("other", OBJECTIVE, False, "其他", "other"),
)}
SELLER_FAULT = frozenset(code for code, kind in REASONS.items() if kind.seller_fault)
GENERIC = frozenset({"changed_mind", "other"})  # a desc may say more than these

# TOP reason strings (and close variants buyers pick in the refund form), longest first where they overlap.
_REASON_WORDS: tuple[tuple[str, str], ...] = (
    ("卖家发错货", "wrong_item"), ("发错货", "wrong_item"), ("发错", "wrong_item"), ("错发", "wrong_item"),
    ("少件", "missing_item"), ("漏发", "missing_item"), ("缺件", "missing_item"), ("少发", "missing_item"),
    ("色差", "colour_differs"), ("颜色不符", "colour_differs"), ("颜色与", "colour_differs"), ("颜色不一样", "colour_differs"),
    ("与描述不符", "not_as_described"), ("描述不符", "not_as_described"), ("图片不符", "not_as_described"),
    ("物流破损", "courier_damaged"), ("快递破损", "courier_damaged"), ("包装破损", "courier_damaged"),
    ("破损", "courier_damaged"), ("压坏", "courier_damaged"),
    ("质量问题", "quality"), ("质量", "quality"), ("做工", "quality"), ("开线", "quality"), ("起球", "quality"),
    ("掉色", "quality"), ("褪色", "quality"), ("假货", "quality"), ("瑕疵", "quality"), ("坏了", "quality"),
    ("尺码拍错", "size_choice"), ("尺码不合适", "size_choice"), ("尺码", "size_choice"), ("尺寸", "size_choice"),
    ("大小不合适", "size_choice"), ("偏大", "size_choice"), ("偏小", "size_choice"), ("太大", "size_choice"),
    ("太小", "size_choice"), ("码数", "size_choice"),
    ("不喜欢", "taste"), ("效果不好", "taste"), ("不好看", "taste"), ("款式", "taste"), ("不适合", "taste"),
    ("物流", "courier"), ("快递", "courier"), ("太慢", "courier"), ("未收到", "courier"),
    ("态度", "service"), ("客服", "service"),
    ("七天无理由", "changed_mind"), ("7天无理由", "changed_mind"), ("无理由", "changed_mind"), ("拍错", "changed_mind"),
    ("多拍", "changed_mind"), ("不想要", "changed_mind"), ("不要了", "changed_mind"), ("协商一致", "changed_mind"),
)
# Topic codes of kefu.text.topics.find_topics and the reason each one means.
TOPIC_REASONS: dict[str, str] = {
    "quality.colour": "colour_differs", "quality.material": "quality", "quality.size": "size_choice",
    "quality.style": "taste", "logistics.damaged": "courier_damaged", "logistics.slow": "courier",
    "logistics.courier_attitude": "courier", "service.attitude": "service",
}

TopicFinder = Callable[[str], tuple[str, ...]]


@dataclass(frozen=True)
class ReasonReading:
    """What a return's reason means: the code, its side, seller fault, and where it was read from."""

    code: str
    side: str
    seller_fault: bool
    source: str  # reason | desc | topics | none

    @property
    def kind(self) -> ReasonKind:
        return REASONS[self.code]


def _clean(text: str | None) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def reason_from_words(text: str | None) -> str | None:
    """The reason code a reason string or a desc names by its words, or None."""
    cleaned = _clean(text)
    if not cleaned:
        return None
    for word, code in _REASON_WORDS:
        if word in cleaned:
            return code
    return None


def default_topic_finder() -> TopicFinder | None:
    """`kefu.text.topics.find_topics` once it is installed, else None (the keyword table alone reads the desc)."""
    try:
        module = importlib.import_module("kefu.text.topics")
    except ModuleNotFoundError:
        return None
    return getattr(module, "find_topics", None)


def reason_from_topics(desc: str | None, find_topics: TopicFinder | None) -> str | None:
    """The reason the first known topic of the desc names, or None."""
    if not desc or find_topics is None:
        return None
    try:
        topics = find_topics(desc)
    except Exception:  # noqa: BLE001 - a topic model failing must not stop a return being read
        return None
    for topic in topics or ():
        if topic in TOPIC_REASONS:
            return TOPIC_REASONS[topic]
    return None


def classify_reason(reason: str | None, desc: str | None = None, *,
                    find_topics: TopicFinder | None = None) -> ReasonReading:
    """Read the TOP reason; when it is generic (七天无理由, 其他) or unknown, let the desc say more."""
    code = reason_from_words(reason)
    if code is not None and code not in GENERIC:
        return _reading(code, "reason")
    from_desc = reason_from_words(desc)
    if from_desc is not None and from_desc not in GENERIC:
        return _reading(from_desc, "desc")
    from_topics = reason_from_topics(desc, find_topics)
    if from_topics is not None:
        return _reading(from_topics, "topics")
    if code is not None:
        return _reading(code, "reason")
    if from_desc is not None:
        return _reading(from_desc, "desc")
    return _reading("other", "none")


def _reading(code: str, source: str) -> ReasonReading:
    kind = REASONS[code]
    return ReasonReading(code=code, side=kind.side, seller_fault=kind.seller_fault, source=source)
