"""The shop's messaging rules read from configuration (look-back, voice, quiet hours, caps, retries, provider codes)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import time
from typing import Any, Mapping

PURPOSES = ("transactional", "marketing", "service")
VOICES = ("plain", "playful")


class RulesProblem(ValueError):
    """A messaging setting that cannot be read; the message names the field."""


def _clock(value: Any, name: str) -> time:
    try:
        hour, minute = str(value).strip().split(":")
        return time(int(hour), int(minute))
    except (ValueError, TypeError):
        raise RulesProblem(f"messaging.{name}: 时间格式应为 HH:MM / expected HH:MM, got {value!r}") from None


@dataclass(frozen=True)
class MessagingRules:
    """Everything the outbox and the lifecycle sweep decide with, for one shop."""

    timezone: str = "Asia/Shanghai"
    lookback_hours: float = 48
    voice: str = "plain"
    persona_name: str = "小蜜"
    form_of_address: str = "主人"
    quiet_start: time = time(21, 0)
    quiet_end: time = time(8, 0)
    quiet_purposes: tuple[str, ...] = ("transactional", "marketing")
    daily_cap: Mapping[str, int] = field(default_factory=lambda: {"transactional": 4, "marketing": 1})
    review_invite_days: float = 3
    opt_out_scope: str = "marketing"  # marketing | all (an opt-out also stops transactional notices)
    events: Mapping[str, bool] = field(default_factory=dict)  # an event set to False is never messaged
    max_attempts: int = 5
    retry_base_seconds: float = 30
    retry_max_seconds: float = 3600
    lease_seconds: float = 120
    sign_name: str | None = None
    provider_templates: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    def event_enabled(self, event: str) -> bool:
        return bool(self.events.get(event, True))


def messaging_rules(rules: Mapping[str, Any]) -> MessagingRules:
    """The messaging rules from a shop's merged rules (`shop_rules(...)`), with a clear error naming a bad field."""
    m = dict(rules.get("messaging") or {})
    quiet = m.get("quiet_hours") or {}
    voice = str(m.get("voice", "plain"))
    if voice not in VOICES:
        raise RulesProblem(f"messaging.voice: 应为 {'/'.join(VOICES)} / expected one of {VOICES}, got {voice!r}")
    try:
        caps = {str(k): int(v) for k, v in (m.get("daily_cap") or {}).items()}
        numbers = {name: float(m[name]) for name in ("lookback_hours", "review_invite_days", "retry_base_seconds",
                                                        "retry_max_seconds", "lease_seconds") if name in m}
        max_attempts = int(m.get("max_attempts", 5))
    except (TypeError, ValueError) as exc:
        raise RulesProblem(f"messaging: 数字设置无法读取 / a number cannot be read: {exc}") from None
    return MessagingRules(
        timezone=str(rules.get("timezone") or "Asia/Shanghai"),
        voice=voice,
        persona_name=str(m.get("persona_name") or "小蜜"),
        form_of_address=str(m.get("form_of_address") or "亲"),
        quiet_start=_clock(quiet.get("start", "21:00"), "quiet_hours.start"),
        quiet_end=_clock(quiet.get("end", "08:00"), "quiet_hours.end"),
        quiet_purposes=tuple(m.get("quiet_purposes") or ()),
        daily_cap=caps,
        opt_out_scope=str(m.get("opt_out_scope") or "marketing"),
        events={str(k): bool(v) for k, v in (m.get("events") or {}).items()},
        max_attempts=max(1, max_attempts),
        sign_name=m.get("sign_name") or None,
        provider_templates=m.get("provider_templates") or {},
        **numbers,
    )
