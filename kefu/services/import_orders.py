"""Importing 千牛 exports into the store: idempotent upserts in batches, every rejected row recorded."""

from __future__ import annotations

import logging
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Sequence

from sqlalchemy import Connection, text

from kefu.config import shop_rules
from kefu.domain import order_status
from kefu.domain.privacy import redact_phones
from kefu.ids import new_id, stable_id
from kefu.ingest.taobao_export import LINES, ORDERS, ExportFile, Rejection, UnreadableExport, open_export
from kefu.services.import_rows import (
    CUSTOMER_COLUMNS,
    LINE_COLUMNS,
    LINE_PRODUCT_SLOT,
    ORDER_COLUMNS,
    SHIPMENT_COLUMNS,
    STUB_ORDER_COLUMNS,
    RowBatch,
    RowMaker,
    row_batches,
)
from kefu.services.import_worker import PARALLEL_FROM_BYTES, batches_from_background
from kefu.services.lifecycle import after_import as lifecycle_after_import
from kefu.services.requirements import after_import as read_buyer_requirements
from kefu.services.shops import find_shop, get_or_create_shop
from kefu.store.database import Store
from kefu.store.tables import ImportRun, Shop

log = logging.getLogger(__name__)

BATCH_ROWS = 2000
KEPT_REJECTIONS = 200  # how many rejections a result carries back in memory (all are stored)

Progress = Callable[[str, int, int], None]

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


@dataclass
class FileImportResult:
    """What one file did to the store."""

    run_id: str
    file_name: str
    kind: str | None
    rows_read: int = 0
    rows_landed: int = 0
    rows_new: int = 0
    rows_updated: int = 0
    rows_rejected: int = 0
    rejections: list[Rejection] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


JSON_COLUMNS = frozenset({"extra"})


def _rank_sql(column: str) -> str:
    whens = " ".join(f"WHEN '{status}' THEN {rank}" for status, rank in STATUS_RANK.items())
    return f"(CASE {column} {whens} ELSE -1 END)"


class _Sql:
    """Dialect details for raw executemany: placeholders and upsert statements."""

    def __init__(self, conn: Connection):
        self.sqlite = conn.dialect.name == "sqlite"
        self.mark = "?" if self.sqlite else "%s"

    @staticmethod
    def _changed(table: str, column: str) -> str:
        new, old = f"excluded.{column}", f"{table}.{column}"
        if column in JSON_COLUMNS:  # PostgreSQL's json type has no equality: compare the text
            new, old = f"CAST({new} AS TEXT)", f"CAST({old} AS TEXT)"
        return f"({new} IS NOT NULL AND {new} IS DISTINCT FROM {old})"

    def upsert(self, table: str, columns: Sequence[str], conflict: str, updates: dict[str, str] | None,
               where_changed: Sequence[str] = (), extra_where: str | None = None) -> str:
        marks = ", ".join([self.mark] * len(columns))
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks}) ON CONFLICT {conflict} "
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


class _ProductIndex:
    """The shop's products by item id, outer id and title, so lines link to a product without a query per row."""

    def __init__(self, conn: Connection, shop_id: str):
        self.shop_id = shop_id
        self.by_key: dict[str, str] = {}
        rows = conn.execute(
            text("SELECT id, platform_item_id, outer_id, title FROM products WHERE shop_id = :s"), {"s": shop_id}
        )
        for pid, item_id, outer_id, title in rows:
            self._remember(pid, item_id, outer_id, title)
        self.pending: list[tuple] = []

    def _remember(self, pid: str, item_id: str | None, outer_id: str | None, title: str | None) -> None:
        for prefix, value in (("i", item_id), ("o", outer_id), ("t", title)):
            if value:
                self.by_key.setdefault(f"{prefix}:{value}", pid)

    def product_for(self, item_id: str | None, outer_id: str | None, title: str, price: int | None) -> str:
        """The product a line belongs to: matched by item id, outer id or title, else a new one."""
        for prefix, value in (("i", item_id), ("o", outer_id), ("t", title)):
            if value:
                pid = self.by_key.get(f"{prefix}:{value}")
                if pid:
                    return pid
        key = (item_id or outer_id or title)[:200]
        pid = stable_id("product", self.shop_id, key)
        self._remember(pid, item_id, outer_id, title)
        self.pending.append((pid, self.shop_id, key, item_id, outer_id, title, price))
        return pid


