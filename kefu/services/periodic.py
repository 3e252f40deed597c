"""The server's periodic work: which sweeps run on its timer, how often, and running the due ones so that one failing
job (or shop) never stops the others."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from kefu.store.database import Store
from kefu.store.tables import Shop

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PeriodicJob:
    """A sweep the server runs: at every tick (`every` None) or at most once per `every`."""

    name: str
    run: Callable[[Store, datetime], object]
    every: timedelta | None = None


def _per_shop(name: str, work: Callable) -> Callable[[Store, datetime], None]:
    """Run `work(session, shop_id, now)` for every shop in its own transaction; a failing shop is logged."""
    def run(store: Store, now: datetime) -> None:
        with store.session() as session:
            shop_ids = list(session.scalars(select(Shop.id).order_by(Shop.id)))
        for shop_id in shop_ids:
            try:
                with store.session() as session:
                    work(session, shop_id, now)
            except Exception:
                log.exception("%s of shop %s failed", name, shop_id)
    return run


def _watch(store: Store, now: datetime) -> None:
    from kefu.services.watch import sweep_shops

    sweep_shops(store, now=now, on_error=lambda shop_id, exc: log.error("watch sweep of shop %s failed: %s", shop_id, exc))


def _promises(store: Store, now: datetime) -> None:
    from kefu.services.promises import sweep_all

    sweep_all(store, now=now)


def _returns(store: Store, now: datetime) -> None:
    from kefu.services.returns import sweep_all

    sweep_all(store, now=now)


def _stock(session, shop_id: str, now: datetime) -> None:
    from kefu.services.stock_check import run_stock_pass

    run_stock_pass(session, shop_id, now=now, actor="timer")


def _growth(session, shop_id: str, now: datetime) -> None:
    from kefu.services.care import schedule_visits
    from kefu.services.segments import refresh_scores

    refresh_scores(session, shop_id, now)
    schedule_visits(session, shop_id, now)


JOBS: tuple[PeriodicJob, ...] = (
    PeriodicJob("watch sweep", _watch),  # parcels and ship promises
    PeriodicJob("promise sweep", _promises),  # promises to buyers that fell due
    PeriodicJob("returns sweep", _returns),  # refunds past due, return-rate jumps
    PeriodicJob("stock pass", _per_shop("stock pass", _stock)),  # stockouts before shipping, low stock
    PeriodicJob("segments and care", _per_shop("segments and care", _growth), every=timedelta(hours=6)),
)


def due(jobs: tuple[PeriodicJob, ...], last_run: dict[str, datetime], now: datetime) -> list[PeriodicJob]:
    """The jobs to run at this tick."""
    return [j for j in jobs if j.every is None or j.name not in last_run or now - last_run[j.name] >= j.every]


def run_due(store: Store, last_run: dict[str, datetime], *, now: datetime | None = None,
            jobs: tuple[PeriodicJob, ...] = JOBS) -> list[str]:
    """Run every due job once, in order; returns the names that ran. A failure is logged and the next job runs."""
    now = now or datetime.now(UTC)
    ran = []
    for job in due(jobs, last_run, now):
        try:
            job.run(store, now)
        except Exception:  # the workbench must keep serving whatever a sweep does
            log.exception("%s failed", job.name)
        last_run[job.name] = now
        ran.append(job.name)
    return ran
