"""Invented returns data shared by the returns tests: a T-shirt, a dress and signed orders of 小林 at set ages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from kefu.ids import customer_id as make_customer_id
from kefu.store.tables import Customer, Order, OrderLine, Product, Shipment

TEE = "纯棉圆领短袖T恤"


def seed_signed_orders(s, shop_id: str, *, dress_title: str, dress_extra: dict[str, Any] | None,
                       orders: tuple[tuple[str, str, int], ...]) -> None:
    """Products p-tee and p-dress, buyer tb_小林, and one signed order per (order no, product id, days since signing)."""
    now = datetime.now(UTC)
    s.add(Product(id="p-tee", shop_id=shop_id, product_key="tee", title=TEE, category="上衣"))
    s.add(Product(id="p-dress", shop_id=shop_id, product_key="dress", title=dress_title, category="连衣裙",
                  extra=dress_extra))
    cid = make_customer_id(shop_id, "taobao", "tb_小林")
    s.add(Customer(id=cid, shop_id=shop_id, platform="taobao", buyer_key="tb_小林", buyer_nick="tb_小林", created_at=now))
    s.flush()
    titles = {"p-tee": TEE, "p-dress": dress_title}
    for no, product, days in orders:
        oid = f"{shop_id}:{no}"
        s.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no=no, customer_id=cid, buyer_nick="tb_小林",
                    status="WAIT_BUYER_CONFIRM_GOODS", source="test", created_at=now - timedelta(days=days + 3),
                    paid_at=now - timedelta(days=days + 3)))
        s.flush()
        s.add(OrderLine(id=f"{oid}:#1", shop_id=shop_id, order_id=oid, line_no=1, title=titles[product],
                        product_id=product, price=Decimal("129.00"), paid_amount=Decimal("129.00")))
        s.add(Shipment(id=f"{oid}:W", shop_id=shop_id, order_id=oid, waybill_no=f"W{no}", status="signed",
                       signed_at=now - timedelta(days=days)))
