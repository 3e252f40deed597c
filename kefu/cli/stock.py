"""CLI commands: `kefu stock import|check|report|reply|presale` — stock files, the check before shipping, stock
levels with safety stock and sell-through, a buyer's reply to a stockout, the pre-sale switch."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table

from kefu.cli.context import store_of
from kefu.services.import_stock import import_stock_file
from kefu.services.shops import find_shop, list_shops
from kefu.services.stock_check import run_stock_pass
from kefu.services.stock_levels import shop_sell_through, sku_levels
from kefu.services.stockouts import CaseNotFound, ChoiceRefused, case_figures, record_reply, switch_to_presale

stock_app = typer.Typer(
    name="stock",
    help="库存：导入库存、发货前检查缺货、安全库存与动销率 / Stock: import levels, check orders before shipping, "
    "safety stock and sell-through",
    no_args_is_help=True,
)

SHOP_HELP = "店铺名称或 ID（默认全部店铺）/ shop name or id (default: every shop)"


def _shops(store, shop: str | None) -> list[str]:
    with store.session() as session:
        if shop:
            found = find_shop(session, shop)
            if found is None:
                typer.echo(f"找不到店铺 / no such shop: {shop}", err=True)
                raise typer.Exit(1)
            return [found.id]
        return [s.id for s in list_shops(session)]


def _dump(data) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, default=str))


def _pass(store, shop_ids: list[str]) -> list[dict]:
    results = []
    for shop_id in shop_ids:
        with store.session() as session:
            results.append(run_stock_pass(session, shop_id, now=datetime.now(UTC), actor="cli").to_json())
    return results


def _print_pass(results: list[dict]) -> None:
    table = Table("店铺 shop", "待发订单 orders", "缺货 short", "新缺货单 opened", "已解决 closed", "消息 messages",
                  "安全库存更新 safety", "库存提醒 alerts")
    for r in results:
        messages = ", ".join(f"{k} {n}" for k, n in r["messages"].items()) or "—"
        table.add_row(r["shop_id"], str(r["orders_checked"]), str(r["short_orders"]), str(r["cases_opened"]),
                      str(r["cases_closed"]), messages, str(r["safety_changed"]),
                      f"+{r['alerts_raised']} / -{r['alerts_resolved']}")
    Console(soft_wrap=True).print(table)


@stock_app.command("import")
def import_command(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="库存文件（CSV 或 xlsx）/ stock files (CSV or xlsx)"),
    shop: str = typer.Option(None, "--shop", help="店铺名称或 ID / shop name or id"),
    check: bool = typer.Option(True, "--check/--no-check", help="导入后检查待发订单 / check unshipped orders afterwards"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """导入库存：商家编码/SKU编码, 属性, 库存, 在途, 补货日期, 供应商交期 / Import SKU stock levels; bad rows are named
    by file:line and the good rows land."""
    store = store_of(ctx)
    results = [import_stock_file(store, f, shop, by="cli") for f in files]
    failed = any(not r.ok for r in results)
    checks = _pass(store, sorted({r.shop_id for r in results if r.ok and r.shop_id})) if check and not failed else []
    if as_json:
        _dump({"imports": [r.to_json() for r in results], "checks": checks})
    else:
        for r in results:
            typer.echo(str(r))
            for line in r.messages():
                typer.echo(line, err=True)
        if checks:
            _print_pass(checks)
    if failed:
        raise typer.Exit(1)


@stock_app.command("check")
def check_command(
    ctx: typer.Context,
    shop: str = typer.Option(None, "--shop", help=SHOP_HELP),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """发货前检查：按付款先后分配库存，缺货订单生成缺货单并通知买家 / Check paid, unshipped orders against stock
    (first paid, first served), open stockout cases and message the buyers."""
    store = store_of(ctx)
    results = _pass(store, _shops(store, shop))
    _dump(results) if as_json else _print_pass(results)


@stock_app.command("report")
def report_command(
    ctx: typer.Context,
    shop: str = typer.Option(None, "--shop", help=SHOP_HELP),
    low: bool = typer.Option(False, "--low", help="只看缺货和低库存 / only out-of-stock and low SKUs"),
    days: int = typer.Option(None, "--days", help="动销率周期（天）/ sell-through period in days"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """库存报表：库存、已占用、可用、安全库存、可售天数、动销率、缺货单取消率 / Stock levels, safety stock, days of
    cover, sell-through and the share of stockout cases that ended cancelled."""
    store = store_of(ctx)
    now = datetime.now(UTC)
    report = []
    for shop_id in _shops(store, shop):
        with store.session() as session:
            levels = sku_levels(session, shop_id, now=now)
            rate = shop_sell_through(session, shop_id, now=now, days=days)
            figures = case_figures(session, shop_id)
            rows = [lv for lv in levels if lv.status in ("out", "low")] if low else levels
            report.append({
                "shop_id": shop_id,
                "sell_through": {"skus": rate.skus, "skus_sold": rate.skus_sold, "sku_rate": rate.sku_rate,
                                 "products": rate.products, "products_sold": rate.products_sold,
                                 "product_rate": rate.product_rate, "units_sold": rate.units_sold,
                                 "units_on_hand": rate.units_on_hand, "unit_rate": rate.unit_rate},
                "stockouts": figures.to_json(),
                "skus": [{"sku_id": lv.sku.id, "title": lv.title, "properties": lv.sku.properties,
                          "sku_code": lv.sku.outer_sku_id, "stock": lv.stock, "committed": lv.committed,
                          "available": lv.available, "missing": lv.missing, "safety_stock": lv.safety,
                          "daily_units": round(lv.velocity.mean, 3), "days_of_cover": lv.cover_days,
                          "status": lv.status, "restock_date": lv.sku.restock_date} for lv in rows],
            })
    if as_json:
        _dump(report)
        return
    console = Console(soft_wrap=True)
    for r in report:
        st, fig = r["sell_through"], r["stockouts"]
        pct = lambda x: "—" if x is None else f"{x:.1%}"  # noqa: E731
        console.print(f"[bold]{r['shop_id']}[/bold] 动销率 sell-through: SKU {pct(st['sku_rate'])} · 商品 products "
                      f"{pct(st['product_rate'])} · 件数 units {pct(st['unit_rate'])}; 缺货单 stockouts {fig['total']} "
                      f"(取消 cancelled {pct(fig['cancelled_share'])})")
        table = Table("商品 product", "规格 SKU", "库存 stock", "占用 committed", "可用 free", "安全 safety",
                      "可售天数 cover", "状态 status", "补货 restock")
        for s in r["skus"]:
            cover = "∞" if s["days_of_cover"] is None else f"{s['days_of_cover']:.1f}"
            table.add_row(s["title"][:24], s["properties"], str(s["stock"]), str(s["committed"]), str(s["available"]),
                          str(s["safety_stock"]), cover, s["status"], str(s["restock_date"] or "—"))
        console.print(table)


@stock_app.command("reply")
def reply_command(
    ctx: typer.Context,
    case_id: str = typer.Argument(..., help="缺货单 ID / stockout case id"),
    text: str = typer.Argument(..., help="买家回复 / the buyer's reply, e.g. 先发有货的, 换白色, 等, 取消, 1–4"),
) -> None:
    """记录买家对缺货方案的回复并执行 / Record a buyer's reply to the stockout options and carry it out."""
    store = store_of(ctx)
    with store.session() as session:
        try:
            result = record_reply(session, case_id, text, now=datetime.now(UTC))
        except CaseNotFound:
            typer.echo(f"找不到缺货单 / no such case: {case_id}", err=True)
            raise typer.Exit(1) from None
        if not result.choice.understood:
            typer.echo("没看懂回复，缺货单继续等待买家 / reply not understood: the case keeps waiting for the buyer")
            raise typer.Exit(2)
        if result.refused:
            typer.echo(f"无法执行 / cannot carry it out: {result.refused}", err=True)
            raise typer.Exit(1)
        typer.echo(f"{result.case.status}: {result.case.outcome}")


@stock_app.command("presale")
def presale_command(
    ctx: typer.Context,
    sku_id: str = typer.Argument(..., help="SKU ID"),
    restock: str = typer.Option(None, "--date", help="确认的补货日期 / confirmed restock date, 2026-12-05"),
) -> None:
    """转预售：确认补货日期并如实告知等待中的买家 / Switch a sold-out SKU to pre-sale: confirm the restock date and tell
    the waiting buyers."""
    store = store_of(ctx)
    when = None
    if restock:
        try:
            when = date.fromisoformat(restock)
        except ValueError:
            typer.echo(f"--date: 不是日期 / not a date: {restock}", err=True)
            raise typer.Exit(1) from None
    with store.session() as session:
        try:
            result = switch_to_presale(session, sku_id, now=datetime.now(UTC), by="cli", restock_date=when)
        except (LookupError, ChoiceRefused) as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
    typer.echo(f"{result.restock_date}: 已通知 {result.orders_told} 单 / told {result.orders_told} orders"
               + (" (之前已切换 / already switched)" if result.already else ""))


def register(app: typer.Typer) -> None:
    """Add the `kefu stock` group to the root app."""
    app.add_typer(stock_app, name="stock")
