"""Whether a message goes out now, waits for the end of quiet hours, or is suppressed, and why (pure)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta, time
from zoneinfo import ZoneInfo

from kefu.domain.messaging.rules import MessagingRules

SEND, DEFER, SUPPRESS = "send", "defer", "suppress"


@dataclass(frozen=True)
class Recipient:
    """What the policy knows about the buyer at the moment of queueing."""

    marketing_consent: bool
    opted_out: str | None  # None, "marketing" or "all": the scope of a recorded opt-out
    queued_today: int  # this purpose's messages to this buyer already queued or sent today (shop time)


@dataclass(frozen=True)
class Decision:
    action: str  # send | defer | suppress
    reason: str | None = None  # no_consent | opted_out | daily_cap | quiet_hours | event_off
    not_before: datetime | None = None  # UTC, for a deferred message


def in_quiet_hours(local: time, start: time, end: time) -> bool:
    """Whether a local clock time falls in the quiet window [start, end), which may run over midnight."""
    if start == end:
        return False
    if start < end:
        return start <= local < end
    return local >= start or local < end


def quiet_hours_end(now: datetime, rules: MessagingRules) -> datetime:
    """The UTC moment quiet hours that hold at `now` end (the next local `quiet_end`)."""
    zone = ZoneInfo(rules.timezone)
    local = now.astimezone(zone)
    end = local.replace(hour=rules.quiet_end.hour, minute=rules.quiet_end.minute, second=0, microsecond=0)
    if end <= local:
        end += timedelta(days=1)
    return end.astimezone(ZoneInfo("UTC"))


def local_day_start(now: datetime, timezone: str) -> datetime:
    """The UTC moment the shop's current local day began (for the daily cap)."""
    local = now.astimezone(ZoneInfo(timezone))
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(ZoneInfo("UTC"))


def decide(*, purpose: str, event: str, recipient: Recipient, rules: MessagingRules, now: datetime) -> Decision:
    """The sending decision. Service replies (the buyer wrote first) are never held; marketing needs consent; an opt-out
    stops marketing (or everything with scope "all"); the daily cap per purpose; quiet hours defer to the window's end."""
    if purpose == "service":
        return Decision(SEND)
    if not rules.event_enabled(event):
        return Decision(SUPPRESS, "event_off")
    if purpose == "marketing" and not recipient.marketing_consent:
        return Decision(SUPPRESS, "no_consent")
    if recipient.opted_out == "all" or (recipient.opted_out and purpose == "marketing"):
        return Decision(SUPPRESS, "opted_out")
    cap = rules.daily_cap.get(purpose)
    if cap is not None and recipient.queued_today >= cap:
        return Decision(SUPPRESS, "daily_cap")
    local = now.astimezone(ZoneInfo(rules.timezone)).time()
    if purpose in rules.quiet_purposes and in_quiet_hours(local, rules.quiet_start, rules.quiet_end):
        return Decision(DEFER, "quiet_hours", quiet_hours_end(now, rules))
    return Decision(SEND)
