"""CLI commands for growth, care and risk: `kefu segments`, `kefu care`, `kefu risk`, `kefu listings`."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select

from kefu.cli.context import store_of
from kefu.services.shops import find_shop
from kefu.store.tables import Customer, Shop

out = Console(soft_wrap=True)
SHOP_HELP = "店铺名称或 ID（只有一个店铺时可省略）/ shop name or id (optional with one shop)"

segments_app = typer.Typer(name="segments", no_args_is_help=True,
                           help="客户分组：RFM 与回购周期 / Segments: RFM groups and purchase cycles")
care_app = typer.Typer(name="care", no_args_is_help=True, help="关怀回访 / Care visits (回访)")
risk_app = typer.Typer(name="risk", no_args_is_help=True, help="差评师风险与证据包 / Extortion-buyer risk and evidence")
listings_app = typer.Typer(name="listings", no_args_is_help=True, help="宝贝自查 / Listing self-audit")


def _shop_id(session, shop: str | None) -> str:
    if shop:
        found = find_shop(session, shop)
        if found is None:
            typer.echo(f"找不到店铺 / no such shop: {shop}", err=True)
            raise typer.Exit(1)
        return found.id
    ids = list(session.scalars(select(Shop.id)))
    if len(ids) != 1:
        typer.echo("请用 --shop 指定店铺 / name the shop with --shop", err=True)
        raise typer.Exit(1)
    return ids[0]


def _customer(session, shop_id: str, nick: str) -> Customer:
    found = session.scalar(select(Customer).where(Customer.shop_id == shop_id, Customer.buyer_nick == nick))
    if found is None:
        typer.echo(f"找不到客户 / no such customer: {nick}", err=True)
        raise typer.Exit(1)
    return found


@segments_app.command("refresh")
def segments_refresh(ctx: typer.Context, shop: str = typer.Option(None, "--shop", help=SHOP_HELP),
                     as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON")) -> None:
    """重新计算 RFM 与回购周期，并列出各组人数与消费 / Recompute RFM and cycles, then show each group."""
    from kefu.services.segments import group_report, refresh_scores

    with store_of(ctx).session() as session:
        shop_id = _shop_id(session, shop)
        scored = refresh_scores(session, shop_id, datetime.now(UTC))
        groups = group_report(session, shop_id)
    if as_json:
        typer.echo(json.dumps({"scored": scored, "groups": [{"group": g.group, "customers": g.customers,
                                                               "spend": f"{g.spend:.2f}", "share": round(g.share_of_spend, 4)}
                                                              for g in groups]}, ensure_ascii=False))
        return
    table = Table("分组 group", "客户 customers", "消费 spend", "占比 share", title=f"{scored} customers scored")
    for g in groups:
        table.add_row(g.group, str(g.customers), f"{g.spend:,.2f}", f"{g.share_of_spend:.1%}")
    out.print(table)


@segments_app.command("save")
def segments_save(ctx: typer.Context, name: str = typer.Argument(..., help="分组名称 / segment name"),
                  definition: str = typer.Argument(..., help='条件 JSON，例如 / filter JSON, e.g. {"rfm_groups": ["champions"]}'),
                  shop: str = typer.Option(None, "--shop", help=SHOP_HELP)) -> None:
    """保存一个分组 / Save a segment."""
    from kefu.domain.growth.segment_filter import SegmentDefinitionError
    from kefu.services.segments import save_segment

    try:
        raw = json.loads(definition)
    except json.JSONDecodeError as exc:
        typer.echo(f"条件不是有效的 JSON / the filter is not valid JSON: {exc.msg}", err=True)
        raise typer.Exit(2) from None
    with store_of(ctx).session() as session:
        try:
            save_segment(session, _shop_id(session, shop), name, raw, by="cli", now=datetime.now(UTC))
        except (SegmentDefinitionError, ValueError) as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
    typer.echo(f"已保存 / saved: {name}")


@segments_app.command("list")
def segments_list(ctx: typer.Context, shop: str = typer.Option(None, "--shop", help=SHOP_HELP),
                  as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON")) -> None:
    """保存的分组与实时人数 / Saved segments with live counts."""
    from kefu.services.segments import saved_segments

    with store_of(ctx).session() as session:
        rows = saved_segments(session, _shop_id(session, shop), datetime.now(UTC))
    if as_json:
        typer.echo(json.dumps([{"name": r.name, "definition": r.definition, "customers": r.customers,
                                "spend": f"{r.spend:.2f}"} for r in rows], ensure_ascii=False))
        return
    table = Table("名称 name", "条件 filter", "客户 customers", "消费 spend")
    for r in rows:
        table.add_row(r.name, json.dumps(r.definition, ensure_ascii=False), str(r.customers), f"{r.spend:,.2f}")
    out.print(table)


@care_app.command("schedule")
def care_schedule(ctx: typer.Context, shop: str = typer.Option(None, "--shop", help=SHOP_HELP)) -> None:
    """生成到期的回访（签收后、生日、挽回）/ Add the visits that are due (after signing, birthdays, win-backs)."""
    from kefu.services.care import schedule_visits

    with store_of(ctx).session() as session:
        done = schedule_visits(session, _shop_id(session, shop), datetime.now(UTC))
    typer.echo(f"签收后 after signing {done.after_signing} · 生日 birthday {done.birthday} · 挽回 win-back {done.winback}")


@risk_app.command("assess")
def risk_assess(ctx: typer.Context, nick: str = typer.Argument(..., help="买家昵称 / buyer nick"),
                shop: str = typer.Option(None, "--shop", help=SHOP_HELP),
                evidence: Path = typer.Option(None, "--evidence", help="把证据包写到这个文件 / write the evidence pack here"),
                as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON")) -> None:
    """给买家打差评师风险分，可导出证据包 / Score a buyer's extortion risk, optionally export the evidence pack."""
    from kefu.services.extortion_risk import assess_buyer, evidence_pack, evidence_pack_json

    now = datetime.now(UTC)
    with store_of(ctx).session() as session:
        customer = _customer(session, _shop_id(session, shop), nick)
        row = assess_buyer(session, customer.id, trigger="manual", now=now)
        result = {"buyer": nick, "score": row.score, "level": row.level, "signals": row.signals}
        if evidence is not None:
            evidence.write_text(evidence_pack_json(evidence_pack(session, customer.id, now=now)), encoding="utf-8")
    if as_json:
        typer.echo(json.dumps(result, ensure_ascii=False))
    else:
        typer.echo(f"{nick}: {row.score} ({row.level})")
        for s in row.signals:
            typer.echo(f"  +{s['points']} {s['zh']} / {s['en']}" + (f"  「{s['evidence']}」" if s["evidence"] else ""))
    if evidence is not None:
        typer.echo(f"证据包 / evidence pack: {evidence}")


