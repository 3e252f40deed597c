"""Reading TOP refund records (`taobao.refunds.receive.get` fields) from a JSON or CSV file into clean refund rows.

JSON: a list of refund objects, `{"refunds": [...]}`, or the TOP response as it comes
(`{"refunds_receive_get_response": {"refunds": {"refund": [...]}}}`). CSV: one refund per row, the TOP field names as
headers (Chinese headers from 千牛's 退款管理 export are accepted too). Times are shop-local `yyyy-MM-dd HH:mm:ss`;
money is yuan text. A bad record is reported with its line (CSV) or item number (JSON) and field; good ones still land.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime, tzinfo
from decimal import Decimal
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from kefu.domain.privacy import redact_phones
from kefu.ingest.cells import CellError, clean, clean_header, parse_fen, parse_id, parse_local_time, to_utc
from kefu.store.types import from_fen

REFUND_STATUSES = ("WAIT_SELLER_AGREE", "WAIT_BUYER_RETURN_GOODS", "WAIT_SELLER_CONFIRM_GOODS", "SELLER_REFUSE_BUYER",
                   "CLOSED", "SUCCESS")
GOOD_STATUSES = ("BUYER_NOT_RECEIVED", "BUYER_RECEIVED", "BUYER_RETURNED_GOODS")
EXCHANGE_TYPES = ("TMALL_EXCHANGE", "TAOBAO_EXCHANGE")

# field -> accepted header names (TOP's own first, then 千牛 export wording).
REFUND_COLUMNS: dict[str, tuple[str, ...]] = {
    "refund_id": ("refund_id", "退款编号", "退款单号"),
    "tid": ("tid", "订单编号", "订单号"),
    "oid": ("oid", "子订单编号", "子订单号"),
    "status": ("status", "退款状态"),
    "refund_fee": ("refund_fee", "退款金额", "买家退款金额"),
    "total_fee": ("total_fee", "交易金额"),
    "payment": ("payment", "买家实际支付金额", "实付金额"),
    "reason": ("reason", "退款原因"),
    "desc": ("desc", "退款说明", "退款描述"),
    "has_good_return": ("has_good_return", "是否需要退货", "买家是否需要退货"),
    "good_status": ("good_status", "货物状态"),
    "created": ("created", "退款申请时间", "申请时间"),
    "modified": ("modified", "修改时间", "退款修改时间"),
    "buyer_nick": ("buyer_nick", "买家会员名", "买家昵称"),
    "title": ("title", "宝贝标题", "商品标题"),
    "num": ("num", "购买数量", "数量"),
    "outer_id": ("outer_id", "商家编码"),
    "sku": ("sku", "商品属性", "SKU"),
    "company_name": ("company_name", "退货物流公司", "物流公司"),
    "sid": ("sid", "退货运单号", "退货物流单号"),
    "refund_phase": ("refund_phase", "退款阶段"),
    "order_status": ("order_status", "订单状态"),
    "dispute_type": ("dispute_type", "售后类型"),
    "prefers_exchange": ("prefers_exchange", "希望换货"),
    "buyer_confirmed_non_returnable": ("buyer_confirmed_non_returnable", "确认不退"),
    "freight_insurance": ("freight_insurance", "has_yfx", "运费险"),
}
REQUIRED = ("refund_id", "tid")
LIMITS = {"refund_id": 40, "tid": 40, "oid": 40, "reason": 200, "title": 300, "sku": 300, "outer_id": 80,
          "company_name": 60, "sid": 64, "buyer_nick": 200}
_TRUE = frozenset({"true", "1", "yes", "y", "是", "需要", "有"})
_FALSE = frozenset({"false", "0", "no", "n", "否", "不需要", "无", ""})


class UnreadableRefunds(Exception):
    """A file that cannot be read as refund records at all (the message names the file and why)."""


@dataclass(frozen=True)
class RefundProblem:
    """A record that could not be read: where (file line or JSON item), which field, and why."""

    where: str  # "FILE:LINE" or "FILE#ITEM"
    field: str | None
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.field + ': ' if self.field else ''}{self.message}"


@dataclass(frozen=True)
class RefundRecord:
    """One refund as TOP describes it, cleaned: ids exact, money Decimal, times aware UTC, desc phones redacted."""

    where: str
    refund_id: str
    tid: str
    oid: str | None
    status: str | None
    refund_fee: Decimal | None
    total_fee: Decimal | None
    payment: Decimal | None
    reason: str | None
    desc: str | None
    has_good_return: bool | None
    good_status: str | None
    created: datetime | None
    modified: datetime | None
    buyer_nick: str | None
    title: str | None
    num: int | None
    outer_id: str | None
    sku: str | None
    company_name: str | None
    sid: str | None
    refund_phase: str | None
    dispute_type: str | None
    prefers_exchange: bool
    buyer_confirmed_non_returnable: bool
    freight_insurance: bool | None


@dataclass(frozen=True)
class RefundFile:
    """What a file held: the readable records and the problems, in file order."""

    name: str
    records: tuple[RefundRecord, ...]
    problems: tuple[RefundProblem, ...]


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return clean(str(value))


def _bool(text: str, field: str) -> bool | None:
    lowered = text.strip().lower()
    if lowered in _TRUE:
        return True
    if lowered in _FALSE:
        return None if lowered == "" else False
    raise CellError(f"{field} '{text}' 不是是/否 / is not yes or no")


def _money(text: str, field: str) -> Decimal | None:
    fen = parse_fen(text, field)
    if fen is not None and fen < 0:
        raise CellError(f"{field} '{text}' 不能为负数 / must not be negative")
    return None if fen is None else from_fen(fen)


def _time(text: str, field: str, zone: tzinfo) -> datetime | None:
    return to_utc(parse_local_time(text, field), zone)


def record_from(values: Mapping[str, Any], where: str, zone: tzinfo) -> RefundRecord:
    """One refund from its field values (TOP names as keys); raises CellError naming the field."""
    cells = {name: _text(values.get(name)) for name in REFUND_COLUMNS}
    for name in REQUIRED:
        if not cells[name]:
            raise CellError(f"{name} 为空 / is empty")
    for name, limit in LIMITS.items():
        if len(cells[name]) > limit:
            raise CellError(f"{name} 超过 {limit} 个字符 / is longer than {limit} characters")
    status = cells["status"] or None
    if status is not None and status not in REFUND_STATUSES:
        raise CellError(f"status '{status}' 不是 TOP 退款状态 / is not a TOP refund status ({', '.join(REFUND_STATUSES)})")
    good_status = cells["good_status"] or None
    if good_status is not None and good_status not in GOOD_STATUSES:
        raise CellError(f"good_status '{good_status}' 不是 TOP 货物状态 / is not one of {', '.join(GOOD_STATUSES)}")
    num = cells["num"]
    if num and not num.isdigit():
        raise CellError(f"num '{num}' 不是整数 / is not a whole number")
    dispute = cells["dispute_type"] or None
    return RefundRecord(
        where=where,
        refund_id=parse_id(cells["refund_id"], "refund_id"),
        tid=parse_id(cells["tid"], "tid"),
        oid=parse_id(cells["oid"], "oid") or None,
        status=status,
        refund_fee=_money(cells["refund_fee"], "refund_fee"),
        total_fee=_money(cells["total_fee"], "total_fee"),
        payment=_money(cells["payment"], "payment"),
        reason=cells["reason"] or None,
        desc=redact_phones(cells["desc"]) or None,
        has_good_return=_bool(cells["has_good_return"], "has_good_return"),
        good_status=good_status,
        created=_time(cells["created"], "created", zone),
        modified=_time(cells["modified"], "modified", zone),
        buyer_nick=cells["buyer_nick"] or None,
        title=cells["title"] or None,
        num=int(num) if num else None,
        outer_id=cells["outer_id"] or None,
        sku=cells["sku"] or None,
        company_name=cells["company_name"] or None,
        sid=cells["sid"] or None,
        refund_phase=cells["refund_phase"] or None,
        dispute_type=dispute,
        prefers_exchange=bool(_bool(cells["prefers_exchange"], "prefers_exchange")) or dispute in EXCHANGE_TYPES,
        buyer_confirmed_non_returnable=bool(_bool(cells["buyer_confirmed_non_returnable"],
                                                  "buyer_confirmed_non_returnable")),
        freight_insurance=_bool(cells["freight_insurance"], "freight_insurance"),
    )


def _decode(data: bytes, name: str) -> str:
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableRefunds(f"{name}: 无法识别编码 / not UTF-8 or GB18030 text")


def _json_items(text: str, name: str) -> list[Any]:
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UnreadableRefunds(f"{name}:{exc.lineno}: 不是有效的 JSON / not valid JSON ({exc.msg})") from None
    if isinstance(data, dict):
        for key in ("refunds_receive_get_response", "refunds_apply_get_response"):
            if isinstance(data.get(key), dict):
                data = data[key]
        refunds = data.get("refunds", data.get("refund"))
        if isinstance(refunds, dict):
            refunds = refunds.get("refund", [])
        data = refunds if refunds is not None else [data] if "refund_id" in data else None
    if not isinstance(data, list):
        raise UnreadableRefunds(f"{name}: 未找到退款记录列表 / no list of refunds found (a list, or {{\"refunds\": [...]}})")
    return data


def _csv_rows(text: str, name: str) -> Iterable[tuple[int, dict[str, str]]]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = next(reader, None)
    if header is None:
        raise UnreadableRefunds(f"{name}: 文件为空 / the file is empty")
    names = [clean_header(cell) for cell in header]
    fields: dict[int, str] = {}
    for index, label in enumerate(names):
        for field, aliases in REFUND_COLUMNS.items():
            if label in aliases and field not in fields.values():
                fields[index] = field
    missing = [f for f in REQUIRED if f not in fields.values()]
    if missing:
        raise UnreadableRefunds(f"{name}:1: 缺少列 / missing columns: {', '.join(missing)}")
    for line_no, row in enumerate(reader, start=2):
        if not any(cell.strip() for cell in row):
            continue
        yield line_no, {fields[i]: cell for i, cell in enumerate(row) if i in fields}


def read_refunds(data: bytes, name: str, *, timezone: str = "Asia/Shanghai") -> RefundFile:
    """Every refund in a JSON or CSV file's bytes; `name` is the file name used in problem reports."""
    zone = ZoneInfo(timezone)
    text = _decode(data, name)
    records: list[RefundRecord] = []
    problems: list[RefundProblem] = []
    stripped = text.lstrip()
    if stripped.startswith(("[", "{")):
        for number, item in enumerate(_json_items(stripped, name), start=1):
            where = f"{name}#{number}"
            if not isinstance(item, dict):
                problems.append(RefundProblem(where, None, "不是退款对象 / not a refund object"))
                continue
            _collect(item, where, zone, records, problems)
    else:
        for line_no, values in _csv_rows(text, name):
            _collect(values, f"{name}:{line_no}", zone, records, problems)
    return RefundFile(name=name, records=tuple(records), problems=tuple(problems))


def _collect(values: Mapping[str, Any], where: str, zone: tzinfo, records: list[RefundRecord],
             problems: list[RefundProblem]) -> None:
    try:
        records.append(record_from(values, where, zone))
    except CellError as exc:
        message = str(exc)
        field = message.split(" ", 1)[0] if message.split(" ", 1)[0] in REFUND_COLUMNS else None
        problems.append(RefundProblem(where, field, message))


def read_refunds_file(path: Path | str, *, timezone: str = "Asia/Shanghai") -> RefundFile:
    """Read a refunds file from disk (a missing file is reported as not found)."""
    file = Path(path)
    if not file.is_file():
        raise UnreadableRefunds(f"{file}: 文件不存在 / file not found")
    return read_refunds(file.read_bytes(), file.name, timezone=timezone)
