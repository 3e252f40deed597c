"""The worker side of the outbox: claim a message with a state transition, hand it to its channel, mark it sent, retry
with backoff, or make it a dead letter; messages claimed by a worker that died are settled by their row's state."""

from __future__ import annotations

import logging
import os
import socket
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from kefu.domain.messaging.provider import provider_template
from kefu.domain.messaging.retry import after_failure
from kefu.domain.messaging.rules import MessagingRules
from kefu.config import SHOP_RULE_DEFAULTS
from kefu.domain.privacy import redact_phones
from kefu.queue.dispatch import defer_deliveries
from kefu.services.message_templates import rules_of
from kefu.services.outbox import DEAD, QUEUED, RETRY, SENDING, SENT, record_decision
from kefu.store.database import Store
from kefu.store.messaging_tables import OutboxMessage
from kefu.store.tables import Customer, Order, Shop

try:
    from kefu.channels.base import Delivery, DeliveryResult
except ImportError:  # pragma: no cover - a seam until kefu.channels lands: the same contract, field for field

    @dataclass(frozen=True)
    class Delivery:  # type: ignore[no-redef]
        message_id: str
        text: str
        to_phone: str | None = None
        to_email: str | None = None
        template_code: str | None = None
        template_params: dict[str, str] = field(default_factory=dict)
        sign_name: str | None = None
        subject: str | None = None
        to_url: str | None = None

    @dataclass(frozen=True)
    class DeliveryResult:  # type: ignore[no-redef]
        ok: bool
        provider_message_id: str | None = None
        retryable: bool = False
        error_code: str | None = None
        error: str | None = None

log = logging.getLogger(__name__)


class SendsDeliveries(Protocol):
    """kefu.channels.Channel: `name` and `send(Delivery) -> DeliveryResult`; optionally `find_sent(message_id)`."""

    name: str

    def send(self, delivery: Any) -> Any: ...


ChannelFor = Callable[[str | None], SendsDeliveries]


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def _now() -> datetime:
    return datetime.now(timezone.utc)


def default_channel_for(settings: Any | None = None) -> ChannelFor:
    """Channels by name built once each through kefu.channels.build_channel; None = the configured default channel."""
    from kefu.config import Settings

    try:
        from kefu.channels import build_channel
    except ImportError:  # pragma: no cover - until kefu.channels lands every message goes to the log only
        def build_channel(name: str, settings: Any) -> SendsDeliveries:
            return LogChannel()

    settings = settings or Settings.from_env()
    default = getattr(getattr(settings, "channels", None), "default", None) or "console"
    built: dict[str, SendsDeliveries] = {}

    def channel_for(name: str | None) -> SendsDeliveries:
        key = name or default
        if key not in built:
            built[key] = build_channel(key, settings)
        return built[key]

    return channel_for


class LogChannel:
    """A dry run used only until kefu.channels is installed: logs the message (phones redacted), sends nothing."""

    name = "console"

    def send(self, delivery: Delivery) -> DeliveryResult:
        log.info("message %s (dry run): %s", delivery.message_id, redact_phones(delivery.text))
        return DeliveryResult(True, provider_message_id=f"console-{delivery.message_id}")


@dataclass
class DeliveryCounts:
    sent: int = 0
    retried: int = 0
    dead: int = 0
    skipped: int = 0
    recovered: int = 0
    errors: list[str] = field(default_factory=list)

    def add(self, outcome: str) -> None:
        setattr(self, outcome, getattr(self, outcome) + 1)

    def to_json(self) -> dict[str, Any]:
        return {"sent": self.sent, "retried": self.retried, "dead": self.dead, "skipped": self.skipped,
                "recovered": self.recovered, "errors": self.errors}


DEFAULT_LEASE_SECONDS = float(SHOP_RULE_DEFAULTS["messaging"]["lease_seconds"])
WORKER_RULES_TTL_SECONDS = 30.0  # a worker re-reads a shop's messaging rules this often
_rules_cache: dict[str, tuple[float, MessagingRules]] = {}


def cached_rules(session: Session, shop_id: str, ttl_seconds: float = 0.0) -> MessagingRules:
    """The shop's messaging rules, read at most every `ttl_seconds` in this process (0: every time)."""
    hit = _rules_cache.get(shop_id) if ttl_seconds > 0 else None
    if hit is not None and time.monotonic() - hit[0] < ttl_seconds:
        return hit[1]
    rules = rules_of(session.get(Shop, shop_id))
    _rules_cache[shop_id] = (time.monotonic(), rules)
    return rules


@dataclass(frozen=True)
class Claimed:
    """The fields of a claimed message that sending and recording need."""

    id: str
    shop_id: str
    customer_id: str | None
    order_id: str | None
    channel: str | None
    template_key: str | None
    variables: dict[str, Any] | None
    text: str
    attempts: int


