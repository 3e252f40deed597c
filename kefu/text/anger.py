"""How angry a buyer message reads (0–1): threats, insults, urgency markers and repeated punctuation over sentiment.

Pure: `anger_of(normalised_text, sentiment_score)`. High anger suggests a phone call instead of another chat line;
the threshold is the shop's (`text_understanding.anger_call_threshold` in kefu.config).
"""

from __future__ import annotations

import re

# Each cue family adds its weight once; the sum is capped at 1.
_THREAT = re.compile(r"投诉|12315|工商|消协|举报|曝光|维权|报警|律师|起诉|法院|媒体|小二介入|平台介入|差评(?!师)|一星")
_INSULT = re.compile(r"骗子|垃圾|黑店|坑人|坑爹|奸商|无良|恶心|去死|滚|傻|妈的|tmd|尼玛|卧槽|我靠|他妈|狗屁|什么玩意|什么东西|破店|烂货|智障|脑子")
_FURY = re.compile(r"气死|火大|生气|愤怒|无语|受不了|忍不了|太过分|过分了|欺负人|你们(?:到底|究竟)|到底(?:怎么|要|还|什么|能不能)|搞什么|什么态度|忍无可忍|失望透顶|最后一次")
_WAITING = re.compile(r"再不.{0,8}(?:就|我)|(?:几|好几|\d+|两|三|四|五|六|七|八|九|十)天(?:了|都)|一直(?:没|不)|还要(?:等)?多久|多少次了|说了(?:几|多少|好几)次|每次都|又是|再不.{0,6}就")
_DEMAND = re.compile(r"马上|立刻|立即|赶紧|必须|给个说法|给我个说法|给我解释|赔偿|赔钱|负责")
_REPEAT_MARKS = re.compile(r"[!！?？]{2,}")
_CALM = re.compile(r"谢谢|麻烦|辛苦|不好意思|请问|亲~|哈哈|^亲")

WEIGHTS = {"threat": 0.35, "insult": 0.35, "fury": 0.25, "waiting": 0.15, "demand": 0.1, "marks": 0.15,
           "complaint": 0.3}
SCALE = 1.3  # stretches the summed cues so that a labelled "call this buyer" message reads about 0.6 or more


def anger_of(normalised: str, sentiment_score: float, *, complaint: bool = False) -> float:
    """Anger 0..1 from the text's cues, its sentiment score (1 = positive) and whether it reads as a complaint."""
    score = WEIGHTS["complaint"] if complaint else 0.0
    if _THREAT.search(normalised):
        score += WEIGHTS["threat"]
    if _INSULT.search(normalised):
        score += WEIGHTS["insult"]
    if _FURY.search(normalised):
        score += WEIGHTS["fury"]
    if _WAITING.search(normalised):
        score += WEIGHTS["waiting"]
    if _DEMAND.search(normalised):
        score += WEIGHTS["demand"]
    if _REPEAT_MARKS.search(normalised):
        score += WEIGHTS["marks"]
    negativity = max(0.0, 0.5 - sentiment_score) * 2  # 0 at neutral or better, 1 at fully negative
    if score == 0.0:
        return round(0.2 * negativity, 3)  # negative words alone are disappointment, not anger
    score += 0.25 * negativity
    if _CALM.search(normalised):
        score *= 0.7
    return round(min(1.0, score * SCALE), 3)
