"""The worker side of the outbox: claim a batch of due messages with one state transition (recipients included), send
them side by side within the claim's lease, record sent / retry with backoff / dead letter at once; messages claimed by
a worker that died are settled by their row's state and the provider's receipt lookup."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Any, Protocol

from sqlalchemy import func, or_, select, text, update
from sqlalchemy.orm import Session

from kefu.domain.messaging.provider import provider_template
from kefu.domain.messaging.rules import MessagingRules
from kefu.config import SHOP_RULE_DEFAULTS
from kefu.domain.privacy import redact_phones
from kefu.queue.dispatch import wake_workers
from kefu.services.message_templates import rules_of
from kefu.services.delivery_outcomes import NOT_SENT, OUTCOME_WORDS, outcome_of, record_outcomes
from kefu.services.outbox import DEAD, QUEUED, RETRY, SENDING, SENT, record_decision
from kefu.store.database import Store
from kefu.store.messaging_tables import OutboxMessage
from kefu.store.tables import Customer, Order, Shop

from kefu.channels.base import Delivery, DeliveryResult  # noqa: F401 - callers import them from here too

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
    """Channels by name built once each through kefu.channels.build_channel, the HTTP ones sharing one pool of
    kept-alive connections; None = the configured default channel."""
    from kefu.config import Settings

    try:
        from kefu.channels import build_channel
        from kefu.channels.keepalive import keep_alive_client
    except ImportError:  # pragma: no cover - until kefu.channels lands every message goes to the log only
        def build_channel(name: str, settings: Any, **_: Any) -> SendsDeliveries:
            return LogChannel()

        def keep_alive_client(timeout: float) -> Any:
            return None

    settings = settings or Settings.from_env()
    channels = getattr(settings, "channels", None)
    default = getattr(channels, "default", None) or "console"
    built: dict[str, SendsDeliveries] = {}
    http: list[Any] = []

    def channel_for(name: str | None) -> SendsDeliveries:
        key = name or default
        if key not in built:
            if not http:
                http.append(keep_alive_client(float(getattr(channels, "timeout_seconds", 10.0) or 10.0)))
            built[key] = build_channel(key, settings, http=http[0])
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
    channel: str | None
    template_key: str | None
    variables: dict[str, Any] | None
    text: str
    attempts: int
    phone: str | None = None  # the buyer's, else the order's receiver's
    email: str | None = None


# The recipient comes back with the claim (correlated subqueries in RETURNING, on both stores): no second query.
_PHONE = func.coalesce(
    select(func.nullif(Customer.phone, "")).where(Customer.id == OutboxMessage.customer_id)
    .correlate(OutboxMessage).scalar_subquery(),
    select(Order.receiver_phone).where(Order.id == OutboxMessage.order_id).correlate(OutboxMessage).scalar_subquery())
_EMAIL = (select(Customer.email).where(Customer.id == OutboxMessage.customer_id).correlate(OutboxMessage)
          .scalar_subquery())
_CLAIMED_COLUMNS = (OutboxMessage.id, OutboxMessage.shop_id, OutboxMessage.channel, OutboxMessage.template_key,
                    OutboxMessage.variables, OutboxMessage.text, OutboxMessage.attempts, _PHONE, _EMAIL)


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


def _send(channel: SendsDeliveries, delivery: Any) -> Any:
    try:
        return channel.send(delivery)
    except Exception as exc:  # a channel must not raise; if one does, the attempt failed and may be retried
        log.exception("channel %s raised while sending %s", getattr(channel, "name", "?"), delivery.message_id)
        return DeliveryResult(False, retryable=True, error_code="channel_error", error=type(exc).__name__)


BATCH_SIZE = 200  # messages one delivery job claims and sends at once
SEND_THREADS = 16  # sends in flight at once per process, by default (`kefu messages worker --sends`)
_senders: tuple[ThreadPoolExecutor, int] | None = None


def use_send_threads(count: int) -> None:
    """Size this process's sender threads: more for a provider that answers slowly, fewer for a fast one (then
    threads only contend for the interpreter)."""
    global _senders
    count = max(1, count)
    previous, _senders = _senders, (ThreadPoolExecutor(max_workers=count, thread_name_prefix="kefu-send"), count)
    if previous is not None:
        previous[0].shutdown(wait=False)


def _sender_pool() -> tuple[ThreadPoolExecutor, int]:
    if _senders is None:
        use_send_threads(SEND_THREADS)
    assert _senders is not None
    return _senders


def claim_batch(session: Session, *, now: datetime, worker: str, limit: int,
                lease_seconds: float = DEFAULT_LEASE_SECONDS, shop_id: str | None = None) -> list[Claimed]:
    """Claim up to `limit` due messages at once (queued/retry → sending); rows another worker holds are skipped."""
    due = (select(OutboxMessage.id)
           .where(OutboxMessage.status.in_((QUEUED, RETRY)), OutboxMessage.next_attempt_at <= now)
           .limit(limit).with_for_update(skip_locked=True))
    if shop_id:
        due = due.where(OutboxMessage.shop_id == shop_id)
    rows = session.connection().execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(due.scalar_subquery()), OutboxMessage.status.in_((QUEUED, RETRY)))
        .values(status=SENDING, claimed_by=worker, claimed_until=now + timedelta(seconds=lease_seconds),
                attempts=OutboxMessage.attempts + 1, updated_at=now)
        .returning(*_CLAIMED_COLUMNS)
    ).all()
    return [Claimed(*row) for row in rows]


@dataclass
class _Prepared:
    """A claimed batch ready to send: each message's channel and delivery, and the rules of its shop."""

    batch: list[Claimed]
    sends: list[tuple[SendsDeliveries, Any]]
    rules: dict[str, MessagingRules]


