"""Demo step for the service desk: the clothing shop's knowledge base and a queue of invented chats with demo buyers.

The knowledge base has sizes (and how they are measured), materials, the 16:00 cut-off, couriers, Xinjiang/Tibet not
包邮, 7-day returns, a promotion and the brand story; one product deliberately has no size chart so a draft must say
the shop will check and come back. The chats go through the real import path (analysis, personality readings): past
rounds answered by three agents at varied speeds (a few auto-replies, a few at night), and open questions of every
intent, some angry, from buyers of each personality type. Deterministic for a seed; a couple of seconds.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from random import Random
from zoneinfo import ZoneInfo

from sqlalchemy import select

from kefu.demo.steps import DemoContext
from kefu.ingest.chat_export import ChatLine
from kefu.services.conversations import import_chat_lines
from kefu.services.drafts import draft_for_conversation
from kefu.services.knowledge import save_entry
from kefu.store.desk_tables import Conversation, KnowledgeEntry
from kefu.store.tables import Customer, Product

AGENTS = ("小美", "阿强", "小月")
AUTO_REPLY = "您好，欢迎光临小店，客服马上为您服务～"

SHIPPING = """cutoff: 16:00
ship_promise_hours: 48
same_day: 是
ships_on_weekends: 是
couriers: 中通、圆通、韵达
free_shipping: 是
excluded_provinces: 新疆、西藏
remote_fee: 15
cash_on_delivery: 否
invoice: 是"""
RETURNS = """return_days: 7
buyer_pays_return: 是
conditions: 吊牌完好、未洗涤、不影响二次销售"""

# (title keyword in the catalogue, size chart, measuring, material, warranty)
PRODUCTS = (
    ("碎花雪纺连衣裙", "S 胸围84 腰围66 裙长118; M 胸围88 腰围70 裙长120; L 胸围92 腰围74 裙长122; XL 胸围96 腰围78 裙长124",
     "平铺测量，单位cm，误差1-2cm", "雪纺（100%聚酯纤维），内衬棉", "开线、脱胶30天内免费换新"),
    ("高腰直筒牛仔裤", "S 腰围64 臀围90 裤长100; M 腰围68 臀围94 裤长101; L 腰围72 臀围98 裤长102; XL 腰围76 臀围102 裤长103",
     "平铺测量腰围×2，单位cm", "98%棉 2%氨纶，微弹", "开线30天内免费换新"),
    ("纯棉圆领短袖T恤", "S 胸围96 衣长62; M 胸围100 衣长64; L 胸围104 衣长66; XL 胸围108 衣长68",
     "平铺测量，宽松版型", "100%新疆长绒棉", "不起球不变形，30天内有问题包换"),
    ("短款羽绒服", "S 胸围104 衣长58; M 胸围108 衣长60; L 胸围112 衣长62; XL 胸围116 衣长64",
     "平铺测量，建议按平时尺码", "90%白鸭绒，面料防泼水尼龙", "跑绒、拉链问题一年内免费维修"),
    ("冰丝阔腿裤", "S 腰围62-70 裤长98; M 腰围66-74 裤长100; L 腰围70-78 裤长102; XL 腰围74-82 裤长103",
     "松紧腰，平铺测量", "冰丝（粘纤+锦纶），垂感凉爽", "开线30天内免费换新"),
    ("伴娘服连衣裙", "", "", "雪纺+网纱", ""),  # no size chart on purpose: a draft must check and come back
)

# Each scenario: the buyer's personality cue words are in the texts; the last buyer message may stay unanswered.
# Turns: ("b", text) buyer, ("s", text) agent, ("a", text) auto-reply.
SCENARIOS: tuple[tuple[str, tuple[tuple[str, str], ...], bool], ...] = (
    ("dominant", (("b", "碎花雪纺连衣裙M码，直接发，今天必须发出"), ("s", "亲，16:00前付款当天发出哦"),
                  ("b", "已拍。发新疆，货到付款，快点")), True),
    ("dominant", (("b", "牛仔裤L码有没有，不用推荐，我只要这个"), ("s", "有的亲，L码有货"),
                  ("b", "多少钱，直接说到手价")), True),
    ("dominant", (("b", "我要的是黑色，你们给我发成白色了，马上给我换！"),), True),
    ("dominant", (("b", "羽绒服拍了，尽快给我发顺丰"), ("a", AUTO_REPLY), ("s", "亲，收到，会尽快安排"),
                  ("b", "好")), False),
    ("expressive", (("b", "哇这条碎花裙子好好看！！朋友都说我穿裙子显瘦～"), ("s", "亲眼光真好～"),
                    ("b", "哈哈那我穿M还是L呀，下周约会要穿✨")), True),
    ("expressive", (("b", "T恤收到啦超喜欢！！闺蜜也想买一件哈哈"), ("s", "谢谢亲的喜欢～"),
                    ("b", "谢谢你们呀，心情超好～")), True),
    ("expressive", (("b", "呜呜裙子洗了一次就掉色了！！太失望了，朋友都看到了，气死了"),), True),
    ("expressive", (("b", "阔腿裤太好看了！！被同事夸了哈哈"), ("s", "亲穿着好看就好～")), False),
    ("amiable", (("b", "不好意思打扰了，我在纠结牛仔裤和阔腿裤选哪个好"), ("s", "亲不着急，看您平时的穿搭～"),
                 ("b", "你帮我选吧，我身高160体重50，都可以的，不着急")), True),
    ("amiable", (("b", "麻烦你了，我想退货，会不会很麻烦呀"),), True),
    ("amiable", (("b", "谢谢亲，想问一下可以开发票吗？不急的"),), True),
    ("amiable", (("b", "伴娘服我穿什么码呀，你帮我挑一下，辛苦了"),), True),
    ("analytical", (("b", "羽绒服的具体参数是什么？含绒量多少，充绒量多少克"), ("s", "亲，90%白鸭绒"),
                    ("b", "如果跑绒怎么办？有没有质保，保修政策写清楚")), True),
    ("analytical", (("b", "T恤面料成分具体是什么？有没有检测报告"),), True),
    ("analytical", (("b", "牛仔裤腰围具体多少cm？对比一下M和L的区别"),), True),
    ("analytical", (("b", "为什么我的快递三天了物流还没更新？具体在哪里"),), True),
    ("", (("b", "我的包裹到哪了，怎么还没到"),), True),
    ("", (("b", "地址写错了，能改地址吗"),), True),
    ("", (("b", "你们家是正品吗"),), True),
    ("", (("b", "发西藏包邮吗"),), True),
    ("", (("b", "催一下，怎么还没发货"),), True),
    ("", (("b", "退款什么时候到账"),), True),
    ("", (("b", "投诉！客服态度太差了，什么态度，我要给差评"),), True),
    ("", (("b", "碎花连衣裙白色S码还有货吗"), ("s", "亲，我帮您看一下"), ("b", "好的谢谢")), False),
)


def knowledge_base(context: DemoContext, session, now: datetime) -> int:
    """The demo clothing shop's facts; product entries linked to the catalogue's products (for stock)."""
    shop_id = context.shop_id
    if session.scalar(select(KnowledgeEntry.id).where(KnowledgeEntry.shop_id == shop_id).limit(1)):
        return 0
    entries = [
        ("shipping", "发货与快递", "每天16:00前付款的订单当天发出，之后的次日发出；默认中通、圆通、韵达，可补差价发顺丰。新疆、西藏不包邮。", SHIPPING),
        ("returns", "七天无理由退换", "签收次日起7天内可无理由退换，吊牌完好、未洗涤；质量问题来回运费由店铺承担。", RETURNS),
        ("promotion", "满199减20", "全店满199元减20元，可与店铺券叠加；下单满99元送发圈一个。", "until: 本月底\ngift: 发圈\ndiscount: 满199减20"),
        ("brand", "小桃子的衣橱 品牌故事", "小桃子的衣橱是原创女装店，自有工厂打版生产，每件衣服出厂前质检，支持专柜验货。", "guarantees: 正品保证"),
        ("faq", "洗涤保养", "雪纺和冰丝建议冷水手洗、反面晾干，不要暴晒；牛仔裤首次洗涤可能轻微掉色，属正常现象。", "question: 怎么洗"),
        ("faq", "色差说明", "商品均为实物拍摄，不同屏幕可能有轻微色差，以实物为准。", "question: 有色差吗"),
    ]
    for kind, title, body, data in entries:
        save_entry(session, shop_id=shop_id, kind=kind, title=title, body=body, data=data, by="demo", now=now)
    catalog = {p.title: p for p in context.shop.catalog}
    for keyword, chart, measuring, material, warranty in PRODUCTS:
        product = next((p for title, p in catalog.items() if keyword in title), None)
        product_id = None
        if product is not None:
            product_id = session.scalar(select(Product.id).where(Product.shop_id == shop_id,
                                                                 Product.platform_item_id == product.item_id))
        data = {"material": material}
        if chart:
            data.update(size_chart=chart, measuring=measuring)
        if warranty:
            data["warranty"] = warranty
        if product is not None:
            data["price"] = str(product.price)
        title = product.title if product is not None else keyword
        save_entry(session, shop_id=shop_id, kind="product", title=title, body=f"{keyword}：{material}", data=data,
                   product_id=product_id, by="demo", now=now)
    return len(entries) + len(PRODUCTS)


def _service_time(rng: Random, day: datetime, tz: ZoneInfo) -> datetime:
    """A Beijing time on that day inside service hours (a few at night, outside them)."""
    hour = rng.choice((9, 10, 11, 14, 15, 16, 19, 20, 21, 22)) if rng.random() > 0.08 else rng.choice((1, 6))
    local = day.astimezone(tz).replace(hour=hour, minute=rng.randrange(60), second=rng.randrange(60), microsecond=0)
    return local.astimezone(UTC)


def chat_lines(context: DemoContext, buyers: list[Customer], tz: ZoneInfo) -> list[ChatLine]:
    """Past answered rounds for every buyer, then each scenario's turns ending near the demo's now."""
    rng = Random(context.shop.seed * 7919 + 5)
    now = context.now
    lines: list[ChatLine] = []
    number = 0

    def add(buyer: str, sender: str, text: str, at: datetime, author: str | None = None, auto: bool = False) -> None:
        nonlocal number
        number += 1
        lines.append(ChatLine(buyer, sender, author, at, text, auto, number))

    history = ("在吗", "这款还有货吗", "什么时候发货", "尺码偏大还是偏小", "有优惠吗", "好的谢谢")
    answers = ("在的亲", "有货的亲", "16:00前付款当天发出", "正常尺码，按平时穿的选就好", "满199减20哦", "不客气亲～")
    for index, buyer in enumerate(buyers):
        nick = buyer.buyer_nick or buyer.buyer_key
        last_order = buyer.last_order_at
        for _ in range(rng.randrange(1, 4)):  # past rounds over the last month, answered at varied speeds
            if last_order is not None and now - last_order < timedelta(days=25) and rng.random() < 0.5:
                day = last_order - timedelta(hours=rng.choice((2, 6, 20)))  # asked, then ordered: a conversion
            else:
                day = now - timedelta(days=rng.randrange(2, 29))
            start = _service_time(rng, day, tz)
            if start >= now - timedelta(hours=1):
                continue
            pick = rng.randrange(len(history))
            add(nick, "buyer", history[pick], start)
            delay = rng.choice((20, 45, 70, 110, 150, 170, 200, 260, 420, 900))
            if rng.random() < 0.25:
                add(nick, "seller", AUTO_REPLY, start + timedelta(seconds=2), AGENTS[0], auto=True)
            add(nick, "seller", answers[pick], start + timedelta(seconds=delay), AGENTS[(index + pick) % len(AGENTS)])
        if index >= len(SCENARIOS):
            continue
        _kind, turns, _open = SCENARIOS[index]
        at = now - timedelta(minutes=12 + 9 * index)  # the open queue: the latest questions, the oldest waits longest
        for sender, text in turns:
            if sender == "b":
                add(nick, "buyer", text, at)
                at += timedelta(seconds=rng.randrange(20, 90))
            else:
                at += timedelta(seconds=rng.choice((15, 60, 140, 230)))
                add(nick, "seller", text, at, AGENTS[index % len(AGENTS)] if sender == "s" else AGENTS[0], auto=sender == "a")
                at += timedelta(seconds=rng.randrange(30, 120))
    return [line for line in lines if line.sent_at <= now]


def build_desk(context: DemoContext) -> str:
    """Knowledge base, chats and the follow-ups their drafts open; returns the summary line."""
    tz = ZoneInfo("Asia/Shanghai")
    now = context.now if context.now.tzinfo else context.now.replace(tzinfo=UTC)
    with context.store.session() as session:
        entries = knowledge_base(context, session, now)
        buyers = list(session.scalars(
            select(Customer).where(Customer.shop_id == context.shop_id, Customer.orders_count > 0)
            .order_by(Customer.last_order_at.desc(), Customer.id).limit(60)))
        result = import_chat_lines(session, context.shop_id, chat_lines(context, buyers, tz), file="demo-chats",
                                   source="demo", now=now)
        waiting = session.scalars(select(Conversation.id).where(Conversation.shop_id == context.shop_id,
                                                                Conversation.waiting.is_(True))).all()
        tasks = 0
        for conversation_id in waiting:
            tasks += len(draft_for_conversation(session, conversation_id, now=now, by="demo").followups)
    return (f"客服台 / desk: 知识 {entries} 条 entries, 消息 {result.messages_new} 条 messages, "
            f"会话 {result.conversations} conversations, 待回复 {len(waiting)} waiting, 跟进 {tasks} follow-ups")
