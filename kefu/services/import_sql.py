"""The importer's upserts: never moving an order backwards, fed by executemany rows or by a staged table."""

from __future__ import annotations

from typing import Sequence

from kefu.domain import order_status
from kefu.services.import_stage import STAGE

# How far along an order is: a re-import of an older export never moves an order backwards.
STATUS_RANK = {
    order_status.UNKNOWN: -1,
    order_status.WAIT_BUYER_PAY: 0,
    order_status.WAIT_SELLER_SEND_GOODS: 1,
    order_status.SELLER_CONSIGNED_PART: 2,
    order_status.WAIT_BUYER_CONFIRM_GOODS: 3,
    order_status.TRADE_BUYER_SIGNED: 4,
    order_status.TRADE_FINISHED: 5,
    order_status.TRADE_CLOSED: 6,
    order_status.TRADE_CLOSED_BY_TAOBAO: 6,
}


JSON_COLUMNS = frozenset({"extra"})


def rank_sql(column: str) -> str:
    whens = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in STATUS_RANK.items())
    return f"(CASE {column} {whens} ELSE -1 END)"


class Sql:
    """Dialect details: placeholders, and upsert statements fed by executemany rows or by a staged table."""

    def __init__(self, sqlite: bool):
        self.sqlite = sqlite
        self.mark = "?" if self.sqlite else "%s"

    @staticmethod
    def _changed(table: str, column: str) -> str:
        new, old = f"excluded.{column}", f"{table}.{column}"
        if column in JSON_COLUMNS:  # PostgreSQL's json type has no equality: compare the text
            new, old = f"CAST({new} AS TEXT)", f"CAST({old} AS TEXT)"
        return f"({new} IS NOT NULL AND {new} IS DISTINCT FROM {old})"

    @staticmethod
    def staged(table: str, columns: Sequence[str], schema: str = STAGE) -> str:
        """Every row of a staged table by id, a key read twice in the order it was loaded (so it ends as the
        file's last row for it). Walking the stage's id index (import_stage.id_index_sql) makes the store's key inserts
        sequential. WHERE true: SQLite's parser needs it before ON CONFLICT."""
        return f"SELECT {', '.join(columns)} FROM {schema}.{table} WHERE true ORDER BY id, rowid"

    def upsert(self, table: str, columns: Sequence[str], conflict: str, updates: dict[str, str] | None,
               where_changed: Sequence[str] = (), extra_where: str | None = None, select: str | None = None) -> str:
        """INSERT … ON CONFLICT for executemany rows, or for the rows of a SELECT (from the stage)."""
        names = ", ".join(columns)
        source = select or f"VALUES ({', '.join([self.mark] * len(columns))})"
        sql = f"INSERT INTO {table} ({names}) {source} ON CONFLICT {conflict} "
        if not updates:
            return sql + "DO NOTHING"
        sql += "DO UPDATE SET " + ", ".join(f"{c} = {expr}" for c, expr in updates.items())
        conditions = []
        if where_changed:
            conditions.append("(" + " OR ".join(self._changed(table, c) for c in where_changed) + ")")
        if extra_where:
            conditions.append(extra_where)
        if conditions:
            sql += " WHERE " + " AND ".join(conditions)
        return sql


# Columns a newer export may change on a known order; a column the newer layout lacks keeps its value.
ORDER_UPDATABLE = (
    "customer_id", "buyer_nick", "status_text", "close_reason", "created_at", "paid_at", "shipped_at", "finished_at",
    "goods_amount", "post_fee", "total_amount", "paid_amount", "refunded_amount", "item_count", "title_summary",
    "buyer_message", "seller_memo", "receiver_name", "receiver_phone", "receiver_province", "receiver_city",
    "receiver_district", "receiver_address", "shipping_method", "invoice_title", "is_mobile", "extra",
)
LINE_UPDATABLE = ("sub_order_no", "product_id", "price", "quantity", "paid_amount", "refund_status", "refunded_amount",
                  "status", "extra")
