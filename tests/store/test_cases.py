"""Complaint cases on SQLite and PostgreSQL: opening, the five steps, the ladder with owner approval, calls, SLA."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from kefu.domain.cases import sla
from kefu.services import cases as svc
from kefu.services.shops import get_or_create_shop
from kefu.store.case_tables import Case, CaseEvent, CaseEvidence

from case_seed import H, NOW
from case_seed import add_buyer_order as seed_buyer_order



def add_buyer_order(session, shop_id, *, nick="tb_小美", no="4001", paid="200.00"):
    return seed_buyer_order(session, shop_id, nick=nick, no=no, paid=paid, buyer_message="电话13800000012", line=True)


@pytest.fixture
def shop(store):
    with store.session() as s:
        shop_id = get_or_create_shop(s, "投诉店").id
        cid, oid = add_buyer_order(s, shop_id)
    return store, shop_id, cid, oid


def test_open_case_snapshots_the_order_and_is_idempotent_per_source(shop):
    store, shop_id, cid, oid = shop
    with store.session() as s:
        case_id = svc.open_case(s, shop_id=shop_id, customer_id=None, source="alert", source_id="alert-1",
                                summary="包裹破损, 买家很生气 13800000099", order_id=oid, opened_by="xiaomei", now=NOW)
        again = svc.open_case(s, shop_id=shop_id, customer_id=cid, source="alert", source_id="alert-1",
                              summary="again", order_id=oid, opened_by="xiaomei", now=NOW + H)
    assert again == case_id
    with store.session() as s:
        case = s.get(Case, case_id)
        assert (case.customer_id, case.step, case.status, case.severity is not None) == (cid, "confirm", "open", True)
        assert "13800000099" not in case.summary
        rows = s.scalars(select(CaseEvidence).where(CaseEvidence.case_id == case_id)).all()
        kinds = sorted(r.kind for r in rows)
        assert kinds == ["order", "transcript"]
        order_row = next(r for r in rows if r.kind == "order")
        assert "13800000012" not in order_row.content and "白色连衣裙" in order_row.content
        assert s.scalar(select(func.count()).select_from(CaseEvent).where(CaseEvent.case_id == case_id)) == 2


def test_open_case_refuses_bad_input_naming_the_field(shop):
    store, shop_id, cid, oid = shop
    with store.session() as s:
        with pytest.raises(svc.CaseError, match="source"):
            svc.open_case(s, shop_id=shop_id, customer_id=cid, source="phone", source_id=None, summary="x",
                          opened_by="a", now=NOW)
        with pytest.raises(svc.CaseError, match="summary"):
            svc.open_case(s, shop_id=shop_id, customer_id=cid, source="manual", source_id=None, summary="  ",
                          opened_by="a", now=NOW)
        with pytest.raises(svc.CaseError, match="order"):
            svc.open_case(s, shop_id=shop_id, customer_id=cid, source="manual", source_id=None, summary="x",
                          order_id="nope", opened_by="a", now=NOW)


def test_a_complaint_walks_all_five_steps_with_owner_approval(shop):
    store, shop_id, cid, oid = shop
    with store.session() as s:
        case_id = svc.open_case(s, shop_id=shop_id, customer_id=cid, source="message", source_id="m1",
                                summary="衣服有色差", order_id=oid, opened_by="xiaomei", now=NOW)
        svc.confirm_case(s, case_id, buyer_account="收到的颜色和图片不一样", demands="全额退款不退货",
                         actor="xiaomei", now=NOW + 0.5 * H)
        svc.analyse_case(s, case_id, severity="medium", decider="owner", actor="xiaomei", now=NOW + H)
        cheap = svc.add_offer(s, case_id, kind="coupon", description="送10元无门槛券", cost="10", buyer_accepts="no",
                              actor="xiaomei", now=NOW + H)
        full = svc.add_offer(s, case_id, kind="refund", description="全额退款不退货", cost="200", buyer_accepts="yes",
                             actor="xiaomei", now=NOW + H)
        part = svc.add_offer(s, case_id, kind="partial_refund", description="退款30元", cost="30",
                             buyer_accepts="unknown", actor="xiaomei", now=NOW + H)
        # margin = 30% of 200 = 60; a little = 10% of 200 = 20
        assert (cheap.tier, cheap.approval) == (4, "pending")
        assert (full.tier, full.beyond_policy, full.approval) == (3, True, "pending")
        assert (part.tier, part.approval) == (2, "not_needed")
        svc.move_case(s, case_id, "negotiate", actor="xiaomei", now=NOW + 2 * H)
        with pytest.raises(svc.CaseError, match="审批"):
            svc.choose_offer(s, full.id, actor="xiaomei", now=NOW + 3 * H)
        with pytest.raises(svc.ApprovalRequired):
            svc.decide_offer(s, full.id, approve=True, actor="xiaomei", actor_role="agent", now=NOW + 3 * H)
        svc.decide_offer(s, full.id, approve=True, actor="boss", actor_role="owner", now=NOW + 3 * H)
        case = svc.choose_offer(s, full.id, actor="xiaomei", now=NOW + 3 * H)
        assert case.step == "execute" and case.chosen_offer_id == full.id
        with pytest.raises(svc.CaseError):
            svc.finish_execution(s, case_id, actor="xiaomei", now=NOW + 4 * H)
        action = svc.record_action(s, case_id, kind="refund", amount="200", reference="RF001", actor="xiaomei",
                                   now=NOW + 4 * H)
        with pytest.raises(svc.CaseError, match="pending"):
            svc.finish_execution(s, case_id, actor="xiaomei", now=NOW + 4 * H)
        svc.set_action_status(s, action.id, "done", actor="xiaomei", now=NOW + 5 * H)
        svc.finish_execution(s, case_id, actor="xiaomei", now=NOW + 5 * H)
        case = svc.record_satisfaction(s, case_id, score=5, note="满意", actor="xiaomei", now=NOW + 30 * H)
        assert (case.step, case.status, case.satisfaction) == ("closed", "closed", 5)
        view = svc.case_view(s, case_id, now=NOW + 31 * H)
        # satisfaction first: accepted, then not yet said, then refused
        assert [v.offer.id for v in view.offers] == [full.id, part.id, cheap.id]
        assert view.clock.current is None and view.clock.state == "done"
        with pytest.raises(svc.CaseError, match="closed"):
            svc.add_offer(s, case_id, kind="gift", description="x", cost="1", actor="a", now=NOW + 32 * H)


def test_waiting_on_the_buyer_pauses_the_sla_and_breaches_show_in_the_list(shop):
    store, shop_id, cid, oid = shop
    with store.session() as s:
        waiting = svc.open_case(s, shop_id=shop_id, customer_id=cid, source="manual", source_id=None,
                                summary="等买家发照片", opened_by="a", now=NOW)
        svc.set_waiting(s, waiting, True, actor="a", now=NOW + 0.5 * H)
        late = svc.open_case(s, shop_id=shop_id, customer_id=cid, source="manual", source_id=None,
                             summary="没人处理", opened_by="a", now=NOW)
        page = svc.list_cases(s, shop_id=shop_id, now=NOW + 5 * H)
        states = {row.case.id: row.sla_state for row in page.items}
        assert states == {waiting: sla.PAUSED, late: sla.BREACHED}
        assert page.items[0].case.id == late  # worst first
        clock = svc.case_view(s, waiting, now=NOW + 5 * H).clock.current
        assert clock.used == 0.5 * H and clock.paused_for == 4.5 * H
        assert [r.case.id for r in svc.list_cases(s, shop_id=shop_id, sla_state="breached", now=NOW + 5 * H).items] \
            == [late]
        svc.set_waiting(s, waiting, False, actor="a", now=NOW + 6 * H)
        clock = svc.case_view(s, waiting, now=NOW + 6.5 * H).clock.current
        assert clock.used == 1 * H and clock.state == sla.OK
        clock = svc.case_view(s, waiting, now=NOW + 7.2 * H).clock.current
        assert clock.state == sla.DUE_SOON


def test_a_call_is_recorded_with_its_outcome_as_evidence(shop):
    store, shop_id, cid, oid = shop
    with store.session() as s:
        case_id = svc.open_case(s, shop_id=shop_id, customer_id=cid, source="review", source_id="r1",
                                summary="差评: 质量太差", order_id=oid, opened_by="a", now=NOW)
        with pytest.raises(svc.CaseError, match="outcome"):
            svc.record_call(s, case_id, outcome="yelled", actor="a", now=NOW)
        svc.record_call(s, case_id, outcome="calmed", minutes="7", note="买家同意等补发, 回电13800000077", actor="a",
                        now=NOW + H)
        view = svc.case_view(s, case_id, now=NOW + H)
        assert [c.outcome for c in view.calls] == ["calmed"]
        call_ev = [e for e in view.evidence if e.kind == "call"]
        assert len(call_ev) == 1 and "13800000077" not in call_ev[0].content
        assert any(line.say.startswith("我理解您的感受") for line in view.script)


def test_the_cli_opens_lists_shows_and_exports_a_case(sqlite_store, tmp_path):
    import json

    from typer.testing import CliRunner

    from kefu.cli import app as cli_app

    with sqlite_store.session() as s:
        shop_id = get_or_create_shop(s, "命令行店").id
        add_buyer_order(s, shop_id, no="9001")
    runner = CliRunner()
    db = ["--db", sqlite_store.url]
    opened = runner.invoke(cli_app, [*db, "cases", "open", "--shop", "命令行店", "--order", "9001",
                                     "--summary", "买家说收到的是旧款"])
    assert opened.exit_code == 0, opened.output
    case_id = opened.output.strip()
    listed = json.loads(runner.invoke(cli_app, [*db, "cases", "list", "--json"]).output)
    assert [i["id"] for i in listed["items"]] == [case_id] and listed["items"][0]["sla_state"] == "ok"
    shown = json.loads(runner.invoke(cli_app, [*db, "cases", "show", case_id, "--json"]).output)
    assert shown["step"] == "confirm" and shown["call_script"][3] == "我理解您的感受。"
    out = tmp_path / "case.md"
    exported = runner.invoke(cli_app, [*db, "cases", "export", case_id, "--format", "md", "--out", str(out)])
    assert exported.exit_code == 0 and "sha256" in out.read_text(encoding="utf-8")
    bad = runner.invoke(cli_app, [*db, "cases", "open", "--order", "nope", "--summary", "x"])
    assert bad.exit_code == 1 and "order" in bad.output
    assert runner.invoke(cli_app, [*db, "cases", "show", "nope"]).exit_code == 1
    swept = json.loads(runner.invoke(cli_app, [*db, "cases", "sweep-promises", "--json"]).output)
    assert swept["results"][0]["overdue"] == 0


def test_a_case_from_a_chat_message_keeps_the_conversation_and_its_anger(shop):
    from kefu.store.desk_tables import ChatMessage, Conversation

    store, shop_id, cid, oid = shop
    with store.session() as s:
        s.add(Conversation(id="conv1", shop_id=shop_id, channel="qianniu", buyer_key="tb_小美", customer_id=cid,
                           status="open", waiting=True, last_message_at=NOW, created_at=NOW - 2 * H))
        s.flush()
        lines = [("buyer", "杯子碎了", -60, None), ("seller", "亲，麻烦拍个照片，回电13800000066", -50, None),
                 ("buyer", "气死了，马上给个说法！！", -40, 85), ("buyer", "后来的话", -10, None)]
        for n, (sender, body, minutes, anger) in enumerate(lines):
            s.add(ChatMessage(id=f"msg{n}", shop_id=shop_id, conversation_id="conv1", sender=sender,
                              author="xiaomei" if sender == "seller" else None, sent_at=NOW + minutes * timedelta(minutes=1),
                              body=body, source="import", anger=anger, created_at=NOW))
    with store.session() as s:
        case_id = svc.open_case(s, shop_id=shop_id, customer_id=cid, source="message", source_id="msg2",
                                summary="杯子碎了", order_id=oid, opened_by="a", now=NOW)
        case = s.get(Case, case_id)
        assert case.anger == 0.85
        chat = [e for e in s.scalars(select(CaseEvidence).where(CaseEvidence.case_id == case_id))
                if e.kind == "transcript" and "conv1" in e.title]
        assert len(chat) == 1
        assert "气死了" in chat[0].content and "后来的话" not in chat[0].content  # up to the message
        assert "13800000066" not in chat[0].content
        kept = svc.keep_chat(s, case_id, actor="a", now=NOW + H)
        assert "后来的话" in kept.content
        other = svc.open_case(s, shop_id=shop_id, customer_id=None, source="manual", source_id=None,
                              summary="没有买家", opened_by="a", now=NOW)
        with pytest.raises(svc.CaseError, match="chat"):
            svc.keep_chat(s, other, actor="a", now=NOW)
