"""Reading TOP refund records from JSON and CSV: exact ids, Beijing times to UTC, redacted desc, bad rows named."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from kefu.ingest.refunds_file import UnreadableRefunds, read_refunds, read_refunds_file


def test_top_response_json(fixtures_dir):
    result = read_refunds_file(fixtures_dir / "returns" / "refunds_top.json")
    assert [r.refund_id for r in result.records] == ["90001", "90002", "90003"]
    first = result.records[0]
    assert first.tid == "3001" and first.oid == "3001001"
    assert first.refund_fee == Decimal("129.00")
    assert first.created == datetime(2025, 3, 14, 2, 0, tzinfo=UTC)
    assert first.has_good_return is True and first.good_status == "BUYER_RECEIVED"
    assert "13800000001" not in first.desc
    assert [str(p) for p in result.problems] == [
        "refunds_top.json#4: status: status 'NOT_A_STATUS' 不是 TOP 退款状态 / is not a TOP refund status "
        "(WAIT_SELLER_AGREE, WAIT_BUYER_RETURN_GOODS, WAIT_SELLER_CONFIRM_GOODS, SELLER_REFUSE_BUYER, CLOSED, SUCCESS)",
        "refunds_top.json#5: refund_id: refund_id 为空 / is empty",
    ]


def test_chinese_csv_with_excel_guards_and_a_bad_amount(fixtures_dir):
    result = read_refunds_file(fixtures_dir / "returns" / "refunds.csv")
    assert [r.refund_id for r in result.records] == ["90011", "90013"]
    assert result.records[0].tid == "3001"
    assert result.records[1].has_good_return is False
    assert result.records[1].created == datetime(2025, 3, 14, 2, 0, tzinfo=UTC)
    assert len(result.problems) == 1
    assert result.problems[0].where == "refunds.csv:3" and result.problems[0].field == "refund_fee"


def test_plain_list_and_exchange_dispute_type():
    data = b'[{"refund_id": "1", "tid": "2", "dispute_type": "TMALL_EXCHANGE", "has_good_return": "true"}]'
    record = read_refunds(data, "x.json").records[0]
    assert record.prefers_exchange and record.has_good_return


@pytest.mark.parametrize(("data", "message"), [
    (b"{not json", "x.json:1: "),
    (b'{"something": 1}', "no list of refunds"),
    (b"a,b\n1,2\n", "missing columns: refund_id, tid"),
    (b"", "the file is empty"),
])
def test_unreadable_files_are_named(data, message):
    with pytest.raises(UnreadableRefunds, match=message.replace("(", r"\(")):
        read_refunds(data, "x.json")


def test_missing_file(tmp_path):
    with pytest.raises(UnreadableRefunds, match="file not found"):
        read_refunds_file(tmp_path / "nope.json")
