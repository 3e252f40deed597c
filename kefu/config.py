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
    # Parcel watch (services.watch): hours before each alert is raised. A carrier's or a destination province's own
    # numbers replace the shop's; when both have one, the larger (more patient) wins. A shop overriding "carriers" or
    # "provinces" replaces that whole table. Province names match with or without 省/市/自治区.
    "watch": {
        "pickup_hours": 24,  # marked shipped, no pickup scan: fake-shipping (虚假发货) risk
        "stall_hours": 48,  # in transit, no new scan
        "ship_promise_hours": 48,  # paid → shipped, the shop's promise (24/48/72; per listing later)
        "promise_warning_hours": 6,  # warn this long before the promise breaks while unshipped
        "signed_hours": 72,  # a signed parcel stays in the queue this long (for a "signed care" message)
        "lookback_hours": 720,  # parcels and orders older than this are not looked at for new alerts
        "respond_hours": {"critical": 2, "warning": 12, "info": 72},  # due time after the condition starts
        "judge_untracked": False,  # also judge parcels kefu has no tracking for (else never fake-shipping)
        "carriers": {"youzhengguonei": {"stall_hours": 72}, "ems": {"stall_hours": 72}},
        "provinces": {
            "新疆": {"stall_hours": 96, "pickup_hours": 48},
            "西藏": {"stall_hours": 96, "pickup_hours": 48},
            "青海": {"stall_hours": 72},
            "内蒙古": {"stall_hours": 72},
        },
        "kinds": [
            "fake_shipping", "stall", "exception", "rejected", "returning", "returned", "signed",
            "ship_promise_due", "ship_promise_broken", "courier_conflict",
        ],
    },
    # Courier scoreboard (services.courier_scoreboard): yuan per parcel by carrier code (or name: 中通), from the
    # sellers' own figures; a carrier not listed has an unknown price. A shop overriding one carrier keeps the others.
    "courier_prices": {"shentong": 15, "yuantong": 12, "zhongtong": 11, "shunfeng": 20},
    # A destination province's own prices replace the carrier's price above, e.g. remote provinces:
    # {"新疆": {"zhongtong": 22, "shunfeng": 35}, "西藏": {...}}. Province names match with or without 省/市/自治区.
    "courier_province_prices": {},
    "courier_score": {
        "min_sample": 20,  # fewer parcels to a province than this: recommend from the carrier's all-province figures
        "lookback_days": 365,  # parcels shipped longer ago than this are not scored
    },
    # Outgoing-message channels (kefu.channels): a marketing SMS must end with the provider's opt-out wording (Aliyun
    # promotion templates: "拒收请回复R"; Aliyun's marketing product appends "回T退订" itself). Non-marketing texts never carry it.
    "channels": {"marketing_opt_out": "拒收请回复R"},
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
class ChannelSettings:
    """Credentials and options of the outgoing-message channels (kefu.channels); every channel is off until configured."""

    default: str = "console"  # KEFU_CHANNEL: console (dry run, never sends), aliyun_sms, tencent_sms, smtp or webhook
    timeout_seconds: float = 5.0  # KEFU_CHANNEL_TIMEOUT_SECONDS: per HTTP/SMTP call (Aliyun asks for at least 1 s)
    aliyun_sms_access_key_id: str | None = None  # KEFU_ALIYUN_SMS_ACCESS_KEY_ID
    aliyun_sms_access_key_secret: str | None = None  # KEFU_ALIYUN_SMS_ACCESS_KEY_SECRET
    aliyun_sms_sign_name: str | None = None  # KEFU_ALIYUN_SMS_SIGN_NAME: the approved 签名 (a delivery may name its own)
    aliyun_sms_region: str = "cn-hangzhou"  # KEFU_ALIYUN_SMS_REGION
    aliyun_sms_endpoint: str = "https://dysmsapi.aliyuncs.com/"  # KEFU_ALIYUN_SMS_ENDPOINT
    tencent_sms_secret_id: str | None = None  # KEFU_TENCENT_SMS_SECRET_ID
    tencent_sms_secret_key: str | None = None  # KEFU_TENCENT_SMS_SECRET_KEY
    tencent_sms_sdk_app_id: str | None = None  # KEFU_TENCENT_SMS_SDK_APP_ID, e.g. 1400006666
    tencent_sms_sign_name: str | None = None  # KEFU_TENCENT_SMS_SIGN_NAME
    tencent_sms_region: str = "ap-guangzhou"  # KEFU_TENCENT_SMS_REGION
    tencent_sms_endpoint: str = "https://sms.tencentcloudapi.com/"  # KEFU_TENCENT_SMS_ENDPOINT
    smtp_host: str | None = None  # KEFU_SMTP_HOST
    smtp_port: int = 587  # KEFU_SMTP_PORT
    smtp_security: str = "starttls"  # KEFU_SMTP_SECURITY: starttls, ssl or none
    smtp_username: str | None = None  # KEFU_SMTP_USERNAME
    smtp_password: str | None = None  # KEFU_SMTP_PASSWORD
    smtp_from: str | None = None  # KEFU_SMTP_FROM, e.g. "我的店 <service@example.com>"
    webhook_url: str | None = None  # KEFU_WEBHOOK_CHANNEL_URL: where each message is POSTed as JSON
    webhook_secret: str | None = None  # KEFU_WEBHOOK_CHANNEL_SECRET: HMAC-SHA256 key of the X-Kefu-Signature header

    @classmethod
    def from_env(cls, env: Any) -> "ChannelSettings":
        def text(name: str) -> str | None:
            return (env.get(name) or "").strip() or None

        def number(name: str, default: float) -> float:
            try:
                value = float(env.get(name) or default)
            except ValueError:
                return default
            return value if value > 0 else default

        base = cls()
        return cls(
            default=(text("KEFU_CHANNEL") or base.default).lower(),
            timeout_seconds=number("KEFU_CHANNEL_TIMEOUT_SECONDS", base.timeout_seconds),
            aliyun_sms_access_key_id=text("KEFU_ALIYUN_SMS_ACCESS_KEY_ID"),
            aliyun_sms_access_key_secret=text("KEFU_ALIYUN_SMS_ACCESS_KEY_SECRET"),
            aliyun_sms_sign_name=text("KEFU_ALIYUN_SMS_SIGN_NAME"),
            aliyun_sms_region=text("KEFU_ALIYUN_SMS_REGION") or base.aliyun_sms_region,
            aliyun_sms_endpoint=text("KEFU_ALIYUN_SMS_ENDPOINT") or base.aliyun_sms_endpoint,
            tencent_sms_secret_id=text("KEFU_TENCENT_SMS_SECRET_ID"),
            tencent_sms_secret_key=text("KEFU_TENCENT_SMS_SECRET_KEY"),
            tencent_sms_sdk_app_id=text("KEFU_TENCENT_SMS_SDK_APP_ID"),
            tencent_sms_sign_name=text("KEFU_TENCENT_SMS_SIGN_NAME"),
            tencent_sms_region=text("KEFU_TENCENT_SMS_REGION") or base.tencent_sms_region,
            tencent_sms_endpoint=text("KEFU_TENCENT_SMS_ENDPOINT") or base.tencent_sms_endpoint,
            smtp_host=text("KEFU_SMTP_HOST"),
            smtp_port=int(number("KEFU_SMTP_PORT", base.smtp_port)),
            smtp_security=(text("KEFU_SMTP_SECURITY") or base.smtp_security).lower(),
            smtp_username=text("KEFU_SMTP_USERNAME"),
            smtp_password=env.get("KEFU_SMTP_PASSWORD") or None,
            smtp_from=text("KEFU_SMTP_FROM"),
            webhook_url=text("KEFU_WEBHOOK_CHANNEL_URL"),
            webhook_secret=text("KEFU_WEBHOOK_CHANNEL_SECRET"),
        )


