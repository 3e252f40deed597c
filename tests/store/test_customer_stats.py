import random
import time
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select, text

from kefu.domain import order_status as s
from kefu.domain.customer_profile import OrderFacts, summarise_orders
from kefu.domain.value_tier import assign_tiers
from kefu.ids import customer_id, order_id
from kefu.services.customer_stats import refresh_customer_stats
from kefu.services.shops import get_or_create_shop
from kefu.store.tables import Customer, Order

T0 = datetime(2025, 3, 1, 2, 30, tzinfo=timezone.utc)


def add_customer(session, shop_id, nick):
    c = Customer(id=customer_id(shop_id, "taobao", nick), shop_id=shop_id, platform="taobao", buyer_key=nick,
                 buyer_nick=nick, created_at=T0)
    session.add(c)
    return c


def add_order(session, shop_id, cust, no, status, paid, refunded=None, at=T0):
    session.add(Order(id=order_id(shop_id, no), shop_id=shop_id, platform="taobao", order_no=no,
                      customer_id=cust.id if cust else None, buyer_nick=cust.buyer_nick if cust else None,
                      status=status, paid_amount=Decimal(paid) if paid is not None else None,
                      refunded_amount=Decimal(refunded) if refunded is not None else None, created_at=at, source="test"))


def refresh(store, shop_id, ids=None):
    with store.engine.begin() as conn:
        return refresh_customer_stats(conn, shop_id, ids)


def figures(store, shop_id):
    with store.session() as session:
        rows = session.scalars(select(Customer).where(Customer.shop_id == shop_id))
        return {c.buyer_nick: c for c in rows}


@pytest.fixture
def shop(store):
    with store.session() as session:
        shop = get_or_create_shop(session, "统计测试店")
        a, b, c, d = (add_customer(session, shop.id, n) for n in ("阿花", "小明", "老王", "路人"))
        session.flush()
        add_order(session, shop.id, a, "1001", s.TRADE_FINISHED, "168.00", at=T0)
        add_order(session, shop.id, a, "1002", s.WAIT_BUYER_CONFIRM_GOODS, "99.90", "9.90", at=T0 + timedelta(days=9))
        add_order(session, shop.id, a, "1003", s.WAIT_BUYER_PAY, "50.00", at=T0 + timedelta(days=20))
        add_order(session, shop.id, b, "2001", s.TRADE_CLOSED, "80.00", "80.00", at=T0 + timedelta(days=2))
        add_order(session, shop.id, b, "2002", s.TRADE_CLOSED_BY_TAOBAO, "30.00", at=T0 + timedelta(days=3))
        add_order(session, shop.id, c, "3001", s.TRADE_FINISHED, "20.00", "35.00", at=T0 + timedelta(days=1))  # over-refunded
        add_order(session, shop.id, c, "3002", s.SELLER_CONSIGNED_PART, "45.50", at=T0 + timedelta(days=5))
        add_order(session, shop.id, None, "9001", s.TRADE_FINISHED, "10.00")  # no customer: ignored
        return shop.id


def test_counts_spend_and_dates(store, shop):
    changed = refresh(store, shop)
    assert changed == 4  # three customers' figures and tiers, and 路人's first tier
    got = figures(store, shop)
    a = got["阿花"]
    assert (a.orders_count, a.paid_orders_count) == (3, 2)
    assert a.total_spent == Decimal("258.00")
    assert a.first_order_at == T0
    assert a.last_order_at == T0 + timedelta(days=20)
    b = got["小明"]
    assert (b.orders_count, b.paid_orders_count, b.total_spent) == (2, 1, Decimal("0.00"))
    c = got["老王"]
    assert c.total_spent == Decimal("45.50")  # the over-refunded order counts 0, never negative
    nobody = got["路人"]
    assert (nobody.orders_count, nobody.total_spent, nobody.first_order_at) == (0, Decimal("0.00"), None)


def test_tiers(store, shop):
    refresh(store, shop)
    got = figures(store, shop)
    # Two customers spent: 20 % of 2 rounds up to one top customer; 50 % of 2 is one top-or-middle, so no middle.
    assert {n: c.value_tier for n, c in got.items()} == {"阿花": "top", "老王": "low", "小明": "none", "路人": "none"}


