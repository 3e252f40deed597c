"""What every command shares: the database URL chosen with --db and the store opened from it."""

from __future__ import annotations

from dataclasses import dataclass, field

import typer

from kefu.config import DEFAULT_DATABASE_URL
from kefu.store.database import Store


@dataclass
class CliState:
    db_url: str | None = None
    _store: Store | None = field(default=None, repr=False)

    @property
    def url(self) -> str:
        return self.db_url or DEFAULT_DATABASE_URL

    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.url)
        return self._store


def store_of(ctx: typer.Context) -> Store:
    """The store for this invocation, opened and migrated on first use."""
    state = ctx.find_root().obj
    if not isinstance(state, CliState):
        state = CliState()
        ctx.find_root().obj = state
    return state.store()
