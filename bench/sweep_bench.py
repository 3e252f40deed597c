"""Benchmark: the parcel-watch sweep over 1,000,000 active shipments in SQLite vs a naive load-everything-and-filter.

Run:  .venv/bin/python bench/sweep_bench.py                       (1,000,000 shipments, 2% of them stalled)
      .venv/bin/python bench/sweep_bench.py --shipments 100000

Builds one shop with N shipped orders and N active parcels (in transit, collected, out for delivery, waiting for
pickup or at a pickup point; carriers and destinations mixed, 新疆/西藏 and 邮政 among them) with executemany, of
which a share have had no scan for 100–300 hours. Then, in the same run, it times:
  - kefu's sweep (set-based candidates on ix_shipments_watch, pure rules, alerts inserted), first and again;
  - the naive baseline: every shipment of the shop loaded into Python and filtered with the same pure rules.
Both must find exactly the stalled parcels. Goal: the first sweep (finding and raising them all) ≤ 2 s.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from kefu.config import shop_rules
from kefu.domain.rules import watch as rules
from kefu.services import watch
from kefu.store.database import Store
from kefu.store.tables import Alert, Order, Shipment

GOAL_SECONDS = 2.0
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)
SHOP = "benchshop01"
STATES = (("in_transit", 0.70), ("collected", 0.10), ("out_for_delivery", 0.10), ("awaiting_pickup", 0.05),
          ("at_pickup_point", 0.05))
MOVING = {"in_transit", "collected", "out_for_delivery"}
CARRIERS = (("zhongtong", "中通快递"), ("yuantong", "圆通速递"), ("yunda", "韵达快递"), ("shentong", "申通快递"),
            ("jtexpress", "极兔速递"), ("youzhengguonei", "邮政快递包裹"), ("shunfeng", "顺丰速运"))
PROVINCES = ("浙江省", "江苏省", "广东省", "上海", "北京", "四川省", "山东省", "河南省", "湖北省", "新疆维吾尔自治区",
             "西藏自治区", "内蒙古自治区")


def _time(moment: datetime) -> str:
    """SQLAlchemy's SQLite text form of a naive UTC time."""
    return moment.astimezone(UTC).replace(tzinfo=None).isoformat(" ", "microseconds")


def build(store: Store, count: int, stalled_share: float, seed: int) -> int:
    """Write the shop, its orders and parcels; returns how many parcels are stalled."""
    rng = random.Random(seed)
    states = [s for s, _ in STATES]
    weights = [w for _, w in STATES]
    raw = store.engine.raw_connection()
    try:
        cur = raw.cursor()
        cur.execute("PRAGMA foreign_keys=OFF")
        cur.execute("PRAGMA synchronous=OFF")
        cur.execute("INSERT INTO shops (id, name, platform, settings, created_at) VALUES (?, ?, ?, ?, ?)",
                    (SHOP, "压测店", "taobao", "{}", _time(NOW)))
        stalled = 0
        batch = 50_000
        for start in range(0, count, batch):
            orders, parcels = [], []
            for n in range(start, min(count, start + batch)):
                oid = f"{SHOP}:{4_000_000_000_000_000_000 + n}"
                province = rng.choice(PROVINCES)
                code, name = rng.choice(CARRIERS)
                state = rng.choices(states, weights)[0]
                shipped = NOW - timedelta(hours=rng.uniform(2, 20)) if state == "awaiting_pickup" else \
                    NOW - timedelta(hours=rng.uniform(30, 320))
                paid = shipped - timedelta(hours=rng.uniform(1, 40))
                picked = None if state == "awaiting_pickup" else shipped + timedelta(hours=rng.uniform(0.5, 6))
                last = shipped if picked is None else max(picked, NOW - timedelta(hours=rng.uniform(0, 40)))
                if state in MOVING and rng.random() < stalled_share and picked is not None:
                    last = NOW - timedelta(hours=rng.uniform(100, 300))
                    picked = min(picked, last)
                    stalled += 1
                orders.append((oid, SHOP, "taobao", oid.split(":")[1], "WAIT_BUYER_CONFIRM_GOODS", _time(paid - timedelta(minutes=5)),
                               _time(paid), _time(shipped), province, "bench", "CNY"))
                parcels.append((f"{oid}:W{n}", SHOP, oid, name, code, f"W{n}", _time(shipped), state,
                                _time(last) if picked else None, _time(last) if picked else None,
                                _time(picked) if picked else None, province, "kuaidi100", "polling"))
            cur.executemany(
                "INSERT INTO orders (id, shop_id, platform, order_no, status, created_at, paid_at, shipped_at, "
                "receiver_province, source, currency) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", orders)
            cur.executemany(
                "INSERT INTO shipments (id, shop_id, order_id, carrier_name, carrier_code, waybill_no, shipped_at, status, "
                "status_at, last_event_at, picked_up_at, destination_province, tracking_source, subscription_status) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", parcels)
        raw.commit()
        cur.execute("ANALYZE")
        raw.commit()
    finally:
        raw.close()
    return stalled


