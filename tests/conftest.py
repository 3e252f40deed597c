"""Shared fixtures: a migrated store on SQLite and on PostgreSQL, emptied for every test."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text

from kefu.store.database import Store, normalise_url
from kefu.store.tables import Base

POSTGRES_URL = os.environ.get("KEFU_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")


def _postgres_worker_url(worker: str) -> str | None:
    """A database of this xdist worker's own on the test server, created when missing; None when unreachable."""
    base = normalise_url(POSTGRES_URL)
    name = f"kefu_test_{worker}_{os.getpid()}"  # one database per test process: parallel runs never share rows
    try:
        admin = create_engine(base, isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            exists = conn.scalar(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name})
            if not exists:
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        admin.dispose()
    except Exception as exc:  # noqa: BLE001 - reported through the skip/fail below
        if os.environ.get("CI"):
            raise RuntimeError(f"PostgreSQL at {POSTGRES_URL} is required in CI: {exc}") from exc
        return None
    return base.rsplit("/", 1)[0] + "/" + name


@pytest.fixture(scope="session")
def worker_id_str(request) -> str:
    return getattr(request.config, "workerinput", {}).get("workerid", "main")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("tpl") / "template.db"
    store = Store(f"sqlite:///{path}")
    store.dispose()
    return path


@pytest.fixture(scope="session")
def postgres_store(worker_id_str):
    url = _postgres_worker_url(worker_id_str)
    if url is None:
        pytest.skip(f"PostgreSQL not reachable at {POSTGRES_URL}")
    store = Store(url)
    yield store
    store.dispose()
    _drop_database(url)


def _drop_database(url: str) -> None:
    base, name = url.rsplit("/", 1)
    admin = create_engine(normalise_url(POSTGRES_URL), isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _truncate_postgres(store: Store) -> None:
    names = ", ".join(f'"{t.name}"' for t in Base.metadata.sorted_tables)
    with store.engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def store(request, tmp_path, sqlite_template):
    """A freshly migrated, empty store: every test using it runs once on SQLite and once on PostgreSQL."""
    if request.param == "sqlite":
        path = tmp_path / "kefu.db"
        shutil.copy(sqlite_template, path)
        s = Store(f"sqlite:///{path}")
        yield s
        s.dispose()
    else:
        s = request.getfixturevalue("postgres_store")
        _truncate_postgres(s)
        yield s


@pytest.fixture
def sqlite_store(tmp_path, sqlite_template):
    """An empty SQLite store only (for tests about SQLite specifics or the CLI's default)."""
    path = tmp_path / "kefu.db"
    shutil.copy(sqlite_template, path)
    s = Store(f"sqlite:///{path}")
    yield s
    s.dispose()


FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES
