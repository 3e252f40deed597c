"""A buyer's personality type from their messages: dominant, expressive, amiable or analytical, with the evidence.

Pure: `classify_personality(messages)` scores every sentence against each type's cues and names the type with the
most support, quoting the sentences that carry it. Too little text, or no clear winner, reads as kind=None.

The four types (the seed's):
- dominant: decisive and self-centred, short commands, no haggling, wants it done now;
- expressive: lively, emoji and exclamations, shares feelings, wants praise and attention;
- amiable: friendly and polite, undecided, asks the agent to choose, worries about trouble;
- analytical: data-driven and risk-averse, asks for numbers, specs, proof and guarantees.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Literal

PersonalityKind = Literal["dominant", "expressive", "amiable", "analytical"]
KINDS: tuple[str, ...] = ("dominant", "expressive", "amiable", "analytical")
KIND_NAMES_ZH = {"dominant": "力量型（果断）", "expressive": "活泼型（表现）", "amiable": "和平型（随和）",
                 "analytical": "完美型（分析）"}  # fmt: skip

MIN_CHARACTERS = 12  # fewer characters of buyer text than this: too little to judge (dominant buyers write short)
MIN_SCORE = 2.0  # the winning type needs at least this much cue weight
MIN_LEAD = 1.0  # ... and this much more than the runner-up
MAX_EVIDENCE = 3

# (pattern, weight) per type. Patterns run on one sentence at a time, lower-cased.
_CUES: dict[str, tuple[tuple[re.Pattern[str], float], ...]] = {
    "dominant": (
        (re.compile(r"直接|马上|立刻|立即|赶紧|尽快给我|现在就|今天必须|必须|我只要|就要这个|就这个|别废话|少废话|不用介绍|不用推荐|不用说了"), 1.0),
        (re.compile(r"不讲价|不砍价|不用优惠|不在乎(?:钱|价格)|贵点没关系|钱不是问题|最好的那个|要最好的|直接拍|已拍|拍了"), 1.0),
        (re.compile(r"按我说的|听我的|我说了算|我要的是|给我(?:发|换|退|办|弄)|你们(?:给我|马上)|快点|效率|速度|搞快点|别磨蹭|没时间"), 1.0),
        (re.compile(r"^(?:发|退|换|改|快|行|可以|就这样|定了|好了)[。!！]?$"), 0.5),
    ),
    "expressive": (
        (re.compile(r"哈哈|嘻嘻|嘿嘿|呜呜|啊啊|哇|耶|好可爱|太可爱|好好看|太好看|美哭|爱了|爱死|喜欢死|绝了|超级|超喜欢|太棒了"), 1.0),
        (re.compile(r"朋友都说|闺蜜|同事都|大家都夸|被夸|夸我|回头率|晒图|拍照|发朋友圈|小红书|穿上.{0,4}(?:美|好看)|显瘦|是不是很|好看吗|漂亮吗|眼光"), 1.0),
        (re.compile(r"[😀-🙏🥰🤩❤💕✨🌸👍🎉]|[!！]{2,}|~{1,}|～"), 0.5),
        (re.compile(r"心情|开心|激动|惊喜|感动|生日|约会|派对|旅行"), 0.5),
    ),
    "amiable": (
        (re.compile(r"纠结|犹豫|不知道(?:选|买|要)|拿不定|选哪个|哪个好|哪个更好|你帮我选|帮我挑|帮我推荐|你觉得呢|听你的|都可以|都行|随便|看着办"), 1.0),
        (re.compile(r"再想想|考虑一下|再看看|问问(?:家人|老公|老婆|我妈|朋友)|商量一下|不着急|慢慢来|没关系|不要紧|不急"), 1.0),
        (re.compile(r"麻烦你了|麻烦了|辛苦了|不好意思|打扰了|谢谢你|谢谢亲|添麻烦|给你们添|会不会很麻烦|如果方便"), 0.75),
    ),
    "analytical": (
        (re.compile(r"参数|成分|含量|配料|规格|型号|材质是|面料成分|具体|详细|数据|多少(?:克|毫升|瓦|厘米|毫米|度|mah)|\d+(?:cm|mm|g|kg|ml|w|mah|%)"), 1.0),
        (re.compile(r"对比|区别|比较|哪个参数|性价比|测评|评测|检测报告|质检|认证|资质|3c|执行标准|国标|合格证|生产日期|保质期"), 1.0),
        (re.compile(r"保修|质保|售后政策|如果.{0,8}(?:怎么办|能不能|可以)|万一|有没有保障|风险|保证.{0,4}吗|退换政策|运费险|书面|截图为证|写清楚|白纸黑字"), 1.0),
        (re.compile(r"为什么|原理|依据|怎么算的|怎么计算|准确|精确"), 0.5),
    ),
}

_SENTENCE = re.compile(r"[^。！!？?\n；;]+[。！!？?；;]*")


@dataclass(frozen=True)
class PersonalityReading:
    """The buyer's dominant type (None when too little text or no clear winner), score per type, and evidence."""

    kind: str | None
    scores: dict[str, float] = field(default_factory=dict)
    evidence: tuple[str, ...] = ()


def sentences_of(messages: Iterable[str]) -> list[str]:
    """Every non-empty sentence of every message, stripped, in order."""
    found: list[str] = []
    for message in messages:
        for part in _SENTENCE.findall(message or ""):
            part = part.strip()
            if part:
                found.append(part)
    return found


def sentence_scores(sentence: str) -> dict[str, float]:
    """Cue weight per type for one sentence (types with no cue left out)."""
    lowered = sentence.lower()
    scores: dict[str, float] = {}
    for kind, cues in _CUES.items():
        weight = sum(w for pattern, w in cues if pattern.search(lowered))
        if weight:
            scores[kind] = weight
    return scores


def classify_personality(messages: Iterable[str]) -> PersonalityReading:
    """The buyer's personality type from their messages, with up to three supporting sentences."""
    messages = [message for message in messages if message and message.strip()]
    sentences = sentences_of(messages)
    totals = {kind: 0.0 for kind in KINDS}
    support: dict[str, list[tuple[float, int, str]]] = {kind: [] for kind in KINDS}
    for position, sentence in enumerate(sentences):
        for kind, weight in sentence_scores(sentence).items():
            totals[kind] += weight
            support[kind].append((weight, position, sentence))
    scores = {kind: round(value, 2) for kind, value in totals.items()}
    characters = sum(len(message.strip()) for message in messages)
    ranked = sorted(KINDS, key=lambda kind: -totals[kind])
    best, runner_up = ranked[0], ranked[1]
    if characters < MIN_CHARACTERS or totals[best] < MIN_SCORE or totals[best] - totals[runner_up] < MIN_LEAD:
        return PersonalityReading(None, scores, ())
    strongest = sorted(support[best], key=lambda item: (-item[0], item[1]))[:MAX_EVIDENCE]
    evidence = tuple(sentence for _, _, sentence in sorted(strongest, key=lambda item: item[1]))
    return PersonalityReading(best, scores, evidence)


def read_labelled_buyers(text: str, source: str) -> list[tuple[str | None, list[str]]]:
    """(kind or None, messages) per line of a labelled-buyer file (kind<TAB>messages separated by " | ")."""
    buyers: list[tuple[str | None, list[str]]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        kind, separator, messages = line.partition("\t")
        if not separator or (kind not in KINDS and kind != "none"):
            raise ValueError(f"{source}:{number}: expected kind<TAB>messages with a kind of {KINDS} or none")
        buyers.append((None if kind == "none" else kind, [m.strip() for m in messages.split(" | ") if m.strip()]))
    return buyers
