"""Hot statements on the driver's cursor (kefu.store.driver_sql) and engines with their own settings (Store.tuned_engine)."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from kefu.store.driver_sql import as_utc, driver_execute, driver_rows, json_keys

NOW = datetime(2025, 3, 12, 12, 0, tzinfo=UTC)


@pytest.fixture
def pg(postgres_store):
    with postgres_store.engine.begin() as conn:
        conn.execute(text("TRUNCATE webhook_deliveries"))
    return postgres_store


def _delivery(key: str) -> dict:
    return {"id": key, "source": "test", "received_at": NOW.replace(tzinfo=None), "status": "processed"}


INSERT = ("INSERT INTO webhook_deliveries (id, source, received_at, status) "
          "VALUES (%(id)s, %(source)s, %(received_at)s, %(status)s)")


@pytest.mark.postgres
def test_rows_are_read_in_the_callers_transaction_by_json_keys(pg):
    keys = ["kuaidi100:a", "含,逗号 \"引号\"", "kuaidi100:c"]
    with pg.engine.connect() as conn:
        with conn.begin():
            for key in keys:
                driver_execute(conn, INSERT, _delivery(key))
            rows = driver_rows(conn, f"SELECT id, received_at FROM webhook_deliveries WHERE id = ANY({json_keys('k')}) ORDER BY id",
                               {"k": json.dumps([keys[1], keys[2], "not stored"])})
            assert sorted(r[0] for r in rows) == sorted([keys[1], keys[2]])
            assert {as_utc(r[1]) for r in rows} == {NOW}
            conn.rollback()
        assert conn.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar() == 0


@pytest.mark.postgres
def test_a_statement_outside_a_transaction_begins_one_the_connection_commits(pg):
    with pg.engine.connect() as conn:
        driver_execute(conn, INSERT, _delivery("kuaidi100:x"))
        assert conn.in_transaction()
        conn.commit()
    with pg.engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar() == 1


@pytest.mark.postgres
def test_a_driver_error_is_raised_as_sqlalchemys_and_the_transaction_rolls_back(pg):
    with pg.engine.connect() as conn:
        with pytest.raises(IntegrityError):
            with conn.begin():
                driver_execute(conn, INSERT, _delivery("kuaidi100:dup"))
                driver_execute(conn, INSERT, _delivery("kuaidi100:dup"))
        assert conn.execute(text("SELECT count(*) FROM webhook_deliveries")).scalar() == 0


@pytest.mark.postgres
def test_a_tuned_engine_starts_its_connections_with_its_settings_and_leaves_the_pool_alone(pg):
    settings = {"enable_seqscan": "off", "plan_cache_mode": "force_generic_plan"}
    tuned = pg.tuned_engine(settings)
    assert pg.tuned_engine(dict(reversed(settings.items()))) is tuned
    with tuned.connect() as conn:
        assert conn.info["settings"] == settings
        assert conn.execute(text("SHOW enable_seqscan")).scalar() == "off"
        assert conn.execute(text("SHOW plan_cache_mode")).scalar() == "force_generic_plan"
    with pg.engine.connect() as conn:
        assert conn.execute(text("SHOW enable_seqscan")).scalar() == "on"
        assert "settings" not in conn.info


def test_on_sqlite_a_tuned_engine_is_the_stores_own(sqlite_store):
    assert sqlite_store.tuned_engine({"enable_seqscan": "off"}) is sqlite_store.engine
