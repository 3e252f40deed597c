"""An import's SQLite WAL copied into the database file by a background thread instead of at each commit."""

from __future__ import annotations

import logging
import os
import queue
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection

from kefu.store.database import Store

log = logging.getLogger(__name__)


@contextmanager
def autocheckpoint_off(conn: Connection) -> Iterator[None]:
    """No checkpoint at this connection's commits while the block runs (SQLite; nothing changes on PostgreSQL):
    the import's Checkpointer does them beside its next step. Durability is unchanged: a commit is as safe in the
    WAL as in the database file."""
    if conn.dialect.name != "sqlite":
        yield
        return
    pages = int(conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one())
    conn.exec_driver_sql("PRAGMA wal_autocheckpoint=0")
    conn.commit()
    try:
        yield
    finally:
        conn.exec_driver_sql(f"PRAGMA wal_autocheckpoint={pages}")
        conn.commit()


class Checkpointer:
    """Runs passive checkpoints in a thread of its own when kicked (after a file's commit), so copying a large
    transaction's pages into the database file overlaps the next file's write and the after-import steps;
    finish() waits for it and checkpoints what is left, so an import leaves the store as a commit would have."""

    def __init__(self, store: Store) -> None:
        self.store = store
        database = store.engine.url.database if store.is_sqlite else None
        self.path = Path(database) if database and database != ":memory:" else None
        self._requests: queue.SimpleQueue[bool] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None

    def kick(self) -> None:
        if not self.store.is_sqlite:
            return
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name="kefu-import-checkpoint", daemon=True)
            self._thread.start()
        self._requests.put(True)

    def _run(self) -> None:
        while self._requests.get():
            self._checkpoint()

    def _checkpoint(self) -> None:
        try:
            started = time.perf_counter()
            with self.store.engine.connect() as conn:
                busy, frames, copied = conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)").one()
                conn.commit()
            if self.path is not None and self.path.exists():
                # A checkpoint that other connections' frames kept from finishing leaves the copied pages to the
                # kernel: flushing them now keeps that from landing on the last checkpoint, the one waited for.
                descriptor = os.open(self.path, os.O_RDONLY)
                try:
                    os.fsync(descriptor)
                finally:
                    os.close(descriptor)
            log.debug("WAL checkpoint: %s of %s frames copied and flushed in %.1f s%s", copied, frames,
                      time.perf_counter() - started, " (busy)" if busy else "")
        except Exception:  # noqa: BLE001 - a missed checkpoint only waits for the next commit's
            log.exception("background WAL checkpoint failed")

    def finish(self) -> None:
        if self._thread is not None:
            self._requests.put(False)
            self._thread.join()
            self._thread = None
            self._checkpoint()
