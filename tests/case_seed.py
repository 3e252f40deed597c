"""Invented complaint-case data shared by the case tests: a buyer with one finished order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kefu.ids import customer_id as make_customer_id
from kefu.store.tables import Customer, Order, OrderLine

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
H = timedelta(hours=1)


def add_buyer_order(session, shop_id, *, nick="tb_小美", no="4001", paid="200.00", buyer_message: str | None = None,
                    line: bool = False) -> tuple[str, str]:
    """The buyer and a finished order (receiver phone 13800000012); optionally a buyer message and one order line."""
    cid = make_customer_id(shop_id, "taobao", nick)
    session.add(Customer(id=cid, shop_id=shop_id, platform="taobao", buyer_key=nick, buyer_nick=nick, created_at=NOW))
    session.flush()
    oid = f"{shop_id}:{no}"
    session.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no=no, customer_id=cid, buyer_nick=nick,
                      status="TRADE_FINISHED", source="test", paid_amount=Decimal(paid), created_at=NOW - 100 * H,
                      receiver_name="张三", receiver_phone="13800000012", buyer_message=buyer_message))
    if line:
        session.add(OrderLine(id=f"{oid}:1", shop_id=shop_id, order_id=oid, line_no=1, title="白色连衣裙", quantity=1,
                              price=Decimal(paid)))
    session.flush()
    return cid, oid
