"""A scratch SQLite file an import's frames are bulk-loaded into (ADBC, no per-row Python) before one set-based
upsert per table moves them into the store.

Only this module's ADBC connection ever opens the scratch file, and it closes it before the store's own connection
attaches it: two SQLite libraries in one process must never hold the same file open at once.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Iterator

from sqlalchemy import Connection

import polars as pl

log = logging.getLogger(__name__)

STAGE = "stage"  # the schema name the scratch file is attached under (stage2, stage3… for a file read in parts)
REBUILD_FROM_ROWS = 20_000  # smaller loads go into the indexes as they are


def id_index_sql(table: str, schema: str = STAGE) -> str:
    """An index on a staged table's id: sorting the keys alone is far cheaper than sorting whole rows."""
    return f"CREATE INDEX IF NOT EXISTS {schema}.{table}_by_id ON {table} (id)"


def stage_schema(part: int) -> str:
    """The schema the stage of a file's part (0, 1, …) is attached under."""
    return STAGE if part == 0 else f"{STAGE}{part + 1}"


class Stage:
    """The scratch database file an import's rows are loaded into (opened on the first load)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._conn = None

    def add(self, table: str, frame: pl.DataFrame) -> None:
        """Append rows to a staged table (created on first use with the frame's columns)."""
        if not frame.height:
            return
        if self._conn is None:
            import adbc_driver_sqlite.dbapi as adbc_sqlite

            self._conn = adbc_sqlite.connect(str(self.path), autocommit=True)  # each load is its own statement
            cursor = self._conn.cursor()
            cursor.execute("PRAGMA journal_mode=OFF")  # scratch data: a crash just means the import runs again
            cursor.execute("PRAGMA synchronous=OFF")
            cursor.close()
        cursor = self._conn.cursor()
        try:
            cursor.adbc_ingest(table, frame.to_arrow(compat_level=pl.CompatLevel.oldest()), mode="create_append")
        finally:
            cursor.close()

    def index_ids(self) -> None:
        """Build each staged table's id index (id_index_sql) here, in the reading process, so the
        writer finds it made. Not for a part of a file: a later part's rows are still to be appended."""
        if self._conn is None:
            return
        cursor = self._conn.cursor()
        try:
            cursor.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            tables = [row[0] for row in cursor.fetchall()]
            for table in tables:
                cursor.execute(f'PRAGMA table_info("{table}")')
                if any(column[1] == "id" for column in cursor.fetchall()):
                    cursor.execute(id_index_sql(table, "main"))
        finally:
            cursor.close()

    def close(self) -> None:
        """Close the loading connection, so the store's connection may attach the file."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class StageFolder:
    """A private temporary folder for one import's scratch files, removed with everything in it on exit."""

    def __init__(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="kefu-import-"))
        self.count = 0
        self._removals: list[threading.Thread] = []

    def new_path(self) -> Path:
        self.count += 1
        return self.folder / f"stage-{self.count}.db"

    def discard(self, paths: list[Path]) -> None:
        """Delete written stages in the background (freeing a large file's blocks takes seconds of its own)."""
        thread = threading.Thread(target=_remove, args=(paths,), daemon=True)
        thread.start()
        self._removals.append(thread)

    def __enter__(self) -> StageFolder:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        for thread in self._removals:
            thread.join()
        shutil.rmtree(self.folder, ignore_errors=True)


def _remove(paths: list[Path]) -> None:
    started = time.perf_counter()
    for path in paths:
        path.unlink(missing_ok=True)
    log.debug("stage files deleted in %.1f s", time.perf_counter() - started)


@contextmanager
def plain_indexes_rebuilt(conn: Connection, table: str, incoming: str) -> Iterator[None]:
    """For a load larger than the table already is (a first import, or a shop's history arriving at once), drop
    the table's plain (non-unique) indexes and build them again afterwards, in the same transaction: one sort per
    index instead of a random insert per row, which is what makes a million-row load slow once the indexes outgrow
    the page cache. Unique indexes stay (upserts need them); other connections keep reading the committed indexes
    until the load commits."""
    rows = conn.exec_driver_sql(f"SELECT count(*) FROM {incoming}").scalar_one()
    existing = conn.exec_driver_sql(f"SELECT count(*) FROM {table}").scalar_one()
    if rows < REBUILD_FROM_ROWS or rows <= existing:  # a re-import or a new month: the rows mostly exist or fit
        yield
        return
    indexes = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
        "AND upper(sql) NOT LIKE 'CREATE UNIQUE%'", (table,)
    ).all()
    for name, _ in indexes:
        conn.exec_driver_sql(f'DROP INDEX "{name}"')
    yield
    for _, sql in indexes:
        conn.exec_driver_sql(sql)
