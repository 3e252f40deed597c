"""An import on SQLite checkpoints its WAL in the background and leaves every connection as it found it."""

import sqlite3

import pytest

from kefu.services.import_orders import import_taobao_files
from kefu.services.import_wal import autocheckpoint_off
from test_import_taobao import FIXTURE


def _autocheckpoint(store) -> list[int]:
    """wal_autocheckpoint of every connection the pool hands out (several at once, so not just one reused)."""
    conns = [store.engine.connect() for _ in range(3)]
    try:
        return [conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() for conn in conns]
    finally:
        for conn in conns:
            conn.close()


def test_an_import_leaves_its_pages_in_the_database_file_and_checkpoints_on(sqlite_store):
    before = _autocheckpoint(sqlite_store)
    [result] = import_taobao_files(sqlite_store, [FIXTURE], "店")
    assert result.ok and result.rows_new > 0
    # the database file alone (its WAL ignored) holds the import: nothing is left for a request's commit to copy
    with sqlite3.connect(f"file:{sqlite_store.engine.url.database}?immutable=1", uri=True) as db_file:
        assert db_file.execute("SELECT count(*) FROM orders").fetchone()[0] == result.rows_new
    assert _autocheckpoint(sqlite_store) == before == [1000, 1000, 1000]


def test_autocheckpoint_comes_back_after_an_error(sqlite_store):
    with sqlite_store.engine.connect() as conn:
        with pytest.raises(RuntimeError):
            with autocheckpoint_off(conn):
                assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 0
                raise RuntimeError("the step failed")
        assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar_one() == 1000
