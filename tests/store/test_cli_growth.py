import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from typer.testing import CliRunner

from kefu.cli import app
from kefu.domain import order_status as s
from kefu.ids import customer_id, order_id
from kefu.services.customer_stats import refresh_customer_stats
from kefu.services.shops import get_or_create_shop
from kefu.store.tables import Customer, Order

runner = CliRunner()


def _db(store) -> str:
    now = datetime.now(UTC)
    with store.session() as session:
        shop = get_or_create_shop(session, "命令行店")
        cust = Customer(id=customer_id(shop.id, "taobao", "阿强"), shop_id=shop.id, platform="taobao",
                        buyer_key="阿强", buyer_nick="阿强", province="新疆", created_at=now)
        session.add(cust)
        session.flush()
        session.add(Order(id=order_id(shop.id, "1"), shop_id=shop.id, platform="taobao", order_no="1",
                          customer_id=cust.id, status=s.TRADE_FINISHED, created_at=now - timedelta(days=3),
                          paid_at=now - timedelta(days=3), paid_amount=Decimal(99), buyer_message="不给我返50就差评",
                          source="test"))
        shop_id = shop.id
    with store.engine.begin() as conn:
        refresh_customer_stats(conn, shop_id)
    return store.engine.url.render_as_string(hide_password=False)


def test_segments_risk_and_listings_from_the_command_line(store, tmp_path):
    db = _db(store)
    refreshed = runner.invoke(app, ["--db", db, "segments", "refresh", "--json"])
    assert refreshed.exit_code == 0, refreshed.output
    assert json.loads(refreshed.output)["groups"][0]["group"] == "new"
    bad = runner.invoke(app, ["--db", db, "segments", "save", "x", '{"colour": 1}'])
    assert bad.exit_code == 2 and "colour" in bad.output
    assert runner.invoke(app, ["--db", db, "segments", "save", "新疆", '{"provinces": ["新疆"]}']).exit_code == 0
    listed = json.loads(runner.invoke(app, ["--db", db, "segments", "list", "--json"]).output)
    assert listed == [{"name": "新疆", "definition": {"provinces": ["新疆"]}, "customers": 1, "spend": "99.00"}]
    pack = tmp_path / "pack.json"
    risk = runner.invoke(app, ["--db", db, "risk", "assess", "阿强", "--json", "--evidence", str(pack)])
    assert risk.exit_code == 0, risk.output
    assert json.loads(risk.output.splitlines()[0])["level"] in ("medium", "high")
    assert json.loads(pack.read_text(encoding="utf-8"))["orders"][0]["buyer_message"] == "不给我返50就差评"
    listings = tmp_path / "l.csv"
    listings.write_text("标题,运费模板,描述\n现货当天发 包邮,\"新疆收费\",\n", encoding="utf-8")
    imported = runner.invoke(app, ["--db", db, "listings", "import", str(listings)])
    assert imported.exit_code == 0 and "新增 new 1" in imported.output
    audit = json.loads(runner.invoke(app, ["--db", db, "listings", "audit", "--json"]).output)
    assert {f["code"] for f in audit[0]["findings"]} >= {"free_shipping_claim", "missing_return_facts"}
    assert runner.invoke(app, ["--db", db, "care", "schedule"]).exit_code == 0
