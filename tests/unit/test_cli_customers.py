import json
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kefu.cli import app
from kefu.domain import order_status as s
from kefu.ids import customer_id, order_id
from kefu.services.customer_stats import refresh_customer_stats
from kefu.services.shops import get_or_create_shop
from kefu.store.database import Store
from kefu.store.tables import Customer, CustomerNote, CustomerTag, Order, OrderLine

T0 = datetime(2025, 3, 10, 12, 41, 7, tzinfo=timezone.utc)
runner = CliRunner()


def seed(url: str) -> None:
    store = Store(url)
    with store.session() as session:
        for shop_name, buyers in (("杭州小店", ("tb_阿花", "tb_小明", "tb_双店")), ("上海小店", ("tb_双店",))):
            shop = get_or_create_shop(session, shop_name)
            for n, nick in enumerate(buyers):
                c = Customer(id=customer_id(shop.id, "taobao", nick), shop_id=shop.id, platform="taobao", buyer_key=nick,
                             buyer_nick=nick, province="浙江省", phone="13800000001", created_at=T0)
                session.add(c)
                session.flush()
                for k in range(3 - n):
                    oid = order_id(shop.id, f"38765120938415{n}{k}")
                    session.add(Order(id=oid, shop_id=shop.id, platform="taobao", order_no=f"38765120938415{n}{k}",
                                      customer_id=c.id, buyer_nick=nick, status=s.TRADE_FINISHED, paid_amount=Decimal("56.00"),
                                      created_at=T0 + timedelta(days=k * 7), source="test"))
                    session.flush()
                    session.add(OrderLine(id=f"{oid}:#1", shop_id=shop.id, order_id=oid, line_no=1, title="碎花连衣裙", quantity=1))
            refresh_customer_stats(session.connection(), shop.id)
    store.dispose()


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    seed(url)
    return url


def run(db, *args):
    return runner.invoke(app, ["--db", db, *args])


def test_stats_json(db):
    result = run(db, "stats", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["orders"], data["order_lines"], data["customers"], data["shops"]) == (9, 9, 4, 2)


def test_stats_of_one_shop(db):
    result = run(db, "stats", "--shop", "杭州小店", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert (data["orders"], data["customers"]) == (6, 3)
    assert data["value_split"]["customers_with_spend"] == 3
    assert data["value_split"]["top_count"] == 1
    assert data["value_split"]["top_customers"][0]["buyer_nick"] == "tb_阿花"
    assert data["value_split"]["total_revenue"] == "336.00"


def test_stats_table_has_the_80_20_line(db):
    result = run(db, "stats", "--shop", "杭州小店")
    assert result.exit_code == 0, result.output
    assert "80/20" in result.output
    assert "50.0%" in result.output  # 168.00 of 336.00
    assert "订单" in result.output


def test_stats_of_a_missing_shop(db):
    result = run(db, "stats", "--shop", "没有这家店")
    assert result.exit_code == 1
    assert "没有这家店" in result.output


def test_customer_show_json(db):
    result = run(db, "customer", "show", "tb_阿花", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["buyer_nick"] == "tb_阿花"
    assert data["total_spent"] == "168.00"
    assert len(data["orders"]) == 3
    assert data["first_order_at"] == "2025-03-10T12:41:07+00:00"
    assert data["last_order_at"] == "2025-03-24T12:41:07+00:00"
    assert data["median_days_between_orders"] == 7.0
    assert data["items"] == {"碎花连衣裙": 3}
    assert data["phone"] == "138****0001"  # masked on the terminal


def test_customer_show_table(db):
    result = run(db, "customer", "show", "tb_阿花")
    assert result.exit_code == 0, result.output
    assert "168.00" in result.output
    assert "13800000001" not in result.output


def test_customer_show_not_found(db):
    result = run(db, "customer", "show", "nobody")
    assert result.exit_code == 1
    assert "nobody" in result.output


def test_customer_show_ambiguous_needs_a_shop(db):
    result = run(db, "customer", "show", "tb_双店")
    assert result.exit_code == 1
    assert "--shop" in result.output and "上海小店" in result.output
    result = run(db, "customer", "show", "tb_双店", "--shop", "上海小店", "--json")
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["shop_name"] == "上海小店"


def test_customer_list(db):
    result = run(db, "customer", "list", "--shop", "杭州小店", "--json")
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["total"] == 3
    assert [c["buyer_nick"] for c in data["items"]] == ["tb_阿花", "tb_小明", "tb_双店"]
    assert data["items"][0]["total_spent"] == "168.00"
    result = run(db, "customer", "list", "--tier", "top", "--q", "阿", "--json")
    assert [c["buyer_nick"] for c in json.loads(result.output)["items"]] == ["tb_阿花"]
    result = run(db, "customer", "list")
    assert result.exit_code == 0 and "tb_小明" in result.output
    assert run(db, "customer", "list", "--tier", "gold").exit_code == 1


def test_customer_note_and_tag(db):
    assert run(db, "customer", "note", "tb_阿花", "喜欢碎花，L 码").exit_code == 0
    result = run(db, "customer", "tag", "tb_阿花", "老客", "大码")
    assert result.exit_code == 0, result.output
    assert run(db, "customer", "tag", "tb_阿花", "学生").exit_code == 0
    assert run(db, "customer", "tag", "tb_阿花", "大码", "--remove").exit_code == 0
    store = Store(db)
    with store.session() as session:
        assert [n.body for n in session.scalars(select(CustomerNote))] == ["喜欢碎花，L 码"]
        assert sorted(session.scalars(select(CustomerTag.tag))) == ["学生", "老客"]
    store.dispose()
    result = run(db, "customer", "show", "tb_阿花", "--json")
    data = json.loads(result.output)
    assert data["tags"] == ["学生", "老客"]
    assert data["notes"][0]["body"] == "喜欢碎花，L 码"
    assert run(db, "customer", "note", "nobody", "hi").exit_code == 1
    assert run(db, "customer", "note", "tb_阿花", "   ").exit_code == 1
