import json
from datetime import date, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select

from kefu.domain import order_status as s
from kefu.ids import customer_id, order_id, stable_id
from kefu.services.customer360 import (
    AmbiguousCustomer,
    CustomerNotFound,
    add_note,
    customer_360,
    find_customer,
    search_customers,
    set_tags,
    update_profile,
)
from kefu.services.customer_stats import refresh_customer_stats
from kefu.services.shops import get_or_create_shop
from kefu.store.tables import Customer, CustomerNote, CustomerTag, Order, OrderLine, Product, Shipment

T0 = datetime(2025, 3, 10, 12, 41, 7, tzinfo=timezone.utc)


def customer(session, shop_id, nick, **fields):
    c = Customer(id=customer_id(shop_id, "taobao", nick), shop_id=shop_id, platform="taobao", buyer_key=nick,
                 buyer_nick=nick, created_at=T0, **fields)
    session.add(c)
    session.flush()
    return c


def order(session, shop_id, cust, no, status, paid, *, at, refunded=None, lines=(), **fields):
    oid = order_id(shop_id, no)
    session.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no=no, customer_id=cust.id, buyer_nick=cust.buyer_nick,
                      status=status, paid_amount=Decimal(paid), total_amount=Decimal(paid), created_at=at,
                      refunded_amount=Decimal(refunded) if refunded else None, source="test", **fields))
    session.flush()
    for n, (title, qty, product) in enumerate(lines, start=1):
        session.add(OrderLine(id=f"{oid}:#{n}", shop_id=shop_id, order_id=oid, line_no=n, title=title, quantity=qty,
                              price=Decimal("10.00"), product_id=product))
    return oid


@pytest.fixture
def shop_with_buyer(store):
    with store.session() as session:
        shop = get_or_create_shop(session, "测试店")
        dress = Product(id=stable_id("product", shop.id, "611"), shop_id=shop.id, product_key="611", title="碎花连衣裙", category="女装")
        socks = Product(id=stable_id("product", shop.id, "612"), shop_id=shop.id, product_key="612", title="棉袜", category="配件")
        session.add_all([dress, socks])
        a = customer(session, shop.id, "tb_阿花", province="浙江省", city="杭州市", phone="13800000001", name="张三")
        first = order(session, shop.id, a, "3876512093841527761", s.TRADE_FINISHED, "168.00", at=T0,
                      paid_at=T0 + timedelta(minutes=1), shipped_at=T0 + timedelta(days=1), finished_at=T0 + timedelta(days=5),
                      lines=[("碎花连衣裙", 1, dress.id), ("棉袜", 2, socks.id)], receiver_phone="13800000001",
                      receiver_name="张三", receiver_address="文一西路 100 号")
        session.add(Shipment(id=f"{first}:ZT1", shop_id=shop.id, order_id=first, carrier_name="中通快递", carrier_code="zhongtong",
                             waybill_no="ZT1", shipped_at=T0 + timedelta(days=1)))
        order(session, shop.id, a, "3876512093841527762", s.TRADE_CLOSED, "59.00", refunded="59.00", at=T0 + timedelta(days=10),
              finished_at=T0 + timedelta(days=12), close_reason="退款成功", lines=[("碎花连衣裙", 1, dress.id)])
        order(session, shop.id, a, "3876512093841527763", s.WAIT_BUYER_PAY, "20.00", at=T0 + timedelta(days=30),
              lines=[("棉袜", 4, socks.id)])
        order(session, shop.id, a, "3876512093841527764", s.WAIT_SELLER_SEND_GOODS, "32.50", at=T0 + timedelta(days=40),
              paid_at=T0 + timedelta(days=40), lines=[("帽子", 1, None)])
        other = customer(session, shop.id, "tb_小明", province="江苏省")
        order(session, shop.id, other, "3876512093841527800", s.TRADE_FINISHED, "9.90", at=T0)
        customer(session, shop.id, "tb_路人", province="浙江省")
        refresh_customer_stats(session.connection(), shop.id)
        session.add(CustomerNote(customer_id=a.id, body="老客，喜欢碎花", author="agent1", created_at=T0 + timedelta(days=2)))
        session.add(CustomerNote(customer_id=a.id, body="问过尺码", author="agent2", created_at=T0 + timedelta(days=35)))
        session.add(CustomerTag(customer_id=a.id, tag="老客"))
        return shop.id, a.id


