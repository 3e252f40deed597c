"""Chat logs into chat lines: 千牛's plain-text chat record export, and kefu's documented CSV/JSONL chat format.

千牛 (聊天记录 → 导出) writes one header line per message, ``买家昵称 (2025-03-10 20:41:07):`` for the buyer and
``店铺名:客服名 (2025-03-10 20:42:00):`` for the seller side, followed by the message's lines (a message may span
several lines and contain blank lines). Times are the shop's local time. The CSV/JSONL format is described in
docs/chat-import.md. Every problem is reported as ``FILE:LINE: reason`` and the good messages still come through.
"""

from __future__ import annotations

import csv
import io
import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from kefu.domain.clock_text import read_moment

_HEADER = re.compile(
    r"^(?P<who>\S.*?)\s*[(（]\s*(?P<ts>\d{4}[-/.]\d{1,2}[-/.]\d{1,2}\s+\d{1,2}:\d{2}(?::\d{2})?)\s*[)）]\s*[:：]?\s*$"
)
_WITH_BUYER = re.compile(r"^\s*(?:与|和)\s*(?P<buyer>\S.*?)\s*的聊天记录")
_AUTO_MARKS = ("[自动回复]", "【自动回复】", "[自动回复消息]", "(自动回复)", "（自动回复）")
_SEPARATOR = re.compile(r"^\s*[-=─—*]{3,}\s*$")
_TIME_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y.%m.%d %H:%M:%S")
SENDERS = {
    "buyer": "buyer", "买家": "buyer", "customer": "buyer", "顾客": "buyer",
    "seller": "seller", "卖家": "seller", "客服": "seller", "agent": "seller", "shop": "seller", "店铺": "seller",
}
COLUMNS = {
    "buyer": ("buyer", "买家", "买家昵称", "conversation", "会话"),
    "sender": ("sender", "发送方", "角色", "role"),
    "agent": ("agent", "客服", "客服名", "author"),
    "time": ("time", "sent_at", "时间", "发送时间"),
    "text": ("text", "body", "内容", "消息", "message"),
    "auto_reply": ("auto_reply", "自动回复", "auto"),
}
TRUE_WORDS = {"1", "true", "yes", "y", "是", "t"}


@dataclass(frozen=True)
class ChatLine:
    """One message as a chat log gave it: who wrote it, when (UTC), and the text."""

    buyer: str
    sender: str  # buyer | seller
    author: str | None  # the agent's name for seller messages
    sent_at: datetime
    text: str
    auto_reply: bool
    line_no: int


@dataclass(frozen=True)
class ChatProblem:
    """A part of a chat log that could not be read, at a file line."""

    file: str
    line_no: int
    reason: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line_no}: {self.reason}"


@dataclass(frozen=True)
class ParsedChat:
    """What a chat log gave: the messages in file order, and every problem."""

    lines: tuple[ChatLine, ...]
    problems: tuple[ChatProblem, ...]


def decode_chat_bytes(data: bytes) -> str:
    """UTF-8 (with or without BOM) when it decodes, else GB18030 (a superset of GBK, as 千牛 writes on Windows)."""
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def local_to_utc(text: str, timezone: str) -> datetime | None:
    """A chat time (the shop's local time, or ISO with an offset) in UTC; None when unreadable."""
    moment = read_moment(text, _TIME_FORMATS)
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=ZoneInfo(timezone))
    return moment.astimezone(UTC)


def _split_author(who: str, shop_name: str | None) -> tuple[str, str | None]:
    """("seller", agent) for ``店铺名:客服名``, else ("buyer", None)."""
    if shop_name and (who == shop_name or who.startswith(shop_name + ":") or who.startswith(shop_name + "：")):
        rest = who[len(shop_name):].lstrip(":：").strip()
        return "seller", rest or None
    for colon in (":", "："):
        if colon in who:
            return "seller", who.split(colon, 1)[1].strip() or None
    return "buyer", None


def _auto_reply(text: str) -> tuple[str, bool]:
    for mark in _AUTO_MARKS:
        if text.startswith(mark):
            return text[len(mark):].strip(), True
    return text, False


def parse_qianniu_text(text: str, *, file: str, timezone: str, shop_name: str | None = None,
                       buyer: str | None = None) -> ParsedChat:
    """A 千牛 plain-text chat record: header lines start messages, the lines after them (blank ones kept inside) are the text."""
    lines: list[ChatLine] = []
    problems: list[ChatProblem] = []
    current: dict | None = None
    current_buyer = buyer

    def close() -> None:
        nonlocal current
        if current is None:
            return
        body = "\n".join(current["body"]).strip("\n").strip()
        if not body:
            problems.append(ChatProblem(file, current["line_no"], "消息没有内容 / message has no text"))
        elif current["buyer"] is None:
            problems.append(ChatProblem(file, current["line_no"],
                                        "客服消息之前没有买家消息，不知道属于哪个买家 / seller message before any buyer message"))
        else:
            body, auto = _auto_reply(body)
            lines.append(ChatLine(current["buyer"], current["sender"], current["author"], current["at"], body,
                                  auto, current["line_no"]))
        current = None

    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r")
        header = _HEADER.match(line.strip())
        if header:
            at = local_to_utc(header["ts"], timezone)
            close()
            if at is None:
                problems.append(ChatProblem(file, number, f"时间无法识别 / unreadable time {header['ts']!r}"))
                current = None
                continue
            sender, author = _split_author(header["who"].strip(), shop_name)
            if sender == "buyer":
                current_buyer = header["who"].strip()
            current = {"sender": sender, "author": author, "at": at, "body": [], "line_no": number,
                       "buyer": current_buyer}
            continue
        if current is not None:
            current["body"].append(line.strip())
            continue
        with_buyer = _WITH_BUYER.match(line)
        if with_buyer:
            current_buyer = with_buyer["buyer"]
        elif line.strip() and not _SEPARATOR.match(line):
            problems.append(ChatProblem(file, number, "这一行不属于任何消息 / line outside any message"))
    close()
    return ParsedChat(tuple(lines), tuple(problems))


