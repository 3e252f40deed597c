"""Demo step: a handful of complaint cases in different steps (one waiting for the owner's approval, one paused while
waiting on the buyer, one breached, one closed with the buyer's satisfaction) and a few promises, one overdue."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select

from kefu.demo.steps import DemoContext
from kefu.services import cases as svc
from kefu.services import promises
from kefu.store.case_tables import Case
from kefu.store.tables import Alert, Order

H = timedelta(hours=1)
AGENT, OWNER = "xiaomei", "owner"


@dataclass(frozen=True)
class _Promise:  # the shape of the promise guard's PromiseFound
    kind: str
    text: str
    due_at: datetime | None


def _orders(session, shop_id: str, count: int) -> list[Order]:
    """Paid, delivered orders of some value, the same ones on every build."""
    return list(session.scalars(
        select(Order).where(Order.shop_id == shop_id, Order.customer_id.is_not(None), Order.paid_amount >= 80,
                            Order.status.in_(("TRADE_FINISHED", "WAIT_BUYER_CONFIRM_GOODS")))
        .order_by(Order.id).limit(count)))


def demo_cases(context: DemoContext) -> str:
    now = context.now
    with context.store.session() as s:
        built = s.scalar(select(func.count()).select_from(Case).where(Case.shop_id == context.shop_id,
                                                                    Case.opened_by == AGENT))
        if built:  # a rebuild of the same demo shop adds nothing
            return f"投诉工单 / cases: {built}"
        orders = _orders(s, context.shop_id, 6)
        if len(orders) < 6:
            return "投诉工单 / cases: 0"

        def open_(order: Order, summary: str, hours_ago: float, source: str = "message") -> str:
            return svc.open_case(s, shop_id=context.shop_id, customer_id=order.customer_id, source=source,
                                 source_id=f"demo-{order.order_no}", summary=summary, order_id=order.id,
                                 opened_by=AGENT, now=now - hours_ago * H)

        # 1. just opened: confirm step, on time
        open_(orders[0], "买家说尺码偏小，想换大一码", 0.5)

        # 2. confirmed long ago, analysis never done: breached
        late = open_(orders[1], "衣服洗后掉色，买家要求退款", 9)
        svc.confirm_case(s, late, buyer_account="洗了一次就掉色，染到别的衣服", demands="全额退款",
                         actor=AGENT, now=now - 8.5 * H)

        # 3. negotiating; the buyer only accepts a costly option: tier 5 waits for the owner
        boss = open_(orders[2], "包裹破损，商品摔坏，买家非常生气", 6, source="review")
        svc.confirm_case(s, boss, buyer_account="快递送到时外箱破了，杯子碎了", demands="退款并赔偿",
                         actor=AGENT, now=now - 5.5 * H)
        svc.analyse_case(s, boss, severity="high", decider="owner", actor=AGENT, now=now - 5 * H)
        paid = orders[2].paid_amount or Decimal("100")
        svc.add_offer(s, boss, kind="reship", description="补发一件新的，顺丰包邮", cost=(paid * Decimal("0.5")),
                      buyer_accepts="no", actor=AGENT, now=now - 5 * H)
        svc.add_offer(s, boss, kind="coupon", description="送20元无门槛券", cost="20", buyer_accepts="no",
                      actor=AGENT, now=now - 5 * H)
        svc.add_offer(s, boss, kind="refund", description="全额退款并补偿10元", cost=paid + 10, buyer_accepts="yes",
                      actor=AGENT, now=now - 5 * H)
        svc.move_case(s, boss, "negotiate", actor=AGENT, now=now - 4.5 * H)
        svc.record_call(s, boss, outcome="calmed", minutes=6, note="买家情绪平复，等店主确认方案", actor=AGENT,
                        now=now - 4 * H)

        # 4. waiting on the buyer's photos: the clock is paused
        wait = open_(orders[3], "买家说收到的颜色不对", 20)
        svc.confirm_case(s, wait, buyer_account="下单白色，收到米色", demands="换货", actor=AGENT,
                         now=now - 19.5 * H)
        svc.analyse_case(s, wait, severity="low", decider="agent", actor=AGENT, now=now - 19 * H)
        svc.add_offer(s, wait, kind="exchange", description="换白色，来回运费我们出", cost="12", buyer_accepts="unknown",
                      actor=AGENT, now=now - 19 * H)
        svc.move_case(s, wait, "negotiate", actor=AGENT, now=now - 18.5 * H)
        svc.add_note(s, wait, text="客服: 亲，麻烦拍一张商品吊牌和颜色的照片给我们核对一下哦\n买家: 好的晚点拍",
                     actor=AGENT, now=now - 18.2 * H)
        svc.set_waiting(s, wait, True, actor=AGENT, now=now - 18 * H)

        # 5. executing: a reshipment under way, with a promise of when it ships
        run = open_(orders[4], "少发了一件赠品", 30)
        svc.confirm_case(s, run, buyer_account="页面写送收纳袋，没收到", demands="补发赠品", actor=AGENT,
                         now=now - 29.5 * H)
        svc.analyse_case(s, run, severity="low", decider="agent", actor=AGENT, now=now - 29 * H)
        gift = svc.add_offer(s, run, kind="reship", description="补发收纳袋", cost="5", buyer_accepts="yes",
                             actor=AGENT, now=now - 29 * H)
        svc.choose_offer(s, gift.id, actor=AGENT, now=now - 28 * H)
        svc.record_action(s, run, kind="reship", reference="demo-ZT0001", status="pending", actor=AGENT,
                          now=now - 27 * H)
        promises.record_promises(s, context.shop_id, orders[4].customer_id,
                                 [_Promise("ship_by", "今天下午5点前补发", now - 3 * H)], order_id=orders[4].id,
                                 message_id="demo-msg-1", source_text="亲，今天下午5点前给您补发收纳袋哦",
                                 made_by=AGENT, now=now - 27 * H)

        # 6. closed: refund done, the buyer satisfied
        done = open_(orders[5], "快递员态度差，买家投诉", 80)
        svc.confirm_case(s, done, buyer_account="快递员不送上楼还骂人", demands="道歉", actor=AGENT,
                         now=now - 79 * H)
        svc.analyse_case(s, done, severity="medium", decider="agent", actor=AGENT, now=now - 78 * H)
        sorry = svc.add_offer(s, done, kind="apology", description="电话道歉并送5元券", cost="5", buyer_accepts="yes",
                              actor=AGENT, now=now - 78 * H)
        svc.choose_offer(s, sorry.id, actor=AGENT, now=now - 77 * H)
        svc.record_call(s, done, outcome="settled", minutes=4, note="已道歉，买家接受", actor=AGENT, now=now - 77 * H)
        svc.record_action(s, done, kind="coupon", amount="5", reference="demo-QUAN5", status="done", actor=AGENT,
                          now=now - 76 * H)
        svc.finish_execution(s, done, actor=AGENT, now=now - 76 * H)
        svc.record_satisfaction(s, done, score=5, note="谢谢处理", actor=AGENT, now=now - 50 * H)

        # a case from the alert queue, when the watch raised any
        alert = s.scalar(select(Alert).where(Alert.shop_id == context.shop_id, Alert.kind == "exception",
                                             Alert.customer_id.is_not(None)).order_by(Alert.id).limit(1))
        opened = 6
        if alert is not None:
            svc.open_case(s, shop_id=context.shop_id, customer_id=alert.customer_id, source="alert",
                          source_id=alert.id, summary=alert.rule or "物流异常", order_id=alert.order_id,
                          opened_by=AGENT, now=now - 2 * H)
            opened += 1
        swept = promises.sweep_promises(s, context.shop_id, now=now)
    return f"投诉工单 / cases: {opened} · 逾期承诺 / overdue promises {swept.overdue}"
