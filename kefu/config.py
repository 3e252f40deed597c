"""Process settings from the environment, and the shop-rule defaults that platforms change."""

from __future__ import annotations

import os
from copy import deepcopy
from dataclasses import dataclass, field
from typing import Any

DEFAULT_DATABASE_URL = "sqlite:///kefu.db"

# Rules that platforms change live here as defaults; each shop can override them in its settings.
SHOP_RULE_DEFAULTS: dict[str, Any] = {
    "timezone": "Asia/Shanghai",
    "currency": "CNY",
    # 80/20 value tiers: share of customers (by spend, descending) that fall in each tier.
    "value_tiers": {"top": 0.20, "middle": 0.30},
}


def shop_rules(overrides: dict[str, Any] | None) -> dict[str, Any]:
    """The shop's rules: defaults with the shop's own overrides laid over them (one level deep for dicts)."""
    merged = deepcopy(SHOP_RULE_DEFAULTS)
    for key, value in (overrides or {}).items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = {**merged[key], **value}
        else:
            merged[key] = value
    return merged


@dataclass(frozen=True)
class Settings:
    """Process-wide settings read once from the environment."""

    database_url: str = DEFAULT_DATABASE_URL
    shopify_webhook_secrets: tuple[str, ...] = field(default_factory=tuple)
    session_secret: str | None = None
    owner_username: str | None = None
    owner_password: str | None = None
    cookie_secure: bool = False  # mark the session cookie HTTPS-only (behind a TLS proxy)

    @classmethod
    def from_env(cls, environ: dict[str, str] | None = None) -> "Settings":
        env = os.environ if environ is None else environ
        secrets = tuple(s.strip() for s in env.get("KEFU_SHOPIFY_WEBHOOK_SECRETS", "").split(",") if s.strip())
        return cls(
            database_url=env.get("KEFU_DATABASE_URL") or DEFAULT_DATABASE_URL,
            shopify_webhook_secrets=secrets,
            session_secret=env.get("KEFU_SESSION_SECRET") or None,
            owner_username=env.get("KEFU_OWNER_USERNAME") or None,
            owner_password=env.get("KEFU_OWNER_PASSWORD") or None,
            cookie_secure=env.get("KEFU_COOKIE_SECURE", "").strip().lower() in {"1", "true", "yes", "on"},
        )
