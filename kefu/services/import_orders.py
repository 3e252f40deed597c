"""Importing 千牛 exports into the store: idempotent upserts in batches, every rejected row recorded."""

from __future__ import annotations

import logging
import time
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterator, Sequence

import polars as pl
from sqlalchemy import Connection, text
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.privacy import redact_phones
from kefu.ids import new_id
from kefu.ingest.taobao_export import LINES, ORDERS, ExportFile, Rejection, UnreadableExport, open_export
from kefu.services.import_rows import (
    CUSTOMER_COLUMNS,
    LINE_COLUMNS,
    ORDER_COLUMNS,
    SHIPMENT_COLUMNS,
    STUB_ORDER_COLUMNS,
    RowMaker,
)
from kefu.services.import_products_link import ProductIndex
from kefu.services.import_sql import LINE_UPDATABLE, ORDER_UPDATABLE, Sql, rank_sql
from kefu.services.import_split import SPLIT_PARTS, SplitReader, split_at
from kefu.services.import_stage import STAGE, Stage, StageFolder, id_index_sql, plain_indexes_rebuilt, stage_schema
from kefu.services.import_tables import PRODUCT_KEY, TableBatch
from kefu.services.import_wal import Checkpointer, autocheckpoint_off
from kefu.services.import_worker import PARALLEL_FROM_BYTES, BackgroundReader, read_batches
from kefu.services.lifecycle import after_import as lifecycle_after_import
from kefu.services.requirements import after_import as read_buyer_requirements
from kefu.services.shops import find_shop, get_or_create_shop
from kefu.store.database import Store
from kefu.store.tables import ImportRun, Shop

log = logging.getLogger(__name__)

BULK_CACHE_KIB = 65536  # SQLite page cache while a file is written: fixed, so memory does not grow with the file
KEPT_REJECTIONS = 200  # how many rejections a result carries back in memory (all are stored)

Progress = Callable[[str, int, int], None]

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