def test_a_second_refresh_changes_nothing(store, shop):
    refresh(store, shop)
    assert refresh(store, shop) == 0


def test_customers_who_lost_their_orders_go_back_to_zero(store, shop):
    refresh(store, shop)
    with store.session() as session:
        session.execute(text("UPDATE orders SET customer_id = NULL WHERE order_no IN ('3001', '3002')"))
    assert refresh(store, shop) == 1
    c = figures(store, shop)["老王"]
    assert (c.orders_count, c.paid_orders_count, c.total_spent, c.last_order_at, c.value_tier) == (0, 0, Decimal("0.00"), None, "none")


def test_refreshing_some_customers(store, shop):
    refresh(store, shop)
    with store.session() as session:
        a = session.get(Customer, customer_id(shop, "taobao", "阿花"))
        add_order(session, shop, a, "1004", s.WAIT_SELLER_SEND_GOODS, "12.00", at=T0 + timedelta(days=30))
        session.execute(text("UPDATE orders SET paid_amount = 1 WHERE order_no = '3002'"))  # 老王 not refreshed below
    assert refresh(store, shop, [customer_id(shop, "taobao", "阿花")]) == 1
    got = figures(store, shop)
    assert got["阿花"].total_spent == Decimal("270.00")
    assert got["阿花"].last_order_at == T0 + timedelta(days=30)
    assert got["老王"].total_spent == Decimal("45.50")
    assert refresh(store, shop, []) == 0


def test_shop_rules_set_the_tier_shares(store, shop):
    with store.session() as session:
        session.execute(text("UPDATE shops SET settings = :s WHERE id = :id"), {"s": '{"value_tiers": {"top": 0.5, "middle": 0.5}}', "id": shop})
    refresh(store, shop)
    tiers = {n: c.value_tier for n, c in figures(store, shop).items()}
    assert tiers["阿花"] == "top" and tiers["老王"] == "middle"
    with store.session() as session:
        session.execute(text("UPDATE shops SET settings = :s WHERE id = :id"), {"s": '{"value_tiers": {"top": 1.0, "middle": 0}}', "id": shop})
    refresh(store, shop)
    tiers = {n: c.value_tier for n, c in figures(store, shop).items()}
    assert tiers["阿花"] == "top" and tiers["老王"] == "top"


def test_other_shops_are_left_alone(store, shop):
    with store.session() as session:
        other = get_or_create_shop(session, "别的店")
        x = add_customer(session, other.id, "阿花")
        session.flush()
        add_order(session, other.id, x, "1001", s.TRADE_FINISHED, "5.00")
        other_id = other.id
    refresh(store, shop)
    assert figures(store, other_id)["阿花"].orders_count == 0
    assert figures(store, other_id)["阿花"].value_tier is None
    refresh(store, other_id)
    assert figures(store, other_id)["阿花"].total_spent == Decimal("5.00")
    assert figures(store, shop)["阿花"].total_spent == Decimal("258.00")


def test_sql_agrees_with_the_domain_rules(store):
    rnd = random.Random(20250301)
    statuses = list(s.ALL)
    with store.session() as session:
        shop = get_or_create_shop(session, "随机店")
        customers = [add_customer(session, shop.id, f"买家{i:03d}") for i in range(60)]
        session.flush()
        facts: dict[str, list[OrderFacts]] = {c.buyer_nick: [] for c in customers}
        for n in range(300):
            c = rnd.choice(customers[:50])  # the last ten never order
            status = rnd.choice(statuses)
            paid = Decimal(rnd.choice([0, 9, 10, 10, 99, 120, 500])) + Decimal(rnd.randrange(100)) / 100
            refunded = rnd.choice([None, None, Decimal("0"), Decimal("10.00"), paid, paid + 1])
            at = T0 + timedelta(minutes=rnd.randrange(200000))
            add_order(session, shop.id, c, str(10000 + n), status, paid, refunded, at)
            facts[c.buyer_nick].append(OrderFacts(status, at, paid, refunded))
        shop_id = shop.id
    refresh(store, shop_id)
    got = figures(store, shop_id)
    summaries = {nick: summarise_orders(f) for nick, f in facts.items()}
    expected_tiers = assign_tiers({nick: summary.total_spent for nick, summary in summaries.items()})
    for nick, summary in summaries.items():
        c = got[nick]
        assert (c.orders_count, c.paid_orders_count, c.total_spent) == (
            summary.orders_count, summary.paid_orders_count, summary.total_spent), nick
        assert (c.first_order_at, c.last_order_at) == (summary.first_order_at, summary.last_order_at), nick
        assert c.value_tier == expected_tiers[nick], nick


def test_the_connection_keeps_its_own_cache_size(sqlite_store):
    with sqlite_store.session() as session:
        shop_id = get_or_create_shop(session, "缓存店").id
    with sqlite_store.engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA cache_size=-4000")
        refresh_customer_stats(conn, shop_id)
        assert conn.exec_driver_sql("PRAGMA cache_size").scalar() == -4000


@pytest.mark.slow
def test_a_big_shop_is_refreshed_in_a_few_statements(sqlite_store):
    orders, customers = 100_000, 60_000
    with sqlite_store.session() as session:
        shop_id = get_or_create_shop(session, "大店").id
    rnd = random.Random(7)
    ids = [customer_id(shop_id, "taobao", f"nick{i}") for i in range(customers)]
    with sqlite_store.engine.begin() as conn:
        conn.execute(
            text("INSERT INTO customers (id, shop_id, platform, buyer_key, buyer_nick, marketing_consent, orders_count, "
                 "paid_orders_count, total_spent, created_at) VALUES (:id, :s, 'taobao', :k, :k, 0, 0, 0, 0, '2025-01-01 00:00:00.000000')"),
            [{"id": cid, "s": shop_id, "k": f"nick{i}"} for i, cid in enumerate(ids)],
        )
        conn.execute(
            text("INSERT INTO orders (id, shop_id, platform, order_no, customer_id, status, created_at, paid_amount, currency, source) "
                 "VALUES (:id, :s, 'taobao', :no, :c, :st, :at, :p, 'CNY', 'bench')"),
            [{"id": f"{shop_id}:{n}", "s": shop_id, "no": str(n), "c": ids[n % customers],
              "st": rnd.choice([s.TRADE_FINISHED, s.WAIT_BUYER_PAY]), "at": f"2025-01-{1 + n % 28:02d} 10:00:00.000000",
              "p": rnd.randrange(100, 50000)} for n in range(orders)],
        )
    statements = []
    started = time.perf_counter()
    with sqlite_store.engine.begin() as conn:
        from sqlalchemy import event

        event.listen(conn, "before_cursor_execute", lambda *args: statements.append(args[2]))
        changed = refresh_customer_stats(conn, shop_id)
    elapsed = time.perf_counter() - started
    assert changed == customers
    assert len(statements) < 15  # set-based: the statement count does not grow with the shop
    assert elapsed < 20, f"refreshing {orders} orders took {elapsed:.1f}s"
    with sqlite_store.engine.connect() as conn:
        tiers = dict(conn.execute(text("SELECT value_tier, COUNT(*) FROM customers GROUP BY value_tier")).all())
    assert sum(tiers.values()) == customers
    spenders = customers - tiers.get("none", 0)
    assert spenders * 0.2 <= tiers["top"] < spenders * 0.2 + 50  # ties at the cut go up together
    assert tiers["top"] + tiers["middle"] >= spenders * 0.5


# ---- shop figures (kefu.services.stats) ----

from datetime import date  # noqa: E402

from kefu.services.stats import daily_orders, region_split, store_counts, value_split  # noqa: E402
from kefu.store.tables import OrderLine  # noqa: E402


