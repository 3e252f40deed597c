"""CLI commands: `kefu chats import FILE…` (千牛 chat records, CSV, JSONL) and `kefu chats kpis` (response figures)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from kefu.cli.context import store_of
from kefu.services.conversations import import_chat_file
from kefu.services.response_kpis import shop_kpis
from kefu.services.shops import find_shop, get_or_create_shop

chats_app = typer.Typer(
    name="chats",
    help="聊天记录与客服指标 / Chat logs and service KPIs",
    no_args_is_help=True,
)


def _shop_id(session, shop: str | None, *, create: bool) -> str:
    found = find_shop(session, shop)
    if found is None and create and shop:
        found = get_or_create_shop(session, shop)
    if found is None:
        typer.echo(f"找不到店铺 / no such shop: {shop or '(none yet)'}", err=True)
        raise typer.Exit(1)
    return found.id


@chats_app.command("import")
def import_command(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="聊天记录文件（千牛 .txt、.csv、.jsonl）/ chat log files"),
    shop: str = typer.Option(None, "--shop", help="店铺名称（没有则新建）/ shop name (created when missing)"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """导入聊天记录：重复导入不会重复添加；坏行按 文件:行号 报告 / Import chat logs; re-imports add nothing, bad lines are reported as FILE:LINE."""
    store = store_of(ctx)
    results = []
    for path in files:
        if not path.is_file():
            typer.echo(f"找不到文件 / file not found: {path}", err=True)
            raise typer.Exit(1)
        with store.session() as session:
            shop_id = _shop_id(session, shop, create=True)
            results.append(import_chat_file(session, shop_id, path.name, path.read_bytes(), user="cli",
                                            now=datetime.now(UTC)))
    if as_json:
        typer.echo(json.dumps([r.as_json() for r in results], ensure_ascii=False, indent=2))
    else:
        for r in results:
            typer.echo(f"{r.file}: 新消息 new {r.messages_new}, 重复 duplicates {r.duplicates}, "
                       f"会话 conversations {r.conversations}, 问题 problems {len(r.problems)}")
            for problem in r.problems:
                typer.echo(str(problem), err=True)


@chats_app.command("kpis")
def kpis_command(
    ctx: typer.Context,
    shop: str = typer.Option(None, "--shop", help="店铺名称或 ID / shop name or id"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """3分钟响应率、响应时长、询单转化（按店铺和客服）/ 3-minute rate, response times and conversion by shop and agent."""
    store = store_of(ctx)
    with store.session() as session:
        report = shop_kpis(session, _shop_id(session, shop, create=False), now=datetime.now(UTC))
    data = report.as_json()
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    table = Table("客服 agent", "轮次 rounds", "3分钟内 within", "响应率 rate", "中位数 median s", "询单 inquiries", "转化 converted")
    rows = [("全店 shop", data["shop"], data["conversion"]["inquiries"], data["conversion"]["converted"])]
    rows += [(agent, f, f["inquiries"], f["converted"]) for agent, f in data["agents"].items()]
    for name, f, inquiries, converted in rows:
        rate = "—" if f["rate"] is None else f"{f['rate'] * 100:.1f}%"
        median = "—" if f["median_seconds"] is None else f"{f['median_seconds']:.0f}"
        table.add_row(name, str(f["rounds"]), str(f["within"]), rate, median, str(inquiries), str(converted))
    Console(soft_wrap=True).print(table)


def register(app: typer.Typer) -> None:
    """Add the `kefu chats` group to the root app."""
    app.add_typer(chats_app, name="chats")
