"""Opening a store: engine with the right pragmas, migrations applied on first use, sessions."""

from __future__ import annotations

from contextlib import contextmanager
from functools import lru_cache
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.orm import Session, sessionmaker

MIGRATIONS_DIR = Path(__file__).parent / "migrations"


def normalise_url(url: str) -> str:
    """Let users write postgresql:// and still get the psycopg 3 driver."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url[len("postgres://") :]
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://") :]
    return url


def _sqlite_pragmas(dbapi_connection, _record) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def create_store_engine(url: str) -> Engine:
    """An engine for the URL, SQLite in WAL mode with foreign keys on."""
    url = normalise_url(url)
    if url.startswith("sqlite"):
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
    else:
        engine = create_engine(url, pool_pre_ping=True)
    return engine


def alembic_config(engine: Engine):
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    cfg.attributes["engine"] = engine
    return cfg


def migrate(engine: Engine) -> None:
    """Bring the schema to the newest migration (idempotent; cheap when already current)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext
    from alembic.script import ScriptDirectory

    cfg = alembic_config(engine)
    head = ScriptDirectory.from_config(cfg).get_current_head()
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
    if current != head:
        command.upgrade(cfg, "head")


class Store:
    """An opened, migrated database: hands out sessions and raw connections."""

    def __init__(self, url: str, *, auto_migrate: bool = True):
        self.url = normalise_url(url)
        self.engine = create_store_engine(self.url)
        if auto_migrate:
            migrate(self.engine)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._tuned: dict[tuple[tuple[str, str], ...], Engine] = {}

    @property
    def is_sqlite(self) -> bool:
        return self.engine.dialect.name == "sqlite"

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on error."""
        with self._sessions() as session:
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    def tuned_engine(self, settings: dict[str, str], *, connections: int = 1, overflow: int = 4) -> Engine:
        """A small engine of its own whose PostgreSQL connections start with these settings (e.g. planner settings for
        one kind of work), so they never leak into the shared pool; its connections' `info["settings"]` holds them.
        It keeps `connections` open; up to `overflow` more are opened when that many users hold one at once (each
        carrier's push batcher keeps its own while its pushes keep coming) and closed when given back.
        On SQLite (no such settings, one writer anyway) it is the store's engine."""
        if self.is_sqlite:
            return self.engine
        key = tuple(sorted(settings.items()))
        engine = self._tuned.get(key)
        if engine is None:
            options = " ".join(f"-c {name}={value}" for name, value in key)
            engine = create_engine(self.url, pool_pre_ping=True, pool_size=connections, max_overflow=overflow,
                                   connect_args={"options": options})
            event.listen(engine, "connect", lambda _dbapi, record: record.info.__setitem__("settings", dict(key)))
            self._tuned[key] = engine
        return engine

    def dispose(self) -> None:
        for engine in self._tuned.values():
            engine.dispose()
        self.engine.dispose()


@lru_cache(maxsize=8)
def open_store(url: str) -> Store:
    """The process-wide store for a URL (opened and migrated once)."""
    return Store(url)


def drop_everything(engine: Engine) -> None:
    """Remove every kefu table and the migration marker (tests and `kefu reset`)."""
    from kefu.store.tables import Base

    Base.metadata.drop_all(engine)
    with engine.begin() as conn:
        if inspect(conn).has_table("alembic_version"):
            conn.execute(text("DROP TABLE alembic_version"))
