"""Reading 千牛 order exports (订单报表 and 宝贝报表, CSV or xlsx) into clean order and line records."""

from __future__ import annotations

import codecs
import csv
import io
import operator
import zipfile
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Iterable, Iterator
from zoneinfo import ZoneInfo

from kefu.domain import order_status
from kefu.ingest.csv_chunks import CHUNK_BYTES, TextChunk, text_chunks
from kefu.ingest.cells import (
    CellError,
    LocalTimes,
    UtcText,
    clean,
    clean_header,
    parse_count,
    parse_fen,
    parse_flag,
    parse_id,
    parse_refund_fen,
    split_address,
)

ORDERS = "taobao_orders"
LINES = "taobao_lines"

# field -> header names seen across export versions (first present wins).
ORDER_COLUMNS: dict[str, tuple[str, ...]] = {
    "order_no": ("订单编号", "订单号", "主订单编号"),
    "buyer_nick": ("买家会员名", "买家昵称", "买家账号"),
    "goods_amount": ("买家应付货款",),
    "post_fee": ("买家应付邮费",),
    "total_amount": ("总金额",),
    "paid_amount": ("买家实际支付金额", "买家实付金额"),
    "status_text": ("订单状态",),
    "buyer_message": ("买家留言",),
    "receiver_name": ("收货人姓名",),
    "address": ("收货地址",),
    "shipping_method": ("运送方式",),
    "mobile": ("联系手机",),
    "phone": ("联系电话",),
    "created_at": ("订单创建时间",),
    "paid_at": ("订单付款时间",),
    "title_summary": ("宝贝标题", "商品标题"),
    "item_kinds": ("宝贝种类",),
    "waybill": ("物流单号", "运单号"),
    "carrier": ("物流公司", "快递公司"),
    "seller_memo": ("订单备注", "商家备注"),
    "item_count": ("宝贝总数量",),
    "close_reason": ("订单关闭原因",),
    "invoice_title": ("发票抬头", "开票信息"),
    "is_mobile": ("是否手机订单", "手机订单"),
    "refunded_amount": ("退款金额",),
    "finished_at": ("确认收货时间",),
    "shipped_at": ("发货时间",),
    "shop_name": ("店铺名称",),
}

LINE_COLUMNS: dict[str, tuple[str, ...]] = {
    "order_no": ("订单编号", "主订单编号"),
    "sub_order_no": ("子订单编号",),
    "title": ("标题", "商品标题", "宝贝标题"),
    "price": ("价格", "商品价格", "单价"),
    "quantity": ("购买数量", "数量"),
    "outer_id": ("商家编码", "外部系统编号", "商品编码"),
    "sku_properties": ("商品属性", "销售属性"),
    "status_text": ("订单状态",),
    "paid_amount": ("买家实付金额", "实付金额"),
    "refund_status": ("退款状态",),
    "refunded_amount": ("退款金额",),
    "item_id": ("商品ID", "宝贝ID"),
    "shipped_at": ("发货时间",),
}

# Personal data the desk has no purpose for (PIPL art. 6): never stored, not even as an extra attribute.
NOT_IMPORTED = frozenset({"买家支付宝账号", "买家身份证号", "支付交易号", "支付单号", "买家姓名", "买家手机号"})

_LINE_MARKERS = ({"子订单编号"}, {"主订单编号"}, {"标题", "价格", "购买数量"}, {"商品标题", "商品价格", "购买数量"})
_ORDER_MARKERS = ("买家会员名", "总金额", "买家实际支付金额", "买家实付金额", "订单创建时间", "买家应付货款")


class UnreadableExport(Exception):
    """A file that cannot be read as a 千牛 export at all (the message names the file and why)."""


@dataclass(slots=True)
class Rejection:
    line_no: int
    reason: str
    raw: str | None = None