def _column_map(header: list[str]) -> dict[str, int]:
    found: dict[str, int] = {}
    for index, name in enumerate(header):
        clean = name.strip().lstrip("\ufeff").lower()
        for field_name, names in COLUMNS.items():
            if clean in names and field_name not in found:
                found[field_name] = index
    return found


def _record_line(record: dict[str, str | None], *, file: str, line_no: int, timezone: str) -> ChatLine | ChatProblem:
    """One CSV row or JSON object as a chat line, or the problem naming the field."""
    buyer = (record.get("buyer") or "").strip()
    if not buyer:
        return ChatProblem(file, line_no, "缺少买家 / field buyer is empty")
    sender = SENDERS.get((record.get("sender") or "").strip().lower())
    if sender is None:
        return ChatProblem(file, line_no, f"sender 应为 buyer 或 seller / field sender: {record.get('sender')!r}")
    at = local_to_utc(str(record.get("time") or ""), timezone)
    if at is None:
        return ChatProblem(file, line_no, f"时间无法识别 / field time: {record.get('time')!r}")
    text = (record.get("text") or "").strip()
    if not text:
        return ChatProblem(file, line_no, "消息没有内容 / field text is empty")
    text, marked = _auto_reply(text)
    auto = marked or str(record.get("auto_reply") or "").strip().lower() in TRUE_WORDS
    author = (record.get("agent") or "").strip() or None
    return ChatLine(buyer, sender, author if sender == "seller" else None, at, text, auto, line_no)


def parse_chat_csv(text: str, *, file: str, timezone: str) -> ParsedChat:
    """The documented CSV: a header row with buyer, sender, agent, time, text, auto_reply (or their Chinese names)."""
    rows = csv.reader(io.StringIO(text))
    try:
        header = next(rows)
    except StopIteration:
        return ParsedChat((), (ChatProblem(file, 1, "文件是空的 / empty file"),))
    columns = _column_map(header)
    missing = [name for name in ("buyer", "sender", "time", "text") if name not in columns]
    if missing:
        return ParsedChat((), (ChatProblem(file, 1, f"缺少列 / missing columns: {', '.join(missing)}"),))
    lines: list[ChatLine] = []
    problems: list[ChatProblem] = []
    for row in rows:
        line_no = rows.line_num
        if not any(cell.strip() for cell in row):
            continue
        record = {name: (row[index] if index < len(row) else None) for name, index in columns.items()}
        result = _record_line(record, file=file, line_no=line_no, timezone=timezone)
        (lines if isinstance(result, ChatLine) else problems).append(result)
    return ParsedChat(tuple(lines), tuple(problems))


def parse_chat_jsonl(text: str, *, file: str, timezone: str) -> ParsedChat:
    """The documented JSONL: one object per line with the CSV's field names."""
    lines: list[ChatLine] = []
    problems: list[ChatProblem] = []
    for number, raw in enumerate(text.splitlines(), start=1):
        if not raw.strip():
            continue
        try:
            obj = json.loads(raw)
        except json.JSONDecodeError as exc:
            problems.append(ChatProblem(file, number, f"不是 JSON / not JSON: {exc.msg}"))
            continue
        if not isinstance(obj, dict):
            problems.append(ChatProblem(file, number, "应为 JSON 对象 / not a JSON object"))
            continue
        record = {name: None for name in COLUMNS}
        for key, value in obj.items():
            for field_name, names in COLUMNS.items():
                if str(key).strip().lower() in names and record[field_name] is None:
                    record[field_name] = None if value is None else str(value)
        result = _record_line(record, file=file, line_no=number, timezone=timezone)
        (lines if isinstance(result, ChatLine) else problems).append(result)
    return ParsedChat(tuple(lines), tuple(problems))


def chat_format(name: str, text: str) -> str:
    """"jsonl", "csv" or "qianniu" from the file name, else from the content."""
    suffix = Path(name).suffix.lower()
    if suffix in (".jsonl", ".ndjson", ".json"):
        return "jsonl"
    if suffix == ".csv":
        return "csv"
    first = next((line for line in text.splitlines() if line.strip()), "")
    if first.lstrip().startswith("{"):
        return "jsonl"
    return "qianniu"


def parse_chat_file(name: str, data: bytes, *, timezone: str, shop_name: str | None = None) -> ParsedChat:
    """Any supported chat log, told apart by name and content."""
    text = decode_chat_bytes(data)
    kind = chat_format(name, text)
    if kind == "jsonl":
        return parse_chat_jsonl(text, file=name, timezone=timezone)
    if kind == "csv":
        return parse_chat_csv(text, file=name, timezone=timezone)
    return parse_qianniu_text(text, file=name, timezone=timezone, shop_name=shop_name)
