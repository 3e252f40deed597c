"""CLI commands: `kefu import taobao` for 千牛 exports and `kefu import products` for the catalogue."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kefu.cli.context import store_of

import_app = typer.Typer(help="导入数据 / Import data from platform exports.", no_args_is_help=True)
out = Console()
err = Console(stderr=True, soft_wrap=True)  # FILE:LINE: reason lines are never wrapped


@import_app.command("taobao")
def import_taobao(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="千牛导出的订单报表与宝贝报表 (CSV/xlsx，顺序不限) / ExportOrderList and ExportOrderDetailList files, any order"),
    shop: str = typer.Option(None, "--shop", help="店铺名称 / shop name (created on first use)"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="不显示进度 / no progress bar"),
) -> None:
    """导入千牛订单导出 / Import 千牛 order exports (re-importing adds nothing; newer exports update orders)."""
    from kefu.services.import_orders import import_taobao_files

    store = store_of(ctx)
    with Progress(TextColumn("{task.description}"), BarColumn(), DownloadColumn(), TimeElapsedColumn(),
                  console=err, disable=quiet, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=total)
            bar.update(tasks[name], completed=done)

        results = import_taobao_files(store, files, shop, progress=progress)

    failed = False
    for result in results:
        for rejection in result.rejections:
            err.print(f"{result.file_name}:{rejection.line_no}: {rejection.reason}", markup=False, highlight=False)
        if result.rows_rejected > len(result.rejections):
            err.print(f"{result.file_name}: … {result.rows_rejected - len(result.rejections)} more rejected rows "
                      f"(all listed in the import run {result.run_id})", markup=False)
        for warning in result.warnings:
            err.print(f"warning: {warning}", markup=False)
        if result.error:
            failed = True
            err.print(f"error: {result.error}", markup=False, highlight=False)

    table = Table("文件 / file", "类型 / kind", "读取 read", "入库 landed", "新增 new", "更新 updated", "拒绝 rejected")
    for r in results:
        kind = {"taobao_orders": "订单报表", "taobao_lines": "宝贝报表"}.get(r.kind or "", "—")
        table.add_row(r.file_name, kind, str(r.rows_read), str(r.rows_landed), str(r.rows_new), str(r.rows_updated),
                      str(r.rows_rejected))
    out.print(table)
    if failed:
        raise typer.Exit(code=1)


@import_app.command("products")
def import_products(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="商品目录 CSV/xlsx / product catalogue file"),
    shop: str = typer.Option(None, "--shop", help="店铺名称 / shop name"),
) -> None:
    """导入商品目录（类目、SKU、库存）/ Import the product catalogue (categories, SKUs, stock)."""
    from kefu.services.import_products import import_product_catalog

    result = import_product_catalog(store_of(ctx), file, shop)
    for rejection in getattr(result, "rejections", []):
        err.print(f"{file.name}:{rejection.line_no}: {rejection.reason}", markup=False, highlight=False)
    if getattr(result, "error", None):
        err.print(f"error: {result.error}", markup=False)
        raise typer.Exit(code=1)
    out.print(result)


def register(app: typer.Typer) -> None:
    app.add_typer(import_app, name="import")
