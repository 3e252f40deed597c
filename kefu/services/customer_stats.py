"""Keeping each customer's order counts, spend, first/last order and value tier current, in set-based SQL.

The work is a handful of statements whatever the shop's size: the orders are grouped once into a temporary
table; the value tiers are cut at spend floors found with a window function (ranking spenders by spend); the
customers whose figures or tier differ are updated from the table in one write each. Only rows that actually
change are written, so refreshing after a small import of a big shop writes little.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, bindparam, select, text

from kefu.config import shop_rules
from kefu.domain.order_status import PAID
from kefu.domain.value_tier import LOW, MIDDLE, NONE, PPM, TOP, TierShares, tier_shares
from kefu.store.tables import Shop

AGGREGATE_TABLE = "kefu_customer_figures"
SQLITE_CACHE_KIB = 65536  # a 64 MiB page cache while refreshing (as an import writes): fixed, so memory does not grow with the shop

# Status literals come from our own constant set, never from input, so inlining them is safe.
_PAID_LIST = ", ".join(f"'{status}'" for status in sorted(PAID))



def order_spend_sql(alias: str = "o") -> str:
    """SQL for one order's spend in fen: paid minus refunded for a paid order, never below zero (orders table as `alias`)."""
    paid, refunded = f"COALESCE({alias}.paid_amount, 0)", f"COALESCE({alias}.refunded_amount, 0)"
    return f"CASE WHEN {alias}.status IN ({_PAID_LIST}) AND {paid} > {refunded} THEN {paid} - {refunded} ELSE 0 END"


def paid_flag_sql(alias: str = "o") -> str:
    """SQL that is 1 for an order in a paid status, else 0."""
    return f"CASE WHEN {alias}.status IN ({_PAID_LIST}) THEN 1 ELSE 0 END"


_SPEND = order_spend_sql("o")

_CREATE_AGGREGATES = {
    "sqlite": f"""CREATE TEMP TABLE {AGGREGATE_TABLE} (
        customer_id TEXT PRIMARY KEY, orders_count, paid_orders_count, total_spent, first_order_at, last_order_at
    ) WITHOUT ROWID""",
    "postgresql": f"""CREATE TEMP TABLE {AGGREGATE_TABLE} (
        customer_id VARCHAR(64) PRIMARY KEY, orders_count BIGINT, paid_orders_count BIGINT, total_spent BIGINT,
        first_order_at TIMESTAMP WITHOUT TIME ZONE, last_order_at TIMESTAMP WITHOUT TIME ZONE
    )""",
}

_FILL_AGGREGATES = f"""
    INSERT INTO {AGGREGATE_TABLE} (customer_id, orders_count, paid_orders_count, total_spent, first_order_at, last_order_at)
    SELECT o.customer_id,
           COUNT(*),
           SUM({paid_flag_sql("o")}),
           SUM({_SPEND}),
           MIN(o.created_at),
           MAX(o.created_at)
    FROM orders AS o {{scan}}
    WHERE {{which}} AND o.customer_id IS NOT NULL
    GROUP BY o.customer_id
"""

_FIGURES_DIFFER = """(customers.orders_count {distinct} agg.orders_count
           OR customers.paid_orders_count {distinct} agg.paid_orders_count
           OR customers.total_spent {distinct} agg.total_spent
           OR customers.first_order_at {distinct} agg.first_order_at
           OR customers.last_order_at {distinct} agg.last_order_at)"""

_SET_FIGURES = """orders_count = agg.orders_count,
        paid_orders_count = agg.paid_orders_count,
        total_spent = agg.total_spent,
        first_order_at = agg.first_order_at,
        last_order_at = agg.last_order_at"""


def _tier_of(spend: str) -> str:
    """SQL for the tier of a spend (in fen) given the :top_floor and :middle_floor parameters."""
    return (
        f"CASE WHEN {spend} >= :top_floor THEN '{TOP}' WHEN {spend} >= :middle_floor THEN '{MIDDLE}' "
        f"WHEN {spend} > 0 THEN '{LOW}' ELSE '{NONE}' END"
    )


# Some customers' figures only: tiers are recut for everyone afterwards.
_UPDATE_FIGURES = f"""
    UPDATE customers SET {_SET_FIGURES}
    FROM {AGGREGATE_TABLE} AS agg
    WHERE customers.id = agg.customer_id AND {_FIGURES_DIFFER}
"""