class _FileImporter:
    """Reads one export file and writes its rows into the store inside one transaction.

    On SQLite the rows are first bulk-loaded into a scratch file and then upserted set-based, one statement per
    table; on PostgreSQL they are upserted batch by batch while the file is read.
    """

    def __init__(self, store: Store, shop: Shop, export: ExportFile, result: FileImportResult,
                 stages: StageFolder | None):
        self.store = store
        self.shop_id = shop.id
        self.export = export
        self.result = result
        self.sql = Sql(store.is_sqlite)
        self.lines = export.kind == LINES
        self.table = "order_lines" if self.lines else "orders"
        self.started = datetime.now(timezone.utc)
        # SQLite checks the order foreign key at commit, so orphan lines get their orders set-based at the end.
        self.maker = RowMaker(self.shop_id, sqlite=self.sql.sqlite, now=self.started, stub_orders=not self.sql.sqlite)
        self.rejections: list[tuple] = []
        self.affected = 0
        self.products: ProductIndex | None = None
        self.stages = stages
        self.stage_path = stages.new_path() if stages is not None else None
        self.reader: BackgroundReader | SplitReader | None = None
        self.after_read: Callable[[], None] | None = None  # called once this file's rows are all staged

    def start(self, parts: int = 1) -> None:
        """Start reading a large CSV in a second process now, so it runs while earlier files are written; with
        `parts` > 1 (nothing else is using the cores), a very large order report is read by that many processes."""
        if self.export.encoding == "xlsx" or self.export.size < PARALLEL_FROM_BYTES:
            return
        points = split_at(self.export, parts) if self.stages is not None and self.export.kind == ORDERS else []
        if points:
            assert self.stages is not None and self.stage_path is not None
            paths = [self.stage_path, *(self.stages.new_path() for _ in points)]
            self.reader = SplitReader.start(self.export, self.maker, self.started, paths, points)
        else:
            self.reader = BackgroundReader(self.export, self.maker, self.started, self.stage_path)

    def _stage_paths(self) -> list[Path]:
        """The stage files holding this file's rows (one per part read; dropped parts left out)."""
        if isinstance(self.reader, SplitReader):
            return self.reader.stage_paths[:self.reader.used]
        assert self.stage_path is not None
        return [self.stage_path]

    def stop(self) -> None:
        if self.reader is not None:
            self.reader.close()

    # -- statements ------------------------------------------------------------------------------
    def _order_sql(self, select: str | None) -> str:
        return self.sql.upsert(
            "orders", ORDER_COLUMNS, "(id)",
            {"status": "excluded.status", "updated_at": "excluded.updated_at",
             **{c: f"COALESCE(excluded.{c}, orders.{c})" for c in ORDER_UPDATABLE}},
            where_changed=("status", *ORDER_UPDATABLE),
            extra_where=f"{rank_sql('excluded.status')} >= {rank_sql('orders.status')}", select=select,
        )

    def _customer_sql(self, select: str | None) -> str:
        return self.sql.upsert(
            "customers", CUSTOMER_COLUMNS, "(shop_id, platform, buyer_key)",
            {"province": "excluded.province", "city": "excluded.city", "district": "excluded.district"},
            extra_where="customers.province IS NULL AND excluded.province IS NOT NULL", select=select,
        )

    def _shipment_sql(self, select: str | None) -> str:
        return self.sql.upsert(
            "shipments", SHIPMENT_COLUMNS, "(id)",
            {c: f"COALESCE(excluded.{c}, shipments.{c})" for c in ("carrier_name", "carrier_code", "shipped_at")},
            where_changed=("carrier_name", "carrier_code", "shipped_at"), select=select,
        )

    def _line_sql(self, select: str | None) -> str:
        return self.sql.upsert(
            "order_lines", LINE_COLUMNS, "(id)",
            {c: f"COALESCE(excluded.{c}, order_lines.{c})" for c in LINE_UPDATABLE},
            where_changed=LINE_UPDATABLE, select=select,
        )

    def _executemany(self, conn: Connection, sql: str, rows: list) -> int:
        if not rows:
            return 0
        cursor = conn.exec_driver_sql(sql, rows)
        return max(cursor.rowcount, 0)

    def _execute(self, conn: Connection, sql: str) -> int:
        return max(conn.exec_driver_sql(sql).rowcount, 0)

    # -- reading ---------------------------------------------------------------------------------
    def _reject(self, rejection: Rejection) -> None:
        self.result.rows_rejected += 1
        if len(self.result.rejections) < KEPT_REJECTIONS:
            self.result.rejections.append(rejection)
        raw = redact_phones(rejection.raw[:2000]) if rejection.raw else None
        self.rejections.append((self.result.run_id, rejection.line_no, rejection.reason, raw))
        log.warning("%s:%s: %s", self.result.file_name, rejection.line_no, redact_phones(rejection.reason))

    def _batches(self) -> Iterator[TableBatch]:
        if self.reader is not None:
            yield from self.reader.batches()
            return
        stage = Stage(self.stage_path) if self.stage_path is not None else None
        try:
            yield from read_batches(self.export, self.maker, stage)
        finally:
            if stage is not None:
                stage.close()

    def _read(self, progress: Progress | None) -> Iterator[TableBatch]:
        """The file's batches, with rows counted and rejections kept."""
        for batch in self._batches():
            self.result.rows_read += batch.rows_read
            for rejection in batch.rejections:
                self._reject(rejection)
            self.result.warnings.extend(batch.warnings)
            yield batch
            if progress:
                progress(self.result.file_name, batch.bytes_read, self.export.size)

    def _count(self, conn: Connection) -> int:
        return conn.execute(text(f"SELECT count(*) FROM {self.table} WHERE shop_id = :s"),
                            {"s": self.shop_id}).scalar_one()

    def _finish(self, conn: Connection, before: int) -> None:
        self._executemany(conn, _rejection_sql(self.sql), self.rejections)
        after = self._count(conn)
        self.result.rows_landed = self.result.rows_read - self.result.rows_rejected
        self.result.rows_new = after - before
        self.result.rows_updated = max(0, self.affected - self.result.rows_new)

    def run(self, progress: Progress | None) -> None:
        self.clock = time.perf_counter()
        (self._run_staged if self.sql.sqlite else self._run_streamed)(progress)

    # -- SQLite: stage, then one statement per table ---------------------------------------------
    def _run_staged(self, progress: Progress | None) -> None:
        for _ in self._read(progress):  # the rows go to the stage; the batches bring counts and rejections
            pass
        if self.after_read is not None:
            self.after_read()
        paths = self._stage_paths()
        read = time.perf_counter()
        log.info("%s: read and staged in %.1f s", self.result.file_name, read - self.clock)
        with _bulk_transaction(self.store, attach=paths) as conn:
            schemas = [stage_schema(part) for part in range(len(paths))]
            staged = {schema: set(conn.exec_driver_sql(
                f"SELECT name FROM {schema}.sqlite_master WHERE type = 'table'").scalars()) for schema in schemas}
            before = self._count(conn)
            if self.lines:  # lines are read in one part (their product references count from the file's start)
                if "order_lines" in staged[STAGE]:
                    self._link_staged_products(conn)
                    log.info("%s: products linked in %.1f s", self.result.file_name, time.perf_counter() - read)
                    with plain_indexes_rebuilt(conn, "order_lines", f"{STAGE}.order_lines"):
                        conn.exec_driver_sql(id_index_sql("order_lines"))
                        self.affected += self._execute(conn, self._line_sql(_STAGED_LINES))
                    log.info("%s: order_lines written in %.1f s", self.result.file_name, time.perf_counter() - read)
                self._add_orders_for_orphan_lines(conn)
                log.info("%s: orders of orphan lines in %.1f s", self.result.file_name, time.perf_counter() - read)
            else:
                for table, sql, columns in (("customers", self._customer_sql, CUSTOMER_COLUMNS),
                                            ("orders", self._order_sql, ORDER_COLUMNS),
                                            ("shipments", self._shipment_sql, SHIPMENT_COLUMNS)):
                    holding = [schema for schema in schemas if table in staged[schema]]
                    if holding:
                        schema = _parts_joined(conn, table, holding)
                        with plain_indexes_rebuilt(conn, table, f"{schema}.{table}"):
                            conn.exec_driver_sql(id_index_sql(table, schema))
                            changed = self._execute(conn, sql(self.sql.staged(table, columns, schema)))
                        self.affected += changed if table == "orders" else 0
                        log.info("%s: %s written in %.1f s", self.result.file_name, table, time.perf_counter() - read)
            self._finish(conn, before)
        log.info("%s: written and committed in %.1f s", self.result.file_name, time.perf_counter() - read)
        if self.stages is not None:
            self.stages.discard(paths)

    def _link_staged_products(self, conn: Connection) -> None:
        """Each distinct staged item matched to a product (or a new one), as the stage's product_ids table."""
        self.products = ProductIndex(conn, self.shop_id)
        items = conn.exec_driver_sql(f"SELECT ref, {', '.join(PRODUCT_KEY)} FROM {STAGE}.line_products ORDER BY ref")
        pairs = [(ref, self.products.product_for(*key)) for ref, *key in items.all()]
        self._executemany(conn, _PRODUCT_SQL.format(mark=self.sql.mark), self._pending_products())
        conn.exec_driver_sql(f"CREATE TABLE IF NOT EXISTS {STAGE}.product_ids (ref INTEGER PRIMARY KEY, product_id TEXT)")
        conn.exec_driver_sql(f"DELETE FROM {STAGE}.product_ids")
        self._executemany(conn, f"INSERT INTO {STAGE}.product_ids VALUES (?, ?)", pairs)

    # -- PostgreSQL: upsert each batch as it is read ---------------------------------------------
    def _run_streamed(self, progress: Progress | None) -> None:
        with _bulk_transaction(self.store) as conn:
            before = self._count(conn)
            if self.lines:
                self.products = ProductIndex(conn, self.shop_id)
            product_ids: dict[int, str] = {}
            for batch in self._read(progress):
                if self.lines:
                    for ref, *key in batch.frame("line_products").iter_rows():
                        product_ids[ref] = self.products.product_for(*key)  # type: ignore[union-attr]
                    self._executemany(conn, self.sql.upsert("orders", STUB_ORDER_COLUMNS, "(id)", None),
                                      batch.frame("stub_orders").rows())
                    self._executemany(conn, _PRODUCT_SQL.format(mark=self.sql.mark), self._pending_products())
                    if "order_lines" in batch.tables:
                        lines = batch.tables["order_lines"].with_columns(
                            product_id=pl.col("product_ref").replace_strict(product_ids, return_dtype=pl.String))
                        self.affected += self._executemany(conn, self._line_sql(None),
                                                           lines.select(LINE_COLUMNS).rows())
                else:
                    self._executemany(conn, self._customer_sql(None), batch.frame("customers").rows())
                    self.affected += self._executemany(conn, self._order_sql(None), batch.frame("orders").rows())
                    self._executemany(conn, self._shipment_sql(None), batch.frame("shipments").rows())
            self._finish(conn, before)

    def _pending_products(self) -> list[tuple]:
        assert self.products is not None
        pending, self.products.pending = self.products.pending, []
        return pending

    def _add_orders_for_orphan_lines(self, conn: Connection) -> None:
        """Lines whose order report has not been imported yet get an order row that report will complete later."""
        conn.execute(
            text(
                "INSERT INTO orders (id, shop_id, platform, order_no, status, currency, source, updated_at) "
                "SELECT l.order_id, :s, 'taobao', substr(l.order_id, :cut), COALESCE(MAX(l.status), 'UNKNOWN'), 'CNY', "
                "'taobao_export', :now FROM order_lines AS l LEFT JOIN orders AS o ON o.id = l.order_id "
                "WHERE l.shop_id = :s AND o.id IS NULL GROUP BY l.order_id"
            ),
            {"s": self.shop_id, "cut": len(self.shop_id) + 2, "now": self.maker.now},
        )


