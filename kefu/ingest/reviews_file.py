"""Review files: TOP `taobao.traderates.get` results as JSON or CSV, and Shopify product-review CSV exports.

Pure parsing: bytes in, ReviewRecords and file:line problems out. Times stay as written (naive shop-local times for
TOP, aware for Shopify); the import service converts them with the shop's timezone.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Literal

from kefu.ingest.cells import CellError, clean, clean_header, parse_id, parse_local_time

ReviewResult = Literal["good", "neutral", "bad"]
RESULTS: tuple[ReviewResult, ...] = ("good", "neutral", "bad")

_RESULT_OF_WORD: dict[str, ReviewResult] = {
    "good": "good", "neutral": "neutral", "bad": "bad",
    "好评": "good", "中评": "neutral", "差评": "bad", "好": "good", "中": "neutral", "差": "bad",
    "positive": "good", "negative": "bad", "1": "good", "0": "neutral", "-1": "bad",
}  # fmt: skip

# TOP field name → the names a seller's CSV may use for it (千牛 评价管理 wording, lower-case English).
TOP_ALIASES: dict[str, tuple[str, ...]] = {
    "tid": ("tid", "订单编号", "订单号", "主订单编号"),
    "oid": ("oid", "子订单编号", "子订单号"),
    "nick": ("nick", "买家会员名", "买家昵称", "评价人", "买家"),
    "result": ("result", "评价结果", "评价类型", "评价"),
    "created": ("created", "评价时间", "时间"),
    "item_title": ("item_title", "宝贝名称", "宝贝标题", "商品名称"),
    "item_price": ("item_price", "宝贝价格", "商品价格", "价格"),
    "content": ("content", "评价内容", "内容"),
    "reply": ("reply", "解释", "回复", "卖家解释", "商家回复"),
    "num_iid": ("num_iid", "宝贝id", "商品id"),
    "valid_score": ("valid_score", "是否计分"),
    "append_content": ("append_content", "追评内容", "追评"),
    "append_created": ("append_created", "追评时间"),
    "append_reply": ("append_reply", "追评解释", "追评回复"),
    "is_append": ("is_append", "是否追评"),
}
TOP_REQUIRED = ("tid", "nick", "result", "created", "item_title", "content")

# Shopify Product Reviews export, with the names Judge.me and similar apps use beside them.
SHOPIFY_ALIASES: dict[str, tuple[str, ...]] = {
    "product_handle": ("product_handle", "handle"),
    "product_title": ("product_title", "product"),
    "product_id": ("product_id",),
    "rating": ("rating", "stars"),
    "title": ("title", "review_title"),
    "author": ("author", "reviewer_name", "name"),
    "email": ("email", "reviewer_email"),
    "body": ("body", "review", "content"),
    "reply": ("reply",),
    "created_at": ("created_at", "review_date", "date"),
    "order_id": ("order_id", "order_number", "order"),
    "state": ("state", "status"),
}
SHOPIFY_REQUIRED = ("rating", "body", "created_at")


class UnreadableReviews(Exception):
    """The file as a whole cannot be read as reviews (unknown layout, not text, broken JSON)."""


@dataclass(frozen=True)
class ReviewProblem:
    """A row that was not imported: where (line, or item number in a JSON list) and why."""

    line: int
    reason: str
    where: str = "line"  # line | item

    def located(self, file_name: str) -> str:
        """`FILE:LINE: reason` (or `FILE: item N: reason` for a JSON list)."""
        if self.where == "item":
            return f"{file_name}: item {self.line}: {self.reason}"
        return f"{file_name}:{self.line}: {self.reason}"


@dataclass(frozen=True)
class ReviewRecord:
    """One review as the file has it. A record with append_content carries its 追评 too."""

    line: int
    source: Literal["top", "shopify"]
    result: ReviewResult
    content: str
    created: datetime  # naive = shop-local; aware = as written
    tid: str | None = None
    oid: str | None = None
    nick: str | None = None
    item_title: str | None = None
    item_price: Decimal | None = None
    reply: str | None = None
    num_iid: str | None = None
    valid_score: bool | None = None
    stars: int | None = None
    append_content: str | None = None
    append_created: datetime | None = None
    append_reply: str | None = None
    is_append: bool = False  # this row is itself a 追评 of the review with the same tid/oid
    product_handle: str | None = None
    email: str | None = None  # used to find the Shopify customer; never stored on the review

    @property
    def key(self) -> str:
        """What identifies the review across re-imports (and its 追评 with ':append')."""
        if self.source == "top":
            base = f"top:{self.tid}:{self.oid or self.item_title or ''}"
        else:
            base = f"shopify:{self.product_handle or self.item_title or ''}:{self.nick or ''}:{self.created.isoformat()}"
        return f"{base}:append" if self.is_append else base

    @property
    def parent_key(self) -> str | None:
        """The key of the review a 追评 row belongs to."""
        return self.key.removesuffix(":append") if self.is_append else None


@dataclass(frozen=True)
class ReviewFile:
    """What a review file held: its kind, the good records and the problems of the rest."""

    name: str
    kind: Literal["top_json", "top_csv", "shopify_csv"]
    records: tuple[ReviewRecord, ...]
    problems: tuple[ReviewProblem, ...] = field(default_factory=tuple)
    rows_read: int = 0


def parse_result(text: str) -> ReviewResult:
    """good|neutral|bad from TOP values, 好评/中评/差评 or 1/0/-1."""
    result = _RESULT_OF_WORD.get(text.strip().lower())
    if result is None:
        raise CellError(f"result '{text}' 不是 good/neutral/bad（好评/中评/差评）/ is not good, neutral or bad")
    return result


def result_of_stars(stars: int, good_from: int, bad_up_to: int) -> ReviewResult:
    """A Shopify star rating as good/neutral/bad with the shop's thresholds (default 4–5 good, 1–2 bad)."""
    if stars >= good_from:
        return "good"
    if stars <= bad_up_to:
        return "bad"
    return "neutral"