def test_store_counts(store, shop):
    with store.session() as session:
        session.add(OrderLine(id=f"{shop}:1001:#1", shop_id=shop, order_id=order_id(shop, "1001"), line_no=1, title="裙子", quantity=1))
        other = get_or_create_shop(session, "别的店")
        add_customer(session, other.id, "x")
        session.flush()
        assert store_counts(session, shop) == {"orders": 8, "order_lines": 1, "customers": 4, "shops": 1}
        assert store_counts(session) == {"orders": 8, "order_lines": 1, "customers": 5, "shops": 2}
        assert store_counts(session, other.id)["orders"] == 0


def test_value_split(store, shop):
    refresh(store, shop)
    with store.session() as session:
        split = value_split(session, shop, top_n=5)
    assert split.customers == 4
    assert split.customers_with_spend == 2
    assert split.top_count == 1
    assert split.top_share == pytest.approx(0.2)
    assert split.top_revenue == Decimal("258.00")
    assert split.total_revenue == Decimal("303.50")
    assert split.top_revenue_share == pytest.approx(258 / 303.5)
    assert [(c.buyer_nick, c.total_spent) for c in split.top_customers] == [("阿花", Decimal("258.00")), ("老王", Decimal("45.50"))]


def test_daily_orders_fall_on_the_shop_s_own_days(store):
    with store.session() as session:
        shop = get_or_create_shop(session, "日报店")
        buyer = add_customer(session, shop.id, "夜猫子")
        session.flush()
        add_order(session, shop.id, buyer, "1", s.TRADE_FINISHED, "100.00", at=datetime(2025, 3, 10, 15, 59, tzinfo=timezone.utc))  # 23:59 Beijing
        add_order(session, shop.id, buyer, "2", s.TRADE_FINISHED, "50.00", "20.00", at=datetime(2025, 3, 10, 16, 0, tzinfo=timezone.utc))  # 00:00 next day
        add_order(session, shop.id, buyer, "3", s.WAIT_BUYER_PAY, "70.00", at=datetime(2025, 3, 11, 3, 0, tzinfo=timezone.utc))
        add_order(session, shop.id, buyer, "4", s.TRADE_FINISHED, "1.00", at=datetime(2025, 2, 1, tzinfo=timezone.utc))  # outside
        shop_id = shop.id
    with store.session() as session:
        days = daily_orders(session, shop_id, days=3, today=date(2025, 3, 11))
    assert [(d.date, d.orders, d.paid_orders, d.revenue) for d in days] == [
        (date(2025, 3, 9), 0, 0, Decimal("0.00")),
        (date(2025, 3, 10), 1, 1, Decimal("100.00")),
        (date(2025, 3, 11), 2, 1, Decimal("30.00")),
    ]


def test_daily_orders_in_a_half_hour_time_zone(store):
    with store.session() as session:
        shop = get_or_create_shop(session, "Mumbai shop", platform="shopify")
        shop.settings = {"timezone": "Asia/Kolkata"}  # UTC+05:30
        buyer = add_customer(session, shop.id, "buyer")
        session.flush()
        add_order(session, shop.id, buyer, "1", s.TRADE_FINISHED, "10.00", at=datetime(2025, 3, 10, 18, 20, tzinfo=timezone.utc))  # 23:50
        add_order(session, shop.id, buyer, "2", s.TRADE_FINISHED, "20.00", at=datetime(2025, 3, 10, 18, 40, tzinfo=timezone.utc))  # 00:10
        shop_id = shop.id
    with store.session() as session:
        days = daily_orders(session, shop_id, days=2, today=date(2025, 3, 11))
    assert [(d.date.day, d.orders, d.revenue) for d in days] == [(10, 1, Decimal("10.00")), (11, 1, Decimal("20.00"))]


def test_region_split(store, shop):
    with store.session() as session:
        session.execute(text("UPDATE orders SET receiver_province = '浙江省' WHERE order_no IN ('1001', '1002', '1003')"))
        session.execute(text("UPDATE orders SET receiver_province = '上海' WHERE order_no IN ('3002')"))
    with store.session() as session:
        regions = region_split(session, shop)
    assert [(r.province, r.orders, r.paid_orders, r.revenue) for r in regions] == [
        ("浙江省", 3, 2, Decimal("258.00")),
        ("上海", 1, 1, Decimal("45.50")),
        (None, 4, 3, Decimal("10.00")),
    ]
