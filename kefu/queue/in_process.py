"""The in-process outbox deliverer of `kefu serve` on SQLite: a background task that delivers due messages and, every
few minutes, queues the lifecycle messages that fell due with time (review invitations)."""

from __future__ import annotations

import asyncio
import logging
import time
from contextlib import suppress
from typing import Any

from kefu.store.database import Store

log = logging.getLogger(__name__)

LIFECYCLE_EVERY_SECONDS = 300.0


def delivery_pass(store: Store, channel_for: Any, state: dict[str, float]) -> None:
    """One pass: deliver what is due; the lifecycle sweep when its interval has passed."""
    from datetime import UTC, datetime

    from sqlalchemy import select

    from kefu.services.delivery import deliver_due
    from kefu.services.lifecycle import lifecycle_sweep
    from kefu.store.tables import Shop

    if time.monotonic() - state.get("swept", -1e9) >= LIFECYCLE_EVERY_SECONDS:
        state["swept"] = time.monotonic()
        with store.session() as session:
            shop_ids = list(session.scalars(select(Shop.id)))
        for shop_id in shop_ids:
            try:
                with store.session() as session:
                    lifecycle_sweep(session, shop_id, now=datetime.now(UTC))
            except Exception:
                log.exception("lifecycle sweep of shop %s failed", shop_id)
    counts = deliver_due(store, channel_for=channel_for)
    if counts.sent or counts.dead or counts.errors:
        log.info("outbox: %s", counts.to_json())


async def _deliver_forever(store: Store, settings: Any, seconds: float) -> None:
    from kefu.services.delivery import default_channel_for

    channel_for = default_channel_for(settings)
    state: dict[str, float] = {}
    while True:
        try:
            await asyncio.to_thread(delivery_pass, store, channel_for, state)
        except Exception:  # the workbench must keep serving whatever delivery does
            log.exception("outbox delivery pass failed")
        await asyncio.sleep(seconds)


def start_outbox_loop(store: Store, settings: Any) -> asyncio.Task | None:
    """Start delivering in this process when the store is SQLite and the interval is on (PostgreSQL: the workers)."""
    seconds = float(getattr(settings, "outbox_deliver_seconds", 0.0) or 0.0)
    if seconds <= 0 or not store.is_sqlite:
        return None
    return asyncio.create_task(_deliver_forever(store, settings, seconds))


async def stop_outbox_loop(task: asyncio.Task | None) -> None:
    if task is None:
        return
    task.cancel()
    with suppress(asyncio.CancelledError):
        await task