def parse_flag_text(text: str) -> bool | None:
    """true/false, 是/否, 1/0; empty is None."""
    value = text.strip().lower()
    if not value:
        return None
    if value in ("true", "1", "yes", "y", "是", "t"):
        return True
    if value in ("false", "0", "no", "n", "否", "f"):
        return False
    raise CellError(f"'{text}' 不是 是/否 / is not true or false")


def parse_price(text: str, field_name: str) -> Decimal | None:
    value = text.replace(",", "").replace("¥", "").replace("￥", "").strip()
    if not value:
        return None
    try:
        price = Decimal(value)
    except InvalidOperation:
        raise CellError(f"{field_name} '{text}' 不是金额 / is not an amount") from None
    if price < 0 or not price.is_finite():
        raise CellError(f"{field_name} '{text}' 不是金额 / is not an amount")
    return price.quantize(Decimal("0.01"))


def parse_time(text: str, field_name: str) -> datetime:
    """A TOP time `yyyy-MM-dd HH:mm:ss` (shop-local) or an ISO time with offset (kept aware)."""
    moment = parse_local_time(text.strip(), field_name)
    if moment is None:
        raise CellError(f"{field_name} 为空 / is empty")
    return moment


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return clean(str(value))


def top_record(fields: Mapping[str, Any], line: int) -> ReviewRecord:
    """One TOP trade_rate (JSON object or CSV row keyed by TOP field names) as a record; CellError when a field is bad."""
    values = {name: _text(fields.get(name)) for name in TOP_ALIASES}
    missing = [name for name in TOP_REQUIRED if name != "content" and not values[name]]
    if missing:
        raise CellError(f"缺少 / missing {', '.join(missing)}")
    append_created = values["append_created"]
    is_append = parse_flag_text(values["is_append"]) or False
    return ReviewRecord(
        line=line,
        source="top",
        result=parse_result(values["result"]),
        content=values["content"],
        created=parse_time(values["created"], "created"),
        tid=parse_id(values["tid"], "tid"),
        oid=parse_id(values["oid"], "oid") or None,
        nick=values["nick"],
        item_title=values["item_title"],
        item_price=parse_price(values["item_price"], "item_price"),
        reply=values["reply"] or None,
        num_iid=parse_id(values["num_iid"], "num_iid") or None,
        valid_score=parse_flag_text(values["valid_score"]),
        append_content=values["append_content"] or None,
        append_created=parse_time(append_created, "append_created") if append_created else None,
        append_reply=values["append_reply"] or None,
        is_append=is_append,
    )