class _FileImporter:
    """Writes one export file's row batches into the store inside one transaction."""

    def __init__(self, conn: Connection, shop: Shop, export: ExportFile, result: FileImportResult):
        self.conn = conn
        self.shop_id = shop.id
        self.export = export
        self.result = result
        self.sql = _Sql(conn)
        self.started = datetime.now(timezone.utc)
        # SQLite checks the order foreign key at commit, so orphan lines get their orders set-based at the end.
        self.maker = RowMaker(self.shop_id, sqlite=self.sql.sqlite, now=self.started, stub_orders=not self.sql.sqlite)
        self.rejections: list[tuple] = []
        self.affected = 0
        self._products: _ProductIndex | None = None
        self._order_sql = self.sql.upsert(
            "orders", ORDER_COLUMNS, "(id)",
            {"status": "excluded.status", "updated_at": "excluded.updated_at",
             **{c: f"COALESCE(excluded.{c}, orders.{c})" for c in ORDER_UPDATABLE}},
            where_changed=("status", *ORDER_UPDATABLE),
            extra_where=f"{_rank_sql('excluded.status')} >= {_rank_sql('orders.status')}",
        )
        self._customer_sql = self.sql.upsert(
            "customers", CUSTOMER_COLUMNS, "(shop_id, platform, buyer_key)",
            {"province": "excluded.province", "city": "excluded.city", "district": "excluded.district"},
            extra_where="customers.province IS NULL AND excluded.province IS NOT NULL",
        )
        self._shipment_sql = self.sql.upsert(
            "shipments", SHIPMENT_COLUMNS, "(id)",
            {c: f"COALESCE(excluded.{c}, shipments.{c})" for c in ("carrier_name", "carrier_code", "shipped_at")},
            where_changed=("carrier_name", "carrier_code", "shipped_at"),
        )
        self._stub_order_sql = self.sql.upsert("orders", STUB_ORDER_COLUMNS, "(id)", None)
        self._line_sql = self.sql.upsert(
            "order_lines", LINE_COLUMNS, "(id)",
            {c: f"COALESCE(excluded.{c}, order_lines.{c})" for c in LINE_UPDATABLE},
            where_changed=LINE_UPDATABLE,
        )
        self._product_sql = self.sql.upsert(
            "products", ("id", "shop_id", "product_key", "platform_item_id", "outer_id", "title", "price"), "", None
        )
        self._rejection_sql = (
            f"INSERT INTO import_rejections (run_id, line_no, reason, raw) VALUES ({', '.join([self.sql.mark] * 4)})"
        )

    def _executemany(self, sql: str, rows: list) -> int:
        if not rows:
            return 0
        cursor = self.conn.exec_driver_sql(sql, rows)
        return max(cursor.rowcount, 0)

    def _reject(self, rejection: Rejection) -> None:
        self.result.rows_rejected += 1
        if len(self.result.rejections) < KEPT_REJECTIONS:
            self.result.rejections.append(rejection)
        raw = redact_phones(rejection.raw[:2000]) if rejection.raw else None
        self.rejections.append((self.result.run_id, rejection.line_no, rejection.reason, raw))
        log.warning("%s:%s: %s", self.result.file_name, rejection.line_no, redact_phones(rejection.reason))

    def _count(self, table: str) -> int:
        return self.conn.execute(text(f"SELECT count(*) FROM {table} WHERE shop_id = :s"), {"s": self.shop_id}).scalar_one()

    def _batches(self) -> Iterator[RowBatch]:
        if self.export.size >= PARALLEL_FROM_BYTES and self.export.encoding != "xlsx":
            return batches_from_background(self.export.path, self.export.name, self.export.zone.key, self.maker,
                                           self.started, BATCH_ROWS)
        return row_batches(self.export, self.maker, BATCH_ROWS)

    def run(self, progress: Progress | None) -> None:
        lines = self.export.kind == LINES
        table = "order_lines" if lines else "orders"
        before = self._count(table)
        for batch in self._batches():
            self.result.rows_read += batch.rows_read
            for rejection in batch.rejections:
                self._reject(rejection)
            self._write_lines(batch) if lines else self._write_orders(batch)
            self.result.warnings.extend(batch.warnings)
            if progress:
                progress(self.result.file_name, batch.bytes_read, self.export.size)
        if lines and self.sql.sqlite:
            self._add_orders_for_orphan_lines()
        self._executemany(self._rejection_sql, self.rejections)
        after = self._count(table)
        self.result.rows_landed = self.result.rows_read - self.result.rows_rejected
        self.result.rows_new = after - before
        self.result.rows_updated = max(0, self.affected - self.result.rows_new)

    def _write_orders(self, batch: RowBatch) -> None:
        self._executemany(self._customer_sql, batch.customers)
        self.affected += self._executemany(self._order_sql, batch.orders)
        self._executemany(self._shipment_sql, batch.shipments)

    def _write_lines(self, batch: RowBatch) -> None:
        if self._products is None:
            self._products = _ProductIndex(self.conn, self.shop_id)
        products = self._products
        rows = []
        for row, (item_id, outer_id, title, price) in zip(batch.lines, batch.line_products):
            row[LINE_PRODUCT_SLOT] = products.product_for(item_id, outer_id, title, price)
            rows.append(tuple(row))
        self._executemany(self._stub_order_sql, batch.stub_orders)
        self._executemany(self._product_sql, products.pending)
        products.pending = []
        self.affected += self._executemany(self._line_sql, rows)

    def _add_orders_for_orphan_lines(self) -> None:
        """Lines whose order report has not been imported yet get an order row that report will complete later."""
        self.conn.execute(
            text(
                "INSERT INTO orders (id, shop_id, platform, order_no, status, currency, source, updated_at) "
                "SELECT l.order_id, :s, 'taobao', substr(l.order_id, :cut), COALESCE(MAX(l.status), 'UNKNOWN'), 'CNY', "
                "'taobao_export', :now FROM order_lines AS l LEFT JOIN orders AS o ON o.id = l.order_id "
                "WHERE l.shop_id = :s AND o.id IS NULL GROUP BY l.order_id"
            ),
            {"s": self.shop_id, "cut": len(self.shop_id) + 2, "now": self.maker.now},
        )


