"""One process of several leads a periodic job (kefu.store.leadership): an advisory lock on PostgreSQL, always on SQLite."""

from __future__ import annotations

import pytest

from kefu.store.leadership import Leadership


@pytest.mark.postgres
def test_one_holder_at_a_time_and_the_next_takes_over_when_it_lets_go(postgres_store):
    first, second = Leadership(postgres_store, "sweeps"), Leadership(postgres_store, "sweeps")
    other_job = Leadership(postgres_store, "another job")
    try:
        assert first.held() and first.held()  # taken, then kept
        assert not second.held()
        assert other_job.held()  # a different job has its own lock
        first.release()
        assert second.held() and not first.held()
    finally:
        for lead in (first, second, other_job):
            lead.release()


@pytest.mark.postgres
def test_a_holder_whose_connection_died_gives_the_lock_up(postgres_store):
    first, second = Leadership(postgres_store, "sweeps"), Leadership(postgres_store, "sweeps")
    try:
        assert first.held()
        first._connection.invalidate()  # as when the process or its connection dies: the server drops the lock
        assert second.held()
        assert not first.held()
    finally:
        first.release()
        second.release()


def test_on_sqlite_the_one_process_leads(sqlite_store):
    assert Leadership(sqlite_store, "sweeps").held() and Leadership(sqlite_store, "sweeps").held()
