"""The returns policy engine: one return request in, one decision out, naming every rule that made it.

Order of the rules: a refund before the goods arrived is always possible; a seller-fault reason (quality problem,
wrong or missing item, not as described, damaged in transit) is always accepted; a legal exemption (定做, 鲜活易腐,
unsealed digital goods, newspapers and periodicals, goods the buyer confirmed as non-returnable) refuses a no-reason
return; inside the window (from the day after signing) the item must be intact; after the window a goodwill
extension may still accept a resellable item, charging a depreciation fee by its condition. Then freight (who pays),
the refund due date and exchange-before-refund. Pure: `now` and every fact are given.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from kefu.domain.returns.policy import ReturnsPolicy, exemption_for
from kefu.domain.returns.reasons import REASONS
from kefu.domain.returns.rules import CONDITION_TEXTS, RuleHit, check_names, rule

ACCEPT, REFUSE, EXCHANGE = "accept", "refuse", "exchange"
OUTCOMES = (ACCEPT, REFUSE, EXCHANGE)
REFUND_ONLY, RETURN_REFUND, EXCHANGE_KIND = "refund_only", "return_refund", "exchange"
KINDS = (REFUND_ONLY, RETURN_REFUND, EXCHANGE_KIND)
BUYER, SELLER, INSURANCE = "buyer", "seller", "insurance"
CENT = Decimal("0.01")


@dataclass(frozen=True)
class ReturnFacts:
    """What the engine knows about one return request (every time aware, UTC or any zone)."""

    requested_at: datetime
    reason_code: str = "changed_mind"
    kind: str = RETURN_REFUND  # refund_only | return_refund | exchange
    goods_received: bool = True  # False: the buyer never got the goods (BUYER_NOT_RECEIVED)
    signed_at: datetime | None = None
    signed_source: str | None = None  # parcel | order_end
    category: str | None = None
    title: str | None = None
    product_exempt: str | None = None  # the product's own attribute (extra.returns_exempt)
    buyer_confirmed_non_returnable: bool = False
    checklist: Mapping[str, bool] = field(default_factory=dict)  # item → passed; missing = not inspected yet
    condition: str | None = None  # as_new | tried_on | light_wear | damaged
    resellable: bool | None = None
    item_price: Decimal | None = None
    refund_fee: Decimal | None = None
    returned_at: datetime | None = None  # the return arrived at the shop
    prefers_exchange: bool = False
    customer_tier: str | None = None
    free_shipping: bool | None = None  # None: the policy's default
    freight_insurance: bool | None = None  # None: the policy's default


@dataclass(frozen=True)
class ReturnDecision:
    """The engine's answer and every rule behind it."""

    outcome: str  # accept | refuse | exchange
    rules: tuple[RuleHit, ...]
    freight_payer: str | None  # buyer | seller | insurance; None when nothing travels back
    window_ends_at: datetime | None
    goodwill_ends_at: datetime | None
    refund_due_at: datetime | None
    depreciation_fee: Decimal
    refund_amount: Decimal | None
    exemption: str | None
    checklist: tuple[str, ...]  # the intact checks for this category
    failed_checks: tuple[str, ...]
    pending_inspection: bool  # accepted on condition that the return passes the checklist

    @property
    def rule_ids(self) -> tuple[str, ...]:
        return tuple(hit.rule_id for hit in self.rules)

    def to_json(self) -> dict[str, object]:
        return {
            "outcome": self.outcome, "rules": [hit.to_json() for hit in self.rules],
            "freight_payer": self.freight_payer,
            "window_ends_at": _iso(self.window_ends_at), "goodwill_ends_at": _iso(self.goodwill_ends_at),
            "refund_due_at": _iso(self.refund_due_at), "depreciation_fee": str(self.depreciation_fee),
            "refund_amount": None if self.refund_amount is None else str(self.refund_amount),
            "exemption": self.exemption, "checklist": list(self.checklist), "failed_checks": list(self.failed_checks),
            "pending_inspection": self.pending_inspection,
        }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def window_end(signed_at: datetime, days: int, timezone: str) -> datetime:
    """The last moment of the no-reason window: the end of the `days`-th local day after the signing day."""
    zone = ZoneInfo(timezone)
    signing_day = signed_at.astimezone(zone).date()
    return datetime.combine(signing_day + timedelta(days=days + 1), time(0), tzinfo=zone).astimezone(UTC)