def _parts_joined(conn: Connection, table: str, schemas: list[str]) -> str:
    """The stages of a file read in parts joined into the first one's table, in file order (appended rows take the
    next rowids; before any index exists SQLite copies the records as they are), and that stage's schema."""
    first, *later = schemas
    for schema in later:  # every part's table was made from batches with the table's columns in SCHEMAS order
        conn.exec_driver_sql(f"INSERT INTO {first}.{table} SELECT * FROM {schema}.{table}")
    return first


_STAGED_LINES = (
    "SELECT " + ", ".join("p.product_id" if c == "product_id" else f"l.{c}" for c in LINE_COLUMNS)
    + f" FROM {STAGE}.order_lines AS l LEFT JOIN {STAGE}.product_ids AS p ON p.ref = l.product_ref"
    " WHERE true ORDER BY l.id, l.rowid"
)
_PRODUCT_SQL = ("INSERT INTO products (id, shop_id, product_key, platform_item_id, outer_id, title, price) "
                "VALUES ({mark}, {mark}, {mark}, {mark}, {mark}, {mark}, {mark}) ON CONFLICT DO NOTHING")


def _rejection_sql(sql: Sql) -> str:
    return f"INSERT INTO import_rejections (run_id, line_no, reason, raw) VALUES ({', '.join([sql.mark] * 4)})"


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
    from kefu.services.customer_stats import refresh_customer_stats

    steps = (
        ("refund totals", _refund_totals_from_lines),
        ("customer figures and tiers", refresh_customer_stats),
        ("buyer requirements", read_buyer_requirements),
        ("lifecycle messages", lifecycle_after_import),  # paid / shipped messages for recent orders only
        ("risk of recent buyers", _score_recent_buyers),
    )
    for name, step in steps:
        started = time.perf_counter()
        step(conn, shop_id)
        log.info("after import: %s in %.1f s", name, time.perf_counter() - started)


