"""CLI commands: `kefu cases list|show|open|export|sweep-promises` — complaint cases and promises from the terminal."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from kefu.cli.context import store_of
from kefu.domain.cases.steps import SOURCES
from kefu.services import cases as svc
from kefu.services import evidence, promises
from kefu.services.shops import find_shop

cases_app = typer.Typer(
    name="cases",
    help="投诉工单：列表、查看、开单、导出证据、承诺到期扫描 / Complaint cases: list, show, open, export, promise sweep",
    no_args_is_help=True,
)

SHOP_HELP = "店铺名称或 ID（默认第一个店铺）/ shop name or id (default: the first shop)"


def _shop_id(session, shop: str | None, *, required: bool = False) -> str | None:
    if not shop:
        if required:
            from kefu.services.shops import list_shops

            shops = list_shops(session)
            if not shops:
                typer.echo("还没有店铺 / no shop yet", err=True)
                raise typer.Exit(1)
            return shops[0].id
        return None
    found = find_shop(session, shop)
    if found is None:
        typer.echo(f"找不到店铺 / no such shop: {shop}", err=True)
        raise typer.Exit(1)
    return found.id


@cases_app.command("list")
def list_command(
    ctx: typer.Context,
    shop: str = typer.Option(None, "--shop", help=SHOP_HELP),
    step: str = typer.Option(None, "--step", help="confirm / analyse / negotiate / execute / follow_up / closed"),
    sla_state: str = typer.Option(None, "--sla", help="breached / due_soon / ok / paused"),
    status: str = typer.Option("open", "--status", help="open / closed / all"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """列出工单（超时的在前）/ List cases, breached first."""
    store = store_of(ctx)
    with store.session() as session:
        page = svc.list_cases(session, shop_id=_shop_id(session, shop), step=step, sla_state=sla_state,
                              status=status, now=datetime.now(UTC))
        rows = [{**svc.case_json(r.case), "sla_state": r.sla_state, "top_tier": r.top_tier,
                 "pending_approval": r.pending_approval, "buyer_nick": r.buyer_nick} for r in page.items]
    if as_json:
        typer.echo(json.dumps({"items": rows, "total": page.total}, ensure_ascii=False, indent=2))
        return
    table = Table("id", "时效 SLA", "步骤 step", "严重度 severity", "档位 tier", "买家 buyer", "摘要 summary")
    for r in rows:
        tier = f"{r['top_tier']}{' !' if r['pending_approval'] else ''}" if r["top_tier"] else "—"
        table.add_row(r["id"], r["sla_state"], r["step"], r["severity"] or "—", tier, r["buyer_nick"] or "—",
                      r["summary"][:40])
    Console(soft_wrap=True).print(table)


@cases_app.command("show")
def show_command(ctx: typer.Context, case_id: str = typer.Argument(..., help="工单 ID / case id"),
                 as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON")) -> None:
    """查看一个工单：步骤时效、方案阶梯、通话脚本 / One case: step clocks, the ladder, the call script."""
    store = store_of(ctx)
    with store.session() as session:
        try:
            view = svc.case_view(session, case_id, now=datetime.now(UTC))
        except svc.CaseNotFound:
            typer.echo(f"找不到工单 / no such case: {case_id}", err=True)
            raise typer.Exit(1) from None
        data = svc.case_json(view.case, view.clock)
        data["offers"] = [svc.offer_json(v.offer) for v in view.offers]
        data["call_suggested"] = view.advice.suggested
        data["call_script"] = [line.say for line in view.script]
    if as_json:
        typer.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    console = Console(soft_wrap=True)
    console.print(f"[bold]{data['summary']}[/bold]  {data['step']} · {data['severity']} · SLA {data['sla']['state']}")
    for step in data["sla"]["steps"]:
        console.print(f"  {step['step']:<10} {step['state']:<11} {step['used_minutes']:>7.0f}/"
                      f"{step['limit_minutes']:.0f} min (paused {step['paused_minutes']:.0f})")
    for offer in data["offers"]:
        console.print(f"  第{offer['tier']}档 tier {offer['tier']}: {offer['description']} ¥{offer['cost']} "
                      f"buyer={offer['buyer_accepts']} approval={offer['approval']}{' ✓' if offer['chosen'] else ''}")
    if data["call_suggested"]:
        console.print("[bold red]建议电话沟通 / call suggested[/bold red]")


@cases_app.command("open")
def open_command(
    ctx: typer.Context,
    summary: str = typer.Option(..., "--summary", help="投诉摘要 / what the complaint is about"),
    shop: str = typer.Option(None, "--shop", help=SHOP_HELP),
    order: str = typer.Option(None, "--order", help="订单编号 / order number"),
    customer: str = typer.Option(None, "--customer", help="买家 ID / customer id"),
    source: str = typer.Option("manual", "--source", help="/".join(SOURCES)),
    source_id: str = typer.Option(None, "--source-id", help="消息/评价/提醒 ID / message, review or alert id"),
    by: str = typer.Option("cli", "--by", help="开单人 / opened by"),
) -> None:
    """开一个投诉工单（打印工单 ID）/ Open a complaint case (prints its id)."""
    store = store_of(ctx)
    with store.session() as session:
        shop_id = _shop_id(session, shop, required=True)
        try:
            case_id = svc.open_case(session, shop_id=shop_id, customer_id=customer, source=source,
                                    source_id=source_id, summary=summary,
                                    order_id=f"{shop_id}:{order}" if order else None, opened_by=by,
                                    now=datetime.now(UTC))
        except svc.CaseError as exc:
            typer.echo(f"无法开单 / cannot open the case: {exc}", err=True)
            raise typer.Exit(1) from None
    typer.echo(case_id)


@cases_app.command("export")
def export_command(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help="工单 ID / case id"),
    fmt: str = typer.Option("json", "--format", help="json / md"),
    out: Path = typer.Option(None, "--out", help="写入文件（默认打印）/ write to this file (default: print)"),
) -> None:
    """导出工单证据档案（每份快照带 SHA-256）/ Export the case file with every snapshot's SHA-256."""
    if fmt not in ("json", "md"):
        typer.echo("--format: json 或 md / json or md", err=True)
        raise typer.Exit(2)
    store = store_of(ctx)
    with store.session() as session:
        try:
            data = evidence.export_case(session, case_id, now=datetime.now(UTC))
        except svc.CaseNotFound:
            typer.echo(f"找不到工单 / no such case: {case_id}", err=True)
            raise typer.Exit(1) from None
    text = json.dumps(data, ensure_ascii=False, indent=2) if fmt == "json" else evidence.export_markdown(data)
    if out:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"已导出 / exported: {out}")
    else:
        typer.echo(text)


@cases_app.command("sweep-promises")
def sweep_promises_command(
    ctx: typer.Context,
    shop: str = typer.Option(None, "--shop", help="店铺名称或 ID（默认全部店铺）/ shop name or id (default: every shop)"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """把到期未兑现的承诺标为逾期并生成提醒 / Mark overdue promises and raise promise.due alerts."""
    store = store_of(ctx)
    shop_ids = None
    if shop:
        with store.session() as session:
            shop_ids = [_shop_id(session, shop)]
    results = promises.sweep_all(store, shop_ids=shop_ids)
    if as_json:
        typer.echo(json.dumps({"results": [r.to_json() for r in results]}, ensure_ascii=False, indent=2))
        return
    table = Table("店铺 shop", "逾期 overdue", "新提醒 raised", "已兑现 kept", "未兑现 broken")
    for r in results:
        table.add_row(r.shop_id, str(r.overdue), str(r.raised), str(r.kept), str(r.broken))
    Console(soft_wrap=True).print(table)


def register(app: typer.Typer) -> None:
    """Add the `kefu cases` group to the root app."""
    app.add_typer(cases_app, name="cases")
