"""Evidence of a case, kept unchanged: snapshot rows written once with their SHA-256, and the exported case file.

`capture` writes a row (text, or a dict as canonical JSON) and never touches it again (the table refuses updates);
`export_case` gathers the case, its history, offers, actions, calls, promises and every snapshot with its hash and
whether the stored content still matches it, as JSON; `export_markdown` renders the same as a readable file.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.domain.privacy import mask_address, mask_name, mask_phone, redact_phones
from kefu.store.case_tables import Case, CaseAction, CaseCall, CaseEvent, CaseEvidence, CaseOffer, Promise
from kefu.store.tables import Order, OrderLine, Shipment

KINDS = ("transcript", "order", "promise", "call", "note", "satisfaction")
EXPORT_VERSION = 1
_SEQUENCE = itertools.count()


def evidence_id(now: datetime) -> str:
    """32 hex characters that sort in capture order: the capture time, a per-process sequence, then randomness."""
    micros = int(now.timestamp() * 1_000_000)
    return f"{micros:014x}{next(_SEQUENCE) % 16**6:06x}{secrets.token_hex(6)}"


def canonical(content: str | dict[str, Any] | list[Any]) -> str:
    """Text as given; structures as sorted, indented JSON, so the same facts always hash the same."""
    if isinstance(content, str):
        return content
    return json.dumps(content, ensure_ascii=False, sort_keys=True, indent=2, default=str)


def sha256_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def capture(session: Session, case: Case, kind: str, title: str, content: str | dict[str, Any] | list[Any], *,
            actor: str | None, now: datetime) -> CaseEvidence:
    """Keep one piece of evidence for the case: phones redacted, hashed, written once."""
    if kind not in KINDS:
        raise ValueError(f"evidence kind must be one of {KINDS}, not {kind!r}")
    text = redact_phones(canonical(content)) or ""
    row = CaseEvidence(id=evidence_id(now), shop_id=case.shop_id, case_id=case.id, kind=kind, title=title[:200], content=text,
                       sha256=sha256_of(text), captured_at=now, captured_by=(actor or "")[:80] or None)
    session.add(row)
    return row


def order_snapshot(session: Session, order: Order) -> dict[str, Any]:
    """The order as it stands: amounts, status, lines, parcels; the receiver masked (the case file is shared)."""
    lines = session.scalars(select(OrderLine).where(OrderLine.order_id == order.id).order_by(OrderLine.line_no))
    parcels = session.scalars(select(Shipment).where(Shipment.order_id == order.id))
    iso = lambda moment: moment.isoformat() if moment else None  # noqa: E731
    return {
        "order_no": order.order_no, "platform": order.platform, "status": order.status,
        "status_text": order.status_text, "buyer_nick": order.buyer_nick, "created_at": iso(order.created_at),
        "paid_at": iso(order.paid_at), "shipped_at": iso(order.shipped_at), "finished_at": iso(order.finished_at),
        "paid_amount": str(order.paid_amount) if order.paid_amount is not None else None,
        "refunded_amount": str(order.refunded_amount) if order.refunded_amount is not None else None,
        "post_fee": str(order.post_fee) if order.post_fee is not None else None, "currency": order.currency,
        "buyer_message": redact_phones(order.buyer_message), "seller_memo": redact_phones(order.seller_memo),
        "receiver": {"name": mask_name(order.receiver_name), "phone": mask_phone(order.receiver_phone),
                     "province": order.receiver_province, "city": order.receiver_city,
                     "address": mask_address(order.receiver_address)},
        "lines": [{"title": line.title, "sku": line.sku_properties, "quantity": line.quantity,
                   "price": str(line.price) if line.price is not None else None,
                   "paid_amount": str(line.paid_amount) if line.paid_amount is not None else None,
                   "refund_status": line.refund_status} for line in lines],
        "parcels": [{"carrier": p.carrier_name or p.carrier_code, "waybill_no": p.waybill_no, "status": p.status,
                     "shipped_at": iso(p.shipped_at), "signed_at": iso(p.signed_at)} for p in parcels],
    }


def snapshot_order(session: Session, case: Case, order: Order, *, actor: str | None, now: datetime) -> CaseEvidence:
    return capture(session, case, "order", f"订单快照 / order snapshot {order.order_no}", order_snapshot(session, order),
                   actor=actor, now=now)


CHAT_MESSAGES_KEPT = 50


def chat_transcript(session: Session, *, shop_id: str, customer_id: str | None, message_id: str | None = None,
                    until: datetime | None = None) -> tuple[str, str | None] | None:
    """The buyer's chat as text (the conversation of `message_id` up to it, else the buyer's latest conversation):
    (transcript, conversation id), or None when there is no chat (or the service desk is not installed)."""
    try:
        from kefu.store.desk_tables import ChatMessage, Conversation  # the service desk's tables
    except ImportError:
        return None
    conversation_id = None
    if message_id:
        found = session.get(ChatMessage, message_id)
        if found is not None and found.shop_id == shop_id:
            conversation_id, until = found.conversation_id, found.sent_at
        elif (conv := session.get(Conversation, message_id)) is not None and conv.shop_id == shop_id:
            conversation_id = conv.id
    if conversation_id is None and customer_id:
        conversation_id = session.scalar(select(Conversation.id).where(
            Conversation.shop_id == shop_id, Conversation.customer_id == customer_id)
            .order_by(Conversation.last_message_at.desc().nulls_last()).limit(1))
    if conversation_id is None:
        return None
    query = select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
    if until is not None:
        query = query.where(ChatMessage.sent_at <= until)
    messages = list(session.scalars(query.order_by(ChatMessage.sent_at.desc(), ChatMessage.id.desc())
                                    .limit(CHAT_MESSAGES_KEPT)))
    if not messages:
        return None
    lines = []
    for m in reversed(messages):
        who = "买家 / buyer" if m.sender == "buyer" else f"客服 / agent {m.author or ''}".rstrip()
        lines.append(f"[{m.sent_at.astimezone(UTC).isoformat()}] {who}: {m.body}")
    return "\n".join(lines), conversation_id


def snapshot_chat(session: Session, case: Case, *, message_id: str | None = None, actor: str | None,
                  now: datetime) -> CaseEvidence | None:
    """Keep the buyer's chat on the case file, unchanged (None when there is no chat to keep)."""
    found = chat_transcript(session, shop_id=case.shop_id, customer_id=case.customer_id, message_id=message_id)
    if found is None:
        return None
    text, conversation_id = found
    return capture(session, case, "transcript", f"聊天记录 / chat transcript ({conversation_id})", text, actor=actor,
                   now=now)


