"""Kdniao (快递鸟) tracking pushes (RequestType 101): DataSign, RequestData as TrackingUpdates, and the reply."""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from datetime import datetime
from typing import Any
from urllib.parse import unquote

from kefu.domain.carriers import by_kdniao_code
from kefu.domain.privacy import redact_phones
from kefu.domain.tracking import (
    BEIJING,
    ParcelState,
    PushRejected,
    TrackingEvent,
    TrackingUpdate,
    json_object,
    newest_first,
    parse_beijing_time,
)

PUSH_REQUEST_TYPE = "101"  # the form's RequestType on a tracking push
UNKNOWN_CARRIER_PREFIX = "kdniao:"  # carrier_code for a ShipperCode kefu has no canonical code for

S = ParcelState
# `State`, the parcel's main state.
_STATE: dict[str, ParcelState] = {
    "0": S.AWAITING_PICKUP,  # 暂无轨迹
    "1": S.COLLECTED,  # 已揽收
    "2": S.IN_TRANSIT,  # 在途中
    "3": S.SIGNED,  # 签收
    "4": S.PROBLEM,  # 问题件
    "5": S.TRANSFERRED,  # 转寄
    "6": S.CUSTOMS,  # 清关
    "10": S.AWAITING_PICKUP,  # 待揽件
}
# `StateEx`, the detailed state (also a trace's `Action`); a code missing here falls back to `State`.
_STATE_EX: dict[str, ParcelState] = {
    "201": S.IN_TRANSIT,  # 到达派件城市
    "202": S.OUT_FOR_DELIVERY,  # 派件中
    "204": S.IN_TRANSIT,  # 到达转运中心
    "205": S.IN_TRANSIT,  # 到达派件网点
    "206": S.IN_TRANSIT,  # 寄件网点发件
    "211": S.AT_PICKUP_POINT,  # 已放入快递柜或驿站
    "301": S.SIGNED,  # 正常签收
    "302": S.SIGNED,  # 轨迹异常后最终签收
    "304": S.SIGNED,  # 代收签收
    "311": S.SIGNED,  # 快递柜或驿站签收
    "401": S.PROBLEM,  # 发货无信息
    "402": S.PROBLEM,  # 超时未签收
    "403": S.PROBLEM,  # 超时未更新
    "404": S.REJECTED,  # 拒收(退件)
    "405": S.PROBLEM,  # 派件异常
    "406": S.RETURN_SIGNED,  # 退货签收
    "407": S.RETURNING,  # 退货未签收
    "412": S.PROBLEM,  # 快递柜或驿站超时未取
    "413": S.PROBLEM,  # 单号已拦截
    "414": S.PROBLEM,  # 破损
    "415": S.PROBLEM,  # 客户取消发货
    "416": S.PROBLEM,  # 无法联系
    "417": S.PROBLEM,  # 配送延迟
    "418": S.PROBLEM,  # 快件取出
    "419": S.OUT_FOR_DELIVERY,  # 重新派送
    "420": S.PROBLEM,  # 收货地址不详细
    "421": S.PROBLEM,  # 收件人电话错误
    "422": S.PROBLEM,  # 错分件
    "423": S.PROBLEM,  # 超区件
    # 601-604 are customs sub-states whose names the reference does not give; all read as customs.
    "601": S.CUSTOMS,
    "602": S.CUSTOMS,
    "603": S.CUSTOMS,
    "604": S.CUSTOMS,
}


def state_for(state_ex: str = "", state: str = "") -> ParcelState:
    """The parcel state of a Kdniao StateEx (or trace Action) and State; an unknown detail falls back to its group."""
    state_ex, state = state_ex.strip(), state.strip()
    for code in (state_ex, state):
        if code in _STATE_EX:
            return _STATE_EX[code]
        if code in _STATE:
            return _STATE[code]
    if len(state_ex) == 3 and state_ex.isdigit():
        return _STATE.get(state_ex[0], S.UNKNOWN)  # 2xx in transit, 3xx signed, 4xx problem, 6xx customs
    return S.UNKNOWN


def _hex_md5(request_data: str, api_key: str) -> str:
    return hashlib.md5((request_data + api_key).encode("utf-8")).hexdigest()


def data_sign(request_data: str, api_key: str) -> str:
    """Base64 of the lower-case hex MD5 of RequestData + ApiKey (not yet URL-encoded)."""
    return base64.b64encode(_hex_md5(request_data, api_key).encode("ascii")).decode("ascii")


