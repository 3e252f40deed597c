"""Follow-up tasks: what the shop promised to check and answer, due at a set time and listed until done."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.ids import new_id
from kefu.store.desk_tables import FollowupTask
from kefu.store.tables import Shop

MAX_TITLE_LENGTH = 500


class FollowupNotFound(LookupError):
    """No follow-up task with that id."""


def _utc(moment: datetime | None) -> datetime:
    if moment is None:
        return datetime.now(UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def followup_due(session: Session, shop_id: str, now: datetime) -> datetime:
    """When a follow-up made now falls due: now + the shop's ``desk.followup_due_hours``."""
    shop = session.get(Shop, shop_id)
    hours = float(shop_rules(shop.settings if shop else None)["desk"].get("followup_due_hours", 2))
    return _utc(now) + timedelta(hours=hours)


def create_followup(session: Session, *, shop_id: str, title: str, reason: str = "manual", fact_key: str | None = None,
                    conversation_id: str | None = None, customer_id: str | None = None, due_at: datetime | None = None,
                    created_by: str | None = None, now: datetime | None = None) -> FollowupTask:
    """A new task; for a missing fact of a conversation the open task already made for it is returned instead."""
    title = (title or "").strip()
    if not title:
        raise ValueError("title: 任务内容不能为空 / title is empty")
    now = _utc(now)
    if conversation_id and fact_key:
        existing = session.scalars(select(FollowupTask).where(
            FollowupTask.conversation_id == conversation_id, FollowupTask.fact_key == fact_key,
            FollowupTask.status == "open")).first()
        if existing is not None:
            return existing
    task = FollowupTask(id=new_id(), shop_id=shop_id, conversation_id=conversation_id, customer_id=customer_id,
                        title=title[:MAX_TITLE_LENGTH], reason=reason, fact_key=fact_key, status="open",
                        due_at=_utc(due_at) if due_at else followup_due(session, shop_id, now), created_at=now,
                        created_by=created_by)
    session.add(task)
    session.flush()
    return task


@dataclass(frozen=True)
class FollowupView:
    task: FollowupTask
    overdue: bool


def list_followups(session: Session, shop_id: str | None, *, status: str = "open", conversation_id: str | None = None,
                   now: datetime | None = None, limit: int = 200) -> list[FollowupView]:
    """Open tasks (or done, or all), the earliest due first."""
    if shop_id is None:
        return []
    now = _utc(now)
    query = select(FollowupTask).where(FollowupTask.shop_id == shop_id)
    if status in ("open", "done"):
        query = query.where(FollowupTask.status == status)
    if conversation_id:
        query = query.where(FollowupTask.conversation_id == conversation_id)
    tasks = session.scalars(query.order_by(FollowupTask.due_at.asc()).limit(limit)).all()
    return [FollowupView(t, t.status == "open" and _utc(t.due_at) < now) for t in tasks]


def complete_followup(session: Session, task_id: str, *, by: str | None, now: datetime | None = None) -> FollowupTask:
    task = session.get(FollowupTask, task_id)
    if task is None:
        raise FollowupNotFound(task_id)
    if task.status != "done":
        task.status, task.done_at, task.done_by = "done", _utc(now), by
        session.flush()
    return task


def followup_json(task: FollowupTask, now: datetime | None = None) -> dict[str, Any]:
    now = _utc(now)
    return {"id": task.id, "shop_id": task.shop_id, "conversation_id": task.conversation_id,
            "customer_id": task.customer_id, "title": task.title, "reason": task.reason, "fact_key": task.fact_key,
            "status": task.status, "due_at": _utc(task.due_at).isoformat(),
            "overdue": task.status == "open" and _utc(task.due_at) < now,
            "done_at": _utc(task.done_at).isoformat() if task.done_at else None, "done_by": task.done_by}
