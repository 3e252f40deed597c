from datetime import UTC, date, datetime, timedelta
from decimal import Decimal

import pytest

from kefu.domain import order_status as s
from kefu.domain.growth.segment_filter import SegmentDefinitionError, parse_definition
from kefu.ids import customer_id, order_id
from kefu.services.customer_stats import refresh_customer_stats
from kefu.services.segments import (
    count_segment,
    group_report,
    refresh_scores,
    save_segment,
    saved_segments,
    score_of,
    segment_member_ids,
)
from kefu.services.shops import get_or_create_shop
from kefu.store.tables import Customer, CustomerTag, Order

NOW = datetime(2026, 11, 22, tzinfo=UTC)


def _shop_with_buyers(store) -> str:
    with store.session() as session:
        shop = get_or_create_shop(session, "分组店")
        plan = {  # nick: (days ago of each paid order, amount each, province, birthday)
            "常客": ([5, 35, 65, 95, 125, 155, 185, 215], 300, "浙江", date(1990, 11, 30)),
            "新客": ([3], 99, "新疆", None),
            "老客流失": ([400, 430, 460], 200, "广东", date(1988, 6, 1)),
            "沉睡": ([200], 50, "浙江", None),
        }
        n = 0
        for nick, (days, amount, province, born) in plan.items():
            cust = Customer(id=customer_id(shop.id, "taobao", nick), shop_id=shop.id, platform="taobao",
                            buyer_key=nick, buyer_nick=nick, province=province, birthday=born, created_at=NOW,
                            marketing_consent=nick != "沉睡")
            session.add(cust)
            for d in days:
                n += 1
                at = NOW - timedelta(days=d)
                session.add(Order(id=order_id(shop.id, str(n)), shop_id=shop.id, platform="taobao", order_no=str(n),
                                  customer_id=cust.id, buyer_nick=nick, status=s.TRADE_FINISHED, created_at=at,
                                  paid_at=at, paid_amount=Decimal(amount), source="test"))
        session.add(Customer(id=customer_id(shop.id, "taobao", "只看不买"), shop_id=shop.id, platform="taobao",
                             buyer_key="只看不买", buyer_nick="只看不买", created_at=NOW))
        session.flush()
        session.add(CustomerTag(customer_id=customer_id(shop.id, "taobao", "常客"), tag="大码"))
        shop_id = shop.id
    with store.engine.begin() as conn:
        refresh_customer_stats(conn, shop_id)
    with store.session() as session:
        assert refresh_scores(session, shop_id, NOW) == 5
    return shop_id


def test_scores_and_cycles_are_kept_per_customer(store):
    shop_id = _shop_with_buyers(store)
    with store.session() as session:
        regular = score_of(session, customer_id(shop_id, "taobao", "常客"))
        assert regular.rfm_group == "champions" and regular.cycle_basis == "own" and regular.cycle_days == 30
        assert regular.cycle_stage == "ahead"
        lapsed = score_of(session, customer_id(shop_id, "taobao", "老客流失"))
        assert lapsed.rfm_group == "at_risk" and lapsed.cycle_stage == "lost"
        assert score_of(session, customer_id(shop_id, "taobao", "只看不买")).rfm_group == "prospects"
        groups = {g.group: g for g in group_report(session, shop_id)}
        assert groups["champions"].customers == 1 and groups["champions"].spend == Decimal(2400)
        assert sum(g.share_of_spend for g in groups.values()) == pytest.approx(1.0)


def test_saved_segments_count_live(store):
    shop_id = _shop_with_buyers(store)
    with store.session() as session:
        save_segment(session, shop_id, "浙江老客", {"provinces": ["浙江"], "min_orders": 2}, by="owner", now=NOW)
        save_segment(session, shop_id, "近期生日", {"birthday_within_days": 14}, by="owner", now=NOW)
        save_segment(session, shop_id, "可营销大码", {"tags": ["大码"], "marketing_consent": True}, by="owner", now=NOW)
    with store.session() as session:
        counts = {c.name: c.customers for c in saved_segments(session, shop_id, NOW)}
        assert counts == {"浙江老客": 1, "近期生日": 1, "可营销大码": 1}
        # Saving under the same name replaces the definition.
        save_segment(session, shop_id, "浙江老客", {"provinces": ["浙江"]}, by="owner", now=NOW)
    with store.session() as session:
        assert {c.name: c.customers for c in saved_segments(session, shop_id, NOW)}["浙江老客"] == 2
        ids = segment_member_ids(session, shop_id, parse_definition({"rfm_groups": ["new"]}), NOW)
        assert ids == [customer_id(shop_id, "taobao", "新客")]
        assert count_segment(session, shop_id, parse_definition({"cycle_stages": ["lost"]}), NOW) == 1


def test_a_bad_definition_names_its_key():
    with pytest.raises(SegmentDefinitionError, match="min_spent"):
        parse_definition({"min_spent": "lots"})
    with pytest.raises(SegmentDefinitionError, match="colour"):
        parse_definition({"colour": "red"})
