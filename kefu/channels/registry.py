"""Choosing a channel by name: `build_channel("aliyun_sms", settings)` wires the configured credentials to its adapter."""

from __future__ import annotations

import httpx

from kefu.channels.aliyun_sms import AliyunSmsChannel
from kefu.channels.base import Channel
from kefu.channels.console import ConsoleChannel
from kefu.channels.smtp_email import SmtpEmailChannel
from kefu.channels.tencent_sms import TencentSmsChannel
from kefu.channels.webhook import WebhookChannel
from kefu.config import ChannelSettings, Settings

CHANNEL_NAMES = ("console", "aliyun_sms", "tencent_sms", "smtp", "webhook")
ALIASES = {"aliyun": "aliyun_sms", "tencent": "tencent_sms", "email": "smtp", "log": "console", "": "console"}


def channel_name(name: str | None) -> str:
    """The canonical channel name (None or empty means the console dry run); ValueError names the known ones."""
    key = (name or "").strip().lower().replace("-", "_")
    key = ALIASES.get(key, key)
    if key not in CHANNEL_NAMES:
        raise ValueError(f"未知的发送渠道 {name!r} / unknown channel {name!r}: use one of {', '.join(CHANNEL_NAMES)}")
    return key


def build_channel(name: str | None, settings: Settings, *, http: httpx.Client | None = None) -> Channel:
    """The channel called `name`, configured from `settings.channels`; one that lacks credentials answers not_configured."""
    key = channel_name(name)
    config: ChannelSettings = getattr(settings, "channels", None) or ChannelSettings()
    if key == "console":
        return ConsoleChannel()
    if key == "smtp":
        return SmtpEmailChannel(host=config.smtp_host, port=config.smtp_port, security=config.smtp_security,
                                username=config.smtp_username, password=config.smtp_password, sender=config.smtp_from,
                                timeout=config.timeout_seconds)
    client = http or httpx.Client(timeout=config.timeout_seconds, follow_redirects=False)
    if key == "aliyun_sms":
        return AliyunSmsChannel(access_key_id=config.aliyun_sms_access_key_id,
                                access_key_secret=config.aliyun_sms_access_key_secret,
                                sign_name=config.aliyun_sms_sign_name, http=client, endpoint=config.aliyun_sms_endpoint,
                                region=config.aliyun_sms_region)
    if key == "tencent_sms":
        return TencentSmsChannel(secret_id=config.tencent_sms_secret_id, secret_key=config.tencent_sms_secret_key,
                                 sdk_app_id=config.tencent_sms_sdk_app_id, sign_name=config.tencent_sms_sign_name,
                                 http=client, endpoint=config.tencent_sms_endpoint, region=config.tencent_sms_region)
    return WebhookChannel(url=config.webhook_url, secret=config.webhook_secret, http=client)


def default_channel(settings: Settings, *, http: httpx.Client | None = None) -> Channel:
    """The process's default channel (KEFU_CHANNEL, console when unset)."""
    config = getattr(settings, "channels", None) or ChannelSettings()
    return build_channel(config.default, settings, http=http)