@listings_app.command("import")
def listings_import(ctx: typer.Context, file: Path = typer.Argument(..., help="CSV 或 JSON / CSV or JSON"),
                    shop: str = typer.Option(None, "--shop", help=SHOP_HELP)) -> None:
    """导入宝贝并自查 / Import listings and audit them."""
    from kefu.ingest.listings_file import UnreadableListings
    from kefu.services.listing_audit import import_listings

    with store_of(ctx).session() as session:
        try:
            result = import_listings(session, _shop_id(session, shop), file, now=datetime.now(UTC))
        except UnreadableListings as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(1) from None
    for message in result.messages():
        typer.echo(message, err=True)
    typer.echo(f"新增 new {result.new} · 更新 updated {result.updated} · 有问题 rejected {len(result.rejected)}")


@listings_app.command("audit")
def listings_audit(ctx: typer.Context, shop: str = typer.Option(None, "--shop", help=SHOP_HELP),
                   as_json: bool = typer.Option(False, "--json", help="输出 JSON / print JSON")) -> None:
    """列出每个宝贝的问题和改法 / Every listing's findings with their fixes."""
    from kefu.services.listing_audit import audit_shop

    with store_of(ctx).session() as session:
        found = audit_shop(session, _shop_id(session, shop))
        rows = [{"listing": lf.listing.listing_key, "title": lf.listing.title,
                 "findings": [{"code": f.code, "severity": f.severity, "problem": f.zh, "fix": f.fix_zh}
                              for f in lf.findings]} for lf in found]
    if as_json:
        typer.echo(json.dumps(rows, ensure_ascii=False))
        return
    table = Table("宝贝 listing", "严重 severity", "问题 problem", "改法 fix")
    for row in rows:
        for f in row["findings"]:
            table.add_row(row["title"], f["severity"], f["problem"], f["fix"])
    out.print(table)


def register(app: typer.Typer) -> None:
    """Add the growth groups to the root app."""
    app.add_typer(segments_app, name="segments")
    app.add_typer(care_app, name="care")
    app.add_typer(risk_app, name="risk")
    app.add_typer(listings_app, name="listings")
