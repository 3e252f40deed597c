"""CLI commands: `kefu kb list|add|search` — the shop's knowledge base the reply drafts cite."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from kefu.cli.context import store_of
from kefu.domain.desk.knowledge import KINDS
from kefu.services.knowledge import KnowledgeError, entry_json, list_entries, save_entry, search_knowledge
from kefu.services.shops import find_shop

kb_app = typer.Typer(
    name="kb",
    help="知识库：发货、退换、商品、活动、品牌、常见问题 / Knowledge base: shipping, returns, products, promotions, brand, FAQ",
    no_args_is_help=True,
)


def _shop_id(session, shop: str | None) -> str:
    found = find_shop(session, shop)
    if found is None:
        typer.echo(f"找不到店铺 / no such shop: {shop or '(none yet)'}", err=True)
        raise typer.Exit(1)
    return found.id


@kb_app.command("list")
def list_command(
    ctx: typer.Context,
    shop: str = typer.Option(None, "--shop", help="店铺名称或 ID / shop name or id"),
    kind: str = typer.Option(None, "--kind", help=f"类别 / kind: {', '.join(KINDS)}"),
) -> None:
    """列出知识条目（JSON）/ List entries as JSON."""
    with store_of(ctx).session() as session:
        entries = [entry_json(e) for e in list_entries(session, _shop_id(session, shop), kind=kind)]
    typer.echo(json.dumps(entries, ensure_ascii=False, indent=2))


@kb_app.command("add")
def add_command(
    ctx: typer.Context,
    kind: str = typer.Argument(..., help=f"类别 / kind: {', '.join(KINDS)}"),
    title: str = typer.Argument(..., help="标题 / title"),
    body: str = typer.Option("", "--body", help="内容 / text"),
    data: Path = typer.Option(None, "--data", help="key: value 数据文件 / a file of key: value lines"),
    shop: str = typer.Option(None, "--shop", help="店铺名称或 ID / shop name or id"),
) -> None:
    """新增知识条目，如 `kefu kb add shipping 发货 --data ship.txt` / Add an entry."""
    lines = data.read_text(encoding="utf-8") if data else ""
    with store_of(ctx).session() as session:
        try:
            saved = save_entry(session, shop_id=_shop_id(session, shop), kind=kind, title=title, body=body, data=lines,
                               by="cli")
        except KnowledgeError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        typer.echo(saved.entry.id)
        for warning in saved.warnings:
            typer.echo(f"{data}: {warning}", err=True)


@kb_app.command("search")
def search_command(
    ctx: typer.Context,
    question: str = typer.Argument(..., help="买家的问题 / a buyer's question"),
    shop: str = typer.Option(None, "--shop", help="店铺名称或 ID / shop name or id"),
) -> None:
    """看一个问题会检索到哪些条目 / Which entries a question finds (BM25 over jieba words)."""
    with store_of(ctx).session() as session:
        for ranked in search_knowledge(session, _shop_id(session, shop), question):
            typer.echo(f"{ranked.score:6.2f}  [{ranked.entry.kind}] {ranked.entry.title}")


def register(app: typer.Typer) -> None:
    """Add the `kefu kb` group to the root app."""
    app.add_typer(kb_app, name="kb")