def _refund_totals_from_lines(conn: Connection, shop_id: str) -> None:
    """An order's refunded amount is at least what its lines say was refunded."""
    conn.execute(
        text(
            "UPDATE orders SET refunded_amount = r.total FROM ("
            "  SELECT order_id, SUM(refunded_amount) AS total FROM order_lines"
            "  WHERE shop_id = :s AND refunded_amount > 0 GROUP BY order_id) AS r "
            "WHERE orders.id = r.order_id AND COALESCE(orders.refunded_amount, 0) < r.total"
        ),
        {"s": shop_id},
    )


def _after_import(conn: Connection, shop_id: str) -> None:
    """Derived figures that depend on the whole shop: refunds from lines, then customer aggregates and tiers."""
    _refund_totals_from_lines(conn, shop_id)
    try:
        from kefu.services.customer_stats import refresh_customer_stats
    except ImportError:  # pragma: no cover - only while the customer-stats module is being written
        log.warning("customer statistics not refreshed: kefu.services.customer_stats is missing")
        return
    refresh_customer_stats(conn, shop_id)
    read_buyer_requirements(conn, shop_id)
    lifecycle_after_import(conn, shop_id)  # paid / shipped messages for recent orders only (services.lifecycle)
    _score_recent_buyers(conn, shop_id)


def _score_recent_buyers(conn: Connection, shop_id: str) -> None:
    """差评师 risk for the buyers of recent orders (services.extortion_risk), in the import's transaction."""
    from sqlalchemy.orm import Session

    from kefu.services.extortion_risk import assess_new_orders

    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        assess_new_orders(session, shop_id, datetime.now(timezone.utc))
        session.commit()


@contextmanager
def _bulk_transaction(store: Store) -> Iterator[Connection]:
    """One transaction for a whole file. On SQLite: a big page cache, and per-row foreign-key lookups switched off
    for its length (the importer writes parents first and adds orders for orphan lines before it commits)."""
    with store.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # pysqlite has not opened a transaction yet, so these pragmas take effect
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql("PRAGMA cache_size=-65536")  # 64 MiB for the index inserts, whatever the file size
            conn.commit()
        try:
            with conn.begin():
                yield conn
        finally:
            if sqlite:
                conn.exec_driver_sql("PRAGMA foreign_keys=ON")
                conn.exec_driver_sql("PRAGMA cache_size=-2000")
                conn.commit()


