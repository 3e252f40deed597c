"""The procrastinate app of `kefu messages worker`: one job delivers one outbox message; periodic jobs settle
messages a dead worker left half-sent and queue the lifecycle messages that fall due with time (review invitations)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

import procrastinate

from kefu.queue.dispatch import DELIVER_TASK, DELIVERY_QUEUE
from kefu.queue.schema import QUEUE_SCHEMA
from kefu.store.database import Store

log = logging.getLogger(__name__)

RECOVER_TASK = "kefu.queue.tasks.recover_outbox"
LIFECYCLE_TASK = "kefu.queue.tasks.lifecycle_sweep"


@dataclass
class QueueRuntime:
    """What the tasks of one worker process use: the store and the channel factory (set by `build_queue_app`)."""

    store: Store
    channel_for: Callable[[str | None], Any]
    lease_seconds: float
    send_window_seconds: float  # the lease less the channel's timeout: how long after a claim a send may start


_runtime: QueueRuntime | None = None


def libpq_url(database_url: str) -> str:
    """A SQLAlchemy PostgreSQL URL as libpq reads it (postgresql+psycopg:// → postgresql://)."""
    return database_url.replace("postgresql+psycopg://", "postgresql://", 1).replace("postgres://", "postgresql://", 1)


def build_queue_app(store: Store, channel_for: Callable[[str | None], Any], *, pool_size: int = 4,
                    lease_seconds: float | None = None, recover_every_seconds: int = 15,
                    channel_timeout_seconds: float | None = None, send_threads: int | None = None) -> procrastinate.App:
    """A procrastinate app on the store's database (its tables in the `procrastinate` schema) with kefu's tasks:
    delivery, the recovery of crashed claims every `recover_every_seconds`, the lifecycle sweep every five minutes.
    `channel_timeout_seconds` (default: KEFU_CHANNEL_TIMEOUT_SECONDS) bounds when a claimed message may still be sent;
    `send_threads` sizes the process's sends in flight (default `SEND_THREADS`)."""
    from kefu.config import Settings
    from kefu.services.delivery import DEFAULT_LEASE_SECONDS, use_send_threads

    global _runtime
    lease = lease_seconds or DEFAULT_LEASE_SECONDS
    timeout = channel_timeout_seconds
    if timeout is None:
        timeout = Settings.from_env().channels.timeout_seconds
    _runtime = QueueRuntime(store, channel_for, lease, max(0.0, lease - timeout))
    if send_threads:
        use_send_threads(send_threads)
    url = store.engine.url.render_as_string(hide_password=False)
    connector = procrastinate.PsycopgConnector(
        conninfo=libpq_url(url), min_size=1, max_size=pool_size,
        # procrastinate's job bookkeeping is not what decides a send (the outbox row is), so its commits need not wait
        # for the disk: a job lost in a database crash runs again and its claim finds the message already settled.
        kwargs={"options": f"-c search_path={QUEUE_SCHEMA} -c synchronous_commit=off"},
    )
    app = procrastinate.App(connector=connector)
    app.task(name=DELIVER_TASK, queue=DELIVERY_QUEUE, pass_context=False)(deliver_batch)
    every = max(1, min(59, int(recover_every_seconds)))
    app.periodic(cron=f"* * * * * */{every}", periodic_id="recover")(
        app.task(name=RECOVER_TASK, queue=DELIVERY_QUEUE, queueing_lock="recover")(recover_outbox))
    app.periodic(cron="*/5 * * * *", periodic_id="lifecycle")(
        app.task(name=LIFECYCLE_TASK, queue=DELIVERY_QUEUE, queueing_lock="lifecycle")(lifecycle_sweep))
    return app


def _rt() -> QueueRuntime:
    if _runtime is None:
        raise RuntimeError("the queue app was not built: call build_queue_app first")
    return _runtime


def deliver_batch() -> dict[str, int]:
    """One job: claim a batch of due messages (their row state decides, so a surplus job changes nothing), send them,
    record the outcomes; a full batch first defers another job so the backlog spreads over every worker."""
    from kefu.queue.dispatch import wake_workers
    from kefu.services.delivery import deliver_batch as deliver

    rt = _rt()

    def one_more_job() -> None:
        with rt.store.session() as session:
            wake_workers(session)

    return deliver(rt.store, channel_for=rt.channel_for, lease_seconds=rt.lease_seconds, on_full=one_more_job,
                   send_window_seconds=rt.send_window_seconds)


def recover_outbox(timestamp: int) -> int:
    """Every few seconds: settle messages left `sending` by a worker that died (their lease is over), and wake a
    delivery job when due messages wait with none coming (a job lost with a crashed database, say)."""
    from kefu.queue.dispatch import wake_workers
    from kefu.services.delivery import due_message_ids, recover_stale

    rt = _rt()
    settled = recover_stale(rt.store, channel_for=rt.channel_for)
    with rt.store.session() as session:
        if due_message_ids(session, now=datetime.now(timezone.utc), limit=1):
            wake_workers(session)
    return settled


def lifecycle_sweep(timestamp: int) -> int:
    """Every five minutes: the lifecycle messages that fell due with time, for every shop."""
    from sqlalchemy import select

    from kefu.services.lifecycle import lifecycle_sweep as sweep
    from kefu.store.tables import Shop

    rt = _rt()
    now = datetime.fromtimestamp(timestamp, timezone.utc)
    queued = 0
    with rt.store.session() as session:
        shop_ids = list(session.scalars(select(Shop.id)))
    for shop_id in shop_ids:
        try:
            with rt.store.session() as session:
                queued += sweep(session, shop_id, now=now).queued
        except Exception:  # one shop's problem never stops the others
            log.exception("lifecycle sweep of shop %s failed", shop_id)
    return queued


def run_worker(store: Store, channel_for: Callable[[str | None], Any], *, concurrency: int = 8,
               name: str | None = None, wait: bool = True, lease_seconds: float | None = None,
               recover_every_seconds: int = 15, channel_timeout_seconds: float | None = None,
               send_threads: int | None = None) -> None:
    """Run one procrastinate worker on the delivery queue until stopped (SIGINT/SIGTERM end it gracefully)."""
    app = build_queue_app(store, channel_for, pool_size=max(2, concurrency // 2 + 1), lease_seconds=lease_seconds,
                          recover_every_seconds=recover_every_seconds, channel_timeout_seconds=channel_timeout_seconds,
                          send_threads=send_threads)
    app.run_worker(queues=[DELIVERY_QUEUE], concurrency=concurrency, name=name, wait=wait, delete_jobs="successful")


def worker_store(url: str, *, connections: int) -> Store:
    """A store for a worker process: migrated once, then a connection pool sized to the worker's concurrency (each
    delivery holds a connection twice: to claim and to record), without a ping before every checkout."""
    from sqlalchemy import create_engine
    from sqlalchemy.orm import sessionmaker

    store = Store(url)
    store.engine.dispose()
    store.engine = create_engine(store.url, pool_size=connections, max_overflow=connections, pool_recycle=600)
    store._sessions = sessionmaker(store.engine, expire_on_commit=False)
    return store
