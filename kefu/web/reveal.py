"""Showing a masked personal field in clear, always with an audit entry saying who saw what."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy.orm import Session

from kefu.store.tables import AuditEntry, Customer, Order, User
from kefu.web.auth import SignedInUser

# kind -> (table, {field shown in the URL/API: column})
REVEALABLE: dict[str, tuple[type, dict[str, str]]] = {
    "customer": (Customer, {"name": "name", "phone": "phone", "email": "email"}),
    "order": (Order, {"receiver_name": "receiver_name", "receiver_phone": "receiver_phone",
                      "receiver_address": "receiver_address"}),
}


class NotRevealable(LookupError):
    """The kind, the field or the record does not exist."""


def audit(session: Session, user: SignedInUser | User | None, action: str, target_type: str, target_id: str,
          detail: str | None = None) -> AuditEntry:
    """Write one audit entry now."""
    entry = AuditEntry(at=datetime.now(UTC), user_id=user.id if user else None, action=action,
                       target_type=target_type, target_id=target_id, detail=detail)
    session.add(entry)
    session.flush()
    return entry


def reveal_field(session: Session, user: SignedInUser, kind: str, target_id: str, field: str) -> str | None:
    """The clear value of one personal field (None when empty), audited as action "reveal" with the field name."""
    table, fields = REVEALABLE.get(kind, (None, {}))
    if table is None or field not in fields:
        raise NotRevealable(f"{kind}.{field}")
    record = session.get(table, target_id)
    if record is None:
        raise NotRevealable(f"{kind} {target_id}")
    audit(session, user, "reveal", kind, target_id, field)
    return getattr(record, fields[field])


def audit_api_reveal(session: Session, user: SignedInUser, kind: str, target_ids: list[str], fields: list[str]) -> None:
    """Record that an API answer carried these records' personal fields in clear (one entry per record)."""
    for target_id in target_ids:
        audit(session, user, "reveal", kind, target_id, "api: " + ",".join(fields))
