from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

from kefu.domain import order_status as s
from kefu.ids import customer_id, order_id
from kefu.services.care import came_online, complete_visit, schedule_visits, visit_queue
from kefu.services.customer_stats import refresh_customer_stats
from kefu.services.segments import refresh_scores
from kefu.services.shops import get_or_create_shop
from kefu.store.case_tables import Case
from kefu.store.tables import Customer, CustomerNote, Order, OrderLine, Shipment

NOW = datetime(2026, 11, 22, 4, tzinfo=UTC)  # 12:00 in Beijing


def _shop(store):
    with store.session() as session:
        shop = get_or_create_shop(session, "回访店")
        people = {
            "签收客": dict(birthday=None, consent=False, orders=[8]),
            "寿星": dict(birthday=date(1992, 11, 24), consent=True, orders=[100, 200]),
            "没同意的寿星": dict(birthday=date(1992, 11, 23), consent=False, orders=[50]),
            "该回购了": dict(birthday=None, consent=True, orders=[45, 75, 105, 135]),
        }
        n = 0
        for nick, p in people.items():
            cust = Customer(id=customer_id(shop.id, "taobao", nick), shop_id=shop.id, platform="taobao", buyer_key=nick,
                            buyer_nick=nick, birthday=p["birthday"], marketing_consent=p["consent"], hobbies="瑜伽",
                            personality_type="analytical", created_at=NOW)
            session.add(cust)
            session.flush()
            for days in p["orders"]:
                n += 1
                oid = order_id(shop.id, str(n))
                at = NOW - timedelta(days=days)
                session.add(Order(id=oid, shop_id=shop.id, platform="taobao", order_no=str(n), customer_id=cust.id,
                                  status=s.TRADE_FINISHED, created_at=at, paid_at=at, paid_amount=Decimal(199),
                                  source="test"))
                session.flush()
                session.add(OrderLine(id=f"{oid}:1", shop_id=shop.id, order_id=oid, line_no=1, title="真丝衬衫"))
                session.add(Shipment(id=f"{oid}:YT{n}", shop_id=shop.id, order_id=oid, waybill_no=f"YT{n}",
                                     signed_at=at + timedelta(days=2)))
        session.add(CustomerNote(customer_id=customer_id(shop.id, "taobao", "签收客"), body="喜欢宽松款", created_at=NOW))
        shop_id = shop.id
    with store.engine.begin() as conn:
        refresh_customer_stats(conn, shop_id)
    with store.session() as session:
        refresh_scores(session, shop_id, NOW)
    return shop_id


def test_visits_are_scheduled_once_each_with_talking_points(store):
    shop_id = _shop(store)
    with store.session() as session:
        first = schedule_visits(session, shop_id, NOW)
        again = schedule_visits(session, shop_id, NOW)
    assert (first.after_signing, first.birthday, first.winback) == (1, 1, 1)
    assert (again.after_signing, again.birthday, again.winback) == (0, 0, 0)
    with store.session() as session:
        queue = {(v.kind, c.buyer_nick): v for v, c in visit_queue(session, shop_id)}
    assert set(queue) == {("after_signing", "签收客"), ("birthday", "寿星"), ("winback", "该回购了")}
    points = queue[("after_signing", "签收客")].talking_points
    assert points[0].startswith("问问「真丝衬衫」") and any("喜欢宽松款" in p for p in points)
    assert any(p.startswith("2 天后生日") for p in queue[("birthday", "寿星")].talking_points)


def test_an_open_complaint_leads_the_talking_points_and_online_visits_respect_the_cooldown(store):
    shop_id = _shop(store)
    with store.session() as session:
        cust = customer_id(shop_id, "taobao", "该回购了")
        session.add(Case(id="c1", shop_id=shop_id, customer_id=cust, source="manual", summary="色差", step="confirm",
                         status="open", opened_at=NOW, updated_at=NOW))
        session.flush()
        visit = came_online(session, cust, NOW)
        assert visit.kind == "came_online" and visit.talking_points[0].startswith("先跟进未结束的投诉：色差")
        assert came_online(session, cust, NOW + timedelta(days=3)) is None
        assert came_online(session, customer_id(shop_id, "taobao", "签收客"), NOW) is None  # one order: not a regular
        complete_visit(session, visit.id, by="小美", now=NOW, note="聊了尺码")
        assert visit.status == "done" and visit.done_by == "小美"


def test_a_birthday_wish_goes_out_through_the_outbox_in_the_shops_voice(store):
    from sqlalchemy import select

    from kefu.store.messaging_tables import OutboxMessage

    shop_id = _shop(store)
    with store.session() as session:
        schedule_visits(session, shop_id, NOW)
        [(visit, customer)] = [(v, c) for v, c in visit_queue(session, shop_id) if v.kind == "birthday"]
        result = complete_visit(session, visit.id, by="小美", now=NOW, send=True)
        assert result.status == "queued" and visit.message_id == result.message_id
        row = session.scalar(select(OutboxMessage).where(OutboxMessage.id == result.message_id))
        assert row.purpose == "marketing" and row.event == "care.birthday"
        assert row.text.startswith("寿星，回访店祝您生日快乐") and "拒收请回复R" in row.text
