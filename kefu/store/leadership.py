"""One process of several does a periodic job: it holds a PostgreSQL advisory lock on a connection of its own.

`kefu serve --workers N` runs N copies of the workbench; each would otherwise sweep the parcel watch. Whichever
process takes the lock first sweeps; if it dies, its connection closes, the lock goes with it, and another process
takes it on its next turn. On SQLite (one process serves) this process always leads.
"""

from __future__ import annotations

import zlib

from sqlalchemy import Connection, text
from sqlalchemy.exc import SQLAlchemyError

from kefu.store.database import Store


class Leadership:
    """Whether this process is the one doing `name`'s job now; `held()` takes the lock when it is free."""

    def __init__(self, store: Store, name: str):
        self.store = store
        self.key = zlib.crc32(f"kefu:{name}".encode())  # a stable 32-bit key per job name
        self._connection: Connection | None = None

    def held(self) -> bool:
        if self.store.is_sqlite:
            return True
        try:
            if self._connection is not None:
                self._connection.exec_driver_sql("SELECT 1")  # still connected, so still holding the lock
                return True
            connection = self.store.engine.connect().execution_options(isolation_level="AUTOCOMMIT")
            taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}).scalar()
            if taken:
                self._connection = connection
                return True
            connection.close()
            return False
        except SQLAlchemyError:  # the database or our connection went away: whoever reconnects first leads next
            self.release()
            return False

    def release(self) -> None:
        connection, self._connection = self._connection, None
        if connection is None:
            return
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
            connection.close()
        except SQLAlchemyError:
            connection.invalidate()