def shopify_record(fields: Mapping[str, str], line: int, good_from: int, bad_up_to: int) -> ReviewRecord:
    """One Shopify product-review row as a record (title and body joined); CellError when a field is bad."""
    values = {name: _text(fields.get(name)) for name in SHOPIFY_ALIASES}
    missing = [name for name in SHOPIFY_REQUIRED if not values[name]]
    if missing:
        raise CellError(f"缺少 / missing {', '.join(missing)}")
    try:
        stars = int(Decimal(values["rating"]))
    except InvalidOperation:
        raise CellError(f"rating '{values['rating']}' 不是 1–5 星 / is not 1–5 stars") from None
    if not 1 <= stars <= 5:
        raise CellError(f"rating '{values['rating']}' 不是 1–5 星 / is not 1–5 stars")
    title, body = values["title"], values["body"]
    content = f"{title}。{body}" if title and title not in body else body
    return ReviewRecord(
        line=line,
        source="shopify",
        result=result_of_stars(stars, good_from, bad_up_to),
        content=content,
        created=parse_time(values["created_at"].replace("Z", "+00:00"), "created_at"),
        tid=values["order_id"].lstrip("#") or None,
        nick=values["author"] or None,
        item_title=values["product_title"] or values["product_handle"] or None,
        reply=values["reply"] or None,
        num_iid=values["product_id"] or None,
        stars=stars,
        product_handle=values["product_handle"] or None,
        email=values["email"] or None,
    )


