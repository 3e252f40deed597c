"""Handing a queued message to the workers in the caller's transaction: a procrastinate job on PostgreSQL, nothing on
SQLite (the in-process loop reads the outbox itself)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from kefu.queue.schema import QUEUE_SCHEMA

DELIVERY_QUEUE = "messages"
DELIVER_TASK = "kefu.queue.tasks.deliver_message"

_DEFER = text(
    f"SELECT {QUEUE_SCHEMA}.procrastinate_defer_jobs_v1("
    f"  ARRAY(SELECT ROW(:queue, :task, 0, NULL, NULL, jsonb_build_object('message_id', m), :at)"
    f"        ::{QUEUE_SCHEMA}.procrastinate_job_to_defer_v1 FROM unnest(CAST(:ids AS text[])) AS m))"
)


def uses_job_queue(session: Session) -> bool:
    """Whether this store delivers through procrastinate (PostgreSQL) rather than the in-process loop (SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def defer_deliveries(session: Session, message_ids: Sequence[str], *, run_at: datetime | None = None) -> int:
    """One delivery job per message, in the session's transaction (so a rolled-back event leaves no job behind)."""
    if not message_ids or not uses_job_queue(session):
        return 0
    session.execute(_DEFER, {"queue": DELIVERY_QUEUE, "task": DELIVER_TASK, "at": run_at, "ids": list(message_ids)})
    return len(message_ids)
