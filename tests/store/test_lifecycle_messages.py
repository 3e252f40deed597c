"""Lifecycle messages on SQLite and PostgreSQL: recent events only (an import of history messages nobody), the latest
stage of an order, carrier pushes into out-for-delivery and signed care, review invitations N days after signing, the
delay apology from an alert, and the one timeline."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kefu.domain.tracking import ParcelState, TrackingEvent, TrackingUpdate
from kefu.services.lifecycle import after_import, delay_apology_preview, lifecycle_sweep, send_delay_apology
from kefu.services.timeline import customer_timeline
from kefu.services.tracking import apply_tracking_update
from kefu.store.messaging_tables import OutboxMessage
from kefu.store.tables import Alert
from messaging_helpers import NOW, add_buyer, add_order, add_parcel, make_shop

H = timedelta(hours=1)
D = timedelta(days=1)


def events(session):
    return sorted((m.order_id.split(":")[-1], m.event, m.status) for m in session.scalars(select(OutboxMessage)))


def test_only_events_inside_the_look_back_are_messaged_and_only_the_latest_stage(store):
    with store.session() as s:
        shop_id = make_shop(s, messaging={"lookback_hours": 48})
        cid = add_buyer(s, shop_id)
        add_order(s, shop_id, "old", cid, status="TRADE_FINISHED", paid_at=NOW - 30 * D, shipped_at=NOW - 29 * D)
        add_order(s, shop_id, "paid", cid, status="WAIT_SELLER_SEND_GOODS", paid_at=NOW - 2 * H)
        shipped = add_order(s, shop_id, "shipped", cid, paid_at=NOW - 30 * H, shipped_at=NOW - 3 * H)
        add_parcel(s, shop_id, shipped)
        add_order(s, shop_id, "closed", cid, status="TRADE_CLOSED", paid_at=NOW - 2 * H)
        first = lifecycle_sweep(s, shop_id, now=NOW)
        again = lifecycle_sweep(s, shop_id, now=NOW)
        assert events(s) == [("paid", "order.paid", "queued"), ("shipped", "order.shipped", "queued")]
        text = s.scalar(select(OutboxMessage.text).where(OutboxMessage.event == "order.shipped"))
    assert text == "tb_kitty，您的纯棉T恤已由中通快递发出，运单号78912345678901，请留意查收。"
    assert (first.queued, again.queued, again.duplicates) == (2, 0, 2)


def test_after_import_runs_in_the_import_transaction(store):
    with store.session() as s:
        shop_id = make_shop(s)
        cid = add_buyer(s, shop_id)
        add_order(s, shop_id, "history", cid, status="TRADE_FINISHED", paid_at=NOW - 400 * D)
        add_order(s, shop_id, "fresh", cid, status="WAIT_SELLER_SEND_GOODS", paid_at=NOW - H)
    with store.engine.begin() as conn:
        result = after_import(conn, shop_id, now=NOW)
    assert result.queued == 1
    with store.session() as s:
        assert events(s) == [("fresh", "order.paid", "queued")]


def _push(waybill, state, at):
    event = TrackingEvent("zhongtong", waybill, at, state, "x", "派送中" if state is ParcelState.OUT_FOR_DELIVERY else "已签收")
    return TrackingUpdate("zhongtong", waybill, state, "x", state is ParcelState.SIGNED, (event,))


def test_carrier_pushes_queue_out_for_delivery_then_signed_care_then_a_review_invitation(store):
    with store.session() as s:
        shop_id = make_shop(s, messaging={"quiet_purposes": [], "review_invite_days": 3})
        cid = add_buyer(s, shop_id, consent=True)
        oid = add_order(s, shop_id, "9001", cid, paid_at=NOW - 50 * H, shipped_at=NOW - 40 * H)
        add_parcel(s, shop_id, oid, "ZT9", status="in_transit", shipped_at=NOW - 40 * H)
        apply_tracking_update(s, _push("ZT9", ParcelState.OUT_FOR_DELIVERY, NOW - H), source="kuaidi100", now=NOW)
        apply_tracking_update(s, _push("ZT9", ParcelState.OUT_FOR_DELIVERY, NOW - H), source="kuaidi100", now=NOW)
        apply_tracking_update(s, _push("ZT9", ParcelState.SIGNED, NOW), source="kuaidi100", now=NOW)
        assert events(s) == [("9001", "parcel.out_for_delivery", "queued"), ("9001", "parcel.signed", "queued")]
        assert lifecycle_sweep(s, shop_id, now=NOW + 2 * D).queued == 0  # not yet three days
        assert lifecycle_sweep(s, shop_id, now=NOW + 3 * D + H).queued == 1
        invite = s.scalar(select(OutboxMessage).where(OutboxMessage.event == "review.invite"))
        assert invite.purpose == "marketing" and invite.text.endswith("拒收请回复R")
        assert "返" not in invite.text and "好评" not in invite.text


def test_delay_apology_and_the_one_timeline(store):
    with store.session() as s:
        shop_id = make_shop(s, messaging={"quiet_purposes": []})
        cid = add_buyer(s, shop_id, None)  # no nickname: the apology says 亲
        oid = add_order(s, shop_id, "5001", cid, paid_at=NOW - 100 * H, shipped_at=NOW - 90 * H)
        sid = add_parcel(s, shop_id, oid, "ZT5", status="in_transit", shipped_at=NOW - 90 * H)
        s.add(Alert(id="al1", shop_id=shop_id, kind="stall", dedupe_key="k", order_id=oid, shipment_id=sid,
                    customer_id=cid, raised_at=NOW - H, rule="停滞 48 小时"))
        s.flush()
        preview = delay_apology_preview(s, "al1")
        assert preview.startswith("亲，非常抱歉，您的包裹（中通快递 ZT5）")
        sent = send_delay_apology(s, "al1", actor="boss", now=NOW)
        assert (sent.status, sent.text) == ("queued", preview)
        assert send_delay_apology(s, "al1", actor="boss", now=NOW).status == "duplicate"
        timeline = customer_timeline(s, cid)
    kinds = [e.kind for e in timeline]
    assert kinds[0] == "message" and "alert" in kinds and "order_shipped" in kinds
    assert timeline[0].status == "queued" and timeline[0].text == preview
    assert [e.at for e in timeline] == sorted((e.at for e in timeline), reverse=True)