def _prepare(session: Session, batch: list[Claimed], channel_for: ChannelFor, rules_ttl_seconds: float) -> _Prepared:
    """The shops' rules and each message's provider template, in the claim's session."""
    rules = {shop_id: cached_rules(session, shop_id, rules_ttl_seconds) for shop_id in {c.shop_id for c in batch}}
    sends = []
    for claimed in batch:
        channel = channel_for(claimed.channel)
        r = rules[claimed.shop_id]
        mapped = provider_template(r.provider_templates, channel.name, claimed.template_key, claimed.variables or {})
        sends.append((channel, Delivery(message_id=claimed.id, text=claimed.text, to_phone=claimed.phone,
                                        to_email=claimed.email, template_code=mapped.code,
                                        template_params=mapped.params, sign_name=r.sign_name)))
    return _Prepared(batch, sends, rules)


def _send_all(sends: list[Any], send: Callable[[Any], Any]) -> list[Any]:
    """Every send's result, in order: the sender threads each take every n-th send and go through them one after the
    other (a future per thread, not per message)."""
    pool, threads = _sender_pool()
    lanes = min(len(sends), threads)
    if lanes <= 1:
        return [send(one) for one in sends]
    results: list[Any] = [None] * len(sends)
    for lane, lane_results in enumerate(pool.map(lambda n: [send(one) for one in sends[n::lanes]], range(lanes))):
        results[lane::lanes] = lane_results
    return results


class _Lease:
    """A batch's claim as its sender threads see it. Sends may start for `window_seconds` (the lease less the
    channel's timeout); then one thread renews the claim of the batch's rows in one statement — only rows still held
    whose claim has not run out — and the window starts again. A row not renewed is not sent."""

    def __init__(self, store: Store, ids: list[str], *, worker: str, lease_seconds: float, window_seconds: float,
                 now: Callable[[], datetime], started: float):
        self._store, self._worker, self._now = store, worker, now
        self._lease, self._window = lease_seconds, window_seconds
        self.held = set(ids)
        self.until = started + window_seconds  # `started`: time.monotonic() before the claim's statement
        self._lock = threading.Lock()

    def may_send(self, message_id: str) -> bool:
        if time.monotonic() >= self.until:
            with self._lock:
                if time.monotonic() >= self.until:
                    self._renew()
        return message_id in self.held

    def _renew(self) -> None:
        started, at = time.monotonic(), self._now()
        try:
            with self._store.session() as session:  # committed (and on disk) before any send relies on it
                self.held = set(session.connection().execute(
                    update(OutboxMessage)
                    .where(OutboxMessage.id.in_(sorted(self.held)), OutboxMessage.status == SENDING,
                           OutboxMessage.claimed_by == self._worker, OutboxMessage.claimed_until > at)
                    .values(claimed_until=at + timedelta(seconds=self._lease), updated_at=at)
                    .returning(OutboxMessage.id)).scalars())
        except Exception:  # the rest of the batch waits for the crash recovery rather than outliving its claim
            log.exception("renewing the claim of %d messages failed", len(self.held))
            self.held = set()
        self.until = started + self._window


