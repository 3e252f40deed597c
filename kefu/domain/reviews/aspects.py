"""What a review praises (aspects a thank-you names) or blames (complaint topics from kefu.text.topics)."""

from __future__ import annotations

import re

from kefu.text.topics import TOPICS, find_topics

# Aspects a buyer may praise, in the order a reply mentions them: (code, words that show it, how the reply names it).
PRAISE_ASPECTS: tuple[tuple[str, tuple[str, ...], str, str], ...] = (
    ("quality", ("质量", "品质", "做工", "结实", "耐用", "精致"), "质量", "quality"),
    ("material", ("面料", "料子", "布料", "材质", "手感", "柔软", "舒服", "透气"), "面料和手感", "material and feel"),
    ("fit", ("尺码", "合身", "大小合适", "码数", "版型"), "尺码版型", "fit"),
    ("looks", ("好看", "漂亮", "颜色", "款式", "颜值", "时尚", "美"), "颜色款式", "look"),
    ("taste", ("好吃", "味道", "口感", "新鲜", "香"), "口感", "taste"),
    ("value", ("性价比", "划算", "便宜", "实惠", "物美价廉", "值"), "性价比", "value for money"),
    ("shipping", ("物流", "快递", "发货", "速度", "送货", "到货"), "发货速度", "fast delivery"),
    ("packing", ("包装", "打包"), "包装", "packing"),
    ("service", ("客服", "服务", "态度", "耐心", "热情"), "服务", "service"),
)

_NEGATED = re.compile(r"(不|没|无)(太)?$")
_BLAMED_AFTER = re.compile(r"^.?(不|没|差|一般|太烂|很烂|有问题)")  # 质量不好, 做工一般


def praised_aspects(text: str) -> tuple[str, ...]:
    """Aspect codes the text praises (at most three, in PRAISE_ASPECTS order): not 不/没 + word, nor word + 不好/差."""
    found: list[str] = []
    for code, words, _zh, _en in PRAISE_ASPECTS:
        for word in words:
            start = text.find(word)
            after = text[start + len(word) : start + len(word) + 4]
            if start >= 0 and not _NEGATED.search(text[max(0, start - 2) : start]) and not _BLAMED_AFTER.search(after):
                found.append(code)
                break
    return tuple(found[:3])


def aspect_words(codes: tuple[str, ...], language: str = "zh") -> list[str]:
    """How a reply names each aspect."""
    names = {code: (zh if language == "zh" else en) for code, _words, zh, en in PRAISE_ASPECTS}
    return [names[code] for code in codes if code in names]


def topics_of(text: str) -> tuple[str, ...]:
    """The complaint topics of one review text (kefu.text.topics codes)."""
    return find_topics(text or "")


__all__ = ["PRAISE_ASPECTS", "TOPICS", "aspect_words", "praised_aspects", "topics_of"]
