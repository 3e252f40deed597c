"""Tables for stock: stock movements, stockout cases and the buyer's choices."""

from __future__ import annotations

from kefu.store.tables import Base  # noqa: F401  (tables of this capability subclass Base)
