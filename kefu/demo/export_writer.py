"""Writing 千牛-format export files (订单报表 CSV, 宝贝报表 CSV/xlsx, 商品目录 CSV) row by row, quirks included."""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import IO, Literal

BEIJING = timezone(timedelta(hours=8), "Asia/Shanghai")  # China keeps no summer time: a fixed offset is exact

# The legacy 订单报表 header, trailing spaces and all, exactly as 千牛 printed it.
ORDER_REPORT_HEADER: tuple[str, ...] = (
    "订单编号", "买家会员名", "买家支付宝账号", "买家应付货款", "买家应付邮费", "买家支付积分", "总金额", "返点积分",
    "买家实际支付金额", "买家实际支付积分", "订单状态", "买家留言", "收货人姓名", "收货地址 ", "运送方式", "联系电话 ",
    "联系手机", "订单创建时间", "订单付款时间 ", "宝贝标题 ", "宝贝种类", "物流单号 ", "物流公司", "订单备注", "宝贝总数量",
    "店铺Id", "店铺名称", "订单关闭原因", "卖家服务费", "买家服务费", "发票抬头", "是否手机订单", "退款金额", "确认收货时间",
    "发货时间",
)
LEGACY_LINE_HEADER: tuple[str, ...] = (
    "订单编号", "标题", "价格", "购买数量", "外部系统编号", "商品属性", "套餐信息", "备注", "订单状态", "商家编码",
)
NEW_LINE_HEADER: tuple[str, ...] = (
    "子订单编号", "主订单编号", "商品标题", "商品价格", "购买数量", "商品属性", "订单状态", "买家实付金额", "退款状态",
    "退款金额", "商品ID", "发货时间",
)
CATALOG_HEADER: tuple[str, ...] = ("商品ID", "商家编码", "宝贝标题", "类目", "价格", "颜色分类", "尺码", "SKU编码", "库存")

# The export's own wording.
NOT_CLOSED = "订单未关闭"
NO_REFUND = "没有申请退款"
REFUNDED = "退款成功"
NO_REFUND_AMOUNT = "无退款申请"
MOBILE_ORDER = "手机订单"
TITLE_JOIN = "，"

LineLayout = Literal["legacy", "new"]
ZERO = Decimal("0.00")


@dataclass(slots=True)
class OrderRow:
    """One row of the 订单报表. Times are aware, or naive Beijing time; phones are bare digits."""

    order_no: str
    buyer_nick: str
    goods_amount: Decimal  # 买家应付货款
    post_fee: Decimal  # 买家应付邮费
    total_amount: Decimal  # 总金额
    paid_amount: Decimal  # 买家实际支付金额
    status_text: str  # 订单状态, e.g. 买家已付款，等待卖家发货
    created_at: datetime
    titles: Sequence[str]  # one per line; written joined with `，`
    item_count: int  # 宝贝总数量
    paid_at: datetime | None = None
    shipped_at: datetime | None = None
    finished_at: datetime | None = None  # 确认收货时间
    close_reason: str = NOT_CLOSED
    buyer_message: str = ""
    seller_memo: str = ""
    receiver_name: str = ""  # masked as exports show it: 张*
    receiver_address: str = ""  # 省 市 区 街道, street masked: 浙江省 杭州市 西湖区 文三路***号
    mobile: str = ""
    phone: str = ""
    waybill_no: str = ""
    carrier: str = ""
    refunded_amount: Decimal = ZERO
    alipay_account: str = ""  # blank or masked like 138****0001
    shipping_method: str = "快递"
    invoice_title: str = ""
    is_mobile: bool = True
    shop_id: str = ""
    shop_name: str = ""
    item_kinds: int | None = None  # 宝贝种类; defaults to the number of titles


