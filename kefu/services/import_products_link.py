"""Linking imported lines to the shop's products (by item id, outer id or title), creating products on first sight."""

from __future__ import annotations

from sqlalchemy import Connection, text

from kefu.ids import stable_id


class ProductIndex:
    """The shop's products by item id, outer id and title, so lines link to a product without a query per row."""

    def __init__(self, conn: Connection, shop_id: str):
        self.shop_id = shop_id
        self.by_key: dict[str, str] = {}
        rows = conn.execute(
            text("SELECT id, platform_item_id, outer_id, title FROM products WHERE shop_id = :s"), {"s": shop_id}
        )
        for pid, item_id, outer_id, title in rows:
            self._remember(pid, item_id, outer_id, title)
        self.pending: list[tuple] = []

    def _remember(self, pid: str, item_id: str | None, outer_id: str | None, title: str | None) -> None:
        for prefix, value in (("i", item_id), ("o", outer_id), ("t", title)):
            if value:
                self.by_key.setdefault(f"{prefix}:{value}", pid)

    def product_for(self, item_id: str | None, outer_id: str | None, title: str, price: int | None) -> str:
        """The product a line belongs to: matched by item id, outer id or title, else a new one."""
        for prefix, value in (("i", item_id), ("o", outer_id), ("t", title)):
            if value:
                pid = self.by_key.get(f"{prefix}:{value}")
                if pid:
                    return pid
        key = (item_id or outer_id or title)[:200]
        pid = stable_id("product", self.shop_id, key)
        self._remember(pid, item_id, outer_id, title)
        self.pending.append((pid, self.shop_id, key, item_id, outer_id, title, price))
        return pid
