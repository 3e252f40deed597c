"""Tables for the service desk: conversations, chat messages, the knowledge base and follow-up tasks."""

from __future__ import annotations

from kefu.store.tables import Base  # noqa: F401  (tables of this capability subclass Base)
