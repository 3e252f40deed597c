"""Cleaning and parsing single export cells: Excel text guards, amounts in fen, Beijing times, counts."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone, tzinfo
from decimal import Decimal, InvalidOperation

from kefu.domain.clock_text import read_moment


class CellError(ValueError):
    """A cell that cannot be read as the field it belongs to."""


def clean(cell: str) -> str:
    """Strip spaces/tabs and Excel's text guards: `="…"` wrapping and a leading apostrophe."""
    cell = cell.strip()
    if not cell:
        return cell
    first = cell[0]
    if first != "=" and first != "'":
        return cell
    if first == "=":
        if cell.startswith('="'):
            cell = cell[2:-1] if cell.endswith('"') and len(cell) > 2 else cell[2:]
        else:
            cell = cell[1:]
        return cell.strip()
    if first == "'":
        return cell[1:].strip()
    return cell


def clean_header(cell: str) -> str:
    """A header name as printed, without BOM, quotes, Excel guards or surrounding whitespace."""
    return clean(cell.replace("\ufeff", "")).strip('"').strip()


_SCIENTIFIC = re.compile(r"^\d(\.\d+)?[eE]\+?\d+$")
_TRAILING_ZEROS = re.compile(r"^(\d+)\.0+$")


def parse_id(text: str, field: str) -> str:
    """An 18–19 digit platform id kept exact; Excel's `.00` tail dropped; scientific notation refused."""
    if not text:
        return text
    if _SCIENTIFIC.match(text):
        raise CellError(
            f"{field} '{text}' 被 Excel 改成了科学计数法，原始号码已丢失，请重新导出 / was turned into scientific notation "
            "by Excel and the exact number is lost; re-export the file, or open it without letting Excel convert the column"
        )
    match = _TRAILING_ZEROS.match(text)
    return match.group(1) if match else text


_AMOUNT_NOISE = str.maketrans({",": None, "¥": None, "￥": None, " ": None, "元": None})
_NO_AMOUNT_WORDS = frozenset({"无退款申请", "无", "-", "--", "/", "null", "NULL"})


def parse_fen(text: str, field: str) -> int | None:
    """A yuan amount like `59.00`, `1,234.5` or `¥12` as integer fen; empty is None."""
    if not text:
        return None
    integer, dot, fraction = text.partition(".")
    if integer.isdigit() and (not dot or (fraction.isdigit() and len(fraction) <= 2)):
        return int(integer) * 100 + (int((fraction + "00")[:2]) if dot else 0)
    cleaned = text.translate(_AMOUNT_NOISE)
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise CellError(f"{field} '{text}' 不是金额 / is not an amount") from None
    if not value.is_finite():
        raise CellError(f"{field} '{text}' 不是金额 / is not an amount")
    return int((value * 100).to_integral_value())


def parse_refund_fen(text: str, field: str) -> int | None:
    """Like parse_fen, but the export's words for "no refund" (无退款申请) read as zero."""
    if text in _NO_AMOUNT_WORDS:
        return 0
    return parse_fen(text, field)


def parse_count(text: str, field: str) -> int | None:
    """A whole count such as 宝贝总数量; `3.0` from a spreadsheet round-trip is accepted."""
    if not text:
        return None
    if text.isdigit():
        return int(text)
    match = _TRAILING_ZEROS.match(text)
    if match:
        return int(match.group(1))
    raise CellError(f"{field} '{text}' 不是整数 / is not a whole number")


EXCEL_EPOCH = datetime(1899, 12, 30)
_DATE_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y-%m-%d %H:%M", "%Y年%m月%d日 %H:%M:%S", "%Y/%m/%d", "%Y-%m-%d")


def parse_local_time(text: str, field: str) -> datetime | None:
    """An export time (`yyyy-MM-dd HH:mm:ss`, slashes, or an Excel serial number) as a naive local datetime."""
    if not text:
        return None
    written = read_moment(text, _DATE_FORMATS)
    if written is not None:
        return written
    try:
        serial = float(text)
    except ValueError:
        raise CellError(f"{field} '{text}' 不是日期时间 / is not a date and time") from None
    if 20000 < serial < 80000:  # 1954..2119: anything else is not an Excel date
        return (EXCEL_EPOCH + timedelta(days=serial)).replace(microsecond=0)
    raise CellError(f"{field} '{text}' 不是日期时间 / is not a date and time")


def to_utc(local: datetime | None, zone: tzinfo) -> datetime | None:
    """A naive shop-local time as an aware UTC time."""
    if local is None:
        return None
    if local.tzinfo is None:
        local = local.replace(tzinfo=zone)
    return local.astimezone(timezone.utc)


UtcText = str  # a UTC time as "YYYY-MM-DD HH:MM:SS.ffffff": the form both stores take, and sortable as text


class LocalTimes:
    """Export times in one shop timezone to UTC text, fast: each local hour is converted once, then reused."""

    def __init__(self, zone: tzinfo):
        self.zone = zone
        self._hours: dict[str, str] = {}  # "2025-03-10 20" (local) -> "2025-03-10 12" (UTC)

    def utc(self, text: str, field: str) -> UtcText | None:
        """The UTC time of a local export time text (any shape parse_local_time reads), or None when empty."""
        if not text:
            return None
        local = parse_local_time(text, field)
        if len(text) == 19 and text[10] == " " and text[4] == "-":  # the usual yyyy-MM-dd HH:mm:ss
            hour = text[:13]
            utc_hour = self._hours.get(hour)
            if utc_hour is None:
                utc = local.replace(tzinfo=self.zone).astimezone(timezone.utc)
                if utc.minute != local.minute:  # a zone offset in part-hours: no reuse by the hour
                    return utc.strftime("%Y-%m-%d %H:%M:%S.%f")
                utc_hour = utc.strftime("%Y-%m-%d %H")
                if len(self._hours) < 200_000:
                    self._hours[hour] = utc_hour
            return f"{utc_hour}{text[13:]}.000000"
        return local.replace(tzinfo=self.zone).astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


def utc_text(moment: datetime) -> UtcText:
    """An aware datetime in the store's UTC text form."""
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S.%f")


_TRUE_WORDS = frozenset({"是", "手机订单", "1", "true", "True", "Y", "y", "yes"})
_FALSE_WORDS = frozenset({"否", "0", "false", "False", "N", "n", "no"})


def parse_flag(text: str) -> bool | None:
    """是/否 and friends; anything else (including empty) is unknown."""
    if text in _TRUE_WORDS:
        return True
    if text in _FALSE_WORDS:
        return False
    return None


def split_address(address: str) -> tuple[str | None, str | None, str | None, str | None]:
    """`省 市 区 详细地址` (space separated, as exports write it) into its four parts; a postcode suffix dropped."""
    if not address:
        return None, None, None, None
    address = re.sub(r"\s*\(\d{6}\)\s*$", "", address)
    parts = address.split(None, 3)
    parts += [None] * (4 - len(parts))
    province, city, district, street = parts
    return province, city, district, street
