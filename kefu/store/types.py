"""Column types that keep money exact and times in UTC on both SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timezone
from decimal import Decimal

from sqlalchemy import BigInteger, DateTime
from sqlalchemy.types import TypeDecorator

CENT = Decimal("0.01")


def to_fen(amount: Decimal | int | str | None) -> int | None:
    """Yuan (or dollars) as an exact number of fen (cents)."""
    if amount is None:
        return None
    return int((Decimal(amount) * 100).to_integral_value())


def from_fen(fen: int | None) -> Decimal | None:
    """Fen (cents) back to a two-decimal Decimal."""
    if fen is None:
        return None
    return (Decimal(int(fen)) / 100).quantize(CENT)


class Money(TypeDecorator):
    """A Decimal amount stored as integer fen: exact, summable in SQL, never a float."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return to_fen(value)

    def process_result_value(self, value, dialect):
        return from_fen(value)


class UTCDateTime(TypeDecorator):
    """An aware datetime stored as naive UTC; naive input is taken to be UTC already."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(timezone.utc).replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):  # raw rows written by the bulk importer
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=timezone.utc)
