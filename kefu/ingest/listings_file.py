"""Reading listings for the self-audit from CSV (Chinese or English headers) or JSON/JSONL, row by row with reasons."""

from __future__ import annotations

import csv
import io
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from kefu.ingest.cells import CellError, clean, clean_header, parse_fen, parse_id
from kefu.ingest.taobao_export import sniff_encoding

COLUMNS: dict[str, tuple[str, ...]] = {
    "listing_key": ("宝贝ID", "商品ID", "商品id", "listing_id", "num_iid", "item_id", "handle"),
    "title": ("宝贝标题", "商品标题", "标题", "title"),
    "price": ("价格", "一口价", "price"),
    "category": ("类目", "商品类目", "category"),
    "freight": ("运费模板", "运费", "freight", "freight_template"),
    "attributes": ("属性", "宝贝属性", "商品属性", "attributes"),
    "description": ("描述", "宝贝描述", "详情", "description", "body_html"),
}
REGION_SPLIT = re.compile(r"[,，、;；/\s]+")
FREE_WORDS = ("包邮", "全国包邮", "免运费", "free")
TAGS = re.compile(r"<[^>]+>")


class UnreadableListings(Exception):
    """The file cannot be read as listings at all (the message names the file and why)."""


@dataclass(frozen=True)
class ListingRow:
    line_no: int
    listing_key: str
    title: str
    price: Decimal | None = None
    category: str | None = None
    description: str = ""
    attributes: dict[str, str] = field(default_factory=dict)
    freight_free_everywhere: bool | None = None
    freight_charged_regions: tuple[str, ...] = ()


@dataclass(frozen=True)
class ListingRejection:
    line_no: int
    reason: str


def parse_freight(text: str) -> tuple[bool | None, tuple[str, ...]]:
    """"包邮" → free everywhere; "包邮,新疆西藏除外" or "新疆,西藏收费" → charged there; "按重量计费" → charged (all);
    empty → unknown."""
    text = (text or "").strip()
    if not text:
        return None, ()
    regions = tuple(r for r in re.findall(r"新疆|西藏|青海|内蒙古|宁夏|甘肃|海南|港澳台|香港|澳门|台湾", text))
    if regions:
        return False, regions
    if any(w in text.lower() for w in FREE_WORDS):
        return True, ()
    return False, ()


def parse_attributes(value: Any) -> dict[str, str]:
    """`材质:棉;尺码:M` or a JSON object → a dict; pairs without a name are kept under 其他."""
    if isinstance(value, dict):
        return {str(k): str(v) for k, v in value.items()}
    out: dict[str, str] = {}
    for part in re.split(r"[;；\n]+", str(value or "")):
        if not part.strip():
            continue
        name, sep, val = part.replace("：", ":").partition(":")
        if sep:
            out[name.strip()] = val.strip()
        else:
            out["其他"] = (out.get("其他", "") + " " + part.strip()).strip()
    return out


def _row(line_no: int, get) -> ListingRow:
    key = parse_id(clean(str(get("listing_key") or "")), "宝贝ID/listing_key")
    title = clean(str(get("title") or ""))
    if not key and not title:
        raise CellError("宝贝ID 和标题都为空 / listing_key and title are both empty")
    if len(title) > 300:
        raise CellError(f"标题超过 300 字 / title longer than 300 characters ({len(title)})")
    price_text = clean(str(get("price") or ""))
    fen = parse_fen(price_text, "价格/price") if price_text else None
    free, regions = parse_freight(str(get("freight") or ""))
    description = TAGS.sub(" ", str(get("description") or "")).strip()
    return ListingRow(line_no=line_no, listing_key=key or title, title=title or key,
                      price=Decimal(fen) / 100 if fen is not None else None,
                      category=clean(str(get("category") or "")) or None, description=description,
                      attributes=parse_attributes(get("attributes")), freight_free_everywhere=free,
                      freight_charged_regions=regions)


def read_listings(path: Path | str) -> tuple[list[ListingRow], list[ListingRejection]]:
    """Every good row and every bad row with its line number and reason; raises only when the file is unreadable."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise UnreadableListings(f"{path.name}: 无法读取 / cannot be read ({exc.strerror})") from None
    rows: list[ListingRow] = []
    rejected: list[ListingRejection] = []
    for line_no, get in _records(path, data):
        try:
            rows.append(_row(line_no, get))
        except CellError as exc:
            rejected.append(ListingRejection(line_no, str(exc)))
    return rows, rejected


def _records(path: Path, data: bytes) -> Iterator[tuple[int, Any]]:
    text = data.decode(sniff_encoding(data[:4096]), errors="replace")
    stripped = text.lstrip("\ufeff").lstrip()
    if path.suffix.lower() in (".json", ".jsonl") or stripped[:1] in ("[", "{"):
        yield from _json_records(path, stripped)
        return
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header:
        raise UnreadableListings(f"{path.name}: 空文件 / the file is empty")
    names = [clean_header(h) for h in header]
    index = {}
    for field_name, aliases in COLUMNS.items():
        for alias in aliases:
            if alias in names:
                index[field_name] = names.index(alias)
                break
    if "title" not in index and "listing_key" not in index:
        raise UnreadableListings(f"{path.name}:1: 找不到“标题”或“宝贝ID”列 / no title or listing id column in the header")
    for line_no, cells in enumerate(reader, start=2):
        if not any(c.strip() for c in cells):
            continue
        yield line_no, (lambda f, cells=cells: cells[index[f]] if f in index and index[f] < len(cells) else None)


def _json_records(path: Path, text: str) -> Iterator[tuple[int, Any]]:
    def getter(obj: dict) -> Any:
        def get(f: str) -> Any:
            for alias in (f, *COLUMNS[f]):
                if alias in obj:
                    return obj[alias]
            return None
        return get

    if text.startswith("["):
        try:
            items = json.loads(text)
        except json.JSONDecodeError as exc:
            raise UnreadableListings(f"{path.name}:{exc.lineno}: 不是有效的 JSON / not valid JSON ({exc.msg})") from None
        for n, obj in enumerate(items, start=1):
            yield n, getter(obj if isinstance(obj, dict) else {})
        return
    for line_no, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            yield line_no, _raise(f"不是有效的 JSON / not valid JSON ({exc.msg})")
            continue
        yield line_no, getter(obj if isinstance(obj, dict) else {})


def _raise(reason: str):
    def get(_field: str) -> Any:
        raise CellError(reason)
    return get
