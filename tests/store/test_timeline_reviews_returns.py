from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kefu.ids import customer_id
from kefu.services.shops import get_or_create_shop
from kefu.services.timeline import customer_timeline
from kefu.store.returns_tables import ReturnRequest
from kefu.store.review_tables import Review
from kefu.store.tables import Customer

NOW = datetime(2026, 11, 22, 4, tzinfo=UTC)


def test_reviews_and_returns_join_the_one_timeline(store):
    with store.session() as session:
        shop = get_or_create_shop(session, "时间线店")
        cid = customer_id(shop.id, "taobao", "tb_一")
        session.add(Customer(id=cid, shop_id=shop.id, platform="taobao", buyer_key="tb_一", buyer_nick="tb_一",
                             created_at=NOW))
        session.flush()
        session.add(Review(id="r1", shop_id=shop.id, review_key="top:1:1", source="top", tid="1", customer_id=cid,
                           item_title="羊毛大衣", result="bad", content="色差太大", created_at=NOW - timedelta(days=2),
                           imported_at=NOW))
        session.add(ReturnRequest(id="x1", shop_id=shop.id, refund_id="R1", source="top_refund", order_no="1",
                                  customer_id=cid, title="羊毛大衣", kind="return_refund", reason_text="颜色与描述不符",
                                  reason_code="colour", reason_side="subjective", refund_fee=Decimal("399"),
                                  requested_at=NOW - timedelta(days=1), status="accepted", created_at=NOW, updated_at=NOW))
        session.flush()
        items = customer_timeline(session, cid)
    assert [(i.kind, i.status) for i in items] == [("return", "accepted"), ("review", "bad")]
    assert items[0].text == "羊毛大衣：颜色与描述不符" and items[1].text == "羊毛大衣：色差太大"
