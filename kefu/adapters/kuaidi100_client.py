"""Subscribing parcels to Kuaidi100's push service (POST the `schema` + `param` form to poll.kuaidi100.com/poll)."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from typing import Protocol

import httpx

from kefu.domain.privacy import redact_phones
from kefu.ingest.kuaidi100 import SUBSCRIBE_URL, subscribe_request

log = logging.getLogger(__name__)

# Kuaidi100's subscribe returnCode values, and what kefu makes of each.
SUBSCRIBED = "subscribed"  # 200: the watch is on; pushes will follow
ALREADY = "already_subscribed"  # 501: the parcel is already watched under this key
BAD_KEY = "bad_key"  # 600 not a valid subscriber (wrong key), 601 key expired: nothing else will work either
REFUSED = "refused"  # 700 bad data (carrier, number, callback), 701 carrier refused, 702 carrier not recognised
FAILED = "failed"  # 500/502/503 and anything else: Kuaidi100 or the network failed, try again later
INVALID = "invalid"  # kefu did not send it: the parcel lacks what Kuaidi100 needs (carrier code, SF's phone…)
OFF = "off"  # no key (or salt, or callback URL) configured

_RETURN_CODES: dict[str, tuple[str, str]] = {
    "200": (SUBSCRIBED, "提交成功 / subscribed"),
    "501": (ALREADY, "重复订阅 / already subscribed"),
    "600": (BAD_KEY, "授权 key 无效 / not a valid subscriber: check KEFU_KUAIDI100_KEY"),
    "601": (BAD_KEY, "授权 key 已过期 / the key has expired"),
    "700": (REFUSED, "订阅数据有误（快递公司、单号或回调地址）/ bad carrier, number or callback URL"),
    "701": (REFUSED, "拒绝订阅的快递公司 / Kuaidi100 does not watch this carrier"),
    "702": (REFUSED, "识别不到该单号对应的快递公司 / no carrier recognised for this number"),
}


class ParcelRef(Protocol):
    """What subscribing needs of a parcel (a `Shipment` row fits)."""

    carrier_code: str | None
    waybill_no: str
    shop_id: str


@dataclass(frozen=True)
class SubscribeResult:
    """How one subscribe call ended: a short status word, Kuaidi100's returnCode and a message a person can act on."""

    status: str
    message: str
    return_code: str | None = None

    @property
    def ok(self) -> bool:
        """The parcel is watched (newly, or it already was)."""
        return self.status in (SUBSCRIBED, ALREADY)

    @property
    def retry_later(self) -> bool:
        """Worth trying again later without changing anything."""
        return self.status == FAILED


def phone_tail(phone: str | None) -> str | None:
    """The last 4 digits of a phone (all SF asks for, and the least kefu sends); None when they are masked or missing."""
    text = (phone or "").strip()
    if len(text) < 4 or not text[-4:].isdigit():
        return None
    digits = re.sub(r"\D", "", text)
    return digits[-4:] if len(digits) >= 4 else None


def with_shop(callback_url: str, shop_id: str | None) -> str:
    """The callback URL with `shop=<id>`, so that pushes look the waybill up within that shop."""
    if not shop_id:
        return callback_url
    return f"{callback_url}{'&' if '?' in callback_url else '?'}{httpx.QueryParams({'shop': shop_id})}"


class Kuaidi100Client:
    """Kuaidi100's subscribe call; off (a no-op that says why) until a key, salt and callback URL are configured."""

    def __init__(self, key: str | None, salt: str | None, callback_url: str | None, http: httpx.Client):
        self.key = (key or "").strip()
        self.salt = (salt or "").strip()
        self.callback_url = (callback_url or "").strip()
        self.http = http

    @property
    def off_reason(self) -> str | None:
        """Why subscribing is off, or None when it is on."""
        if not self.key:
            return "KEFU_KUAIDI100_KEY 未设置，订阅关闭 / KEFU_KUAIDI100_KEY is not set: subscribing is off"
        if not self.salt:
            return "KEFU_KUAIDI100_SALT 未设置，推送无法验签 / KEFU_KUAIDI100_SALT is not set: pushes could not be verified"
        if not self.callback_url:
            return ("KEFU_KUAIDI100_CALLBACK_URL 未设置 / KEFU_KUAIDI100_CALLBACK_URL is not set "
                    "(the public https://…/webhooks/kuaidi100 address)")
        return None

    def subscribe(self, shipment: ParcelRef, *, phone: str | None = None, to: str | None = None) -> SubscribeResult:
        """Ask Kuaidi100 to push this parcel's track to the callback URL (scoped to the parcel's shop)."""
        reason = self.off_reason
        if reason:
            return SubscribeResult(OFF, reason)
        try:
            form = subscribe_request(
                shipment.carrier_code or "", shipment.waybill_no, self.key, with_shop(self.callback_url, shipment.shop_id),
                self.salt, phone=phone_tail(phone), to=to,
            )
        except ValueError as exc:
            return SubscribeResult(INVALID, str(exc))
        try:
            response = self.http.post(SUBSCRIBE_URL, data=form)
        except httpx.HTTPError as exc:
            log.warning("kuaidi100 subscribe failed for waybill %s: %s", shipment.waybill_no, type(exc).__name__)
            return SubscribeResult(FAILED, f"network error: {type(exc).__name__}")
        if response.status_code >= 400:
            return SubscribeResult(FAILED, f"HTTP {response.status_code}")
        try:
            answer = response.json()
        except ValueError:
            return SubscribeResult(FAILED, "the answer is not JSON")
        if not isinstance(answer, dict):
            return SubscribeResult(FAILED, "the answer is not a JSON object")
        return read_answer(answer)


def read_answer(answer: dict) -> SubscribeResult:
    """Kuaidi100's `{result, returnCode, message}` as a SubscribeResult."""
    code = str(answer.get("returnCode") or "").strip()
    said = redact_phones(str(answer.get("message") or "").strip()) or ""
    status, meaning = _RETURN_CODES.get(code, (FAILED, "Kuaidi100 could not take it now; try again later"))
    if code == "200" and answer.get("result") is False:
        status, meaning = FAILED, "result false"
    message = f"{meaning} ({said})" if said and said not in meaning else meaning
    return SubscribeResult(status, message, code or None)
