"""Demo step: stock levels for the demo catalogue (a stock file through the real importer, a few SKUs low or out,
supplier lead times and restock dates), the check before shipping, and stockout cases in different states."""

from __future__ import annotations

import csv
import math
import tempfile
from datetime import timedelta
from pathlib import Path
from random import Random

from sqlalchemy import select

from kefu.config import shop_rules
from kefu.demo.steps import DemoContext
from kefu.services.import_stock import KIND as STOCK_KIND
from kefu.services.import_stock import import_stock_file
from kefu.services.stock_check import run_stock_pass
from kefu.services.stock_demand import shop_demand
from kefu.services.stock_levels import units_sold
from kefu.services.stockouts import choose, list_cases, record_reply, switch_to_presale
from kefu.store.stock_tables import StockMovement
from kefu.store.tables import ImportRun, Product, Shop, Sku

SEED = 5
AGENT = "小美"


def _stock_rows(context: DemoContext, rng: Random) -> list[dict[str, str]]:
    """Every SKU's stock as a warehouse file would list it: one to four months of sales on top of what the paid,
    unshipped orders need; short on a few SKUs those orders want (one of them in a multi-item order, so "ship what is
    there" is an option), out or low on a few others; restock dates where stock is missing."""
    today = context.now.date()
    with context.store.session() as session:
        demand = shop_demand(session, context.shop_id)
        tz = shop_rules(session.scalar(select(Shop.settings).where(Shop.id == context.shop_id)))["timezone"]
        sold = units_sold(session, context.shop_id, demand, context.now - timedelta(days=28), context.now, tz)
        skus = list(session.scalars(select(Sku).where(Sku.shop_id == context.shop_id).order_by(Sku.id)))
        codes = dict(session.execute(select(Product.id, Product.outer_id).where(Product.shop_id == context.shop_id)).all())
    wanted: dict[str, int] = {}
    multi: list[str] = []
    for order in demand.allocation.orders:
        for line in order.lines:
            if line.sku_id:
                wanted[line.sku_id] = wanted.get(line.sku_id, 0) + line.quantity
        if len(order.lines) > 1 and order.lines[0].sku_id:
            multi.append(order.lines[0].sku_id)
    busy = sorted(wanted, key=lambda sku_id: (-wanted[sku_id], sku_id))
    short = set(multi[:1]) | set(busy[:3])  # the check finds a handful of stockouts
    rows = []
    for sku in skus:
        lead = rng.choice((3, 5, 7, 7, 10, 15))
        need = wanted.get(sku.id, 0)
        monthly = sum(sold.get(sku.id, {}).values())
        if sku.id in short:
            stock = max(need - 1 - rng.randrange(2), 0)
            restock = today + timedelta(days=rng.randrange(4, 12))
        elif rng.random() < 0.03:
            stock, restock = 0, today + timedelta(days=rng.randrange(5, 20))
        elif rng.random() < 0.04:
            stock, restock = need + rng.randrange(1, 3), None
        else:
            stock, restock = need + math.ceil(monthly * rng.uniform(1.0, 4.0)) + rng.randrange(3, 15), None
        rows.append({"商家编码": codes.get(sku.product_id) or "", "SKU编码": sku.outer_sku_id or "",
                     "属性": sku.properties, "库存": str(stock), "在途": str(rng.randrange(20, 80)) if restock else "",
                     "补货日期": restock.isoformat() if restock else "", "供应商交期": f"{lead}天"})
    return rows


def _write(rows: list[dict[str, str]], folder: Path) -> Path:
    path = folder / "库存导出.csv"
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.DictWriter(out, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def add_stock(context: DemoContext) -> str:
    """Import the demo stock file, check the unshipped orders and answer some of the stockout cases."""
    with context.store.session() as session:
        done = session.scalar(select(ImportRun.id).where(ImportRun.shop_id == context.shop_id,
                                                         ImportRun.kind == STOCK_KIND, ImportRun.created_by == "demo"))
    if done:  # a rebuilt demo keeps its cases; the catalogue import reset stock, so the demo's levels are put back
        with context.store.session() as session:
            levels = session.execute(select(StockMovement.sku_id, StockMovement.stock_after).where(
                StockMovement.shop_id == context.shop_id, StockMovement.kind == "import", StockMovement.by == "demo"))
            for sku_id, stock in levels:
                session.get(Sku, sku_id).stock = stock
        return "库存 / stock: 已有 / already there"
    rng = Random(SEED)
    rows = _stock_rows(context, rng)
    if not rows:
        return "库存 / stock: 0 SKU"
    with tempfile.TemporaryDirectory(prefix="kefu-demo-stock-") as tmp:
        result = import_stock_file(context.store, _write(rows, Path(tmp)), context.shop_id, by="demo",
                                   now=context.now - timedelta(hours=2))
    with context.store.session() as session:
        run = run_stock_pass(session, context.shop_id, now=context.now - timedelta(hours=1), actor="demo")
    with context.store.session() as session:
        cases = sorted(list_cases(session, context.shop_id), key=lambda v: (v.case.opened_at, v.order.order_no))
        untouched = [view.case.id for view in cases]

        def take(fits) -> str | None:
            found = next((view.case.id for view in cases if view.case.id in untouched and fits(view)), None)
            if found:
                untouched.remove(found)
            return found

        answers = [(take(lambda v: "ship_available" in v.case.offered), "先发有货的吧"),
                   (take(lambda v: True), "可以等到下周"), (take(lambda v: True), "在吗？什么时候发货")]
        for case_id, reply in answers:
            if case_id:
                record_reply(session, case_id, reply, now=context.now - timedelta(minutes=30))
        # An agent settles one by phone with a substitute: a case with one short line, so the SKU chosen is another
        # SKU of that line's own product (a chosen SKU applies to every short line of a case).
        by_phone = take(lambda v: "substitute" in v.case.offered and len(v.lines) == 1 and bool(v.lines[0][2]))
        if by_phone:
            view = next(v for v in cases if v.case.id == by_phone)
            choose(session, by_phone, "substitute", by=AGENT, now=context.now - timedelta(minutes=20),
                   substitute_sku_id=view.lines[0][2][0].id)
        waiting = sorted({row.sku_id for view in list_cases(session, context.shop_id) for row, _line, _subs in view.lines
                          if row.sku_id})
        dated = [sku_id for sku_id in waiting if session.get(Sku, sku_id).restock_date is not None]
        for sku_id in dated[:1]:  # the restock date of one short SKU is confirmed: its waiting buyers hear it
            switch_to_presale(session, sku_id, now=context.now - timedelta(minutes=10), by=AGENT)
    return (f"库存 / stock: {result.skus_updated} SKU, 缺货单 / stockout cases {run.check.cases_opened}, "
            f"库存提醒 / low-stock alerts {run.alerts_raised}")
