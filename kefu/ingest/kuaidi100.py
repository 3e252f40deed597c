"""Kuaidi100 (快递100) poll pushes: the sign check, `param` JSON as a TrackingUpdate, replies, and the subscribe form."""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from datetime import datetime
from functools import lru_cache
from typing import Any

from kefu.domain.privacy import redact_phones
from kefu.domain.tracking import (
    ParcelState,
    PushRejected,
    SubscriptionStatus,
    TrackingEvent,
    TrackingUpdate,
    advance,
    json_object,
    newest_first,
    parse_beijing_time,
)

SUBSCRIBE_URL = "https://poll.kuaidi100.com/poll"
ACK = {"result": True, "returnCode": "200", "message": "成功"}
# Carriers that only answer with the recipient's or sender's phone (full number or its last 4 digits). The reference
# verifies this for shunfeng; Kuaidi100's docs say the same of 顺丰快运 and 丰网.
PHONE_REQUIRED = frozenset({"shunfeng", "shunfengkuaiyun", "fengwang"})
MAX_NUMBER_LENGTH = 32
TRACK_LINE_FIELDS = ("ftime", "time", "context", "statusCode", "status", "areaName", "areaCode")  # what a line is read from
TRACK_LINES_REMEMBERED = 32768  # lines read before, per process: each push re-sends the parcel's whole track
RESULT_V2 = "4"  # ask for the advanced state codes and area names on every push

S = ParcelState
# Basic `state` codes (0-14) and the advanced ones (resultv2); they never collide.
_STATE_BY_CODE: dict[str, ParcelState] = {
    "0": S.IN_TRANSIT,  # 在途
    "1": S.COLLECTED,  # 揽收
    "2": S.PROBLEM,  # 疑难
    "3": S.SIGNED,  # 签收
    "4": S.RETURN_SIGNED,  # 退签
    "5": S.OUT_FOR_DELIVERY,  # 派件
    "6": S.RETURNING,  # 退回
    "7": S.TRANSFERRED,  # 转投
    "8": S.CUSTOMS,  # 清关
    "10": S.CUSTOMS,  # 待清关
    "11": S.CUSTOMS,  # 清关中
    "12": S.CUSTOMS,  # 已清关
    "13": S.PROBLEM,  # 清关异常
    "14": S.REJECTED,  # 拒签
    "101": S.AWAITING_PICKUP,  # 已下单
    "102": S.AWAITING_PICKUP,  # 待揽收
    "103": S.COLLECTED,  # 已揽收
    "1001": S.IN_TRANSIT,  # 到达派件城市
    "1002": S.IN_TRANSIT,  # 干线
    "1003": S.IN_TRANSIT,  # 转递
    "501": S.AT_PICKUP_POINT,  # 投柜或驿站
    "301": S.SIGNED,  # 本人签收
    "302": S.SIGNED,  # 派件异常后签收
    "303": S.SIGNED,  # 代签
    "304": S.SIGNED,  # 投柜或站签收
    "401": S.RETURN_SIGNED,  # 已销单 (a sub-state of 退签)
    # 2xx are sub-states of 疑难; their names are unverified, so every one of them (203 拒收 included) is a problem.
    "201": S.PROBLEM,  # 超时未签收
    "202": S.PROBLEM,  # 超时未更新
    "203": S.PROBLEM,  # 拒收
    "204": S.PROBLEM,  # 派件异常
    "205": S.PROBLEM,  # 柜或驿站超时未取
    "206": S.PROBLEM,  # 无法联系
    "207": S.PROBLEM,  # 超区
    "208": S.PROBLEM,  # 滞留
    "209": S.PROBLEM,  # 破损
}
# The state names sent in data[].status (with resultv2) when no statusCode comes along.
_STATE_BY_NAME: dict[str, ParcelState] = {
    "在途": S.IN_TRANSIT,
    "揽收": S.COLLECTED,
    "疑难": S.PROBLEM,
    "签收": S.SIGNED,
    "退签": S.RETURN_SIGNED,
    "派件": S.OUT_FOR_DELIVERY,
    "退回": S.RETURNING,
    "转投": S.TRANSFERRED,
    "清关": S.CUSTOMS,
    "待清关": S.CUSTOMS,
    "清关中": S.CUSTOMS,
    "已清关": S.CUSTOMS,
    "清关异常": S.PROBLEM,
    "拒签": S.REJECTED,
    "已下单": S.AWAITING_PICKUP,
    "待揽收": S.AWAITING_PICKUP,
    "已揽收": S.COLLECTED,
    "到达派件城市": S.IN_TRANSIT,
    "干线": S.IN_TRANSIT,
    "转递": S.IN_TRANSIT,
    "投柜或驿站": S.AT_PICKUP_POINT,
    "本人签收": S.SIGNED,
    "派件异常后签收": S.SIGNED,
    "代签": S.SIGNED,
    "投柜或站签收": S.SIGNED,
    "已销单": S.RETURN_SIGNED,
}


