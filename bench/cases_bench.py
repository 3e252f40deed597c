"""Benchmark: the /cases list (SLA clocks of every open case) in SQLite vs a naive one-query-per-case baseline.

Run:  .venv/bin/python bench/cases_bench.py                 (2,000 open cases, 5 events each)
      .venv/bin/python bench/cases_bench.py --cases 10000

Builds one shop with N open cases in mixed steps (a fifth of them waiting on the buyer) and their clock events with
executemany, then, in the same run, times:
  - kefu's `list_cases` (cases, offers and events read in chunks of 500, pure SLA clocks, worst first);
  - the naive baseline: the cases, then each case's events and offers with their own queries (`clock_of` per case).
Both must give every case the same SLA state. Goal: the list of 2,000 open cases ≤ 1 s.
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

from sqlalchemy import insert, select

from kefu.domain.cases.steps import WORKING_STEPS
from kefu.services import cases as svc
from kefu.store.case_tables import Case, CaseEvent, CaseOffer
from kefu.store.database import Store
from kefu.store.tables import Shop

GOAL_SECONDS = 1.0
NOW = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
SHOP = "benchcases01"


def build(store: Store, count: int, rng: random.Random) -> None:
    cases, events, offers = [], [], []
    for n in range(count):
        case_id = f"case{n:08d}"
        opened = NOW - timedelta(hours=rng.uniform(0, 96))
        steps = WORKING_STEPS[: rng.randint(1, len(WORKING_STEPS))]
        waiting = rng.random() < 0.2
        cases.append({"id": case_id, "shop_id": SHOP, "source": "manual", "summary": f"投诉 {n}", "step": steps[-1],
                      "status": "open", "severity": rng.choice(("low", "medium", "high")), "waiting_on_buyer": waiting,
                      "opened_at": opened, "updated_at": opened})
        at = opened
        for step in steps:
            events.append({"shop_id": SHOP, "case_id": case_id, "at": at, "kind": "step", "step": step})
            at += timedelta(hours=rng.uniform(0.2, 6))
        if waiting:
            events.append({"shop_id": SHOP, "case_id": case_id, "at": min(at, NOW), "kind": "wait_buyer",
                           "step": steps[-1]})
        if len(steps) >= 2:
            offers.append({"id": f"offer{n:08d}", "shop_id": SHOP, "case_id": case_id, "kind": "refund",
                           "description": "退款", "cost": 10, "buyer_accepts": "yes", "tier": rng.randint(1, 5),
                           "beyond_policy": False, "approval": "not_needed", "chosen": False, "created_at": opened})
    with store.session() as session:
        session.add(Shop(id=SHOP, name="工单压测店", platform="taobao", settings={}, created_at=NOW))
        session.flush()
        session.execute(insert(Case), cases)
        session.execute(insert(CaseEvent), events)
        if offers:
            session.execute(insert(CaseOffer), offers)


def naive(store: Store) -> dict[str, str]:
    with store.session() as session:
        found = {}
        for case in session.scalars(select(Case).where(Case.shop_id == SHOP, Case.status == "open")):
            session.scalars(select(CaseOffer).where(CaseOffer.case_id == case.id)).all()
            found[case.id] = svc.clock_of(session, case, NOW).state
        return found


def kefu(store: Store, count: int) -> dict[str, str]:
    with store.session() as session:
        page = svc.list_cases(session, shop_id=SHOP, now=NOW, limit=count)
        return {row.case.id: row.sla_state for row in page.items}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        store = Store(f"sqlite:///{folder}/bench.db")
        started = time.perf_counter()
        build(store, args.cases, random.Random(7))
        print(f"built {args.cases:,} open cases in {time.perf_counter() - started:.2f} s")
        started = time.perf_counter()
        baseline = naive(store)
        naive_seconds = time.perf_counter() - started
        started = time.perf_counter()
        ours = kefu(store, args.cases)
        kefu_seconds = time.perf_counter() - started
        store.dispose()
    assert ours == baseline, "the list and the per-case clocks disagree"
    states = {state: list(ours.values()).count(state) for state in sorted(set(ours.values()))}
    print(f"SLA states: {states}")
    print(f"naive per-case queries: {naive_seconds:.3f} s")
    print(f"kefu list_cases:        {kefu_seconds:.3f} s  ({naive_seconds / kefu_seconds:.1f}× faster)")
    verdict = "ok" if kefu_seconds <= GOAL_SECONDS else "SLOWER THAN GOAL"
    print(f"goal ≤ {GOAL_SECONDS:.1f} s for the list: {verdict}")


if __name__ == "__main__":
    main()
