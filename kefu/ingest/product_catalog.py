"""Reading a product catalogue (CSV or xlsx, one row per SKU, Chinese or English headers) into clean SKU records."""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from kefu.ingest.cells import CellError, clean, clean_header, parse_count, parse_fen, parse_id
from kefu.store.types import from_fen

# field -> header names accepted (Chinese as sellers write them, English for hand-made files).
CATALOG_COLUMNS: dict[str, tuple[str, ...]] = {
    "item_id": ("商品ID", "宝贝ID", "商品id", "item_id", "num_iid"),
    "outer_id": ("商家编码", "商品编码", "outer_id"),
    "title": ("宝贝标题", "商品标题", "标题", "title"),
    "category": ("类目", "商品类目", "category"),
    "price": ("价格", "销售价", "一口价", "price"),
    "color": ("颜色分类", "颜色", "color"),
    "size": ("尺码", "尺寸", "size"),
    "sku_properties": ("SKU属性", "销售属性", "商品属性", "sku_properties"),
    "sku_outer_id": ("SKU编码", "SKU商家编码", "sku_outer_id"),
    "stock": ("库存", "数量", "stock", "quantity"),
}
IDENTITY_FIELDS = ("item_id", "outer_id", "title")

# Column widths of the schema: longer values are refused with a clear reason instead of failing the whole file.
LIMITS = {"item_id": 40, "outer_id": 80, "title": 200, "category": 80, "sku_outer_id": 80, "properties": 300}


class UnreadableCatalog(Exception):
    """A file that cannot be read as a product catalogue at all (the message names the file and why)."""


@dataclass(slots=True)
class CatalogRejection:
    line_no: int
    reason: str
    raw: str | None = None


@dataclass(slots=True)
class CatalogItem:
    """One SKU row: the product it belongs to, and the SKU's properties, price and stock."""

    line_no: int
    item_id: str | None
    outer_id: str | None
    title: str | None
    category: str | None
    price: Decimal | None
    properties: str  # 颜色分类：白色;尺码：XL, or "" for a product without variants
    sku_outer_id: str | None
    stock: int | None


