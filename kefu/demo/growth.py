"""Demo step for growth, care and risk: RFM scores, saved segments, a gift catalogue, listings with problems to fix,
care visits, and one first-time buyer turning extortionist (差评师) in chat, which raises the risk score."""

from __future__ import annotations

import tempfile
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

from sqlalchemy import select

from kefu.demo.steps import DemoContext
from kefu.store.desk_tables import ChatMessage, Conversation
from kefu.store.tables import Customer, Order

SEGMENTS = {
    "头部老客 / top repeat buyers": {"value_tiers": ["top"], "min_orders": 2},
    "该回购了 / due to buy again": {"cycle_stages": ["due", "winback"], "marketing_consent": True},
    "两周内生日 / birthdays in two weeks": {"birthday_within_days": 14, "marketing_consent": True},
}
GIFTS = (  # key, name, cost, sensitivity, suits, categories
    ("socks", "纯棉短袜", "6", "none", "any", ("女装", "配饰")),
    ("scarf", "小丝巾", "18", "none", "female", ("配饰", "女装")),
    ("hair_clip", "珍珠发夹", "9", "none", "female", ("配饰",)),
    ("sample", "香氛小样", "15", "personal", "female", ("配饰",)),
    ("condom", "安全套（不可作惊喜）", "8", "intimate", "any", ()),
    ("mug", "马克杯", "12", "none", "any", ("家居",)),
)
LISTINGS = """宝贝ID,标题,价格,类目,运费模板,属性,描述
DEMO-L1,秋冬羊毛大衣女 全国包邮,459,女装,"包邮,新疆西藏除外",材质:羊毛70%;尺码:S-XL,衣长98cm 胸围108cm；支持七天无理由退换货
DEMO-L2,纯棉白T恤 现货当天发,59,女装,包邮,材质:棉,平铺测量 误差1-3cm；七天无理由
DEMO-L3,定制刻字手链,128,配饰,包邮,,可刻字母和日期
DEMO-L4,小香风针织开衫,239,女装,包邮,材质:腈纶,衣长 52cm 袖长 58cm；七天无理由
DEMO-L5,真丝睡衣套装,329,女装,包邮,材质:桑蚕丝,平铺测量；支持七天无理由退换；质保一年
DEMO-L6,高腰阔腿裤,169,女装,包邮,材质:聚酯纤维,16点前付款当天发；平铺测量误差1-2cm；七天无理由
"""
EXTORTION_CHAT = (
    ("buyer", "在吗？今天能发货吗？发新疆，货到付款", 0),
    ("seller", "亲，我们暂不支持货到付款哦，付款后48小时内发出~", 2),
    ("buyer", "衣服有个线头，不给我返100块我就给差评", 60 * 24 * 3),
    ("buyer", "加我微信转账，别走平台", 60 * 24 * 3 + 5),
)


def demo_growth(context: DemoContext) -> str:
    from kefu.services.care import schedule_visits
    from kefu.services.extortion_risk import assess_buyer
    from kefu.services.gifts import add_gift_item, propose_surprise
    from kefu.services.listing_audit import import_listings
    from kefu.services.segments import refresh_scores, save_segment

    now = context.now
    with context.store.session() as session:
        shop_id = context.shop_id
        scored = refresh_scores(session, shop_id, now)
        for name, definition in SEGMENTS.items():
            save_segment(session, shop_id, name, definition, by="demo", now=now)
        for key, name, cost, sensitivity, suits, categories in GIFTS:
            add_gift_item(session, shop_id, key=key, name=name, cost=Decimal(cost), sensitivity=sensitivity,
                          suits_gender=suits, categories=categories)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "宝贝自查.csv"
            path.write_text(LISTINGS, encoding="utf-8")
            listings = import_listings(session, shop_id, path, now=now)
        visits = schedule_visits(session, shop_id, now)
        top = session.scalars(select(Customer.id).where(Customer.shop_id == shop_id, Customer.value_tier == "top")
                              .order_by(Customer.total_spent.desc()).limit(3)).all()
        for cid in top:
            propose_surprise(session, cid, by="demo", now=now)
        campaign = _coupon_campaign(session, shop_id, now)
        buyer, order = _extortion_buyer(session, shop_id, now)
        risk = assess_buyer(session, buyer, trigger="contact", now=now, order_id=order)
    if context.progress:
        context.progress("growth", 1, 1)
    return (f"增长 / growth: {scored} 位客户评分 scored, {len(SEGMENTS)} 个分组 segments, "
            f"{listings.new} 个宝贝自查 listings, {visits.after_signing + visits.birthday + visits.winback} 个回访 visits, "
            f"回访券 coupons {campaign}, 差评师风险 risk {risk.score}")


