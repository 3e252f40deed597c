"""Waking the delivery workers in the caller's transaction: on PostgreSQL a procrastinate job that delivers a batch of
due messages, deferred once per transaction and moment (a lifecycle sweep queueing 300 messages defers one job, not
300); nothing on SQLite, where the in-process loop reads the outbox itself."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import event, text
from sqlalchemy.orm import Session

from kefu.queue.schema import QUEUE_SCHEMA

DELIVERY_QUEUE = "messages"
DELIVER_TASK = "kefu.queue.tasks.deliver_batch"
_DEFERRED_KEY = "kefu.dispatch.deferred"

_DEFER = text(
    f"SELECT {QUEUE_SCHEMA}.procrastinate_defer_jobs_v1(ARRAY[ROW(:queue, :task, 0, NULL, NULL, CAST(:args AS jsonb),"
    f" :at)::{QUEUE_SCHEMA}.procrastinate_job_to_defer_v1])"
)


def uses_job_queue(session: Session) -> bool:
    """Whether this store delivers through procrastinate (PostgreSQL) rather than the in-process loop (SQLite)."""
    return session.get_bind().dialect.name == "postgresql"


def wake_workers(session: Session, *, run_at: datetime | None = None) -> int:
    """Make sure a delivery job runs at `run_at` (now when None) once this transaction commits; jobs for the same
    moment in the same transaction are one job. The number of jobs deferred (0 or 1; always 0 on SQLite)."""
    if not uses_job_queue(session):
        return 0
    deferred = session.info.setdefault(_DEFERRED_KEY, set())
    if run_at in deferred:
        return 0
    session.execute(_DEFER, {"queue": DELIVERY_QUEUE, "task": DELIVER_TASK, "args": "{}", "at": run_at})
    deferred.add(run_at)
    return 1


@event.listens_for(Session, "after_transaction_end")
def _forget_deferred(session: Session, transaction) -> None:
    if transaction.parent is None:
        session.info.pop(_DEFERRED_KEY, None)
