"""Reading a stock file (CSV or xlsx, one row per SKU): codes, properties, stock on hand, units in transit, the
restock date and the supplier's lead time, columns found by name."""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

from kefu.ingest.cells import CellError, clean, clean_header, parse_count, parse_id
from kefu.ingest.product_catalog import decode_catalog, normalise_properties, properties_of

# field -> header names accepted (as sellers and ERP exports write them, English for hand-made files).
STOCK_COLUMNS: dict[str, tuple[str, ...]] = {
    "sku_outer_id": ("SKU编码", "SKU商家编码", "sku编码", "规格编码", "sku_outer_id"),
    "outer_id": ("商家编码", "商品编码", "货号", "outer_id"),
    "properties": ("属性", "SKU属性", "销售属性", "规格", "properties", "sku_properties"),
    "color": ("颜色分类", "颜色", "color"),
    "size": ("尺码", "尺寸", "size"),
    "stock": ("库存", "可用库存", "实际库存", "库存数量", "stock"),
    "incoming": ("在途", "在途库存", "在途数量", "incoming"),
    "restock_date": ("补货日期", "到货日期", "预计到货", "预计到货日期", "restock_date"),
    "lead_time_days": ("供应商交期", "交期", "交期(天)", "交期（天）", "lead_time_days", "lead_time"),
}
IDENTITY_FIELDS = ("sku_outer_id", "outer_id")
VALUE_FIELDS = ("stock", "incoming", "restock_date", "lead_time_days")
MAX_LEAD_DAYS = 365


class UnreadableStockFile(Exception):
    """A file that cannot be read as a stock file at all (the message names the file and why)."""


@dataclass(frozen=True)
class StockRejection:
    line_no: int
    reason: str
    raw: str | None = None


@dataclass(frozen=True)
class StockRow:
    """One SKU's stock as the file states it; None means the file says nothing about that value."""

    line_no: int
    outer_id: str | None
    sku_outer_id: str | None
    properties: str | None
    stock: int | None
    incoming: int | None
    restock_date: date | None
    lead_time_days: int | None


_DATE = re.compile(r"^(\d{4})\s*[-/.年]\s*(\d{1,2})\s*[-/.月]\s*(\d{1,2})\s*日?(?:\s+\d{1,2}:\d{2}(?::\d{2})?)?$")
_DAYS = re.compile(r"^(\d{1,3})\s*(?:天|日|days?|d)?$", re.IGNORECASE)


def parse_date(text: str, field: str) -> date | None:
    """2026-12-05, 2026/12/5, 2026.12.05, 2026年12月5日 (a time after it is ignored), or an Excel serial day."""
    if not text:
        return None
    if match := _DATE.match(text):
        try:
            return date(int(match.group(1)), int(match.group(2)), int(match.group(3)))
        except ValueError:
            pass
    elif text.isdigit() and 20000 < int(text) < 80000:
        return (datetime(1899, 12, 30) + timedelta(days=int(text))).date()
    raise CellError(f"{field} '{text}' 不是日期 / is not a date (2026-12-05)")


def parse_days(text: str, field: str) -> int | None:
    """7, 7天, 7 days."""
    if not text:
        return None
    match = _DAYS.match(text.replace(".0", "") if text.endswith(".0") else text)
    if not match or int(match.group(1)) > MAX_LEAD_DAYS:
        raise CellError(f"{field} '{text}' 不是天数 / is not a number of days (0–{MAX_LEAD_DAYS})")
    return int(match.group(1))


def _count(text: str, field: str) -> int | None:
    if text.startswith("-") and text[1:].replace(".", "", 1).isdigit():
        raise CellError(f"{field} '{text}' 是负数 / is negative")
    return parse_count(text, field)


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date().isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    return str(value)


