"""The service desk on SQLite and PostgreSQL: chat imports, live messages, personality, knowledge, drafts, replies, KPIs."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from kefu.cli import app as cli_app
from kefu.domain import order_status as os_
from kefu.ids import customer_id as make_customer_id
from kefu.services import conversations as conv
from kefu.services.buyer_card import buyer_card
from kefu.services.conversations import (
    MessageError,
    import_chat_file,
    list_inbox,
    messages_of,
    receive_buyer_message,
    refresh_personality,
    set_personality,
)
from kefu.services.drafts import draft_for_conversation
from kefu.services.followups import complete_followup, list_followups
from kefu.services.knowledge import KnowledgeError, knowledge_of, save_entry, search_knowledge
from kefu.services.replies import ReplyBlocked, send_reply
from kefu.services.response_kpis import shop_kpis
from kefu.services.shop_facts import load_shop_facts
from kefu.services.shops import get_or_create_shop
from kefu.store.desk_tables import ChatMessage, Conversation, FollowupTask
from kefu.store.tables import Customer, ImportRejection, Order, Product, Shipment, Sku

BJ = timezone(timedelta(hours=8))
NOW = datetime(2025, 3, 20, 6, 0, tzinfo=UTC)  # 14:00 Beijing
SHIPPING = "cutoff: 16:00\nship_promise_hours: 48\nsame_day: 是\ncouriers: 中通、圆通\nfree_shipping: 是\n" \
           "excluded_provinces: 新疆、西藏\nremote_fee: 15\ncash_on_delivery: 否\ninvoice: 是"
RECORD = """tb_小红 (2025-03-18 10:00:00):
在吗？碎花裙M码有货吗
我的电话13800000012

