"""Identifiers: random ones for new rows, deterministic ones for rows an import must find again."""

from __future__ import annotations

import hashlib
import uuid


def new_id() -> str:
    return uuid.uuid4().hex


def stable_id(*parts: str) -> str:
    """The same id for the same parts, so a re-import lands on the same row (32 hex characters)."""
    return hashlib.blake2b("\x1f".join(parts).encode("utf-8"), digest_size=16).hexdigest()


def customer_id(shop_id: str, platform: str, buyer_key: str) -> str:
    return stable_id("customer", shop_id, platform, buyer_key)


def order_id(shop_id: str, order_no: str) -> str:
    return f"{shop_id}:{order_no}"