_CLAIMED_COLUMNS = (OutboxMessage.id, OutboxMessage.shop_id, OutboxMessage.customer_id, OutboxMessage.order_id,
                    OutboxMessage.channel, OutboxMessage.template_key, OutboxMessage.variables, OutboxMessage.text,
                    OutboxMessage.attempts)


def claim(session: Session, message_id: str, *, now: datetime, worker: str,
          lease_seconds: float = DEFAULT_LEASE_SECONDS) -> Claimed | None:
    """queued/retry → sending, only when due; the row's state decides who may send it (at most one worker).
    The claimed message, or None when it was not due, already sent or taken."""
    row = session.connection().execute(
        update(OutboxMessage)
        .where(OutboxMessage.id == message_id, OutboxMessage.status.in_((QUEUED, RETRY)),
               or_(OutboxMessage.next_attempt_at.is_(None), OutboxMessage.next_attempt_at <= now))
        .values(status=SENDING, claimed_by=worker, claimed_until=now + timedelta(seconds=lease_seconds),
                attempts=OutboxMessage.attempts + 1, updated_at=now)
        .returning(*_CLAIMED_COLUMNS)
    ).first()
    return Claimed(*row) if row is not None else None


def _delivery(session: Session, claimed: Claimed, channel_name: str, rules: MessagingRules) -> Delivery:
    phone = email = None
    if claimed.customer_id or claimed.order_id:
        found = session.execute(
            select(Customer.phone, Customer.email, Order.receiver_phone)
            .select_from(OutboxMessage)
            .outerjoin(Customer, Customer.id == OutboxMessage.customer_id)
            .outerjoin(Order, Order.id == OutboxMessage.order_id)
            .where(OutboxMessage.id == claimed.id)).first()
        if found is not None:
            phone, email = found[0] or found[2], found[1]
    mapped = provider_template(rules.provider_templates, channel_name, claimed.template_key, claimed.variables or {})
    return Delivery(message_id=claimed.id, text=claimed.text, to_phone=phone, to_email=email,
                    template_code=mapped.code, template_params=mapped.params, sign_name=rules.sign_name)


def _finish(session: Session, claimed: Claimed, result: Any, *, worker: str, now: datetime,
            rules: MessagingRules) -> str:
    """Record how the send ended, only while this worker still holds the claim; the outcome word."""
    still_mine = and_(OutboxMessage.id == claimed.id, OutboxMessage.status == SENDING,
                      OutboxMessage.claimed_by == worker)
    if result.ok:
        values: dict[str, Any] = {"status": SENT, "sent_at": now, "provider_message_id": result.provider_message_id,
                                  "claimed_until": None, "last_error": None, "reason": None}
        outcome, decision = "sent", "sent"
    else:
        error = redact_phones(f"{result.error_code or 'error'}: {result.error or ''}")
        state, when = after_failure(claimed.attempts, retryable=bool(result.retryable),
                                    max_attempts=rules.max_attempts, now=now, base_seconds=rules.retry_base_seconds,
                                    max_seconds=rules.retry_max_seconds)
        values = {"status": state, "next_attempt_at": when, "claimed_until": None, "last_error": error,
                  "reason": result.error_code or "error"}
        outcome, decision = ("retried", "retry") if state == RETRY else ("dead", "dead")
    values["updated_at"] = now
    changed = session.connection().execute(update(OutboxMessage).where(still_mine).values(**values)).rowcount
    if not changed:
        log.warning("message %s was settled by someone else while it was being sent", claimed.id)
        return "skipped"
    if result.ok:
        detail = f"provider id {result.provider_message_id}" if result.provider_message_id else None
    else:
        detail = values["last_error"]
    record_decision(session, claimed, decision, at=now, reason=None if result.ok else result.error_code,
                    detail=detail, actor=worker)
    if outcome == "retried":
        defer_deliveries(session, [claimed.id], run_at=values["next_attempt_at"])
    return outcome


def _send(channel: SendsDeliveries, delivery: Any) -> Any:
    try:
        return channel.send(delivery)
    except Exception as exc:  # a channel must not raise; if one does, the attempt failed and may be retried
        log.exception("channel %s raised while sending %s", getattr(channel, "name", "?"), delivery.message_id)
        return DeliveryResult(False, retryable=True, error_code="channel_error", error=type(exc).__name__)


