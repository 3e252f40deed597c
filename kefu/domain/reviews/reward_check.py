"""The review_reward check: wording that ties a gift, coupon, refund or money to changing or deleting a review.

A remedy may be a small gift or coupon, but never conditional on the review (好评返现 and 改评返现 break Taobao's rules
and consumer law). The promise guard (kefu/domain/promise_guard.py) has the same code; this module uses it when it is
installed and keeps its own pure check otherwise, so the block holds either way.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

REVIEW_REWARD = "review_reward"

_REWARD = r"(返现|返钱|红包|退款|返款|补偿|赔偿|优惠券|券|礼品|赠品|小礼物|送|返|钱|现金|元|块|折扣|积分|奖励|好处|cash|refund|coupon|gift)"
_REVIEW_CHANGE = (
    r"(改(成|为)?好评|(差|中)评.{0,3}(删|撤|改|去掉)|评价.{0,3}(删|撤|改)|改评|改一下评价|修改评价|更改评价|追加好评|删(除|掉)?(差|中)?评|撤(销|回)?(差|中)?评|"
    r"好评返|晒图返|五星|给(个|我们)?好评|改(一下)?(个|下)?(评价|评论)|取消差评|追评好评|"
    r"change (the |your )?review|delete (the |your )?review|remove (the |your )?review|5[- ]star)"
)
_TIE = re.compile(
    rf"({_REVIEW_CHANGE}.{{0,24}}{_REWARD}|{_REWARD}.{{0,24}}{_REVIEW_CHANGE})", re.IGNORECASE | re.DOTALL
)
_CONDITIONAL = re.compile(r"(好评|五星|改评|删评)(就|即|后|再|才)?(返|送|退|补|给)", re.IGNORECASE)


@dataclass(frozen=True)
class RewardVerdict:
    """Whether the text ties a reward to the review, with the code, the bilingual message and a safer wording."""

    blocked: bool
    code: str = REVIEW_REWARD
    message_zh: str = ""
    message_en: str = ""
    safer_wording: str = ""
    matched: str = ""


SAFER = "为表歉意，送您一张小额优惠券/小礼物，与评价无关；问题解决后如果您满意，评价由您自己决定。"


def own_check(text: str) -> RewardVerdict:
    """kefu's own pure check (used until the promise guard is installed)."""
    match = _TIE.search(text or "") or _CONDITIONAL.search(text or "")
    if match is None:
        return RewardVerdict(blocked=False)
    return RewardVerdict(
        blocked=True,
        message_zh="不能把礼品、优惠券、退款或钱与修改/删除评价挂钩（好评返现违规）",
        message_en="A gift, coupon, refund or money may never be tied to changing or deleting a review",
        safer_wording=SAFER,
        matched=match.group(0),
    )


def check_reward_wording(text: str) -> RewardVerdict:
    """The promise guard's review_reward verdict when the guard is installed, joined with kefu's own check."""
    own = own_check(text)
    if own.blocked:
        return own
    try:
        from kefu.domain.promise_guard import ShopFacts, check_text  # type: ignore[import-not-found]
    except ImportError:
        return own
    try:
        verdict = check_text(text, ShopFacts())
    except TypeError:  # a ShopFacts that needs arguments: the own check stands
        return own
    for reason in getattr(verdict, "reasons", ()):
        if getattr(reason, "code", None) == REVIEW_REWARD:
            return RewardVerdict(True, REVIEW_REWARD, reason.message_zh, reason.message_en,
                                 reason.safer_wording or SAFER, text)  # fmt: skip
    return own
