"""The shop's knowledge as values: entry kinds, their documented data keys, and typed shipping/return/product facts.

Every entry has a title, a free text and ``key: value`` data lines; the keys each kind understands are listed in
`DATA_KEYS` (the workbench shows them as hints). Parsing is forgiving: an unknown key is kept, a bad value is
reported by `data_problems` naming the key, and never stops the entry from being saved.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import time
from decimal import Decimal, InvalidOperation
from typing import Any

KINDS = ("shipping", "returns", "product", "promotion", "brand", "faq")
DATA_KEYS: dict[str, tuple[str, ...]] = {
    "shipping": ("cutoff", "ship_promise_hours", "same_day", "couriers", "free_shipping", "excluded_provinces",
                 "remote_fee", "cash_on_delivery", "invoice", "ships_on_weekends"),
    "returns": ("return_days", "buyer_pays_return", "conditions"),
    "product": ("material", "size_chart", "measuring", "warranty", "attributes", "price"),
    "promotion": ("until", "gift", "discount"),
    "brand": ("guarantees",),
    "faq": ("question",),
}
BOOL_KEYS = {"same_day", "free_shipping", "cash_on_delivery", "invoice", "buyer_pays_return", "ships_on_weekends"}
LIST_KEYS = {"couriers", "excluded_provinces"}
INT_KEYS = {"ship_promise_hours", "return_days"}
_TRUE = {"1", "true", "yes", "y", "是", "支持", "可以", "有", "包邮", "开"}
_FALSE = {"0", "false", "no", "n", "否", "不支持", "不可以", "无", "不", "不开", "没有"}
_LIST_SPLIT = re.compile(r"[,，、;；/\s]+")


def data_from_lines(text: str) -> dict[str, str]:
    """``key: value`` lines (also ``key：value``) as a dict; a line without a colon continues the previous value."""
    data: dict[str, str] = {}
    last: str | None = None
    for raw in text.splitlines():
        line = raw.rstrip()
        if not line.strip():
            continue
        match = re.match(r"^\s*([A-Za-z_][\w.]*)\s*[:：]\s*(.*)$", line)
        if match:
            last = match[1].lower()
            data[last] = match[2].strip()
        elif last is not None:
            data[last] = (data[last] + "\n" + line.strip()).strip()
    return data


def data_to_lines(data: Mapping[str, Any] | None) -> str:
    return "\n".join(f"{k}: {v}" for k, v in (data or {}).items())


def as_bool(value: Any) -> bool | None:
    if isinstance(value, bool):
        return value
    text = str(value or "").strip().lower()
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    return None


def as_list(value: Any) -> tuple[str, ...]:
    if isinstance(value, (list, tuple)):
        return tuple(str(v).strip() for v in value if str(v).strip())
    return tuple(part for part in _LIST_SPLIT.split(str(value or "")) if part)


def as_int(value: Any) -> int | None:
    match = re.search(r"\d+", str(value or ""))
    return int(match[0]) if match else None


def as_clock(value: Any) -> time | None:
    match = re.search(r"(\d{1,2})(?:[:：点](\d{2})?)?", str(value or ""))
    if not match or int(match[1]) > 23:
        return None
    return time(int(match[1]), int(match[2] or 0))


def as_money(value: Any) -> Decimal | None:
    match = re.search(r"\d+(?:\.\d+)?", str(value or ""))
    if not match:
        return None
    try:
        return Decimal(match[0])
    except InvalidOperation:
        return None


def data_problems(kind: str, data: Mapping[str, Any]) -> list[str]:
    """The data values a kind cannot read, each naming its key (bilingual)."""
    problems = []
    for key, value in data.items():
        if key in BOOL_KEYS and as_bool(value) is None:
            problems.append(f"{key}: 应为 是/否 / expected yes or no, got {value!r}")
        elif key in INT_KEYS and as_int(value) is None:
            problems.append(f"{key}: 应为数字 / expected a number, got {value!r}")
        elif key == "cutoff" and as_clock(value) is None:
            problems.append(f"cutoff: 应为时间如 16:00 / expected a time like 16:00, got {value!r}")
        elif key == "remote_fee" and as_money(value) is None:
            problems.append(f"remote_fee: 应为金额 / expected an amount, got {value!r}")
    return problems


@dataclass(frozen=True)
class EntryRef:
    """Where a fact comes from: the knowledge entry a draft cites."""

    entry_id: str
    kind: str
    title: str


@dataclass(frozen=True)
class Entry:
    """One knowledge entry as the pure rules see it."""

    id: str
    kind: str
    title: str
    body: str = ""
    data: Mapping[str, Any] = field(default_factory=dict)
    product_id: str | None = None
    stock: Mapping[str, int] | None = None  # SKU properties → stock, for product entries linked to a product

    @property
    def ref(self) -> EntryRef:
        return EntryRef(self.id, self.kind, self.title)

    def search_text(self) -> str:
        values = " ".join(str(v) for v in self.data.values())
        return f"{self.title} {self.body} {values}"


@dataclass(frozen=True)
class ShippingPolicy:
    cutoff: time | None = None
    ship_promise_hours: int | None = None
    same_day: bool | None = None
    couriers: tuple[str, ...] = ()
    free_shipping: bool | None = None
    excluded_provinces: tuple[str, ...] = ()
    remote_fee: Decimal | None = None
    cash_on_delivery: bool | None = None
    invoice: bool | None = None
    source: EntryRef | None = None


@dataclass(frozen=True)
class ReturnPolicy:
    return_days: int | None = None
    buyer_pays_return: bool | None = None
    conditions: str | None = None
    text: str = ""
    source: EntryRef | None = None


@dataclass(frozen=True)
class Knowledge:
    """Everything a draft may use: the policies and every active entry."""

    shipping: ShippingPolicy = ShippingPolicy()
    returns: ReturnPolicy = ReturnPolicy()
    entries: tuple[Entry, ...] = ()

    def of_kind(self, kind: str) -> tuple[Entry, ...]:
        return tuple(e for e in self.entries if e.kind == kind)


def shipping_policy(entry: Entry | None) -> ShippingPolicy:
    if entry is None:
        return ShippingPolicy()
    d = entry.data
    return ShippingPolicy(
        cutoff=as_clock(d.get("cutoff")) if d.get("cutoff") else None,
        ship_promise_hours=as_int(d.get("ship_promise_hours")),
        same_day=as_bool(d.get("same_day")),
        couriers=as_list(d.get("couriers")),
        free_shipping=as_bool(d.get("free_shipping")),
        excluded_provinces=as_list(d.get("excluded_provinces")),
        remote_fee=as_money(d.get("remote_fee")) if d.get("remote_fee") else None,
        cash_on_delivery=as_bool(d.get("cash_on_delivery")),
        invoice=as_bool(d.get("invoice")),
        source=entry.ref,
    )


def return_policy(entry: Entry | None) -> ReturnPolicy:
    if entry is None:
        return ReturnPolicy()
    d = entry.data
    return ReturnPolicy(
        return_days=as_int(d.get("return_days")),
        buyer_pays_return=as_bool(d.get("buyer_pays_return")),
        conditions=str(d.get("conditions")) if d.get("conditions") else None,
        text=entry.body,
        source=entry.ref,
    )


def build_knowledge(entries: Iterable[Entry]) -> Knowledge:
    """The first shipping and returns entries become the policies; every entry stays searchable."""
    items = tuple(entries)
    first = {kind: next((e for e in items if e.kind == kind), None) for kind in ("shipping", "returns")}
    return Knowledge(shipping_policy(first["shipping"]), return_policy(first["returns"]), items)


def province_matches(name: str, provinces: Iterable[str]) -> bool:
    """新疆 matches 新疆维吾尔自治区 and the other way round."""
    short = short_province(name)
    return any(short_province(p) == short for p in provinces)


_PROVINCE_SUFFIXES = ("维吾尔自治区", "壮族自治区", "回族自治区", "自治区", "特别行政区", "省", "市")


def short_province(name: str) -> str:
    name = name.strip()
    for suffix in _PROVINCE_SUFFIXES:
        if name.endswith(suffix) and len(name) > len(suffix):
            return name[: -len(suffix)]
    return name
