"""Promises recorded from the guard's verdict and swept when due; case evidence kept unchanged and exported."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime

import pytest
from sqlalchemy import select

from kefu.services import cases as svc
from kefu.services import evidence, promises
from kefu.services.shops import get_or_create_shop
from kefu.store.case_tables import CaseEvidence, EvidenceIsImmutable, Promise
from kefu.store.tables import Alert, Order

from case_seed import H, NOW, add_buyer_order



@dataclass(frozen=True)
class Found:  # the shape of kefu.domain.promise_guard.PromiseFound
    kind: str
    text: str
    due_at: datetime | None


@dataclass(frozen=True)
class Verdict:
    promises: tuple[Found, ...]


@pytest.fixture
def shop(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "承诺店").id
        cid, oid = add_buyer_order(s, shop_id)
    return store, shop_id, cid, oid


def test_promises_are_recorded_once_and_join_the_buyers_open_case(shop):
    store, shop_id, cid, oid = shop
    verdict = Verdict((Found("ship_by", "今天下午5点前发货", NOW + 8 * H), Found("gift", "送您一双袜子", None)))
    with store.session() as s:
        case_id = svc.open_case(s, shop_id=shop_id, customer_id=cid, source="message", source_id="m9",
                                summary="催发货", order_id=oid, opened_by="a", now=NOW)
        first = promises.record_promises(s, shop_id, cid, verdict, order_id=oid, message_id="msg-1",
                                         source_text="亲，今天下午5点前发货，送您一双袜子，有事打13800000055",
                                         made_by="xiaomei", now=NOW)
        again = promises.record_promises(s, shop_id, cid, verdict, order_id=oid, message_id="msg-1", now=NOW + H)
        assert promises.record_promises(s, shop_id, cid, None, now=NOW) == []
    assert [p.id for p in first] == [p.id for p in again]
    with store.session() as s:
        rows = s.scalars(select(Promise)).all()
        assert len(rows) == 2 and {r.case_id for r in rows} == {case_id}
        assert all("13800000055" not in (r.source_text or "") for r in rows)
        kinds = [e.kind for e in evidence.evidence_of(s, case_id)]
        assert kinds.count("promise") == 2


def test_the_sweep_marks_overdue_promises_and_raises_one_alert_each(shop):
    store, shop_id, cid, oid = shop
    with store.session() as s:
        soon, later, open_ended = promises.record_promises(
            s, shop_id, cid, Verdict((Found("ship_by", "今天发货", NOW + 2 * H), Found("refund", "明天退款", NOW + 30 * H),
                                      Found("callback", "稍后回电", None))), order_id=oid, now=NOW)
    with store.session() as s:
        result = promises.sweep_promises(s, shop_id, now=NOW + 3 * H)
    assert (result.overdue, result.raised) == (1, 1)
    with store.session() as s:
        assert promises.sweep_promises(s, shop_id, now=NOW + 4 * H).raised == 0  # never twice
        alert = s.scalar(select(Alert).where(Alert.kind == "promise.due"))
        assert alert.detail["promise_id"] == soon.id and alert.order_id == oid and alert.status == "open"
        assert s.get(Promise, soon.id).status == "overdue" and s.get(Promise, later.id).status == "open"
        promises.close_promise(s, soon.id, "kept", by="xiaomei", now=NOW + 5 * H)
    with store.session() as s:
        assert s.get(Promise, soon.id).status == "kept"
        assert s.scalar(select(Alert.status).where(Alert.kind == "promise.due")) == "resolved"
        assert [p.id for p in promises.list_promises(s, shop_id=shop_id, status="open")] == [later.id, open_ended.id]


def test_evidence_is_never_updated_and_the_export_carries_hashes(shop):
    store, shop_id, cid, oid = shop
    with store.session() as s:
        case_id = svc.open_case(s, shop_id=shop_id, customer_id=cid, source="manual", source_id=None,
                                summary="少发一件", order_id=oid, opened_by="a", now=NOW)
        svc.add_note(s, case_id, text="买家: 只收到一件\n客服: 马上核实", actor="a", now=NOW + H)
    with store.session() as s:
        row = s.scalars(select(CaseEvidence).where(CaseEvidence.kind == "order")).one()
        row.content = "tampered"
        with pytest.raises(EvidenceIsImmutable):
            s.flush()
        s.rollback()
    with store.session() as s:
        row = s.scalars(select(CaseEvidence).where(CaseEvidence.kind == "order")).one()
        with pytest.raises(EvidenceIsImmutable):
            s.delete(row)
            s.flush()
        s.rollback()
    with store.session() as s:
        data = evidence.export_case(s, case_id, now=NOW + 2 * H)
    text = json.dumps(data, ensure_ascii=False)
    assert data["exported_at"] == (NOW + 2 * H).isoformat()
    assert [e["kind"] for e in data["evidence"]] == ["transcript", "order", "transcript"]
    assert all(e["intact"] and len(e["sha256"]) == 64 for e in data["evidence"])
    assert "只收到一件" in text and "13800000012" not in text
    markdown = evidence.export_markdown(data)
    assert markdown.startswith(f"# 投诉工单 / Case {case_id}") and "(intact)" in markdown and "少发一件" in markdown


def test_the_guards_promises_land_and_shipping_promises_settle_from_the_order(shop):
    from kefu.domain.promise_guard import GuardContext, ShopFacts, check_text

    store, shop_id, cid, oid = shop
    verdict = check_text("亲，今天会给您发货，稍后给您回电", ShopFacts(), GuardContext(now=NOW))
    assert {p.kind for p in verdict.promises} >= {"ship", "callback"}
    with store.session() as s:
        rows = promises.record_promises(s, shop_id, cid, verdict, order_id=oid, message_id="m-guard", now=NOW)
        ship = next(r for r in rows if r.kind == "ship")
        assert ship.due_at is not None and ship.due_at.tzinfo is not None
        s.get(Order, oid).shipped_at = ship.due_at - H
    with store.session() as s:
        result = promises.sweep_promises(s, shop_id, now=ship.due_at + 2 * H)
        assert (result.kept, result.broken) == (1, 0)
        assert s.get(Promise, ship.id).status == "kept"
        assert s.get(Promise, next(r.id for r in rows if r.kind == "callback")).status == "overdue"