def decode_text(data: bytes, name: str) -> str:
    """UTF-8 (with or without BOM), else GB18030 (a superset of GBK, as 千牛 writes)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise UnreadableReviews(f"{name}: 既不是 UTF-8 也不是 GBK 文本 / neither UTF-8 nor GBK text")


def _header_map(header: list[str], aliases: Mapping[str, tuple[str, ...]]) -> dict[str, int]:
    """Canonical field → column index, for the columns the header has."""
    position = {clean_header(cell).lower(): index for index, cell in enumerate(header)}
    found: dict[str, int] = {}
    for name, names in aliases.items():
        for alias in names:
            if alias.lower() in position:
                found[name] = position[alias.lower()]
                break
    return found


def _rows_with_lines(text: str) -> Iterator[tuple[int, list[str]]]:
    """CSV rows with the file line each starts on (quoted cells may span lines)."""
    reader = csv.reader(io.StringIO(text, newline=""))
    line = 1
    for row in reader:
        yield line, row
        line = reader.line_num + 1


def parse_csv(text: str, name: str, *, good_from: int = 4, bad_up_to: int = 2) -> ReviewFile:
    """A TOP-field CSV or a Shopify product-review CSV, told apart by its header."""
    rows = _rows_with_lines(text)
    try:
        _, header = next(rows)
    except StopIteration:
        raise UnreadableReviews(f"{name}: 文件是空的 / the file is empty") from None
    top = _header_map(header, TOP_ALIASES)
    shopify = _header_map(header, SHOPIFY_ALIASES)
    if all(field_name in top for field_name in TOP_REQUIRED):
        kind, columns = "top_csv", top
    elif all(field_name in shopify for field_name in SHOPIFY_REQUIRED):
        kind, columns = "shopify_csv", shopify
    else:
        missing = [field_name for field_name in TOP_REQUIRED if field_name not in top]
        raise UnreadableReviews(
            f"{name}:1: 表头缺少 / the header lacks {', '.join(missing)} (TOP 字段 / TOP fields: "
            f"{', '.join(TOP_REQUIRED)}; 或 Shopify 评价导出 / or a Shopify review export: {', '.join(SHOPIFY_REQUIRED)})"
        )
    records: list[ReviewRecord] = []
    problems: list[ReviewProblem] = []
    read = 0
    for line, row in rows:
        if not any(cell.strip() for cell in row):
            continue
        read += 1
        fields = {field_name: row[index] if index < len(row) else "" for field_name, index in columns.items()}
        try:
            if kind == "top_csv":
                records.append(top_record(fields, line))
            else:
                records.append(shopify_record(fields, line, good_from, bad_up_to))
        except CellError as error:
            problems.append(ReviewProblem(line, str(error)))
    return ReviewFile(name, kind, tuple(records), tuple(problems), read)  # type: ignore[arg-type]


def trade_rates_in(document: Any) -> list[Any]:
    """The trade_rate objects of a TOP response, a {"trade_rates": …} object or a plain list."""
    if isinstance(document, list):
        return document
    if isinstance(document, dict):
        for key in ("traderates_get_response", "trade_rates"):
            if key in document:
                return trade_rates_in(document[key])
        if "trade_rate" in document:
            inner = document["trade_rate"]
            return inner if isinstance(inner, list) else [inner]
        if "tid" in document:
            return [document]
    raise UnreadableReviews("JSON 中找不到 trade_rates / no trade_rates in the JSON")


def parse_json(text: str, name: str) -> ReviewFile:
    """TOP trade rates as one JSON document (a response, an object or a list), or one JSON object per line."""
    stripped = text.strip()
    items: Iterable[tuple[int, Any, str]]
    try:
        document = json.loads(stripped)
        items = ((index, item, "item") for index, item in enumerate(trade_rates_in(document), start=1))
    except json.JSONDecodeError as error:
        if not stripped.startswith("{") or "\n" not in stripped:
            raise UnreadableReviews(f"{name}:{error.lineno}: JSON 无法解析 / not valid JSON: {error.msg}") from None
        items = _json_lines(text)
    except UnreadableReviews as error:
        raise UnreadableReviews(f"{name}: {error}") from None
    records: list[ReviewRecord] = []
    problems: list[ReviewProblem] = []
    read = 0
    for position, item, where in items:
        read += 1
        if not isinstance(item, dict):
            problems.append(ReviewProblem(position, "不是 JSON 对象 / not a JSON object", where))
            continue
        try:
            records.append(top_record(item, position))
        except CellError as error:
            problems.append(ReviewProblem(position, str(error), where))
    return ReviewFile(name, "top_json", tuple(records), tuple(problems), read)


def _json_lines(text: str) -> Iterator[tuple[int, Any, str]]:
    for line, raw in enumerate(text.splitlines(), start=1):
        if raw.strip():
            try:
                yield line, json.loads(raw), "line"
            except json.JSONDecodeError as error:
                yield line, f"JSON 无法解析 / not valid JSON: {error.msg}", "line"


def parse_review_bytes(data: bytes, name: str, *, good_from: int = 4, bad_up_to: int = 2) -> ReviewFile:
    """A review file's bytes: JSON when it looks like JSON (or is named .json/.jsonl), else CSV."""
    text = decode_text(data, name)
    looks_json = name.lower().endswith((".json", ".jsonl")) or text.lstrip()[:1] in ("{", "[")
    if looks_json:
        return parse_json(text, name)
    return parse_csv(text, name, good_from=good_from, bad_up_to=bad_up_to)


def read_review_file(path: str | Path, *, display_name: str | None = None, good_from: int = 4,
                     bad_up_to: int = 2) -> ReviewFile:  # fmt: skip
    """Read a review file from disk; UnreadableReviews when it is missing or of no known layout."""
    path = Path(path)
    name = display_name or path.name
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise UnreadableReviews(f"{name}: 找不到文件 / file not found") from None
    except IsADirectoryError:
        raise UnreadableReviews(f"{name}: 是目录不是文件 / is a directory, not a file") from None
    return parse_review_bytes(data, name, good_from=good_from, bad_up_to=bad_up_to)
