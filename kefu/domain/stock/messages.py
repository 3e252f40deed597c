"""The words sent to a buyer about a stockout and a pre-sale date: plain, honest, with numbered options."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from kefu.domain.stock.buyer_choice import CANCEL, SHIP_AVAILABLE, SUBSTITUTE, WAIT, option_number
from kefu.domain.stock.substitutes import describe


@dataclass(frozen=True)
class MissingItem:
    """A line the stock cannot fully cover."""

    title: str
    properties: str | None
    missing: int
    substitutes: tuple[str, ...] = ()  # properties of SKUs that could replace it


@dataclass(frozen=True)
class StockoutOffer:
    """What the shop can offer on one short order."""

    order_no: str
    items: tuple[MissingItem, ...]
    refund: Decimal  # for the missing units
    restock_date: date | None
    something_ships: bool  # at least one unit is in stock


def offered_options(offer: StockoutOffer) -> tuple[str, ...]:
    """The options that make sense for this order, in their fixed numbering."""
    options = []
    if offer.something_ships:
        options.append(SHIP_AVAILABLE)
    if any(item.substitutes for item in offer.items):
        options.append(SUBSTITUTE)
    options.extend((WAIT, CANCEL))
    return tuple(options)


def _short_title(title: str, limit: int = 24) -> str:
    return title if len(title) <= limit else title[: limit - 1] + "…"


def stockout_text(offer: StockoutOffer) -> str:
    """The options message. Numbers stay fixed (1 ship now, 2 substitute, 3 wait, 4 cancel) so a reply of "3" always
    means waiting, even when an option is left out because it does not apply to this order."""
    lines = [f"亲，非常抱歉，您的订单 {offer.order_no} 中有商品暂时缺货："]
    for item in offer.items:
        lines.append(f"· {_short_title(item.title)}（{describe(item.properties)}）缺 {item.missing} 件")
    lines.append("请回复数字告诉我们您的选择：")
    for option in offered_options(offer):
        n = option_number(option)
        if option == SHIP_AVAILABLE:
            lines.append(f"{n}. 先发有货的商品，缺货部分退款 ¥{offer.refund:.2f}")
        elif option == SUBSTITUTE:
            choices = "、".join(dict.fromkeys(describe(p) for item in offer.items for p in item.substitutes))
            lines.append(f"{n}. 换成有货的规格：{choices}（回复如“换{describe(offer.items[0].substitutes[0]) if offer.items[0].substitutes else ''}”）")
        elif option == WAIT:
            when = f"预计 {offer.restock_date.month}月{offer.restock_date.day}日 到货，" if offer.restock_date else "到货时间确认后告诉您，"
            lines.append(f"{n}. 等补货：{when}到货后第一时间为您发出")
        elif option == CANCEL:
            lines.append(f"{n}. 取消订单，全额退款")
    return "\n".join(lines)


def presale_text(order_no: str, title: str, properties: str | None, restock_date: date) -> str:
    """The pre-sale notice to a buyer whose order waits for a SKU: the confirmed date, and a way out."""
    return (f"亲，您订单 {order_no} 中的 {_short_title(title)}（{describe(properties)}）目前缺货，"
            f"厂家已确认 {restock_date.month}月{restock_date.day}日 补货，到货后我们第一时间为您发出。"
            "如果不想等待，回复“取消”即可全额退款，给您添麻烦了。")


def choice_summary(option: str, *, refund: Decimal | None = None, substitute: str | None = None,
                   wait_until: date | None = None) -> str:
    """A one-line note for the case history of what was done."""
    if option == SHIP_AVAILABLE:
        return f"先发有货，缺货退款 ¥{(refund or Decimal(0)):.2f}"
    if option == SUBSTITUTE:
        return f"换成 {describe(substitute)}"
    if option == WAIT:
        return f"等补货至 {wait_until.isoformat()}" if wait_until else "等补货"
    return "取消订单，全额退款"