def test_360_figures(store, shop_with_buyer):
    shop_id, cid = shop_with_buyer
    with store.session() as session:
        view = customer_360(session, cid)
    assert view.buyer_nick == "tb_阿花"
    assert view.province == "浙江省"
    assert view.orders_count == 4
    assert view.paid_orders_count == 3
    assert view.total_spent == Decimal("200.50")  # 168.00 + (59.00 − 59.00) + 32.50
    assert view.average_order_value == Decimal("66.83")
    assert view.first_order_at == T0
    assert view.last_order_at == T0 + timedelta(days=40)
    assert view.refunds.count == 1 and view.refunds.amount == Decimal("59.00")
    assert view.median_days_between_orders == 20.0  # paid orders at days 0, 10, 40
    assert view.items == {"碎花连衣裙": 2, "棉袜": 2, "帽子": 1}  # the unpaid order's socks are not bought
    assert view.categories == {"女装": 2, "配件": 2}
    assert view.value_tier == "top"
    assert view.tags == ["老客"]
    assert [n.body for n in view.notes] == ["问过尺码", "老客，喜欢碎花"]


def test_360_orders_newest_first_with_lines_and_shipments(store, shop_with_buyer):
    _, cid = shop_with_buyer
    with store.session() as session:
        view = customer_360(session, cid)
    assert [o.order_no[-2:] for o in view.orders] == ["64", "63", "62", "61"]
    first = view.orders[-1]
    assert [(line.title, line.quantity, line.category) for line in first.lines] == [("碎花连衣裙", 1, "女装"), ("棉袜", 2, "配件")]
    assert [(sh.carrier_code, sh.waybill_no) for sh in first.shipments] == [("zhongtong", "ZT1")]


def test_timeline_is_merged_newest_first(store, shop_with_buyer):
    _, cid = shop_with_buyer
    with store.session() as session:
        timeline = customer_360(session, cid).timeline
    assert [entry.at for entry in timeline] == sorted((entry.at for entry in timeline), reverse=True)
    kinds = [(e.kind, e.order_id.split(":")[-1][-2:] if e.order_id else None) for e in timeline]
    assert kinds[:2] == [("order_paid", "64"), ("order_created", "64")]  # same moment: the later step first
    assert ("note", None) in kinds
    assert ("order_closed", "62") in kinds
    assert ("order_shipped", "61") in kinds and ("order_finished", "61") in kinds
    shipped = next(e for e in timeline if e.kind == "order_shipped")
    assert "ZT1" in shipped.text
    assert kinds[-1] == ("order_created", "61")


def test_to_json_is_plain_json(store, shop_with_buyer):
    _, cid = shop_with_buyer
    with store.session() as session:
        data = customer_360(session, cid).to_json()
    json.dumps(data)  # nothing un-serialisable inside
    assert data["total_spent"] == "200.50"
    assert data["average_order_value"] == "66.83"
    assert data["first_order_at"] == "2025-03-10T12:41:07+00:00"
    assert data["orders"][-1]["paid_amount"] == "168.00"
    assert data["orders"][-1]["order_no"] == "3876512093841527761"
    assert data["refunds"] == {"count": 1, "amount": "59.00"}
    assert data["timeline"][0]["at"].endswith("+00:00")
    assert data["phone"] == "13800000001"
    masked = customer_360_json_masked(store, cid)
    assert masked["phone"] == "138****0001"
    assert masked["name"] == "张*"
    assert masked["orders"][-1]["receiver_phone"] == "138****0001"
    assert "100" not in masked["orders"][-1]["receiver_address"]


def customer_360_json_masked(store, cid):
    with store.session() as session:
        return customer_360(session, cid).to_json(mask=True)


def test_unknown_customer(store):
    with store.session() as session:
        assert customer_360(session, "nope") is None


def test_a_customer_without_orders(store, shop_with_buyer):
    shop_id, _ = shop_with_buyer
    with store.session() as session:
        view = customer_360(session, customer_id(shop_id, "taobao", "tb_路人"))
    assert view.orders == [] and view.orders_count == 0
    assert view.total_spent == Decimal("0.00") and view.average_order_value is None
    assert view.median_days_between_orders is None
    assert view.to_json()["total_spent"] == "0.00"


