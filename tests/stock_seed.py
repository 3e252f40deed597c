"""Invented stock data shared by the stock tests: one dress in three SKUs and paid, unshipped orders."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from kefu.domain import order_status as os_
from kefu.store.tables import Customer, Order, OrderLine, Product, Sku

NOW = datetime(2026, 11, 20, 4, 0, tzinfo=UTC)  # Friday noon in Shanghai
WHITE_M, BLACK_M, WHITE_L = "颜色分类：白色;尺码：M", "颜色分类：黑色;尺码：M", "颜色分类：白色;尺码：L"


def seed_catalogue(session, shop_id, *, white_m=2, black_m=0, white_l=10, restock=None):
    session.add(Product(id="p1", shop_id=shop_id, product_key="p1", outer_id="XTZ-001", title="法式碎花连衣裙"))
    session.flush()
    for sid, props, stock in (("s-wm", WHITE_M, white_m), ("s-bm", BLACK_M, black_m), ("s-wl", WHITE_L, white_l)):
        session.add(Sku(id=sid, shop_id=shop_id, product_id="p1", properties=props, outer_sku_id=f"XTZ-001-{sid}",
                        stock=stock, restock_date=restock if stock == 0 else None))
    session.flush()


def add_order(session, shop_id, no, lines, *, paid_at, buyer="buyer"):
    cid = f"c-{buyer}"
    if session.get(Customer, cid) is None:
        session.add(Customer(id=cid, shop_id=shop_id, platform="taobao", buyer_key=buyer, buyer_nick=buyer,
                             created_at=NOW))
        session.flush()
    oid = f"{shop_id}:{no}"
    paid = sum((Decimal("100") * q for _props, q in lines), Decimal(0))
    session.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no=no, status=os_.WAIT_SELLER_SEND_GOODS,
                      source="test", customer_id=cid, buyer_nick=buyer, created_at=paid_at, paid_at=paid_at,
                      paid_amount=paid, item_count=sum(q for _p, q in lines)))
    session.flush()
    for n, (props, quantity) in enumerate(lines, start=1):
        session.add(OrderLine(id=f"{oid}#{n}", shop_id=shop_id, order_id=oid, line_no=n, product_id="p1",
                              title="法式碎花连衣裙", sku_properties=props, outer_id="XTZ-001", price=Decimal("100"),
                              quantity=quantity, paid_amount=Decimal("100") * quantity))
    session.flush()
    return oid
