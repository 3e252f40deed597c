"""Marketing-SMS wording rules as pure helpers the outbox calls: the opt-out suffix on marketing texts, never on others."""

from __future__ import annotations

from collections.abc import Iterable

from kefu.config import SHOP_RULE_DEFAULTS

MARKETING = "marketing"
# Wordings that count as an opt-out already being there (Aliyun templates, Aliyun's marketing product, Huawei).
KNOWN_OPT_OUTS: tuple[str, ...] = ("拒收请回复R", "回T退订", "退订回T")


def default_opt_out() -> str:
    """The opt-out wording from the shop-rule defaults (a shop overrides it under channels.marketing_opt_out)."""
    return str(SHOP_RULE_DEFAULTS["channels"]["marketing_opt_out"])


def has_opt_out(text: str, wordings: Iterable[str] = KNOWN_OPT_OUTS) -> bool:
    """Whether the text already carries an opt-out wording (ignoring spaces and a trailing full stop)."""
    squeezed = "".join(text.split())
    return any("".join(w.split()) in squeezed for w in wordings)


def with_opt_out(text: str, *, purpose: str, suffix: str | None = None) -> str:
    """A marketing text ends with the opt-out wording (added once, never twice); any other purpose is left as it is."""
    if purpose != MARKETING:
        return text
    wording = (suffix or default_opt_out()).strip()
    if has_opt_out(text, (*KNOWN_OPT_OUTS, wording)):
        return text
    body = text.rstrip()
    return f"{body} {wording}" if body else wording


def opt_out_problem(text: str, *, purpose: str, suffix: str | None = None) -> str | None:
    """Why a text may not go out as it is, or None: marketing without an opt-out, a notification carrying one (Aliyun rejects it)."""
    wording = (suffix or default_opt_out()).strip()
    present = has_opt_out(text, (*KNOWN_OPT_OUTS, wording))
    if purpose == MARKETING and not present:
        return f"营销短信必须带退订提示「{wording}」/ a marketing SMS must carry the opt-out「{wording}」"
    if purpose != MARKETING and present:
        return "通知类短信不得带退订提示 / a non-marketing SMS must not carry a marketing opt-out"
    return None


def sms_segments(text: str) -> int:
    """How many SMS a text is billed as in mainland China: 70 characters fit one; longer texts go in parts of 67."""
    length = len(text)
    if length <= 70:
        return 1
    return -(-length // 67)
