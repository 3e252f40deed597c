"""Benchmark: signed Kuaidi100 pushes against the real workbench app (uvicorn) on PostgreSQL, vs the service in one process.

Run:  .venv/bin/python bench/push_bench.py                      (60 s of pushes, 3,000 parcels, 2 uvicorn workers)
      .venv/bin/python bench/push_bench.py --duration 15 --workers 2 --concurrency 48

What it does, in one command:
  1. Makes a fresh PostgreSQL database (default postgresql://postgres@127.0.0.1:5432/kefu_push_bench), migrates it,
     and writes one shop with N shipped orders and their parcels (mixed carriers).
  2. Baseline, measured in the same run: the same kind of pushes applied through the service function
     (`receive_push`, what the webhook calls) in this one process, one after another, on a second shop's parcels.
  3. Starts the real workbench as `kefu serve --workers W --no-access-log` does (uvicorn, kefu.web.app:app_from_env) on 127.0.0.1 and, from a separate
     load-generator process, sends correctly signed pushes (form `param` + `sign` = MD5(param + salt) in upper-case hex,
     to /webhooks/kuaidi100?shop=…) over keep-alive connections for --duration seconds. Each push carries a parcel's
     newest scan plus up to four earlier ones (as Kuaidi100 re-sends the track), so every push adds exactly one new
     event and re-sends some already stored.
  4. Reports sustained pushes/s, p50/p90/p99/max latency, checks that every push was acknowledged and that the stored
     event count equals the acknowledged push count, and prints the ratio against the baseline, the CPU per push of
     the server and of PostgreSQL, and how many pushes each transaction carried (the webhook acknowledges a push once
     the batch it was written in has committed: kefu/web/webhooks/push_batcher.py).
Goal: ≥ 2,000 signed pushes/s sustained with p99 < 100 ms on the machine it runs on (2 cores here, shared by the
server, PostgreSQL and the load generator).

The load generator speaks HTTP/1.1 from an asyncio protocol directly (keep-alive; the pushes are built and signed before
the clock starts, as when replaying a capture, from cached encoded scans)
so that it costs as little CPU as possible: on 2 cores every cycle it spends is taken from the server under test.
More connections mean bigger batches (less CPU per push) and longer waits (Little's law: latency = in flight / rate).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

GOAL_PUSHES_PER_SECOND = 2000
GOAL_P99_MS = 100.0
SALT = "bench-salt-0123456789abcdef0123"
SHOP = "pushbench"
BASELINE_SHOP = "pushbase"
SCAN_START = datetime(2025, 6, 1, 0, 0, tzinfo=UTC)
DEFAULT_DB = "postgresql://postgres@127.0.0.1:5432/kefu_push_bench"
CARRIERS = (("zhongtong", "中通快递", "ZT"), ("yuantong", "圆通速递", "YT"), ("yunda", "韵达快递", "YD"),
            ("shentong", "申通快递", "ST"), ("jtexpress", "极兔速递", "JT"), ("shunfeng", "顺丰速运", "SF"))
CITIES = (("杭州市", "CN330100000000", "浙江,杭州市"), ("广州市", "CN440100000000", "广东,广州市"),
          ("上海市", "CN310100000000", "上海,上海市"), ("成都市", "CN510100000000", "四川,成都市"))
TRACK_LINES = 5  # lines per push: the newest scan and up to four already sent


# ---- the parcels and their pushes ----


def parcel(shop: str, n: int) -> tuple[str, str, str, str]:
    """(order id, shipment id, carrier code, waybill) of the shop's n-th parcel."""
    code, _, prefix = CARRIERS[n % len(CARRIERS)]
    order_no = str(5_000_000_000_000_000_000 + n)
    waybill = f"{prefix}{7_700_000_000_000 + n}" if shop == SHOP else f"{prefix}{8_800_000_000_000 + n}"
    order_id = f"{shop}:{order_no}"
    return order_id, f"{order_id}:{waybill}", code, waybill


