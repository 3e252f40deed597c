"""Opt-out replies: a buyer answering R, T, TD or 退订 (platforms.md §4.3) asks for no more marketing messages."""

from __future__ import annotations

import unicodedata

# Whole replies that mean "stop" (compared after NFKC, trimming and upper-casing): the providers' R and T, common TD/N.
OPT_OUT_REPLIES = frozenset({"R", "T", "TD", "N", "退订", "退定", "拒收", "取消订阅", "不要再发"})
# Words that mean "stop" anywhere in a short reply ("我要退订", "请退订谢谢").
OPT_OUT_WORDS = ("退订", "拒收短信", "别再发", "不要再发")
MAX_REPLY = 20  # a longer text is a conversation, not an opt-out reply (an agent reads it)


def is_opt_out(reply: str) -> bool:
    """Whether a buyer's reply is an opt-out: R, T, TD, N, 退订… alone, or 退订 within a short reply."""
    text = unicodedata.normalize("NFKC", reply or "").strip().strip("。.!！~～ ").upper()
    if not text or len(text) > MAX_REPLY:
        return False
    return text in OPT_OUT_REPLIES or any(word in text for word in OPT_OUT_WORDS)
