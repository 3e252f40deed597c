"""The 差评师 (extortion buyer) risk score: explained signals, weights from configuration, no I/O.

A score is a sum of signals, each with the evidence that raised it, capped at 100. The seeds' pattern: a new buyer, a
remote address with cash on delivery and a same-day-shipping question (setting up a promise the shop cannot keep),
invoice or free-shipping traps, a history of complaints, refunds and bad reviews in this shop, and extortion language
(a bad review threatened unless money is paid, payment off the platform). Legitimate consumer channels (12315, the
platform's own complaint) are never a signal.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

REMOTE_DEFAULT = ("新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃", "海南")

SAME_DAY = re.compile(r"(今天|今日|当天|马上|立刻|现在).{0,6}(发货|发出|能发|发吗|寄出)|(能|可以)?当天发")
COD = re.compile(r"货到付款|到付")
INVOICE_TRAP = re.compile(r"发票.{0,10}(补|加|多).{0,4}(差价|点|税|钱)|(补|加)(税点|差价).{0,8}发票|不开发票.{0,6}(投诉|差评)")
FREE_SHIPPING_TRAP = re.compile(r"(包邮|免运费).{0,8}(吗|么|\?|？|不)")
EXTORTION = (
    re.compile(r"不.{0,8}(给|赔|退|返|补).{0,12}(就|我就|马上|立刻)?.{0,4}(差评|中评|投诉|曝光)"),
    re.compile(r"(差评|中评).{0,10}(除非|要么|否则)"),
    re.compile(r"(给|赔|转|补).{0,4}(我)?.{0,4}\d{2,5}.{0,3}(元|块).{0,10}(差评|好评|删评|改评|追评)"),
    re.compile(r"(删|改|撤).{0,3}(差评|评价).{0,10}(给|赔|要|付|转).{0,6}(钱|元|块|红包|补偿)"),
)
OFF_PLATFORM = re.compile(r"(微信|支付宝|银行卡|私下).{0,6}(转账|转给|打款|付款|红包|联系)|加.{0,3}(微信|vx|VX|v信)")


@dataclass(frozen=True)
class RiskInputs:
    """What is known about a buyer at contact or order time."""

    paid_orders_before: int  # in this install, before the current contact/order
    province: str | None = None
    cash_on_delivery: bool = False
    messages: Sequence[str] = ()
    past_complaints: int = 0
    past_refunds: int = 0
    past_bad_reviews: int = 0


@dataclass(frozen=True)
class Signal:
    """One reason the score went up, with the words or facts behind it."""

    code: str
    points: int
    zh: str
    en: str
    evidence: str = ""


@dataclass(frozen=True)
class RiskScore:
    """0–100 and a level; `signals` explain every point."""

    score: int
    level: str  # low | medium | high
    signals: tuple[Signal, ...]


@dataclass(frozen=True)
class RiskRules:
    """Weights and thresholds from configuration (`SHOP_RULE_DEFAULTS["extortion_risk"]`)."""

    weights: Mapping[str, int]
    medium_at: int
    high_at: int
    remote_provinces: tuple[str, ...] = REMOTE_DEFAULT
    per_event_cap: int = 3  # complaints/refunds/bad reviews count up to this many each

    @classmethod
    def from_config(cls, config: Mapping[str, Any]) -> RiskRules:
        return cls(weights={k: int(v) for k, v in config["weights"].items()}, medium_at=int(config["medium_at"]),
                   high_at=int(config["high_at"]),
                   remote_provinces=tuple(config.get("remote_provinces", REMOTE_DEFAULT)),
                   per_event_cap=int(config.get("per_event_cap", 3)))


def _first(pattern: re.Pattern[str], messages: Sequence[str]) -> str | None:
    for text in messages:
        found = pattern.search(text)
        if found:
            return text.strip()
    return None


def _remote(province: str | None, remote: Sequence[str]) -> bool:
    return bool(province) and any(province.startswith(r) for r in remote)


def score_buyer(inputs: RiskInputs, rules: RiskRules) -> RiskScore:
    """Add up the signals present; each explains itself in Chinese and English with its evidence."""
    w = rules.weights
    signals: list[Signal] = []

    def add(code: str, zh: str, en: str, evidence: str = "", times: int = 1) -> None:
        points = w.get(code, 0) * times
        if points:
            signals.append(Signal(code, points, zh, en, evidence))

    messages = [m for m in inputs.messages if m]
    if inputs.paid_orders_before == 0:
        add("new_buyer", "新买家，本店没有成交记录", "a new buyer: no paid order in this shop before")
    same_day = _first(SAME_DAY, messages)
    remote = _remote(inputs.province, rules.remote_provinces)
    cod = inputs.cash_on_delivery or _first(COD, messages) is not None
    if remote and cod and same_day:
        add("remote_cod_same_day", f"偏远地区（{inputs.province}）+ 货到付款 + 问当天发货",
            f"remote address ({inputs.province}) + cash on delivery + a same-day-shipping question", same_day)
    elif same_day:
        add("same_day_question", "追问当天发货（容易被抓“承诺未兑现”）",
            "presses for same-day shipping (a promise easily held against the shop)", same_day)
    invoice = _first(INVOICE_TRAP, messages)
    if invoice:
        add("invoice_trap", "发票话术陷阱（补差价/不开就投诉）", "an invoice trap (surcharge, or a complaint threat)", invoice)
    free = _first(FREE_SHIPPING_TRAP, messages)
    if free and remote:
        add("free_shipping_trap", f"偏远地区（{inputs.province}）追问包邮", f"asks for free shipping to a remote area "
            f"({inputs.province})", free)
    cap = rules.per_event_cap
    if inputs.past_complaints:
        add("past_complaints", f"在本店投诉过 {inputs.past_complaints} 次", f"{inputs.past_complaints} past complaints here",
            times=min(inputs.past_complaints, cap))
    if inputs.past_refunds:
        add("past_refunds", f"在本店退款 {inputs.past_refunds} 次", f"{inputs.past_refunds} past refunds here",
            times=min(inputs.past_refunds, cap))
    if inputs.past_bad_reviews:
        add("past_bad_reviews", f"在本店给过 {inputs.past_bad_reviews} 个中差评",
            f"{inputs.past_bad_reviews} neutral/bad reviews here", times=min(inputs.past_bad_reviews, cap))
    threat = next((t for t in (_first(p, messages) for p in EXTORTION) if t), None)
    if threat:
        add("extortion_language", "以差评要挟索要钱物", "threatens a bad review unless paid", threat)
    off = _first(OFF_PLATFORM, messages)
    if off:
        add("off_platform_payment", "要求平台外转账或私下联系", "asks for payment or contact off the platform", off)
    score = min(100, sum(s.points for s in signals))
    level = "high" if score >= rules.high_at else "medium" if score >= rules.medium_at else "low"
    return RiskScore(score=score, level=level, signals=tuple(signals))