def state_for(code_or_name: str) -> ParcelState:
    """The parcel state of a Kuaidi100 state code or name; an unknown 3-digit code falls back to its parent (2xx: 2)."""
    code = code_or_name.strip()
    if code in _STATE_BY_CODE:
        return _STATE_BY_CODE[code]
    if code in _STATE_BY_NAME:
        return _STATE_BY_NAME[code]
    if len(code) == 3 and code.isdigit() and code[0] in _STATE_BY_CODE:
        return _STATE_BY_CODE[code[0]]
    return S.UNKNOWN


def expected_sign(param_raw: str, salt: str) -> str:
    """md5(param + salt) as upper-case hex, over the raw `param` text exactly as it arrived."""
    return hashlib.md5((param_raw + salt).encode("utf-8")).hexdigest().upper()


def verify_sign(param_raw: str, sign: str, salt: str) -> bool:
    """Whether a push's `sign` matches its raw `param`; hex case does not matter, the comparison is constant-time."""
    if not sign:
        return False
    given = sign.strip().upper().encode("utf-8")
    return hmac.compare_digest(expected_sign(param_raw, salt).encode("ascii"), given)


def error_ack(message: str = "失败") -> dict[str, Any]:
    """The reply that tells Kuaidi100 the push was not taken, so that it is sent again later."""
    return {"result": False, "returnCode": "500", "message": message}


def parse_push(param_raw: str) -> TrackingUpdate:
    """A push's `param` JSON as a TrackingUpdate; PushRejected names the field when it cannot be read."""
    payload = json_object(param_raw, "param")
    last = payload.get("lastResult")
    if not isinstance(last, dict):
        raise PushRejected("lastResult", "is missing")
    number = _text(last.get("nu"))
    if not number:
        raise PushRejected("lastResult.nu", "is missing")
    old_code = _text(payload.get("comOld")).lower() or None
    new_code = _text(payload.get("comNew")).lower() or None
    carrier = _text(last.get("com")).lower() or new_code or old_code
    if not carrier:
        raise PushRejected("lastResult.com", "is missing")

    data = last.get("data") or []
    if not isinstance(data, list):
        raise PushRejected("lastResult.data", "is not a list")
    events = newest_first(_event(carrier, number, item, i) for i, item in enumerate(data))

    subscription = _subscription(payload.get("status"))
    raw_state = _text(last.get("state"))
    state = state_for(raw_state) if raw_state else S.UNKNOWN
    if state is S.UNKNOWN and events:
        state = events[0].state
    if subscription is SubscriptionStatus.ABORT and not events:
        state = S.UNKNOWN  # an abandoned watch with no track says "0" (在途) by default; nothing is known
    signed = _text(last.get("ischeck")) == "1"
    if signed and not state.is_terminal:
        state = advance(state, S.SIGNED)  # ischeck=1 is the carrier's word that the parcel was signed for
    return TrackingUpdate(
        carrier_code=carrier,
        waybill_no=number,
        state=state,
        raw_state=raw_state,
        is_terminal=state.is_terminal or signed or subscription is SubscriptionStatus.SHUTDOWN,
        events=tuple(events),
        subscription=subscription,
        message=redact_phones(_text(payload.get("message"))) or None,
        carrier_corrected=_text(payload.get("autoCheck")) == "1",
        old_carrier_code=old_code,
        new_carrier_code=new_code,
    )