def _send_and_record(store: Store, prepared: _Prepared, *, worker: str, now: Callable[[], datetime],
                     lease: _Lease | None = None) -> dict[str, int]:
    """Send side by side, then record every outcome in one transaction; counts by outcome word. With a `lease`, a
    send starts only while the message's claim outlasts the channel's timeout."""

    def send(pair: tuple[SendsDeliveries, Any]) -> Any:
        if lease is not None and not lease.may_send(pair[1].message_id):
            return NOT_SENT
        return _send(*pair)

    results = _send_all(prepared.sends, send)
    at = now()
    outcomes = [outcome_of(c.id, c.shop_id, c.attempts, result, now=at, rules=prepared.rules[c.shop_id])
                for c, result in zip(prepared.batch, results)]
    counts = {"sent": 0, "retried": 0, "dead": 0, "skipped": 0}
    with store.session() as session:
        if session.get_bind().dialect.name == "postgresql":
            # The outcome may reach the disk a moment later: were it lost in a database crash, the row would still be
            # `sending` and the recovery would ask the provider — never send again. The claim waits for the disk.
            session.execute(text("SET LOCAL synchronous_commit TO OFF"))
        recorded = record_outcomes(session, outcomes, worker=worker, now=at)
        retry_at = min((o.next_attempt_at for o in outcomes if o.message_id in recorded and o.status == RETRY
                        and o.next_attempt_at is not None), default=None)
        if retry_at is not None:
            wake_workers(session, run_at=retry_at)
    for o in outcomes:
        if o.message_id in recorded:
            counts[OUTCOME_WORDS[o.status]] += 1
        else:
            log.warning("message %s was settled by someone else while it was being sent", o.message_id)
            counts["skipped"] += 1
    return counts


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
        prepared = _prepare(session, [claimed], channel_for, rules_ttl_seconds)
    counts = _send_and_record(store, prepared, worker=worker, now=now)
    return next(word for word, n in counts.items() if n)


def deliver_batch(store: Store, *, channel_for: ChannelFor, worker: str | None = None, limit: int = BATCH_SIZE,
                  now: Callable[[], datetime] = _now, lease_seconds: float = DEFAULT_LEASE_SECONDS,
                  rules_ttl_seconds: float = WORKER_RULES_TTL_SECONDS,
                  on_full: Callable[[], None] | None = None, shop_id: str | None = None,
                  send_window_seconds: float | None = None) -> dict[str, int]:
    """One delivery job: claim up to `limit` due messages (commit), send them side by side, record every outcome
    (commit). A full batch calls `on_full` first, so another worker can start on the rest while this one sends.
    `send_window_seconds` (the lease less the channel's timeout): no send starts later than that after the claim (or
    its last renewal), so every request has ended or timed out before the claim does and the crash recovery may ask
    the provider; a batch still sending then renews its claim."""
    worker = worker or worker_name()
    claimed_at = time.monotonic()
    with store.session() as session:
        batch = claim_batch(session, now=now(), worker=worker, limit=limit, lease_seconds=lease_seconds,
                            shop_id=shop_id)
        if not batch:
            return {"sent": 0, "retried": 0, "dead": 0, "skipped": 0, "claimed": 0}
        prepared = _prepare(session, batch, channel_for, rules_ttl_seconds)
    if len(batch) >= limit and on_full is not None:
        on_full()
    lease = None
    if send_window_seconds is not None:
        lease = _Lease(store, [c.id for c in batch], worker=worker, lease_seconds=lease_seconds,
                       window_seconds=send_window_seconds, now=now, started=claimed_at)
    return {**_send_and_record(store, prepared, worker=worker, now=now, lease=lease), "claimed": len(batch)}


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
    to check, never sent a second time blindly. How many were settled. The lease must be longer than the channel's
    timeout: a request still in flight when its worker died must have reached the provider before it is asked."""
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
                    wake_workers(session)
    return settled


def deliver_due(store: Store, *, channel_for: ChannelFor, limit: int = 500, shop_id: str | None = None,
                now: Callable[[], datetime] = _now, worker: str | None = None) -> DeliveryCounts:
    """One pass of the in-process deliverer (SQLite, `kefu messages deliver`): settle stale claims, then deliver every
    due message, oldest first (safe next to procrastinate workers: each row is claimed before it is sent)."""
    counts = DeliveryCounts()
    counts.recovered = recover_stale(store, channel_for=channel_for, now=now())
    remaining = limit
    while remaining > 0:
        size = min(BATCH_SIZE, remaining)
        try:
            batch = deliver_batch(store, channel_for=channel_for, worker=worker, limit=size, now=now,
                                  rules_ttl_seconds=0, shop_id=shop_id)
        except Exception as exc:  # a broken pass is reported; the rows it claimed are settled by the recovery
            log.exception("delivering a batch failed")
            counts.errors.append(f"{type(exc).__name__}: {exc}")
            break
        for outcome in ("sent", "retried", "dead", "skipped"):
            setattr(counts, outcome, getattr(counts, outcome) + batch.get(outcome, 0))
        remaining -= batch["claimed"]
        if batch["claimed"] < size:
            break
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
    wake_workers(session)
    return True
