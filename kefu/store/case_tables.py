"""Tables for complaint cases: steps, offers on the settlement ladder, promises made and evidence."""

from __future__ import annotations

from kefu.store.tables import Base  # noqa: F401  (tables of this capability subclass Base)
