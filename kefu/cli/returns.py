"""CLI commands: `kefu returns import|decide|report|sweep` — TOP refunds in, the policy engine's decision, the reasons."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from kefu.cli.context import store_of
from kefu.domain.returns.reasons import REASONS
from kefu.ingest.refunds_file import UnreadableRefunds
from kefu.services.return_reasons import reason_report
from kefu.services.returns import (
    ReturnNotFound,
    ReturnsError,
    apply_decision,
    flag_product,
    get_request,
    import_refunds_file,
    request_json,
    rules_of,
    sweep_returns,
)
from kefu.services.shops import find_shop, list_shops

returns_app = typer.Typer(
    name="returns",
    help="退货退款：导入淘宝退款、按规则判定、退货原因分析 / Returns: import TOP refunds, decide by the policy, analyse reasons",
    no_args_is_help=True,
)

SHOP_HELP = "店铺名称或 ID（只有一个店铺时可省略）/ shop name or id (optional with one shop)"


def _shop_id(session, shop: str | None) -> str:
    found = find_shop(session, shop)
    if found is None:
        typer.echo(f"找不到店铺 / no such shop: {shop or '(several shops: use --shop)'}", err=True)
        raise typer.Exit(1)
    return found.id


@returns_app.command("import")
def import_command(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="TOP 退款 JSON 或 CSV 文件 / TOP refund JSON or CSV files"),
    shop: str = typer.Option(None, "--shop", help=SHOP_HELP),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """导入退款记录并逐条判定 / Import refund records and decide each one (bad records are listed, good ones land)."""
    store = store_of(ctx)
    results, failed = [], False
    for path in files:
        try:
            with store.session() as session:
                results.append(import_refunds_file(session, _shop_id(session, shop), path))
        except UnreadableRefunds as exc:
            typer.echo(f"无法读取 / unreadable: {exc}", err=True)
            failed = True
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=2))
    else:
        table = Table("文件 file", "读取 read", "新增 new", "更新 updated", "未变 unchanged", "拒绝 rejected")
        for r in results:
            table.add_row(r.file_name, str(r.read), str(r.new), str(r.updated), str(r.unchanged), str(len(r.problems)))
        Console(soft_wrap=True).print(table)
        for r in results:
            for problem in r.problems:
                typer.echo(problem)
    if failed or any(r.problems for r in results):
        raise typer.Exit(1)


@returns_app.command("decide")
def decide_command(
    ctx: typer.Context,
    refund_id: str = typer.Argument(..., help="退款编号 / refund id"),
    shop: str = typer.Option(None, "--shop", help=SHOP_HELP),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """按当前规则重新判定一条申请并列出依据 / Decide one request again under the current rules and list the rules."""
    store = store_of(ctx)
    with store.session() as session:
        try:
            request = get_request(session, refund_id, _shop_id(session, shop))
        except ReturnNotFound:
            typer.echo(f"找不到退款申请 / no return request {refund_id}", err=True)
            raise typer.Exit(1) from None
        apply_decision(session, request, now=datetime.now(UTC))
        payload = request_json(request)
        hits = rules_of(request)
    if as_json:
        typer.echo(json.dumps(payload, ensure_ascii=False, indent=2))
        return
    typer.echo(f"{payload['refund_id']}  订单 order {payload['order_no']}  {payload['title'] or ''}")
    typer.echo(f"判定 decision: {payload['decision']}   状态 status: {payload['status']}   "
               f"运费 freight: {payload['freight_payer'] or '—'}   折旧费 fee: ¥{payload['depreciation_fee'] or '0'}   "
               f"退款期限 refund due: {payload['refund_due_at'] or '—'}")
    for hit in hits:
        typer.echo(f"  · {hit.rule_id}: {hit.zh} / {hit.en}")


@returns_app.command("report")
def report_command(
    ctx: typer.Context,
    shop: str = typer.Option(None, "--shop", help=SHOP_HELP),
    periods: int = typer.Option(6, "--periods", min=1, max=24, help="统计期数 / number of periods"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """退货原因报表：按商品统计主观/客观原因与退货率 / Return reasons per product, subjective vs objective."""
    store = store_of(ctx)
    with store.session() as session:
        report = reason_report(session, _shop_id(session, shop), periods=periods)
    if as_json:
        typer.echo(json.dumps(report.to_json(), ensure_ascii=False, indent=2))
        return
    console = Console(soft_wrap=True)
    console.print(f"{report.since:%Y-%m-%d} – {report.until:%Y-%m-%d}: 退货 returns {report.returns} / 售出 sold "
                  f"{report.sold}; 主观 subjective {report.subjective}, 客观 objective {report.objective}")
    table = Table("商品 product", "售出 sold", "退货 returns", "退货率 rate", "主观 subj.", "客观 obj.", "主要原因 top reason")
    for p in report.products:
        top = REASONS[p.top_reason].zh if p.top_reason in REASONS else "—"
        table.add_row(p.title[:40], str(p.sold), str(p.returns), f"{p.rate:.1%}", str(p.subjective), str(p.objective), top)
    console.print(table)
    for row in report.jumps:
        console.print(f"退货率跳升 rate jump: {row.title[:40]} {row.jump.current_rate:.0%} vs {row.jump.baseline_rate:.0%}")


@returns_app.command("exempt")
def exempt_command(
    ctx: typer.Context,
    product: str = typer.Argument(..., help="商品 ID、商家编码或标题 / product id, outer id or title"),
    kind: str = typer.Option("made_to_order", "--as", help="made_to_order, perishable, digital, newspaper, periodical"),
    clear: bool = typer.Option(False, "--clear", help="取消标记 / remove the mark"),
    shop: str = typer.Option(None, "--shop", help=SHOP_HELP),
) -> None:
    """标记商品不适用七天无理由（定做、鲜活易腐等）/ Mark a product exempt from 7-day no-reason returns."""
    store = store_of(ctx)
    with store.session() as session:
        try:
            found = flag_product(session, _shop_id(session, shop), product, None if clear else kind)
        except ReturnsError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
        typer.echo(f"{found.title}: {(found.extra or {}).get('returns_exempt') or '—'}")


@returns_app.command("sweep")
def sweep_command(
    ctx: typer.Context,
    shop: str = typer.Option(None, "--shop", help="店铺名称或 ID（默认全部店铺）/ shop name or id (default: every shop)"),
) -> None:
    """提醒：退款逾期与退货率跳升 / Raise overdue-refund and return-rate-jump alerts now."""
    store = store_of(ctx)
    with store.session() as session:
        shop_ids = [_shop_id(session, shop)] if shop else [s.id for s in list_shops(session)]
        for shop_id in shop_ids:
            result = sweep_returns(session, shop_id)
            typer.echo(f"{shop_id}: 退款逾期 overdue {result.overdue}, 退货率跳升 rate jumps {result.rate_jumps}")


def register(app: typer.Typer) -> None:
    """Add the `kefu returns` group to the root app."""
    app.add_typer(returns_app, name="returns")