def _start_run(store: Store, shop_id: str | None, kind: str | None, name: str, created_by: str | None) -> str:
    run_id = new_id()
    with store.session() as session:
        session.add(ImportRun(id=run_id, shop_id=shop_id, kind=kind or "unknown", file_name=name,
                              started_at=datetime.now(timezone.utc), status="running", created_by=created_by))
    return run_id


def _finish_run(store: Store, result: FileImportResult) -> None:
    with store.session() as session:
        run = session.get(ImportRun, result.run_id)
        run.finished_at = datetime.now(timezone.utc)
        run.status = "failed" if result.error else "done"
        run.kind = result.kind or run.kind
        run.rows_read = result.rows_read
        run.rows_landed = result.rows_landed
        run.rows_new = result.rows_new
        run.rows_updated = result.rows_updated
        run.rows_rejected = result.rows_rejected
        run.error = result.error


def _shop_for(store: Store, shop_name: str | None) -> Shop:
    """The named shop (created on first use); without a name, the only shop there is, else the default one."""
    with store.session() as session:
        if not shop_name:
            only = find_shop(session, None)
            if only is not None:
                return only
        return get_or_create_shop(session, shop_name, platform="taobao")


def import_taobao_files(
    store: Store,
    paths: Sequence[Path | str],
    shop_name: str | None = None,
    *,
    display_names: Sequence[str] | None = None,
    created_by: str | None = None,
    progress: Progress | None = None,
) -> list[FileImportResult]:
    """Import 千牛 order and line reports (any order, CSV or xlsx): order reports first, each file atomically."""
    names = list(display_names) if display_names else [Path(p).name for p in paths]
    opened: list[tuple[str, ExportFile | None, str | None]] = []
    for path, name in zip(paths, names):
        try:
            opened.append((name, open_export(path, display_name=name), None))
        except UnreadableExport as exc:
            opened.append((name, None, str(exc)))
        except OSError as exc:
            opened.append((name, None, f"{name}: cannot be opened ({exc.strerror or exc})"))
    # Order reports before line reports, so lines find their orders (a lone line report still works).
    opened.sort(key=lambda item: 0 if item[1] is not None and item[1].kind == ORDERS else 1)

    shop = _shop_for(store, shop_name)
    zone = shop_rules(shop.settings)["timezone"]
    results: list[FileImportResult] = []
    touched = False
    for name, export, error in opened:
        kind = export.kind if export else None
        run_id = _start_run(store, shop.id, kind, name, created_by)
        result = FileImportResult(run_id=run_id, file_name=name, kind=kind)
        if export is None:
            result.error = error
            log.error("%s", error)
        else:
            if export.zone.key != zone:
                export.zone = type(export.zone)(zone)
            try:
                with _bulk_transaction(store) as conn:
                    _FileImporter(conn, shop, export, result).run(progress)
                touched = True
            except Exception as exc:  # the file's rows are rolled back together; the run records why
                log.exception("import of %s failed", name)
                result.error = f"{name}: import failed and nothing from this file was stored ({exc})"
                result.rows_landed = result.rows_new = result.rows_updated = 0
        _finish_run(store, result)
        results.append(result)
    if touched:
        with store.engine.begin() as conn:
            _after_import(conn, shop.id)
        _replay_parcel_pushes(store, shop.id)
    return results


def _replay_parcel_pushes(store: Store, shop_id: str) -> None:
    """Carrier pushes that arrived before their order was imported are applied now that it is here."""
    from kefu.services.tracking import replay_unmatched

    try:
        with store.session() as session:
            matched = replay_unmatched(session, now=datetime.now(timezone.utc), shop_id=shop_id)
        if matched:
            log.info("applied %d parcel pushes that had arrived before their orders", len(matched))
    except Exception:  # a replay problem never undoes the import; the pushes stay kept for the next try
        log.exception("replaying kept parcel pushes failed")
