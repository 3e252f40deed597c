"""Carrier-independent parcel tracking: states that only move forward, de-duplicated track events, push updates."""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from functools import cached_property
from zoneinfo import ZoneInfo

from kefu.domain.clock_text import read_moment
from kefu.domain.privacy import redact_phones

BEIJING = ZoneInfo("Asia/Shanghai")  # carriers report local Beijing time without an offset


class ParcelState(StrEnum):
    """Where a parcel is, in kefu's words; every carrier's codes map onto these."""

    UNKNOWN = "unknown"
    AWAITING_PICKUP = "awaiting_pickup"
    COLLECTED = "collected"
    IN_TRANSIT = "in_transit"
    CUSTOMS = "customs"
    TRANSFERRED = "transferred"  # handed to another carrier or forwarded to a new address
    OUT_FOR_DELIVERY = "out_for_delivery"
    AT_PICKUP_POINT = "at_pickup_point"  # in a parcel locker or 驿站, waiting for the buyer
    PROBLEM = "problem"
    REJECTED = "rejected"
    RETURNING = "returning"
    SIGNED = "signed"
    RETURN_SIGNED = "return_signed"

    @property
    def rank(self) -> int:
        """How far along the parcel is; a push never lowers it (see advance)."""
        return _RANK[self]

    @property
    def is_terminal(self) -> bool:
        """The delivery attempt is over: signed for, rejected, or signed back by the sender."""
        return self in TERMINAL_STATES

    @property
    def needs_attention(self) -> bool:
        """A state the seller should look at: a problem, a rejection or a parcel on its way back."""
        return self in ATTENTION_STATES


_RANK: dict[ParcelState, int] = {
    ParcelState.UNKNOWN: 0,
    ParcelState.AWAITING_PICKUP: 10,
    ParcelState.COLLECTED: 20,
    # Peers: a parcel can pass customs, change carrier and travel on in any order.
    ParcelState.IN_TRANSIT: 30,
    ParcelState.CUSTOMS: 30,
    ParcelState.TRANSFERRED: 30,
    ParcelState.OUT_FOR_DELIVERY: 40,
    ParcelState.AT_PICKUP_POINT: 50,
    # A problem beats every forward state short of signing, and stays until the parcel is signed, rejected or returned.
    ParcelState.PROBLEM: 55,
    ParcelState.REJECTED: 60,
    ParcelState.RETURNING: 70,
    ParcelState.SIGNED: 80,
    ParcelState.RETURN_SIGNED: 90,
}

TERMINAL_STATES = frozenset({ParcelState.SIGNED, ParcelState.REJECTED, ParcelState.RETURN_SIGNED})
ATTENTION_STATES = frozenset({ParcelState.PROBLEM, ParcelState.REJECTED, ParcelState.RETURNING})


def advance(current: ParcelState, incoming: ParcelState) -> ParcelState:
    """The parcel's state once a push reporting `incoming` arrives; never lower in rank than `current`.

    Pushes arrive late and out of order, so a stale report cannot move a parcel back; among peers of equal rank the
    latest report wins. A signed report for a parcel already on its way back is the sender signing for the return.
    """
    if incoming is ParcelState.SIGNED and current is ParcelState.RETURNING:
        return ParcelState.RETURN_SIGNED
    return incoming if incoming.rank >= current.rank else current


class SubscriptionStatus(StrEnum):
    """What the tracking service says about its watch on the parcel (Kuaidi100's push `status`)."""

    POLLING = "polling"  # still watching
    SHUTDOWN = "shutdown"  # finished, usually because the parcel was signed for
    ABORT = "abort"  # gave up (no track for days, or a corrected carrier code); subscribe again after checking
    UPDATEALL = "updateall"  # the whole track pushed again


class PushRejected(ValueError):
    """A carrier push kefu cannot read; `field` names the part that is wrong."""

    def __init__(self, field: str, problem: str):
        super().__init__(f"{field} {problem}")
        self.field = field
        self.problem = problem


_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M")


def parse_beijing_time(text: str) -> datetime:
    """A carrier's `yyyy-MM-dd HH:mm:ss` Beijing time (or one with its own offset) as an aware UTC time."""
    moment = read_moment(text, _TIME_FORMATS)
    if moment is None:
        raise ValueError(f"'{text.strip()}' is not a date and time")
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BEIJING)
    return moment.astimezone(UTC)


_WHITESPACE = re.compile(r"\s+")


def normalized_description(text: str) -> str:
    """Track text compared loosely: full-width forms folded (NFKC) and all whitespace dropped."""
    return _WHITESPACE.sub("", unicodedata.normalize("NFKC", text))


@dataclass(frozen=True)
class TrackingEvent:
    """One line of a parcel's track; the description never holds a courier's phone number."""

    carrier_code: str
    waybill_no: str
    at: datetime  # aware; stored in UTC
    state: ParcelState
    raw_state: str  # the carrier's own code or word, kept for later re-mapping
    description: str
    location: str | None = None
    area_code: str | None = None

    def __post_init__(self) -> None:
        if self.at.tzinfo is None or self.at.utcoffset() is None:
            raise ValueError("TrackingEvent.at must be an aware datetime")
        object.__setattr__(self, "at", self.at.astimezone(UTC))
        object.__setattr__(self, "description", redact_phones(self.description) or "")

    @cached_property  # computed once per line: a remembered line (kefu.ingest.kuaidi100) comes back in later pushes
    def dedupe_key(self) -> str:
        """The same for every push of this line: carrier, waybill, time to the second and the description, loosely."""
        parts = (
            self.carrier_code.strip().lower(),
            self.waybill_no.strip().upper(),
            self.at.replace(microsecond=0, tzinfo=None).isoformat() + "Z",  # at is UTC; isoformat is 5× strftime
            normalized_description(self.description),
        )
        return hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class TrackingUpdate:
    """What one push says about one parcel: its current state, its track newest-first, and any carrier correction."""

    carrier_code: str  # kefu's canonical (Kuaidi100) code
    waybill_no: str
    state: ParcelState
    raw_state: str
    is_terminal: bool
    events: tuple[TrackingEvent, ...] = ()  # newest first
    subscription: SubscriptionStatus | None = None
    message: str | None = None  # why a watch was aborted, or the carrier's failure reason; phones redacted
    carrier_corrected: bool = False  # this push already uses a corrected carrier code
    old_carrier_code: str | None = None
    new_carrier_code: str | None = None

    @property
    def latest_event(self) -> TrackingEvent | None:
        return self.events[0] if self.events else None

    @property
    def carrier_changed(self) -> bool:
        """The tracking service found the waybill under another carrier than the one it was watched under."""
        return bool(self.new_carrier_code) and self.new_carrier_code != (self.old_carrier_code or self.carrier_code)

    @property
    def needs_resubscribe(self) -> bool:
        """The service stopped watching before the parcel arrived; check carrier and number, then subscribe again."""
        return self.subscription is SubscriptionStatus.ABORT and not self.is_terminal


def newest_first(events: Iterable[TrackingEvent]) -> list[TrackingEvent]:
    """Events sorted newest first; events at the same moment keep their given order."""
    return sorted(events, key=lambda event: event.at, reverse=True)


def merge_events(existing: Iterable[TrackingEvent | str], incoming: Iterable[TrackingEvent]) -> list[TrackingEvent]:
    """The incoming events not yet known (by dedupe key), newest first; `existing` holds stored events or their keys."""
    known = {item if isinstance(item, str) else item.dedupe_key for item in existing}
    fresh: list[TrackingEvent] = []
    for event in incoming:
        key = event.dedupe_key
        if key not in known:
            known.add(key)
            fresh.append(event)
    return newest_first(fresh)


def json_object(raw: str, field: str) -> dict:
    """A push body's JSON object; PushRejected names the field when it is not JSON or not an object."""
    try:
        payload = json.loads(raw)
    except (TypeError, ValueError):
        raise PushRejected(field, "is not JSON") from None
    if not isinstance(payload, dict):
        raise PushRejected(field, "is not a JSON object")
    return payload
