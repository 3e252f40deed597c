"""Composing a reply draft: facts from the shop's knowledge, the shop's voice, the buyer's personality type and mood.

Every sentence that states a fact of the shop comes from a knowledge entry and is cited. A needed fact the shop has
not recorded is never guessed: the draft says the shop will check and answer by a set time, and names the missing
fact so a follow-up task can be created. An angry buyer first hears an admission without excuses when the shop is
at fault, otherwise calming words. Personality types change the form, never the facts: dominant — brief and straight;
expressive — praise and listening; amiable — friendly help to choose; analytical — numbered specs and exact times.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime

from kefu.domain.desk.knowledge import Entry, Knowledge, province_matches
from kefu.domain.desk.retrieval import rank_entries
from kefu.domain.desk.signals import Asks, find_asks

PERSONALITIES = ("dominant", "expressive", "amiable", "analytical")
# Parcel states (kefu.domain.tracking.ParcelState values) as a buyer reads them.
PARCEL_WORDS = {
    "awaiting_pickup": "等待快递揽收", "collected": "快递已揽收", "in_transit": "运输中", "customs": "清关中",
    "transferred": "已转投", "out_for_delivery": "正在派送", "at_pickup_point": "已到驿站/快递柜待取",
    "problem": "物流异常，我们正在跟进", "rejected": "已拒收", "returning": "退回中", "signed": "已签收",
    "return_signed": "退回已签收",
}
ACKNOWLEDGEMENTS = frozenset({"好", "好的", "好滴", "嗯", "嗯嗯", "哦", "ok", "OK", "行", "可以", "知道了", "收到", "谢谢", "好吧"})
AT_FAULT_INTENTS = frozenset({"quality_problem"})
SHIPPING_INTENTS = frozenset({"shipping_time", "urge_shipping", "free_shipping"})


@dataclass(frozen=True)
class Voice:
    """How the shop addresses buyers and signs off (shop settings ``desk.voice``)."""

    address: str = "亲"
    sign_off: str = ""


@dataclass(frozen=True)
class OrderBrief:
    """An order of the buyer as a draft may mention it."""

    order_no: str
    status: str  # TOP status
    shipped: bool
    carrier: str | None = None
    waybill: str | None = None
    parcel_state: str | None = None
    title: str | None = None


@dataclass(frozen=True)
class Citation:
    """A fact a draft used, shown under it: the entry (or order) and the value."""

    entry_id: str | None
    kind: str
    title: str
    fact: str


@dataclass(frozen=True)
class MissingFact:
    key: str
    question: str  # what the shop must find out (Chinese)


@dataclass(frozen=True)
class DraftRequest:
    message: str
    intent: str
    anger: float = 0.0
    personality: str | None = None
    shop_at_fault: bool | None = None  # None: decided from the intent
    now: datetime | None = None  # shop-local time
    followup_due: datetime | None = None  # shop-local time the shop will answer by when a fact is missing
    orders: tuple[OrderBrief, ...] = ()
    angry_at: float = 0.6
    top: int = 3


@dataclass(frozen=True)
class Draft:
    text: str
    citations: tuple[Citation, ...]
    missing: tuple[MissingFact, ...]
    personality: str | None
    angry: bool
    at_fault: bool


@dataclass
class _Parts:
    """Sentences and what backs them, gathered while composing."""

    facts: list[str] = field(default_factory=list)
    citations: list[Citation] = field(default_factory=list)
    missing: list[MissingFact] = field(default_factory=list)

    def say(self, sentence: str, cite: Citation | None = None) -> None:
        if sentence not in self.facts:
            self.facts.append(sentence)
        if cite is not None and cite not in self.citations:
            self.citations.append(cite)

    def lack(self, key: str, question: str) -> None:
        if all(m.key != key for m in self.missing):
            self.missing.append(MissingFact(key, question))


def _cite(entry_ref, fact: str) -> Citation | None:
    if entry_ref is None:
        return None
    return Citation(entry_ref.entry_id, entry_ref.kind, entry_ref.title, fact)


def _clock(t) -> str:
    return f"{t.hour:02d}:{t.minute:02d}"


def _shipping_time(parts: _Parts, knowledge: Knowledge, now: datetime | None, *, precise: bool = False) -> None:
    policy = knowledge.shipping
    if policy.cutoff is not None and policy.same_day is not False:
        cutoff = _clock(policy.cutoff)
        sentence = f"每天{cutoff}前付款的订单当天发出，{cutoff}以后付款的第二天发出"
        if now is not None and precise:
            sentence += f"（现在是{_clock(now)}，" + ("此时付款当天就能发出）" if now.time() < policy.cutoff else "此时付款将在第二天发出）")
        parts.say(sentence + "。", _cite(policy.source, f"cutoff: {cutoff}"))
    if policy.ship_promise_hours:
        parts.say(f"本店承诺付款后{policy.ship_promise_hours}小时内发货。",
                  _cite(policy.source, f"ship_promise_hours: {policy.ship_promise_hours}"))
    if policy.cutoff is None and not policy.ship_promise_hours:
        parts.lack("shipping.cutoff", "发货时间（截单时间/承诺发货时长）")


def _province(parts: _Parts, knowledge: Knowledge, province: str) -> None:
    policy = knowledge.shipping
    if policy.excluded_provinces and province_matches(province, policy.excluded_provinces):
        if policy.remote_fee is not None:
            parts.say(f"{province}不在包邮范围内，需要补运费{policy.remote_fee}元。",
                      _cite(policy.source, f"excluded_provinces: {'、'.join(policy.excluded_provinces)}; remote_fee: {policy.remote_fee}"))
        else:
            parts.say(f"{province}不在包邮范围内，需要另补运费。",
                      _cite(policy.source, f"excluded_provinces: {'、'.join(policy.excluded_provinces)}"))
            parts.lack("shipping.remote_fee", f"发往{province}的补运费金额")
    elif policy.free_shipping is True:
        parts.say(f"发{province}是包邮的。", _cite(policy.source, "free_shipping: 是"))
    elif policy.free_shipping is False:
        parts.say("本店商品不包邮，运费以下单页面为准。", _cite(policy.source, "free_shipping: 否"))
    else:
        parts.lack("shipping.free_shipping", f"发往{province}是否包邮")


def _free_shipping(parts: _Parts, knowledge: Knowledge) -> None:
    policy = knowledge.shipping
    if policy.free_shipping is True:
        excluded = "、".join(policy.excluded_provinces)
        sentence = "全店包邮" + (f"（{excluded}除外）" if excluded else "") + "。"
        parts.say(sentence, _cite(policy.source, "free_shipping: 是" + (f"; excluded_provinces: {excluded}" if excluded else "")))
    elif policy.free_shipping is False:
        parts.say("本店商品不包邮，运费以下单页面为准。", _cite(policy.source, "free_shipping: 否"))
    else:
        parts.lack("shipping.free_shipping", "是否包邮")


def _cash_on_delivery(parts: _Parts, knowledge: Knowledge) -> None:
    cod = knowledge.shipping.cash_on_delivery
    if cod is True:
        parts.say("本店支持货到付款。", _cite(knowledge.shipping.source, "cash_on_delivery: 是"))
    elif cod is False:
        parts.say("本店暂不支持货到付款，需要在线付款后发货。", _cite(knowledge.shipping.source, "cash_on_delivery: 否"))
    else:
        parts.lack("shipping.cash_on_delivery", "是否支持货到付款")


def _invoice(parts: _Parts, knowledge: Knowledge) -> None:
    invoice = knowledge.shipping.invoice
    if invoice is True:
        parts.say("可以开具电子发票，不另外收费，下单后把抬头和税号发给我就行。",
                  _cite(knowledge.shipping.source, "invoice: 是"))
    else:
        parts.lack("shipping.invoice", "开发票的方式（抬头、类型、多久开出）")


def _couriers(parts: _Parts, knowledge: Knowledge) -> None:
    couriers = knowledge.shipping.couriers
    if couriers:
        parts.say(f"我们合作的快递有{'、'.join(couriers)}。", _cite(knowledge.shipping.source, f"couriers: {'、'.join(couriers)}"))
    else:
        parts.lack("shipping.couriers", "合作的快递公司")


def _returns(parts: _Parts, knowledge: Knowledge) -> None:
    policy = knowledge.returns
    if policy.return_days:
        sentence = f"本店支持{policy.return_days}天无理由退换货"
        if policy.conditions:
            sentence += f"（{policy.conditions}）"
        if policy.buyer_pays_return is True:
            sentence += "，非质量问题的退货运费由买家承担"
        elif policy.buyer_pays_return is False:
            sentence += "，退货运费由店铺承担"
        parts.say(sentence + "。", _cite(policy.source, f"return_days: {policy.return_days}"))
    else:
        parts.lack("returns.return_days", "退换货政策（天数、条件、运费谁出）")


def _product(knowledge: Knowledge, message: str, top: int) -> Entry | None:
    products = knowledge.of_kind("product")
    ranked = rank_entries(message, products, top=1)
    if ranked:
        return ranked[0].entry
    return products[0] if len(products) == 1 else None


def _size(parts: _Parts, knowledge: Knowledge, message: str, top: int) -> None:
    product = _product(knowledge, message, top)
    chart = product.data.get("size_chart") if product else None
    if product is None or not chart:
        parts.lack("product.size_chart", "这款商品的尺码表（以及怎么量的）")
        return
    measuring = product.data.get("measuring")
    sentence = f"{product.title}的尺码参考：{chart}"
    if measuring:
        sentence += f"（{measuring}）"
    parts.say(sentence + "。", _cite(product.ref, f"size_chart: {chart}"))
    material = product.data.get("material")
    if material:
        parts.say(f"面料是{material}。", _cite(product.ref, f"material: {material}"))


def _stock(parts: _Parts, knowledge: Knowledge, message: str, top: int) -> None:
    product = _product(knowledge, message, top)
    if product is None or product.stock is None:
        parts.lack("product.stock", "这款商品的现货情况")
        return
    available = [name for name, count in product.stock.items() if count and count > 0]
    if available:
        listed = "、".join((n or "默认款") for n in available[:6])
        parts.say(f"{product.title}目前有现货的规格：{listed}。", _cite(product.ref, f"stock: {len(available)} SKU 有货"))
    else:
        parts.say(f"{product.title}目前暂时缺货。", _cite(product.ref, "stock: 0"))
        parts.lack("product.restock", f"{product.title}的补货时间")


def _orders(parts: _Parts, knowledge: Knowledge, orders: Sequence[OrderBrief], *, urging: bool) -> None:
    shipped = sorted((o for o in orders if o.shipped and o.waybill), key=lambda o: o.parcel_state in ("signed", "return_signed"))
    waiting = [o for o in orders if not o.shipped]
    for order in shipped[:2]:
        words = PARCEL_WORDS.get(order.parcel_state or "", order.parcel_state)
        state = f"，目前状态：{words}" if words and order.parcel_state != "unknown" else ""
        parts.say(f"您的订单{order.order_no}已由{order.carrier or '快递'}发出，运单号{order.waybill}{state}。",
                  Citation(None, "order", order.order_no, f"waybill: {order.waybill}"))
    if waiting:
        order = waiting[0]
        if knowledge.shipping.ship_promise_hours:
            parts.say(f"订单{order.order_no}还在等待发货，我们会在付款后{knowledge.shipping.ship_promise_hours}小时内发出。",
                      _cite(knowledge.shipping.source, f"ship_promise_hours: {knowledge.shipping.ship_promise_hours}"))
        else:
            parts.say(f"订单{order.order_no}还在等待发货。", Citation(None, "order", order.order_no, f"status: {order.status}"))
            parts.lack("shipping.ship_promise_hours", "承诺发货时长")
        if urging:
            parts.say("我这边已经提醒仓库优先处理。")
    if not shipped and not waiting:
        parts.say("麻烦把订单号发给我，我马上帮您查。")


def _change_address(parts: _Parts, orders: Sequence[OrderBrief]) -> None:
    waiting = [o for o in orders if not o.shipped]
    if waiting:
        parts.say(f"订单{waiting[0].order_no}还没有发出，可以改地址，请把新的收货地址发给我。",
                  Citation(None, "order", waiting[0].order_no, f"status: {waiting[0].status}"))
    elif orders:
        parts.say("包裹已经发出了，我联系快递尝试改派。")
        parts.lack("parcel.redirect", "快递能否改派到新地址")
    else:
        parts.say("麻烦把订单号和新的收货地址发给我。")


def _promotions(parts: _Parts, knowledge: Knowledge, message: str, top: int, personality: str | None) -> None:
    product = _product(knowledge, message, top)
    price = product.data.get("price") if product else None
    if product and price and personality == "dominant":
        parts.say(f"{product.title}到手价{price}元。", _cite(product.ref, f"price: {price}"))
    promotions = knowledge.of_kind("promotion")
    for promo in promotions[:2]:
        text = promo.body or promo.title
        parts.say(f"现在店里的活动：{text}。" if not text.endswith("。") else f"现在店里的活动：{text}",
                  _cite(promo.ref, promo.title))
    if not promotions:
        parts.say("目前店里没有额外的优惠活动，页面价格就是现在的价格。")


def _brand(parts: _Parts, knowledge: Knowledge) -> None:
    brands = knowledge.of_kind("brand")
    if brands:
        parts.say(brands[0].body.strip() or brands[0].title, _cite(brands[0].ref, brands[0].title))
    else:
        parts.lack("brand", "品牌与货源说明（正品证明）")


def _general(parts: _Parts, knowledge: Knowledge, message: str, top: int) -> None:
    if message.strip(" 。.!！~～") in ACKNOWLEDGEMENTS:
        parts.say("好的，有需要随时找我。")
        return
    ranked = rank_entries(message, [e for e in knowledge.entries if e.kind in ("faq", "product", "brand", "promotion")], top=1)
    if ranked:
        entry = ranked[0].entry
        text = entry.body.strip() or entry.title
        parts.say(text if text.endswith(("。", "！", "～")) else text + "。", _cite(entry.ref, entry.title))
    else:
        parts.lack("general", "买家的问题：" + message[:60])


def _core(parts: _Parts, request: DraftRequest, knowledge: Knowledge, asks: Asks) -> None:
    intent, message = request.intent, request.message
    if intent == "shipping_time":
        _shipping_time(parts, knowledge, request.now, precise=request.personality == "analytical")
    elif intent in ("where_is_parcel", "urge_shipping"):
        _orders(parts, knowledge, request.orders, urging=intent == "urge_shipping")
    elif intent == "change_address":
        _change_address(parts, request.orders)
    elif intent in ("return_exchange", "refund"):
        _returns(parts, knowledge)
    elif intent == "quality_problem":
        parts.say("麻烦拍几张问题处的照片发给我，确认后马上为您处理退换或补偿。")
        _returns(parts, knowledge)
    elif intent == "complaint":
        parts.say("您反映的问题我已经记下，马上为您核实处理，处理结果第一时间告诉您。")
    elif intent == "size_spec":
        _size(parts, knowledge, message, request.top)
    elif intent == "stock":
        _stock(parts, knowledge, message, request.top)
    elif intent == "invoice":
        _invoice(parts, knowledge)
    elif intent == "free_shipping":
        if not asks.province:
            _free_shipping(parts, knowledge)
    elif intent == "bargaining":
        _promotions(parts, knowledge, message, request.top, request.personality)
    elif intent == "authenticity":
        _brand(parts, knowledge)
    elif intent == "thanks":
        parts.say("不客气，能帮到您就好。")
    else:
        _general(parts, knowledge, message, request.top)


def _extras(parts: _Parts, request: DraftRequest, knowledge: Knowledge, asks: Asks) -> None:
    if asks.same_day and request.intent != "shipping_time":
        _shipping_time(parts, knowledge, request.now, precise=request.personality == "analytical")
    if asks.province:
        _province(parts, knowledge, asks.province)
    elif asks.free_shipping and request.intent != "free_shipping":
        _free_shipping(parts, knowledge)
    if asks.cash_on_delivery:
        _cash_on_delivery(parts, knowledge)
    if asks.invoice and request.intent != "invoice":
        _invoice(parts, knowledge)
    if asks.courier:
        _couriers(parts, knowledge)


def _opening(request: DraftRequest, voice: Voice, angry: bool, at_fault: bool) -> str:
    a = voice.address
    if angry and at_fault:
        return f"{a}，非常抱歉，这是我们的问题，给您添麻烦了。"
    if angry:
        return f"{a}，您先别着急，我非常理解您的心情，我马上帮您处理。"
    if at_fault:
        return f"{a}，实在抱歉给您带来不好的体验。"
    return {
        "dominant": f"{a}，",
        "expressive": f"{a}，谢谢您跟我们说这么多，您的眼光真好～",
        "amiable": f"{a}，别着急，我来帮您一起看看～",
        "analytical": f"{a}，为您整理了具体信息：",
    }.get(request.personality or "", f"{a}，您好～")


def _closing(personality: str | None, angry: bool, voice: Voice) -> str:
    if angry:
        closing = "有任何问题随时找我，我会一直跟进到底。"
    else:
        closing = {
            "dominant": "",
            "expressive": "您还有什么想法都可以跟我说，我都认真听着～",
            "amiable": "拿不准的话告诉我您的需求，我帮您挑最合适的～",
            "analytical": "以上信息如有变化我会第一时间通知您。",
        }.get(personality or "", "还有其他问题随时找我哦～")
    if voice.sign_off:
        closing = (closing + " " + voice.sign_off).strip()
    return closing


def _check_back(missing: Sequence[MissingFact], due: datetime | None) -> str:
    topics = "、".join(m.question for m in missing[:2])
    when = f"今天{_clock(due)}前" if due is not None else "尽快"
    return f"关于{topics}，我需要跟同事核实一下，不想给您说错，{when}给您准确答复。"


def compose_draft(request: DraftRequest, knowledge: Knowledge, voice: Voice = Voice()) -> Draft:
    """A reply draft for one buyer message; pure: the same inputs give the same text."""
    asks = find_asks(request.message)
    angry = request.anger >= request.angry_at or request.intent == "complaint"
    at_fault = request.shop_at_fault if request.shop_at_fault is not None else request.intent in AT_FAULT_INTENTS
    parts = _Parts()
    _core(parts, request, knowledge, asks)
    _extras(parts, request, knowledge, asks)
    personality = request.personality if request.personality in PERSONALITIES else None
    if personality == "analytical" and len(parts.facts) > 1:
        body = "\n".join(f"{i}. {fact}" for i, fact in enumerate(parts.facts, start=1))
    else:
        body = "".join(parts.facts)
    pieces = [_opening(request, voice, angry, at_fault), body]
    if parts.missing:
        pieces.append(_check_back(parts.missing, request.followup_due))
    pieces.append(_closing(personality, angry, voice))
    separator = "\n" if personality == "analytical" else ""
    text = separator.join(p for p in pieces if p).strip()
    return Draft(text, tuple(parts.citations), tuple(parts.missing), personality, angry, at_fault)
