"""Return requests on SQLite and PostgreSQL: TOP refund import, decisions with rules, actions, overrides (audited),
the return's arrival, refund due and overdue alerts, the reasons report and the rate-jump alert."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from kefu.cli import app as cli_app
from kefu.domain import order_status as os_
from kefu.ids import customer_id as make_customer_id
from kefu.services.return_reasons import raise_rate_jump_alerts, reason_report
from kefu.services.returns import (
    ReturnNotFound,
    ReturnsError,
    act,
    create_request,
    get_request,
    import_refunds,
    list_requests,
    mark_refunded,
    raise_overdue_alerts,
    record_return,
    request_json,
    sweep_returns,
)
from kefu.services.shops import get_or_create_shop
from kefu.store.returns_tables import ReturnRequest
from kefu.store.tables import Alert, AuditEntry, Customer, Order, OrderLine, Product, Shipment

SIGNED = datetime(2025, 3, 10, 2, 0, tzinfo=UTC)  # 10:00 Beijing; the window ends 03-17 24:00 Beijing
NOW = datetime(2025, 3, 20, 4, 0, tzinfo=UTC)
CLOTHING = ("tags_on", "unwashed", "no_odour", "no_stains")


def add_order(s, shop_id, no, *, nick="tb_小林", title="纯棉圆领短袖T恤", product=None, signed=SIGNED, finished=None,
              paid=None, price=Decimal("129.00"), tier=None):
    cid = make_customer_id(shop_id, "taobao", nick)
    if s.get(Customer, cid) is None:
        s.add(Customer(id=cid, shop_id=shop_id, platform="taobao", buyer_key=nick, buyer_nick=nick, created_at=NOW,
                       value_tier=tier))
        s.flush()
    oid = f"{shop_id}:{no}"
    s.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no=no, customer_id=cid, buyer_nick=nick,
                status=os_.TRADE_FINISHED if finished else os_.WAIT_BUYER_CONFIRM_GOODS, source="test",
                created_at=(paid or SIGNED - timedelta(days=3)), paid_at=(paid or SIGNED - timedelta(days=3)),
                finished_at=finished))
    s.flush()
    s.add(OrderLine(id=f"{oid}:#1", shop_id=shop_id, order_id=oid, line_no=1, sub_order_no=f"{no}001", title=title,
                    product_id=product, quantity=1, price=price, paid_amount=price))
    if signed is not None:
        s.add(Shipment(id=f"{oid}:W{no}", shop_id=shop_id, order_id=oid, waybill_no=f"W{no}", status="signed",
                       signed_at=signed))
    s.flush()
    return oid


@pytest.fixture
def shop(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "退货店").id
        s.add(Product(id="p-tee", shop_id=shop_id, product_key="tee", title="纯棉圆领短袖T恤", category="上衣"))
        s.add(Product(id="p-dress", shop_id=shop_id, product_key="dress", title="伴娘服连衣裙", category="连衣裙",
                      extra={"returns_exempt": "made_to_order"}))
        s.flush()
        add_order(s, shop_id, "3001", product="p-tee")
        add_order(s, shop_id, "3002", product="p-dress", title="伴娘服连衣裙", nick="tb_阿花")
        add_order(s, shop_id, "3003", product="p-tee", signed=None, finished=SIGNED - timedelta(days=30), nick="tb_老王")
        add_order(s, shop_id, "3006", product="p-tee", nick="tb_大客户", tier="top")
    return shop_id


def test_import_decides_each_refund_and_reports_bad_records(store, shop, fixtures_dir):
    data = (fixtures_dir / "returns" / "refunds_top.json").read_bytes()
    with store.session() as s:
        result = import_refunds(s, shop, data, "refunds_top.json", now=NOW)
    assert (result.new, result.updated, len(result.problems)) == (3, 0, 2)
    assert result.problems[0].startswith("refunds_top.json#4: status:")
    with store.session() as s:
        inside = get_request(s, "90001", shop)
        assert inside.order_id == f"{shop}:3001" and inside.product_id == "p-tee" and inside.category == "上衣"
        assert inside.signed_source == "parcel" and inside.reason_code == "size_choice"
        assert inside.decision == "accept"
        ids = [r["id"] for r in inside.decision_rules]
        assert "returns.window.inside" in ids and "returns.intact.on_receipt" in ids
        exempt = get_request(s, "90002", shop)
        assert exempt.decision == "refuse"
        assert [r["id"] for r in exempt.decision_rules] == ["returns.exempt.made_to_order"]
        quality = get_request(s, "90003", shop)  # signed by the order's end a month before: still accepted
        assert quality.decision == "accept" and quality.freight_payer == "seller"
        assert quality.reason_side == "subjective"
    with store.session() as s:
        again = import_refunds(s, shop, data, "refunds_top.json", now=NOW)
    assert (again.new, again.updated, again.unchanged) == (0, 0, 3)


def test_newer_platform_status_updates_but_keeps_the_agents_work(store, shop):
    first = b'[{"refund_id": "1", "tid": "3001", "status": "WAIT_SELLER_AGREE", "reason": "\xe5\xb0\xba\xe7\xa0\x81\xe6\x8b\x8d\xe9\x94\x99", "created": "2025-03-14 10:00:00", "modified": "2025-03-14 10:00:00"}]'
    with store.session() as s:
        import_refunds(s, shop, first, "a.json", now=NOW)
        act(s, "1", "accept", by="xiaomei", now=NOW)
    done = first.replace(b"WAIT_SELLER_AGREE", b"SUCCESS").replace(b'"modified": "2025-03-14 10:00:00"',
                                                                   b'"modified": "2025-03-18 10:00:00"')
    with store.session() as s:
        result = import_refunds(s, shop, done, "b.json", now=NOW)
        request = get_request(s, "1", shop)
        assert result.updated == 1
        assert request.status == "refunded" and request.refunded_at is not None
        assert request.handled_by == "xiaomei"


def test_goodwill_after_seven_days_with_a_fee_once_the_return_is_inspected(store, shop):
    with store.session() as s:
        request = create_request(s, shop, order_no="3001", reason="不喜欢/效果不好", by="xiaomei",
                                 requested_at=SIGNED + timedelta(days=11), now=NOW)
        assert request.decision == "accept"
        assert "returns.goodwill.accept" in [r["id"] for r in request.decision_rules]
        decision = record_return(s, request.id, checklist=dict.fromkeys(CLOTHING, True), condition="light_wear",
                                 resellable=True, by="xiaomei", received_at=NOW, now=NOW)
        assert decision.depreciation_fee == Decimal("12.90")
        assert request.depreciation_fee == Decimal("12.90")
        assert _aware(request.refund_due_at) == NOW + timedelta(days=7)  # the clock runs from the return's arrival
        act(s, request.id, "accept", by="xiaomei", now=NOW)
        assert request.status == "accepted"
        assert _aware(request.refund_due_at) == NOW + timedelta(days=7)


def _aware(moment):
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment


def test_high_value_buyer_gets_the_longer_extension(store, shop):
    with store.session() as s:
        late = SIGNED + timedelta(days=20)
        normal = create_request(s, shop, order_no="3001", reason="不喜欢", requested_at=late, now=NOW)
        vip = create_request(s, shop, order_no="3006", reason="不喜欢", requested_at=late, now=NOW)
        assert normal.decision == "refuse" and vip.decision == "accept"
        assert "returns.goodwill.high_value" in [r["id"] for r in vip.decision_rules]


def test_override_needs_a_reason_and_is_audited(store, shop):
    with store.session() as s:
        request = create_request(s, shop, order_no="3002", reason="7天无理由退换货", by="xiaomei", now=NOW)
        assert request.decision == "refuse"
        with pytest.raises(ReturnsError, match="override needs a reason"):
            act(s, request.id, "accept", by="xiaomei", now=NOW)
        act(s, request.id, "accept", by="xiaomei", reason="老客户，店主同意 13800000002", now=NOW)
        assert request.status == "accepted" and request.override_outcome == "accept"
        assert "13800000002" not in request.override_reason
        entry = s.scalar(select(AuditEntry).where(AuditEntry.action == "returns.override"))
        assert entry.target_id == request.id and "refuse → accept" in entry.detail
        payload = request_json(request, now=NOW)
        assert payload["rules"][-1]["id"] == "returns.override"
        assert payload["override"]["by"] == "xiaomei"


def test_refund_due_overdue_alert_and_refunded(store, shop):
    with store.session() as s:
        request = create_request(s, shop, order_no="3001", reason="尺码拍错", requested_at=SIGNED + timedelta(days=2),
                                 now=NOW)
        record_return(s, request.id, checklist=dict.fromkeys(CLOTHING, True), condition="as_new", resellable=True,
                      by="a", received_at=NOW - timedelta(days=9), now=NOW)
        act(s, request.id, "accept", by="a", now=NOW)
        assert request_json(request, now=NOW)["due"] == "overdue"
        page = list_requests(s, shop, status="overdue", now=NOW)
        assert [r.request.id for r in page.items] == [request.id] and page.counts["overdue"] == 1
        assert raise_overdue_alerts(s, shop, now=NOW) == 1
        assert raise_overdue_alerts(s, shop, now=NOW) == 0  # one alert per request
        mark_refunded(s, request.id, by="a", now=NOW)
        alert = s.scalar(select(Alert).where(Alert.kind == "returns.refund_overdue"))
        assert alert.status == "resolved"
        assert list_requests(s, shop, status="overdue", now=NOW).total == 0


def test_errors_are_clear(store, shop):
    with store.session() as s:
        with pytest.raises(ReturnsError, match="no order 9999"):
            create_request(s, shop, order_no="9999", reason="质量问题", now=NOW)
        with pytest.raises(ReturnNotFound):
            get_request(s, "nope", shop)
        request = create_request(s, shop, order_no="3001", reason="质量问题", now=NOW)
        with pytest.raises(ReturnsError, match="condition"):
            record_return(s, request.id, checklist={}, condition="shiny", resellable=None, by=None, now=NOW)
        assert s.scalar(select(ReturnRequest.id).where(ReturnRequest.order_no == "9999")) is None


def _sales_with_returns(s, shop_id, product, title, *, per_period, returns_by_period):
    """Orders for a product in each 30-day period before NOW (oldest first) and that many returns."""
    n = 0
    for index, returns in enumerate(returns_by_period):
        start = NOW - timedelta(days=30 * (len(returns_by_period) - index))
        for i in range(per_period):
            n += 1
            no = f"{product}-{n}"
            paid = start + timedelta(days=1, hours=i)
            add_order(s, shop_id, no, product=product, title=title, paid=paid, signed=paid + timedelta(days=2),
                      nick=f"tb_{product}{n % 7}")
            if i < returns:
                create_request(s, shop_id, order_no=no, reason="尺码拍错" if i % 2 else "质量问题",
                               requested_at=paid + timedelta(days=4), now=NOW)


def test_reasons_report_and_rate_jump_alert(store, shop):
    with store.session() as s:
        s.add(Product(id="p-jeans", shop_id=shop, product_key="jeans", title="高腰直筒牛仔裤", category="裤装"))
        s.flush()
        _sales_with_returns(s, shop, "p-jeans", "高腰直筒牛仔裤", per_period=20, returns_by_period=[1, 1, 1, 8])
        _sales_with_returns(s, shop, "p-tee", "纯棉圆领短袖T恤", per_period=20, returns_by_period=[2, 2, 2, 2])
    with store.session() as s:
        report = reason_report(s, shop, now=NOW, periods=4)
        assert report.returns == 19 and report.sold == 164  # 160 + the fixture's four orders
        jeans = next(p for p in report.products if p.product_id == "p-jeans")
        assert (jeans.sold, jeans.returns) == (80, 11)
        assert jeans.subjective + jeans.objective == 11
        assert set(jeans.by_reason) == {"quality", "size_choice"}
        assert [t.returns for t in report.trend] == [3, 3, 3, 10]
        assert [j.product_id for j in report.jumps] == ["p-jeans"]
        json.dumps(report.to_json())
        raised = raise_rate_jump_alerts(s, shop, now=NOW)
        assert [r.product_id for r in raised] == ["p-jeans"]
        assert raise_rate_jump_alerts(s, shop, now=NOW + timedelta(days=1)) == []  # one alert per period
        alert = s.scalar(select(Alert).where(Alert.kind == "returns.rate_jump"))
        assert "高腰直筒牛仔裤" in alert.rule and alert.detail["product_id"] == "p-jeans"
        assert sweep_returns(s, shop, now=NOW).rate_jumps == 0


def test_cli_import_decide_report(store, shop, fixtures_dir, tmp_path):
    runner = CliRunner()
    url = store.url
    path = fixtures_dir / "returns" / "refunds_top.json"
    result = runner.invoke(cli_app, ["--db", url, "returns", "import", str(path), "--shop", "退货店"])
    assert result.exit_code == 1, result.output  # two bad records: reported, the good ones landed
    assert "refunds_top.json#4" in result.output
    result = runner.invoke(cli_app, ["--db", url, "returns", "decide", "90002", "--shop", "退货店", "--json"])
    assert result.exit_code == 0, result.output
    payload = json.loads(result.output)
    assert payload["decision"] == "refuse" and payload["rules"][0]["id"] == "returns.exempt.made_to_order"
    result = runner.invoke(cli_app, ["--db", url, "returns", "decide", "90001", "--shop", "退货店"])
    assert result.exit_code == 0 and "returns.window.inside" in result.output
    result = runner.invoke(cli_app, ["--db", url, "returns", "report", "--shop", "退货店", "--json"])
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["returns"] >= 0
    missing = runner.invoke(cli_app, ["--db", url, "returns", "decide", "nope", "--shop", "退货店"])
    assert missing.exit_code == 1


def test_sweep_all_shops_as_the_server_timer_does(store, shop):
    from kefu.services.returns import sweep_all

    with store.session() as s:
        request = create_request(s, shop, order_no="3001", reason="质量问题", now=NOW)
        record_return(s, request.id, checklist=dict.fromkeys(CLOTHING, True), condition="as_new", resellable=True,
                      by="a", received_at=NOW - timedelta(days=8), now=NOW)
        act(s, request.id, "accept", by="a", now=NOW)
    results = sweep_all(store, now=NOW)
    assert [(r.shop_id, r.overdue) for r in results] == [(shop, 1)]
    assert sweep_all(store, now=NOW)[0].overdue == 0


def test_a_refund_imported_before_its_order_is_linked_when_decided_again(store, shop):
    from kefu.services.returns import apply_decision

    data = b'[{"refund_id": "55", "tid": "4001", "status": "WAIT_SELLER_AGREE", "created": "2025-03-14 10:00:00"}]'
    with store.session() as s:
        import_refunds(s, shop, data, "early.json", now=NOW)
        assert get_request(s, "55", shop).order_id is None
        add_order(s, shop, "4001", product="p-tee")
        request = get_request(s, "55", shop)
        apply_decision(s, request, now=NOW)
        assert request.order_id == f"{shop}:4001" and request.signed_source == "parcel"


def test_cli_marks_a_product_exempt(store, shop):
    runner = CliRunner()
    result = runner.invoke(cli_app, ["--db", store.url, "returns", "exempt", "tee", "--as", "perishable",
                                     "--shop", "退货店"])
    assert result.exit_code == 1 and "no product tee" in result.output
    result = runner.invoke(cli_app, ["--db", store.url, "returns", "exempt", "纯棉圆领短袖T恤", "--as", "perishable",
                                     "--shop", "退货店"])
    assert result.exit_code == 0, result.output
    with store.session() as s:
        assert s.get(Product, "p-tee").extra == {"returns_exempt": "perishable"}
        request = create_request(s, shop, order_no="3001", reason="不喜欢", now=NOW)
        assert [r["id"] for r in request.decision_rules] == ["returns.exempt.perishable"]
    bad = runner.invoke(cli_app, ["--db", store.url, "returns", "exempt", "p-tee", "--as", "shiny", "--shop", "退货店"])
    assert bad.exit_code == 1 and "exemption" in bad.output
    cleared = runner.invoke(cli_app, ["--db", store.url, "returns", "exempt", "p-tee", "--clear", "--shop", "退货店"])
    assert cleared.exit_code == 0