def test_find_customer(store, shop_with_buyer):
    shop_id, cid = shop_with_buyer
    with store.session() as session:
        assert find_customer(session, nick="tb_阿花").id == cid
        assert find_customer(session, nick="tb_阿花", shop_id=shop_id).id == cid
        assert find_customer(session, nick="nobody") is None
        other = get_or_create_shop(session, "第二家店")
        customer(session, other.id, "tb_阿花")
        with pytest.raises(AmbiguousCustomer) as info:
            find_customer(session, nick="tb_阿花")
        assert set(info.value.shop_names) == {"测试店", "第二家店"}
        assert find_customer(session, nick="tb_阿花", shop_id=other.id).shop_id == other.id


def test_search(store, shop_with_buyer):
    shop_id, cid = shop_with_buyer
    with store.session() as session:
        page = search_customers(session, shop_id=shop_id)
        assert page.total == 3
        assert page.items[0].id == cid  # biggest spender first
        assert page.pages == 1
        assert [c.buyer_nick for c in search_customers(session, q="小").items] == ["tb_小明"]
        assert search_customers(session, q="TB_").total == 3  # case does not matter
        assert search_customers(session, q="%").total == 0  # wildcards are plain characters
        assert [c.buyer_nick for c in search_customers(session, tier="top").items] == ["tb_阿花"]
        assert {c.buyer_nick for c in search_customers(session, province="浙江省").items} == {"tb_阿花", "tb_路人"}
        assert [c.buyer_nick for c in search_customers(session, tag="老客").items] == ["tb_阿花"]
        paged = search_customers(session, shop_id=shop_id, per_page=2, page=2, order_by="buyer_nick")
        assert paged.total == 3 and paged.pages == 2 and len(paged.items) == 1
        newest = search_customers(session, order_by="last_order_at")
        assert newest.items[0].buyer_nick == "tb_阿花" and newest.items[-1].buyer_nick == "tb_路人"  # never-ordered last
        with pytest.raises(ValueError, match="order_by"):
            search_customers(session, order_by="password_hash")


def test_notes_and_tags(store, shop_with_buyer):
    _, cid = shop_with_buyer
    with store.session() as session:
        note = add_note(session, cid, "  想要 XL 码  ", "agent3")
        assert note.id is not None and note.body == "想要 XL 码"
        assert set_tags(session, cid, ["大码", " 老客 ", "", "大码"]) == ["大码", "老客"]
        with pytest.raises(ValueError, match="body"):
            add_note(session, cid, "   ", "agent3")
        with pytest.raises(ValueError, match="tags"):
            set_tags(session, cid, ["x" * 61])
        with pytest.raises(CustomerNotFound):
            add_note(session, "missing", "hi", None)
    with store.session() as session:
        view = customer_360(session, cid)
        assert view.tags == ["大码", "老客"]
        assert view.notes[0].body == "想要 XL 码"
        set_tags(session, cid, [])
    with store.session() as session:
        assert session.scalars(select(CustomerTag).where(CustomerTag.customer_id == cid)).all() == []


def test_update_profile(store, shop_with_buyer):
    _, cid = shop_with_buyer
    with store.session() as session:
        update_profile(session, cid, gender="女", birthday="1995-06-01", hobbies="瑜伽", personality_type="INFJ", marketing_consent=True)
    with store.session() as session:
        view = customer_360(session, cid)
        assert (view.gender, view.birthday, view.hobbies, view.personality_type, view.marketing_consent) == (
            "female", date(1995, 6, 1), "瑜伽", "INFJ", True)


@pytest.mark.parametrize(
    "fields, name",
    [
        ({"gender": "unknown"}, "gender"),
        ({"birthday": "1995-13-01"}, "birthday"),
        ({"birthday": date.today() + timedelta(days=1)}, "birthday"),
        ({"personality_type": "x" * 21}, "personality_type"),
        ({"marketing_consent": "yes"}, "marketing_consent"),
        ({"total_spent": 1}, "total_spent"),
        ({"hobbies": "ok", "gender": "?"}, "gender"),
    ],
)
def test_update_profile_refuses_bad_values(store, shop_with_buyer, fields, name):
    _, cid = shop_with_buyer
    with store.session() as session:
        with pytest.raises(ValueError, match=name):
            update_profile(session, cid, **fields)
        assert session.get(Customer, cid).hobbies is None  # nothing changed