def _scan(n: int, k: int) -> dict[str, str]:
    """The k-th scan (0 = pickup) of parcel n, in Kuaidi100's data[] shape."""
    at = (SCAN_START + timedelta(minutes=n % 600, hours=3 * k)).strftime("%Y-%m-%d %H:%M:%S")
    city, area, area_name = CITIES[(n + k) % len(CITIES)]
    if k == 0:
        context, status = f"【{city}】{city}网点的快递员[王师傅,13900000{n % 100:03d}]已揽收", "揽收"
    else:
        context, status = f"【{city}】快件离开 {city}转运中心 已发往 下一站（第 {k} 站）", "在途"
    return {"context": context, "time": at, "ftime": at, "status": status, "areaCode": area, "areaName": area_name}


def push_param(shop: str, n: int, k: int) -> str:
    """The `param` JSON of the k-th push for parcel n: the newest scan first, then up to four earlier ones."""
    _, _, code, waybill = parcel(shop, n)
    data = [_scan(n, j) for j in range(k, max(-1, k - TRACK_LINES), -1)]
    return json.dumps({
        "status": "polling", "billstatus": "got", "message": "", "autoCheck": "0", "comOld": "", "comNew": "",
        "lastResult": {"message": "ok", "state": "1" if k == 0 else "0", "status": "200", "condition": "F00",
                       "ischeck": "0", "com": code, "nu": waybill, "data": data},
    }, ensure_ascii=False, separators=(",", ":"))


def signed_form(param: str, salt: str = SALT) -> bytes:
    """The form body Kuaidi100 posts: param=<urlencoded JSON>&sign=<MD5(param + salt), upper-case hex>."""
    sign = hashlib.md5((param + salt).encode()).hexdigest().upper()
    return f"param={quote(param, safe='')}&sign={sign}".encode()


