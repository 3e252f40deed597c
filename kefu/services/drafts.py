"""Reply drafts for a conversation: grounded in the knowledge base, adapted to the buyer, checked by the promise guard.

A draft for the buyer's latest message cites the facts it used; a fact the shop has not recorded becomes an honest
"we will check and come back by HH:MM" and an open follow-up task (one per conversation and fact). Every draft and
every typed reply goes through `guard_text` (`check_text` with `load_shop_facts`) before it may be sent.
"""

from __future__ import annotations

import dataclasses
import logging
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.desk.drafts import Draft, DraftRequest, Voice, compose_draft
from kefu.domain.desk.signals import find_province
from kefu.services.buyer_card import buyer_card
from kefu.services.conversations import get_conversation, latest_buyer_message
from kefu.services.extortion_risk import is_high_risk
from kefu.services.followups import create_followup, followup_due
from kefu.services.knowledge import knowledge_of
from kefu.services.llm_drafts import LlmSettings, reword_draft
from kefu.services.shop_facts import load_shop_facts
from kefu.store.desk_tables import ChatMessage, FollowupTask
from kefu.store.tables import Shop

log = logging.getLogger(__name__)


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


@dataclass(frozen=True)
class GuardReasonView:
    code: str
    message_zh: str
    message_en: str
    safer_wording: str | None


@dataclass(frozen=True)
class GuardResult:
    """The promise guard's verdict on a text; `available` False while the guard module is not installed."""

    available: bool
    action: str  # allow | warn | block
    reasons: tuple[GuardReasonView, ...] = ()
    promises: tuple[dict[str, Any], ...] = ()

    @property
    def blocked(self) -> bool:
        return self.action == "block"

    def as_json(self) -> dict[str, Any]:
        return {"available": self.available, "action": self.action,
                "reasons": [r.__dict__ for r in self.reasons], "promises": list(self.promises)}


def guard_text(session: Session, shop_id: str, text: str, *, province: str | None = None, now: datetime | None = None,
               high_risk: bool = False) -> GuardResult:
    """`kefu.domain.promise_guard.check_text` with the shop's facts; "allow, unchecked" when the guard is missing."""
    try:
        from kefu.domain.promise_guard import GuardContext, check_text
    except ImportError:
        return GuardResult(False, "allow")
    facts = load_shop_facts(session, shop_id)
    verdict = check_text(text, facts, GuardContext(province=province, now=_utc(now), high_risk=high_risk))
    reasons = tuple(GuardReasonView(r.code, r.message_zh, r.message_en, getattr(r, "safer_wording", None))
                    for r in verdict.reasons)
    promises = tuple({"kind": p.kind, "text": p.text, "due_at": p.due_at.isoformat() if getattr(p, "due_at", None) else None}
                     for p in getattr(verdict, "promises", ()))
    return GuardResult(True, verdict.action, reasons, promises)


def shop_voice(rules: dict[str, Any]) -> Voice:
    voice = rules.get("desk", {}).get("voice", {}) or {}
    return Voice(address=str(voice.get("address") or "亲"), sign_off=str(voice.get("sign_off") or ""))


@dataclass(frozen=True)
class DraftView:
    """A draft for the latest buyer message, its guard verdict and the follow-ups it opened."""

    draft: Draft | None
    guard: GuardResult | None
    message: ChatMessage | None
    province: str | None
    followups: tuple[FollowupTask, ...] = field(default_factory=tuple)
    backend: str = "rules"  # rules (offline composition) | llm (reworded by the configured model)

    def as_json(self) -> dict[str, Any]:
        if self.draft is None:
            return {"draft": None}
        d = self.draft
        return {
            "draft": d.text, "personality": d.personality, "angry": d.angry, "at_fault": d.at_fault,
            "citations": [c.__dict__ for c in d.citations], "missing": [m.__dict__ for m in d.missing],
            "guard": self.guard.as_json() if self.guard else None, "message_id": self.message.id if self.message else None,
            "followups": [t.id for t in self.followups], "backend": self.backend,
        }


def draft_for_conversation(session: Session, conversation_id: str, *, now: datetime | None = None,
                           shop_at_fault: bool | None = None, personality: str | None = None,
                           open_followups: bool = True, by: str | None = None) -> DraftView:
    """A draft answering the buyer's latest message (None when the buyer has not written)."""
    now = _utc(now)
    conversation = get_conversation(session, conversation_id)
    message = latest_buyer_message(session, conversation_id)
    if message is None:
        return DraftView(None, None, None, None)
    shop = session.get(Shop, conversation.shop_id)
    rules = shop_rules(shop.settings if shop else None)
    desk = rules["desk"]
    tz = ZoneInfo(rules["timezone"])
    card = buyer_card(session, conversation.customer_id, now=now)
    due = followup_due(session, conversation.shop_id, now)
    province = find_province(message.body) or next((o.province for o in (card.orders if card else ()) if o.province), None)
    request = DraftRequest(
        message=message.body, intent=message.intent or "other", anger=(message.anger or 0) / 100,
        personality=personality or (card.personality if card else None), shop_at_fault=shop_at_fault,
        now=now.astimezone(tz).replace(tzinfo=None), followup_due=due.astimezone(tz).replace(tzinfo=None),
        orders=card.order_briefs() if card else (), angry_at=float(desk.get("angry_at", 0.6)),
        top=int(desk.get("retrieval_top", 3)),
    )
    draft = compose_draft(request, knowledge_of(session, conversation.shop_id), shop_voice(rules))
    risky = is_high_risk(session, conversation.customer_id)  # a 差评师 risk turns the guard's warnings into blocks
    guard = guard_text(session, conversation.shop_id, draft.text, province=find_province(message.body), now=now,
                       high_risk=draft.angry or risky)
    backend = "rules"
    reworded = reword_draft(draft, message.body, LlmSettings.from_env())  # None unless KEFU_LLM_BASE_URL is set
    if reworded:
        checked = guard_text(session, conversation.shop_id, reworded, province=find_province(message.body), now=now,
                             high_risk=draft.angry or risky)
        if checked.action == "allow" or (checked.action == guard.action and not checked.blocked):
            draft, guard, backend = dataclasses.replace(draft, text=reworded), checked, "llm"
    tasks: list[FollowupTask] = []
    if open_followups:
        for missing in draft.missing:
            tasks.append(create_followup(
                session, shop_id=conversation.shop_id, conversation_id=conversation.id,
                customer_id=conversation.customer_id, reason="missing_fact", fact_key=missing.key,
                title=f"{conversation.buyer_key}：核实{missing.question}并回复 / check and answer", due_at=due,
                created_by=by, now=now))
    return DraftView(draft, guard, message, province, tuple(tasks), backend)