def kefu_sweep(store: Store) -> tuple[float, watch.SweepResult]:
    started = time.perf_counter()
    with store.session() as session:
        result = watch.sweep(session, SHOP, now=NOW)
    return time.perf_counter() - started, result


def naive_sweep(store: Store) -> tuple[float, int]:
    """Every shipment of the shop (with its order) loaded into Python, then the same rules applied to each."""
    started = time.perf_counter()
    shop = shop_rules({})
    policies = watch._Policies(shop)
    stalled = 0
    with store.session() as session:
        rows = session.execute(watch._shipment_select(Shipment.shop_id == SHOP)).all()
        for row in rows:
            facts = watch._shipment_facts(row)
            drafts = rules.parcel_alerts(facts, policies(facts.carrier_code, facts.province), NOW)
            stalled += sum(1 for d in drafts if d.kind == "stall")
    return time.perf_counter() - started, stalled


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shipments", type=int, default=1_000_000)
    parser.add_argument("--stalled-share", type=float, default=0.02, help="share of moving parcels left silent")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="kefu-sweep-bench-") as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'sweep.db'}")
        started = time.perf_counter()
        expected = build(store, args.shipments, args.stalled_share, args.seed)
        built = time.perf_counter() - started
        first_seconds, first = kefu_sweep(store)
        again_seconds, again = kefu_sweep(store)
        naive_seconds, naive_found = naive_sweep(store)
        with store.session() as session:
            from sqlalchemy import func, select

            alerts = session.scalar(select(func.count()).select_from(Alert).where(Alert.kind == "stall"))
            orders = session.scalar(select(func.count()).select_from(Order))
        store.dispose()

    print(f"\nkefu watch sweep benchmark — {args.shipments:,} active shipments ({orders:,} orders) in SQLite, "
          f"{expected:,} stalled; built in {built:.1f} s")
    print(f"  naive: load every shipment + filter : {naive_seconds:7.2f} s   found {naive_found:,} stalled")
    print(f"  kefu sweep (first, raises alerts)   : {first_seconds:7.2f} s   looked at {first.examined:,}, "
          f"raised {first.raised:,} {first.raised_by_kind}")
    print(f"  kefu sweep (again, nothing new)     : {again_seconds:7.2f} s   raised {again.raised}, live {again.live:,}")
    print(f"  speed ratio (naive / kefu first)    : {naive_seconds / first_seconds:.1f}×   "
          f"goal: first sweep ≤ {GOAL_SECONDS:.0f} s → {'met' if first_seconds <= GOAL_SECONDS else 'NOT met'}")
    if not (first.raised == alerts == expected == naive_found and first.raised_by_kind == {"stall": expected}
            and again.raised == 0):
        raise SystemExit(f"benchmark failed: expected {expected} stalled, sweep raised {first.raised_by_kind}, "
                         f"naive found {naive_found}, second sweep raised {again.raised}")


if __name__ == "__main__":
    main()
