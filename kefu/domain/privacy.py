"""Masking of personal data for display, and redaction of phone numbers in free text (PIPL)."""

from __future__ import annotations

import re

# Mainland mobiles (1[3-9]x xxxx xxxx, with optional +86 / 0086 / 86 prefix and separators) and landlines (0xx-xxxxxxxx).
_MOBILE = re.compile(r"(?<!\d)(?:\+?86[- ]?|0086[- ]?)?1[3-9]\d[- ]?\d{4}[- ]?\d{4}(?!\d)")
_LANDLINE = re.compile(r"(?<!\d)0\d{2,3}-\d{7,8}(?!\d)")
_DIGIT_CHAIN = re.compile(r"\d(?:[- ]?\d){6}")  # seven digits joined by at most one - or space: every phone above has it


def redact_phones(text: str | None) -> str | None:
    """Replace every phone number in free text with a masked form, keeping the text readable."""
    if not text or not _DIGIT_CHAIN.search(text):
        return text  # most text has no such run of digits: one cheap scan instead of two substitutions
    text = _MOBILE.sub(lambda m: mask_phone(re.sub(r"\D", "", m.group(0))[-11:]), text)
    return _LANDLINE.sub("0**-********", text)


def mask_phone(phone: str | None) -> str | None:
    """138****0001: keep the first three and last four digits."""
    if not phone:
        return phone
    digits = re.sub(r"\D", "", phone)
    if len(digits) >= 11:
        digits = digits[-11:]
        return f"{digits[:3]}****{digits[-4:]}"
    if len(digits) > 4:
        return "*" * (len(digits) - 4) + digits[-4:]
    return "*" * len(digits)


def mask_name(name: str | None) -> str | None:
    """张*, 欧阳** or J*** for a Latin name: keep the first character only."""
    if not name:
        return name
    name = name.strip()
    if not name:
        return name
    return name[0] + "*" * max(1, min(len(name) - 1, 3))


def mask_address(street: str | None) -> str | None:
    """Keep the first few characters of a street address, mask the rest (省市区 stay visible elsewhere)."""
    if not street:
        return street
    if "*" in street:
        return street  # already masked by the platform
    keep = min(4, max(0, len(street) // 3))
    return street[:keep] + "****"


def mask_email(email: str | None) -> str | None:
    """j***@example.com."""
    if not email or "@" not in email:
        return email
    local, domain = email.split("@", 1)
    return (local[:1] or "*") + "***@" + domain