# A whole shop: figures and tier in one write per customer (a second pass would write every row again).
_UPDATE_FIGURES_AND_TIERS = f"""
    UPDATE customers SET {_SET_FIGURES}, value_tier = {_tier_of("agg.total_spent")}
    FROM {AGGREGATE_TABLE} AS agg
    WHERE customers.id = agg.customer_id
      AND ({_FIGURES_DIFFER} OR customers.value_tier {{distinct}} ({_tier_of("agg.total_spent")}))
"""

_HAS_FIGURES = """(customers.orders_count {distinct} 0 OR customers.paid_orders_count {distinct} 0
                   OR customers.total_spent {distinct} 0 OR customers.first_order_at IS NOT NULL
                   OR customers.last_order_at IS NOT NULL)"""

_COUNT_CUSTOMERS = "SELECT COUNT(*) FROM customers WHERE customers.shop_id = :shop_id {subset}"

_COUNT_WITH_FIGURES = "SELECT COUNT(*) FROM customers WHERE customers.shop_id = :shop_id {subset} AND " + _HAS_FIGURES

# Customers without a single order (left or never had one) go back to zero.
_RESET_ORDERLESS = (
    f"""UPDATE customers SET orders_count = 0, paid_orders_count = 0, total_spent = 0,
                            first_order_at = NULL, last_order_at = NULL, value_tier = '{NONE}'
       WHERE customers.shop_id = :shop_id {{subset}} AND """
    + _HAS_FIGURES
    # NOT EXISTS, not NOT IN: PostgreSQL turns it into an anti-join however big the table is.
    + f" AND NOT EXISTS (SELECT 1 FROM {AGGREGATE_TABLE} AS agg WHERE agg.customer_id = customers.id)"
)


def _tier_floors_sql(table: str, shop_filter: str) -> str:
    """SQL for the spend of the last customer inside the top and inside the top-or-middle share of `table`.

    Spenders are ranked by spend; the first ceil(n × share) are inside, and anyone spending as much as the last of
    them is inside too (ties share a tier). The spender count is an uncorrelated subquery so that both databases
    count once (as a join, PostgreSQL re-counted for every row).
    """
    return f"""
    SELECT MIN(CASE WHEN (r.rn - 1) * {PPM} < r.spenders * :top_ppm THEN r.spent END) AS top_floor,
           MIN(CASE WHEN (r.rn - 1) * {PPM} < r.spenders * :upper_ppm THEN r.spent END) AS middle_floor
    FROM (
        SELECT c.total_spent AS spent,
               ROW_NUMBER() OVER (ORDER BY c.total_spent DESC) AS rn,
               (SELECT COUNT(*) FROM {table} AS n WHERE {shop_filter.format(t="n")} n.total_spent > 0) AS spenders
        FROM {table} AS c
        WHERE {shop_filter.format(t="c")} c.total_spent > 0
    ) AS r
"""


_TIER_FLOORS = _tier_floors_sql("customers", "{t}.shop_id = :shop_id AND")
_TIER_FLOORS_OF_AGGREGATES = _tier_floors_sql(AGGREGATE_TABLE, "")

_UPDATE_TIERS = (
    f"UPDATE customers SET value_tier = {_tier_of('customers.total_spent')} "
    f"WHERE customers.shop_id = :shop_id AND customers.value_tier {{distinct}} ({_tier_of('customers.total_spent')})"
)

# After a whole-shop refresh, with figures and tiers written together: customers who spent nothing are `none`.
_UPDATE_SPENDLESS_TIERS = (
    f"UPDATE customers SET value_tier = '{NONE}' "
    f"WHERE customers.shop_id = :shop_id AND customers.total_spent <= 0 AND customers.value_tier {{distinct}} '{NONE}'"
)


def _distinct_operator(conn: Connection) -> str:
    # `IS NOT` is SQLite's null-safe inequality on every version; PostgreSQL spells it IS DISTINCT FROM.
    return "IS NOT" if conn.dialect.name == "sqlite" else "IS DISTINCT FROM"


def _shares_of_shop(conn: Connection, shop_id: str) -> TierShares:
    settings = conn.execute(select(Shop.settings).where(Shop.id == shop_id)).scalar_one_or_none()
    return tier_shares(shop_rules(settings or {}).get("value_tiers"))


def _floors(conn: Connection, sql: str, shop_id: str, shares: TierShares) -> dict[str, object]:
    row = conn.execute(text(sql), {"shop_id": shop_id, "top_ppm": shares.top_ppm, "upper_ppm": shares.upper_ppm}).one()
    return {"top_floor": row.top_floor, "middle_floor": row.middle_floor}


def _update_tiers(conn: Connection, shop_id: str, floors: dict[str, object]) -> int:
    sql = _UPDATE_TIERS.format(distinct=_distinct_operator(conn))
    return conn.execute(text(sql), {"shop_id": shop_id, **floors}).rowcount


