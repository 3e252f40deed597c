"""The rule catalogue of the returns engine: every rule id with its Chinese and English explanation.

A decision lists `RuleHit`s (the id, the filled-in zh/en text and the values), so the workbench, the CLI and the REST
API all show why the engine decided what it did.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

RULE_TEXTS: dict[str, tuple[str, str]] = {
    "returns.not_received": ("未收到货：买家可直接申请退款", "Goods not received: the buyer may have a refund"),
    "returns.seller_fault": ("卖家责任（{reason_zh}）：不受七天无理由期限限制，一律受理",
                             "Seller at fault ({reason_en}): always accepted, whatever the no-reason window"),
    "returns.exempt.made_to_order": ("定做商品（{source}）：不适用七天无理由退货（消法第25条）",
                                     "Made to order ({source}): no 7-day no-reason return (Consumer Law §25)"),
    "returns.exempt.perishable": ("鲜活易腐商品（{source}）：不适用七天无理由退货",
                                  "Fresh or perishable ({source}): no 7-day no-reason return"),
    "returns.exempt.digital": ("在线下载或已拆封的数字化商品（{source}）：不适用七天无理由退货",
                               "Digital goods downloaded or unsealed ({source}): no 7-day no-reason return"),
    "returns.exempt.newspaper": ("已交付的报纸（{source}）：不适用七天无理由退货",
                                 "Delivered newspapers ({source}): no 7-day no-reason return"),
    "returns.exempt.periodical": ("已交付的期刊（{source}）：不适用七天无理由退货",
                                  "Delivered periodicals ({source}): no 7-day no-reason return"),
    "returns.exempt.buyer_confirmed": ("买家购买时已确认不宜退货：不适用七天无理由（须有明确确认步骤）",
                                       "The buyer confirmed at purchase the item is not returnable (a clear "
                                       "confirmation step is required)"),
    "returns.exempt.other": ("不适用七天无理由退货：{code}（{source}）", "No 7-day no-reason return: {code} ({source})"),
    "returns.window.no_signing": ("无签收时间：无法证明已超过七天，按期限内处理",
                                  "No signing time: the window cannot be shown to have passed, treated as inside"),
    "returns.window.from_parcel": ("签收时间取自包裹物流：{signed}", "Signed per the parcel's tracking: {signed}"),
    "returns.window.from_order_end": ("无物流签收记录，取订单确认收货/完成时间：{signed}",
                                      "No parcel signing, the order's confirm/end time: {signed}"),
    "returns.window.inside": ("在{days}天无理由期内（签收次日起算，截至 {ends}）",
                              "Inside the {days}-day no-reason window (from the day after signing, to {ends})"),
    "returns.window.passed": ("已超过{days}天无理由期（截至 {ends}）", "Past the {days}-day no-reason window (ended {ends})"),
    "returns.window.expired": ("已超过{days}天无理由期，且未开启善意延期", "Past the {days}-day window, no goodwill extension"),
    "returns.intact.failed": ("商品不完好：未通过 {failed_zh}", "Not intact: failed {failed_en}"),
    "returns.intact.on_receipt": ("收到退货后按清单验货：{items_zh}", "Inspect the return on arrival: {items_en}"),
    "returns.intact.passed": ("验货通过（{checklist}）：商品完好", "Inspection passed ({checklist}): intact"),
    "returns.goodwill.accept": ("超过七天，善意延期{days}天内：可二次销售即受理",
                                "Past 7 days, inside the {days}-day goodwill extension: accepted when resellable"),
    "returns.goodwill.high_value": ("高价值客户（{tier}）：善意延期延长至{days}天",
                                    "High-value customer ({tier}): goodwill extension of {days} days"),
    "returns.goodwill.expired": ("已超过善意延期（{days}天）", "Past the goodwill extension ({days} days)"),
    "returns.goodwill.not_resellable": ("超期且无法二次销售：不予受理", "Past the window and not resellable: refused"),
    "returns.goodwill.check_resellable": ("收到退货后确认可二次销售", "Confirm on arrival that the item can be resold"),
    "returns.goodwill.fee": ("按成色“{condition_zh}”收取折旧费 ¥{fee}", "Depreciation fee for “{condition_en}”: ¥{fee}"),
    "returns.goodwill.fee_on_receipt": ("收到退货后按成色核定折旧费", "Set the depreciation fee by condition on arrival"),
    "returns.freight.seller_fault": ("卖家责任：往返运费由卖家承担", "Seller at fault: the seller pays the freight"),
    "returns.freight.insurance": ("有运费险：退货运费由运费险理赔", "Return-freight insurance (运费险) pays the return postage"),
    "returns.freight.buyer_return": ("包邮商品：买家承担退货运费", "Free-shipping listing: the buyer pays the return postage"),
    "returns.freight.buyer_both": ("非包邮商品：买家承担发货和退货运费",
                                   "Not free shipping: the buyer pays both the outbound and return postage"),
    "returns.exchange.buyer_prefers": ("买家希望换货：先换货，不退款", "The buyer prefers an exchange: exchange before refund"),
    "returns.exchange.offer": ("尺码/颜色原因：建议先为买家换货", "Size or colour: offer an exchange before a refund"),
    "returns.refund.due_from_request": ("仅退款：申请后{days}天内退款", "Refund only: refund within {days} days of the request"),
    "returns.refund.after_return": ("收到退货后{days}天内退款", "Refund within {days} days of receiving the return"),
    "returns.refund.due": ("已收到退货：{days}天内退款", "Return received: refund within {days} days"),
    "returns.override": ("客服改判为“{outcome}”：{reason}", "Agent override to “{outcome}”: {reason}"),
}


# The condition of a returned item, as the fee table names it.
CONDITION_TEXTS: dict[str, tuple[str, str]] = {
    "as_new": ("全新未使用", "as new"),
    "tried_on": ("仅试穿", "tried on"),
    "light_wear": ("轻微使用痕迹", "light wear"),
    "damaged": ("有损坏或污损", "damaged or soiled"),
}


# The intact checks of the configured checklists (a check not listed here reads as its code).
CHECK_TEXTS: dict[str, tuple[str, str]] = {
    "complete": ("配件齐全", "complete"), "no_damage": ("无损坏", "no damage"), "tags_on": ("吊牌完好", "tags on"),
    "unwashed": ("未洗涤", "unwashed"), "no_odour": ("无异味", "no odour"), "no_stains": ("无污渍", "no stains"),
    "seal_intact": ("封条/包装未拆", "seal intact"), "accessories_complete": ("配件齐全", "accessories complete"),
    "not_activated": ("未激活", "not activated"), "serial_intact": ("序列号完好", "serial number intact"),
}


def check_names(checks: tuple[str, ...] | list[str]) -> tuple[str, str]:
    """The checks as Chinese and English lists, e.g. ("吊牌完好、未洗涤", "tags on, unwashed")."""
    zh = "、".join(CHECK_TEXTS.get(c, (c, c))[0] for c in checks)
    en = ", ".join(CHECK_TEXTS.get(c, (c, c))[1] for c in checks)
    return zh, en


class _Blank(dict):
    def __missing__(self, key: str) -> str:
        return ""


@dataclass(frozen=True)
class RuleHit:
    """One rule that spoke in a decision: its id, the filled-in texts and the values in them."""

    rule_id: str
    zh: str
    en: str
    values: MappingProxyType = field(default_factory=lambda: MappingProxyType({}))

    def to_json(self) -> dict[str, Any]:
        return {"id": self.rule_id, "zh": self.zh, "en": self.en, "values": dict(self.values)}


def rule(rule_id: str, **values: object) -> RuleHit:
    """The hit of a catalogued rule with its texts filled in (an unknown id is a programming error)."""
    zh, en = RULE_TEXTS[rule_id]
    filled = _Blank({k: "" if v is None else v for k, v in values.items()})
    return RuleHit(rule_id, zh.format_map(filled), en.format_map(filled),
                   MappingProxyType({k: v for k, v in values.items()}))


def hit_from_json(data: dict[str, Any]) -> RuleHit:
    """A stored hit read back."""
    return RuleHit(str(data.get("id", "")), str(data.get("zh", "")), str(data.get("en", "")),
                   MappingProxyType(dict(data.get("values") or {})))
