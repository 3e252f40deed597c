"""CLI commands: `kefu stats` and `kefu customer show|list|note|tag` — the customer 360 from the terminal."""

from __future__ import annotations

import json
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from sqlalchemy.orm import Session

from kefu.cli.context import store_of
from kefu.domain.privacy import mask_email, mask_name, mask_phone
from kefu.services.customer360 import (
    ORDERINGS,
    AmbiguousCustomer,
    add_note,
    Customer360,
    customer_360,
    find_customer,
    money_text,
    search_customers,
    set_tags,
)
from kefu.services.shops import find_shop
from kefu.services.stats import ValueSplit, store_counts, value_split
from kefu.store.tables import Customer, CustomerTag, Shop

customer_app = typer.Typer(
    name="customer",
    help="客户：360视图、列表、备注与标签 / Customers: 360 view, list, notes and tags",
    no_args_is_help=True,
)

TIER_LABELS = {"top": "高价值 top", "middle": "中价值 middle", "low": "低价值 low", "none": "未消费 none"}

ShopOption = typer.Option(None, "--shop", help="店铺名称、ID 或 Shopify 域名 / shop name, id or Shopify domain")
JsonOption = typer.Option(False, "--json", help="输出 JSON / print JSON")


def _console() -> Console:
    return Console(soft_wrap=True)


def _fail(message: str) -> NoReturn:
    typer.echo(message, err=True)
    raise typer.Exit(1)


def _print_json(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2))


def _shop_or_fail(session: Session, name: str | None) -> Shop | None:
    """The shop named by --shop (exit 1 when there is none by that name); None when --shop was not given."""
    if not name:
        return None
    shop = find_shop(session, name)
    if shop is None:
        _fail(f"找不到店铺 / no such shop: {name}")
    return shop


def _customer_or_fail(session: Session, nick: str, shop_name: str | None) -> Customer:
    shop = _shop_or_fail(session, shop_name)
    try:
        customer = find_customer(session, nick=nick, shop_id=shop.id if shop else None)
    except AmbiguousCustomer as exc:
        _fail(
            f"买家 {nick} 在多个店铺都有记录，请用 --shop 指定：{', '.join(exc.shop_names)}\n"
            f"Buyer {nick} is a customer of several shops; choose one with --shop: {', '.join(exc.shop_names)}"
        )
    if customer is None:
        where = f"（店铺 {shop.name}）" if shop else ""
        _fail(f"找不到客户{where} / customer not found: {nick}")
    return customer


def _split_json(split: ValueSplit) -> dict[str, Any]:
    return {
        "customers": split.customers,
        "customers_with_spend": split.customers_with_spend,
        "top_share": split.top_share,
        "top_count": split.top_count,
        "top_revenue": money_text(split.top_revenue),
        "total_revenue": money_text(split.total_revenue),
        "top_revenue_share": round(split.top_revenue_share, 4),
        "top_customers": [
            {
                "id": c.customer_id,
                "buyer_nick": c.buyer_nick,
                "total_spent": money_text(c.total_spent),
                "orders_count": c.orders_count,
                "value_tier": c.value_tier,
            }
            for c in split.top_customers
        ],
    }


def pareto_line(split: ValueSplit) -> str:
    """The 80/20 sentence, Chinese then English."""
    if split.customers_with_spend == 0:
        return "80/20：还没有已付款的客户 / no paying customers yet"
    share = f"{split.top_share:.0%}"
    revenue = f"{split.top_revenue_share:.1%}"
    return (
        f"80/20：前 {share} 的客户（{split.top_count} 位）贡献了 {revenue} 的销售额"
        f"（{money_text(split.top_revenue)} / {money_text(split.total_revenue)}）\n"
        f"80/20: the top {share} of customers ({split.top_count}) bring {revenue} of revenue"
    )