@dataclass(slots=True)
class OrderRecord:
    line_no: int
    order_no: str
    buyer_nick: str | None
    status: str
    status_text: str | None
    close_reason: str | None
    created_at: UtcText | None  # UTC, as text: see kefu.ingest.cells.UtcText
    paid_at: UtcText | None
    shipped_at: UtcText | None
    finished_at: UtcText | None
    goods_amount: int | None  # fen
    post_fee: int | None
    total_amount: int | None
    paid_amount: int | None
    refunded_amount: int | None
    item_count: int | None
    title_summary: str | None
    buyer_message: str | None
    seller_memo: str | None
    receiver_name: str | None
    receiver_phone: str | None
    province: str | None
    city: str | None
    district: str | None
    street: str | None
    shipping_method: str | None
    invoice_title: str | None
    is_mobile: bool | None
    waybills: tuple[str, ...]
    carrier: str | None
    shop_name: str | None
    extra: dict[str, str] | None


@dataclass(slots=True)
class LineRecord:
    line_no: int
    order_no: str
    sub_order_no: str | None
    title: str
    sku_properties: str | None
    outer_id: str | None
    item_id: str | None
    price: int | None
    quantity: int
    paid_amount: int | None
    refund_status: str | None
    refunded_amount: int | None
    status: str | None
    status_text: str | None
    shipped_at: UtcText | None
    extra: dict[str, str] | None


@dataclass
class ExportLayout:
    """Which report a header row belongs to, and where each known field sits in it."""

    kind: str
    header: list[str]
    positions: dict[str, int]
    extras: list[tuple[int, str]] = field(default_factory=list)


def detect_layout(header_cells: list[str]) -> ExportLayout | None:
    """The report kind and column positions from a header row, or None when it is not a 千牛 header."""
    header = [clean_header(c) for c in header_cells]
    names = set(header)
    if any(marker <= names for marker in _LINE_MARKERS) and not ({"买家会员名", "总金额"} & names):
        kind, columns = LINES, LINE_COLUMNS
    elif ("订单编号" in names or "订单号" in names) and any(m in names for m in _ORDER_MARKERS):
        kind, columns = ORDERS, ORDER_COLUMNS
    else:
        return None
    positions: dict[str, int] = {}
    for name, aliases in columns.items():
        for alias in aliases:
            if alias in names:
                positions[name] = header.index(alias)
                break
    used = set(positions.values())
    extras = [(i, h) for i, h in enumerate(header) if i not in used and h and h not in NOT_IMPORTED]
    return ExportLayout(kind=kind, header=header, positions=positions, extras=extras)


def sniff_encoding(head: bytes) -> str:
    """utf-8-sig when the bytes are valid UTF-8 (BOM or not), else gb18030 (a superset of GBK)."""
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    decoder = codecs.getincrementaldecoder("utf-8")()
    try:
        decoder.decode(head, final=False)
        return "utf-8-sig"
    except UnicodeDecodeError:
        return "gb18030"


def _cleaned(raw: tuple[str, ...]) -> list[str]:
    """Every picked cell stripped; only the few with an Excel guard (`=` or `'` first) go through clean()."""
    return [clean(c) if c[:1] in _GUARDS else c for c in map(str.strip, raw)]


_GUARDS = frozenset({"=", "'"})


def _counting_errors(counter: list[int]) -> str:
    """A codec error handler that replaces bad bytes with U+FFFD and counts them (never silent)."""
    name = f"kefu-count-{id(counter)}"

    def handler(exc: UnicodeDecodeError) -> tuple[str, int]:
        counter[0] += 1
        return "\ufffd", exc.end

    codecs.register_error(name, handler)
    return name


def _is_xlsx(path: Path) -> bool:
    with open(path, "rb") as fh:
        return fh.read(4) == b"PK\x03\x04"


def _xlsx_cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, bool):
        return "是" if value else "否"
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 2**53:
            return str(int(value))
        return repr(value)
    return str(value)


