"""A batch's outcomes recorded at once on SQLite and PostgreSQL (one statement there): sent, retried and dead in the
same batch, rows settled meanwhile by the crash recovery left alone, and no send started once too little of the claim
is left for the channel's timeout."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from kefu.services.delivery import DeliveryResult, claim_batch, deliver_batch
from kefu.services.delivery_outcomes import LEASE_ENDING, outcome_of, record_outcomes
from kefu.services.message_templates import rules_of
from kefu.services.outbox import OutgoingMessage, queue_message
from kefu.store.messaging_tables import MessageDecision, OutboxMessage
from kefu.store.tables import Customer, Shop
from messaging_helpers import NOW, RecordingChannel, add_buyer, make_shop


def _queue(store, count: int) -> tuple[str, list[str]]:
    with store.session() as s:
        shop_id = make_shop(s, messaging={"max_attempts": 3, "daily_cap": {}})
        cid = add_buyer(s, shop_id)
        ids = [queue_message(s, OutgoingMessage(shop_id=shop_id, customer_id=cid, event="order.shipped",
                                                purpose="transactional", text=f"包裹 {i} 已发出",
                                                idempotency_key=f"batch:{i}"), now=NOW).message_id
               for i in range(count)]
    return shop_id, ids


def _decisions(session, message_id: str) -> list[tuple[str, str | None, str | None]]:
    return [tuple(r) for r in session.execute(
        select(MessageDecision.decision, MessageDecision.reason, MessageDecision.actor)
        .where(MessageDecision.message_id == message_id).order_by(MessageDecision.id))]


def test_mixed_outcomes_are_written_together_and_only_for_rows_still_held(store):
    shop_id, ids = _queue(store, 4)
    with store.session() as s:
        claimed = {c.id: c for c in claim_batch(s, now=NOW, worker="w1", limit=10)}
        rules = rules_of(s.get(Shop, shop_id))
    assert set(claimed) == set(ids)
    results = [DeliveryResult.sent("prov-0"), DeliveryResult.failed("network", "down", retryable=True),
               DeliveryResult.failed("invalid_recipient", "手机号 13800000001 无效", retryable=False),
               DeliveryResult.sent("prov-3")]
    later = NOW + timedelta(seconds=3)
    outcomes = [outcome_of(mid, shop_id, claimed[mid].attempts, r, now=later, rules=rules)
                for mid, r in zip(ids, results)]
    with store.session() as s:  # the crash recovery settled the last one meanwhile
        s.get(OutboxMessage, ids[3]).status = "retry"
    with store.session() as s:
        recorded = record_outcomes(s, outcomes, worker="w1", now=later)
    assert recorded == set(ids[:3])
    with store.session() as s:
        rows = [s.get(OutboxMessage, mid) for mid in ids]
        assert [r.status for r in rows] == ["sent", "retry", "dead", "retry"]
        assert (rows[0].provider_message_id, rows[0].sent_at, rows[0].claimed_until) == ("prov-0", later, None)
        assert rows[1].next_attempt_at > later and rows[1].reason == "network" and rows[1].sent_at is None
        assert "13800000001" not in rows[2].last_error  # phones redacted before they are stored
        assert rows[3].provider_message_id is None
        assert _decisions(s, ids[0])[-1] == ("sent", None, "w1")
        assert _decisions(s, ids[1])[-1] == ("retry", "network", "w1")
        assert _decisions(s, ids[2])[-1] == ("dead", "invalid_recipient", "w1")
        assert _decisions(s, ids[3])[-1][0] == "queued"  # nothing recorded for a row no longer held


def test_another_workers_claim_is_not_recorded(store):
    shop_id, ids = _queue(store, 1)
    with store.session() as s:
        c = claim_batch(s, now=NOW, worker="w1", limit=10)[0]
        rules = rules_of(s.get(Shop, shop_id))
    with store.session() as s:
        assert record_outcomes(s, [outcome_of(c.id, shop_id, c.attempts, DeliveryResult.sent("x"), now=NOW,
                                              rules=rules)], worker="w2", now=NOW) == set()
    with store.session() as s:
        assert s.get(OutboxMessage, ids[0]).status == "sending"


def test_a_batch_whose_send_window_ends_renews_its_claim_and_goes_on(store):
    _, ids = _queue(store, 3)
    channel = RecordingChannel()
    clock = iter([NOW] + [NOW + timedelta(seconds=s) for s in range(1, 100)])
    counts = deliver_batch(store, channel_for=channel, limit=10, now=lambda: next(clock), lease_seconds=60,
                           send_window_seconds=0.0)  # every send finds the window over: the claim is renewed first
    assert (counts["claimed"], counts["sent"]) == (3, 3)
    assert sorted(d.message_id for d in channel.sent) == sorted(ids)
    with store.session() as s:
        assert not s.scalar(select(MessageDecision.id).where(MessageDecision.reason == LEASE_ENDING))


def test_no_send_starts_once_the_claim_has_run_out(store):
    _, ids = _queue(store, 3)
    channel = RecordingChannel()
    clock = iter([NOW] + [NOW + timedelta(minutes=5)] * 10)  # the claim lasts 60 s; renewing comes too late
    counts = deliver_batch(store, channel_for=channel, limit=10, now=lambda: next(clock), lease_seconds=60,
                           send_window_seconds=0.0)
    assert (counts["claimed"], counts["sent"], counts["retried"]) == (3, 0, 3)
    assert channel.sent == []
    with store.session() as s:
        rows = [s.get(OutboxMessage, mid) for mid in ids]
        assert {(r.status, r.reason) for r in rows} == {("retry", LEASE_ENDING)}  # due again, no back-off
        assert {r.next_attempt_at for r in rows} == {NOW + timedelta(minutes=5)}
    again = deliver_batch(store, channel_for=channel, limit=10, now=lambda: NOW + timedelta(minutes=5),
                          send_window_seconds=60.0)
    assert again["sent"] == 3 and sorted(d.message_id for d in channel.sent) == sorted(ids)


def test_the_claim_brings_each_recipient_along(store):
    from messaging_helpers import add_order

    with store.session() as s:
        shop_id = make_shop(s, messaging={"daily_cap": {}})
        with_phone = add_buyer(s, shop_id, "tb_phone", phone="13800000011")
        s.get(Customer, with_phone).email = "buyer@example.com"
        no_phone = add_buyer(s, shop_id, "tb_nophone", phone="")
        order = add_order(s, shop_id, "9001", no_phone, receiver_phone="13800000022")
        sent = {}
        for key, cid, oid in (("a", with_phone, None), ("b", no_phone, order), ("c", None, None)):
            sent[key] = queue_message(s, OutgoingMessage(shop_id=shop_id, customer_id=cid, order_id=oid,
                                                         event="order.shipped", purpose="transactional",
                                                         text="已发出", idempotency_key=key), now=NOW).message_id
    channel = RecordingChannel()
    assert deliver_batch(store, channel_for=channel, limit=10, now=lambda: NOW)["sent"] == 3
    got = {d.message_id: (d.to_phone, d.to_email) for d in channel.sent}
    assert got[sent["a"]] == ("13800000011", "buyer@example.com")
    assert got[sent["b"]] == ("13800000022", None)  # the order's receiver when the buyer has no phone
    assert got[sent["c"]] == (None, None)


def test_sends_of_a_batch_come_back_in_order_whatever_thread_sent_them():
    from kefu.services.delivery import _send_all, use_send_threads

    use_send_threads(3)
    try:
        assert _send_all(list(range(10)), lambda n: n * n) == [n * n for n in range(10)]
        assert _send_all([7], lambda n: -n) == [-7]
        assert _send_all([], lambda n: n) == []
    finally:
        use_send_threads(16)
