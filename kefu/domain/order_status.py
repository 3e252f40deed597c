"""The TOP trade status set, and how 千牛 export wording and Shopify states map onto it."""

from __future__ import annotations

WAIT_BUYER_PAY = "WAIT_BUYER_PAY"
WAIT_SELLER_SEND_GOODS = "WAIT_SELLER_SEND_GOODS"
SELLER_CONSIGNED_PART = "SELLER_CONSIGNED_PART"
WAIT_BUYER_CONFIRM_GOODS = "WAIT_BUYER_CONFIRM_GOODS"
TRADE_BUYER_SIGNED = "TRADE_BUYER_SIGNED"
TRADE_FINISHED = "TRADE_FINISHED"
TRADE_CLOSED = "TRADE_CLOSED"  # closed after payment: refund succeeded
TRADE_CLOSED_BY_TAOBAO = "TRADE_CLOSED_BY_TAOBAO"  # closed before payment
UNKNOWN = "UNKNOWN"

ALL = (
    WAIT_BUYER_PAY,
    WAIT_SELLER_SEND_GOODS,
    SELLER_CONSIGNED_PART,
    WAIT_BUYER_CONFIRM_GOODS,
    TRADE_BUYER_SIGNED,
    TRADE_FINISHED,
    TRADE_CLOSED,
    TRADE_CLOSED_BY_TAOBAO,
    UNKNOWN,
)

# Statuses in which money has changed hands (or did, before a refund).
PAID = frozenset(
    {WAIT_SELLER_SEND_GOODS, SELLER_CONSIGNED_PART, WAIT_BUYER_CONFIRM_GOODS, TRADE_BUYER_SIGNED, TRADE_FINISHED, TRADE_CLOSED}
)

_EXPORT_WORDING = {
    "等待买家付款": WAIT_BUYER_PAY,
    "买家已付款,等待卖家发货": WAIT_SELLER_SEND_GOODS,
    "卖家部分发货": SELLER_CONSIGNED_PART,
    "卖家已发货,等待买家确认": WAIT_BUYER_CONFIRM_GOODS,
    "买家已签收": TRADE_BUYER_SIGNED,
    "交易成功": TRADE_FINISHED,
    "交易关闭": TRADE_CLOSED,  # refined by the close reason, see from_export_wording
    "付款以前,卖家或买家主动关闭交易": TRADE_CLOSED_BY_TAOBAO,
    "付款以后用户退款成功,交易自动关闭": TRADE_CLOSED,
}

_PUNCTUATION = str.maketrans({"，": ",", "：": ":", "（": "(", "）": ")", " ": "", "\u3000": ""})

# Close reasons that mean the buyer never paid.
_UNPAID_CLOSE_REASONS = ("买家未付款", "未付款", "超时", "卖家关闭", "买家关闭")


def normalise_wording(text: str) -> str:
    """Full-width commas and colons to ASCII, spaces removed: exports mix both forms."""
    return text.translate(_PUNCTUATION)


def from_export_wording(status_text: str | None, close_reason: str | None = None, *, paid: bool | None = None) -> str:
    """The TOP status for a 千牛 订单状态 text (and, for 交易关闭, the close reason or whether it was paid)."""
    if not status_text:
        return UNKNOWN
    if status_text in ALL:
        return status_text
    status = _EXPORT_WORDING.get(normalise_wording(status_text), UNKNOWN)
    if status == TRADE_CLOSED:
        reason = close_reason or ""
        if paid is False or any(word in reason for word in _UNPAID_CLOSE_REASONS):
            return TRADE_CLOSED_BY_TAOBAO
    return status


def is_paid(status: str) -> bool:
    return status in PAID
