"""The outbox on SQLite and PostgreSQL: written in the caller's transaction, decided (consent, opt-out, cap, quiet
hours), idempotent, delivered once with retries and dead letters, and settled after a worker crash."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kefu.services.delivery import DeliveryResult, deliver_due, deliver_one, recover_stale, retry_dead
from kefu.services.outbox import (
    MessageProblem,
    OutgoingMessage,
    queue_message,
    record_reply,
    suppress_customer,
)
from kefu.store.messaging_tables import MessageDecision, MessageSuppression, OutboxMessage
from messaging_helpers import NOW, RecordingChannel, add_buyer, add_order, make_shop

H = timedelta(hours=1)


def shipped(shop_id, cid, oid=None, **kw):
    return OutgoingMessage(shop_id=shop_id, customer_id=cid, order_id=oid, event="order.shipped",
                           purpose="transactional", template="order.shipped",
                           variables={"courier": "中通快递", "waybill": "7891"}, **kw)


def decisions(session, message_id):
    return list(session.scalars(select(MessageDecision.decision).where(MessageDecision.message_id == message_id)
                                .order_by(MessageDecision.id)))


def test_queued_in_the_callers_transaction_and_delivered_once(store):
    with store.session() as s:
        shop_id = make_shop(s)
        cid = add_buyer(s, shop_id)
        oid = add_order(s, shop_id, "1001", cid)
        queued = queue_message(s, shipped(shop_id, cid, oid), now=NOW)
        again = queue_message(s, shipped(shop_id, cid, oid), now=NOW)
    assert queued.status == "queued" and queued.reason is None
    assert queued.text == "tb_kitty，您的宝贝已由中通快递发出，运单号7891，请留意查收。"
    assert again.status == "duplicate" and again.message_id == queued.message_id
    channel = RecordingChannel()
    counts = deliver_due(store, channel_for=channel, now=lambda: NOW)
    assert counts.sent == 1
    assert deliver_one(store, queued.message_id, channel_for=channel, now=lambda: NOW) == "skipped"
    assert [d.message_id for d in channel.sent] == [queued.message_id]
    assert channel.sent[0].to_phone == "13800000001"
    with store.session() as s:
        row = s.get(OutboxMessage, queued.message_id)
        assert (row.status, row.provider_message_id, row.attempts) == ("sent", f"p-{queued.message_id}", 1)
        assert decisions(s, row.id) == ["queued", "sent"]


def test_a_rolled_back_event_leaves_no_message(store):
    with store.session() as s:
        shop_id = make_shop(s)
        cid = add_buyer(s, shop_id)
    with pytest.raises(RuntimeError):
        with store.session() as s:
            queue_message(s, shipped(shop_id, cid), now=NOW)
            raise RuntimeError("the event failed")
    with store.session() as s:
        assert s.scalar(select(func.count()).select_from(OutboxMessage)) == 0


def test_marketing_needs_consent_and_stops_after_an_opt_out_reply(store):
    with store.session() as s:
        shop_id = make_shop(s)
        no_consent = add_buyer(s, shop_id, "tb_a")
        consent = add_buyer(s, shop_id, "tb_b", consent=True)
        invite = dict(event="review.invite", purpose="marketing", template="review.invite")
        first = queue_message(s, OutgoingMessage(shop_id=shop_id, customer_id=no_consent, **invite), now=NOW)
        assert (first.status, first.reason) == ("suppressed", "no_consent")
        assert record_reply(s, shop_id=shop_id, customer_id=consent, text=" 退订 ", now=NOW)
        assert not record_reply(s, shop_id=shop_id, customer_id=consent, text="Really nice, thanks", now=NOW)
        second = queue_message(s, OutgoingMessage(shop_id=shop_id, customer_id=consent, **invite), now=NOW)
        assert (second.status, second.reason) == ("suppressed", "opted_out")
        # a transactional notice still goes out after a marketing opt-out
        assert queue_message(s, shipped(shop_id, consent), now=NOW).status == "queued"
        assert s.scalar(select(MessageSuppression.reason)) == "opt_out_reply"


def test_marketing_with_consent_carries_the_opt_out_wording(store):
    with store.session() as s:
        shop_id = make_shop(s)
        cid = add_buyer(s, shop_id, consent=True)
        result = queue_message(s, OutgoingMessage(shop_id=shop_id, customer_id=cid, event="review.invite",
                                                  purpose="marketing", template="review.invite"), now=NOW)
    assert result.status == "queued"
    assert result.text.endswith("拒收请回复R")


def test_quiet_hours_defer_to_the_morning_and_service_replies_never_wait(store):
    night = NOW.replace(hour=15)  # 23:00 in Shanghai
    with store.session() as s:
        shop_id = make_shop(s)
        cid = add_buyer(s, shop_id)
        deferred = queue_message(s, shipped(shop_id, cid), now=night)
        reply = queue_message(s, OutgoingMessage(shop_id=shop_id, customer_id=cid, event="desk.reply",
                                                 purpose="service", text="您好，已为您改好地址"), now=night)
        row = s.get(OutboxMessage, deferred.message_id)
        assert (deferred.status, deferred.reason) == ("queued", "quiet_hours")
        assert row.next_attempt_at == NOW.replace(day=21, hour=0)  # 08:00 Shanghai next day
        assert decisions(s, row.id) == ["deferred"]
        assert reply.status == "queued" and reply.reason is None
    channel = RecordingChannel()
    assert deliver_due(store, channel_for=channel, now=lambda: night).sent == 1  # the service reply only
    assert deliver_due(store, channel_for=channel, now=lambda: NOW.replace(day=21, hour=0)).sent == 1


def test_daily_cap_per_customer(store):
    with store.session() as s:
        shop_id = make_shop(s, messaging={"daily_cap": {"transactional": 2}})
        cid = add_buyer(s, shop_id)
        results = [queue_message(s, OutgoingMessage(shop_id=shop_id, customer_id=cid, event=f"case.update{i}",
                                                    purpose="transactional", text=f"进展 {i}"), now=NOW)
                   for i in range(3)]
    assert [r.status for r in results] == ["queued", "queued", "suppressed"]
    assert results[2].reason == "daily_cap"


def test_retries_back_off_then_dead_letter_and_retry_button(store):
    with store.session() as s:
        shop_id = make_shop(s, messaging={"max_attempts": 3, "retry_base_seconds": 60})
        cid = add_buyer(s, shop_id)
        mid = queue_message(s, shipped(shop_id, cid), now=NOW).message_id
    failing = DeliveryResult(False, retryable=True, error_code="network", error="connection refused 13800000001")
    channel = RecordingChannel([failing, failing, failing])
    assert deliver_one(store, mid, channel_for=channel, now=lambda: NOW) == "retried"
    with store.session() as s:
        row = s.get(OutboxMessage, mid)
        assert row.status == "retry" and row.next_attempt_at == NOW + timedelta(seconds=60)
        assert "13800000001" not in row.last_error
    assert deliver_one(store, mid, channel_for=channel, now=lambda: NOW) == "skipped"  # not due yet
    assert deliver_one(store, mid, channel_for=channel, now=lambda: NOW + timedelta(seconds=60)) == "retried"
    with store.session() as s:
        assert s.get(OutboxMessage, mid).next_attempt_at == NOW + timedelta(seconds=60 + 120)
    assert deliver_one(store, mid, channel_for=channel, now=lambda: NOW + timedelta(hours=1)) == "dead"
    with store.session() as s:
        assert s.get(OutboxMessage, mid).status == "dead"
        assert retry_dead(s, mid, actor="owner", now=NOW + 2 * H)
        assert not retry_dead(s, mid, actor="owner", now=NOW + 2 * H)
    assert deliver_one(store, mid, channel_for=channel, now=lambda: NOW + 2 * H) == "sent"
    with store.session() as s:
        assert decisions(s, mid) == ["queued", "retry", "retry", "dead", "retried", "sent"]


def test_a_permanent_error_is_a_dead_letter_at_once(store):
    with store.session() as s:
        shop_id = make_shop(s)
        cid = add_buyer(s, shop_id)
        mid = queue_message(s, shipped(shop_id, cid), now=NOW).message_id
    channel = RecordingChannel([DeliveryResult(False, retryable=False, error_code="invalid_recipient", error="bad")])
    assert deliver_one(store, mid, channel_for=channel, now=lambda: NOW) == "dead"


def _crash_while_sending(store, mid):
    """A worker claimed the message, maybe sent it, and died before recording the outcome."""
    from kefu.services.delivery import claim

    with store.session() as s:
        assert claim(s, mid, now=NOW, worker="dead-worker", lease_seconds=60)


def test_after_a_crash_the_row_state_and_the_provider_decide(store):
    with store.session() as s:
        shop_id = make_shop(s)
        cid = add_buyer(s, shop_id)
        sent_before = queue_message(s, shipped(shop_id, cid, idempotency_key="a"), now=NOW).message_id
        not_sent = queue_message(s, shipped(shop_id, cid, idempotency_key="b"), now=NOW).message_id
    channel = RecordingChannel(can_look_up=True)
    for mid in (sent_before, not_sent):
        _crash_while_sending(store, mid)
    channel.send(type("D", (), {"message_id": sent_before})())  # the provider got this one before the crash
    later = NOW + timedelta(minutes=5)
    assert recover_stale(store, channel_for=channel, now=NOW + timedelta(seconds=30)) == 0  # lease still held
    counts = deliver_due(store, channel_for=channel, now=lambda: later)
    assert counts.recovered == 2 and counts.sent == 1
    assert [d.message_id for d in channel.sent].count(sent_before) == 1
    assert [d.message_id for d in channel.sent].count(not_sent) == 1


def test_after_a_crash_a_channel_that_cannot_look_up_makes_a_dead_letter(store):
    with store.session() as s:
        shop_id = make_shop(s)
        cid = add_buyer(s, shop_id)
        mid = queue_message(s, shipped(shop_id, cid), now=NOW).message_id
    _crash_while_sending(store, mid)
    channel = RecordingChannel()
    assert recover_stale(store, channel_for=channel, now=NOW + H) == 1
    with store.session() as s:
        row = s.get(OutboxMessage, mid)
        assert (row.status, row.reason) == ("dead", "unknown_after_crash")
    assert channel.sent == []


def test_bad_messages_are_refused_naming_the_field(store):
    with store.session() as s:
        shop_id = make_shop(s)
        with pytest.raises(MessageProblem, match="purpose"):
            queue_message(s, OutgoingMessage(shop_id=shop_id, customer_id=None, event="x", purpose="spam", text="hi"),
                          now=NOW)
        with pytest.raises(MessageProblem, match="exactly one"):
            queue_message(s, OutgoingMessage(shop_id=shop_id, customer_id=None, event="x", purpose="service",
                                             text="hi", template="order.paid"), now=NOW)


def test_an_agent_suppression_of_everything_stops_transactional_notices(store):
    with store.session() as s:
        shop_id = make_shop(s)
        cid = add_buyer(s, shop_id)
        assert suppress_customer(s, shop_id=shop_id, customer_id=cid, scope="all", now=NOW)
        assert not suppress_customer(s, shop_id=shop_id, customer_id=cid, scope="all", now=NOW)
        result = queue_message(s, shipped(shop_id, cid), now=NOW)
    assert (result.status, result.reason) == ("suppressed", "opted_out")


def test_a_batch_is_claimed_sent_side_by_side_and_recorded_once(store):
    with store.session() as s:
        shop_id = make_shop(s, messaging={"max_attempts": 2, "daily_cap": {}})
        cid = add_buyer(s, shop_id)
        ids = [queue_message(s, shipped(shop_id, cid, idempotency_key=f"k{i}"), now=NOW).message_id for i in range(5)]
    failing = DeliveryResult(False, retryable=True, error_code="network", error="down")
    channel = RecordingChannel([failing])
    full = []
    from kefu.services.delivery import deliver_batch

    first = deliver_batch(store, channel_for=channel, limit=3, now=lambda: NOW, on_full=lambda: full.append(1))
    second = deliver_batch(store, channel_for=channel, limit=3, now=lambda: NOW, on_full=lambda: full.append(1))
    third = deliver_batch(store, channel_for=channel, limit=3, now=lambda: NOW)
    assert (first["claimed"], second["claimed"], third["claimed"]) == (3, 2, 0)
    assert first["sent"] + second["sent"] == 4 and first["retried"] + second["retried"] == 1
    assert full == [1]  # only the full batch asked for another job
    later = deliver_batch(store, channel_for=channel, limit=3, now=lambda: NOW + timedelta(minutes=5))
    assert later["sent"] == 1
    assert sorted(d.message_id for d in channel.sent) == sorted(ids)
    with store.session() as s:
        rows = {r.id: r for r in s.scalars(select(OutboxMessage))}
        assert {r.status for r in rows.values()} == {"sent"}
        assert all(r.provider_message_id == f"p-{r.id}" for r in rows.values())
        retried = next(r for r in rows.values() if r.attempts == 2)
        assert decisions(s, retried.id) == ["queued", "retry", "sent"]