def evidence_of(session: Session, case_id: str) -> list[CaseEvidence]:
    return list(session.scalars(select(CaseEvidence).where(CaseEvidence.case_id == case_id)
                                .order_by(CaseEvidence.captured_at, CaseEvidence.id)))


def is_intact(row: CaseEvidence) -> bool:
    """The stored content still hashes to the SHA-256 written with it."""
    return sha256_of(row.content) == row.sha256


def export_case(session: Session, case_id: str, *, now: datetime | None = None) -> dict[str, Any]:
    """The whole case file as JSON-ready data, with timestamps and every snapshot's hash."""
    from kefu.services.cases import case_json, clock_of, get_case, offer_json  # cases imports this module

    now = (now or datetime.now(UTC)).astimezone(UTC)
    case = get_case(session, case_id)
    iso = lambda moment: moment.isoformat() if moment else None  # noqa: E731
    evidence = evidence_of(session, case.id)
    return {
        "format": "kefu.case_file", "version": EXPORT_VERSION, "exported_at": now.isoformat(),
        "case": case_json(case, clock_of(session, case, now)),
        "events": [{"at": iso(e.at), "kind": e.kind, "step": e.step, "actor": e.actor, "detail": e.detail or {}}
                   for e in session.scalars(select(CaseEvent).where(CaseEvent.case_id == case.id)
                                            .order_by(CaseEvent.at, CaseEvent.id))],
        "offers": [offer_json(o) for o in session.scalars(select(CaseOffer).where(CaseOffer.case_id == case.id)
                                                          .order_by(CaseOffer.created_at, CaseOffer.id))],
        "actions": [{"id": a.id, "kind": a.kind, "amount": str(a.amount) if a.amount is not None else None,
                     "reference": a.reference, "status": a.status, "note": a.note, "created_by": a.created_by,
                     "created_at": iso(a.created_at), "done_at": iso(a.done_at)}
                    for a in session.scalars(select(CaseAction).where(CaseAction.case_id == case.id)
                                             .order_by(CaseAction.created_at, CaseAction.id))],
        "calls": [{"called_at": iso(c.called_at), "called_by": c.called_by, "outcome": c.outcome,
                   "minutes": c.minutes, "note": c.note}
                  for c in session.scalars(select(CaseCall).where(CaseCall.case_id == case.id)
                                           .order_by(CaseCall.called_at, CaseCall.id))],
        "promises": [{"kind": p.kind, "what": p.what, "due_at": iso(p.due_at), "status": p.status,
                      "made_at": iso(p.made_at), "made_by": p.made_by, "source_text": p.source_text}
                     for p in session.scalars(select(Promise).where(Promise.case_id == case.id)
                                              .order_by(Promise.made_at, Promise.id))],
        "evidence": [{"id": e.id, "kind": e.kind, "title": e.title, "captured_at": iso(e.captured_at),
                      "captured_by": e.captured_by, "sha256": e.sha256, "intact": is_intact(e), "content": e.content}
                     for e in evidence],
    }