def depreciation_fee(policy: ReturnsPolicy, condition: str | None, price: Decimal | None) -> Decimal:
    """The fee a goodwill return pays for its condition: the configured share of the price, at least the minimum."""
    rate = policy.depreciation.get(condition or "as_new", Decimal(0))
    if not rate or price is None or price <= 0:
        return Decimal("0.00")
    fee = max((price * rate).quantize(CENT, ROUND_HALF_UP), policy.depreciation_min_fee)
    return min(fee, price).quantize(CENT)


def decide(facts: ReturnFacts, policy: ReturnsPolicy) -> ReturnDecision:
    """Decide one return request under the policy of its shop and category."""
    return _Decider(facts, policy).run()


class _Decider:
    def __init__(self, facts: ReturnFacts, policy: ReturnsPolicy):
        self.f = facts
        self.p = policy
        self.hits: list[RuleHit] = []
        self.window_ends_at: datetime | None = None
        self.goodwill_ends_at: datetime | None = None
        self.fee = Decimal("0.00")
        self.exemption: str | None = None
        self.failed: tuple[str, ...] = ()
        self.pending = False

    def add(self, rule_id: str, **values: object) -> None:
        self.hits.append(rule(rule_id, **values))

    def run(self) -> ReturnDecision:
        outcome = self._eligibility()
        freight = self._freight(outcome)
        outcome = self._exchange(outcome)
        due = self._refund_due(outcome)
        refund = None
        if outcome == ACCEPT and self.f.refund_fee is not None:
            refund = max(self.f.refund_fee - self.fee, Decimal(0)).quantize(CENT)
        return ReturnDecision(
            outcome=outcome, rules=tuple(self.hits), freight_payer=freight, window_ends_at=self.window_ends_at,
            goodwill_ends_at=self.goodwill_ends_at, refund_due_at=due, depreciation_fee=self.fee,
            refund_amount=refund, exemption=self.exemption, checklist=self.p.checklist, failed_checks=self.failed,
            pending_inspection=self.pending,
        )

    # -- may the goods come back at all
    def _eligibility(self) -> str:
        f, p = self.f, self.p
        reason = REASONS.get(f.reason_code, REASONS["other"])
        if not f.goods_received:
            self.add("returns.not_received")
            return ACCEPT
        if reason.seller_fault:
            self.add("returns.seller_fault", reason_zh=reason.zh, reason_en=reason.en)
            return ACCEPT
        exemption = exemption_for(p, title=f.title, product_exempt=f.product_exempt,
                                  buyer_confirmed=f.buyer_confirmed_non_returnable)
        if exemption is not None:
            code, source = exemption
            self.exemption = code
            self.add(f"returns.exempt.{code}" if code in _EXEMPT_RULES else "returns.exempt.other",
                     source=source, code=code)
            return REFUSE
        signed = f.signed_at
        if signed is None:
            self.add("returns.window.no_signing")
            return self._intact(inside_window=True)
        self.window_ends_at = window_end(signed, p.no_reason_days, p.timezone)
        source_rule = "returns.window.from_parcel" if f.signed_source == "parcel" else "returns.window.from_order_end"
        self.add(source_rule, signed=_local_day(signed, p.timezone))
        if f.requested_at < self.window_ends_at:
            self.add("returns.window.inside", days=p.no_reason_days, ends=_local_day(self.window_ends_at - _TICK, p.timezone))
            return self._intact(inside_window=True)
        self.add("returns.window.passed", days=p.no_reason_days, ends=_local_day(self.window_ends_at - _TICK, p.timezone))
        return self._goodwill()

    def _intact(self, *, inside_window: bool) -> str:
        checks = self.p.checklist
        failed = tuple(item for item in checks if self.f.checklist.get(item) is False)
        self.failed = failed
        if failed:
            zh, en = check_names(failed)
            self.add("returns.intact.failed", checklist=self.p.checklist_name, failed=",".join(failed),
                     failed_zh=zh, failed_en=en)
            return REFUSE
        missing = [item for item in checks if item not in self.f.checklist]
        if missing:
            self.pending = True
            zh, en = check_names(checks)
            self.add("returns.intact.on_receipt", checklist=self.p.checklist_name, items=",".join(checks),
                     items_zh=zh, items_en=en)
        else:
            self.add("returns.intact.passed", checklist=self.p.checklist_name)
        return ACCEPT

    def _goodwill(self) -> str:
        f, p = self.f, self.p
        assert self.window_ends_at is not None
        high_value = f.customer_tier is not None and f.customer_tier in p.high_value_tiers
        extra = p.goodwill_high_value_extra_days if high_value else p.goodwill_extra_days
        if not p.goodwill_enabled or extra <= 0:
            self.add("returns.window.expired", days=p.no_reason_days)
            return REFUSE
        self.goodwill_ends_at = self.window_ends_at + timedelta(days=extra)
        if f.requested_at >= self.goodwill_ends_at:
            self.add("returns.goodwill.expired", days=extra)
            return REFUSE
        if p.goodwill_require_resellable and f.resellable is False:
            self.add("returns.goodwill.not_resellable")
            return REFUSE
        self.add("returns.goodwill.high_value" if high_value else "returns.goodwill.accept", days=extra,
                 tier=f.customer_tier or "")
        if f.resellable is None and p.goodwill_require_resellable:
            self.pending = True
            self.add("returns.goodwill.check_resellable")
        self.fee = depreciation_fee(p, f.condition, f.item_price if f.item_price is not None else f.refund_fee)
        if self.fee > 0:
            zh, en = CONDITION_TEXTS.get(f.condition or "", (f.condition or "", f.condition or ""))
            self.add("returns.goodwill.fee", condition=f.condition or "", condition_zh=zh, condition_en=en,
                     fee=str(self.fee))
        elif f.condition is None:
            self.add("returns.goodwill.fee_on_receipt")
        return ACCEPT

    # -- who pays the postage
    def _freight(self, outcome: str) -> str | None:
        f, p = self.f, self.p
        if outcome == REFUSE or not f.goods_received or f.kind == REFUND_ONLY:
            return None
        if REASONS.get(f.reason_code, REASONS["other"]).seller_fault:
            self.add("returns.freight.seller_fault")
            return SELLER
        insured = p.freight_insurance if f.freight_insurance is None else f.freight_insurance
        if insured:
            self.add("returns.freight.insurance")
            return INSURANCE
        free = p.free_shipping if f.free_shipping is None else f.free_shipping
        self.add("returns.freight.buyer_return" if free else "returns.freight.buyer_both")
        return BUYER

    def _exchange(self, outcome: str) -> str:
        f, p = self.f, self.p
        if outcome != ACCEPT:
            return outcome
        if f.prefers_exchange or f.kind == EXCHANGE_KIND:
            self.add("returns.exchange.buyer_prefers")
            return EXCHANGE
        if p.exchange_first and f.reason_code in ("size_choice", "colour_differs") and f.kind != REFUND_ONLY:
            self.add("returns.exchange.offer")
        return outcome

    def _refund_due(self, outcome: str) -> datetime | None:
        f, p = self.f, self.p
        if outcome != ACCEPT:
            return None
        if not f.goods_received or f.kind == REFUND_ONLY:
            self.add("returns.refund.due_from_request", days=p.refund_due_days)
            return f.requested_at + timedelta(days=p.refund_due_days)
        if f.returned_at is None:
            self.add("returns.refund.after_return", days=p.refund_due_days)
            return None
        self.add("returns.refund.due", days=p.refund_due_days)
        return f.returned_at + timedelta(days=p.refund_due_days)


_TICK = timedelta(microseconds=1)
_EXEMPT_RULES = frozenset({"made_to_order", "perishable", "digital", "newspaper", "periodical", "buyer_confirmed"})


def _local_day(moment: datetime, timezone: str) -> str:
    return moment.astimezone(ZoneInfo(timezone)).date().isoformat()
