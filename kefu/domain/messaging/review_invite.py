"""A review invitation asks for an honest review and never ties a reward to a good one (Taobao rules, §2) — pure."""

from __future__ import annotations

import re

# Money, gifts or refunds offered around a review: "好评返现", "五星送券", "晒图有红包", "评价后退款" …
_REWARD = re.compile(r"返现|返[0-9一二三四五六七八九十]+元|红包|优惠券|代金券|送券|有礼|赠品|礼品|好礼|现金|退款|返利|免单|抽奖")
_GOOD = re.compile(r"好评|五星|5星|全五|满分")


def review_reward_problem(text: str) -> str | None:
    """Why this invitation may not go out (a reward offered, or a good review asked for), or None."""
    if _REWARD.search(text or ""):
        return "评价邀请不得以返现、红包、赠品等换评价 / a review invitation must not offer a reward"
    if _GOOD.search(text or ""):
        return "评价邀请只能请买家如实评价，不得要求好评 / a review invitation may ask for an honest review, not a good one"
    return None