def subscribe_request(
    company: str,
    number: str,
    key: str,
    callback_url: str,
    salt: str,
    phone: str | None = None,
    from_: str | None = None,
    to: str | None = None,
) -> dict[str, str]:
    """The form fields (`schema`, `param`) to POST to SUBSCRIBE_URL; ValueError when the call would be refused."""
    company = company.strip().lower()
    number = number.strip()
    if not company:
        raise ValueError("company (the Kuaidi100 carrier code) is required")
    if not number:
        raise ValueError("number (the waybill number) is required")
    if len(number) > MAX_NUMBER_LENGTH:
        raise ValueError(f"number is longer than {MAX_NUMBER_LENGTH} characters")
    if not key.strip():
        raise ValueError("key (the Kuaidi100 account key) is required")
    if not callback_url.startswith(("https://", "http://")):
        raise ValueError("callback_url must be an http(s) address")
    phone_digits = _phone_digits(phone)
    if company in PHONE_REQUIRED and not phone_digits:
        raise ValueError(f"{company} needs the recipient's or sender's phone (the full number or its last 4 digits)")

    parameters: dict[str, str] = {"callbackurl": callback_url, "salt": salt, "resultv2": RESULT_V2}
    if phone_digits:
        parameters["phone"] = phone_digits
    param: dict[str, Any] = {"company": company, "number": number, "key": key.strip()}
    if from_:
        param["from"] = from_
    if to:
        param["to"] = to
    param["parameters"] = parameters
    return {"schema": "json", "param": json.dumps(param, ensure_ascii=False, separators=(",", ":"))}


def _phone_digits(phone: str | None) -> str:
    """A phone as digits only (a +86 prefix dropped); ValueError unless it is 4 digits or a whole number."""
    if not phone:
        return ""
    digits = re.sub(r"\D", "", phone)
    if len(digits) == 13 and digits.startswith("86"):
        digits = digits[2:]
    if len(digits) != 4 and not 7 <= len(digits) <= 12:
        raise ValueError("phone must be the full number or its last 4 digits")
    return digits


def _event(carrier: str, number: str, item: Any, index: int) -> TrackingEvent:
    """Track line `index` of a push; a line read before (every push re-sends the whole track) is not read again."""
    if not isinstance(item, dict):
        raise PushRejected(f"lastResult.data[{index}]", "is not an object")
    key = (carrier, number, *map(item.get, TRACK_LINE_FIELDS))
    try:
        return _remembered_line(key)
    except (TypeError, PushRejected):  # a field holding a list or an object (unhashable) is read as it is; a bad line
        return _read_line(carrier, number, item, index)  # is refused again, named by its place in the track


@lru_cache(maxsize=TRACK_LINES_REMEMBERED)
def _remembered_line(key: tuple[Any, ...]) -> TrackingEvent:
    """A track line from its carrier, waybill and fields (TRACK_LINE_FIELDS): the same fields read the same way."""
    carrier, number, *values = key
    return _read_line(carrier, number, dict(zip(TRACK_LINE_FIELDS, values)), 0)


def _read_line(carrier: str, number: str, item: dict[str, Any], index: int) -> TrackingEvent:
    formatted = _text(item.get("ftime"))
    at = _first_time(formatted) if formatted else None
    if at is None:  # no usable ftime: the raw time, and a message naming what is wrong (rare; built only then)
        raw_time = _text(item.get("time"))
        if not formatted and not raw_time:
            raise PushRejected(f"lastResult.data[{index}].time", "is missing")
        at = _first_time(formatted, raw_time)
        if at is None:
            field, text = ("ftime", formatted) if formatted else ("time", raw_time)
            raise PushRejected(f"lastResult.data[{index}].{field}", f"'{text}' is not a date and time")
    code, name = _text(item.get("statusCode")), _text(item.get("status"))
    state = state_for(code) if code else S.UNKNOWN
    if state is S.UNKNOWN and name:
        state = state_for(name)
    return TrackingEvent(
        carrier_code=carrier,
        waybill_no=number,
        at=at,
        state=state,
        raw_state=code or name,
        description=_text(item.get("context")),
        location=_text(item.get("areaName")) or None,
        area_code=_text(item.get("areaCode")) or None,
    )


def _first_time(*texts: str) -> datetime | None:
    """The first of the given times that reads as a Beijing time, in UTC."""
    for text in texts:
        if text:
            try:
                return parse_beijing_time(text)
            except ValueError:
                continue
    return None


def _subscription(value: Any) -> SubscriptionStatus | None:
    try:
        return SubscriptionStatus(_text(value).lower())
    except ValueError:
        return None


def _text(value: Any) -> str:
    """A JSON value as stripped text: None is empty, numbers are written out."""
    if value.__class__ is str:  # nearly every field: the common case first (a push has some forty of them)
        return value.strip()
    if value is None:
        return ""
    if isinstance(value, bool):
        return "1" if value else "0"
    return str(value).strip()