class StockFile:
    """A stock file opened for reading: its header, then its rows as StockRow or StockRejection."""

    def __init__(self, path: Path | str, *, display_name: str | None = None):
        self.path = Path(path)
        self.name = display_name or self.path.name
        if not self.path.exists():
            raise UnreadableStockFile(f"{self.name}: file not found")
        data = self.path.read_bytes()
        if not data.strip():
            raise UnreadableStockFile(f"{self.name}: the file is empty")
        self.is_xlsx = data[:4] == b"PK\x03\x04"
        self._rows = self._xlsx_rows(data) if self.is_xlsx else self._csv_rows(data)
        self.header, self.positions = self._find_header()

    def _csv_rows(self, data: bytes) -> Iterator[tuple[int, list[str]]]:
        try:
            text = decode_catalog(data, self.name)
        except Exception as exc:
            raise UnreadableStockFile(str(exc)) from None
        reader = csv.reader(io.StringIO(text, newline=""))
        try:
            for cells in reader:
                yield reader.line_num, cells
        except csv.Error as exc:
            raise UnreadableStockFile(f"{self.name}:{reader.line_num}: unreadable CSV ({exc})") from None

    def _xlsx_rows(self, data: bytes) -> Iterator[tuple[int, list[str]]]:
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise UnreadableStockFile(f"{self.name}: not a readable xlsx workbook ({exc})") from None
        try:
            for index, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
                yield index, [_xlsx_text(v) for v in values]
        finally:
            book.close()

    def _find_header(self) -> tuple[list[str], dict[str, int]]:
        for _ in range(10):  # a title line or two may stand above the header
            try:
                _line_no, cells = next(self._rows)
            except StopIteration:
                break
            header = [clean_header(c) for c in cells]
            folded = [h.lower() for h in header]
            positions = {}
            for name, aliases in STOCK_COLUMNS.items():
                for alias in aliases:
                    if alias.lower() in folded:
                        positions[name] = folded.index(alias.lower())
                        break
            if any(f in positions for f in IDENTITY_FIELDS) and any(f in positions for f in VALUE_FIELDS):
                return header, positions
        raise UnreadableStockFile(
            f"{self.name}: no stock header found in the first rows; expected 商家编码 or SKU编码 and at least one of "
            "库存, 在途, 补货日期, 供应商交期 (also 属性 or 颜色分类/尺码)")

    def label(self, field: str) -> str:
        return self.header[self.positions[field]]

    def __iter__(self) -> Iterator[StockRow | StockRejection]:
        width = len(self.header)
        for line_no, cells in self._rows:
            if not any(c.strip() for c in cells):
                continue
            if len(cells) < width:
                cells = cells + [""] * (width - len(cells))
            elif len(cells) > width and any(c.strip() for c in cells[width:]):
                yield StockRejection(line_no, f"wrong column count: expected {width}, found {len(cells)}", ",".join(cells))
                continue
            try:
                yield self._row(line_no, cells)
            except CellError as exc:
                yield StockRejection(line_no, str(exc), ",".join(cells))

    def _row(self, line_no: int, cells: list[str]) -> StockRow:
        def cell(name: str) -> str:
            index = self.positions.get(name)
            return clean(cells[index]) if index is not None else ""

        outer_id = parse_id(cell("outer_id"), self.label("outer_id")) if "outer_id" in self.positions else ""
        sku_outer_id = cell("sku_outer_id")
        if not (outer_id or sku_outer_id):
            raise CellError("商家编码/SKU编码 both empty: the row names no SKU")
        properties = cell("properties")
        properties = normalise_properties(properties) if properties else properties_of(cell("color"), cell("size"))
        values = {name: cell(name) for name in VALUE_FIELDS}
        if not any(values.values()):
            raise CellError("库存/在途/补货日期/供应商交期 all empty: nothing to update")
        return StockRow(
            line_no=line_no, outer_id=outer_id or None, sku_outer_id=sku_outer_id or None,
            properties=properties if ("properties" in self.positions or "color" in self.positions
                                      or "size" in self.positions) else None,
            stock=_count(values["stock"], self.label("stock")) if values["stock"] else None,
            incoming=_count(values["incoming"], self.label("incoming")) if values["incoming"] else None,
            restock_date=parse_date(values["restock_date"], self.label("restock_date")) if values["restock_date"] else None,
            lead_time_days=parse_days(values["lead_time_days"], self.label("lead_time_days")) if values["lead_time_days"] else None,
        )


def open_stock_file(path: Path | str, *, display_name: str | None = None) -> StockFile:
    """Open a stock file; raises UnreadableStockFile naming the file when it cannot be read at all."""
    return StockFile(path, display_name=display_name)
