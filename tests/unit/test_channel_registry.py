"""Building channels by name from settings, the console dry run, and the marketing opt-out helpers."""

from __future__ import annotations

import logging

import pytest

from kefu.channels import CHANNEL_NAMES, Channel, Delivery, build_channel
from kefu.channels.aliyun_sms import AliyunSmsChannel
from kefu.channels.console import ConsoleChannel
from kefu.channels.marketing import has_opt_out, opt_out_problem, sms_segments, with_opt_out
from kefu.channels.registry import default_channel
from kefu.channels.smtp_email import SmtpEmailChannel
from kefu.channels.tencent_sms import TencentSmsChannel
from kefu.channels.webhook import WebhookChannel
from kefu.config import SHOP_RULE_DEFAULTS, Settings, shop_rules

ENV = {
    "KEFU_CHANNEL": "aliyun_sms",
    "KEFU_ALIYUN_SMS_ACCESS_KEY_ID": "LTAI-test", "KEFU_ALIYUN_SMS_ACCESS_KEY_SECRET": "s", "KEFU_ALIYUN_SMS_SIGN_NAME": "小店",
    "KEFU_TENCENT_SMS_SECRET_ID": "AKID", "KEFU_TENCENT_SMS_SECRET_KEY": "k", "KEFU_TENCENT_SMS_SDK_APP_ID": "1400006666",
    "KEFU_SMTP_HOST": "smtp.example.com", "KEFU_SMTP_PORT": "465", "KEFU_SMTP_SECURITY": "SSL", "KEFU_SMTP_FROM": "a@b.cn",
    "KEFU_WEBHOOK_CHANNEL_URL": "https://gw.example/hook", "KEFU_WEBHOOK_CHANNEL_SECRET": "x",
}


@pytest.mark.parametrize(("name", "kind"), [("console", ConsoleChannel), ("aliyun_sms", AliyunSmsChannel),
                                            ("tencent_sms", TencentSmsChannel), ("smtp", SmtpEmailChannel),
                                            ("webhook", WebhookChannel), ("Aliyun", AliyunSmsChannel),
                                            ("email", SmtpEmailChannel), (None, ConsoleChannel)])
def test_every_name_builds_its_channel(name, kind):
    channel = build_channel(name, Settings.from_env(ENV))
    assert isinstance(channel, kind) and isinstance(channel, Channel)
    assert channel.name in CHANNEL_NAMES


def test_settings_reach_the_channels():
    settings = Settings.from_env(ENV)
    smtp = build_channel("smtp", settings)
    assert (smtp.host, smtp.port, smtp.security) == ("smtp.example.com", 465, "ssl")
    assert build_channel("aliyun_sms", settings).off_reason is None
    assert build_channel("tencent_sms", settings).off_reason is None
    assert isinstance(default_channel(settings), AliyunSmsChannel)


def test_with_nothing_configured_every_real_channel_is_off_and_the_default_is_the_console():
    settings = Settings.from_env({})
    assert settings.channels.default == "console"
    assert isinstance(default_channel(settings), ConsoleChannel)
    for name in ("aliyun_sms", "tencent_sms", "smtp", "webhook"):
        result = build_channel(name, settings).send(Delivery(message_id="m", text="t", to_phone="13800000001",
                                                             to_email="a@b.cn", template_code="T"))
        assert (result.ok, result.error_code, result.retryable) == (False, "not_configured", False), name


def test_an_unknown_name_is_a_clear_error():
    with pytest.raises(ValueError, match="wechat.*console, aliyun_sms"):
        build_channel("wechat", Settings())


def test_the_console_never_sends_and_logs_no_phone_number(caplog):
    channel = ConsoleChannel()
    with caplog.at_level(logging.INFO, logger="kefu.channels.console"):
        result = channel.send(Delivery(message_id="m1", text="请联系 13800000077 取件", to_phone="13800000077"))
    assert result.ok and result.provider_message_id == "console:m1"
    assert "13800000077" not in caplog.text and "138****0077" in caplog.text
    assert [d.message_id for d in channel.delivered] == ["m1"]
    assert channel.find_sent("m1") == "console:m1" and channel.find_sent("m2") is None


def test_marketing_texts_get_the_opt_out_once():
    text = with_opt_out("双11 全场 8 折", purpose="marketing")
    assert text == "双11 全场 8 折 拒收请回复R"
    assert with_opt_out(text, purpose="marketing") == text
    assert with_opt_out("上新了，回T退订", purpose="marketing") == "上新了，回T退订"
    assert with_opt_out("上新了", purpose="marketing", suffix="回T退订") == "上新了 回T退订"


@pytest.mark.parametrize("purpose", ["transactional", "service"])
def test_other_texts_are_left_alone(purpose):
    assert with_opt_out("您的包裹已发出", purpose=purpose) == "您的包裹已发出"


def test_opt_out_problems_name_what_is_wrong():
    assert opt_out_problem("全场 8 折", purpose="marketing") is not None
    assert opt_out_problem("全场 8 折 拒收请回复R", purpose="marketing") is None
    assert "non-marketing" in (opt_out_problem("已发货 拒收请回复 R", purpose="transactional") or "")
    assert opt_out_problem("已发货", purpose="transactional") is None
    assert has_opt_out("……拒收 请回复R。")


def test_the_wording_lives_in_the_shop_rules():
    assert SHOP_RULE_DEFAULTS["channels"]["marketing_opt_out"] == "拒收请回复R"
    assert shop_rules({"channels": {"marketing_opt_out": "回T退订"}})["channels"]["marketing_opt_out"] == "回T退订"


@pytest.mark.parametrize(("length", "parts"), [(0, 1), (70, 1), (71, 2), (134, 2), (135, 3)])
def test_sms_segments(length, parts):
    assert sms_segments("字" * length) == parts
