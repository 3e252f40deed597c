"""`kefu serve` on SQLite delivers the outbox in-process while it runs (on PostgreSQL the procrastinate workers do)."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from sqlalchemy import select

from kefu.config import Settings
from kefu.services.outbox import OutgoingMessage, queue_message
from kefu.services.shops import get_or_create_shop
from kefu.store.messaging_tables import OutboxMessage
from kefu.web import create_app


def test_the_server_delivers_messages_in_process_on_sqlite(sqlite_store):
    from starlette.testclient import TestClient

    with sqlite_store.session() as s:
        shop_id = get_or_create_shop(s, "店").id
        mid = queue_message(s, OutgoingMessage(shop_id=shop_id, customer_id=None, event="desk.reply", purpose="service",
                                               text="您好"), now=datetime.now(UTC)).message_id
    app = create_app(sqlite_store, Settings(session_secret="x", outbox_deliver_seconds=0.05))
    with TestClient(app):
        deadline = time.monotonic() + 10
        status = None
        while time.monotonic() < deadline:
            with sqlite_store.session() as s:
                status = s.scalar(select(OutboxMessage.status).where(OutboxMessage.id == mid))
            if status == "sent":
                break
            time.sleep(0.05)
    assert status == "sent"