def verify_sign(request_data: str, data_sign: str, api_key: str) -> bool:
    """Whether a push's DataSign matches its RequestData, URL-encoded or not; the comparison is constant-time."""
    if not data_sign:
        return False
    expected = _hex_md5(request_data, api_key).encode("ascii")
    sign = data_sign.strip()
    if "%" in sign:  # base64 of hex digits never holds '+' or '/': only the '=' padding is ever %-encoded
        sign = unquote(sign)
    try:
        decoded = base64.b64decode(sign, validate=True)
    except (binascii.Error, ValueError):
        return False
    return hmac.compare_digest(expected, decoded.lower())


def ack(ebusiness_id: str, now: datetime) -> dict[str, Any]:
    """The reply that tells Kdniao the push was taken; `now` is aware and written in Beijing time."""
    return _reply(ebusiness_id, now, success=True, reason="")


def error_ack(ebusiness_id: str, now: datetime, reason: str) -> dict[str, Any]:
    """The reply that tells Kdniao the push was not taken."""
    return _reply(ebusiness_id, now, success=False, reason=reason)


def _reply(ebusiness_id: str, now: datetime, *, success: bool, reason: str) -> dict[str, Any]:
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    update_time = now.astimezone(BEIJING).strftime("%Y-%m-%d %H:%M:%S")
    return {"EBusinessID": ebusiness_id, "UpdateTime": update_time, "Success": success, "Reason": reason}


def parse_push(request_data: str) -> list[TrackingUpdate]:
    """A push's RequestData JSON as one TrackingUpdate per parcel; PushRejected names the field that cannot be read."""
    payload = json_object(request_data, "RequestData")
    items = payload.get("Data")
    if items is None:
        return []
    if not isinstance(items, list):
        raise PushRejected("Data", "is not a list")
    return [_update(item, f"Data[{i}]") for i, item in enumerate(items)]


def carrier_code_for(shipper_code: str) -> str:
    """kefu's carrier code for a Kdniao ShipperCode; an unknown one is kept as `kdniao:<code>`."""
    carrier = by_kdniao_code(shipper_code)
    return carrier.code if carrier else UNKNOWN_CARRIER_PREFIX + shipper_code.strip().upper()


def _update(item: Any, where: str) -> TrackingUpdate:
    if not isinstance(item, dict):
        raise PushRejected(where, "is not an object")
    shipper = _text(item.get("ShipperCode"))
    if not shipper:
        raise PushRejected(f"{where}.ShipperCode", "is missing")
    number = _text(item.get("LogisticCode"))
    if not number:
        raise PushRejected(f"{where}.LogisticCode", "is missing")
    carrier = carrier_code_for(shipper)

    traces = item.get("Traces") or []
    if not isinstance(traces, list):
        raise PushRejected(f"{where}.Traces", "is not a list")
    # Traces come oldest first; reversed before the stable sort so that same-second lines stay newest first.
    events = [_event(carrier, number, trace, f"{where}.Traces[{i}]") for i, trace in enumerate(traces)]
    events = newest_first(reversed(events))

    state_ex, main_state = _text(item.get("StateEx")), _text(item.get("State"))
    state = state_for(state_ex, main_state)
    if state is S.UNKNOWN and events:
        state = events[0].state
    return TrackingUpdate(
        carrier_code=carrier,
        waybill_no=number,
        state=state,
        raw_state=state_ex or main_state,
        is_terminal=state.is_terminal,
        events=tuple(events),
        message=redact_phones(_text(item.get("Reason"))) or None,
    )


def _event(carrier: str, number: str, trace: Any, where: str) -> TrackingEvent:
    if not isinstance(trace, dict):
        raise PushRejected(where, "is not an object")
    accepted = _text(trace.get("AcceptTime"))
    if not accepted:
        raise PushRejected(f"{where}.AcceptTime", "is missing")
    try:
        at = parse_beijing_time(accepted)
    except ValueError:
        raise PushRejected(f"{where}.AcceptTime", f"'{accepted}' is not a date and time") from None
    action = _text(trace.get("Action"))
    station, remark = _text(trace.get("AcceptStation")), _text(trace.get("Remark"))
    return TrackingEvent(
        carrier_code=carrier,
        waybill_no=number,
        at=at,
        state=state_for(action) if action else S.UNKNOWN,
        raw_state=action,
        description=f"{station}（{remark}）" if station and remark else station or remark,
        location=_text(trace.get("Location")) or None,
    )


def _text(value: Any) -> str:
    """A JSON value as stripped text: None is empty, numbers are written out."""
    if value is None:
        return ""
    return str(value).strip()
