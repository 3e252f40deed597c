"""CLI commands: `kefu watch sweep` — raise and clear parcel-watch alerts now (the server also does it on a timer)."""

from __future__ import annotations

import json

import typer
from rich.console import Console
from rich.table import Table

from kefu.cli.context import store_of
from kefu.services.shops import find_shop
from kefu.services.watch import sweep_shops

watch_app = typer.Typer(
    name="watch",
    help="物流监控：扫描包裹与待发货订单，生成或解除提醒 / Parcel watch: sweep parcels and unshipped orders, raise and clear alerts",
    no_args_is_help=True,
)


@watch_app.command("sweep")
def sweep_command(
    ctx: typer.Context,
    shop: str = typer.Option(None, "--shop", help="店铺名称或 ID（默认全部店铺）/ shop name or id (default: every shop)"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """扫描一次：揽收超时、物流停滞、异常、拒收、退回、签收、发货承诺、快递不符 / Sweep once for every watch rule."""
    store = store_of(ctx)
    shop_ids = None
    if shop:
        with store.session() as session:
            found = find_shop(session, shop)
            if found is None:
                typer.echo(f"找不到店铺 / no such shop: {shop}", err=True)
                raise typer.Exit(1)
            shop_ids = [found.id]
    failures: list[str] = []
    results = sweep_shops(store, shop_ids=shop_ids,
                          on_error=lambda shop_id, exc: failures.append(f"{shop_id}: {exc}"))
    if as_json:
        typer.echo(json.dumps({"results": [r.to_json() for r in results], "errors": failures}, ensure_ascii=False,
                              indent=2))
    else:
        table = Table("店铺 shop", "检查 examined", "新提醒 raised", "已解除 resolved", "待处理 live", "新提醒类型 kinds")
        for r in results:
            kinds = ", ".join(f"{k} {n}" for k, n in sorted(r.raised_by_kind.items())) or "—"
            table.add_row(r.shop_id, str(r.examined), str(r.raised), str(r.resolved), str(r.live), kinds)
        Console(soft_wrap=True).print(table)
        for failure in failures:
            typer.echo(f"扫描失败 / sweep failed: {failure}", err=True)
    if failures:
        raise typer.Exit(1)


def register(app: typer.Typer) -> None:
    """Add the `kefu watch` group to the root app."""
    app.add_typer(watch_app, name="watch")