def stats(
    ctx: typer.Context,
    shop_name: str | None = ShopOption,
    as_json: bool = JsonOption,
) -> None:
    """数据概览：订单、明细、客户数与 80/20 / Store counts and the 80/20 view."""
    with store_of(ctx).session() as session:
        shop = _shop_or_fail(session, shop_name) if shop_name else find_shop(session, None)
        counts = store_counts(session, shop.id if shop_name and shop else None)
        split = value_split(session, shop.id) if shop else None
        if as_json:
            _print_json({**counts, "shop": shop.name if shop else None, "value_split": _split_json(split) if split else None})
            return
        table = Table(title=f"kefu 数据概览 / store figures{' — ' + shop.name if shop_name and shop else ''}")
        table.add_column("项目 / item")
        table.add_column("数量 / count", justify="right")
        labels = {"orders": "订单 / orders", "order_lines": "订单明细 / order lines", "customers": "客户 / customers", "shops": "店铺 / shops"}
        for key, label in labels.items():
            table.add_row(label, f"{counts[key]:,}")
        console = _console()
        console.print(table)
        if split is not None:
            console.print(pareto_line(split))


def _show_360(view: Customer360) -> None:
    console = _console()
    title = view.buyer_nick or view.buyer_key
    console.print(f"[bold]{title}[/bold]  {view.shop_name or view.shop_id} · {view.platform} · {TIER_LABELS.get(view.value_tier or '', view.value_tier or '-')}")
    region = " ".join(p for p in (view.province, view.city, view.district) if p)
    details = [
        ("姓名 / name", mask_name(view.name)),
        ("电话 / phone", mask_phone(view.phone)),
        ("邮箱 / email", mask_email(view.email)),
        ("地区 / region", region or None),
        ("性别 / gender", view.gender),
        ("生日 / birthday", view.birthday.isoformat() if view.birthday else None),
        ("爱好 / hobbies", view.hobbies),
        ("性格 / personality", view.personality_type),
        ("标签 / tags", "、".join(view.tags) if view.tags else None),
    ]
    for label, value in details:
        if value:
            console.print(f"  {label}: {value}")
    figures = Table(show_header=False, box=None)
    figures.add_row("订单数 / orders", str(view.orders_count), "已付款 / paid", str(view.paid_orders_count))
    figures.add_row("累计消费 / total spent", money_text(view.total_spent) or "0.00",
                    "客单价 / avg order", money_text(view.average_order_value) or "-")
    figures.add_row("首单 / first order", view.first_order_at.isoformat(" ", "minutes") if view.first_order_at else "-",
                    "最近 / last order", view.last_order_at.isoformat(" ", "minutes") if view.last_order_at else "-")
    figures.add_row("复购间隔(天) / median days between", "-" if view.median_days_between_orders is None else str(view.median_days_between_orders),
                    "退款 / refunds", f"{view.refunds.count} · {money_text(view.refunds.amount)}")
    console.print(figures)
    if view.orders:
        orders = Table(title="订单 / orders")
        for column in ("订单号 / order", "下单 / created", "状态 / status", "实付 / paid", "宝贝 / items"):
            orders.add_column(column)
        for order in view.orders:
            orders.add_row(
                order.label,
                order.created_at.isoformat(" ", "minutes") if order.created_at else "-",
                order.status_text or order.status,
                money_text(order.paid_amount) or "-",
                "；".join(f"{line.title}×{line.quantity}" for line in order.lines),
            )
        console.print(orders)
    if view.notes:
        console.print("备注 / notes:")
        for note in view.notes:
            console.print(f"  {note.created_at.isoformat(' ', 'minutes')} {note.author or ''}: {note.body}")


@customer_app.command("show")
def show(
    ctx: typer.Context,
    buyer_nick: str = typer.Argument(..., help="买家昵称 / buyer nick"),
    shop_name: str | None = ShopOption,
    as_json: bool = JsonOption,
) -> None:
    """客户360视图 / Show a customer's 360 view."""
    with store_of(ctx).session() as session:
        customer = _customer_or_fail(session, buyer_nick, shop_name)
        view = customer_360(session, customer.id)
        assert view is not None
        if as_json:
            _print_json(view.to_json(mask=True))
        else:
            _show_360(view)