@dataclass(frozen=True)
class Settings:
    """Process-wide settings read once from the environment."""

    database_url: str = DEFAULT_DATABASE_URL
    shopify_webhook_secrets: tuple[str, ...] = field(default_factory=tuple)
    session_secret: str | None = None
    owner_username: str | None = None
    owner_password: str | None = None
    cookie_secure: bool = False  # mark the session cookie HTTPS-only (behind a TLS proxy)
    watch_sweep_minutes: float = 0.0  # the server's parcel-watch sweep interval; 0 = off (from_env: 10)
    # Carrier tracking pushes and subscriptions (each off until configured).
    kuaidi100_key: str | None = None  # KEFU_KUAIDI100_KEY: the account key for subscribing parcels
    kuaidi100_salt: str | None = None  # KEFU_KUAIDI100_SALT: signs every push; pushes are refused without it
    kuaidi100_callback_url: str | None = None  # KEFU_KUAIDI100_CALLBACK_URL: public https://…/webhooks/kuaidi100
    kdniao_api_key: str | None = None  # KEFU_KDNIAO_API_KEY: checks each push's DataSign
    kdniao_ebusiness_id: str | None = None  # KEFU_KDNIAO_EBUSINESS_ID: named in the reply to every push
    channels: ChannelSettings = field(default_factory=ChannelSettings)  # outgoing-message channels (kefu.channels)

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
            watch_sweep_minutes=_minutes(env.get("KEFU_WATCH_SWEEP_MINUTES"), default=10.0),
            kuaidi100_key=env.get("KEFU_KUAIDI100_KEY", "").strip() or None,
            kuaidi100_salt=env.get("KEFU_KUAIDI100_SALT", "").strip() or None,
            kuaidi100_callback_url=env.get("KEFU_KUAIDI100_CALLBACK_URL", "").strip() or None,
            kdniao_api_key=env.get("KEFU_KDNIAO_API_KEY", "").strip() or None,
            kdniao_ebusiness_id=env.get("KEFU_KDNIAO_EBUSINESS_ID", "").strip() or None,
            channels=ChannelSettings.from_env(env),
        )


def _minutes(text: str | None, *, default: float) -> float:
    """A non-negative number of minutes from the environment; the default when unset or unreadable."""
    try:
        value = float(text) if text not in (None, "") else default
    except ValueError:
        return default
    return value if value >= 0 else default