class ExportFile:
    """One export file opened for streaming: its layout, then its rows as records or rejections."""

    def __init__(self, path: Path | str, *, display_name: str | None = None, timezone: str = "Asia/Shanghai"):
        self.path = Path(path)
        self.name = display_name or self.path.name
        self.zone = ZoneInfo(timezone)
        self.encoding: str | None = None
        self.warnings: list[str] = []
        self._replaced = [0]
        self._position = lambda: 0
        if not self.path.is_file():
            raise UnreadableExport(f"{self.name}: 找不到文件 / file not found")
        self.size = self.path.stat().st_size
        if self.size == 0:
            raise UnreadableExport(f"{self.name}: 文件是空的 / the file is empty")
        self._rows, self.layout, self.header_line = self._open()

    # -- opening ---------------------------------------------------------------------------------
    def _open(self) -> tuple[Iterator[tuple[int, list[str]]], ExportLayout, int]:
        rows = self._xlsx_rows() if _is_xlsx(self.path) else self._csv_rows()
        for _ in range(10):  # a title line or two may stand above the header
            try:
                line_no, cells = next(rows)
            except StopIteration:
                break
            except (UnicodeDecodeError, csv.Error) as exc:
                raise UnreadableExport(f"{self.name}: 无法按文本读取 / cannot be read as text ({exc})") from None
            layout = detect_layout(cells)
            if layout:
                return rows, layout, line_no
        raise UnreadableExport(
            f"{self.name}: 前几行没有找到千牛订单报表或宝贝报表的表头 / no 千牛 order report (订单报表) or line-item "
            "report (宝贝报表) header found in the first rows; expected columns such as 订单编号 with 买家会员名/总金额, "
            "or 标题/价格/购买数量"
        )

    def _csv_rows(self) -> Iterator[tuple[int, list[str]]]:
        with open(self.path, "rb") as fh:
            head = fh.read(1 << 20)
        self.encoding = sniff_encoding(head)
        fh = open(self.path, encoding=self.encoding, errors=_counting_errors(self._replaced), newline="")
        self._position = fh.buffer.tell
        try:
            reader = csv.reader(fh)
            for cells in reader:
                yield reader.line_num, cells
        finally:
            fh.close()

    def _xlsx_rows(self) -> Iterator[tuple[int, list[str]]]:
        import openpyxl

        try:
            book = openpyxl.load_workbook(self.path, read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise UnreadableExport(f"{self.name}: 不是可读的 xlsx 工作簿 / not a readable xlsx workbook ({exc})") from None
        self.encoding = "xlsx"
        try:
            sheet = book.worksheets[0]
            for index, values in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield index, [_xlsx_cell(v) for v in values]
        finally:
            book.close()

    # -- rows ------------------------------------------------------------------------------------
    def bytes_read(self) -> int:
        """How far into the file the reader is (approximate for CSV; 0 for xlsx)."""
        try:
            return self._position()
        except ValueError:  # file already closed
            return self.size

    @property
    def kind(self) -> str:
        return self.layout.kind

    def __iter__(self) -> Iterator[OrderRecord | LineRecord | Rejection]:
        yield from self.records(self._rows)
        self.note_replaced_bytes()

    def _prepare(self) -> None:
        if self.kind == ORDERS:
            self._parse, self._pick = self._order_record, self._picker(ORDER_COLUMNS)
        else:
            self._parse, self._pick = self._line_record, self._picker(LINE_COLUMNS)
        self._times = LocalTimes(self.zone)

    def records(self, rows: Iterator[tuple[int, list[str]]]) -> Iterator[OrderRecord | LineRecord | Rejection]:
        """Records (or rejections naming the line) for numbered rows of cells after the header."""
        self._prepare()
        width = len(self.layout.header)
        while True:
            try:
                line_no, cells = next(rows)
            except StopIteration:
                break
            except csv.Error as exc:
                yield Rejection(0, f"第 {self.header_line} 行之后的 CSV 无法解析 / unreadable CSV after line {self.header_line}: {exc}")
                break
            if len(cells) != width:
                if not any(c.strip() for c in cells):
                    continue  # blank line
                if len(cells) > width and not any(c.strip() for c in cells[width:]):
                    cells = cells[:width]
                elif len(cells) < width and self.encoding == "xlsx":
                    cells = cells + [""] * (width - len(cells))
                else:
                    yield Rejection(
                        line_no,
                        f"列数不对：应为 {width} 列，实际 {len(cells)} 列 / wrong column count: expected {width}, found {len(cells)} "
                        "(an unquoted comma or a cut line?)",
                        ",".join(cells),
                    )
                    continue
            yield self._record(line_no, cells)

    def _record(self, line_no: int, cells: list[str]) -> OrderRecord | LineRecord | Rejection:
        try:
            return self._parse(line_no, cells)
        except CellError as exc:
            return Rejection(line_no, str(exc), ",".join(cells))

    def record(self, line_no: int, cells: list[str]) -> OrderRecord | LineRecord | Rejection:
        """One row of exactly the header's width read by the record parser (the reference for every quirk)."""
        if not hasattr(self, "_parse"):
            self._prepare()
        return self._record(line_no, cells)

    @property
    def replaced_bytes(self) -> int:
        """How many undecodable byte sequences this reader has kept as U+FFFD so far."""
        return self._replaced[0]

    def replaced_warning(self, count: int) -> str | None:
        """The warning for `count` undecodable byte sequences in the file, or None when there were none."""
        if not count:
            return None
        return f"{self.name}: {count} byte sequences are not valid {self.encoding}; they were kept as �"

    def note_replaced_bytes(self) -> None:
        """Say how many undecodable byte sequences were kept as U+FFFD, once the whole file has been read."""
        warning = self.replaced_warning(self._replaced[0])
        if warning:
            self.warnings.append(warning)

    def text_chunks(self, chunk_bytes: int = CHUNK_BYTES, *, start: int = 0,
                    stop: int | None = None) -> Iterator[TextChunk]:
        """The CSV after its header, decoded in record-aligned chunks (the columnar reader's input); from byte
        `start` (> 0: a later part of the file, lines counted from 1 there) and up to a boundary at `stop` if one
        is there (csv_chunks.text_chunks)."""
        if self._rows is not None:
            self._rows.close()  # the opening reader stops at the header; the chunks start afresh after it
        self._replaced[0] = 0  # what the opening reader decoded ahead is decoded again, and counted once
        errors = _counting_errors(self._replaced)
        encoding = self.encoding or "utf-8-sig"
        if start:  # mid-file: a U+FEFF there is text, not a byte-order mark
            encoding = "utf-8" if encoding == "utf-8-sig" else encoding
        return text_chunks(self.path, encoding, errors, skip=0 if start else self.header_line,
                           chunk_bytes=chunk_bytes, start=start, stop=stop)

    @staticmethod
    def csv_rows(texts: Iterable[str], first_line: int) -> Iterator[tuple[int, list[str]]]:
        """Numbered csv.reader rows of consecutive text chunks whose first line is `first_line`."""
        lines = (line for text in texts for line in io.StringIO(text, newline=""))
        reader = csv.reader(lines)
        for cells in reader:
            yield first_line - 1 + reader.line_num, cells

    def _extra(self, cells: list[str]) -> dict[str, str] | None:
        extra = None
        for index, name in self.layout.extras:
            value = cells[index].strip()
            if value[:1] in _GUARDS:
                value = clean(value)
            if value and value not in ("0", "0.00"):
                if extra is None:
                    extra = {}
                extra[name] = value
        return extra

    def _picker(self, columns: dict[str, tuple[str, ...]]):
        """One C-level call that picks every known field's raw cell (missing fields read the empty cell at the end)."""
        width = len(self.layout.header)
        return operator.itemgetter(*[self.layout.positions.get(name, width) for name in columns])

    def _order_record(self, line_no: int, cells: list[str]) -> OrderRecord:
        cells.append("")
        (order_no, buyer_nick, goods_amount, post_fee, total_amount, paid_amount, status_text, buyer_message,
         receiver_name, address, shipping_method, mobile, phone, created_at, paid_at, title_summary, _kinds, waybill,
         carrier, seller_memo, item_count, close_reason, invoice_title, is_mobile, refunded_amount, finished_at,
         shipped_at, shop_name) = _cleaned(self._pick(cells))
        order_no = parse_id(order_no, "订单编号")
        if not order_no:
            raise CellError("订单编号为空，无法保存 / 订单编号 is empty: a row without an order number cannot be stored")
        times = self._times
        if close_reason == "订单未关闭":
            close_reason = ""
        paid = parse_fen(paid_amount, "买家实际支付金额")
        paid_time = times.utc(paid_at, "订单付款时间")
        status = order_status.from_export_wording(status_text, close_reason, paid=None if paid_time else False)
        refunded = parse_refund_fen(refunded_amount, "退款金额")
        if status == order_status.TRADE_CLOSED and not refunded:
            refunded = paid  # closed after payment means the refund succeeded in full
        province, city, district, street = split_address(address)
        if waybill:
            waybills = tuple(w for w in waybill.replace("，", ",").replace(";", ",").replace(" ", ",").split(",") if w)
        else:
            waybills = ()
        return OrderRecord(
            line_no=line_no,
            order_no=order_no,
            buyer_nick=buyer_nick or None,
            status=status,
            status_text=status_text or None,
            close_reason=close_reason or None,
            created_at=times.utc(created_at, "订单创建时间"),
            paid_at=paid_time,
            shipped_at=times.utc(shipped_at, "发货时间"),
            finished_at=times.utc(finished_at, "确认收货时间"),
            goods_amount=parse_fen(goods_amount, "买家应付货款"),
            post_fee=parse_fen(post_fee, "买家应付邮费"),
            total_amount=parse_fen(total_amount, "总金额"),
            paid_amount=paid,
            refunded_amount=refunded,
            item_count=parse_count(item_count, "宝贝总数量"),
            title_summary=title_summary or None,
            buyer_message=buyer_message or None,
            seller_memo=seller_memo or None,
            receiver_name=receiver_name or None,
            receiver_phone=parse_id(mobile or phone, "联系手机") or None,
            province=province,
            city=city,
            district=district,
            street=street,
            shipping_method=shipping_method or None,
            invoice_title=invoice_title or None,
            is_mobile=parse_flag(is_mobile),
            waybills=waybills,
            carrier=carrier or None,
            shop_name=shop_name or None,
            extra=self._extra(cells) if self.layout.extras else None,
        )

    def _line_record(self, line_no: int, cells: list[str]) -> LineRecord:
        cells.append("")
        (order_no, sub_order_no, title, price, quantity, outer_id, sku_properties, status_text, paid_amount,
         refund_status, refunded_amount, item_id, shipped_at) = _cleaned(self._pick(cells))
        order_no = parse_id(order_no, "订单编号")
        if not order_no:
            raise CellError("订单编号为空，无法保存 / 订单编号 is empty: a line without an order number cannot be stored")
        if not title:
            raise CellError("标题为空 / 标题 is empty: a line needs the item title")
        count = parse_count(quantity, "购买数量")
        return LineRecord(
            line_no=line_no,
            order_no=order_no,
            sub_order_no=parse_id(sub_order_no, "子订单编号") or None,
            title=title,
            sku_properties=sku_properties.strip('"') or None,
            outer_id=outer_id or None,
            item_id=parse_id(item_id, "商品ID") or None,
            price=parse_fen(price, "价格"),
            quantity=1 if count is None else count,
            paid_amount=parse_fen(paid_amount, "买家实付金额"),
            refund_status=refund_status or None,
            refunded_amount=parse_refund_fen(refunded_amount, "退款金额"),
            status=order_status.from_export_wording(status_text) if status_text else None,
            status_text=status_text or None,
            shipped_at=self._times.utc(shipped_at, "发货时间"),
            extra=self._extra(cells) if self.layout.extras else None,
        )


def open_export(path: Path | str, *, display_name: str | None = None, timezone: str = "Asia/Shanghai") -> ExportFile:
    """Open an export for streaming; raises UnreadableExport naming the file when it cannot be read at all."""
    return ExportFile(path, display_name=display_name, timezone=timezone)


__all__ = ["ExportFile", "LineRecord", "OrderRecord", "Rejection", "UnreadableExport", "open_export", "ORDERS", "LINES"]