@customer_app.command("list")
def list_customers(
    ctx: typer.Context,
    shop_name: str | None = ShopOption,
    tier: str | None = typer.Option(None, "--tier", help="价值分层 top|middle|low|none / value tier"),
    q: str | None = typer.Option(None, "--q", help="昵称包含 / nick contains"),
    province: str | None = typer.Option(None, "--province", help="省份 / province"),
    tag: str | None = typer.Option(None, "--tag", help="标签 / tag"),
    page: int = typer.Option(1, "--page", min=1, help="页码 / page"),
    per_page: int = typer.Option(50, "--per-page", min=1, max=500, help="每页条数 / rows per page"),
    order_by: str = typer.Option("total_spent", "--order-by", help=f"排序 / order by: {', '.join(ORDERINGS)}"),
    as_json: bool = JsonOption,
) -> None:
    """客户列表 / List customers."""
    if tier and tier not in TIER_LABELS:
        _fail(f"--tier 只能是 / must be one of: {', '.join(TIER_LABELS)}")
    if order_by not in ORDERINGS:
        _fail(f"--order-by 只能是 / must be one of: {', '.join(ORDERINGS)}")
    with store_of(ctx).session() as session:
        shop = _shop_or_fail(session, shop_name)
        result = search_customers(session, shop_id=shop.id if shop else None, q=q, tier=tier, province=province,
                                  tag=tag, page=page, per_page=per_page, order_by=order_by)
        if as_json:
            _print_json({
                "items": [
                    {
                        "id": c.id,
                        "shop_id": c.shop_id,
                        "buyer_nick": c.buyer_nick,
                        "province": c.province,
                        "orders_count": c.orders_count,
                        "paid_orders_count": c.paid_orders_count,
                        "total_spent": money_text(c.total_spent),
                        "value_tier": c.value_tier,
                        "first_order_at": c.first_order_at.isoformat() if c.first_order_at else None,
                        "last_order_at": c.last_order_at.isoformat() if c.last_order_at else None,
                    }
                    for c in result.items
                ],
                "total": result.total,
                "page": result.page,
                "per_page": result.per_page,
                "pages": result.pages,
            })
            return
        table = Table(title=f"客户 / customers — {result.total:,}（第 {result.page}/{result.pages} 页 / page）")
        for column in ("昵称 / nick", "分层 / tier", "订单 / orders", "累计消费 / spent", "省份 / province", "最近下单 / last order"):
            table.add_column(column)
        for c in result.items:
            table.add_row(
                c.buyer_nick or c.buyer_key,
                TIER_LABELS.get(c.value_tier or "", "-"),
                str(c.orders_count),
                money_text(c.total_spent) or "0.00",
                c.province or "-",
                c.last_order_at.isoformat(" ", "minutes") if c.last_order_at else "-",
            )
        _console().print(table)


@customer_app.command("note")
def note(
    ctx: typer.Context,
    buyer_nick: str = typer.Argument(..., help="买家昵称 / buyer nick"),
    text: str = typer.Argument(..., help="备注内容 / note text"),
    shop_name: str | None = ShopOption,
    author: str | None = typer.Option(None, "--author", help="备注人 / who writes the note"),
) -> None:
    """给客户写备注 / Add a note to a customer."""
    with store_of(ctx).session() as session:
        customer = _customer_or_fail(session, buyer_nick, shop_name)
        try:
            add_note(session, customer.id, text, author or "cli")
        except ValueError as exc:
            _fail(f"备注无效 / invalid note: {exc}")
    typer.echo(f"已添加备注 / note added: {buyer_nick}")


@customer_app.command("tag")
def tag(
    ctx: typer.Context,
    buyer_nick: str = typer.Argument(..., help="买家昵称 / buyer nick"),
    tags: list[str] = typer.Argument(..., help="标签 / tags"),
    shop_name: str | None = ShopOption,
    replace: bool = typer.Option(False, "--replace", help="替换全部标签 / replace all tags instead of adding"),
    remove: bool = typer.Option(False, "--remove", help="移除这些标签 / remove these tags"),
) -> None:
    """给客户打标签 / Tag a customer."""
    with store_of(ctx).session() as session:
        customer = _customer_or_fail(session, buyer_nick, shop_name)
        current = list(session.scalars(select(CustomerTag.tag).where(CustomerTag.customer_id == customer.id)))
        if replace:
            wanted = list(tags)
        elif remove:
            wanted = [t for t in current if t not in {x.strip() for x in tags}]
        else:
            wanted = current + list(tags)
        try:
            result = set_tags(session, customer.id, wanted)
        except ValueError as exc:
            _fail(f"标签无效 / invalid tag: {exc}")
    typer.echo(f"{buyer_nick} 的标签 / tags: {'、'.join(result) if result else '（无 / none）'}")


def register(app: typer.Typer) -> None:
    """Add `kefu stats` and the `kefu customer` group to the root app."""
    app.command("stats")(stats)
    app.add_typer(customer_app, name="customer")