def refresh_value_tiers(conn: Connection, shop_id: str) -> int:
    """Recut a shop's top / middle / low / none tiers from the customers' stored spend; returns how many changed."""
    floors = _floors(conn, _TIER_FLOORS, shop_id, _shares_of_shop(conn, shop_id))
    return _update_tiers(conn, shop_id, floors)


@contextmanager
def _big_sqlite_cache(conn: Connection) -> Iterator[None]:
    """On SQLite, a large page cache for the duration, then the connection's own setting back."""
    if conn.dialect.name != "sqlite":
        yield
        return
    before = conn.exec_driver_sql("PRAGMA cache_size").scalar_one()
    size_kib = -before if before < 0 else before * 4  # positive values are pages (4 KiB by default)
    if size_kib < SQLITE_CACHE_KIB:
        conn.exec_driver_sql(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
    try:
        yield
    finally:
        if size_kib < SQLITE_CACHE_KIB:
            conn.exec_driver_sql(f"PRAGMA cache_size={int(before)}")


def refresh_customer_stats(conn: Connection, shop_id: str, customer_ids: Collection[str] | None = None) -> int:
    """Recompute counts, spend and first/last order of a shop's customers (or just `customer_ids`), then every value tier; returns how many customer rows were written."""
    with _big_sqlite_cache(conn):
        return _refresh(conn, shop_id, customer_ids)


def _refresh(conn: Connection, shop_id: str, customer_ids: Collection[str] | None) -> int:
    sqlite = conn.dialect.name == "sqlite"
    distinct = _distinct_operator(conn)
    shares = _shares_of_shop(conn, shop_id)
    params: dict[str, object] = {"shop_id": shop_id}
    whole_shop = customer_ids is None
    if whole_shop:
        # A whole shop is most of the table: one sequential pass beats following an index row by row.
        scan, which, customer_subset = ("NOT INDEXED" if sqlite else ""), "o.shop_id = :shop_id", ""
    else:
        params["customer_ids"] = sorted(set(customer_ids or ()))
        scan, which, customer_subset = "", "o.customer_id IN :customer_ids", "AND customers.id IN :customer_ids"

    def run(sql: str, extra: dict[str, object] | None = None):
        statement = text(sql)
        if ":customer_ids" in sql:
            statement = statement.bindparams(bindparam("customer_ids", expanding=True))
        return conn.execute(statement, {**params, **(extra or {})})

    changed = 0
    floors: dict[str, object] | None = None
    if whole_shop or params["customer_ids"]:
        conn.exec_driver_sql(f"DROP TABLE IF EXISTS {AGGREGATE_TABLE}")
        conn.exec_driver_sql(_CREATE_AGGREGATES["sqlite" if sqlite else "postgresql"])
        run(_FILL_AGGREGATES.format(scan=scan, which=which))
        if not sqlite:
            conn.exec_driver_sql(f"ANALYZE {AGGREGATE_TABLE}")  # temporary tables get no statistics otherwise
        if whole_shop:
            # Every customer with orders is in the aggregates and everyone else spent nothing, so the tier
            # floors are known before any customer row is written.
            floors = _floors(conn, _TIER_FLOORS_OF_AGGREGATES, shop_id, shares)
            changed = run(_UPDATE_FIGURES_AND_TIERS.format(distinct=distinct), floors).rowcount
        else:
            changed = run(_UPDATE_FIGURES.format(distinct=distinct)).rowcount
        # Resetting probes every customer with figures, so first check cheaply whether anyone can need it:
        # usually every customer has orders (a Taobao customer is born from an order).
        with_orders = conn.execute(text(f"SELECT COUNT(*) FROM {AGGREGATE_TABLE}")).scalar_one()
        customers = run(_COUNT_CUSTOMERS.format(subset=customer_subset)).scalar_one()
        if customers > with_orders:
            with_figures = run(_COUNT_WITH_FIGURES.format(subset=customer_subset, distinct=distinct)).scalar_one()
            if with_figures > with_orders:
                changed += run(_RESET_ORDERLESS.format(subset=customer_subset, distinct=distinct)).rowcount
        conn.exec_driver_sql(f"DROP TABLE {AGGREGATE_TABLE}")
    if floors is None:
        return changed + _update_tiers(conn, shop_id, _floors(conn, _TIER_FLOORS, shop_id, shares))
    # The whole shop's tiers were written with the figures; only customers without orders can still be off.
    return changed + run(_UPDATE_SPENDLESS_TIERS.format(distinct=distinct)).rowcount
