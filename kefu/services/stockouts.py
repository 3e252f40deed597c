"""Stockout cases: opening one for a short order and messaging the buyer the options, recording the buyer's choice
(parsed from a reply or clicked by an agent) and carrying it out — refund records, split shipment, substitution,
waiting for the restock, cancellation — and the pre-sale switch for a sold-out best seller.

Messages to buyers go through the outbox (`kefu.services.outbox.queue_message`, purpose "transactional"); until that
module exists the case keeps the text with message status "no_outbox" (see `deliver`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_HALF_UP, Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from kefu.config import shop_rules
from kefu.domain.privacy import redact_phones
from kefu.domain.stock import pick
from kefu.domain.stock.allocation import OrderAllocation
from kefu.domain.stock.buyer_choice import (
    CANCEL,
    OPTIONS,
    SHIP_AVAILABLE,
    SUBSTITUTE,
    WAIT,
    BuyerChoice,
    parse_buyer_reply,
)
from kefu.domain.stock.levels import StockPolicy, stock_policy
from kefu.domain.stock.messages import (
    MissingItem,
    StockoutOffer,
    choice_summary,
    offered_options,
    presale_text,
    stockout_text,
)
from kefu.domain.stock.pick import AWAITING_BUYER, CANCELLED, DONE, LIVE_STATUSES, WAITING_RESTOCK, CaseLine, OrderPick
from kefu.domain.stock.substitutes import SkuOption, matching_hint, suggest_substitutes
from kefu.ids import new_id
from kefu.services.stock_demand import ShopDemand, shop_demand
from kefu.store.stock_tables import PresaleSwitch, StockMovement, StockoutCase, StockoutLine, StockRefund
from kefu.store.tables import Order, OrderLine, Product, Shop, Sku

log = logging.getLogger(__name__)

STOCKOUT_EVENT, PRESALE_EVENT = "stockout.options", "stock.presale"
BUYER = "buyer"
CENT = Decimal("0.01")


class CaseNotFound(LookupError):
    """No stockout case with that id."""


class ChoiceRefused(ValueError):
    """The choice cannot be carried out (the case is closed, no substitute is in stock …); the message says why."""


# ---------------------------------------------------------------- messages to buyers


def deliver(session: Session, *, shop_id: str, customer_id: str | None, order_id: str, event: str, text: str,
            now: datetime, actor: str | None, key: str) -> tuple[str | None, str]:
    """Queue a transactional message through the outbox; returns (message id, status). Without an outbox module yet
    (or without a buyer) the message is not sent and the status says why; an outbox failure never undoes the case."""
    if customer_id is None:
        return None, "no_buyer"
    try:
        from kefu.services.outbox import OutgoingMessage, queue_message
    except ImportError:
        log.info("no outbox yet: %s for order %s kept on the case only", event, order_id)
        return None, "no_outbox"
    try:
        with session.begin_nested():
            queued = queue_message(session, OutgoingMessage(
                shop_id=shop_id, customer_id=customer_id, event=event, purpose="transactional", text=text,
                order_id=order_id, idempotency_key=key), now=now, actor=actor)
        return queued.message_id, queued.status
    except Exception:  # noqa: BLE001 - the case stands; the agent can send by hand
        log.exception("outbox refused %s for order %s", event, order_id)
        return None, "failed"


# ---------------------------------------------------------------- opening a case


def _money(value: Decimal | None) -> Decimal:
    return (value or Decimal(0)).quantize(CENT, rounding=ROUND_HALF_UP)


def unit_price(line: OrderLine) -> Decimal:
    """What the buyer paid for one unit of the line (the paid amount spread over the quantity, else the price)."""
    if line.paid_amount is not None and line.quantity:
        return line.paid_amount / line.quantity
    return line.price or Decimal(0)


def _options_for(demand: ShopDemand, sku: Sku, quantity: int) -> list[SkuOption]:
    return [SkuOption(s.id, s.product_id, s.properties, demand.free(s.id))
            for s in demand.skus.by_id.values() if s.product_id == sku.product_id and s.stock is not None]


def open_case(session: Session, demand: ShopDemand, allocation: OrderAllocation, *, policy: StockPolicy,
              now: datetime, actor: str | None = None) -> StockoutCase:
    """Open a case for a short order: the missing lines, substitutes in stock, the offer, and the message sent."""
    order = demand.orders[allocation.order_id]
    case = StockoutCase(id=new_id(), shop_id=order.shop_id, order_id=order.id, customer_id=order.customer_id,
                        live_key=order.id, status=AWAITING_BUYER, opened_at=now, offered=[])
    items: list[MissingItem] = []
    refund = Decimal(0)
    restock: list[date] = []
    rows = []
    for short in allocation.missing_lines:
        line = demand.lines[short.line_id]
        sku = demand.skus.by_id.get(short.sku_id) if short.sku_id else None
        substitutes: tuple[SkuOption, ...] = ()
        if sku is not None:
            substitutes = suggest_substitutes(SkuOption(sku.id, sku.product_id, sku.properties, 0),
                                              _options_for(demand, sku, line.quantity), line.quantity,
                                              limit=policy.substitute_suggestions)
            if sku.restock_date:
                restock.append(sku.restock_date)
        rows.append(StockoutLine(id=new_id(), shop_id=order.shop_id, case_id=case.id, order_line_id=line.id,
                                 sku_id=short.sku_id, properties=line.sku_properties, quantity=short.quantity,
                                 missing=short.missing, substitutes=[s.sku_id for s in substitutes],
                                 refunded_quantity=0))
        items.append(MissingItem(line.title, line.sku_properties, short.missing, tuple(s.properties for s in substitutes)))
        refund += unit_price(line) * short.missing
    offer = StockoutOffer(order.order_no, tuple(items), _money(refund), max(restock) if restock else None,
                          something_ships=not allocation.nothing_ships)
    case.offered = list(offered_options(offer))
    case.refund_amount = offer.refund
    case.restock_date = offer.restock_date
    case.message_text = stockout_text(offer)
    session.add(case)
    session.flush()
    session.add_all(rows)
    session.flush()
    case.message_id, case.message_status = deliver(
        session, shop_id=order.shop_id, customer_id=order.customer_id, order_id=order.id, event=STOCKOUT_EVENT,
        text=case.message_text, now=now, actor=actor, key=f"{order.customer_id}:{order.id}:{STOCKOUT_EVENT}:{case.id}")
    return case


# ---------------------------------------------------------------- the buyer's choice


def case_lines(session: Session, case_id: str) -> list[StockoutLine]:
    return list(session.scalars(select(StockoutLine).where(StockoutLine.case_id == case_id).order_by(StockoutLine.id)))


def _close(case: StockoutCase, status: str, now: datetime) -> None:
    case.status = status
    case.live_key = None
    case.closed_at = now


def _refund(session: Session, case: StockoutCase, order: Order, by: str, now: datetime) -> Decimal:
    total = Decimal(0)
    for row in case_lines(session, case.id):
        line = session.get(OrderLine, row.order_line_id)
        amount = _money(unit_price(line) * row.missing)
        row.action, row.refunded_quantity = "refund", row.missing
        session.add(StockRefund(id=new_id(), shop_id=case.shop_id, case_id=case.id, order_id=order.id,
                                order_line_id=line.id, kind="missing_units", quantity=row.missing, amount=amount,
                                status="to_refund", created_at=now, created_by=by))
        total += amount
    return total


def _cancel(session: Session, case: StockoutCase, order: Order, by: str, now: datetime) -> Decimal:
    already = session.scalar(select(func.coalesce(func.sum(StockRefund.amount), 0))
                             .where(StockRefund.order_id == order.id)) or Decimal(0)
    amount = _money(max((order.paid_amount or Decimal(0)) - Decimal(already), Decimal(0)))
    for row in case_lines(session, case.id):
        row.action = "cancel"
    session.add(StockRefund(id=new_id(), shop_id=case.shop_id, case_id=case.id, order_id=order.id, order_line_id=None,
                            kind="cancellation", quantity=order.item_count or 0, amount=amount, status="to_refund",
                            created_at=now, created_by=by))
    return amount


def _substitute(session: Session, case: StockoutCase, by: str, now: datetime, *, chosen_sku_id: str | None,
                hint: str | None) -> str:
    """Move each short line, whole, to another SKU of its product with enough units nobody holds: the one the agent
    chose, else the closest one matching the buyer's words ("白色"), else the closest suggested one."""
    demand = shop_demand(session, case.shop_id)
    taken: dict[str, int] = {}  # units this substitution already moved onto a SKU (two lines may move to one SKU)
    done = []
    for row in case_lines(session, case.id):
        line = session.get(OrderLine, row.order_line_id)
        old = session.get(Sku, row.sku_id) if row.sku_id else None
        if old is None:
            raise ChoiceRefused(f"{line.title}: 这件商品没有对应的 SKU，无法换规格 / the line matches no SKU: nothing to "
                                "substitute")
        missing = SkuOption(old.id, old.product_id, old.properties, 0)
        options = [SkuOption(s.id, s.product_id, s.properties, demand.free(s.id) - taken.get(s.id, 0))
                   for s in demand.skus.by_id.values()
                   if s.product_id == old.product_id and s.id != old.id and s.stock is not None]
        closest = list(suggest_substitutes(missing, options, row.quantity, limit=len(options)))
        if chosen_sku_id:
            target = next((o for o in options if o.sku_id == chosen_sku_id), None)
            if target is None:
                raise ChoiceRefused("选的规格不是同一商品的其他规格 / the chosen SKU is not another SKU of the same product")
            if target.available < row.quantity:
                raise ChoiceRefused(f"{target.properties}: 只有 {max(target.available, 0)} 件可用，需要 {row.quantity} 件 / "
                                    f"only {max(target.available, 0)} free, {row.quantity} needed")
        elif hint:
            target = matching_hint(closest, hint)
            if target is None:
                raise ChoiceRefused(f"没有“{hint}”的规格有 {row.quantity} 件可用 / no SKU with “{hint}” has "
                                    f"{row.quantity} free units")
        else:
            suggested = [o for sid in row.substitutes or [] for o in closest if o.sku_id == sid]
            target = (suggested or closest or [None])[0]
            if target is None:
                raise ChoiceRefused(f"{line.title}: 没有其他规格有 {row.quantity} 件可用 / no other SKU has "
                                    f"{row.quantity} free units")
        taken[target.sku_id] = taken.get(target.sku_id, 0) + row.quantity
        row.action, row.substitute_sku_id = "substitute", target.sku_id
        line.sku_properties = target.properties
        for sku_id, kind, delta in ((old.id, "substitute_out", -row.quantity), (target.sku_id, "substitute_in", row.quantity)):
            session.add(StockMovement(id=new_id(), shop_id=case.shop_id, sku_id=sku_id, kind=kind, delta=delta,
                                      stock_after=None, reference=line.id, at=now, by=by))
        done.append(target.properties)
    return "、".join(done)


