"""Test helpers for messaging: a recording channel of our own (the Channel protocol) and a small shop with orders."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from kefu.ids import customer_id as make_customer_id
from kefu.services.delivery import Delivery, DeliveryResult
from kefu.services.shops import get_or_create_shop
from kefu.store.tables import Customer, Order, OrderLine, Shipment

NOW = datetime(2025, 3, 20, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai: outside quiet hours
H = timedelta(hours=1)


class RecordingChannel:
    """A console-like channel that keeps what it was asked to send; scripted failures come first."""

    name = "console"

    def __init__(self, failures: list[DeliveryResult] | None = None, *, can_look_up: bool = False):
        self.sent: list[Delivery] = []
        self.failures = list(failures or [])
        if can_look_up:
            self.find_sent = lambda message_id: next(
                (f"p-{d.message_id}" for d in self.sent if d.message_id == message_id), None)

    def send(self, delivery: Delivery) -> DeliveryResult:
        if self.failures:
            return self.failures.pop(0)
        self.sent.append(delivery)
        return DeliveryResult(True, provider_message_id=f"p-{delivery.message_id}")

    def __call__(self, name: str | None) -> "RecordingChannel":  # doubles as the channel_for factory
        return self


def make_shop(session, name: str = "消息店", **settings) -> str:
    shop = get_or_create_shop(session, name)
    if settings:
        shop.settings = {**(shop.settings or {}), **settings}
    session.flush()
    return shop.id


def add_buyer(session, shop_id: str, nick: str | None = "tb_kitty", *, consent: bool = False,
              phone: str = "13800000001") -> str:
    key = nick or "anon"
    cid = make_customer_id(shop_id, "taobao", key)
    if session.get(Customer, cid) is None:
        session.add(Customer(id=cid, shop_id=shop_id, platform="taobao", buyer_key=key, buyer_nick=nick, phone=phone,
                             marketing_consent=consent, created_at=NOW - 500 * H))
        session.flush()
    return cid


def add_order(session, shop_id: str, no: str, customer_id: str, *, status: str = "WAIT_BUYER_CONFIRM_GOODS",
              title: str = "纯棉T恤", **fields) -> str:
    oid = f"{shop_id}:{no}"
    session.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no=no, customer_id=customer_id,
                      status=status, source="test", created_at=NOW - 100 * H, **fields))
    session.flush()
    session.add(OrderLine(id=f"{oid}:1", shop_id=shop_id, order_id=oid, line_no=1, title=title, quantity=1))
    session.flush()
    return oid


def add_parcel(session, shop_id: str, order_id: str, waybill: str = "78912345678901", **fields) -> str:
    sid = f"{order_id}:{waybill}"
    session.add(Shipment(id=sid, shop_id=shop_id, order_id=order_id, carrier_code="zhongtong", carrier_name="中通快递",
                         waybill_no=waybill, **fields))
    session.flush()
    return sid
