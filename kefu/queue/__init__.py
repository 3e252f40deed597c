"""The task queue that delivers the outbox: procrastinate on PostgreSQL, an in-process loop on SQLite."""