@dataclass(slots=True)
class LineRow:
    """One row of the 宝贝报表 (legacy or newer layout)."""

    order_no: str
    title: str
    price: Decimal  # unit price
    quantity: int
    status_text: str
    properties: str = ""  # 颜色分类：白色;尺码：XL
    outer_id: str = ""  # 商家编码 of the product
    outer_sku_id: str = ""  # 外部系统编号
    sub_order_no: str = ""
    item_id: str = ""  # 商品ID
    paid_amount: Decimal | None = None  # 买家实付金额 of this line
    refund_status: str = NO_REFUND
    refunded_amount: Decimal | None = None  # None is written as 无退款申请 in the newer layout
    shipped_at: datetime | None = None
    package_info: str = ""  # 套餐信息
    remark: str = ""  # 备注


@dataclass(frozen=True, slots=True)
class CatalogRow:
    """One SKU row of a product catalogue file."""

    item_id: str
    outer_id: str
    title: str
    category: str
    price: Decimal
    color: str
    size: str
    sku_outer_id: str
    stock: int


# -- cell formatting ---------------------------------------------------------------------------------

def beijing_time(moment: datetime | None) -> str:
    """`yyyy-MM-dd HH:mm:ss` in Beijing time; naive datetimes are taken to be Beijing time already."""
    if moment is None:
        return ""
    if moment.tzinfo is not None:
        moment = moment.astimezone(BEIJING).replace(tzinfo=None)
    return _naive_time(moment)


_money_texts: dict[Decimal, str] = {}
_day_texts: dict[int, str] = {}
_clock_texts: list[str] = []


def money(amount: Decimal | None) -> str:
    """`59.00`: two decimals, as exports print yuan (formatted once per distinct amount; exports repeat prices)."""
    if amount is None:
        return ""
    text = _money_texts.get(amount)
    if text is None:
        if len(_money_texts) > 200_000:
            _money_texts.clear()
        text = _money_texts[amount] = f"{amount:.2f}"
    return text


def _naive_time(moment: datetime) -> str:
    """`yyyy-MM-dd HH:mm:ss` from cached day and clock texts: isoformat is slow for a million rows."""
    if not _clock_texts:
        _clock_texts.extend(f"{h:02d}:{m:02d}:{s:02d}" for h in range(24) for m in range(60) for s in range(60))
    ordinal = moment.toordinal()
    day = _day_texts.get(ordinal)
    if day is None:
        day = _day_texts[ordinal] = moment.date().isoformat()
    return day + " " + _clock_texts[moment.hour * 3600 + moment.minute * 60 + moment.second]


def _needs_quotes(text: str) -> bool:
    """A comma, quote or line break inside (plain `in` checks beat a regex on CJK text)."""
    return "," in text or '"' in text or "\n" in text or "\r" in text


def _csv_text(text: str) -> str:
    """A text cell, quoted only when it has to be (comma, quote or line break inside)."""
    if _needs_quotes(text):
        return '"' + text.replace('"', '""') + '"'
    return text


def _excel_text(text: str) -> str:
    """The `="…"` guard 千牛 puts around long numbers and titles so Excel keeps them as text."""
    if not text:
        return ""
    if _needs_quotes(text):
        return '"=""' + text.replace('"', '""') + '"""'
    return '="' + text + '"'


def _apostrophe(phone: str) -> str:
    """Phones carry a leading `'` in the export, another Excel text guard."""
    return "'" + _csv_text(phone) if phone else ""


def _time(moment: datetime | None) -> str:
    if moment is None:
        return ""
    if moment.tzinfo is None:
        return _naive_time(moment)
    return beijing_time(moment)


