"""Demo messages: the shop's voice and a customised template, three days of lifecycle messages for recent orders as the
sweep and the deliverer would have made them (some deferred by quiet hours, some suppressed for no consent or an
opt-out reply, two dead letters to retry), and a stalled parcel whose delay apology is one click away on /alerts."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from kefu.channels.base import Delivery, DeliveryResult
from kefu.demo.steps import DemoContext
from kefu.services.delivery import deliver_due
from kefu.services.lifecycle import delay_apology_preview, lifecycle_sweep
from kefu.services.message_templates import save_messaging_settings, save_template
from kefu.services.outbox import record_reply
from kefu.store.messaging_tables import MessageDecision, OutboxMessage
from kefu.store.tables import Alert, Customer, Order

DAYS = 3
STEP_HOURS = 6  # the demo sweeps and delivers every six hours of the last three days (00:00 and 06:00 are quiet)
CONSENT_EVERY = 3  # one recent buyer in three agreed to marketing (review invitations)
OPT_OUT_REPLIES = ("退订", "T", "R")
UNREACHABLE = 2  # buyers whose number the provider refuses: dead letters for the retry button
SETTINGS = {
    "voice": "plain", "persona_name": "桃桃", "form_of_address": "主人", "review_invite_days": 2,
    # invented template codes, to show how each template maps to the provider's registered one
    "provider_templates": {"aliyun_sms": {
        "order.shipped": {"code": "SMS_900000001", "params": {"name": "nickname", "company": "courier", "no": "waybill"}},
        "parcel.delayed": {"code": "SMS_900000002", "params": {"no": "waybill"}},
    }},
}
PAID_WORDING = "{{ nickname }}，感谢您在{{ shop_name }}下单！订单{{ order_no }}已付款，我们 48 小时内发货。"
PLAYFUL_SHIPPED = "{{ address }}～您的{{ item }}已经跟着{{ courier }}出发啦，运单号{{ waybill }}，{{ persona }}帮您盯着呢！"


class DemoChannel:
    """A dry run for the demo: accepts every message except those to the unreachable buyers' orders."""

    name = "console"

    def __init__(self) -> None:
        self.refused: set[str] = set()

    def send(self, delivery: Delivery) -> DeliveryResult:
        if delivery.message_id in self.refused:
            return DeliveryResult.failed("invalid_recipient", "号码无效 / the number does not exist", retryable=False)
        return DeliveryResult.sent(f"demo:{delivery.message_id[:12]}")

    def __call__(self, name: str | None) -> "DemoChannel":
        return self


def _recent_buyers(session, shop_id: str, since: datetime) -> list[str]:
    return sorted(set(session.scalars(select(Order.customer_id).where(
        Order.shop_id == shop_id, Order.customer_id.is_not(None),
        (Order.paid_at >= since) | (Order.shipped_at >= since)))))


def demo_messages(context: DemoContext) -> str:
    store, shop_id, end = context.store, context.shop_id, context.now
    start = end - timedelta(days=DAYS)
    with store.session() as session:
        # The import already queued messages for orders recent by the wall clock; the demo rebuilds them on its own clock.
        session.execute(delete(MessageDecision).where(MessageDecision.shop_id == shop_id))
        session.execute(delete(OutboxMessage).where(OutboxMessage.shop_id == shop_id))
        save_messaging_settings(session, shop_id, SETTINGS)
        save_template(session, shop_id, "order.paid", "plain", PAID_WORDING, actor="demo", now=start)
        save_template(session, shop_id, "order.shipped", "playful", PLAYFUL_SHIPPED, actor="demo", now=start)
        buyers = _recent_buyers(session, shop_id, start - timedelta(days=7))
        for i, cid in enumerate(buyers):
            if i % CONSENT_EVERY == 0:
                session.get(Customer, cid).marketing_consent = True
        opted = [cid for i, cid in enumerate(buyers) if i % CONSENT_EVERY == 0][:len(OPT_OUT_REPLIES)]
        for cid, reply in zip(opted, OPT_OUT_REPLIES):
            record_reply(session, shop_id=shop_id, customer_id=cid, text=reply, now=start)
        unreachable = set(buyers[1:1 + UNREACHABLE * 7:7])
    channel = DemoChannel()
    moment = start
    while moment <= end:
        with store.session() as session:
            lifecycle_sweep(session, shop_id, now=moment)
            channel.refused = set(session.scalars(select(OutboxMessage.id).where(
                OutboxMessage.shop_id == shop_id, OutboxMessage.customer_id.in_(unreachable))))
        deliver_due(store, channel_for=channel, shop_id=shop_id, now=lambda at=moment: at, worker="demo")
        moment += timedelta(hours=STEP_HOURS)
    with store.session() as session:
        counts = dict(session.execute(select(OutboxMessage.status, func.count())
                                      .where(OutboxMessage.shop_id == shop_id).group_by(OutboxMessage.status)).all())
        stall = session.scalar(select(Alert.id).where(Alert.shop_id == shop_id, Alert.kind == "stall",
                                                      Alert.status == "open", Alert.customer_id.is_not(None),
                                                      Alert.order_id.is_not(None)).order_by(Alert.raised_at, Alert.id))
        ready = 1 if stall and delay_apology_preview(session, stall) else 0
    parts = " ".join(f"{k} {v}" for k, v in sorted(counts.items()))
    return f"消息 / messages: {sum(counts.values())} ({parts}); 待发延迟致歉 / delay apology ready: {ready}"