def deliver_one(store: Store, message_id: str, *, channel_for: ChannelFor, worker: str | None = None,
                now: Callable[[], datetime] = _now, lease_seconds: float = DEFAULT_LEASE_SECONDS,
                rules_ttl_seconds: float = 0.0) -> str:
    """Deliver one message: claim it (commit), send, record the outcome (commit). The outcome word: sent, retried,
    dead or skipped (not due, already sent, or claimed by another worker). A crash between the two commits leaves the
    row `sending` for `recover_stale` to settle once the lease is over."""
    worker = worker or worker_name()
    with store.session() as session:
        claimed = claim(session, message_id, now=now(), worker=worker, lease_seconds=lease_seconds)
        if claimed is None:
            return "skipped"
        rules = cached_rules(session, claimed.shop_id, rules_ttl_seconds)
        channel = channel_for(claimed.channel)
        delivery = _delivery(session, claimed, channel.name, rules)
    result = _send(channel, delivery)
    with store.session() as session:
        return _finish(session, claimed, result, worker=worker, now=now(), rules=rules)


def due_message_ids(session: Session, *, now: datetime, limit: int, shop_id: str | None = None) -> list[str]:
    query = (select(OutboxMessage.id)
             .where(OutboxMessage.status.in_((QUEUED, RETRY)), OutboxMessage.next_attempt_at <= now)
             .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit))
    if shop_id:
        query = query.where(OutboxMessage.shop_id == shop_id)
    return list(session.scalars(query))


def recover_stale(store: Store, *, channel_for: ChannelFor, now: datetime | None = None) -> int:
    """Messages left `sending` by a worker that died (lease over): asked of the channel when it can say whether it
    sent them (`find_sent`) — sent, or queued again; a channel that cannot say makes them dead letters for a person
    to check, never sent a second time blindly. How many were settled."""
    now = now or _now()
    settled = 0
    with store.session() as session:
        stale = list(session.scalars(select(OutboxMessage).where(
            OutboxMessage.status == SENDING, OutboxMessage.claimed_until < now).limit(500)))
        for row in stale:
            channel = channel_for(row.channel)
            find_sent = getattr(channel, "find_sent", None)
            provider_id = find_sent(row.id) if callable(find_sent) else None
            if provider_id:
                values: dict[str, Any] = {"status": SENT, "sent_at": now, "provider_message_id": provider_id}
                decision, reason = "sent", "found_after_crash"
            elif callable(find_sent):
                values = {"status": RETRY, "next_attempt_at": now}
                decision, reason = "retry", "not_sent_before_crash"
            else:
                values = {"status": DEAD, "last_error": "worker stopped while sending; the channel cannot say if it sent"}
                decision, reason = "dead", "unknown_after_crash"
            values.update(claimed_until=None, updated_at=now, reason=reason if decision != "sent" else None)
            changed = session.execute(update(OutboxMessage).where(
                OutboxMessage.id == row.id, OutboxMessage.status == SENDING, OutboxMessage.claimed_until < now,
            ).values(**values).execution_options(synchronize_session=False)).rowcount
            if changed:
                settled += 1
                record_decision(session, row, decision, at=now, reason=reason, actor="recovery")
                if decision == "retry":
                    defer_deliveries(session, [row.id])
    return settled


def deliver_due(store: Store, *, channel_for: ChannelFor, limit: int = 500, shop_id: str | None = None,
                now: Callable[[], datetime] = _now, worker: str | None = None) -> DeliveryCounts:
    """One pass of the in-process deliverer (SQLite, `kefu messages deliver`): settle stale claims, then deliver every
    due message, oldest first (safe next to procrastinate workers: each row is claimed before it is sent)."""
    counts = DeliveryCounts()
    counts.recovered = recover_stale(store, channel_for=channel_for, now=now())
    with store.session() as session:
        ids = due_message_ids(session, now=now(), limit=limit, shop_id=shop_id)
    for message_id in ids:
        try:
            counts.add(deliver_one(store, message_id, channel_for=channel_for, worker=worker, now=now))
        except Exception as exc:  # one broken row never stops the others
            log.exception("delivering message %s failed", message_id)
            counts.errors.append(f"{message_id}: {type(exc).__name__}: {exc}")
    return counts


def retry_dead(session: Session, message_id: str, *, actor: str | None, now: datetime) -> bool:
    """A dead letter queued again by a person (the workbench's retry button): attempts start over."""
    changed = session.execute(update(OutboxMessage).where(OutboxMessage.id == message_id, OutboxMessage.status == DEAD)
                              .values(status=QUEUED, attempts=0, next_attempt_at=now, reason=None, updated_at=now)
                              .execution_options(synchronize_session=False)).rowcount
    if not changed:
        return False
    row = session.get(OutboxMessage, message_id)
    session.refresh(row)
    record_decision(session, row, "retried", at=now, actor=actor)
    defer_deliveries(session, [message_id])
    return True
