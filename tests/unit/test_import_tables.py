"""The reader keeps only the customer rows the store's upsert would act on, whatever batch they come in."""

import polars as pl

from kefu.services.import_tables import SCHEMAS, FirstCustomers, TableBatch


def _batch(rows: list[tuple[str, str | None]]) -> TableBatch:
    batch = TableBatch()
    frame = pl.DataFrame({"id": [r[0] for r in rows], "province": [r[1] for r in rows]})
    batch.add("customers", frame.with_columns(*(pl.lit(None).alias(c) for c in SCHEMAS["customers"] if c not in frame.columns)))
    return batch


def _kept(batch: TableBatch) -> list[tuple]:
    frame = batch.tables.get("customers")
    return [] if frame is None else frame.select("id", "province").rows()


def test_a_buyers_first_row_and_first_row_with_a_province_are_kept():
    first = FirstCustomers()
    one = _batch([("a", None), ("b", "浙江省"), ("a", None), ("c", None)])
    first.keep(one)
    assert _kept(one) == [("a", None), ("b", "浙江省"), ("c", None)]
    two = _batch([("b", "上海"), ("a", "北京"), ("a", "广东省"), ("d", "江苏省"), ("c", None)])
    first.keep(two)
    assert _kept(two) == [("a", "北京"), ("d", "江苏省")]
    three = _batch([("a", "上海"), ("b", None), ("d", None)])
    first.keep(three)
    assert "customers" not in three.tables
    assert _kept(_batch([])) == []