def export_markdown(data: dict[str, Any]) -> str:
    """The case file as Markdown a person can read, print or attach to a platform dispute."""
    case = data["case"]
    out = [f"# 投诉工单 / Case {case['id']}", "",
           f"- 导出时间 / exported at: {data['exported_at']}",
           f"- 来源 / source: {case['source']} {case['source_id'] or ''}".rstrip(),
           f"- 步骤 / step: {case['step']} · 状态 / status: {case['status']} · 严重度 / severity: {case['severity']}",
           f"- 开单 / opened: {case['opened_at']} by {case['opened_by'] or '—'}",
           f"- 关闭 / closed: {case['closed_at'] or '—'}",
           f"- 满意度 / satisfaction: {case['satisfaction'] if case['satisfaction'] is not None else '—'}",
           "", "## 摘要 / Summary", "", case["summary"], ""]
    if case.get("buyer_account") or case.get("demands"):
        out += ["## 买家陈述 / Buyer's account", "", case.get("buyer_account") or "—", "",
                "## 诉求 / Demands", "", case.get("demands") or "—", ""]
    if data["offers"]:
        out += ["## 方案 / Offers", "", "| 档 tier | 方案 offer | 成本 cost | 买家 buyer | 审批 approval | 选定 chosen |",
                "|---|---|---|---|---|---|"]
        out += [f"| {o['tier']} | {o['description']} | {o['cost']} | {o['buyer_accepts']} | {o['approval']} | "
                f"{'✓' if o['chosen'] else ''} |" for o in data["offers"]]
        out.append("")
    if data["actions"]:
        out += ["## 处理 / Actions", ""]
        out += [f"- {a['created_at']} {a['kind']} {a['amount'] or ''} {a['reference'] or ''} → {a['status']}"
                f"{' (' + a['done_at'] + ')' if a['done_at'] else ''}" for a in data["actions"]]
        out.append("")
    if data["calls"]:
        out += ["## 电话 / Calls", ""]
        out += [f"- {c['called_at']} {c['called_by'] or ''}: {c['outcome']} {c['note'] or ''}".rstrip()
                for c in data["calls"]]
        out.append("")
    if data["promises"]:
        out += ["## 承诺 / Promises", ""]
        out += [f"- {p['made_at']} {p['what']} (due {p['due_at'] or '—'}) → {p['status']}" for p in data["promises"]]
        out.append("")
    out += ["## 经过 / History", ""]
    out += [f"- {e['at']} {e['kind']}{' ' + e['step'] if e['step'] else ''} {e['actor'] or ''}".rstrip()
            for e in data["events"]]
    out += ["", "## 证据 / Evidence (SHA-256)", ""]
    for e in data["evidence"]:
        mark = "intact" if e["intact"] else "CHANGED"
        out += [f"### {e['title']}", "", f"- {e['captured_at']} · {e['captured_by'] or '—'} · {e['kind']}",
                f"- sha256 `{e['sha256']}` ({mark})", "", "```", e["content"], "```", ""]
    return "\n".join(out)