def decode_catalog(data: bytes, name: str) -> str:
    """The file's text: UTF-8 (with or without BOM) first, then GB18030 (a superset of GBK)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableCatalog(f"{name}: neither UTF-8 nor GBK/GB18030 text; save it as CSV (UTF-8) or xlsx")


def normalise_properties(text: str) -> str:
    """`颜色分类:白色; 尺码:XL` → `颜色分类：白色;尺码：XL`, the way 千牛 line reports write SKU properties."""
    text = text.strip().strip('"').replace("；", ";")
    pairs = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, colon, value = part.replace(":", "：").partition("：")
        pairs.append(f"{name.strip()}：{value.strip()}" if colon else part)
    return ";".join(pairs)


def properties_of(color: str, size: str) -> str:
    parts = []
    if color:
        parts.append(f"颜色分类：{color}")
    if size:
        parts.append(f"尺码：{size}")
    return ";".join(parts)


@dataclass
class CatalogLayout:
    header: list[str]
    positions: dict[str, int]

    def name_of(self, field: str) -> str:
        """The header as the file prints it, for messages."""
        return self.header[self.positions[field]]


def detect_catalog_layout(cells: list[str]) -> CatalogLayout | None:
    """Column positions from a header row, or None when the row is not a catalogue header."""
    header = [clean_header(c) for c in cells]
    folded = [h.lower() for h in header]
    positions: dict[str, int] = {}
    for name, aliases in CATALOG_COLUMNS.items():
        for alias in aliases:
            if alias.lower() in folded:
                positions[name] = folded.index(alias.lower())
                break
    if not any(f in positions for f in IDENTITY_FIELDS) or len(positions) < 2:
        return None
    return CatalogLayout(header=header, positions=positions)


def _xlsx_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    if isinstance(value, datetime):
        return value.isoformat(" ")
    return str(value)


class CatalogFile:
    """A catalogue file opened for reading: its layout, then its rows as items or rejections."""

    def __init__(self, path: Path | str, *, display_name: str | None = None):
        self.path = Path(path)
        self.name = display_name or self.path.name
        if not self.path.exists():
            raise UnreadableCatalog(f"{self.name}: file not found")
        data = self.path.read_bytes()
        if not data.strip():
            raise UnreadableCatalog(f"{self.name}: the file is empty")
        self.is_xlsx = data[:4] == b"PK\x03\x04"
        self._rows = self._xlsx_rows(data) if self.is_xlsx else self._csv_rows(data)
        self.layout, self.header_line = self._find_header()

    def _csv_rows(self, data: bytes) -> Iterator[tuple[int, list[str]]]:
        reader = csv.reader(io.StringIO(decode_catalog(data, self.name), newline=""))
        try:
            for cells in reader:
                yield reader.line_num, cells
        except csv.Error as exc:
            raise UnreadableCatalog(f"{self.name}:{reader.line_num}: unreadable CSV ({exc})") from None

    def _xlsx_rows(self, data: bytes) -> Iterator[tuple[int, list[str]]]:
        import openpyxl

        try:
            book = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
            raise UnreadableCatalog(f"{self.name}: not a readable xlsx workbook ({exc})") from None
        try:
            for index, values in enumerate(book.worksheets[0].iter_rows(values_only=True), start=1):
                yield index, [_xlsx_text(v) for v in values]
        finally:
            book.close()

    def _find_header(self) -> tuple[CatalogLayout, int]:
        for _ in range(10):  # a title line or two may stand above the header
            try:
                line_no, cells = next(self._rows)
            except StopIteration:
                break
            layout = detect_catalog_layout(cells)
            if layout:
                return layout, line_no
        raise UnreadableCatalog(
            f"{self.name}: no product catalogue header found in the first rows; expected columns such as "
            "商品ID, 商家编码, 宝贝标题, 价格, 颜色分类, 尺码, SKU编码, 库存 (or item_id, outer_id, title, price, "
            "sku_properties, sku_outer_id, stock)"
        )

    def __iter__(self) -> Iterator[CatalogItem | CatalogRejection]:
        width = len(self.layout.header)
        for line_no, cells in self._rows:
            if not any(c.strip() for c in cells):
                continue  # blank line
            if len(cells) > width and not any(c.strip() for c in cells[width:]):
                cells = cells[:width]
            elif len(cells) < width and self.is_xlsx:
                cells = cells + [""] * (width - len(cells))
            elif len(cells) != width:
                yield CatalogRejection(
                    line_no, f"wrong column count: expected {width}, found {len(cells)} (an unquoted comma or a cut line?)",
                    ",".join(cells),
                )
                continue
            try:
                yield self._item(line_no, cells)
            except CellError as exc:
                yield CatalogRejection(line_no, str(exc), ",".join(cells))

    def _item(self, line_no: int, cells: list[str]) -> CatalogItem:
        layout = self.layout
        positions = layout.positions

        def cell(name: str) -> str:
            index = positions.get(name)
            return clean(cells[index]) if index is not None else ""

        item_id = parse_id(cell("item_id"), layout.name_of("item_id")) if "item_id" in positions else ""
        outer_id, title = cell("outer_id"), cell("title")
        if not (item_id or outer_id or title):
            named = "/".join(layout.name_of(f) for f in IDENTITY_FIELDS if f in positions)
            raise CellError(f"{named} all empty: the row names no product")
        price = None
        if "price" in positions:
            fen = parse_fen(cell("price"), layout.name_of("price"))
            if fen is not None and fen < 0:
                raise CellError(f"{layout.name_of('price')} '{cell('price')}' is negative")
            price = from_fen(fen)
        stock = None
        if "stock" in positions:
            text = cell("stock")
            if text.startswith("-") and text[1:].replace(".", "", 1).isdigit():
                raise CellError(f"{layout.name_of('stock')} '{text}' is negative")
            stock = parse_count(text, layout.name_of("stock"))
        properties = cell("sku_properties")
        properties = normalise_properties(properties) if properties else properties_of(cell("color"), cell("size"))
        item = CatalogItem(
            line_no=line_no,
            item_id=item_id or None,
            outer_id=outer_id or None,
            title=title or None,
            category=cell("category") or None,
            price=price,
            properties=properties,
            sku_outer_id=cell("sku_outer_id") or None,
            stock=stock,
        )
        for name, limit in LIMITS.items():
            value = getattr(item, name)
            if value and len(value) > limit:
                label = layout.name_of(name) if name in positions else "SKU properties"
                raise CellError(f"{label} is {len(value)} characters long; at most {limit} are kept")
        return item


def open_catalog(path: Path | str, *, display_name: str | None = None) -> CatalogFile:
    """Open a catalogue for reading; raises UnreadableCatalog naming the file when it cannot be read at all."""
    return CatalogFile(path, display_name=display_name)


__all__ = ["CatalogFile", "CatalogItem", "CatalogRejection", "UnreadableCatalog", "normalise_properties", "open_catalog"]
