from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from sqlalchemy import select

from kefu.domain import order_status as s
from kefu.ids import customer_id, order_id
from kefu.services.coupons import (
    CampaignError,
    campaign_report,
    create_campaign,
    match_campaign_redemptions,
    run_campaign,
)
from kefu.services.segments import save_segment
from kefu.services.shops import get_or_create_shop
from kefu.store.growth_tables import Coupon
from kefu.store.messaging_tables import OutboxMessage
from kefu.store.tables import Customer, Order

NOW = datetime(2026, 11, 22, 4, tzinfo=UTC)  # noon in Beijing: outside quiet hours


def _shop(store):
    with store.session() as session:
        shop = get_or_create_shop(session, "券店")
        for n in range(5):
            session.add(Customer(id=customer_id(shop.id, "taobao", f"c{n}"), shop_id=shop.id, platform="taobao",
                                 buyer_key=f"c{n}", buyer_nick=f"c{n}", province="浙江", marketing_consent=n != 0,
                                 created_at=NOW))
        session.flush()
        segment = save_segment(session, shop.id, "浙江", {"provinces": ["浙江"]}, by="t", now=NOW)
        return shop.id, segment


def test_a_campaign_stops_at_its_budget_and_skips_customers_without_consent(store):
    shop_id, segment = _shop(store)
    with store.session() as session:
        campaign = create_campaign(session, shop_id, name="回访", amount=Decimal(50), threshold=Decimal(300),
                                   valid_days=14, per_customer_limit=1, budget=Decimal(100), segment_id=segment,
                                   message_cost=Decimal("0.05"), by="owner", now=NOW)
        run = run_campaign(session, campaign.id, now=NOW)
        campaign_id = campaign.id
    assert (run.issued, run.stopped_for_budget) == (2, True)
    assert run.suppressed == 1  # c0 never agreed to marketing: no message, so no coupon and no budget spent
    with store.session() as session:
        coupons = session.scalars(select(Coupon)).all()
        assert len(coupons) == 2 and all(c.message_id for c in coupons)
        texts = session.scalars(select(OutboxMessage.text).where(OutboxMessage.status == "queued")).all()
        assert all("满300减50元" in t for t in texts)
        with pytest.raises(CampaignError):
            run_campaign(session, campaign_id, now=NOW)


def test_redemptions_are_matched_and_roi_reported(store):
    shop_id, segment = _shop(store)
    with store.session() as session:
        campaign = create_campaign(session, shop_id, name="回访", amount=Decimal(50), threshold=Decimal(300),
                                   valid_days=14, per_customer_limit=1, budget=Decimal(1000), segment_id=segment,
                                   by="owner", now=NOW)
        run_campaign(session, campaign.id, now=NOW)
        later = NOW + timedelta(days=3)
        session.add(Order(id=order_id(shop_id, "r1"), shop_id=shop_id, platform="taobao", order_no="r1",
                          customer_id=customer_id(shop_id, "taobao", "c1"), status=s.WAIT_SELLER_SEND_GOODS,
                          created_at=later, paid_at=later, goods_amount=Decimal(350), paid_amount=Decimal(300),
                          source="test"))
        session.add(Order(id=order_id(shop_id, "r2"), shop_id=shop_id, platform="taobao", order_no="r2",
                          customer_id=customer_id(shop_id, "taobao", "c2"), status=s.WAIT_SELLER_SEND_GOODS,
                          created_at=later, paid_at=later, goods_amount=Decimal(120), paid_amount=Decimal(120),
                          source="test"))
        session.flush()
        assert match_campaign_redemptions(session, campaign.id) == 1
        assert match_campaign_redemptions(session, campaign.id) == 0
        report = campaign_report(session, campaign.id, NOW + timedelta(days=4))
    assert report.figures.issued == 4 and report.figures.redeemed == 1
    assert report.figures.revenue == Decimal(300) and report.figures.roi == 5.0
    assert report.budget_left == Decimal(800)


def test_terms_that_make_no_sense_are_refused(store):
    shop_id, segment = _shop(store)
    with store.session() as session, pytest.raises(CampaignError, match="threshold"):
        create_campaign(session, shop_id, name="x", amount=Decimal(50), threshold=Decimal(20), valid_days=7,
                        per_customer_limit=1, budget=Decimal(100), segment_id=segment, by="o", now=NOW)