def order_report_line(row: OrderRow) -> str:
    """The order row as one CSV line of ORDER_REPORT_HEADER (no line ending), quirks and quoting applied."""
    titles = TITLE_JOIN.join(row.titles)
    texts = (row.buyer_nick, row.alipay_account, row.status_text, row.buyer_message, row.receiver_name,
             row.receiver_address, row.shipping_method, row.carrier, row.seller_memo, row.shop_id, row.shop_name,
             row.close_reason, row.invoice_title)
    # One search over all text cells: when none needs quoting (nearly always), skip quoting cell by cell.
    q, m = (_csv_text if _needs_quotes("".join(texts)) else str), money
    kinds = len(row.titles) if row.item_kinds is None else row.item_kinds
    return (
        f"{_excel_text(row.order_no)},{q(row.buyer_nick)},{q(row.alipay_account)},{m(row.goods_amount)},"
        f"{m(row.post_fee)},0,{m(row.total_amount)},0,{m(row.paid_amount)},0,{q(row.status_text)},"
        f"{q(row.buyer_message)},{q(row.receiver_name)},{q(row.receiver_address)},{q(row.shipping_method)},"
        f"{_apostrophe(row.phone)},{_apostrophe(row.mobile)},{_time(row.created_at)},{_time(row.paid_at)},"
        f"{_excel_text(titles)},{kinds},{_excel_text(row.waybill_no)},{q(row.carrier)},"
        f"{q(row.seller_memo)},{row.item_count},{q(row.shop_id)},{q(row.shop_name)},{q(row.close_reason)},0.00,0.00,"
        f"{q(row.invoice_title)},{MOBILE_ORDER if row.is_mobile else ''},{m(row.refunded_amount)},"
        f"{_time(row.finished_at)},{_time(row.shipped_at)}"
    )


def legacy_line_line(row: LineRow) -> str:
    """The line row as one CSV line of LEGACY_LINE_HEADER (no line ending)."""
    texts = (row.title, row.outer_sku_id, row.properties, row.package_info, row.remark, row.status_text, row.outer_id)
    q, m = (_csv_text if _needs_quotes("".join(texts)) else str), money
    return (
        f"{_excel_text(row.order_no)},{q(row.title)},{m(row.price)},{row.quantity},{q(row.outer_sku_id)},"
        f"{q(row.properties)},{q(row.package_info)},{q(row.remark)},{q(row.status_text)},{q(row.outer_id)}"
    )


def new_line_values(row: LineRow) -> list[str]:
    """The newer layout's cells as plain text (xlsx writes them as they are; CSV quotes them)."""
    return [
        row.sub_order_no or row.order_no,
        row.order_no,
        row.title,
        money(row.price),
        str(row.quantity),
        row.properties,
        row.status_text,
        money(row.paid_amount),
        row.refund_status,
        NO_REFUND_AMOUNT if row.refunded_amount is None else money(row.refunded_amount),
        row.item_id,
        beijing_time(row.shipped_at),
    ]


def new_line_line(row: LineRow) -> str:
    """The line row as one CSV line of NEW_LINE_HEADER (no line ending)."""
    values = new_line_values(row)
    return ",".join([_excel_text(values[0]), _excel_text(values[1]), *(_csv_text(v) for v in values[2:])])


# -- streaming writers -------------------------------------------------------------------------------

class _CsvReport:
    """A CSV file written line by line in the export's encoding, with CRLF endings, in buffered chunks."""

    CHUNK = 512

    def __init__(self, path: Path | str, header: Sequence[str], *, encoding: str):
        self.path = Path(path)
        self._file: IO[str] = open(self.path, "w", encoding=encoding, newline="", buffering=1 << 20)
        self._pending: list[str] = []
        self.rows = 0
        self._file.write(",".join(_csv_text(h) for h in header) + "\r\n")

    def _write_line(self, line: str) -> None:
        self._pending.append(line)
        self.rows += 1
        if len(self._pending) >= self.CHUNK:
            self._flush()

    def _flush(self) -> None:
        if self._pending:
            self._file.write("\r\n".join(self._pending) + "\r\n")
            self._pending = []

    def close(self) -> None:
        if not self._file.closed:
            try:
                self._flush()
            finally:
                self._file.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()


class OrderReportWriter(_CsvReport):
    """The 订单报表 as a streaming CSV (GBK by default, as 千牛 wrote it)."""

    def __init__(self, path: Path | str, *, encoding: str = "gbk"):
        super().__init__(path, ORDER_REPORT_HEADER, encoding=encoding)

    def write(self, row: OrderRow) -> None:
        self._write_line(order_report_line(row))


