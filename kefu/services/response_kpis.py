"""Response KPIs of a shop and its agents from the stored chats: 3-minute rate, response times, inquiry → order conversion."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.desk.response import (
    ChatEvent,
    ConversionFigures,
    DayFigures,
    ResponseFigures,
    ResponseRules,
    conversion,
    daily_figures,
    figures_by_agent,
    inquiries_of,
    response_figures,
    rounds_of,
)
from kefu.store.desk_tables import ChatMessage, Conversation
from kefu.store.tables import Order, Shop


@dataclass(frozen=True)
class KpiReport:
    rules: ResponseRules
    shop: ResponseFigures
    agents: dict[str, ResponseFigures]
    daily: list[DayFigures]
    conversion: ConversionFigures
    now: datetime

    def as_json(self) -> dict[str, Any]:
        def figures(f: ResponseFigures) -> dict[str, Any]:
            return {"rounds": f.rounds, "within": f.within, "late": f.late, "missed": f.missed, "pending": f.pending,
                    "rate": f.rate, "median_seconds": f.median_seconds, "mean_seconds": f.mean_seconds,
                    "first_response_median_seconds": f.first_response_median_seconds}

        return {
            "rules": {"target_seconds": self.rules.target_seconds, "hours_start": self.rules.hours_start.isoformat("minutes"),
                      "hours_end": self.rules.hours_end.isoformat("minutes") if self.rules.hours_end else "24:00",
                      "timezone": self.rules.timezone, "lookback_days": self.rules.lookback_days,
                      "conversion_window_hours": self.rules.conversion_window_hours},
            "shop": figures(self.shop),
            "agents": {a: {**figures(f), "inquiries": self.conversion.by_agent.get(a, (0, 0))[0],
                           "converted": self.conversion.by_agent.get(a, (0, 0))[1]} for a, f in self.agents.items()},
            "daily": [{"day": d.day.isoformat(), "rounds": d.rounds, "within": d.within, "rate": d.rate} for d in self.daily],
            "conversion": {"inquiries": self.conversion.inquiries, "converted": self.conversion.converted,
                           "rate": self.conversion.rate},
            "now": self.now.isoformat(),
        }


def response_rules(session: Session, shop_id: str) -> ResponseRules:
    shop = session.get(Shop, shop_id)
    return ResponseRules.from_rules(shop_rules(shop.settings if shop else None))


def shop_kpis(session: Session, shop_id: str, *, now: datetime | None = None) -> KpiReport:
    """The KPIs over the lookback window ending now (messages a day older are read so rounds that started then close)."""
    now = now or datetime.now(UTC)
    rules = response_rules(session, shop_id)
    since = now - timedelta(days=rules.lookback_days + 1)
    rows = session.execute(
        select(ChatMessage.conversation_id, ChatMessage.sender, ChatMessage.sent_at, ChatMessage.author,
               ChatMessage.auto_reply, Conversation.customer_id)
        .join(Conversation, Conversation.id == ChatMessage.conversation_id)
        .where(ChatMessage.shop_id == shop_id, ChatMessage.sent_at >= since, ChatMessage.sent_at <= now)
    ).all()
    events = [ChatEvent(r.conversation_id, r.sender, r.sent_at, r.author, bool(r.auto_reply), r.customer_id) for r in rows]
    rounds = rounds_of(events)
    customers = sorted({e.customer_id for e in events if e.customer_id})
    orders: dict[str, list[datetime]] = defaultdict(list)
    for start in range(0, len(customers), 500):
        for customer_id, created_at in session.execute(
                select(Order.customer_id, Order.created_at).where(
                    Order.customer_id.in_(customers[start:start + 500]), Order.created_at >= since)):
            if created_at is not None:
                orders[customer_id].append(created_at)
    return KpiReport(
        rules=rules,
        shop=response_figures(rounds, rules, now),
        agents=figures_by_agent(rounds, rules, now),
        daily=daily_figures(rounds, rules, now),
        conversion=conversion(inquiries_of(rounds, rules, now), orders, rules),
        now=now,
    )
