"""The shop's numbers for complaint cases (SLA hours, ladder shares, when to call), read from its configuration."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from kefu.config import SHOP_RULE_DEFAULTS
from kefu.domain.cases.steps import WORKING_STEPS


class CasePolicyError(ValueError):
    """A configured number for cases is missing or out of range; the message names the field."""


@dataclass(frozen=True)
class CasePolicy:
    """What a shop allows: hours per step, what counts as margin and as "a little" loss, who must approve."""

    sla_hours: Mapping[str, float] = field(default_factory=dict)
    sla_warning_share: float = 0.25
    margin_share: Decimal = Decimal("0.30")
    a_little_share: Decimal = Decimal("0.10")
    approval_tiers: frozenset[int] = frozenset({4, 5})
    call_anger: float = 0.7
    call_severities: frozenset[str] = frozenset({"high", "critical"})
    severity_amounts: Mapping[str, Decimal] = field(default_factory=dict)


def _share(raw: Any, name: str) -> Decimal:
    try:
        value = Decimal(str(raw))
    except (InvalidOperation, ValueError):
        raise CasePolicyError(f"cases.{name}: not a number: {raw!r}") from None
    if not Decimal("0") <= value <= Decimal("1"):
        raise CasePolicyError(f"cases.{name}: must be between 0 and 1, not {raw!r}")
    return value


def _number(raw: Any, name: str) -> float:
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise CasePolicyError(f"cases.{name}: not a number: {raw!r}") from None
    if value < 0:
        raise CasePolicyError(f"cases.{name}: must not be negative, not {raw!r}")
    return value


def case_policy(shop: Mapping[str, Any] | None) -> CasePolicy:
    """The case policy of a shop's merged rules (`shop_rules(...)`); a missing key falls back to the default."""
    defaults = SHOP_RULE_DEFAULTS["cases"]
    conf = {**defaults, **((shop or {}).get("cases") or {})}
    hours = {**defaults["sla_hours"], **(conf.get("sla_hours") or {})}
    unknown = set(hours) - set(WORKING_STEPS)
    if unknown:
        raise CasePolicyError(f"cases.sla_hours: unknown step(s) {sorted(unknown)}; steps are {list(WORKING_STEPS)}")
    tiers = frozenset(int(t) for t in conf.get("approval_tiers") or ())
    if not tiers <= {1, 2, 3, 4, 5}:
        raise CasePolicyError(f"cases.approval_tiers: tiers are 1–5, not {sorted(tiers)}")
    amounts = {**defaults["severity_amounts"], **(conf.get("severity_amounts") or {})}
    return CasePolicy(
        sla_hours={step: _number(value, f"sla_hours.{step}") for step, value in hours.items()},
        sla_warning_share=float(_share(conf["sla_warning_share"], "sla_warning_share")),
        margin_share=_share(conf["margin_share"], "margin_share"),
        a_little_share=_share(conf["a_little_share"], "a_little_share"),
        approval_tiers=tiers,
        call_anger=float(_share(conf["call_anger"], "call_anger")),
        call_severities=frozenset(conf.get("call_severities") or ()),
        severity_amounts={k: Decimal(str(_number(v, f"severity_amounts.{k}"))) for k, v in amounts.items()},
    )