class LineReportWriter(_CsvReport):
    """The 宝贝报表 as a streaming CSV, legacy or newer layout."""

    def __init__(self, path: Path | str, *, layout: LineLayout = "legacy", encoding: str = "gbk"):
        if layout not in ("legacy", "new"):
            raise ValueError(f"unknown line-report layout {layout!r}: use 'legacy' or 'new'")
        super().__init__(path, LEGACY_LINE_HEADER if layout == "legacy" else NEW_LINE_HEADER, encoding=encoding)
        self._line = legacy_line_line if layout == "legacy" else new_line_line

    def write(self, row: LineRow) -> None:
        self._write_line(self._line(row))


def write_order_report_csv(path: Path | str, orders_iter: Iterable[OrderRow], *, encoding: str = "gbk") -> int:
    """Write a 订单报表 CSV from a stream of order rows; returns how many rows were written."""
    with OrderReportWriter(path, encoding=encoding) as writer:
        for row in orders_iter:
            writer.write(row)
        return writer.rows


def write_line_report_csv(
    path: Path | str, lines_iter: Iterable[LineRow], *, layout: LineLayout = "legacy", encoding: str = "gbk"
) -> int:
    """Write a 宝贝报表 CSV (legacy or newer layout) from a stream of line rows; returns the row count."""
    with LineReportWriter(path, layout=layout, encoding=encoding) as writer:
        for row in lines_iter:
            writer.write(row)
        return writer.rows


def write_line_report_xlsx(path: Path | str, lines_iter: Iterable[LineRow]) -> int:
    """Write a newer-layout 宝贝报表 xlsx (openpyxl write-only mode, every cell text); returns the row count."""
    from openpyxl import Workbook

    book = Workbook(write_only=True)
    sheet = book.create_sheet("Sheet1")
    sheet.append(list(NEW_LINE_HEADER))
    rows = 0
    for row in lines_iter:
        sheet.append(new_line_values(row))
        rows += 1
    book.save(Path(path))
    return rows


def write_catalog_csv(path: Path | str, rows: Iterable[CatalogRow], *, encoding: str = "utf-8-sig") -> int:
    """Write a product catalogue (one row per SKU, headers as CATALOG_HEADER); returns the row count."""
    with _CsvReport(path, CATALOG_HEADER, encoding=encoding) as writer:
        for row in rows:
            writer._write_line(",".join([
                _excel_text(row.item_id), _csv_text(row.outer_id), _csv_text(row.title), _csv_text(row.category),
                money(row.price), _csv_text(row.color), _csv_text(row.size), _csv_text(row.sku_outer_id),
                str(row.stock),
            ]))
        return writer.rows


# -- file names --------------------------------------------------------------------------------------

def order_report_name(at: datetime, suffix: str = ".csv") -> str:
    """ExportOrderList<yyyyMMddHHmm>.csv, the name 千牛 gives the 订单报表."""
    return f"ExportOrderList{at:%Y%m%d%H%M}{suffix}"


def line_report_name(at: datetime, suffix: str = ".csv") -> str:
    """ExportOrderDetailList<yyyyMMddHHmm>.csv (or .xlsx), the name 千牛 gives the 宝贝报表."""
    return f"ExportOrderDetailList{at:%Y%m%d%H%M}{suffix}"


# -- benchmark exports -------------------------------------------------------------------------------

def bench_orders(n_orders: int, seed: int) -> Iterator[tuple[OrderRow, list[LineRow]]]:
    """A fast stream of plausible (order, lines) pairs for benchmarks; see kefu.demo.generator.bench_orders."""
    from kefu.demo.generator import bench_orders as generate

    return generate(n_orders, seed)


def write_bench_exports(out_dir: Path | str, n_orders: int, seed: int = 1) -> tuple[Path, Path]:
    """Write a legacy 订单报表 and 宝贝报表 (GBK CSV) of n_orders orders, streaming; returns (orders, lines) paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    stamp = datetime(2025, 12, 31, 23, 59)
    orders_path = out / order_report_name(stamp)
    lines_path = out / line_report_name(stamp)
    with OrderReportWriter(orders_path) as orders, LineReportWriter(lines_path, layout="legacy") as lines:
        for order, order_lines in bench_orders(n_orders, seed):
            orders.write(order)
            for line in order_lines:
                lines.write(line)
    return orders_path, lines_path
