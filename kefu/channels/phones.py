"""Recipient phone numbers: mainland mobiles (1[3-9] + 9 digits) with or without +86/0086/86, in each provider's form."""

from __future__ import annotations

import re

_SEPARATORS = re.compile(r"[\s\-()（）]")
_MAINLAND = re.compile(r"1[3-9]\d{9}")
_PREFIXES = ("+86", "0086", "86")


class InvalidPhone(ValueError):
    """A phone number no SMS provider would take."""


def mainland_mobile(phone: str | None) -> str:
    """The 11-digit mainland mobile number in `phone` (spaces, dashes and a +86/0086/86 prefix allowed); else InvalidPhone."""
    text = _SEPARATORS.sub("", phone or "")
    if not text:
        raise InvalidPhone("手机号为空 / no phone number")
    for prefix in _PREFIXES:
        if text.startswith(prefix) and len(text) == len(prefix) + 11:
            text = text[len(prefix):]
            break
    if not _MAINLAND.fullmatch(text):
        raise InvalidPhone("不是有效的大陆手机号 / not a mainland mobile number (1[3-9] and 11 digits)")
    return text


def e164_mainland(phone: str | None) -> str:
    """The number in E.164 form, +86 and the 11 digits (Tencent Cloud's PhoneNumberSet)."""
    return "+86" + mainland_mobile(phone)
