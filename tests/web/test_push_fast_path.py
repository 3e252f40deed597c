"""Carrier pushes answered from ASGI ahead of the workbench (webhooks/fast_path.py), on SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from datetime import UTC, datetime
from urllib.parse import quote

import httpx
import pytest
from sqlalchemy import select

from kefu.config import Settings
from kefu.ingest.kuaidi100 import ACK
from kefu.store.tables import Order, Shipment, Shop, WebhookDelivery
from kefu.web.webhooks import fast_path, push_batcher

SALT = "test-salt-0123456789abcdef012345"
NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)
PARAM = json.dumps({"status": "polling", "lastResult": {"state": "0", "ischeck": "0", "com": "zhongtong", "nu": "ZT001",
                                                       "data": [{"context": "【杭州市】已发出", "ftime": "2025-03-12 10:00:00"}]}},
                   ensure_ascii=False)
SIGN = hashlib.md5((PARAM + SALT).encode()).hexdigest().upper()
FORM = f"param={quote(PARAM, safe='')}&sign={SIGN}".encode()
URLENCODED = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def settings() -> Settings:
    return Settings(session_secret="test-session-secret", kuaidi100_salt=SALT)


@pytest.fixture
def parcel(store):
    with store.session() as session:
        session.add(Shop(id="shop-a", name="店 A", platform="taobao", created_at=NOW))
        session.flush()
        session.add(Order(id="shop-a:1", shop_id="shop-a", platform="taobao", order_no="1", status="WAIT_SELLER_SEND_GOODS",
                          source="test"))
        session.flush()
        session.add(Shipment(id="shop-a:1:ZT001", shop_id="shop-a", order_id="shop-a:1", carrier_code="zhongtong",
                             waybill_no="ZT001", shipped_at=NOW))
    return "shop-a:1:ZT001"


def post(app, body: bytes, headers: dict[str, str] = URLENCODED, path: str = "/webhooks/kuaidi100") -> httpx.Response:
    async def send() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            return await client.post(path, content=body, headers=headers)

    return asyncio.run(send())


def test_a_push_never_builds_the_workbench_middleware(app, store, parcel):
    response = post(app, FORM)
    assert response.status_code == 200 and response.json() == ACK
    assert "set-cookie" not in response.headers and response.headers["content-type"] == "application/json"
    assert app.middleware_stack is None  # built on the first request that goes through the full app, none did
    with store.session() as session:
        assert session.get(Shipment, parcel).status == "in_transit"


def test_a_multipart_push_goes_through_the_route_and_lands_the_same(app, store, parcel):
    boundary = "kefu-test-boundary"
    parts = "".join(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
                    for name, value in (("param", PARAM), ("sign", SIGN)))
    body = f"{parts}--{boundary}--\r\n".encode()
    response = post(app, body, {"Content-Type": f"multipart/form-data; boundary={boundary}"})
    assert response.status_code == 200 and response.json() == ACK
    assert app.middleware_stack is not None
    with store.session() as session:
        assert session.get(Shipment, parcel).status == "in_transit"


def test_other_requests_still_reach_the_workbench(app):
    async def get() -> httpx.Response:
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://testserver") as client:
            return await client.get("/webhooks/kuaidi100")

    assert asyncio.run(get()).status_code == 405


def test_an_oversized_body_is_refused_before_parsing(app, store, monkeypatch):
    monkeypatch.setattr(fast_path, "MAX_BODY", 64)
    response = post(app, FORM)
    assert response.status_code == 413
    with store.session() as session:
        assert session.scalars(select(WebhookDelivery)).first() is None


def test_a_store_failure_is_not_acknowledged_and_the_retry_lands(app, store, parcel, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(push_batcher, "receive_pushes", broken)
    with caplog.at_level(logging.ERROR):
        failed = post(app, FORM)
    assert failed.status_code == 500 and b"returnCode" not in failed.content  # Kuaidi100 sends it again later
    assert "carrier push" in caplog.text and PARAM not in caplog.text
    monkeypatch.undo()
    assert post(app, FORM).json() == ACK
    with store.session() as session:
        assert [d.status for d in session.scalars(select(WebhookDelivery))] == ["processed"]
