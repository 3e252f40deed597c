"""The fast Kuaidi100 push path: matched first, the form read directly, concurrent pushes batched and all landed."""

from __future__ import annotations

import asyncio
import hashlib
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qsl, quote, urlencode

import httpx
import pytest
from hypothesis import given, settings as hypothesis_settings, strategies as st
from sqlalchemy import func, select

from kefu.config import Settings
from kefu.store.tables import Order, Shipment, Shop, TrackingEventRow, WebhookDelivery
from kefu.web.webhooks import kuaidi100 as webhook
from kefu.web.webhooks.kuaidi100 import urlencoded_fields

SALT = "test-salt-0123456789abcdef012345"
NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)


@pytest.fixture
def settings() -> Settings:
    return Settings(session_secret="test-session-secret", kuaidi100_salt=SALT)


def test_the_push_route_is_matched_before_the_pages(app):
    first = app.router.routes[0]
    assert getattr(first, "original_router", first) is webhook.router
    included = [r for r in app.router.routes if getattr(r, "original_router", None) is webhook.router]
    assert len(included) == 1  # moved, not added twice
    assert "/webhooks/kuaidi100" in app.openapi()["paths"]


@hypothesis_settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.text(min_size=1), st.text()))
def test_form_fields_read_like_the_standard_parser(fields):
    body = urlencode(fields).encode()
    assert urlencoded_fields(body) == dict(parse_qsl(body.decode(), keep_blank_values=True))


@pytest.mark.parametrize("body", [b"param=%G1&sign=x", b"param=%4", b"param=%", b"param=a%5Cx41b&sign=\\x41", b"&&param=&"])
def test_malformed_escapes_fall_back_to_the_standard_parser(body):
    expected: dict[str, str] = {}
    for name, value in parse_qsl(body.decode(), keep_blank_values=True):
        expected.setdefault(name, value)
    assert urlencoded_fields(body) == expected


def _form(waybill: str, scans: int) -> bytes:
    data = [{"context": f"【杭州市】第 {n} 站", "ftime": (NOW - timedelta(hours=10 - n)).strftime("%Y-%m-%d %H:%M:%S")}
            for n in range(scans - 1, -1, -1)]
    param = json.dumps({"status": "polling", "lastResult": {"state": "0", "ischeck": "0", "com": "zhongtong", "nu": waybill,
                                                            "data": data}}, ensure_ascii=False, separators=(",", ":"))
    sign = hashlib.md5((param + SALT).encode()).hexdigest().upper()
    return f"param={quote(param, safe='')}&sign={sign}".encode()


def test_concurrent_pushes_are_all_acknowledged_and_stored_once(app, store):
    parcels = 6
    with store.session() as session:
        session.add(Shop(id="shop-a", name="店 A", platform="taobao", created_at=NOW))
        session.flush()
        for n in range(parcels):
            session.add(Order(id=f"shop-a:{n}", shop_id="shop-a", platform="taobao", order_no=str(n), status="WAIT_SELLER_SEND_GOODS",
                              source="test"))
            session.flush()
            session.add(Shipment(id=f"shop-a:{n}:ZT{n:03d}", shop_id="shop-a", order_id=f"shop-a:{n}", carrier_code="zhongtong",
                                 waybill_no=f"ZT{n:03d}", shipped_at=NOW - timedelta(days=1)))
    bodies = [_form(f"ZT{n:03d}", scans) for scans in (1, 2, 3) for n in range(parcels)]
    bodies.append(bodies[0])  # Kuaidi100 sending one push twice

    async def send_all() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            return await asyncio.gather(*(
                client.post("/webhooks/kuaidi100?shop=shop-a", content=body,
                            headers={"Content-Type": "application/x-www-form-urlencoded"}) for body in bodies))

    responses = asyncio.run(send_all())
    assert [r.status_code for r in responses] == [200] * len(bodies)
    assert all(r.json()["returnCode"] == "200" for r in responses)
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(TrackingEventRow)) == 3 * parcels
        processed = session.scalar(select(func.count()).select_from(WebhookDelivery).where(WebhookDelivery.status == "processed"))
        assert processed == len(bodies) - 1
        assert {s.status for s in session.scalars(select(Shipment))} == {"in_transit"}


def test_a_bad_sign_is_still_refused_before_anything_is_queued(app, store):
    transport = httpx.ASGITransport(app=app)

    async def post() -> httpx.Response:
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
            body = _form("ZT001", 1).rsplit(b"sign=", 1)[0] + b"sign=0"
            return await client.post("/webhooks/kuaidi100", content=body, headers={"Content-Type": "application/x-www-form-urlencoded"})

    response = asyncio.run(post())
    assert response.status_code == 401 and response.json()["result"] is False
    assert getattr(app.state, "kuaidi100_batcher", None) is None
