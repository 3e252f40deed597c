"""How sends ended, recorded on the outbox: each result becomes the row's next state and a decision, written for a
whole batch at once (one statement on PostgreSQL) and only for the rows the worker still holds."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import bindparam, insert, text, update
from sqlalchemy.orm import Session

from kefu.channels.base import DeliveryResult
from kefu.domain.messaging.retry import after_failure
from kefu.domain.messaging.rules import MessagingRules
from kefu.domain.privacy import redact_phones
from kefu.services.outbox import DEAD, RETRY, SENDING, SENT
from kefu.store.bulk import json_value
from kefu.store.messaging_tables import MessageDecision, OutboxMessage

OUTCOME_WORDS = {SENT: "sent", RETRY: "retried", DEAD: "dead"}  # a row's new status → the word counted
LEASE_ENDING = "lease_ending"
# What a message whose send never started gets: too little of its claim was left to wait out the channel's timeout.
NOT_SENT = DeliveryResult.failed(LEASE_ENDING, "not sent: the claim would end before the channel's timeout",
                                 retryable=True)


@dataclass(frozen=True)
class Outcome:
    """A claimed message's next state after its send, and the decision recorded with it (decision = status)."""

    message_id: str
    shop_id: str
    status: str  # sent | retry | dead
    provider_message_id: str | None = None
    next_attempt_at: datetime | None = None
    last_error: str | None = None
    reason: str | None = None  # the row's reason
    decision_reason: str | None = None
    detail: str | None = None


def outcome_of(message_id: str, shop_id: str, attempts: int, result: Any, *, now: datetime,
               rules: MessagingRules) -> Outcome:
    """Sent with the provider's id, or — by the shop's retry rules and whether the error may pass — retry or dead."""
    if result is NOT_SENT:  # never left: due again at once, no back-off
        return Outcome(message_id, shop_id, RETRY, next_attempt_at=now, last_error=result.error, reason=LEASE_ENDING,
                       decision_reason=LEASE_ENDING, detail=result.error)
    if result.ok:
        pid = result.provider_message_id
        return Outcome(message_id, shop_id, SENT, provider_message_id=pid, detail=f"provider id {pid}" if pid else None)
    error = redact_phones(f"{result.error_code or 'error'}: {result.error or ''}")
    state, when = after_failure(attempts, retryable=bool(result.retryable), max_attempts=rules.max_attempts, now=now,
                                base_seconds=rules.retry_base_seconds, max_seconds=rules.retry_max_seconds)
    return Outcome(message_id, shop_id, state, next_attempt_at=when, last_error=error,
                   reason=result.error_code or "error", decision_reason=result.error_code, detail=error)


def _naive_utc(moment: datetime) -> datetime:
    """As the UTC column type binds it: naive UTC."""
    return moment if moment.tzinfo is None else moment.astimezone(timezone.utc).replace(tzinfo=None)


_T, _D = OutboxMessage.__tablename__, MessageDecision.__tablename__
# One round trip for a whole batch: update the rows this worker still holds and add their decisions. The outcomes come
# as one JSON parameter (encoded in C; psycopg dumps a Python list element by element).
_RECORD_PG = text(f"""
WITH v AS (
  SELECT * FROM json_to_recordset(CAST(:outcomes AS json))
    AS v(id varchar, status varchar, provider_message_id varchar, next_attempt_at timestamp, last_error text,
         reason varchar, decision_reason varchar, detail text)
), done AS (
  UPDATE {_T} AS o SET status = v.status, provider_message_id = v.provider_message_id,
         sent_at = CASE WHEN v.status = '{SENT}' THEN CAST(:now AS timestamp) END, next_attempt_at = v.next_attempt_at,
         last_error = v.last_error, reason = v.reason, claimed_until = NULL, updated_at = :now
  FROM v WHERE o.id = v.id AND o.status = '{SENDING}' AND o.claimed_by = :worker
  RETURNING o.id, o.shop_id, v.status, v.decision_reason, v.detail
)
INSERT INTO {_D} (shop_id, message_id, at, decision, reason, detail, actor)
SELECT shop_id, id, :now, status, decision_reason, detail, :worker FROM done
RETURNING message_id
""")


def _record_postgresql(session: Session, outcomes: list[Outcome], *, worker: str, now: datetime) -> set[str]:
    rows = [{"id": o.message_id, "status": o.status, "provider_message_id": o.provider_message_id,
             "next_attempt_at": o.next_attempt_at,
             "last_error": o.last_error, "reason": o.reason, "decision_reason": o.decision_reason, "detail": o.detail}
            for o in outcomes]
    return set(session.execute(_RECORD_PG, {"outcomes": json.dumps(rows, ensure_ascii=False, default=json_value),
                                            "now": _naive_utc(now), "worker": worker}).scalars())


def _record_portable(session: Session, outcomes: list[Outcome], *, worker: str, now: datetime) -> set[str]:
    """Any store: lock the rows still held by this worker, update each, add their decisions."""
    connection = session.connection()
    mine = set(connection.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_([o.message_id for o in outcomes]), OutboxMessage.status == SENDING,
               OutboxMessage.claimed_by == worker)
        .values(updated_at=now).returning(OutboxMessage.id)).scalars())
    kept = [o for o in outcomes if o.message_id in mine]
    if not kept:
        return mine
    connection.execute(
        update(OutboxMessage).where(OutboxMessage.id == bindparam("b_id")).values(
            status=bindparam("b_status"), sent_at=bindparam("b_sent_at"),
            provider_message_id=bindparam("b_provider_message_id"), next_attempt_at=bindparam("b_next_attempt_at"),
            last_error=bindparam("b_last_error"), reason=bindparam("b_reason"), claimed_until=None, updated_at=now),
        [{"b_id": o.message_id, "b_status": o.status, "b_sent_at": now if o.status == SENT else None,
          "b_provider_message_id": o.provider_message_id, "b_next_attempt_at": o.next_attempt_at,
          "b_last_error": o.last_error, "b_reason": o.reason} for o in kept])
    connection.execute(insert(MessageDecision), [
        dict(shop_id=o.shop_id, message_id=o.message_id, at=now, decision=o.status, reason=o.decision_reason,
             detail=o.detail, actor=worker) for o in kept])
    return mine


def record_outcomes(session: Session, outcomes: list[Outcome], *, worker: str, now: datetime) -> set[str]:
    """Write the outcomes of rows still `sending` under this worker's claim, with their decisions; the ids written
    (a row settled by someone else meanwhile — the crash recovery — is left as it is)."""
    if not outcomes:
        return set()
    if session.get_bind().dialect.name == "postgresql":
        return _record_postgresql(session, outcomes, worker=worker, now=now)
    return _record_portable(session, outcomes, worker=worker, now=now)
