"""Parcel watch rules: which parcels and unshipped orders need a person now, by the shop's configured numbers.

Every alert is an `AlertDraft` with a kind, a severity, a dedupe key (one live alert per subject and kind; a stall is
keyed by its last scan too, so a parcel that moves and stalls again raises a new one), a due time and a rule text
naming the configured number that raised it, e.g. "揽收超时: 已发货 30 小时无揽收扫描 (规则 pickup_hours=24, 中通→新疆)".
Pure: no clock, no I/O; `now` is always given.
"""

from __future__ import annotations

import hashlib
import math
import unicodedata
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cached_property, lru_cache
from typing import Any

from kefu.config import SHOP_RULE_DEFAULTS
from kefu.domain import order_status
from kefu.domain.carriers import carrier_for
from kefu.domain.tracking import ParcelState

FAKE_SHIPPING = "fake_shipping"
STALL = "stall"
EXCEPTION = "exception"
REJECTED = "rejected"
RETURNING = "returning"
RETURNED = "returned"
SIGNED = "signed"
SHIP_PROMISE_DUE = "ship_promise_due"
SHIP_PROMISE_BROKEN = "ship_promise_broken"
COURIER_CONFLICT = "courier_conflict"

KINDS = (FAKE_SHIPPING, STALL, EXCEPTION, REJECTED, RETURNING, RETURNED, SIGNED, SHIP_PROMISE_DUE,
         SHIP_PROMISE_BROKEN, COURIER_CONFLICT)
PARCEL_KINDS = frozenset({FAKE_SHIPPING, STALL, EXCEPTION, REJECTED, RETURNING, RETURNED, SIGNED})
ORDER_KINDS = frozenset({SHIP_PROMISE_DUE, SHIP_PROMISE_BROKEN})

CRITICAL, WARNING, INFO = "critical", "warning", "info"
SEVERITIES = (CRITICAL, WARNING, INFO)

# A parcel in one of these states should keep producing scans; a long silence is a stall.
STALL_STATES = frozenset({ParcelState.COLLECTED, ParcelState.IN_TRANSIT, ParcelState.CUSTOMS, ParcelState.TRANSFERRED,
                          ParcelState.OUT_FOR_DELIVERY})
# Not picked up yet: marked shipped but no carrier scan.
BEFORE_PICKUP_STATES = frozenset({ParcelState.UNKNOWN, ParcelState.AWAITING_PICKUP})
# A state that is an alert in itself, with its severity and how the rule text names it.
STATE_ALERTS: dict[ParcelState, tuple[str, str, str]] = {
    ParcelState.PROBLEM: (EXCEPTION, CRITICAL, "物流异常: 包裹成为问题件"),
    ParcelState.REJECTED: (REJECTED, CRITICAL, "买家拒收: 包裹被拒收"),
    ParcelState.RETURNING: (RETURNING, WARNING, "包裹退回中: 正在退回卖家"),
    ParcelState.RETURN_SIGNED: (RETURNED, INFO, "退回件已签收: 请验货并处理退款或重发"),
}
_STATES = {state.value: state for state in ParcelState}
UNSHIPPED_STATUSES = frozenset({order_status.WAIT_SELLER_SEND_GOODS, order_status.SELLER_CONSIGNED_PART})

NUMBERS = ("pickup_hours", "stall_hours", "ship_promise_hours", "promise_warning_hours", "signed_hours",
           "lookback_hours")
OVERRIDABLE = ("pickup_hours", "stall_hours", "ship_promise_hours", "promise_warning_hours", "signed_hours")
MAX_RULE_LENGTH = 200
MAX_KEY_LENGTH = 200

PROVINCES = (
    "北京", "天津", "河北", "山西", "内蒙古", "辽宁", "吉林", "黑龙江", "上海", "江苏", "浙江", "安徽", "福建", "江西",
    "山东", "河南", "湖北", "湖南", "广东", "广西", "海南", "重庆", "四川", "贵州", "云南", "西藏", "陕西", "甘肃",
    "青海", "宁夏", "新疆", "台湾", "香港", "澳门",
)
_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "特别行政区", "自治区", "省", "市")


