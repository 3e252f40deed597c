"""Tables for reviews: imported reviews, reply drafts, recovery cases and trained text models."""

from __future__ import annotations

from kefu.store.tables import Base  # noqa: F401  (tables of this capability subclass Base)
