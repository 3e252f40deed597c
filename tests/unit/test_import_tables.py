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


def test_kept_rows_follow_the_upserts_rule_row_by_row():
    import random

    rng = random.Random(7)
    first, seen = FirstCustomers(), {}
    for _ in range(30):
        rows = [(rng.choice("abcdefgh"), rng.choice([None, None, "浙江省"])) for _ in range(rng.randrange(0, 12))]
        expected = []
        for cid, province in rows:  # the upsert: insert the first row, then fill a missing province once
            if cid not in seen or (province and not seen[cid]):
                expected.append((cid, province))
                seen[cid] = seen.get(cid, False) or province is not None
        batch = _batch(rows)
        first.keep(batch)
        assert _kept(batch) == expected