@lru_cache(maxsize=4096)
def province_key(name: str | None) -> str | None:
    """The short name of a province however it is written: 新疆维吾尔自治区 → 新疆, 浙江省 → 浙江, 北京市 → 北京."""
    if not name:
        return None
    text = "".join(unicodedata.normalize("NFKC", name).split())
    if not text:
        return None
    for province in PROVINCES:
        if text.startswith(province):
            return province
    for suffix in _PROVINCE_SUFFIXES:
        if text.endswith(suffix) and len(text) > len(suffix):
            return text[: -len(suffix)]
    return text


@lru_cache(maxsize=1024)
def _carrier_key(name: str | None) -> str | None:
    """A configured carrier written as a code or a name (中通, 邮政) as kefu's carrier code."""
    if not name:
        return None
    carrier = carrier_for(name)
    return carrier.code if carrier else name.strip().lower()


def _hours(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or math.isnan(value) or value < 0:
        raise ValueError(f"watch.{key}: must be a number of hours, 0 or more, got {value!r}")
    return float(value)


@dataclass(frozen=True)
class WatchPolicy:
    """The numbers that apply to one parcel (its carrier and destination), with where each came from."""

    pickup_hours: float
    stall_hours: float
    ship_promise_hours: float
    promise_warning_hours: float
    signed_hours: float
    lookback_hours: float
    respond_hours: Mapping[str, float]
    kinds: frozenset[str]
    judge_untracked: bool = False
    carrier: str | None = None  # carrier code the policy was resolved for
    province: str | None = None  # short province name the policy was resolved for
    overridden: frozenset[str] = frozenset()  # numbers a carrier or province set

    def enabled(self, kind: str) -> bool:
        """Whether the shop raises alerts of this kind."""
        return kind in self.kinds

    def respond(self, severity: str) -> timedelta:
        """How long a person has to act on an alert of this severity."""
        return self._respond.get(severity) or timedelta(0)

    @cached_property
    def _respond(self) -> dict[str, timedelta]:
        return {severity: timedelta(hours=hours) for severity, hours in self.respond_hours.items()}

    @cached_property
    def pickup_after(self) -> timedelta:
        return timedelta(hours=self.pickup_hours)

    @cached_property
    def stall_after(self) -> timedelta:
        return timedelta(hours=self.stall_hours)

    @cached_property
    def signed_for(self) -> timedelta:
        return timedelta(hours=self.signed_hours)

    @property
    def route(self) -> str:
        """中通→新疆: the carrier and destination the numbers were chosen for."""
        return route(self.carrier, self.province)


@lru_cache(maxsize=4096)
def route(carrier_code: str | None, province: str | None) -> str:
    """中通→新疆: a parcel's carrier and destination as the rule texts name them."""
    carrier = carrier_for(carrier_code) if carrier_code else None
    name = carrier.name if carrier else (carrier_code or "未知快递")
    return f"{name}→{province_key(province) or '未知地区'}"


def _watch_section(rules: Mapping[str, Any]) -> dict[str, Any]:
    return {**SHOP_RULE_DEFAULTS["watch"], **(rules.get("watch") or {})}


def _override_tables(watch: Mapping[str, Any]) -> tuple[dict[str, Mapping[str, Any]], dict[str, Mapping[str, Any]]]:
    carriers = {_carrier_key(k): v or {} for k, v in (watch.get("carriers") or {}).items()}
    provinces = {province_key(k): v or {} for k, v in (watch.get("provinces") or {}).items()}
    return carriers, provinces


def watch_policy(rules: Mapping[str, Any], carrier_code: str | None = None, province: str | None = None) -> WatchPolicy:
    """The shop's watch numbers for a parcel by this carrier to this province (ValueError naming a bad number)."""
    watch = _watch_section(rules)
    carrier = _carrier_key(carrier_code)
    place = province_key(province)
    carriers, provinces = _override_tables(watch)
    by_carrier = carriers.get(carrier, {}) if carrier else {}
    by_province = provinces.get(place, {}) if place else {}
    numbers: dict[str, float] = {}
    overridden: set[str] = set()
    for key in NUMBERS:
        numbers[key] = _hours(watch[key], key)
        if key not in OVERRIDABLE:
            continue
        own = [_hours(table[key], key) for table in (by_carrier, by_province) if table.get(key) is not None]
        if own:
            numbers[key] = max(own)
            overridden.add(key)
    respond = {**SHOP_RULE_DEFAULTS["watch"]["respond_hours"], **(watch.get("respond_hours") or {})}
    return WatchPolicy(
        **numbers,
        respond_hours={severity: _hours(respond.get(severity, 0), f"respond_hours.{severity}") for severity in SEVERITIES},
        kinds=frozenset(watch.get("kinds") or ()),
        judge_untracked=bool(watch.get("judge_untracked")),
        carrier=carrier,
        province=place,
        overridden=frozenset(overridden),
    )


def _configured_hours(rules: Mapping[str, Any], key: str) -> list[float]:
    """Every value `key` takes: the shop's own and each carrier's or province's override."""
    watch = _watch_section(rules)
    carriers, provinces = _override_tables(watch)
    values = [_hours(watch[key], key)]
    for table in (*carriers.values(), *provinces.values()):
        if table.get(key) is not None:
            values.append(_hours(table[key], key))
    return values


def earliest_hours(rules: Mapping[str, Any], key: str) -> float:
    """The fewest hours any carrier or province (or the shop) uses for `key`: candidate queries filter with it."""
    return min(_configured_hours(rules, key))


def largest_hours(rules: Mapping[str, Any], key: str) -> float:
    """The most hours any carrier or province (or the shop) uses for `key`: windows that end after it are read."""
    return max(_configured_hours(rules, key))


def enabled_kinds(rules: Mapping[str, Any]) -> frozenset[str]:
    """The alert kinds the shop raises."""
    return frozenset(_watch_section(rules).get("kinds") or ())


@dataclass(frozen=True)
class ShipmentFacts:
    """What the store knows about one parcel."""

    shipment_id: str
    order_id: str
    waybill_no: str
    carrier_code: str | None = None
    province: str | None = None  # destination, as the carrier or the order wrote it
    customer_id: str | None = None
    status: str | None = None  # a ParcelState value, None before any tracking
    shipped_at: datetime | None = None
    status_at: datetime | None = None
    last_event_at: datetime | None = None
    picked_up_at: datetime | None = None
    signed_at: datetime | None = None
    tracked: bool = False  # kefu subscribed to or received tracking for it

    @cached_property
    def state(self) -> ParcelState | None:
        """The status as a ParcelState; a word kefu does not know counts as unknown."""
        return None if self.status is None else _STATES.get(self.status, ParcelState.UNKNOWN)

    @property
    def last_scan_at(self) -> datetime | None:
        """The newest sign of life: the last scan, else the last state change, else the pickup."""
        return self.last_event_at or self.status_at or self.picked_up_at


@dataclass(frozen=True)
class OrderFacts:
    """What the store knows about one order for the shipping promise."""

    order_id: str
    status: str  # TOP status
    paid_at: datetime | None
    customer_id: str | None = None
    promise_hours: float | None = None  # the listing's own promise, when it has one


@dataclass(frozen=True)
class AlertDraft:
    """An alert to raise unless one with the same dedupe key exists."""

    kind: str
    severity: str
    dedupe_key: str
    due_at: datetime | None
    rule: str
    order_id: str | None = None
    shipment_id: str | None = None
    customer_id: str | None = None
    detail: Mapping[str, Any] = field(default_factory=dict)


def dedupe_key(kind: str, *parts: str) -> str:
    """kind:subject[:episode], hashed when it would not fit the column."""
    key = ":".join((kind, *parts))
    if len(key) <= MAX_KEY_LENGTH:
        return key
    return f"{kind}:#" + hashlib.sha256(key.encode("utf-8")).hexdigest()


def _number(hours: float) -> str:
    return str(int(hours)) if float(hours).is_integer() else f"{hours:g}"


def _elapsed(since: datetime, now: datetime) -> float:
    return (now - since).total_seconds() / 3600


def _elapsed_text(hours: float) -> str:
    return str(int(hours)) if hours >= 1 else f"{max(hours, 0):.1f}"


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _rule(text: str) -> str:
    return text if len(text) <= MAX_RULE_LENGTH else text[: MAX_RULE_LENGTH - 1] + "…"


def _parcel_draft(facts: ShipmentFacts, policy: WatchPolicy, kind: str, severity: str, key: str, due: datetime | None,
                  rule: str, **detail: Any) -> AlertDraft:
    return AlertDraft(
        kind=kind, severity=severity, dedupe_key=key, due_at=due, rule=_rule(rule), order_id=facts.order_id,
        shipment_id=facts.shipment_id, customer_id=facts.customer_id,
        detail={"waybill_no": facts.waybill_no, "carrier": facts.carrier_code, "province": province_key(facts.province),
                "state": facts.status, **detail},
    )


def _fake_shipping(facts: ShipmentFacts, policy: WatchPolicy, now: datetime) -> AlertDraft | None:
    state = facts.state
    if facts.shipped_at is None or facts.picked_up_at is not None:
        return None
    if state is None and not (facts.tracked or policy.judge_untracked):
        return None
    if state is not None and state not in BEFORE_PICKUP_STATES:
        return None
    limit = policy.pickup_hours
    threshold = facts.shipped_at + policy.pickup_after
    if now < threshold:
        return None
    hours = _elapsed(facts.shipped_at, now)
    where = route(facts.carrier_code, facts.province)
    rule = f"揽收超时: 已发货 {_elapsed_text(hours)} 小时无揽收扫描 (规则 pickup_hours={_number(limit)}, {where})"
    due = threshold + policy.respond(CRITICAL)
    return _parcel_draft(facts, policy, FAKE_SHIPPING, CRITICAL, dedupe_key(FAKE_SHIPPING, facts.shipment_id), due, rule,
                         param="pickup_hours", limit=limit, hours=round(hours, 1), since=_iso(facts.shipped_at))


def _stall(facts: ShipmentFacts, policy: WatchPolicy, now: datetime) -> AlertDraft | None:
    last = facts.last_scan_at
    if facts.state not in STALL_STATES or last is None:
        return None
    limit = policy.stall_hours
    threshold = last + policy.stall_after
    if now < threshold:
        return None
    hours = _elapsed(last, now)
    where = route(facts.carrier_code, facts.province)
    rule = f"物流停滞: 最后一次扫描已过 {_elapsed_text(hours)} 小时 (规则 stall_hours={_number(limit)}, {where})"
    due = threshold + policy.respond(WARNING)
    key = dedupe_key(STALL, facts.shipment_id, last.strftime("%Y%m%d%H%M%S"))
    return _parcel_draft(facts, policy, STALL, WARNING, key, due, rule, param="stall_hours", limit=limit,
                         hours=round(hours, 1), since=_iso(last))


def _state_alert(facts: ShipmentFacts, policy: WatchPolicy, now: datetime) -> AlertDraft | None:
    state = facts.state
    if state not in STATE_ALERTS:
        return None
    kind, severity, words = STATE_ALERTS[state]
    since = facts.status_at or facts.last_event_at or now
    rule = f"{words} ({facts.waybill_no}, {route(facts.carrier_code, facts.province)})"
    return _parcel_draft(facts, policy, kind, severity, dedupe_key(kind, facts.shipment_id),
                         since + policy.respond(severity), rule, since=_iso(since))


def _signed(facts: ShipmentFacts, policy: WatchPolicy, now: datetime) -> AlertDraft | None:
    at = facts.signed_at or facts.status_at or facts.last_event_at
    if facts.state is not ParcelState.SIGNED or at is None:
        return None
    limit = policy.signed_hours
    if now >= at + policy.signed_for:
        return None
    rule = f"已签收: 可发签收关怀 (规则 signed_hours={_number(limit)}, {route(facts.carrier_code, facts.province)})"
    return _parcel_draft(facts, policy, SIGNED, INFO, dedupe_key(SIGNED, facts.shipment_id),
                         at + policy.signed_for, rule, param="signed_hours", limit=limit, since=_iso(at))


_PARCEL_RULES = ((FAKE_SHIPPING, _fake_shipping), (STALL, _stall), (None, _state_alert), (SIGNED, _signed))


def parcel_alerts(facts: ShipmentFacts, policy: WatchPolicy, now: datetime) -> list[AlertDraft]:
    """The alerts one parcel calls for now: fake-shipping risk, stall, problem, rejected, returning/returned, signed."""
    drafts = []
    for kind, rule in _PARCEL_RULES:
        if kind is not None and not policy.enabled(kind):
            continue
        draft = rule(facts, policy, now)
        if draft is not None and policy.enabled(draft.kind):
            drafts.append(draft)
    return drafts


def order_alerts(facts: OrderFacts, policy: WatchPolicy, now: datetime) -> list[AlertDraft]:
    """The shipping-promise alerts a paid, unshipped order calls for now: about to break, or broken."""
    if facts.status not in UNSHIPPED_STATUSES or facts.paid_at is None:
        return []
    promise = facts.promise_hours if facts.promise_hours is not None else policy.ship_promise_hours
    deadline = facts.paid_at + timedelta(hours=promise)
    hours = _elapsed(facts.paid_at, now)
    detail = {"param": "ship_promise_hours", "limit": promise, "hours": round(hours, 1), "since": _iso(facts.paid_at),
              "deadline": _iso(deadline)}
    if now >= deadline:
        if not policy.enabled(SHIP_PROMISE_BROKEN):
            return []
        rule = f"发货超时: 付款已 {_elapsed_text(hours)} 小时未发货 (规则 ship_promise_hours={_number(promise)})"
        return [AlertDraft(SHIP_PROMISE_BROKEN, CRITICAL, dedupe_key(SHIP_PROMISE_BROKEN, facts.order_id),
                           deadline + policy.respond(CRITICAL), _rule(rule), order_id=facts.order_id,
                           customer_id=facts.customer_id, detail=detail)]
    warning = policy.promise_warning_hours
    if warning <= 0 or now < deadline - timedelta(hours=warning) or not policy.enabled(SHIP_PROMISE_DUE):
        return []
    left = _elapsed(now, deadline)
    rule = (f"发货承诺将到期: 付款已 {_elapsed_text(hours)} 小时未发货, 还剩 {_elapsed_text(left)} 小时 "
            f"(规则 ship_promise_hours={_number(promise)}, promise_warning_hours={_number(warning)})")
    return [AlertDraft(SHIP_PROMISE_DUE, WARNING, dedupe_key(SHIP_PROMISE_DUE, facts.order_id), deadline, _rule(rule),
                       order_id=facts.order_id, customer_id=facts.customer_id,
                       detail={**detail, "warning_hours": warning, "hours_left": round(left, 1)})]


def courier_conflict(facts: ShipmentFacts, wanted: Collection[str], excluded: Collection[str], policy: WatchPolicy,
                     now: datetime) -> AlertDraft | None:
    """A parcel shipped with a courier the buyer excluded, or not the one (or ones) they asked for."""
    carrier = _carrier_key(facts.carrier_code)
    if not carrier or not policy.enabled(COURIER_CONFLICT):
        return None
    if carrier in excluded:
        severity, asked = CRITICAL, f"买家不要{_carrier_name(carrier)}"
    elif wanted and carrier not in wanted:
        severity, asked = WARNING, "买家要" + "/".join(_carrier_name(c) for c in sorted(wanted))
    else:
        return None
    rule = f"快递不符: {asked}, 实发{_carrier_name(carrier)} ({facts.waybill_no})"
    since = facts.shipped_at or now
    return _parcel_draft(facts, policy, COURIER_CONFLICT, severity, dedupe_key(COURIER_CONFLICT, facts.shipment_id),
                         since + policy.respond(severity), rule, wanted=sorted(wanted), excluded=sorted(excluded),
                         since=_iso(since))


def _carrier_name(code: str) -> str:
    carrier = carrier_for(code)
    return carrier.name if carrier else code
