import json
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from kefu.domain import order_status as s
from kefu.ids import customer_id, order_id
from kefu.services.extortion_risk import assess_buyer, evidence_pack, evidence_pack_json, high_risk_buyers, latest_risk
from kefu.services.shops import get_or_create_shop
from kefu.store.case_tables import Promise
from kefu.store.desk_tables import ChatMessage, Conversation
from kefu.store.tables import Customer, Order

NOW = datetime(2026, 11, 22, 12, tzinfo=UTC)


def _buyer(session, shop_id, nick, *, province="新疆"):
    cust = Customer(id=customer_id(shop_id, "taobao", nick), shop_id=shop_id, platform="taobao", buyer_key=nick,
                    buyer_nick=nick, province=province, created_at=NOW)
    session.add(cust)
    return cust


def _chat(session, shop_id, cust, lines):
    conv = Conversation(id=f"c-{cust.buyer_key}", shop_id=shop_id, channel="qianniu", buyer_key=cust.buyer_key,
                        customer_id=cust.id, created_at=NOW)
    session.add(conv)
    session.flush()
    for i, (sender, body) in enumerate(lines):
        session.add(ChatMessage(id=f"m-{cust.buyer_key}-{i}", shop_id=shop_id, conversation_id=conv.id, sender=sender,
                                author="小美" if sender == "seller" else None, sent_at=NOW + timedelta(minutes=i),
                                body=body, source="test", created_at=NOW))


def test_extortion_buyer_is_scored_high_and_the_pack_quotes_the_demand(store):
    with store.session() as session:
        shop = get_or_create_shop(session, "风险店")
        cust = _buyer(session, shop.id, "差评师甲")
        session.flush()
        session.add(Order(id=order_id(shop.id, "9001"), shop_id=shop.id, platform="taobao", order_no="9001",
                          customer_id=cust.id, buyer_nick=cust.buyer_nick, status=s.WAIT_SELLER_SEND_GOODS,
                          created_at=NOW, paid_amount=Decimal("59"), receiver_province="新疆维吾尔自治区",
                          shipping_method="货到付款", source="test"))
        _chat(session, shop.id, cust, [("buyer", "今天能发货吗？发新疆，货到付款"),
                                       ("seller", "亲，今天16点前付款当天发出哦"),
                                       ("buyer", "质量太差了，不赔我200就给差评，电话13800000011"),
                                       ("buyer", "加微信转账给我")])
        session.flush()
        session.add(Promise(id="p1", shop_id=shop.id, customer_id=cust.id, dedupe_key="p1", kind="ship_by",
                            what="当天发出", source_text="今天16点前付款当天发出哦", made_by="小美", made_at=NOW))
        assessment = assess_buyer(session, cust.id, trigger="contact", now=NOW, order_id=order_id(shop.id, "9001"))
        shop_id, cust_id = shop.id, cust.id
    assert assessment.level == "high"
    codes = [sig["code"] for sig in assessment.signals]
    assert codes[:2] == ["new_buyer", "remote_cod_same_day"]
    assert "extortion_language" in codes and "off_platform_payment" in codes
    with store.session() as session:
        assert latest_risk(session, cust_id).score == assessment.score
        assert [c.buyer_nick for _a, c in high_risk_buyers(session, shop_id)] == ["差评师甲"]
        pack = evidence_pack(session, cust_id, now=NOW)
    text = evidence_pack_json(pack)
    assert "13800000011" not in text and "138****0011" in text
    assert pack["demand"][0]["words"].startswith("质量太差了，不赔我200就给差评")
    assert [m["from"] for m in pack["transcript"]] == ["买家", "小美", "买家", "买家"]
    assert pack["orders"][0]["order_no"] == "9001" and pack["promises"][0]["what"] == "当天发出"
    json.loads(text)


def test_a_regular_buyer_stays_low(store):
    with store.session() as session:
        shop = get_or_create_shop(session, "风险店")
        cust = _buyer(session, shop.id, "老顾客", province="浙江")
        session.flush()
        for n in range(3):
            session.add(Order(id=order_id(shop.id, f"7{n}"), shop_id=shop.id, platform="taobao", order_no=f"7{n}",
                              customer_id=cust.id, buyer_nick=cust.buyer_nick, status=s.TRADE_FINISHED,
                              created_at=NOW - timedelta(days=30 * n), paid_amount=Decimal("99"), source="test"))
        _chat(session, shop.id, cust, [("buyer", "这款有M码吗"), ("seller", "有的亲")])
        session.flush()
        assessment = assess_buyer(session, cust.id, trigger="contact", now=NOW)
    assert assessment.level == "low" and assessment.score == 0


def test_new_orders_get_their_buyer_scored_once_and_history_is_left_alone(store):
    from kefu.services.extortion_risk import assess_new_orders

    with store.session() as session:
        shop = get_or_create_shop(session, "风险店")
        fresh = _buyer(session, shop.id, "新买家")
        old = _buyer(session, shop.id, "老订单", province="浙江")
        session.flush()
        session.add(Order(id=order_id(shop.id, "n1"), shop_id=shop.id, platform="taobao", order_no="n1",
                          customer_id=fresh.id, status=s.WAIT_SELLER_SEND_GOODS, created_at=NOW - timedelta(hours=3),
                          buyer_message="今天能发货吗？货到付款", source="test"))
        session.add(Order(id=order_id(shop.id, "h1"), shop_id=shop.id, platform="taobao", order_no="h1",
                          customer_id=old.id, status=s.TRADE_FINISHED, created_at=NOW - timedelta(days=90),
                          source="test"))
        session.flush()
        assert assess_new_orders(session, shop.id, NOW) == 1
        assert assess_new_orders(session, shop.id, NOW) == 0
        assert latest_risk(session, old.id) is None
        fresh_risk = latest_risk(session, fresh.id)
    assert fresh_risk.level == "medium" and [s["code"] for s in fresh_risk.signals] == ["new_buyer", "remote_cod_same_day"]
