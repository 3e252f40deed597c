"""千牛 plain-text chat records and the CSV/JSONL chat format: messages, sides, multi-line text, encodings, bad lines."""

from __future__ import annotations

from datetime import UTC, datetime

from kefu.ingest.chat_export import chat_format, parse_chat_file, parse_chat_jsonl, parse_qianniu_text

TZ = "Asia/Shanghai"

RECORD = """与 tb_小红 的聊天记录
==========
tb_小红 (2025-03-10 20:41:07):
在吗？这条裙子有M码吗

我身高165，体重52

测试小店:小美 (2025-03-10 20:42:00):
[自动回复]您好，欢迎光临测试小店
测试小店:小美 (2025-03-10 20:43:30):
亲，有的
tb_小红（2025-03-10 20:45:00）：
好的谢谢
"""


def test_qianniu_record_sides_times_and_multi_line_text():
    parsed = parse_qianniu_text(RECORD, file="chat.txt", timezone=TZ, shop_name="测试小店")
    assert parsed.problems == ()
    first, auto, answer, thanks = parsed.lines
    assert (first.buyer, first.sender, first.author) == ("tb_小红", "buyer", None)
    assert first.text == "在吗？这条裙子有M码吗\n\n我身高165，体重52"  # blank line inside kept, trailing ones dropped
    assert first.sent_at == datetime(2025, 3, 10, 12, 41, 7, tzinfo=UTC)  # Beijing 20:41 is 12:41 UTC
    assert (auto.sender, auto.author, auto.auto_reply, auto.text) == ("seller", "小美", True, "您好，欢迎光临测试小店")
    assert (answer.auto_reply, answer.buyer) == (False, "tb_小红")
    assert thanks.text == "好的谢谢" and thanks.line_no == 12  # full-width brackets and colon


def test_gbk_record_reads_like_utf8():
    utf8 = parse_chat_file("chat.txt", RECORD.encode("utf-8"), timezone=TZ, shop_name="测试小店")
    gbk = parse_chat_file("chat.txt", RECORD.encode("gbk"), timezone=TZ, shop_name="测试小店")
    assert gbk.lines == utf8.lines and len(gbk.lines) == 4


def test_bad_lines_are_reported_by_file_and_line_and_good_messages_still_come():
    text = "随便一行\n测试小店:小美 (2025-03-10 20:42:00):\n先说话的客服\ntb_a (2025-13-40 10:00:00):\n坏时间\ntb_a (2025-03-10 10:00:00):\n\ntb_a (2025-03-10 10:01:00):\n好消息\n"
    parsed = parse_qianniu_text(text, file="x.txt", timezone=TZ)
    problems = [str(p) for p in parsed.problems]
    assert problems[0].startswith("x.txt:1: ")
    assert any(p.startswith("x.txt:2: ") and "seller message before any buyer" in p for p in problems)
    assert any(p.startswith("x.txt:4: ") and "unreadable time" in p for p in problems)
    assert any(p.startswith("x.txt:6: ") and "no text" in p for p in problems)
    assert [line.text for line in parsed.lines] == ["好消息"]


def test_csv_with_chinese_headers_and_a_bad_row():
    csv_text = "买家,发送方,客服,时间,内容,自动回复\ntb_a,买家,,2025-03-10 09:00:00,有货吗,\ntb_a,客服,小美,2025-03-10 09:01:00,有的,0\ntb_a,路人,,2025-03-10 09:02:00,?,\n"
    parsed = parse_chat_file("chats.csv", csv_text.encode("gbk"), timezone=TZ)
    assert [(ln.sender, ln.author, ln.text) for ln in parsed.lines] == [("buyer", None, "有货吗"), ("seller", "小美", "有的")]
    assert [str(p).split(": ")[0] for p in parsed.problems] == ["chats.csv:4"]
    assert "sender" in str(parsed.problems[0])


def test_csv_missing_columns_names_them():
    parsed = parse_chat_file("c.csv", b"buyer,text\na,b\n", timezone=TZ)
    assert parsed.lines == () and "sender, time" in str(parsed.problems[0])


def test_jsonl_iso_times_auto_replies_and_bad_json():
    text = ('{"buyer": "tb_a", "sender": "buyer", "time": "2025-03-10T09:00:00+08:00", "text": "在吗"}\n'
            "{not json\n"
            '{"buyer": "tb_a", "sender": "seller", "agent": "小美", "time": "2025-03-10 09:00:05", "text": "在的", "auto_reply": true}\n')
    parsed = parse_chat_jsonl(text, file="c.jsonl", timezone=TZ)
    assert parsed.lines[0].sent_at == datetime(2025, 3, 10, 1, 0, tzinfo=UTC)
    assert parsed.lines[1].auto_reply is True and parsed.lines[1].author == "小美"
    assert [p.line_no for p in parsed.problems] == [2]


def test_format_from_name_then_content():
    assert chat_format("a.csv", "") == "csv"
    assert chat_format("a.jsonl", "") == "jsonl"
    assert chat_format("a.txt", '{"buyer": 1}') == "jsonl"
    assert chat_format("a.txt", "tb_a (2025-03-10 10:00:00):") == "qianniu"
