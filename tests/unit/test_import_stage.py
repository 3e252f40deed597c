"""A whole file's stage comes with its id indexes built by the reading process."""

import sqlite3

import polars as pl

from kefu.services.import_stage import Stage


def test_index_ids_covers_every_staged_table_with_an_id(tmp_path):
    stage = Stage(tmp_path / "stage.db")
    stage.add("order_lines", pl.DataFrame({"id": ["b", "a", "b"], "title": ["x", "y", "z"]}))
    stage.add("line_products", pl.DataFrame({"ref": [0, 1], "title": ["x", "y"]}))
    stage.index_ids()
    stage.close()
    with sqlite3.connect(tmp_path / "stage.db") as db:
        indexes = db.execute("SELECT tbl_name, name FROM sqlite_master WHERE type = 'index'").fetchall()
        assert indexes == [("order_lines", "order_lines_by_id")]
        assert db.execute("SELECT id, rowid FROM order_lines INDEXED BY order_lines_by_id ORDER BY id, rowid").fetchall() \
            == [("a", 2), ("b", 1), ("b", 3)]
    Stage(tmp_path / "empty.db").index_ids()  # nothing staged: nothing to index, no file made
    assert not (tmp_path / "empty.db").exists()