def nth_push(shop: str, index: int, parcels: int) -> str:
    """Pushes go round the parcels: push i is parcel i % N's (i // N)-th scan."""
    return push_param(shop, index % parcels, index // parcels)


_HEAD = ('{"status":"polling","billstatus":"got","message":"","autoCheck":"0","comOld":"","comNew":"","lastResult":'
         '{"message":"ok","state":"%s","status":"200","condition":"F00","ischeck":"0","com":"%s","nu":"%s","data":[')


@lru_cache(maxsize=1 << 16)
def _scan_text(n: int, k: int) -> tuple[str, str]:
    """Scan k of parcel n as JSON text and percent-encoded (quote works per character, so pieces can be joined)."""
    text = json.dumps(_scan(n, k), ensure_ascii=False, separators=(",", ":"))
    return text, quote(text, safe="")


@lru_cache(maxsize=1 << 14)
def _head_text(shop: str, n: int, first: bool) -> tuple[str, str]:
    _, _, code, waybill = parcel(shop, n)
    text = _HEAD % ("1" if first else "0", code, waybill)
    return text, quote(text, safe="")


def nth_form(shop: str, index: int, parcels: int) -> bytes:
    """signed_form(nth_push(…)) built from cached pieces: a push re-sends four scans, so the generator encodes each once."""
    n, k = index % parcels, index // parcels
    head, quoted_head = _head_text(shop, n, k == 0)
    scans = [_scan_text(n, j) for j in range(k, max(-1, k - TRACK_LINES), -1)]
    param = head + ",".join(raw for raw, _ in scans) + "]}}"
    sign = hashlib.md5((param + SALT).encode()).hexdigest().upper()
    return f"param={quoted_head}{'%2C'.join(q for _, q in scans)}%5D%7D%7D&sign={sign}".encode()


# ---- the database ----


def fresh_database(url: str) -> None:
    from sqlalchemy import create_engine, text

    from kefu.store.database import normalise_url

    base, name = normalise_url(url).rsplit("/", 1)
    admin = create_engine(f"{base}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    admin.dispose()


def build(url: str, parcels: int, baseline_parcels: int):
    """Migrate and write both shops' orders and parcels; returns the open Store."""
    from sqlalchemy import insert

    from kefu.store.database import Store
    from kefu.store.tables import Order, Shipment, Shop

    store = Store(url)
    shipped = SCAN_START - timedelta(hours=6)
    with store.session() as session:
        for shop, count in ((SHOP, parcels), (BASELINE_SHOP, baseline_parcels)):
            session.add(Shop(id=shop, name=f"压测店 {shop}", platform="taobao", created_at=shipped))
            session.flush()
            orders, shipments = [], []
            for n in range(count):
                order_id, shipment_id, code, waybill = parcel(shop, n)
                name = next(c[1] for c in CARRIERS if c[0] == code)
                orders.append({"id": order_id, "shop_id": shop, "platform": "taobao", "order_no": order_id.split(":")[1],
                               "status": "WAIT_SELLER_SEND_GOODS", "source": "bench", "receiver_province": "浙江省",
                               "created_at": shipped - timedelta(hours=20), "paid_at": shipped - timedelta(hours=19)})
                shipments.append({"id": shipment_id, "shop_id": shop, "order_id": order_id, "carrier_code": code,
                                  "carrier_name": name, "waybill_no": waybill, "shipped_at": shipped})
            session.execute(insert(Order), orders)
            session.execute(insert(Shipment), shipments)
    with store.engine.begin() as conn:  # planner statistics, as a database in use has them (kept: committed)
        conn.exec_driver_sql("ANALYZE")
    return store


def stored_counts(store, shop: str) -> tuple[int, int]:
    """(tracking events, processed push deliveries) stored for a shop's waybills."""
    from sqlalchemy import func, select

    from kefu.store.tables import TrackingEventRow, WebhookDelivery

    with store.session() as session:
        events = session.scalar(select(func.count()).select_from(TrackingEventRow).where(TrackingEventRow.shop_id == shop))
        processed = session.scalar(select(func.count()).select_from(WebhookDelivery)
                                   .where(WebhookDelivery.source == "kuaidi100", WebhookDelivery.topic == "push",
                                          WebhookDelivery.status == "processed"))
    return int(events or 0), int(processed or 0)


# ---- the baseline: the service function in one process ----


def baseline(store, count: int, parcels: int) -> tuple[float, int]:
    """Apply `count` pushes through receive_push (what the webhook calls) one after another; (pushes/s, new events)."""
    from kefu.ingest import kuaidi100
    from kefu.services.tracking import receive_push

    bodies = [(nth_push(BASELINE_SHOP, i, parcels), ) for i in range(count)]
    started = time.perf_counter()
    for (param,) in bodies:
        body = signed_form(param)
        assert kuaidi100.verify_sign(param, hashlib.md5((param + SALT).encode()).hexdigest().upper(), SALT)
        outcome = receive_push(store, source="kuaidi100", body=body, parse=lambda p=param: [kuaidi100.parse_push(p)],
                               now=datetime.now(UTC), shop_id=BASELINE_SHOP)
        assert outcome.status == "processed", outcome
    elapsed = time.perf_counter() - started
    return count / elapsed, stored_counts(store, BASELINE_SHOP)[0]


# ---- the server ----


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(url: str, port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "KEFU_DATABASE_URL": url, "KEFU_KUAIDI100_SALT": SALT, "KEFU_WATCH_SWEEP_MINUTES": "0",
           "KEFU_SESSION_SECRET": "bench-session-secret", "PYTHONPATH": str(ROOT)}
    command = [sys.executable, "-m", "uvicorn", "kefu.web.app:app_from_env", "--factory", "--host", "127.0.0.1",
               "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log"]
    for option, module in (("--loop", "uvloop"), ("--http", "httptools")):
        try:
            __import__(module)
            command += [option, module]
        except ImportError:
            pass
    server = subprocess.Popen(command, cwd=ROOT, env=env, start_new_session=True)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5) as conn:
                conn.sendall(b"GET /login HTTP/1.1\r\nHost: bench\r\nConnection: close\r\n\r\n")
                if conn.recv(12).startswith(b"HTTP/1.1"):
                    time.sleep(1.0 if workers > 1 else 0.2)  # let the other workers finish starting
                    return server
        except OSError:
            time.sleep(0.2)
    stop_server(server)
    raise SystemExit("the server did not start in 60 s")


def process_tree_cpu(root: int) -> tuple[float, float]:
    """CPU seconds (user, system) used so far by a process and its children (uvicorn's workers), from /proc."""
    ticks = os.sysconf("SC_CLK_TCK")
    user = system = 0.0
    pids, seen = [root], set()
    while pids:
        pid = pids.pop()
        if pid in seen:
            continue
        seen.add(pid)
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            user, system = user + int(fields[11]) / ticks, system + int(fields[12]) / ticks  # utime, stime
            for task in Path(f"/proc/{pid}/task").iterdir():
                children = (task / "children").read_text().split()
                pids.extend(int(c) for c in children)
        except (OSError, IndexError, ValueError):
            continue
    return user, system


def _pid_cpu(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


def postgres_backends(url: str) -> list[int]:
    """The PostgreSQL backend processes serving the benchmark's database right now (the app's pooled connections)."""
    from sqlalchemy import create_engine, text

    from kefu.store.database import normalise_url

    base, name = normalise_url(url).rsplit("/", 1)
    admin = create_engine(f"{base}/postgres")
    with admin.connect() as conn:
        pids = [int(p) for p in conn.scalars(text("SELECT pid FROM pg_stat_activity WHERE datname = :n"), {"n": name})]
    admin.dispose()
    return pids


def commits(url: str) -> int:
    """Transactions committed so far in the benchmark's database."""
    from sqlalchemy import create_engine, text

    from kefu.store.database import normalise_url

    base, name = normalise_url(url).rsplit("/", 1)
    admin = create_engine(f"{base}/postgres")
    with admin.connect() as conn:
        count = conn.scalar(text("SELECT xact_commit FROM pg_stat_database WHERE datname = :n"), {"n": name})
    admin.dispose()
    return int(count or 0)


def postgres_cpu(pids: list[int]) -> dict[int, float]:
    """CPU seconds used so far by each of these PostgreSQL backends."""
    return {pid: _pid_cpu(pid) for pid in pids}


def stop_server(server: subprocess.Popen) -> None:
    if server.poll() is None:
        os.killpg(server.pid, signal.SIGTERM)
        try:
            server.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()


# ---- the load generator (a separate process) ----


class _PushConnection(asyncio.Protocol):
    """One keep-alive connection that sends the next push as soon as the answer to the last one is complete.

    A protocol rather than asyncio streams: the answer is parsed in data_received and the next request written from
    there, with no task wake-up per push (the generator shares the 2 cores with the server it measures).
    """

    def __init__(self, next_request, deadline: float, record, done: asyncio.Future) -> None:
        self.next_request, self.deadline, self.record, self.done = next_request, deadline, record, done
        self.buffer = b""
        self.started = 0.0
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport) -> None:
        self.transport = transport
        self._send()

    def _send(self) -> None:
        if time.perf_counter() >= self.deadline:
            self.transport.close()
            return
        request = self.next_request()
        self.started = time.perf_counter()
        self.transport.write(request)

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        end = self.buffer.find(b"\r\n\r\n")
        if end < 0:
            return
        headers = self.buffer[:end + 4]
        at = headers.lower().find(b"content-length:")
        length = int(headers[at + 15:headers.index(b"\r\n", at)]) if at >= 0 else 0
        if len(self.buffer) < end + 4 + length:
            return
        answer, self.buffer = self.buffer[end + 4:end + 4 + length], self.buffer[end + 4 + length:]
        self.record(time.perf_counter() - self.started, headers[9:12] == b"200" and b'"returnCode":"200"' in answer)
        self._send()

    def connection_lost(self, exc) -> None:
        if not self.done.done():
            self.done.set_result(None)


async def _one_connection(port: int, next_request, deadline: float, record) -> None:
    loop = asyncio.get_running_loop()
    done = loop.create_future()
    await loop.create_connection(lambda: _PushConnection(next_request, deadline, record, done), "127.0.0.1", port)
    await done


def push_request(index: int, parcels: int) -> bytes:
    """The whole HTTP request of push `index`: the signed form posted to the webhook, scoped to the bench's shop."""
    body = nth_form(SHOP, index, parcels)
    return (f"POST /webhooks/kuaidi100?shop={SHOP} HTTP/1.1\r\nHost: 127.0.0.1\r\n"
            f"Content-Type: application/x-www-form-urlencoded\r\nContent-Length: {len(body)}\r\n\r\n").encode() + body


async def _generate(port: int, concurrency: int, duration: float, parcels: int, prebuilt: int) -> dict:
    """Send pushes for `duration` seconds; the first `prebuilt` requests are built (and signed) before the clock
    starts, as a load generator replaying a capture would, so that building them does not take CPU from the server."""
    ready = [push_request(i, parcels) for i in range(prebuilt)]
    counter = iter(range(10**9))

    def next_request() -> bytes:
        index = next(counter)
        return ready[index] if index < len(ready) else push_request(index, parcels)

    latencies: list[float] = []
    failures = 0

    def record(seconds: float, ok: bool) -> None:
        nonlocal failures
        latencies.append(seconds)
        failures += not ok

    started, cpu = time.perf_counter(), time.process_time()
    deadline = started + duration
    await asyncio.gather(*(_one_connection(port, next_request, deadline, record) for _ in range(concurrency)))
    elapsed = time.perf_counter() - started
    return {"sent": len(latencies), "failures": failures, "elapsed": elapsed, "latencies": latencies,
            "cpu": time.process_time() - cpu}  # the generator's CPU while sending (not while building)


def generate_main(args: argparse.Namespace) -> None:
    """The load generator's own process: runs, then writes its figures as JSON to --out (a long line through a pipe
    once arrived cut at 128 KiB)."""
    assert all(nth_form(SHOP, i, 7) == signed_form(nth_push(SHOP, i, 7)) for i in range(40))  # the cached pieces add up
    try:
        import uvloop  # type: ignore[import-not-found]

        uvloop.install()
    except ImportError:
        pass
    result = asyncio.run(_generate(args.port, args.concurrency, args.duration, args.shipments,
                                   int(args.duration * args.prebuilt_rate)))
    Path(args.out).write_text(json.dumps(result))


def run_load(port: int, args: argparse.Namespace) -> dict:
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "load.json"
        command = [sys.executable, str(Path(__file__).resolve()), "--generate", "--port", str(port), "--duration",
                   str(args.duration), "--concurrency", str(args.concurrency), "--shipments", str(args.shipments),
                   "--prebuilt-rate", str(args.prebuilt_rate),
                   "--out", str(out)]
        done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, timeout=args.duration + 180)
        if done.returncode != 0:
            raise SystemExit(f"load generator failed:\n{done.stderr[-3000:]}")
        return json.loads(out.read_text())


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else float("nan")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=float, default=60.0, help="seconds of pushes (default 60)")
    parser.add_argument("--shipments", type=int, default=3000, help="parcels pushed round-robin (default 3000)")
    parser.add_argument("--workers", type=int, default=2, help="uvicorn worker processes (default 2, one per core: each writes its batch from its own thread while its event loop reads the next pushes; a third only added contention here)")
    parser.add_argument("--concurrency", type=int, default=64, help="open keep-alive connections (default 64)")
    parser.add_argument("--prebuilt-rate", type=float, default=3000.0,
                        help="pushes per second of the run built before it starts (default 3000; beyond, built as sent)")
    parser.add_argument("--baseline-pushes", type=int, default=1000, help="pushes in the in-process baseline (default 1000)")
    parser.add_argument("--db", default=os.environ.get("KEFU_BENCH_POSTGRES_URL", DEFAULT_DB), help="PostgreSQL URL")
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    parser.add_argument("--out", default="", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.generate:
        generate_main(args)
        return

    print(f"» fresh database {args.db.rsplit('/', 1)[-1]}: {args.shipments:,} parcels (+ {args.baseline_pushes:,} for the baseline)")
    fresh_database(args.db)
    store = build(args.db, args.shipments, args.baseline_pushes)

    print(f"» baseline: {args.baseline_pushes:,} pushes through receive_push in this process")
    base_rate, base_events = baseline(store, args.baseline_pushes, args.baseline_pushes)
    assert base_events == args.baseline_pushes, (base_events, args.baseline_pushes)
    store.dispose()

    port = free_port()
    print(f"» server: uvicorn, {args.workers} worker(s), port {port}; load: {args.concurrency} connections for {args.duration:g} s")
    server = start_server(args.db, port, args.workers)
    try:
        server_cpu, committed = process_tree_cpu(server.pid), commits(args.db)
        load = run_load(port, args)
        server_after = process_tree_cpu(server.pid)
        server_user, server_system = (after - before for after, before in zip(server_after, server_cpu))
        server_cpu, committed = server_user + server_system, commits(args.db) - committed
        # The app's pooled connections outlive the run: their backends' CPU is the database's share of the work
        # (a backend that started during the run counts from zero, which is what it used).
        pg_cpu = sum(postgres_cpu(postgres_backends(args.db)).values())
    finally:
        stop_server(server)

    from kefu.store.database import Store

    store = Store(args.db, auto_migrate=False)
    events, _ = stored_counts(store, SHOP)
    store.dispose()
    sent, failures, latencies = load["sent"], load["failures"], load["latencies"]
    rate = sent / load["elapsed"]
    p50, p90, p99 = (percentile(latencies, q) * 1000 for q in (0.50, 0.90, 0.99))
    acknowledged = sent - failures
    print()
    print(f"baseline (receive_push, one process, serial): {base_rate:8,.0f} pushes/s")
    print(f"HTTP (signed form posts, {args.workers} workers):        {rate:8,.0f} pushes/s sustained over {load['elapsed']:.1f} s "
          f"({sent:,} sent, {failures:,} not acknowledged)")
    print(f"latency: p50 {p50:.1f} ms, p90 {p90:.1f} ms, p99 {p99:.1f} ms, max {max(latencies) * 1000:.1f} ms, "
          f"mean {statistics.fmean(latencies) * 1000:.1f} ms")
    print(f"stored events {events:,} vs acknowledged pushes {acknowledged:,}: {'equal' if events == acknowledged else 'DIFFERENT'}")
    print(f"ratio HTTP / baseline: {rate / base_rate:.2f}x")
    print(f"CPU per push: server {server_cpu / max(sent, 1) * 1000:.2f} ms (uvicorn and its workers; "
          f"{server_system / max(server_cpu, 1e-9):.0%} of it in the kernel), PostgreSQL "
          f"{pg_cpu / max(sent, 1) * 1000:.2f} ms (the app's backends), load generator {load['cpu'] / max(sent, 1) * 1000:.2f} ms; load average {os.getloadavg()[0]:.1f} on "
          f"{os.cpu_count()} cores (other work on the machine competes for the same CPUs)")
    print(f"transactions: {committed:,} ({sent / max(committed, 1):.1f} pushes per commit)")
    met = rate >= GOAL_PUSHES_PER_SECOND and p99 < GOAL_P99_MS
    print(f"goal (≥ {GOAL_PUSHES_PER_SECOND:,}/s, p99 < {GOAL_P99_MS:g} ms): {'met' if met else 'NOT met'}")
    if events != acknowledged or failures:
        raise SystemExit(1)


if __name__ == "__main__":
    random.seed(0)
    main()
