"""Benchmark: the message outbox delivered by several procrastinate workers on PostgreSQL to a loopback HTTP provider,
one worker killed with SIGKILL mid-run and restarted, against a naive one-at-a-time loop measured in the same run.

Run:  .venv/bin/python bench/outbox_bench.py                       (20,000 messages, 4 workers × 2 jobs × 200)
      .venv/bin/python bench/outbox_bench.py --messages 5000 --no-kill --db postgresql://postgres@127.0.0.1/x

What it does, in one run on a fresh database (dropped and created; the URL's database name is used):
  - starts a loopback SMS-like provider (a small ASGI app under uvicorn in its own process) that records every
    message id it receives and answers "did you get X?" (a delivery-receipt lookup, like the providers' query APIs);
  - baseline: the naive loop — select one due message, send it, mark it sent, commit, repeat — over --baseline messages
    written through queue_message (policy, outbox row and job in one transaction per 500);
  - kefu: --messages outbox rows written in bulk and held back; --workers `kefu messages worker` processes (webhook
    channel to the provider over the workers' keep-alive transport) are started and registered; then the burst is
    released (all due, one job deferred) and the clock starts. When a third has arrived one worker is killed with
    SIGKILL and started again; its half-sent messages are settled by the row state and the provider's receipt lookup
    once their lease (--lease seconds, longer than the channel's timeout) is over;
  - asserts the provider received every message id exactly once (none lost, none twice) and every row is `sent`;
  - prints msgs/s of both and the ratio, and the CPU per message of the workers, their database's PostgreSQL backends
    and the provider (on a shared machine wall-clock rates are noisy; CPU per message is what changes compare).
    Goal: ≥ 1,000 msgs/s delivered by the workers.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL = 1000.0
DEFAULT_DB = os.environ.get("KEFU_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/kefu_outbox_bench")
SECRET = "bench-secret"
CHANNEL_TIMEOUT = 5.0  # seconds the workers' channel waits for the provider


# ---------------------------------------------------------------- the loopback provider (its own process)

def provider_app():
    """A raw ASGI app: POST / records the message id (answering a provider id), GET /sent/<id> looks one up,
    GET /stats counts, GET /ids lists every id received with how many times."""
    received: dict[str, int] = {}

    async def app(scope, receive, send):
        if scope["type"] != "http":
            return
        body = b""
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":  # a worker killed in the middle of a request: never received
                return
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        path, status, answer = scope["path"], 200, b"{}"
        if scope["method"] == "POST":
            message_id = json.loads(body)["message_id"]
            received[message_id] = received.get(message_id, 0) + 1
            answer = json.dumps({"id": f"loop-{message_id}"}).encode()
        elif path.startswith("/sent/"):
            message_id = path[len("/sent/"):]
            status, answer = (200, json.dumps({"id": f"loop-{message_id}"}).encode()) if message_id in received \
                else (404, b"{}")
        elif path == "/stats":
            answer = json.dumps({"unique": len(received), "posts": sum(received.values())}).encode()
        elif path == "/ids":
            answer = json.dumps(received).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": answer})

    return app


def run_provider(port: int) -> None:
    import uvicorn

    uvicorn.run(provider_app(), host="127.0.0.1", port=port, log_level="warning", access_log=False)


def get_json(url: str):
    with urllib.request.urlopen(url, timeout=30) as response:
        return json.loads(response.read())


# ---------------------------------------------------------------- the channel the workers use

class LoopbackChannel:
    """kefu's webhook channel to the provider, plus the provider's receipt lookup (`find_sent`) used after a crash."""

    name = "webhook"

    def __init__(self, url: str):
        from kefu.channels import build_channel
        from kefu.channels.keepalive import keep_alive_client
        from kefu.config import ChannelSettings, Settings

        self.url = url.rstrip("/")
        settings = Settings(channels=ChannelSettings(default="webhook", webhook_url=self.url + "/", webhook_secret=SECRET))
        self.http = keep_alive_client(CHANNEL_TIMEOUT)
        self.inner = build_channel("webhook", settings, http=self.http)

    def send(self, delivery):
        return self.inner.send(delivery)

    def find_sent(self, message_id: str) -> str | None:
        response = self.http.get(f"{self.url}/sent/{message_id}")
        return response.json()["id"] if response.status_code == 200 else None

    def __call__(self, name):
        return self


def run_worker(db: str, provider: str, concurrency: int, lease: float, sends: int) -> None:
    from kefu.queue.tasks import run_worker as procrastinate_worker
    from kefu.queue.tasks import worker_store

    store = worker_store(db, connections=concurrency + 2)
    procrastinate_worker(store, LoopbackChannel(provider), concurrency=concurrency, name=f"bench-{os.getpid()}",
                         lease_seconds=lease, recover_every_seconds=1, channel_timeout_seconds=CHANNEL_TIMEOUT,
                         send_threads=sends)


# ---------------------------------------------------------------- the run

def fresh_database(url: str):
    from sqlalchemy import create_engine, text

    from kefu.store.database import Store, normalise_url

    base, name = normalise_url(url).rsplit("/", 1)
    admin = create_engine(base + "/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()
    return Store(url)


def make_shop(store, name: str, buyers: int) -> tuple[str, list[str]]:
    from kefu.ids import customer_id
    from kefu.services.shops import get_or_create_shop
    from kefu.store.tables import Customer

    now = datetime.now(UTC)
    with store.session() as session:
        shop = get_or_create_shop(session, name)
        shop.settings = {"messaging": {"quiet_purposes": [], "daily_cap": {}}}  # delivery speed, not policy, is timed
        ids = []
        for i in range(buyers):
            cid = customer_id(shop.id, "taobao", f"bench_{i}")
            session.add(Customer(id=cid, shop_id=shop.id, platform="taobao", buyer_key=f"bench_{i}",
                                 buyer_nick=f"bench_{i}", phone=f"138{i:08d}"[:11], created_at=now))
            ids.append(cid)
        return shop.id, ids


def queue(store, shop_id: str, buyers: list[str], count: int, tag: str) -> tuple[list[str], float]:
    from kefu.services.outbox import OutgoingMessage, queue_message

    started = time.perf_counter()
    ids: list[str] = []
    now = datetime.now(UTC)
    for start in range(0, count, 500):
        with store.session() as session:
            for i in range(start, min(count, start + 500)):
                result = queue_message(session, OutgoingMessage(
                    shop_id=shop_id, customer_id=buyers[i % len(buyers)], event="bench.notice",
                    purpose="transactional", text=f"您的包裹 {tag}{i} 已发出，请留意查收。", channel="webhook",
                    idempotency_key=f"bench:{tag}:{i}"), now=now)
                assert result.status == "queued", result
                ids.append(result.message_id)
    return ids, time.perf_counter() - started


HELD = timedelta(days=1)  # how far ahead the burst is queued, so no worker touches it before it is released


def bulk_queue(store, shop_id: str, buyers: list[str], count: int, tag: str) -> tuple[list[str], float]:
    """The timed run's messages written in bulk, held back: the rows queue_message writes (queued, with their
    decision), due only tomorrow — many per statement, so setting up is quick. `release` makes them due."""
    from sqlalchemy import insert

    from kefu.ids import new_id
    from kefu.store.messaging_tables import MessageDecision, OutboxMessage

    started = time.perf_counter()
    ids: list[str] = []
    now = datetime.now(UTC)
    for start in range(0, count, 2000):
        rows = [dict(id=new_id(), shop_id=shop_id, customer_id=buyers[i % len(buyers)], event="bench.notice",
                     purpose="transactional", text=f"您的包裹 {tag}{i} 已发出，请留意查收。", channel="webhook",
                     idempotency_key=f"bench:{tag}:{i}", status="queued", attempts=0, next_attempt_at=now + HELD,
                     created_at=now, updated_at=now)
                for i in range(start, min(count, start + 2000))]
        with store.session() as session:
            session.execute(insert(OutboxMessage), rows)
            session.execute(insert(MessageDecision), [dict(shop_id=shop_id, message_id=r["id"], at=now,
                                                           decision="queued") for r in rows])
        ids.extend(r["id"] for r in rows)
    return ids, time.perf_counter() - started


def release(store, shop_id: str) -> None:
    """The burst lands: every held message of the shop due now, and a delivery job deferred, in one transaction."""
    from sqlalchemy import update

    from kefu.queue.dispatch import wake_workers
    from kefu.store.messaging_tables import OutboxMessage

    with store.session() as session:
        session.execute(update(OutboxMessage).where(OutboxMessage.shop_id == shop_id, OutboxMessage.status == "queued")
                        .values(next_attempt_at=datetime.now(UTC)))
        wake_workers(session)


def naive_loop(store, shop_id: str, channel) -> tuple[int, float]:
    """The baseline: one due message at a time — select it, send it, mark it sent, commit."""
    from sqlalchemy import select, update

    from kefu.services.delivery import Delivery
    from kefu.store.messaging_tables import OutboxMessage

    sent, started = 0, time.perf_counter()
    while True:
        with store.session() as session:
            row = session.execute(
                select(OutboxMessage.id, OutboxMessage.text).where(OutboxMessage.shop_id == shop_id,
                                                                   OutboxMessage.status == "queued")
                .order_by(OutboxMessage.created_at).limit(1).with_for_update(skip_locked=True)).first()
            if row is None:
                break
            result = channel.send(Delivery(message_id=row.id, text=row.text))
            session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
                status="sent" if result.ok else "dead", sent_at=datetime.now(UTC), attempts=1,
                provider_message_id=result.provider_message_id))
            sent += 1
    return sent, time.perf_counter() - started


def sent_count(store, shop_id: str) -> int:
    from sqlalchemy import func, select

    from kefu.store.messaging_tables import OutboxMessage

    with store.session() as session:
        return session.scalar(select(func.count()).select_from(OutboxMessage).where(
            OutboxMessage.shop_id == shop_id, OutboxMessage.status == "sent")) or 0


def start_worker(args, provider_url: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, __file__, "worker", "--db", args.db, "--provider", provider_url,
                             "--concurrency", str(args.concurrency), "--lease", str(args.lease),
                             "--sends", str(args.sends)],
                            stdout=subprocess.DEVNULL, stderr=open(os.devnull, "w") if not args.verbose else None)


def cpu_seconds(pid: int, *, children: bool = False) -> float:
    """User + system CPU seconds of a live process (with its reaped children when `children`), from /proc; 0 if gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + ((int(fields[13]) + int(fields[14])) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


class BackendCpu:
    """CPU seconds spent by the PostgreSQL backends serving one database (others' databases on a shared server are
    left out), from /proc; backends are looked up on every `sample`, so one that exits loses at most a sample's
    worth."""

    def __init__(self, store):
        self.store = store
        self.start: dict[int, float] = {}
        self.last: dict[int, float] = {}
        self.sample(first=True)

    def sample(self, *, first: bool = False) -> None:
        from sqlalchemy import text

        with self.store.engine.connect() as conn:
            pids = conn.execute(text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")).scalars()
            for pid in pids:
                self.last[pid] = cpu_seconds(pid)
                if first:
                    self.start[pid] = self.last[pid]

    def seconds(self) -> float:
        return sum(cpu - self.start.get(pid, 0.0) for pid, cpu in self.last.items())


def wait_for_workers(store, count: int, timeout: float = 120.0) -> None:
    """Until `count` procrastinate workers have registered (each does once it listens for jobs)."""
    from sqlalchemy import text

    deadline = time.perf_counter() + timeout
    while time.perf_counter() < deadline:
        with store.engine.connect() as conn:
            if conn.execute(text("SELECT count(*) FROM procrastinate.procrastinate_workers")).scalar() >= count:
                return
        time.sleep(0.2)
    raise SystemExit(f"{count} workers did not start in {timeout:.0f}s")


def drop_todo_jobs(store) -> None:
    from sqlalchemy import text

    with store.engine.begin() as conn:
        conn.execute(text("DELETE FROM procrastinate.procrastinate_jobs WHERE status = 'todo'"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("mode", nargs="?", default="run", choices=("run", "worker", "provider"))
    parser.add_argument("--db", default=DEFAULT_DB)
    parser.add_argument("--messages", type=int, default=20000)
    parser.add_argument("--baseline", type=int, default=2000)
    parser.add_argument("--workers", type=int, default=4)
    parser.add_argument("--concurrency", type=int, default=2,
                        help="delivery jobs at once per worker, 200 messages each: two overlap the database with the "
                             "sends; more only leave more messages stranded when a worker is killed")
    parser.add_argument("--lease", type=float, default=8.0,
                        help="seconds a claim lasts; longer than the channel's timeout (5 s here): no send starts in "
                             "the last 5 s of a claim (a batch still sending renews it), so a request still in flight "
                             "when its worker died has ended or timed out before anyone asks the provider")
    parser.add_argument("--sends", type=int, default=8,
                        help="sends in flight per worker: the loopback provider answers in well under a millisecond, "
                             "so a few threads keep it busy and more only contend for the interpreter")
    parser.add_argument("--port", type=int, default=18765)
    parser.add_argument("--provider", default=None)
    parser.add_argument("--no-kill", action="store_true", help="do not kill a worker mid-run")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args()
    if args.mode == "provider":
        return run_provider(args.port)
    if args.mode == "worker":
        return run_worker(args.db, args.provider, args.concurrency, args.lease, args.sends)

    provider_url = f"http://127.0.0.1:{args.port}"
    provider = subprocess.Popen([sys.executable, __file__, "provider", "--port", str(args.port)])
    workers: list[subprocess.Popen] = []
    try:
        for _ in range(100):
            try:
                get_json(provider_url + "/stats")
                break
            except OSError:
                time.sleep(0.1)
        store = fresh_database(args.db)
        channel = LoopbackChannel(provider_url)

        base_shop, base_buyers = make_shop(store, "基线店", 200)
        base_ids, base_queue_seconds = queue(store, base_shop, base_buyers, args.baseline, "b")
        print(f"queue_message: {len(base_ids):,} messages (policy, outbox row and job in one transaction per 500) in "
              f"{base_queue_seconds:.2f}s = {len(base_ids) / base_queue_seconds:,.0f} msgs/s")
        drop_todo_jobs(store)  # the baseline loop sends these itself, no worker may touch them
        base_sent, base_seconds = naive_loop(store, base_shop, channel)
        base_rate = base_sent / base_seconds
        print(f"baseline (naive select-send-mark loop): {base_sent:,} msgs in {base_seconds:.2f}s = {base_rate:,.0f} msgs/s")

        shop_id, buyers = make_shop(store, "压测店", 500)
        ids, queue_seconds = bulk_queue(store, shop_id, buyers, args.messages, "m")
        print(f"queued {len(ids):,} messages (bulk, held back) in {queue_seconds:.2f}s")
        # The workers are a running service when the burst lands: started and registered with procrastinate first,
        # then the held messages are released at once; the clock times delivery, not Python importing kefu N times.
        workers = [start_worker(args, provider_url) for _ in range(args.workers)]
        wait_for_workers(store, len(workers))
        started = time.perf_counter()
        pg_cpu, provider_cpu = BackendCpu(store), cpu_seconds(provider.pid)
        worker_cpu = -sum(cpu_seconds(w.pid) for w in workers)
        release(store, shop_id)
        killed_at = None
        deadline = started + max(120.0, args.messages / 50)
        done = 0
        polls = 0
        baseline_received = get_json(provider_url + "/stats")["unique"]
        while time.perf_counter() < deadline:
            # The provider's count is cheap to ask; the outbox is counted only once the provider has them all.
            done = get_json(provider_url + "/stats")["unique"] - baseline_received
            if done >= len(ids):
                done = sent_count(store, shop_id)
            polls += 1
            if polls % 5 == 0:
                pg_cpu.sample()
            if args.verbose and polls % 10 == 0:
                print(f"  {time.perf_counter() - started:5.1f}s: {done:,} received")
            if done >= len(ids):
                break
            if killed_at is None and not args.no_kill and done >= len(ids) // 3:
                victim = workers[0]
                worker_cpu += cpu_seconds(victim.pid)
                os.kill(victim.pid, signal.SIGKILL)
                victim.wait()
                killed_at = done
                print(f"killed worker pid {victim.pid} with SIGKILL after {done:,} received "
                      f"({time.perf_counter() - started:.1f}s in); restarting it")
                time.sleep(0.5)
                workers[0] = start_worker(args, provider_url)
            time.sleep(0.1)
        seconds = time.perf_counter() - started
        rate = done / seconds
        worker_cpu += sum(cpu_seconds(w.pid) for w in workers)
        pg_cpu.sample()
        pg_seconds, provider_cpu = pg_cpu.seconds(), cpu_seconds(provider.pid) - provider_cpu

        from sqlalchemy import func, select

        from kefu.store.messaging_tables import MessageDecision, OutboxMessage

        with store.session() as session:
            statuses = dict(session.execute(select(OutboxMessage.status, func.count())
                                            .group_by(OutboxMessage.status)).all())
            recovered = dict(session.execute(
                select(MessageDecision.reason, func.count()).where(MessageDecision.actor == "recovery")
                .group_by(MessageDecision.reason)).all())
        received = get_json(provider_url + "/ids")
        twice = [m for m, n in received.items() if n > 1]
        expected = set(ids) | set(base_ids)
        lost = expected - set(received)
        unexpected = set(received) - expected
        print(f"kefu ({args.workers} procrastinate workers × {args.concurrency}): {done:,} msgs in {seconds:.2f}s = "
              f"{rate:,.0f} msgs/s  (ratio vs baseline {rate / base_rate:.1f}×)")
        per = 1000.0 / max(1, done)
        print(f"CPU per message (ms): workers {worker_cpu * per:.2f}, "
              f"PostgreSQL {pg_seconds * per:.2f} (its backends), "
              f"provider {provider_cpu * per:.2f}; load average {os.getloadavg()[0]:.1f}")
        print(f"statuses {statuses}; settled after the kill: {recovered or 'none in flight'}")
        print(f"provider: {len(received):,} distinct ids, delivered twice: {len(twice)}, lost: {len(lost)}, "
              f"unknown: {len(unexpected)}")
        assert done == len(ids), f"only {done} of {len(ids)} sent before the deadline"
        assert not twice, f"delivered twice: {twice[:5]}"
        assert not lost and not unexpected, f"lost {len(lost)}, unknown {len(unexpected)}"
        assert statuses == {"sent": len(expected)}, statuses
        print(f"goal ≥ {GOAL:,.0f} msgs/s: {'met' if rate >= GOAL else 'NOT met'}")
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=20)
            except subprocess.TimeoutExpired:
                worker.kill()
        provider.terminate()
        provider.wait(timeout=10)


if __name__ == "__main__":
    main()
