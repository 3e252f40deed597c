"""CLI commands: `kefu messages deliver|worker|list|sweep|retry` — the message outbox from the shell."""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timezone

import typer
from rich.console import Console
from rich.table import Table

from kefu.cli.context import store_of
from kefu.domain.privacy import redact_phones
from kefu.services.shops import find_shop

messages_app = typer.Typer(
    name="messages",
    help="消息：生命周期短信与服务消息的发件箱 / Messages: the outbox of lifecycle and service messages",
    no_args_is_help=True,
)


def _now() -> datetime:
    return datetime.now(timezone.utc)


def _shop_id(ctx: typer.Context, shop: str | None) -> str | None:
    if not shop:
        return None
    with store_of(ctx).session() as session:
        found = find_shop(session, shop)
        if found is None:
            typer.echo(f"找不到店铺 / no such shop: {shop}", err=True)
            raise typer.Exit(1)
        return found.id


@messages_app.command("deliver")
def deliver_command(
    ctx: typer.Context,
    once: bool = typer.Option(False, "--once", help="只投递一轮后退出 / deliver what is due once, then exit"),
    interval: float = typer.Option(5.0, "--interval", help="轮询间隔秒数 / seconds between passes"),
    limit: int = typer.Option(500, "--limit", help="每轮最多条数 / messages per pass at most"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """在本进程内投递到期消息（SQLite；PostgreSQL 也可用）/ Deliver due messages in this process (SQLite; works on PostgreSQL too)."""
    from kefu.services.delivery import default_channel_for, deliver_due

    store = store_of(ctx)
    channel_for = default_channel_for()
    while True:
        counts = deliver_due(store, channel_for=channel_for, limit=limit)
        if as_json:
            typer.echo(json.dumps(counts.to_json(), ensure_ascii=False))
        elif once or counts.sent or counts.retried or counts.dead or counts.recovered:
            typer.echo(f"已发送 sent {counts.sent} · 重试 retried {counts.retried} · 死信 dead {counts.dead} · "
                       f"恢复 recovered {counts.recovered}")
        for error in counts.errors:
            typer.echo(f"投递失败 / delivery failed: {redact_phones(error)}", err=True)
        if once:
            raise typer.Exit(1 if counts.errors else 0)
        time.sleep(interval)


@messages_app.command("worker")
def worker_command(
    ctx: typer.Context,
    concurrency: int = typer.Option(8, "--concurrency", "-c", help="并发投递数 / deliveries at once"),
    name: str = typer.Option(None, "--name", help="工作进程名 / worker name"),
    lease: float = typer.Option(None, "--lease", help="发送租期秒数，超时视为中断 / seconds a claim lasts before a "
                                                       "crashed send is settled (default: messaging.lease_seconds)"),
    recover_every: int = typer.Option(15, "--recover-every", help="检查中断发送的间隔秒数 / seconds between "
                                                                  "checks for crashed sends"),
    sends: int = typer.Option(16, "--sends", help="同时发送的请求数（服务商慢则调大）/ sends in flight at once "
                                                 "(more for a provider that answers slowly)"),
) -> None:
    """运行 procrastinate 投递工作进程（仅 PostgreSQL，可多开）/ Run a procrastinate delivery worker (PostgreSQL; run several)."""
    from kefu.queue.tasks import run_worker
    from kefu.services.delivery import default_channel_for

    store = store_of(ctx)
    if store.is_sqlite:
        typer.echo("worker 需要 PostgreSQL；SQLite 请用 `kefu messages deliver` / the worker needs PostgreSQL; on SQLite "
                   "use `kefu messages deliver`", err=True)
        raise typer.Exit(2)
    from kefu.config import Settings

    timeout = Settings.from_env().channels.timeout_seconds
    if lease is not None and lease <= timeout:
        typer.echo(f"--lease 必须长于发送超时 {timeout:g} 秒 / --lease must be longer than the channel timeout "
                   f"({timeout:g} s), or a crashed send could be sent again", err=True)
        raise typer.Exit(2)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("httpx").setLevel(logging.WARNING)  # a line per HTTP request: the jobs' lines say enough
    run_worker(store, default_channel_for(), concurrency=concurrency, name=name, lease_seconds=lease,
               recover_every_seconds=recover_every, channel_timeout_seconds=timeout, send_threads=sends)


@messages_app.command("list")
def list_command(
    ctx: typer.Context,
    status: str = typer.Option("all", "--status", help="queued|sent|suppressed|blocked|dead|retry|all"),
    shop: str = typer.Option(None, "--shop", help="店铺名称或 ID / shop name or id"),
    limit: int = typer.Option(50, "--limit", help="条数 / how many"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """列出发件箱消息（最新在前）/ List outbox messages, newest first."""
    from kefu.services.outbox_view import FILTERS, list_messages, message_json, status_counts

    if status not in FILTERS:
        typer.echo(f"--status 应为 / must be one of: {', '.join(FILTERS)}", err=True)
        raise typer.Exit(2)
    shop_id = _shop_id(ctx, shop)
    with store_of(ctx).session() as session:
        page = list_messages(session, shop_id=shop_id, status=status, per_page=limit)
        counts = status_counts(session, shop_id)
    if as_json:
        typer.echo(json.dumps({"counts": counts, "messages": [message_json(r) for r in page.items]},
                              ensure_ascii=False, indent=2))
        return
    table = Table("时间 created", "事件 event", "买家 buyer", "状态 status", "原因 reason", "内容 text")
    for r in page.items:
        m = r.message
        table.add_row(m.created_at.strftime("%Y-%m-%d %H:%M"), m.event, r.buyer_nick or "—", m.status, m.reason or "",
                      m.text[:40])
    Console(soft_wrap=True).print(table)
    typer.echo(" · ".join(f"{k} {v}" for k, v in counts.items()))


@messages_app.command("sweep")
def sweep_command(
    ctx: typer.Context,
    shop: str = typer.Option(None, "--shop", help="店铺名称或 ID（默认全部）/ shop name or id (default: every shop)"),
) -> None:
    """为近期订单生成到期的生命周期消息 / Queue the lifecycle messages recent orders are due now."""
    from sqlalchemy import select

    from kefu.services.lifecycle import lifecycle_sweep
    from kefu.store.tables import Shop

    store = store_of(ctx)
    shop_id = _shop_id(ctx, shop)
    with store.session() as session:
        shop_ids = [shop_id] if shop_id else list(session.scalars(select(Shop.id)))
    for sid in shop_ids:
        with store.session() as session:
            result = lifecycle_sweep(session, sid, now=_now())
        typer.echo(f"{sid}: 检查 examined {result.examined} · 排队 queued {result.queued} · 拦下 suppressed "
                   f"{result.suppressed} · 已有 duplicates {result.duplicates}")


@messages_app.command("retry")
def retry_command(ctx: typer.Context, message_id: str = typer.Argument(..., help="消息 ID / message id")) -> None:
    """重新投递一条死信 / Queue a dead letter again."""
    from kefu.services.delivery import retry_dead

    with store_of(ctx).session() as session:
        ok = retry_dead(session, message_id, actor="cli", now=_now())
    if not ok:
        typer.echo(f"不是死信 / not a dead letter: {message_id}", err=True)
        raise typer.Exit(1)
    typer.echo(f"已重新排队 / queued again: {message_id}")


def register(app: typer.Typer) -> None:
    """Add the `kefu messages` group to the root app."""
    app.add_typer(messages_app, name="messages")