小桃子:小美 (2025-03-18 10:00:05):
[自动回复]您好，欢迎光临
小桃子:小美 (2025-03-18 10:02:00):
亲，有的
tb_小红 (2025-03-18 23:59:00):
好的我再想想
小桃子:阿强 (2025-03-19 00:04:00):
好的亲
不属于任何消息的一行在这里？不，这行属于上一条
"""


@pytest.fixture(autouse=True)
def keyword_analysis(monkeypatch):
    """Keyword analysis in these tests (the text model trains for seconds per process; the web tests use it)."""
    monkeypatch.setattr(conv, "analyse_message", conv.analyse_message_by_keywords)
    monkeypatch.setattr(conv, "analyse_messages", lambda texts: [conv.analyse_message_by_keywords(t) for t in texts])


@pytest.fixture
def shop_id(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "小桃子").id
        save_entry(s, shop_id=shop_id, kind="shipping", title="发货与快递", data=SHIPPING, now=NOW)
        save_entry(s, shop_id=shop_id, kind="returns", title="七天无理由", data="return_days: 7\nbuyer_pays_return: 是", now=NOW)
    return shop_id


def add_buyer(session, shop_id, nick, *, orders=(), tier="top"):
    cid = make_customer_id(shop_id, "taobao", nick)
    session.add(Customer(id=cid, shop_id=shop_id, platform="taobao", buyer_key=nick, buyer_nick=nick, created_at=NOW,
                         value_tier=tier, orders_count=len(orders), total_spent=Decimal("299.00")))
    session.flush()
    for no, status, created, waybill in orders:
        oid = f"{shop_id}:{no}"
        session.add(Order(id=oid, shop_id=shop_id, platform="taobao", order_no=no, customer_id=cid, buyer_nick=nick,
                          status=status, source="test", created_at=created, paid_amount=Decimal("129.00"),
                          receiver_province="新疆维吾尔自治区"))
        session.flush()
        if waybill:
            session.add(Shipment(id=f"{oid}:{waybill}", shop_id=shop_id, order_id=oid, carrier_name="中通快递",
                                 waybill_no=waybill, status="in_transit"))
    session.flush()
    return cid


def test_qianniu_import_lands_once_links_the_customer_and_reports_bad_lines(store, shop_id):
    with store.session() as s:
        cid = add_buyer(s, shop_id, "tb_小红")
    data = ("多余的一行\n" + RECORD).encode("gbk")
    with store.session() as s:
        first = import_chat_file(s, shop_id, "聊天记录.txt", data, now=NOW)
    with store.session() as s:
        again = import_chat_file(s, shop_id, "聊天记录.txt", data, now=NOW)
        conversation = s.scalars(select(Conversation)).one()
        messages = messages_of(s, conversation.id)
        rejections = s.scalars(select(ImportRejection.reason)).all()
    assert (first.messages_new, first.duplicates, again.messages_new, again.duplicates) == (5, 0, 0, 5)
    assert [str(p).split(": ")[0] for p in first.problems] == ["聊天记录.txt:1"]
    assert len(rejections) == 2  # one per run
    assert conversation.customer_id == cid and conversation.waiting is False
    assert "13800000012" not in messages[0].body and "138****0012" in messages[0].body
    assert [m.sender for m in messages] == ["buyer", "seller", "seller", "buyer", "seller"]
    assert messages[1].auto_reply and messages[2].author == "小美"
    assert messages[4].body.endswith("这行属于上一条")


def test_a_live_buyer_message_is_analysed_waits_in_the_inbox_and_a_new_buyer_becomes_a_customer(store, shop_id):
    with store.session() as s:
        message = receive_buyer_message(s, shop_id=shop_id, buyer="tb_新客", text="垃圾！投诉！什么态度！！", now=NOW)
        conversation = s.get(Conversation, message.conversation_id)
        assert message.intent == "complaint" and message.anger >= 60
        assert conversation.waiting and conversation.angry
        assert s.get(Customer, conversation.customer_id).buyer_nick == "tb_新客"
    with store.session() as s:
        page = list_inbox(s, shop_id, status="angry")
        assert [r.buyer_nick for r in page.rows] == ["tb_新客"] and page.counts["waiting"] == 1
        with pytest.raises(MessageError, match="text"):
            receive_buyer_message(s, shop_id=shop_id, buyer="tb_新客", text="   ", now=NOW)


def test_personality_is_read_from_the_buyers_messages_and_an_agents_override_wins(store, shop_id, monkeypatch):
    monkeypatch.setattr(conv, "read_personality", lambda texts: ("analytical", {"analytical": 3.0}, (texts[-1],)))
    with store.session() as s:
        message = receive_buyer_message(s, shop_id=shop_id, buyer="tb_甲", text="面料成分具体是什么？有检测报告吗", now=NOW)
        customer_id = s.get(Conversation, message.conversation_id).customer_id
        assert s.get(Customer, customer_id).personality_type == "analytical"
        set_personality(s, customer_id, "amiable", by="xiaomei", now=NOW)
        refresh_personality(s, customer_id, now=NOW)
        assert s.get(Customer, customer_id).personality_type == "amiable"
        card = buyer_card(s, customer_id, now=NOW)
        assert (card.personality_computed, card.personality_override) == ("analytical", "amiable")
        set_personality(s, customer_id, None, by="xiaomei", now=NOW)
        assert s.get(Customer, customer_id).personality_type == "analytical"
        with pytest.raises(MessageError, match="personality"):
            set_personality(s, customer_id, "grumpy", by="xiaomei", now=NOW)


def test_knowledge_maps_to_the_guards_facts_with_stock_from_skus(store, shop_id):
    with store.session() as s:
        s.add(Product(id="p1", shop_id=shop_id, product_key="p1", title="碎花雪纺连衣裙"))
        s.flush()
        s.add_all([Sku(id="k1", shop_id=shop_id, product_id="p1", properties="白色;M", stock=4),
                   Sku(id="k2", shop_id=shop_id, product_id="p1", properties="白色;L", stock=0)])
        saved = save_entry(s, shop_id=shop_id, kind="product", title="碎花雪纺连衣裙", product_id="p1",
                           data="size_chart: S 84; M 88\nmaterial: 雪纺\nprice: 129")
        assert saved.warnings == ()
        flagged = save_entry(s, shop_id=shop_id, kind="shipping", title="周末发货", data="same_day: 也许", active=False)
        assert [w.split(":")[0] for w in flagged.warnings] == ["same_day"]
        with pytest.raises(KnowledgeError, match="title"):
            save_entry(s, shop_id=shop_id, kind="faq", title=" ")
        with pytest.raises(KnowledgeError, match="product_id"):
            save_entry(s, shop_id=shop_id, kind="product", title="x", product_id="nope")
        knowledge = knowledge_of(s, shop_id)
        product = knowledge.of_kind("product")[0]
        assert product.stock == {"白色;L": 0, "白色;M": 4}
        facts = load_shop_facts(s, shop_id)
        assert facts.cash_on_delivery is False and tuple(facts.free_shipping_excluded_provinces) == ("新疆", "西藏")
        assert facts.ship_cutoff.hour == 16
        assert search_knowledge(s, shop_id, "连衣裙多少钱")[0].entry.title == "碎花雪纺连衣裙"


def test_the_trap_draft_cites_facts_passes_the_guard_and_a_risky_reply_is_blocked(store, shop_id):
    with store.session() as s:
        add_buyer(s, shop_id, "tb_疆")
        message = receive_buyer_message(s, shop_id=shop_id, buyer="tb_疆", text="今天能发货吗？发新疆，货到付款", now=NOW)
        view = draft_for_conversation(s, message.conversation_id, now=NOW)
        assert "新疆不在包邮范围内" in view.draft.text and "暂不支持货到付款" in view.draft.text
        assert {c.title for c in view.draft.citations} == {"发货与快递"}
        assert view.guard.action == "allow" and view.followups == ()
        with pytest.raises(ReplyBlocked) as blocked:
            send_reply(s, message.conversation_id, "今天一定发出，新疆也包邮，支持货到付款", author="小美", now=NOW)
        assert blocked.value.guard.reasons
        assert s.scalar(select(func.count()).select_from(ChatMessage).where(ChatMessage.sender == "seller")) == 0
        sent = send_reply(s, message.conversation_id, view.draft.text, author="小美", now=NOW, from_draft=True)
        assert sent.message.sender == "seller" and sent.outbox_status in ("queued", "recorded", "suppressed")
        assert s.get(Conversation, message.conversation_id).waiting is False


def test_a_missing_fact_opens_one_follow_up_until_it_is_done(store, shop_id):
    with store.session() as s:
        message = receive_buyer_message(s, shop_id=shop_id, buyer="tb_乙", text="伴娘服穿什么码，尺码表有吗", now=NOW)
        first = draft_for_conversation(s, message.conversation_id, now=NOW, by="xiaomei")
        again = draft_for_conversation(s, message.conversation_id, now=NOW, by="xiaomei")
        assert "需要跟同事核实" in first.draft.text
        assert [t.fact_key for t in first.followups] == ["product.size_chart"]
        assert again.followups[0].id == first.followups[0].id
        task = first.followups[0]
        assert task.due_at == NOW + timedelta(hours=2)
        assert [v.task.id for v in list_followups(s, shop_id, now=NOW + timedelta(hours=3))] == [task.id]
        assert list_followups(s, shop_id, now=NOW + timedelta(hours=3))[0].overdue
        complete_followup(s, task.id, by="xiaomei", now=NOW)
        assert list_followups(s, shop_id, now=NOW) == []
        assert s.scalar(select(func.count()).select_from(FollowupTask)) == 1


def test_kpis_from_stored_chats_with_conversion_by_agent(store, shop_id):
    def bj(day, hour, minute, second=0):
        return datetime(2025, 3, day, hour, minute, second, tzinfo=BJ).astimezone(UTC)

    with store.session() as s:
        add_buyer(s, shop_id, "tb_小红", orders=[("9001", os_.WAIT_SELLER_SEND_GOODS, bj(18, 12, 0), None)])
        import_chat_file(s, shop_id, "c.txt", RECORD.encode(), now=NOW)
        report = shop_kpis(s, shop_id, now=NOW)
    # round 1: 10:00:00 → 10:02:00 (120 s, the auto-reply does not count); round 2: 23:59 → 00:04 (300 s, late)
    assert (report.shop.rounds, report.shop.within, report.shop.late) == (2, 1, 1)
    assert report.shop.median_seconds == 210.0
    assert {a: (f.rounds, f.within) for a, f in report.agents.items()} == {"小美": (1, 1), "阿强": (1, 0)}
    assert (report.conversion.inquiries, report.conversion.converted) == (1, 1)  # asked 10:00, ordered 12:00
    assert report.conversion.by_agent == {"小美": (1, 1)}


def test_the_buyer_card_shows_open_orders_with_parcels(store, shop_id):
    with store.session() as s:
        cid = add_buyer(s, shop_id, "tb_丙", orders=[
            ("8001", os_.WAIT_BUYER_CONFIRM_GOODS, NOW - timedelta(days=2), "ZT100"),
            ("8002", os_.TRADE_FINISHED, NOW - timedelta(days=90), None)])
        card = buyer_card(s, cid, now=NOW)
    assert [o.order_no for o in card.orders] == ["8001"]
    assert card.parcels[0].waybill == "ZT100" and card.value_tier == "top"
    assert card.order_briefs()[0].shipped


def test_cli_imports_a_chat_file_and_prints_bad_lines(store, shop_id, tmp_path):
    path = tmp_path / "chats.csv"
    path.write_text("buyer,sender,time,text\ntb_a,buyer,2025-03-18 10:00:00,在吗\ntb_a,nobody,2025-03-18 10:01:00,x\n",
                    encoding="utf-8")
    result = CliRunner().invoke(cli_app, ["--db", store.url, "chats", "import", str(path), "--shop", "小桃子"])
    assert result.exit_code == 0, result.output
    assert "new 1" in result.output and "chats.csv:3" in result.output


def test_a_high_risk_buyer_tightens_the_guard_and_sent_promises_are_registered(store, shop_id):
    from kefu.services.extortion_risk import latest_risk
    from kefu.services.replies import ReplyNeedsConfirmation
    from kefu.store.case_tables import Promise

    with store.session() as s:
        add_buyer(s, shop_id, "tb_老实人")
        calm = receive_buyer_message(s, shop_id=shop_id, buyer="tb_老实人", text="这件会掉色吗", now=NOW)
        with pytest.raises(ReplyNeedsConfirmation):
            send_reply(s, calm.conversation_id, "亲，保证不掉色", author="小美", now=NOW)
        send_reply(s, calm.conversation_id, "亲，今天一定给您发出", author="小美", now=NOW)
        [promise] = s.scalars(select(Promise)).all()
        assert (promise.kind, promise.made_by) == ("ship", "小美") and promise.due_at is not None

        add_buyer(s, shop_id, "tb_要挟")
        threat = receive_buyer_message(s, shop_id=shop_id, buyer="tb_要挟",
                                       text="这件会掉色吗？不给我返50块就给差评，加微信转账", now=NOW)
        customer = s.get(Conversation, threat.conversation_id).customer_id
        assert latest_risk(s, customer).level == "high"  # scored on contact
        with pytest.raises(ReplyBlocked):
            send_reply(s, threat.conversation_id, "亲，保证不掉色", author="小美", now=NOW)


def test_courier_and_timing_asks_in_chat_reach_the_pick_list(store, shop_id):
    from kefu.services.requirements import requirements_for_orders
    from kefu.store.tables import Order

    with store.session() as s:
        cid = add_buyer(s, shop_id, "tb_要中通")
        s.add(Order(id=f"{shop_id}:9901", shop_id=shop_id, platform="taobao", order_no="9901", customer_id=cid,
                    status="WAIT_SELLER_SEND_GOODS", created_at=NOW, paid_at=NOW, source="test"))
        s.flush()
        receive_buyer_message(s, shop_id=shop_id, buyer="tb_要中通", text="亲，请发中通，不要发申通哦", now=NOW)
        kinds = {(r.kind, r.value) for r in requirements_for_orders(s, [f"{shop_id}:9901"])[f"{shop_id}:9901"]}
    assert {k for k, _v in kinds} >= {"courier_wanted", "courier_excluded"}
