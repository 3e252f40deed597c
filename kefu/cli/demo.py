"""CLI command `kefu demo`: build the demo shop from invented 千牛 exports, with a progress bar and a summary."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from kefu.cli.context import store_of

out = Console()
err = Console(stderr=True)


def _parse_day(text: str | None) -> date | None:
    if not text:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(f"'{text}' is not a date like 2025-11-22 / 日期格式应为 YYYY-MM-DD") from None


def demo(
    ctx: typer.Context,
    out_dir: Path = typer.Option(None, "--out", help="导出文件写到这个目录 / directory for the export files (default: a temp dir)"),
    seed: int = typer.Option(7, "--seed", help="随机种子，同一种子同一天得到同样的店铺 / seed: same seed and day, same shop"),
    customers: int = typer.Option(2000, "--customers", min=1, help="客户数量 / number of customers"),
    today: str = typer.Option(None, "--today", help="“今天”的日期 YYYY-MM-DD，订单截止到这天零点 / the demo's today"),
    shop: str = typer.Option("小桃子的衣橱", "--shop", help="店铺名称 / shop name"),
    quiet: bool = typer.Option(False, "--quiet", "-q", help="不显示进度 / no progress bar"),
) -> None:
    """生成演示店铺：写出千牛格式的导出文件并导入 / Build the demo shop: write 千牛-format exports and import them."""
    from kefu.demo import build_demo_shop

    day = _parse_day(today)
    store = store_of(ctx)
    with Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.percentage:>3.0f}%"),
                  TimeElapsedColumn(), console=err, disable=quiet, transient=True) as bar:
        tasks: dict[str, int] = {}

        def progress(name: str, done: int, total: int) -> None:
            if name not in tasks:
                tasks[name] = bar.add_task(name, total=max(total, 1))
            bar.update(tasks[name], completed=done, total=max(total, 1))

        summary = build_demo_shop(store, seed=seed, today=day, shop_name=shop, out_dir=out_dir, customers=customers,
                                  progress=progress)

    for problem in summary.problems():
        err.print(problem, markup=False, highlight=False)
    table = Table(title=f"演示店铺 / demo shop: {summary.shop_name}", show_header=False)
    table.add_row("今天 / today", summary.today.isoformat())
    table.add_row("商品 / products", f"{summary.products} ({summary.catalog.skus_new + summary.catalog.skus_updated} SKU)")
    table.add_row("客户 / customers", str(summary.customers))
    table.add_row("订单 / orders", f"{summary.orders} ({summary.lines} 子订单 / lines)")
    table.add_row("客服备注 / agent notes", f"{summary.profiles} 位客户 / customers")
    for line in summary.extras:
        name, _, value = line.partition(": ")
        table.add_row(name, value)
    table.add_row("文件 / files", "\n".join(str(p) for p in summary.files))
    out.print(table)
    if not summary.ok:
        err.print("部分数据没有导入，见上 / some rows were not imported, see above", markup=False)
        raise typer.Exit(code=1)
    db = ctx.find_root().params.get("db")
    serve = f"kefu --db {db} serve" if db else "kefu serve"
    out.print(f"下一步 / next: [bold]{serve}[/bold]  然后打开浏览器 / then open the workbench in a browser")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
