"""Conversations with buyers: chat-log imports, live messages, analysis on arrival, personality readings, the inbox."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.desk.signals import fallback_anger, fallback_intent
from kefu.domain.privacy import redact_phones
from kefu.ids import customer_id as make_customer_id
from kefu.ids import new_id, stable_id
from kefu.ingest.chat_export import ChatLine, ChatProblem, parse_chat_file
from kefu.store.desk_tables import ChatMessage, Conversation, PersonalityReadingRow
from kefu.store.tables import Customer, ImportRejection, ImportRun, Shop

log = logging.getLogger(__name__)

PERSONALITY_KINDS = ("dominant", "expressive", "amiable", "analytical")
SENDERS = ("buyer", "seller")
INBOX_FILTERS = ("waiting", "angry", "open", "all")
MAX_MESSAGE_LENGTH = 5000
PERSONALITY_MESSAGES = 50  # the buyer's latest messages the personality is read from


class ConversationNotFound(LookupError):
    """No conversation with that id."""


class MessageError(ValueError):
    """A message could not be taken in; the message names the field (Chinese / English)."""


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class Analysis:
    """What a buyer message says: intent, sentiment, anger (0–1), topics, and which reader produced it."""

    intent: str
    sentiment: str
    anger: float
    topics: tuple[str, ...] = ()
    reader: str = "text"  # text (kefu.text.understand) | fallback (keywords)


def analyse_message(text: str) -> Analysis:
    """`kefu.text.understand.analyze` when installed; keywords otherwise, so the desk never stops on it."""
    try:
        from kefu.text.understand import analyze
    except ImportError:
        analyze = None
    if analyze is not None:
        try:
            result = analyze(text)
            return Analysis(result.intent, result.sentiment, float(result.anger), tuple(result.topics), "text")
        except Exception:  # noqa: BLE001 - a failing model must not lose the buyer's message
            log.exception("message analysis failed; using keywords")
    return analyse_message_by_keywords(text)


def analyse_messages(texts: Sequence[str]) -> list[Analysis]:
    """Many messages at once (`analyze_many` batches the model's features); keywords when the module is missing."""
    try:
        from kefu.text.understand import analyze_many
    except ImportError:
        analyze_many = None
    if analyze_many is not None and texts:
        try:
            return [Analysis(r.intent, r.sentiment, float(r.anger), tuple(r.topics), "text") for r in analyze_many(list(texts))]
        except Exception:  # noqa: BLE001 - a failing model must not lose the buyer's messages
            log.exception("message analysis failed; using keywords")
    return [analyse_message_by_keywords(text) for text in texts]


def analyse_message_by_keywords(text: str) -> Analysis:
    anger = fallback_anger(text)
    return Analysis(fallback_intent(text), "negative" if anger >= 0.5 else "neutral", anger, (), "fallback")


def read_personality(messages: Sequence[str]) -> tuple[str | None, dict[str, float], tuple[str, ...]]:
    """(kind, scores, evidence) from `kefu.text.personality.classify_personality`; (None, {}, ()) when unavailable."""
    try:
        from kefu.text.personality import classify_personality
    except ImportError:
        return None, {}, ()
    reading = classify_personality(list(messages))
    return reading.kind, dict(reading.scores), tuple(reading.evidence)


def _shop(session: Session, shop_id: str) -> Shop:
    shop = session.get(Shop, shop_id)
    if shop is None:
        raise MessageError(f"没有这个店铺 / no shop {shop_id!r}")
    return shop


def customer_for_buyer(session: Session, shop: Shop, buyer: str, now: datetime) -> Customer:
    """The shop's customer with this nick; a new customer (no orders yet) for a buyer who only chatted."""
    cid = make_customer_id(shop.id, shop.platform, buyer)
    customer = session.get(Customer, cid)
    if customer is None:
        customer = session.scalars(
            select(Customer).where(Customer.shop_id == shop.id, Customer.buyer_nick == buyer).limit(1)
        ).first()
    if customer is None:
        customer = Customer(id=cid, shop_id=shop.id, platform=shop.platform, buyer_key=buyer, buyer_nick=buyer,
                            created_at=now)
        session.add(customer)
        session.flush()
    return customer


def conversation_for(session: Session, shop_id: str, buyer: str, *, channel: str = "qianniu",
                     now: datetime | None = None) -> Conversation:
    """The buyer's conversation with the shop, created (with the customer) on the first message."""
    buyer = (buyer or "").strip()
    if not buyer:
        raise MessageError("缺少买家昵称 / buyer is empty")
    if len(buyer) > 200:
        raise MessageError("买家昵称太长 / buyer longer than 200 characters")
    now = _utc(now)
    found = session.scalars(select(Conversation).where(
        Conversation.shop_id == shop_id, Conversation.channel == channel, Conversation.buyer_key == buyer)).first()
    if found is not None:
        return found
    shop = _shop(session, shop_id)
    customer = customer_for_buyer(session, shop, buyer, now)
    conversation = Conversation(id=new_id(), shop_id=shop_id, channel=channel, buyer_key=buyer, customer_id=customer.id,
                                status="open", waiting=False, angry=False, created_at=now)
    session.add(conversation)
    session.flush()
    return conversation


def get_conversation(session: Session, conversation_id: str) -> Conversation:
    conversation = session.get(Conversation, conversation_id)
    if conversation is None:
        raise ConversationNotFound(conversation_id)
    return conversation


def message_key(shop_id: str, channel: str, buyer: str, sender: str, sent_at: datetime, text: str) -> str:
    """The same id for the same message, so importing a chat log twice adds nothing."""
    return stable_id("chat", shop_id, channel, buyer, sender, _utc(sent_at).isoformat(), text)


def add_message(session: Session, conversation: Conversation, *, sender: str, text: str, sent_at: datetime,
                author: str | None = None, auto_reply: bool = False, source: str = "api", message_id: str | None = None,
                detail: dict[str, Any] | None = None, angry_at: float | None = None,
                analysis: Analysis | None = None, now: datetime | None = None) -> ChatMessage | None:
    """Store one message (phones redacted); a buyer message is analysed on arrival. None when it is already stored."""
    if sender not in SENDERS:
        raise MessageError(f"sender 应为 buyer 或 seller / sender must be buyer or seller, got {sender!r}")
    text = (text or "").strip()
    if not text:
        raise MessageError("消息没有内容 / text is empty")
    if len(text) > MAX_MESSAGE_LENGTH:
        raise MessageError(f"消息太长 / text longer than {MAX_MESSAGE_LENGTH} characters")
    sent_at = _utc(sent_at)
    body = redact_phones(text) or text
    message_id = message_id or new_id()
    if session.get(ChatMessage, message_id) is not None:
        return None
    message = ChatMessage(id=message_id, shop_id=conversation.shop_id, conversation_id=conversation.id, sender=sender,
                          author=(author or None) if sender == "seller" else None, auto_reply=bool(auto_reply),
                          sent_at=sent_at, body=body, source=source, detail=dict(detail or {}), created_at=_utc(now))
    if sender == "buyer":
        analysis = analysis or analyse_message(text)
        message.intent, message.sentiment = analysis.intent, analysis.sentiment
        message.anger = round(analysis.anger * 100)
        message.detail = {**(message.detail or {}), "topics": list(analysis.topics), "reader": analysis.reader}
    session.add(message)
    _update_conversation(session, conversation, message, angry_at)
    return message


def _angry_at(session: Session, shop_id: str) -> float:
    shop = session.get(Shop, shop_id)
    return float(shop_rules(shop.settings if shop else None)["desk"].get("angry_at", 0.6))


def _update_conversation(session: Session, conversation: Conversation, message: ChatMessage,
                         angry_at: float | None) -> None:
    """Keep the inbox fields current; an older message (an import of the past) never moves them back."""
    latest = conversation.last_message_at
    if latest is None or _utc(message.sent_at) >= _utc(latest):
        conversation.last_message_at = message.sent_at
        if message.sender == "buyer":
            conversation.waiting = True
            conversation.status = "open"
        elif not message.auto_reply:
            conversation.waiting = False
    if message.sender == "buyer" and (conversation.last_buyer_at is None or _utc(message.sent_at) >= _utc(conversation.last_buyer_at)):
        conversation.last_buyer_at = message.sent_at
        conversation.last_intent = message.intent
        conversation.last_sentiment = message.sentiment
        threshold = angry_at if angry_at is not None else _angry_at(session, conversation.shop_id)
        conversation.angry = (message.anger or 0) >= threshold * 100
    session.flush()


def refresh_personality(session: Session, customer_id: str, *, now: datetime | None = None) -> str | None:
    """Read the buyer's personality from their latest messages; the profile shows the agent's override when set."""
    customer = session.get(Customer, customer_id)
    if customer is None:
        return None
    texts = session.scalars(
        select(ChatMessage.body).join(Conversation, Conversation.id == ChatMessage.conversation_id)
        .where(Conversation.customer_id == customer_id, ChatMessage.sender == "buyer")
        .order_by(ChatMessage.sent_at.desc()).limit(PERSONALITY_MESSAGES)
    ).all()
    kind, scores, evidence = read_personality(list(reversed(texts)))
    row = session.get(PersonalityReadingRow, customer_id)
    if row is None:
        row = PersonalityReadingRow(customer_id=customer_id, shop_id=customer.shop_id, updated_at=_utc(now))
        session.add(row)
    row.computed, row.scores, row.evidence, row.updated_at = kind, scores, list(evidence), _utc(now)
    customer.personality_type = row.override or kind or customer.personality_type
    session.flush()
    return customer.personality_type


def set_personality(session: Session, customer_id: str, kind: str | None, *, by: str | None,
                    now: datetime | None = None) -> str | None:
    """An agent's override of the personality type (None or "" clears it, the reading counts again)."""
    kind = (kind or "").strip() or None
    if kind is not None and kind not in PERSONALITY_KINDS:
        raise MessageError(f"personality: 应为 {'/'.join(PERSONALITY_KINDS)} / one of {', '.join(PERSONALITY_KINDS)}")
    customer = session.get(Customer, customer_id)
    if customer is None:
        raise ConversationNotFound(customer_id)
    row = session.get(PersonalityReadingRow, customer_id)
    if row is None:
        row = PersonalityReadingRow(customer_id=customer_id, shop_id=customer.shop_id, updated_at=_utc(now))
        session.add(row)
    row.override, row.overridden_by, row.updated_at = kind, by if kind else None, _utc(now)
    customer.personality_type = kind or row.computed
    session.flush()
    return customer.personality_type


def personality_of(session: Session, customer_id: str | None) -> PersonalityReadingRow | None:
    return session.get(PersonalityReadingRow, customer_id) if customer_id else None


def receive_buyer_message(session: Session, *, shop_id: str, buyer: str, text: str, sent_at: datetime | None = None,
                          channel: str = "qianniu", source: str = "api", now: datetime | None = None) -> ChatMessage:
    """A live buyer message: into the buyer's conversation, analysed, and the personality read again."""
    now = _utc(now)
    conversation = conversation_for(session, shop_id, buyer, channel=channel, now=now)
    message = add_message(session, conversation, sender="buyer", text=text, sent_at=sent_at or now, source=source, now=now)
    assert message is not None  # a new random id is never stored already
    if conversation.customer_id:
        refresh_personality(session, conversation.customer_id, now=now)
        from kefu.services.extortion_risk import assess_buyer

        assess_buyer(session, conversation.customer_id, trigger="contact", now=now)  # 差评师 risk on every contact
        carry_requests_to_the_packer(session, conversation.customer_id, text, now=now)
    return message


def carry_requests_to_the_packer(session: Session, customer_id: str, text: str, *, now: datetime) -> int:
    """Courier and timing asks in a chat ("请发中通", "周六前要到") go onto the buyer's newest order still waiting to
    ship, as order requirements the pick list shows; returns the asks stored."""
    from kefu.domain.order_status import SELLER_CONSIGNED_PART, WAIT_SELLER_SEND_GOODS
    from kefu.services.requirements import record_requirements
    from kefu.store.tables import Order

    order_id = session.scalar(select(Order.id).where(
        Order.customer_id == customer_id, Order.status.in_((WAIT_SELLER_SEND_GOODS, SELLER_CONSIGNED_PART)))
        .order_by(Order.created_at.desc()).limit(1))
    if order_id is None:
        return 0
    return len(record_requirements(session, order_id, text, now=now))


@dataclass
class ChatImportResult:
    """What a chat-log import did."""

    file: str
    run_id: str | None = None
    messages_read: int = 0
    messages_new: int = 0
    duplicates: int = 0
    conversations: int = 0
    problems: list[ChatProblem] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {"file": self.file, "run_id": self.run_id, "messages_read": self.messages_read,
                "messages_new": self.messages_new, "duplicates": self.duplicates,
                "conversations": self.conversations, "problems": [str(p) for p in self.problems]}


def import_chat_lines(session: Session, shop_id: str, lines: Sequence[ChatLine], *, file: str, channel: str = "qianniu",
                      source: str = "import", now: datetime | None = None) -> ChatImportResult:
    """Chat lines into conversations; a message already stored (same buyer, side, time and text) is skipped."""
    now = _utc(now)
    result = ChatImportResult(file=file, messages_read=len(lines))
    angry_at = _angry_at(session, shop_id)
    touched: dict[str, Conversation] = {}
    ordered = sorted(lines, key=lambda ln: (ln.sent_at, ln.line_no))
    keys = [message_key(shop_id, channel, ln.buyer, ln.sender, ln.sent_at, ln.text) for ln in ordered]
    stored_keys = set()
    for start in range(0, len(keys), 500):
        stored_keys.update(session.scalars(select(ChatMessage.id).where(ChatMessage.id.in_(keys[start:start + 500]))))
    fresh_buyer = [i for i, ln in enumerate(ordered) if ln.sender == "buyer" and keys[i] not in stored_keys and ln.text.strip()]
    analyses = dict(zip(fresh_buyer, analyse_messages([ordered[i].text for i in fresh_buyer]), strict=True))
    for index, line in enumerate(ordered):
        key = keys[index]
        if key in stored_keys:
            result.duplicates += 1
            continue
        conversation = touched.get(line.buyer) or conversation_for(session, shop_id, line.buyer, channel=channel, now=now)
        touched[line.buyer] = conversation
        try:
            stored = add_message(session, conversation, sender=line.sender, text=line.text, sent_at=line.sent_at,
                                 author=line.author, auto_reply=line.auto_reply, source=source, message_id=key,
                                 angry_at=angry_at, analysis=analyses.get(index), now=now)
        except MessageError as exc:
            result.problems.append(ChatProblem(file, line.line_no, str(exc)))
            continue
        if stored is None:
            result.duplicates += 1
        else:
            result.messages_new += 1
    for conversation in touched.values():
        if conversation.customer_id:
            refresh_personality(session, conversation.customer_id, now=now)
    result.conversations = len(touched)
    return result


def import_chat_file(session: Session, shop_id: str, name: str, data: bytes, *, user: str | None = None,
                     now: datetime | None = None) -> ChatImportResult:
    """A chat log (千牛 text, CSV or JSONL) into the shop's conversations, recorded as an import run with its rejections."""
    now = _utc(now)
    shop = _shop(session, shop_id)
    timezone = shop_rules(shop.settings)["timezone"]
    file = Path(name).name
    parsed = parse_chat_file(file, data, timezone=timezone, shop_name=shop.name)
    result = import_chat_lines(session, shop_id, parsed.lines, file=file, now=now)
    result.problems = list(parsed.problems) + result.problems
    run = ImportRun(id=new_id(), shop_id=shop_id, kind="chats", file_name=file[:300], started_at=now, finished_at=now,
                    status="done", rows_read=result.messages_read + len(parsed.problems),
                    rows_landed=result.messages_new + result.duplicates, rows_new=result.messages_new,
                    rows_updated=0, rows_rejected=len(result.problems), created_by=user)
    session.add(run)
    session.flush()
    for problem in result.problems:
        session.add(ImportRejection(run_id=run.id, line_no=problem.line_no, reason=redact_phones(problem.reason) or ""))
    result.run_id = run.id
    session.flush()
    return result


@dataclass(frozen=True)
class InboxRow:
    conversation: Conversation
    buyer_nick: str
    value_tier: str | None
    personality: str | None
    last_text: str | None
    open_followups: int


@dataclass(frozen=True)
class InboxPage:
    rows: list[InboxRow]
    total: int
    counts: dict[str, int]


def _inbox_filter(query, shop_id: str, status: str):
    query = query.where(Conversation.shop_id == shop_id)
    if status == "waiting":
        return query.where(Conversation.waiting.is_(True), Conversation.status == "open")
    if status == "angry":
        return query.where(Conversation.angry.is_(True), Conversation.status == "open")
    if status == "open":
        return query.where(Conversation.status == "open")
    return query


def list_inbox(session: Session, shop_id: str | None, *, status: str = "waiting", search: str | None = None,
               limit: int = 100) -> InboxPage:
    """Conversations for the inbox, the buyer who waits longest first (else the latest first)."""
    from kefu.store.desk_tables import FollowupTask

    if shop_id is None:
        return InboxPage([], 0, {s: 0 for s in INBOX_FILTERS})
    status = status if status in INBOX_FILTERS else "waiting"
    query = _inbox_filter(select(Conversation, Customer).outerjoin(Customer, Customer.id == Conversation.customer_id),
                          shop_id, status)
    if search:
        query = query.where(Conversation.buyer_key.contains(search.strip(), autoescape=True))
    if status == "waiting":
        query = query.order_by(Conversation.last_buyer_at.asc())
    else:
        query = query.order_by(Conversation.last_message_at.desc())
    found = session.execute(query.limit(limit)).all()
    ids = [c.id for c, _ in found]
    last: dict[str, str] = {}
    followups: dict[str, int] = {}
    if ids:
        latest = (select(ChatMessage.conversation_id, func.max(ChatMessage.sent_at).label("at"))
                  .where(ChatMessage.conversation_id.in_(ids)).group_by(ChatMessage.conversation_id).subquery())
        for conversation_id, body in session.execute(
                select(ChatMessage.conversation_id, ChatMessage.body).join(
                    latest, (latest.c.conversation_id == ChatMessage.conversation_id) & (latest.c.at == ChatMessage.sent_at))):
            last[conversation_id] = body
        followups = dict(session.execute(
            select(FollowupTask.conversation_id, func.count()).where(
                FollowupTask.conversation_id.in_(ids), FollowupTask.status == "open").group_by(FollowupTask.conversation_id)).all())
    rows = [InboxRow(c, c.buyer_key, cust.value_tier if cust else None, cust.personality_type if cust else None,
                     last.get(c.id), followups.get(c.id, 0)) for c, cust in found]
    counts = {s: session.scalar(_inbox_filter(select(func.count()).select_from(Conversation), shop_id, s)) or 0
              for s in INBOX_FILTERS}
    return InboxPage(rows, counts[status], counts)


def messages_of(session: Session, conversation_id: str, *, limit: int = 200) -> list[ChatMessage]:
    """The conversation's latest messages, oldest first."""
    rows = session.scalars(select(ChatMessage).where(ChatMessage.conversation_id == conversation_id)
                           .order_by(ChatMessage.sent_at.desc(), ChatMessage.created_at.desc()).limit(limit)).all()
    return list(reversed(rows))


def latest_buyer_message(session: Session, conversation_id: str) -> ChatMessage | None:
    return session.scalars(select(ChatMessage).where(ChatMessage.conversation_id == conversation_id,
                                                     ChatMessage.sender == "buyer")
                           .order_by(ChatMessage.sent_at.desc()).limit(1)).first()


def set_status(session: Session, conversation_id: str, status: str, *, assigned_to: str | None = None) -> Conversation:
    if status not in ("open", "closed"):
        raise MessageError("status: 应为 open 或 closed / open or closed")
    conversation = get_conversation(session, conversation_id)
    conversation.status = status
    if status == "closed":
        conversation.waiting = False
    if assigned_to is not None:
        conversation.assigned_to = assigned_to or None
    session.flush()
    return conversation


def message_json(message: ChatMessage) -> dict[str, Any]:
    return {
        "id": message.id, "conversation_id": message.conversation_id, "sender": message.sender,
        "author": message.author, "auto_reply": message.auto_reply, "sent_at": _utc(message.sent_at).isoformat(),
        "text": message.body, "source": message.source, "intent": message.intent, "sentiment": message.sentiment,
        "anger": None if message.anger is None else message.anger / 100, "detail": message.detail or {},
    }


def conversation_json(conversation: Conversation) -> dict[str, Any]:
    def iso(moment):
        return _utc(moment).isoformat() if moment else None

    return {
        "id": conversation.id, "shop_id": conversation.shop_id, "channel": conversation.channel,
        "buyer": conversation.buyer_key, "customer_id": conversation.customer_id, "status": conversation.status,
        "waiting": conversation.waiting, "angry": conversation.angry, "assigned_to": conversation.assigned_to,
        "last_message_at": iso(conversation.last_message_at), "last_buyer_at": iso(conversation.last_buyer_at),
        "last_intent": conversation.last_intent, "last_sentiment": conversation.last_sentiment,
    }


def open_case_from_conversation(session: Session, conversation_id: str, *, opened_by: str | None,
                                now: datetime | None = None) -> str:
    """A complaint case from the buyer's latest message (the cases capability's `open_case`), with their open order."""
    from kefu.services.cases import open_case
    from kefu.store.tables import Order

    conversation = get_conversation(session, conversation_id)
    message = latest_buyer_message(session, conversation_id)
    if message is None:
        raise MessageError("买家还没有发过消息 / the buyer has not written yet")
    order_id = session.scalar(select(Order.id).where(Order.customer_id == conversation.customer_id)
                              .order_by(Order.created_at.desc()).limit(1)) if conversation.customer_id else None
    return open_case(session, shop_id=conversation.shop_id, customer_id=conversation.customer_id, source="message",
                     source_id=message.id, summary=f"{conversation.buyer_key}：{message.body}"[:2000], order_id=order_id,
                     opened_by=opened_by, now=_utc(now))