def _extortion_buyer(session, shop_id: str, now) -> tuple[str, str | None]:
    """A first-time buyer of the demo shop (to a remote province when there is one) who turns to extortion in chat:
    the chat is added to an existing demo order, so the orders stay exactly those the import brought."""
    conv_id = f"demo-ext-{shop_id[:8]}"
    existing = session.get(Conversation, conv_id)
    if existing is not None:
        order = session.scalar(select(Order.id).where(Order.customer_id == existing.customer_id).limit(1))
        return existing.customer_id, order
    candidates = (select(Order.id, Order.customer_id, Order.created_at).join(Customer, Customer.id == Order.customer_id)
                  .where(Order.shop_id == shop_id, Customer.paid_orders_count == 1, Order.paid_at.is_not(None))
                  .order_by(Order.receiver_province.like("新疆%").desc(), Order.created_at.desc()).limit(1))
    order_id, cid, created = session.execute(candidates).one()
    customer = session.get(Customer, cid)
    start = max(created, now - timedelta(days=4))
    session.add(Conversation(id=conv_id, shop_id=shop_id, channel="qianniu", buyer_key=customer.buyer_key,
                             customer_id=cid, status="open", waiting=True, last_message_at=start,
                             last_buyer_at=start, created_at=start))
    session.flush()
    for n, (sender, body, minutes) in enumerate(EXTORTION_CHAT):
        at = start + timedelta(minutes=minutes)
        session.add(ChatMessage(id=f"{conv_id}-{n}", shop_id=shop_id, conversation_id=conv_id, sender=sender,
                                author="小桃" if sender == "seller" else None, sent_at=at, body=body,
                                source="demo", created_at=at))
    session.flush()
    return cid, order_id



def _coupon_campaign(session, shop_id: str, now) -> str:
    """A come-back coupon campaign run a month before the demo's end for the top repeat buyers, with its budget
    reached and the redemptions the later orders brought (the coupon report has a return to show)."""
    from kefu.services.coupons import campaign_report, create_campaign, match_campaign_redemptions, run_campaign
    from kefu.store.growth_tables import CouponCampaign, SavedSegment

    name = "老客回访券 (演示) / come-back coupons (demo)"
    campaign = session.scalar(select(CouponCampaign).where(CouponCampaign.shop_id == shop_id,
                                                           CouponCampaign.name == name))
    if campaign is None:
        segment = session.scalar(select(SavedSegment.id).where(SavedSegment.shop_id == shop_id,
                                                               SavedSegment.name == "头部老客 / top repeat buyers"))
        started = now - timedelta(days=30)
        campaign = create_campaign(session, shop_id, name=name, amount=Decimal(30), threshold=Decimal(199),
                                   valid_days=21, per_customer_limit=1, budget=Decimal(600), segment_id=segment,
                                   message_cost=Decimal("0.05"), by="demo", now=started)
        run_campaign(session, campaign.id, now=started, by="demo")
    match_campaign_redemptions(session, campaign.id)
    report = campaign_report(session, campaign.id, now)
    return f"{report.figures.issued}/{report.figures.redeemed}"
