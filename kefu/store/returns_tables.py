"""Tables for returns: return requests, policy decisions and return reasons."""

from __future__ import annotations

from kefu.store.tables import Base  # noqa: F401  (tables of this capability subclass Base)
