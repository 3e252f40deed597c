"""`kefu messages` on SQLite and PostgreSQL: sweep queues lifecycle messages, deliver --once sends them, list shows
them, retry queues a dead letter again; the worker refuses SQLite and a lease shorter than the channel timeout."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from sqlalchemy import update
from typer.testing import CliRunner

from kefu.cli import app as cli_app
from kefu.store.messaging_tables import OutboxMessage
from messaging_helpers import add_buyer, add_order, make_shop

H = timedelta(hours=1)


def run(store, *args):
    url = store.engine.url.render_as_string(hide_password=False)
    return CliRunner().invoke(cli_app, ["--db", url, "messages", *args])


def test_sweep_deliver_list_and_retry(store):
    now = datetime.now(UTC)
    with store.session() as s:
        shop_id = make_shop(s, "命令行店", messaging={"quiet_purposes": []})
        cid = add_buyer(s, shop_id)
        add_order(s, shop_id, "3001", cid, status="WAIT_SELLER_SEND_GOODS", paid_at=now - H)
    swept = run(store, "sweep", "--shop", "命令行店")
    assert swept.exit_code == 0 and "queued 1" in swept.output
    delivered = run(store, "deliver", "--once", "--json")
    assert delivered.exit_code == 0 and json.loads(delivered.output.strip().splitlines()[-1])["sent"] == 1
    listed = json.loads(run(store, "list", "--json").output)
    assert listed["counts"]["sent"] == 1 and listed["messages"][0]["event"] == "order.paid"
    message_id = listed["messages"][0]["id"]
    assert run(store, "retry", message_id).exit_code == 1  # not a dead letter
    with store.session() as s:
        s.execute(update(OutboxMessage).values(status="dead"))
    retried = run(store, "retry", message_id)
    assert retried.exit_code == 0 and message_id in retried.output
    assert run(store, "list", "--status", "bogus").exit_code == 2


def test_the_worker_needs_postgresql_and_a_lease_longer_than_the_timeout(store):
    result = run(store, "worker", "--lease", "1")
    assert result.exit_code == 2
    assert ("SQLite" in result.output) if store.is_sqlite else ("--lease" in result.output)
