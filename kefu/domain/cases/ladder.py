"""The settlement ladder: every proposed resolution placed on five tiers from its cost and the buyer's acceptance.

1 the buyer is satisfied and we still earn (the resolution costs nothing); 2 we earn less, buyer satisfied (the cost
stays within the order's margin); 3 we lose a little, buyer satisfied (a loss up to the configured share of the paid
amount); 4 we earn, buyer unsatisfied; 5 we lose, buyer unsatisfied. A satisfied buyer at a loss beyond "a little" is
tier 3 but beyond policy. Tiers in the policy's approval set, and anything beyond policy, need the owner's approval.
Acceptance not stated yet is placed as if accepted and marked provisional.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import TypeVar

from kefu.domain.cases.policy import CasePolicy

YES, NO, UNKNOWN = "yes", "no", "unknown"
ACCEPTANCE = (YES, NO, UNKNOWN)
TIERS = (1, 2, 3, 4, 5)
OFFER_KINDS = ("apology", "exchange", "reship", "partial_refund", "refund", "coupon", "gift", "other")


@dataclass(frozen=True)
class Placement:
    """Where one resolution sits on the ladder and why."""

    tier: int
    margin: Decimal  # what the order earns before this resolution
    net: Decimal  # margin minus the resolution's cost
    beyond_policy: bool  # a loss larger than "a little"
    needs_approval: bool
    provisional: bool  # the buyer has not said yet
    reason: str


def order_margin(paid: Decimal | None, policy: CasePolicy, margin: Decimal | None = None) -> Decimal:
    """The order's margin: the shop's own figure when known, else the configured share of the paid amount."""
    if margin is not None:
        return margin
    return ((paid or Decimal("0")) * policy.margin_share).quantize(Decimal("0.01"))


def place(cost: Decimal, acceptance: str, *, paid: Decimal | None, policy: CasePolicy,
          margin: Decimal | None = None) -> Placement:
    """Place a resolution costing `cost` (yuan; negative = the buyer pays more, e.g. an upgrade) on the ladder."""
    if acceptance not in ACCEPTANCE:
        raise ValueError(f"buyer acceptance must be one of {ACCEPTANCE}, not {acceptance!r}")
    cost = Decimal(cost)
    earned = order_margin(paid, policy, margin)
    net = earned - cost
    little = ((paid or Decimal("0")) * policy.a_little_share).quantize(Decimal("0.01"))
    beyond = False
    if acceptance == NO:
        tier = 4 if net >= 0 else 5
        reason = "买家不满意, 仍盈利 / buyer unsatisfied, we still earn" if tier == 4 else \
            "买家不满意, 亏损 / buyer unsatisfied, we lose"
    elif cost <= 0:
        tier, reason = 1, "买家满意, 我们赚 / buyer satisfied, we earn"
    elif net >= 0:
        tier, reason = 2, "买家满意, 少赚 / buyer satisfied, we earn less"
    else:
        tier = 3
        beyond = -net > little
        reason = ("买家满意, 亏损超出小额 / buyer satisfied, loss beyond a little" if beyond
                  else "买家满意, 小亏 / buyer satisfied, we lose a little")
    return Placement(tier=tier, margin=earned, net=net, beyond_policy=beyond,
                     needs_approval=beyond or tier in policy.approval_tiers, provisional=acceptance == UNKNOWN,
                     reason=reason)


_ACCEPT_ORDER = {YES: 0, UNKNOWN: 1, NO: 2}
T = TypeVar("T")


def satisfaction_first_key(acceptance: str, tier: int, cost: Decimal) -> tuple[int, int, Decimal]:
    """Sort key putting the buyer's satisfaction first: accepted, then not yet said, then refused; then tier; then cost."""
    return (_ACCEPT_ORDER.get(acceptance, 1), tier, Decimal(cost))


def sort_options(options: Iterable[T], key) -> list[T]:
    """Options in satisfaction-first order; `key(option)` gives (acceptance, tier, cost)."""
    return sorted(options, key=lambda option: satisfaction_first_key(*key(option)))
