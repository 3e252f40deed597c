"""Stock check and stockout cases on SQLite and PostgreSQL: first paid first served, the buyer's choice carried out,
the pick list, the cancelled share and the pre-sale switch."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kefu.services import stockouts
from kefu.services.requirements import pick_list
from kefu.services.shops import get_or_create_shop
from kefu.services.stock_check import check_stock
from kefu.services.stockouts import (
    ChoiceRefused,
    case_figures,
    choose,
    live_case_for_order,
    pick_outcomes,
    record_reply,
    switch_to_presale,
)
from kefu.store.stock_tables import StockMovement, StockoutCase, StockoutLine, StockRefund
from kefu.store.tables import OrderLine, Sku
from stock_seed import BLACK_M, NOW, WHITE_L, WHITE_M, add_order, seed_catalogue

H = timedelta(hours=1)
@pytest.fixture
def shop(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "缺货店").id
        seed_catalogue(s, shop_id)
    return shop_id


def live_case(store, order_id):
    with store.session() as s:
        case = live_case_for_order(s, order_id)
        return case.id if case else None


def test_first_paid_is_served_first_and_only_the_short_order_gets_a_case(store, shop):
    with store.session() as s:
        early = add_order(s, shop, "1", [(WHITE_M, 2)], paid_at=NOW - 5 * H, buyer="a")
        late = add_order(s, shop, "2", [(WHITE_M, 1), (WHITE_L, 1)], paid_at=NOW - 2 * H, buyer="b")
        result = check_stock(s, shop, now=NOW)
    assert (result.orders_checked, result.short_orders, result.cases_opened) == (2, 1, 1)
    assert live_case(store, early) is None
    with store.session() as s:
        case = live_case_for_order(s, late)
        assert case.status == "awaiting_buyer"
        assert case.offered == ["ship_available", "substitute", "wait", "cancel"]
        assert case.refund_amount == Decimal("100.00")
        assert case.message_status in {"no_outbox", "queued", "suppressed", "blocked", "duplicate", "failed"}
        assert "订单 2" in case.message_text and "白色 / M）缺 1 件" in case.message_text
        assert "2. 换成有货的规格：白色 / L" in case.message_text
        lines = s.scalars(select(StockoutLine).where(StockoutLine.case_id == case.id)).all()
        assert [(l.order_line_id, l.missing, l.substitutes) for l in lines] == [(f"{late}#1", 1, ["s-wl"])]
    with store.session() as s:
        again = check_stock(s, shop, now=NOW + H)  # a second check opens nothing new
    assert (again.short_orders, again.cases_opened) == (1, 0)


def test_ship_what_is_there_refunds_the_missing_units_and_the_pick_list_shows_the_rest(store, shop):
    with store.session() as s:
        add_order(s, shop, "1", [(WHITE_M, 2)], paid_at=NOW - 5 * H, buyer="a")
        oid = add_order(s, shop, "2", [(WHITE_M, 1), (WHITE_L, 2)], paid_at=NOW - 2 * H, buyer="b")
        check_stock(s, shop, now=NOW)
    case_id = live_case(store, oid)
    with store.session() as s:
        reply = record_reply(s, case_id, "先发有货的吧 电话13800000001", now=NOW + H)
        assert reply.choice.option == "ship_available" and reply.refused is None
        assert reply.case.status == "done" and "13800000001" not in reply.case.buyer_reply
    with store.session() as s:
        refunds = s.scalars(select(StockRefund).where(StockRefund.order_id == oid)).all()
        assert [(r.kind, r.order_line_id, r.quantity, r.amount) for r in refunds] == [
            ("missing_units", f"{oid}#1", 1, Decimal("100.00"))]
        outcome = pick_outcomes(s, [oid])[oid]
        assert not outcome.hold_order
        assert outcome.for_line(f"{oid}#1", 1).ship_now == 0 and outcome.for_line(f"{oid}#1", 1).refunded == 1
        assert outcome.for_line(f"{oid}#2", 2).ship_now == 2
        assert check_stock(s, shop, now=NOW + 2 * H).short_orders == 0  # the refunded unit is no longer wanted


def test_an_agent_substitutes_the_line_and_the_stock_moves(store, shop):
    with store.session() as s:
        oid = add_order(s, shop, "3", [(BLACK_M, 1)], paid_at=NOW - H, buyer="c")
        check_stock(s, shop, now=NOW)
    case_id = live_case(store, oid)
    with store.session() as s:
        case = live_case_for_order(s, oid)
        assert case.offered == ["substitute", "wait", "cancel"]  # nothing ships: no "ship what is there"
        choose(s, case_id, "substitute", by="xiaomei", now=NOW + H, substitute_sku_id="s-wl")
    with store.session() as s:
        line = s.get(OrderLine, f"{oid}#1")
        assert line.sku_properties == WHITE_L
        case = s.get(StockoutCase, case_id)
        assert (case.status, case.choice, case.decided_by, case.live_key) == ("done", "substitute", "xiaomei", None)
        moves = s.scalars(select(StockMovement).where(StockMovement.reference == line.id)
                          .order_by(StockMovement.delta)).all()
        assert [(m.sku_id, m.kind, m.delta) for m in moves] == [("s-bm", "substitute_out", -1), ("s-wl", "substitute_in", 1)]
        picked = {p.order.id: p for p in pick_list(s, shop)}
        assert picked[oid].lines[0].sku_properties == WHITE_L
        assert pick_outcomes(s, [oid])[oid].for_line(line.id, 1).substituted_from == BLACK_M
        assert check_stock(s, shop, now=NOW + 2 * H).short_orders == 0


def test_a_substitute_asked_by_colour_that_is_not_in_stock_is_refused_and_the_case_waits(store, shop):
    with store.session() as s:
        oid = add_order(s, shop, "4", [(WHITE_M, 3)], paid_at=NOW - H, buyer="d")
        check_stock(s, shop, now=NOW)
    case_id = live_case(store, oid)
    with store.session() as s:
        reply = record_reply(s, case_id, "换红色", now=NOW + H)
        assert reply.choice.option == "substitute" and "红色" in reply.refused
        assert reply.case.status == "awaiting_buyer"
        with pytest.raises(ChoiceRefused):
            choose(s, case_id, "substitute", by="xiaomei", now=NOW, substitute_sku_id="s-bm")  # black M has none


def test_unknown_replies_leave_the_case_waiting(store, shop):
    with store.session() as s:
        oid = add_order(s, shop, "5", [(BLACK_M, 1)], paid_at=NOW - H, buyer="e")
        check_stock(s, shop, now=NOW)
        case = live_case_for_order(s, oid)
        reply = record_reply(s, case.id, "什么时候能发货呀", now=NOW + H)
        assert not reply.choice.understood
        assert (reply.case.status, reply.case.reply_understood) == ("awaiting_buyer", False)
        assert pick_outcomes(s, [oid])[oid].hold_order


def test_waiting_splits_the_shipment_then_the_restock_closes_the_case(store, shop):
    with store.session() as s:
        oid = add_order(s, shop, "6", [(BLACK_M, 1), (WHITE_L, 1)], paid_at=NOW - H, buyer="f")
        check_stock(s, shop, now=NOW)
        case = live_case_for_order(s, oid)
        reply = record_reply(s, case.id, "可以等到下周", now=NOW + H)
        assert reply.case.status == "waiting_restock" and reply.case.wait_until == date(2026, 11, 29)
        outcome = pick_outcomes(s, [oid])[oid]
        assert outcome.for_line(f"{oid}#1", 1).held == 1 and outcome.for_line(f"{oid}#2", 1).ship_now == 1
        s.get(Sku, "s-bm").stock = 4  # the goods arrived
        s.flush()
        result = check_stock(s, shop, now=NOW + 30 * H)
        assert result.cases_closed == 1
        assert s.get(StockoutCase, case.id).status == "done"


def test_cancel_records_the_cancellation_and_the_share_is_counted(store, shop):
    with store.session() as s:
        first = add_order(s, shop, "7", [(BLACK_M, 1)], paid_at=NOW - 2 * H, buyer="g")
        second = add_order(s, shop, "8", [(BLACK_M, 1)], paid_at=NOW - H, buyer="h")
        check_stock(s, shop, now=NOW)
        record_reply(s, live_case_for_order(s, first).id, "取消吧", now=NOW + H)
        record_reply(s, live_case_for_order(s, second).id, "2", now=NOW + H)  # substitute: white L
        refunds = s.scalars(select(StockRefund).where(StockRefund.order_id == first)).all()
        assert [(r.kind, r.amount) for r in refunds] == [("cancellation", Decimal("100.00"))]
        assert pick_outcomes(s, [first])[first].do_not_ship
        figures = case_figures(s, shop)
        assert (figures.total, figures.cancelled, figures.done, figures.cancelled_share) == (2, 1, 1, 0.5)
        assert check_stock(s, shop, now=NOW + 2 * H).orders_checked == 1  # the cancelled order is out of the queue


def test_refund_on_an_order_with_nothing_in_stock_means_cancel_and_ship_now_is_refused(store, shop):
    with store.session() as s:
        oid = add_order(s, shop, "9", [(BLACK_M, 2)], paid_at=NOW - H, buyer="i")
        check_stock(s, shop, now=NOW)
        case_id = live_case_for_order(s, oid).id
        ship = record_reply(s, case_id, "先发有货的", now=NOW + H)  # nothing is in stock: not a choice that applies
        assert ship.refused and ship.case.status == "awaiting_buyer"
        reply = record_reply(s, case_id, "退款", now=NOW + 2 * H)
        assert reply.case.status == "cancelled"


def test_presale_tells_waiting_buyers_once(store, shop, monkeypatch):
    sent = []

    def fake_deliver(session, **kwargs):
        sent.append(kwargs)
        return "m1", "queued"

    monkeypatch.setattr(stockouts, "deliver", fake_deliver)
    with store.session() as s:
        oid = add_order(s, shop, "10", [(BLACK_M, 1)], paid_at=NOW - H, buyer="j")
        check_stock(s, shop, now=NOW)
        assert sent[0]["event"] == "stockout.options" and sent[0]["customer_id"] == "c-j"
        result = switch_to_presale(s, "s-bm", now=NOW + H, by="boss", restock_date=date(2026, 12, 5))
        assert (result.orders_told, result.already) == (1, False)
        assert sent[1]["event"] == "stock.presale" and "12月5日" in sent[1]["text"]
        assert switch_to_presale(s, "s-bm", now=NOW + 2 * H, by="boss").already
        assert live_case_for_order(s, oid).restock_date == date(2026, 12, 5)
    assert len(sent) == 2


def test_two_short_lines_never_move_onto_the_same_last_unit(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "最后一件").id
        seed_catalogue(s, shop_id, white_m=0, black_m=0, white_l=1)
        oid = add_order(s, shop_id, "11", [(BLACK_M, 1), (WHITE_M, 1)], paid_at=NOW - H, buyer="k")
        check_stock(s, shop_id, now=NOW)
        case_id = live_case_for_order(s, oid).id
        with pytest.raises(ChoiceRefused), s.begin_nested():
            choose(s, case_id, "substitute", by="xiaomei", now=NOW + H)
    with store.session() as s:
        assert s.get(OrderLine, f"{oid}#1").sku_properties == BLACK_M  # nothing half-done
        assert s.get(StockoutCase, case_id).status == "awaiting_buyer"


def test_a_colour_asked_for_takes_the_closest_matching_size(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "换色店").id
        seed_catalogue(s, shop_id, white_m=5, black_m=0, white_l=50)
        oid = add_order(s, shop_id, "12", [(BLACK_M, 1)], paid_at=NOW - H, buyer="l")
        check_stock(s, shop_id, now=NOW)
        reply = record_reply(s, live_case_for_order(s, oid).id, "换白色吧", now=NOW + H)
        assert reply.case.status == "done" and s.get(OrderLine, f"{oid}#1").sku_properties == WHITE_M  # same size M
