"""The phone-call script for an angry or severe complaint: listen, acknowledge, apologise, offer, confirm.

The phrases are the seed's: "嗯", "我明白", "我理解您的感受", "对不起，这是我们考虑不周". The offers are read out in
the ladder's satisfaction-first order, so the agent starts with what the buyer is most likely to accept.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

LISTEN_PHRASES = ("嗯", "我明白")
EMPATHY = "我理解您的感受"
APOLOGY = "对不起，这是我们考虑不周"
OUTCOMES = ("settled", "calmed", "callback", "no_answer", "refused")


@dataclass(frozen=True)
class ScriptLine:
    """One part of the call: what phase it is, what to say (zh) and a hint for the agent (en)."""

    phase: str  # greet | listen | empathise | apologise | offer | confirm | close
    say: str
    hint: str


def call_script(*, shop_name: str, agent: str, buyer: str | None, summary: str,
                offers: Sequence[str] = (), order_no: str | None = None) -> tuple[ScriptLine, ...]:
    """The script for one case; `offers` are descriptions already in satisfaction-first order."""
    who = buyer or "亲"
    about = f"订单 {order_no} 的" if order_no else ""
    lines = [
        ScriptLine("greet", f"您好，{who}，我是{shop_name}的客服{agent}，打电话是想和您沟通一下{about}问题：{summary}。",
                   "Introduce yourself and the shop; name the problem in the buyer's words."),
        ScriptLine("listen", "您慢慢说，我在听。", "Let the buyer speak first; do not interrupt or explain yet."),
        ScriptLine("listen", " / ".join(LISTEN_PHRASES), "While the buyer talks: short acknowledgements only."),
        ScriptLine("empathise", EMPATHY + "。", "Acknowledge the feeling before any fact."),
        ScriptLine("apologise", APOLOGY + "。", "Apologise for the experience, without blaming courier or buyer."),
    ]
    for number, offer in enumerate(offers, start=1):
        lines.append(ScriptLine("offer", f"方案{number}：{offer}，您看这样可以吗？",
                                "Offer in this order (buyer satisfaction first); stop at the one accepted."))
    if not offers:
        lines.append(ScriptLine("offer", "您希望我们怎么处理？我记下来，马上给您答复。",
                                "No options yet: ask what would make it right, promise nothing you cannot keep."))
    lines += [
        ScriptLine("confirm", "我再跟您确认一下：我们会按刚才说好的方案处理，处理好后第一时间通知您。",
                   "Repeat what was agreed, with the date it will be done."),
        ScriptLine("close", "再次对不起，给您添麻烦了，感谢您的理解和支持！",
                   "Thank the buyer; record the outcome right after the call."),
    ]
    return tuple(lines)
