from datetime import UTC, datetime, timedelta

from kefu.services.periodic import JOBS, PeriodicJob, due, run_due
from kefu.services.shops import get_or_create_shop
from kefu.store.growth_tables import CustomerScore
from kefu.store.tables import Customer

NOW = datetime(2026, 11, 22, 4, tzinfo=UTC)


def test_slow_jobs_wait_for_their_interval_and_a_failure_never_stops_the_rest(sqlite_store):
    ran = []

    def broken(store, now):
        ran.append("broken")
        raise RuntimeError("database on fire")

    jobs = (PeriodicJob("broken", broken), PeriodicJob("daily", lambda s, n: ran.append("daily"), every=timedelta(days=1)),
            PeriodicJob("tick", lambda s, n: ran.append("tick")))
    last: dict = {}
    assert run_due(sqlite_store, last, now=NOW, jobs=jobs) == ["broken", "daily", "tick"]
    assert [j.name for j in due(jobs, last, NOW + timedelta(hours=1))] == ["broken", "tick"]
    assert [j.name for j in due(jobs, last, NOW + timedelta(days=1))] == ["broken", "daily", "tick"]
    assert ran == ["broken", "daily", "tick"]


def test_the_servers_jobs_run_on_an_empty_and_a_small_shop(store):
    with store.session() as session:
        shop = get_or_create_shop(session, "定时店")
        session.add(Customer(id="c1", shop_id=shop.id, platform="taobao", buyer_key="a", buyer_nick="a", created_at=NOW))
    assert run_due(store, {}, now=NOW) == [j.name for j in JOBS]
    with store.session() as session:
        assert session.get(CustomerScore, "c1").rfm_group == "prospects"
