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
    # Reviews (services.reviews, review_replies, review_recovery): the seller's reply (解释) window, the window in which
    # a buyer may still change a neutral/bad review (platforms.md §2: 30 days, unverified), recovery-step deadlines in
    # days after the review (each capped at the modification window), Shopify stars → good/neutral/bad, how sure the
    # text must read before a good rating with negative words is flagged, and the shop's voice in reply drafts.
    "reviews": {
        "reply_window_days": 30,
        "modify_window_days": 30,
        "recovery_step_days": {"apologise": 1, "find_cause": 3, "remedy": 5, "satisfaction": 10, "record_cause": 20},
        "stars_good_from": 4,  # Shopify 4–5 stars = good
        "stars_bad_up_to": 2,  # Shopify 1–2 stars = bad, 3 = neutral
        "flag_below_score": 0.35,  # a good rating whose text scores below this is flagged
        "bulk_approve_min_score": 0.6,  # bulk approval takes good, unflagged reviews scoring at least this
        "evidence_max_bytes": 5_000_000,
        "voice": {"shop_name": "", "sign_off": "", "buyer_word": "亲"},
    },
    # Stock (kefu.domain.stock.levels, services.stock_check/stockouts/stock_levels): safety stock =
    # ceil(z·σ_daily·√lead + mean_daily·lead) over the last velocity_days of sales.
    "stock": {
        "safety_z": 1.65,  # service-level factor: 1.65 ≈ 95 % of lead times without running out
        "velocity_days": 28,  # sales history for the daily mean and σ
        "default_lead_time_days": 7,  # supplier lead time when a SKU has none
        "min_safety_stock": 0,
        "sell_through_days": 30,  # the 动销率 period on the stock page
        "best_seller_units": 20,  # units sold in velocity_days that make a SKU a best seller (pre-sale switch)
        "wait_ships_available_now": True,  # a buyer who waits gets the in-stock part now (split shipment)
        "substitute_suggestions": 3,
        "low_stock_alerts": True,
        "alert_due_hours": 24,  # a stock.low alert is due this long after it is raised
    },
    # Segments (kefu.domain.growth.rfm, purchase_cycle): recency scores 5/4/3/2 up to these days since the last paid
    # order (older: 1); frequency scores 2/3/4/5 from these paid-order counts (fewer: 1); money by quintile in the shop.
    # Groups: the first whose ranges hold wins.
    "segments": {
        "recency_days": [30, 90, 180, 365],
        "frequency_orders": [2, 3, 5, 8],
        "groups": [
            {"name": "champions", "r": [4, 5], "f": [4, 5], "m": [4, 5]},
            {"name": "loyal", "r": [3, 5], "f": [3, 5]},
            {"name": "cant_lose", "r": [1, 2], "f": [4, 5], "m": [4, 5]},
            {"name": "at_risk", "r": [1, 2], "f": [2, 5]},
            {"name": "new", "r": [4, 5], "f": [1, 1]},
            {"name": "promising", "r": [3, 5], "f": [2, 2]},
            {"name": "hibernating", "r": [2, 3], "f": [1, 1]},
            {"name": "lost", "r": [1, 1], "f": [1, 1]},
        ],
        "cycle": {
            "min_gaps_for_own_cycle": 3,  # a customer's own rhythm is trusted from 3 gaps between paid orders
            "shop_cycle_days": 90,  # used until the shop has 20 repeat gaps of its own
            "winback_after_cycles": 0.5,  # overdue by half a cycle: time for a win-back visit
            "lost_after_cycles": 3,  # overdue by more than 3 cycles: not worth a message
        },
    },
    # Surprise gifts (kefu.domain.growth.gifts): who may get one and what it may cost (yuan).
    "gifts": {
        "tiers": ["top", "middle"],
        "min_paid_orders": 2,
        "cost_share_of_spend": 0.03,
        "max_cost_by_tier": {"top": 60, "middle": 20},
        "max_gifts_per_year": 2,
        "must_relate_to_shop": True,
    },
    # Care visits (kefu.domain.growth.care): an after-signing check-in this many days after signing, a birthday wish
    # this many days before (with consent), a visit when a regular (this many paid orders) comes online, at most once
    # per cooldown; a personal win-back visit only for repeat buyers of these tiers (the rest get a segment campaign).
    "care": {
        "after_signing_days": 5,
        "birthday_days_before": 3,
        "online_min_paid_orders": 2,
        "online_cooldown_days": 30,
        "lookback_days": 3,  # a check-in missed by more than this is not worth starting
        "winback_min_paid_orders": 2,
        "winback_tiers": ["top"],
    },
    # 差评师 risk (kefu.domain.risk.extortion): points per signal (complaints/refunds/bad reviews: per event, up to
    # per_event_cap events each) and the levels.
    "extortion_risk": {
        "weights": {
            "new_buyer": 10, "same_day_question": 5, "remote_cod_same_day": 25, "invoice_trap": 15,
            "free_shipping_trap": 5, "past_complaints": 10, "past_refunds": 5, "past_bad_reviews": 10,
            "extortion_language": 45, "off_platform_payment": 20,
        },
        "medium_at": 30,
        "high_at": 60,
        "per_event_cap": 3,
        "order_lookback_hours": 48,  # orders imported or received this recent get their buyer scored
        "remote_provinces": ["新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃", "海南"],
    },
    # Returns (kefu.domain.returns): the 7-day no-reason window (消费者权益保护法 §25, counted from the day after signing),
    # the legal exemptions, the "intact" (完好) checklist, who pays return freight, the refund due after the return
    # arrives, the goodwill extension with its depreciation fees, and the return-rate jump alert. A category's own
    # numbers in "categories" replace the shop's ("上衣" also matches "女装/上衣"); a product's extra {"returns_exempt":
    # "made_to_order"} or a title keyword in "exempt_keywords" makes it exempt.
    "returns": {
        "no_reason_days": 7,  # days after the signing day (淘宝 listings may promise 8, 15 …: set it per category)
        "refund_due_days": 7,  # refund within this many days of receiving the return
        "refund_warning_days": 2,  # a refund due this soon shows as "due soon"
        "free_shipping": True,  # 包邮 listings: the buyer pays only the return postage (else both ways)
        "freight_insurance": False,  # 运费险 on every order (an order or request flag overrides)
        "exchange_first": True,  # a size/colour choice return suggests an exchange before a refund
        "high_value_tiers": ["top"],  # customer value tiers that get the longer goodwill extension
        "goodwill": {"enabled": True, "extra_days": 7, "high_value_extra_days": 23, "require_resellable": True},
        # Depreciation fee (折旧费) of a goodwill return by the item's condition: a share of the item's price.
        "depreciation": {"as_new": 0, "tried_on": 0, "light_wear": 0.1, "damaged": 0.3},
        "depreciation_min_fee": 5,  # yuan, when a fee is charged at all
        "exempt_keywords": {"定制": "made_to_order", "定做": "made_to_order", "刻字": "made_to_order",
                            "鲜花": "perishable", "生鲜": "perishable", "活体": "perishable",
                            "报纸": "newspaper", "期刊": "periodical", "杂志": "periodical",
                            "激活码": "digital", "兑换码": "digital", "点卡": "digital"},
        "exempt_categories": {"生鲜": "perishable", "鲜花": "perishable", "水果": "perishable", "报纸": "newspaper",
                              "期刊": "periodical", "虚拟": "digital"},
        "checklists": {
            "default": ["complete", "no_damage"],
            "clothing": ["tags_on", "unwashed", "no_odour", "no_stains"],
            "electronics": ["seal_intact", "accessories_complete", "not_activated", "serial_intact"],
            "sealed": ["seal_intact"],
        },
        "categories": {
            "上衣": {"checklist": "clothing"}, "连衣裙": {"checklist": "clothing"}, "裤装": {"checklist": "clothing"},
            "外套": {"checklist": "clothing"}, "服装": {"checklist": "clothing"}, "女装": {"checklist": "clothing"},
            "男装": {"checklist": "clothing"}, "鞋": {"checklist": "clothing"}, "家居服": {"checklist": "clothing"},
            "数码": {"checklist": "electronics"}, "手机": {"checklist": "electronics"},
            "电脑": {"checklist": "electronics"}, "家电": {"checklist": "electronics"},
            "食品": {"checklist": "sealed"}, "美妆": {"checklist": "sealed"}, "个护": {"checklist": "sealed"},
        },
        # Return-rate jump (services.return_reasons): the last period against the product's own earlier periods.
        "rate_jump": {"period_days": 30, "history_periods": 3, "min_sold": 10, "min_returns": 3, "ratio": 1.8,
                      "min_increase": 0.05},
    },
    # Complaint cases (kefu.domain.cases): hours each step may take (the clock stops while waiting on the buyer), the
    # settlement ladder's numbers and when to suggest a phone call.
    "cases": {
        "sla_hours": {"confirm": 2, "analyse": 4, "negotiate": 24, "execute": 48, "follow_up": 72},
        "sla_warning_share": 0.25,  # a step shows "due soon" when less than this share of its time is left
        "margin_share": 0.30,  # the order's margin as a share of the paid amount (when the shop sets no margin)
        "a_little_share": 0.10,  # "lose a little": a loss up to this share of the paid amount
        "approval_tiers": [4, 5],  # ladder tiers that need the owner's approval (beyond-policy losses always do)
        "call_anger": 0.7,  # suggest a phone call at this anger (0–1) or above
        "call_severities": ["high", "critical"],  # … or at these severities
        "severity_amounts": {"high": 500, "critical": 2000},  # paid amounts (yuan) that raise a case's severity
    },
    # Outgoing-message channels (kefu.channels): a marketing SMS must end with the provider's opt-out wording (Aliyun
    # promotion templates: "拒收请回复R"; Aliyun's marketing product appends "回T退订" itself). Non-marketing texts never carry it.
    "channels": {"marketing_opt_out": "拒收请回复R"},
    # Lifecycle and service messages (kefu.domain.messaging, services.outbox/lifecycle): only events newer than the
    # look-back produce messages (an import of history never messages old orders); quiet hours in shop time defer the
    # listed purposes to the window's end (service replies to a buyer who wrote never wait); a per-customer daily cap per
    # purpose; an opt-out reply (R / T / 退订) stops marketing ("all": every proactive message). Retries back off
    # exponentially from retry_base_seconds; after max_attempts a message is a dead letter. provider_templates maps a
    # template key to the SMS provider's registered template per channel: {"aliyun_sms": {"order.shipped": {"code":
    # "SMS_1234", "params": {"company": "courier", "no": "waybill"}}}, "tencent_sms": {"order.shipped": {"code": "123456",
    # "params": ["courier", "waybill"]}}} (Aliyun named, Tencent positional).
    "messaging": {
        "lookback_hours": 48,
        "voice": "plain",  # plain | playful (a persona with a name, calling the buyer by the form of address)
        "persona_name": "小蜜",
        "form_of_address": "主人",
        "quiet_hours": {"start": "21:00", "end": "08:00"},
        "quiet_purposes": ["transactional", "marketing"],
        "daily_cap": {"transactional": 4, "marketing": 1},
        "review_invite_days": 3,  # days after signing; the invitation never ties a reward to a good review
        "opt_out_scope": "marketing",
        "events": {"order.paid": True, "order.shipped": True, "parcel.out_for_delivery": True, "parcel.signed": True,
                   "review.invite": True},
        "max_attempts": 5,
        "retry_base_seconds": 30,
        "retry_max_seconds": 3600,
        "lease_seconds": 120,  # a claimed message not finished in this time is looked at again (worker crash)
        "sign_name": None,  # the SMS signature (签名); the channel's configured one when None
        "provider_templates": {},
    },
    # Service desk (kefu.domain.desk): the Taobao 3-minute response rule (rounds from the buyer's first message to the
    # seller's first answer by a person, counted 08:00–24:00 shop time, last 30 days; auto-replies never count),
    # inquiry → order conversion window, when a follow-up for a missing fact falls due, and "angry" from anger (0–1).
    "desk": {
        "response": {"target_seconds": 180, "hours_start": "08:00", "hours_end": "24:00", "lookback_days": 30},
        "conversion_window_hours": 72,
        "followup_due_hours": 2,
        "angry_at": 0.6,
        "retrieval_top": 3,  # knowledge entries a draft may cite
        "voice": {"address": "亲", "sign_off": ""},  # how drafts address the buyer and sign off
    },
    # Buyer-message understanding (kefu.text.understand): anger (0–1) from which a phone call is suggested.
    "text_understanding": {"anger_call_threshold": 0.6},
    # Promise guard (kefu.domain.promise_guard.ShopFacts.from_rules): what the shop can keep. Every outgoing reply is
    # checked against these; the knowledge base (services.shop_facts) may fill them per shop.
    "promise_guard": {
        "same_day_shipping": True,  # orders paid before ship_cutoff leave the same day
        "ship_cutoff": "16:00",
        "ship_promise_hours": 48,
        "ships_on_weekends": True,
        "free_shipping": True,
        "free_shipping_excluded_provinces": ["新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃"],  # freight template charges
        "remote_provinces": ["新疆", "西藏", "青海", "内蒙古", "宁夏", "甘肃"],
        "min_transit_days": 1,  # fastest transit after the ship day, ordinary / remote provinces
        "remote_min_transit_days": 4,
        "cash_on_delivery": False,
        "invoices": True,  # issued on request, free of charge (never 补差价)
        "gifts": [],  # gifts on offer, as written in replies (e.g. "袜子")
        "couriers": [],
        "backed_guarantees": [],  # guarantee wordings the shop really backs (e.g. "假一赔三")
    },
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
    outbox_deliver_seconds: float = 0.0  # `kefu serve` delivers messages on SQLite every N s; 0 = off (from_env: 5)
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
            outbox_deliver_seconds=_minutes(env.get("KEFU_OUTBOX_DELIVER_SECONDS"), default=5.0),
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
