"""CLI commands: `kefu reviews import|train|classify|export` — reviews in, the shop's own sentiment model, replies out."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import typer

from kefu.cli.context import store_of
from kefu.services.review_replies import export_explanations
from kefu.services.reviews import (
    NotEnoughReviews,
    classify_csv,
    import_review_file,
    reviews_rules,
    shop_for,
    shop_model,
    train_shop_model,
)

reviews_app = typer.Typer(
    name="reviews",
    help="评价：导入、训练店铺自己的情感模型、分类、导出回复 / Reviews: import, train the shop's model, classify, export replies",
    no_args_is_help=True,
)


def _shop_or_exit(session, shop: str | None):
    found = shop_for(session, shop)
    if found is None:
        typer.echo(f"找不到店铺 / no such shop: {shop or '(请用 --shop 指定 / name one with --shop)'}", err=True)
        raise typer.Exit(1)
    return found


@reviews_app.command("import")
def import_command(
    ctx: typer.Context,
    files: list[Path] = typer.Argument(..., help="TOP 评价 JSON/CSV 或 Shopify 评价 CSV / TOP trade-rate JSON or CSV, Shopify review CSV"),
    shop: str = typer.Option(None, "--shop", help="店铺名称（首次使用时创建）/ shop name (created on first use)"),
    as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON"),
) -> None:
    """导入评价（重复导入不会重复；坏行按 文件:行 报告）/ Import reviews (re-import adds nothing; bad rows by file:line)."""
    store = store_of(ctx)
    failed = False
    results = []
    for path in files:
        result = import_review_file(store, path, shop, created_by="cli")
        results.append(result)
        failed = failed or not result.ok
        if as_json:
            continue
        if result.error:
            typer.echo(f"导入失败 / import failed: {result.error}", err=True)
            continue
        typer.echo(f"{result.file_name} ({result.kind}): 读取 read {result.rows_read}, 新增 new {result.new}, "
                   f"更新 updated {result.updated}, 未变 unchanged {result.unchanged}, 追评 follow-ups {result.follow_ups}, "
                   f"关联订单 orders linked {result.linked_orders}, 挽回案件 cases opened {result.cases_opened}, "
                   f"拒绝 rejected {result.rejected}")  # fmt: skip
        for problem in result.problems:
            typer.echo(problem, err=True)
    if as_json:
        typer.echo(json.dumps([r.to_json() for r in results], ensure_ascii=False, indent=2))
    if failed:
        raise typer.Exit(1)


@reviews_app.command("train")
def train_command(
    ctx: typer.Context,
    shop: str = typer.Option(None, "--shop", help="店铺名称或 ID / shop name or id"),
) -> None:
    """用店铺自己的带评级评价训练情感模型，并重新分类全部评价 / Train on the shop's rated reviews and reclassify them."""
    store = store_of(ctx)
    with store.session() as session:
        found = _shop_or_exit(session, shop)
        try:
            result = train_shop_model(session, found)
        except NotEnoughReviews as error:
            typer.echo(str(error), err=True)
            raise typer.Exit(1) from None
    typer.echo(f"已训练 / trained on {result.texts} 条评价 reviews in {result.seconds:.1f}s; "
               f"重新分类 / reclassified {result.reclassified}; 模型 / model {result.model_id}")  # fmt: skip


@reviews_app.command("classify")
def classify_command(
    ctx: typer.Context,
    file: Path = typer.Argument(..., help="CSV 文件 / a CSV file"),
    text_column: str = typer.Option("review", "--text-column", help="文本所在列 / the column holding the text"),
    shop: str = typer.Option(None, "--shop", help="用此店铺训练的模型（默认唯一店铺，否则基础模型）/ use this shop's trained model"),
) -> None:
    """给 CSV 每行加上 sentiment、sentiment_score、topics 后输出到标准输出 / Write the CSV to stdout with sentiment columns."""
    if not file.is_file():
        typer.echo(f"{file}: 找不到文件 / file not found", err=True)
        raise typer.Exit(1)
    store = store_of(ctx)
    with store.session() as session:
        found = shop_for(session, shop)
        if shop and found is None:
            typer.echo(f"找不到店铺 / no such shop: {shop}", err=True)
            raise typer.Exit(1)
        if found is not None:
            _, model = shop_model(session, found.id)
            flag_below = float(reviews_rules(found)["flag_below_score"])
        else:
            from kefu.text.sentiment import base_model

            model, flag_below = base_model(), float(reviews_rules(None)["flag_below_score"])
    from kefu.ingest.reviews_file import decode_text
    import io

    text = decode_text(file.read_bytes(), file.name)
    try:
        classify_csv(io.StringIO(text, newline=""), sys.stdout, model, text_column=text_column, flag_below=flag_below)
    except ValueError as error:
        typer.echo(f"{file}: {error}", err=True)
        raise typer.Exit(1) from None


@reviews_app.command("export")
def export_command(
    ctx: typer.Context,
    shop: str = typer.Option(None, "--shop", help="店铺名称或 ID / shop name or id"),
    fmt: str = typer.Option("json", "--format", help="json | csv"),
    dry_run: bool = typer.Option(False, "--dry-run", help="不标记为已导出 / do not mark them exported"),
) -> None:
    """导出已审核的回复（traderate.explain 格式）/ Export approved replies in the traderate.explain shape."""
    if fmt not in ("json", "csv"):
        typer.echo("--format 只能是 json 或 csv / must be json or csv", err=True)
        raise typer.Exit(2)
    store = store_of(ctx)
    with store.session() as session:
        found = _shop_or_exit(session, shop)
        typer.echo(export_explanations(session, found, fmt=fmt, mark=not dry_run))


def register(app: typer.Typer) -> None:
    """Add the `kefu reviews` group to the root app."""
    app.add_typer(reviews_app, name="reviews")
