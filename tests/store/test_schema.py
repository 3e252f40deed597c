from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import select

from kefu.services.shops import get_or_create_shop
from kefu.store.tables import Order


def test_money_is_exact_and_times_are_utc(store):
    with store.session() as s:
        shop = get_or_create_shop(s, "测试店")
        s.add(Order(id=f"{shop.id}:1", shop_id=shop.id, platform="taobao", order_no="3876512093841527761",
                    status="TRADE_FINISHED", paid_amount=Decimal("0.10") + Decimal("0.20"), source="test",
                    created_at=datetime(2025, 3, 10, 12, 41, 7, tzinfo=timezone.utc)))
    with store.session() as s:
        order = s.scalar(select(Order))
        assert order.paid_amount == Decimal("0.30")
        assert order.order_no == "3876512093841527761"
        assert order.created_at == datetime(2025, 3, 10, 12, 41, 7, tzinfo=timezone.utc)


def test_shop_is_found_again_by_name(store):
    with store.session() as s:
        a = get_or_create_shop(s, "测试店").id
    with store.session() as s:
        assert get_or_create_shop(s, "测试店").id == a