def choose(session: Session, case_id: str, option: str, *, by: str, now: datetime, substitute_sku_id: str | None = None,
           hint: str | None = None, wait_until: date | None = None) -> StockoutCase:
    """Record the choice and carry it out. Refused (ChoiceRefused) when the case is closed or cannot be done."""
    case = session.get(StockoutCase, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    if option not in OPTIONS:
        raise ChoiceRefused(f"unknown option {option!r}; one of {', '.join(OPTIONS)}")
    if case.status not in LIVE_STATUSES:
        raise ChoiceRefused(f"缺货单已结束（{case.status}）/ the case is already {case.status}")
    order = session.get(Order, case.order_id)
    if option == SHIP_AVAILABLE and SHIP_AVAILABLE not in (case.offered or []):
        raise ChoiceRefused("这单没有现货可先发：请选 3 等补货或 4 取消 / nothing of this order is in stock to ship "
                            "now: choose 3 wait or 4 cancel")
    case.choice, case.decided_by, case.decided_at = option, by, now
    if option == SHIP_AVAILABLE:
        case.outcome = choice_summary(option, refund=_refund(session, case, order, by, now))
        _close(case, DONE, now)
    elif option == SUBSTITUTE:
        case.outcome = choice_summary(option, substitute=_substitute(session, case, by, now, chosen_sku_id=substitute_sku_id,
                                                                     hint=hint))
        _close(case, DONE, now)
    elif option == WAIT:
        case.wait_until = wait_until
        for row in case_lines(session, case.id):
            row.action = "hold"
        case.status = WAITING_RESTOCK
        case.outcome = choice_summary(option, wait_until=wait_until or case.restock_date)
    else:
        case.outcome = choice_summary(option, refund=_cancel(session, case, order, by, now))
        _close(case, CANCELLED, now)
    session.flush()
    return case


@dataclass(frozen=True)
class ReplyResult:
    """A reply read for a case: what it chose (maybe nothing understood) and the case after it."""

    choice: BuyerChoice
    case: StockoutCase
    refused: str | None = None  # understood, but it could not be carried out (e.g. no such colour in stock)


def _today(session: Session, shop_id: str, now: datetime) -> date:
    tz = shop_rules(session.scalar(select(Shop.settings).where(Shop.id == shop_id)))["timezone"]
    return now.astimezone(ZoneInfo(tz)).date()


def record_reply(session: Session, case_id: str, text: str, *, now: datetime, by: str = BUYER) -> ReplyResult:
    """Read a buyer's reply (phones redacted before it is kept) and carry out what it chose; an unknown reply leaves
    the case waiting with `reply_understood` False."""
    case = session.get(StockoutCase, case_id)
    if case is None:
        raise CaseNotFound(case_id)
    said = redact_phones(text) or ""
    case.buyer_reply = said[:2000]
    choice = parse_buyer_reply(said, today=_today(session, case.shop_id, now))
    case.reply_understood = choice.understood
    if not choice.understood or case.status not in LIVE_STATUSES:
        session.flush()
        return ReplyResult(choice, case)
    option = choice.option
    if option == SHIP_AVAILABLE and SHIP_AVAILABLE not in (case.offered or []) and "退" in (choice.matched or ""):
        option = CANCEL  # "退款" when nothing is in stock: the refund is the whole order's
    try:
        with session.begin_nested():
            choose(session, case_id, option, by=by, now=now, hint=choice.substitute_hint,
                   wait_until=choice.wait_until)
    except ChoiceRefused as exc:
        session.refresh(case)
        case.buyer_reply, case.reply_understood = said[:2000], True
        return ReplyResult(choice, case, str(exc))
    return ReplyResult(choice, case)


def live_case_for_order(session: Session, order_id: str) -> StockoutCase | None:
    """The order's live case, for a chat reply that arrives about the order."""
    return session.scalar(select(StockoutCase).where(StockoutCase.live_key == order_id))


# ---------------------------------------------------------------- the pick list


def pick_outcomes(session: Session, order_ids: Iterable[str]) -> dict[str, OrderPick]:
    """The packer's instruction for each listed order that has a stockout case (the latest case of the order)."""
    ids = sorted(set(order_ids))
    latest: dict[str, StockoutCase] = {}
    for start in range(0, len(ids), 500):
        for case in session.scalars(select(StockoutCase).where(StockoutCase.order_id.in_(ids[start : start + 500]))
                                    .order_by(StockoutCase.opened_at, StockoutCase.id)):
            latest[case.order_id] = case
    if not latest:
        return {}
    lines: dict[str, list[StockoutLine]] = {}
    case_ids = [c.id for c in latest.values()]
    for start in range(0, len(case_ids), 500):
        for row in session.scalars(select(StockoutLine).where(StockoutLine.case_id.in_(case_ids[start : start + 500]))):
            lines.setdefault(row.case_id, []).append(row)
    split = {}
    picks = {}
    for order_id, case in latest.items():
        if case.shop_id not in split:
            split[case.shop_id] = stock_policy(shop_rules(session.scalar(
                select(Shop.settings).where(Shop.id == case.shop_id)))).wait_ships_available_now
        rows = [CaseLine(r.order_line_id, r.quantity, r.missing, r.action, r.refunded_quantity, r.properties,
                         r.action == "substitute") for r in lines.get(case.id, [])]
        picks[order_id] = pick.order_pick(case.status, case.choice, rows, split_when_waiting=split[case.shop_id])
    return picks


# ---------------------------------------------------------------- the queue and its figures


@dataclass(frozen=True)
class CaseView:
    """A case with its order, lines and the SKUs it may move to, for the stock page."""

    case: StockoutCase
    order: Order
    lines: list[tuple[StockoutLine, OrderLine, list[Sku]]]


def list_cases(session: Session, shop_id: str | None, *, status: str = "live", limit: int = 100) -> list[CaseView]:
    query = select(StockoutCase)
    if shop_id:
        query = query.where(StockoutCase.shop_id == shop_id)
    if status == "live":
        query = query.where(StockoutCase.status.in_(LIVE_STATUSES))
    elif status != "all":
        query = query.where(StockoutCase.status == status)
    cases = list(session.scalars(query.order_by(StockoutCase.opened_at.desc(), StockoutCase.id).limit(limit)))
    return [case_view(session, c) for c in cases]


def case_view(session: Session, case: StockoutCase) -> CaseView:
    rows = []
    for row in case_lines(session, case.id):
        line = session.get(OrderLine, row.order_line_id)
        subs = [s for s in (session.get(Sku, sid) for sid in row.substitutes or []) if s is not None]
        rows.append((row, line, subs))
    return CaseView(case, session.get(Order, case.order_id), rows)


@dataclass(frozen=True)
class CaseFigures:
    """How stockout cases ended: the cancelled share is what the shop wants low (the seed's figure is under 1 %)."""

    total: int
    live: int
    done: int
    cancelled: int

    @property
    def cancelled_share(self) -> float | None:
        closed = self.done + self.cancelled
        return self.cancelled / closed if closed else None

    def to_json(self) -> dict:
        return {"total": self.total, "live": self.live, "done": self.done, "cancelled": self.cancelled,
                "cancelled_share": self.cancelled_share}


def case_figures(session: Session, shop_id: str | None, *, since: datetime | None = None) -> CaseFigures:
    """Counts of cases by how they stand; the cancelled share is over the closed cases (a live one has not ended)."""
    query = select(StockoutCase.status, func.count()).group_by(StockoutCase.status)
    if shop_id:
        query = query.where(StockoutCase.shop_id == shop_id)
    if since:
        query = query.where(StockoutCase.opened_at >= since)
    counts = dict(session.execute(query).all())
    live = sum(counts.get(s, 0) for s in LIVE_STATUSES)
    return CaseFigures(sum(counts.values()), live, counts.get(DONE, 0), counts.get(CANCELLED, 0))


# ---------------------------------------------------------------- pre-sale


@dataclass(frozen=True)
class PresaleResult:
    sku_id: str
    restock_date: date
    orders_told: int
    already: bool  # this SKU was switched for this date before: nobody is told twice


def switch_to_presale(session: Session, sku_id: str, *, now: datetime, by: str | None,
                      restock_date: date | None = None) -> PresaleResult:
    """Confirm the SKU's restock date and tell every buyer whose live case waits on it, honestly, with the date."""
    sku = session.get(Sku, sku_id)
    if sku is None:
        raise LookupError(f"no SKU with id {sku_id!r}")
    when = restock_date or sku.restock_date
    if when is None:
        raise ChoiceRefused("补货日期未确认 / the restock date is not confirmed: give one first")
    sku.restock_date = when
    if session.scalar(select(PresaleSwitch.id).where(PresaleSwitch.sku_id == sku.id, PresaleSwitch.restock_date == when)):
        return PresaleResult(sku.id, when, 0, True)
    waiting_ids = select(StockoutLine.case_id).where(StockoutLine.sku_id == sku.id)
    waiting = session.scalars(
        select(StockoutCase).where(StockoutCase.id.in_(waiting_ids), StockoutCase.status.in_(LIVE_STATUSES))
        .order_by(StockoutCase.opened_at, StockoutCase.id)).all()
    title = session.scalar(select(Product.title).where(Product.id == sku.product_id))
    told = 0
    for case in waiting:
        order = session.get(Order, case.order_id)
        case.restock_date = when
        text = presale_text(order.order_no, title or "", sku.properties, when)
        _message_id, status = deliver(session, shop_id=case.shop_id, customer_id=case.customer_id, order_id=order.id,
                                      event=PRESALE_EVENT, text=text, now=now, actor=by,
                                      key=f"{case.customer_id}:{order.id}:{PRESALE_EVENT}:{when.isoformat()}")
        case.outcome = (case.outcome or "") + ("；" if case.outcome else "") + f"预售通知 {when.isoformat()}（{status}）"
        told += 1
    session.add(PresaleSwitch(id=new_id(), shop_id=sku.shop_id, sku_id=sku.id, restock_date=when, orders_told=told,
                              switched_at=now, switched_by=by))
    session.flush()
    return PresaleResult(sku.id, when, told, False)
