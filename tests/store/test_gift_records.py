from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from kefu.domain import order_status as s
from kefu.ids import customer_id, order_id
from kefu.services.gifts import GiftError, add_gift_item, address_kind, confirm_sent, give_gift, gift_history
from kefu.services.gifts import propose_surprise
from kefu.services.shops import get_or_create_shop
from kefu.store.case_tables import Case
from kefu.store.tables import Customer, Order, OrderLine, Product

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def _shop(store):
    with store.session() as session:
        shop = get_or_create_shop(session, "礼物店")
        session.add(Product(id="p1", shop_id=shop.id, product_key="p1", title="羊毛大衣", category="女装"))
        cust = Customer(id=customer_id(shop.id, "taobao", "大客户"), shop_id=shop.id, platform="taobao",
                        buyer_key="大客户", buyer_nick="大客户", gender="female", value_tier="top",
                        paid_orders_count=4, created_at=NOW)
        session.add(cust)
        session.flush()
        for n in range(4):
            oid = order_id(shop.id, f"50{n}")
            session.add(Order(id=oid, shop_id=shop.id, platform="taobao", order_no=f"50{n}", customer_id=cust.id,
                              status=s.TRADE_FINISHED, created_at=NOW - timedelta(days=40 * n), paid_amount=Decimal(600),
                              receiver_address="文一西路 某某科技园 3 号楼", source="test"))
            session.flush()
            session.add(OrderLine(id=f"{oid}:1", shop_id=shop.id, order_id=oid, line_no=1, product_id="p1",
                                  title="羊毛大衣", quantity=1))
        items = {
            "condom": add_gift_item(session, shop.id, key="condom", name="安全套", cost=Decimal(10), sensitivity="intimate"),
            "perfume": add_gift_item(session, shop.id, key="perfume", name="香水小样", cost=Decimal(20),
                                     sensitivity="personal", suits_gender="female", categories=("女装",)),
            "scarf": add_gift_item(session, shop.id, key="scarf", name="羊绒围巾", cost=Decimal(45), categories=("女装",)),
            "tie": add_gift_item(session, shop.id, key="tie", name="领带", cost=Decimal(30), suits_gender="male",
                                 categories=("女装",)),
        }
        return shop.id, cust.id, {k: v.id for k, v in items.items()}


def test_address_kind_from_the_street():
    assert address_kind("文一西路 某某科技园 3 号楼") == "office"
    assert address_kind("幸福小区 5 栋 2 单元 301 室") == "home"
    assert address_kind("浙江大学 紫金港校区 宿舍") == "school"
    assert address_kind("****") == "unknown"


def test_a_fitting_surprise_is_proposed_and_embarrassing_ones_are_refused(store):
    shop_id, cust_id, items = _shop(store)
    with store.session() as session:
        record, choice = propose_surprise(session, cust_id, by="owner", now=NOW)
        assert record.status == "proposed" and choice.item.key == "scarf"
        refused = {c.item.key: [r.code for r in c.reasons] for c in choice.refused}
        assert refused == {"condom": ["intimate"], "perfume": ["opened_in_public"], "tie": ["gender_mismatch"]}
        confirm_sent(session, record.id, now=NOW)
    with store.session() as session:
        record, check = give_gift(session, cust_id, items["condom"], occasion="surprise", by="agent", now=NOW)
        assert record.status == "refused" and not check.allowed
        assert record.reasons[0]["code"] == "intimate"
        assert [r.status for r, _item in gift_history(session, cust_id)] == ["refused", "sent"]


def test_an_open_complaint_holds_surprises_and_birthday_gifts(store):
    shop_id, cust_id, items = _shop(store)
    with store.session() as session:
        session.add(Case(id="c1", shop_id=shop_id, customer_id=cust_id, source="manual", summary="尺码不对",
                         step="confirm", status="open", opened_at=NOW, updated_at=NOW))
        session.flush()
        record, choice = propose_surprise(session, cust_id, by="owner", now=NOW)
        assert record.status == "held" and record.reasons[0]["code"] == "open_complaint"
        record, _check = give_gift(session, cust_id, items["scarf"], occasion="birthday", by="owner", now=NOW)
        assert record.status == "refused" and [r["code"] for r in record.reasons] == ["open_complaint"]


def test_bad_catalogue_values_are_refused(store):
    with store.session() as session:
        shop = get_or_create_shop(session, "礼物店")
        with pytest.raises(GiftError, match="sensitivity"):
            add_gift_item(session, shop.id, key="x", name="x", cost=Decimal(1), sensitivity="spicy")