def _score_recent_buyers(conn: Connection, shop_id: str) -> None:
    """差评师 risk for the buyers of recent orders (services.extortion_risk), in the import's transaction."""
    from kefu.services.extortion_risk import assess_new_orders

    with Session(bind=conn, join_transaction_mode="create_savepoint") as session:
        assess_new_orders(session, shop_id, datetime.now(timezone.utc))
        session.commit()


@contextmanager
def _bulk_transaction(store: Store, attach: Sequence[Path] = ()) -> Iterator[Connection]:
    """One transaction for a whole file. On SQLite: a big page cache, per-row foreign-key lookups switched off
    for its length (the importer writes parents first and adds orders for orphan lines before it commits), and the
    staged rows attached as schema `stage`."""
    with store.engine.connect() as conn, autocheckpoint_off(conn):  # the import's Checkpointer copies the WAL afterwards
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:  # pysqlite has not opened a transaction yet, so these pragmas take effect
            conn.exec_driver_sql("PRAGMA foreign_keys=OFF")
            conn.exec_driver_sql(f"PRAGMA cache_size=-{BULK_CACHE_KIB}")  # for the index inserts, whatever the file size
            for part, path in enumerate(attach):
                schema = stage_schema(part)
                conn.exec_driver_sql(f"ATTACH DATABASE ? AS {schema}", (str(path),))
                # Scratch data deleted after the commit: never flushed to disk (its loader wrote it unsynced too,
                # so a sync here would write out the whole stage), rolled back from memory if need be.
                conn.exec_driver_sql(f"PRAGMA {schema}.synchronous=OFF")
                conn.exec_driver_sql(f"PRAGMA {schema}.journal_mode=MEMORY")
            conn.commit()
        try:
            with conn.begin():
                yield conn
        finally:
            if sqlite:
                for part in range(len(attach)):
                    conn.exec_driver_sql(f"DETACH DATABASE {stage_schema(part)}")
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
    with store.engine.connect() as conn, autocheckpoint_off(conn), Session(bind=conn) as session:
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
        session.commit()


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
    checkpoints = Checkpointer(store)  # on SQLite: each file's pages reach the database file while the next is written
    with StageFolder() if store.is_sqlite else nullcontext() as stages:
        importers: list[_FileImporter | None] = []
        for name, export, error in opened:
            kind = export.kind if export else None
            result = FileImportResult(run_id=_start_run(store, shop.id, kind, name, created_by), file_name=name,
                                      kind=kind)
            results.append(result)
            if export is None:
                result.error = error
                log.error("%s", error)
                importers.append(None)
                continue
            if export.zone.key != zone:
                export.zone = type(export.zone)(zone)
            importers.append(_FileImporter(store, shop, export, result, stages))
        try:
            live = [importer for importer in importers if importer is not None]
            if store.is_sqlite:  # one reader at a time gets both cores; the next starts while this file is written
                for current, following in zip(live, live[1:]):
                    current.after_read = following.start
                if live:
                    live[0].start(SPLIT_PARTS)
            else:  # PostgreSQL writes while it reads: every large file starts reading now
                for importer in live:
                    importer.start()
            for importer, result in zip(importers, results):
                if importer is not None:
                    try:
                        importer.run(progress)
                        touched = True
                    except Exception as exc:  # the file's rows are rolled back together; the run records why
                        log.exception("import of %s failed", result.file_name)
                        result.error = (f"{result.file_name}: import failed and nothing from this file was stored "
                                        f"({exc})")
                        result.rows_landed = result.rows_new = result.rows_updated = 0
                    checkpoints.kick()
                _finish_run(store, result)
        finally:
            for importer in importers:
                if importer is not None:
                    importer.stop()
        try:  # inside the stage folder's block: its files are deleted in the background meanwhile
            if touched:
                with store.engine.connect() as conn, autocheckpoint_off(conn):
                    with conn.begin():
                        _after_import(conn, shop.id)
                checkpoints.kick()
                _replay_parcel_pushes(store, shop.id)
        finally:
            checkpoints.finish()
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
