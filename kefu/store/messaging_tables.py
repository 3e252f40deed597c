"""Tables for proactive and service messages: templates, the outbox, deliveries, consent and suppressions."""

from __future__ import annotations

from kefu.store.tables import Base  # noqa: F401  (tables of this capability subclass Base)
