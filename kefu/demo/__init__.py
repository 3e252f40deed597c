"""The demo shop: a year of a small clothing shop, written as real 千牛 exports and loaded through the real importers."""

from __future__ import annotations

import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import select

from kefu.demo.export_writer import (
    BEIJING,
    line_report_name,
    order_report_name,
    write_catalog_csv,
    write_line_report_xlsx,
    write_order_report_csv,
)
from kefu.demo.generator import DemoShop, demo_end, generate_demo_shop
from kefu.demo.steps import DemoContext, run_demo_steps
from kefu.ids import customer_id
from kefu.services.import_products import CatalogImportResult, import_product_catalog
from kefu.store.database import Store
from kefu.store.tables import Customer, CustomerNote, CustomerTag, Order, Shipment, Shop

if TYPE_CHECKING:
    from kefu.services.import_orders import FileImportResult

Progress = Callable[[str, int, int], None]

CATALOG_FILE_NAME = "商品目录.csv"
GENERATING = "生成数据 / generating"
WRITING = "写出导出文件 / writing exports"
PROFILES = "客户档案 / customer notes"
TRACKING = "物流轨迹 / carrier scans"


@dataclass
class DemoSummary:
    """What the demo built: the files it wrote, what they held, and what each import did."""

    shop_name: str
    shop_id: str
    seed: int
    today: date
    out_dir: Path
    files: list[Path]  # catalogue, order report, line report
    orders: int
    lines: int
    customers: int
    products: int
    catalog: CatalogImportResult
    imports: list[FileImportResult] = field(default_factory=list)  # one per order/line file
    profiles: int = 0  # customers given agent notes, tags or profile fields
    tracked: int = 0  # carrier pushes that landed on a parcel
    alerts: dict[str, int] = field(default_factory=dict)  # alerts the first sweep raised, by kind
    extras: list[str] = field(default_factory=list)  # one summary line per step in kefu/demo/steps.py

    @property
    def ok(self) -> bool:
        return self.catalog.ok and all(r.ok and not r.rows_rejected for r in self.imports) and not self.catalog.rows_rejected

    def problems(self) -> list[str]:
        """Everything an import refused or failed on, as `FILE:LINE: reason` lines."""
        found = self.catalog.messages()
        for result in self.imports:
            found += [f"{result.file_name}:{r.line_no}: {r.reason}" for r in result.rejections]
            if result.error:
                found.append(result.error)
        return found


def beijing_today() -> date:
    return datetime.now(BEIJING).date()


def write_demo_files(shop: DemoShop, out_dir: Path, progress: Progress | None = None) -> list[Path]:
    """The catalogue (UTF-8 CSV), the 订单报表 (GBK CSV) and the 宝贝报表 (xlsx, newer layout) of the demo shop."""
    out_dir.mkdir(parents=True, exist_ok=True)
    catalog = out_dir / CATALOG_FILE_NAME
    orders = out_dir / order_report_name(shop.exported_at, ".csv")
    lines = out_dir / line_report_name(shop.exported_at, ".xlsx")
    steps = ((catalog, lambda: write_catalog_csv(catalog, shop.catalog_rows())),
             (orders, lambda: write_order_report_csv(orders, shop.order_rows(), encoding="gbk")),
             (lines, lambda: write_line_report_xlsx(lines, shop.line_rows())))
    for done, (_path, write) in enumerate(steps):
        if progress:
            progress(WRITING, done, len(steps))
        write()
    if progress:
        progress(WRITING, len(steps), len(steps))
    return [catalog, orders, lines]


def apply_profiles(store: Store, shop: DemoShop, shop_id: str, progress: Progress | None = None) -> int:
    """Write what agents know (gender, birthday, hobbies, tags, notes) onto the imported customers; idempotent."""
    known = [c for c in shop.customers if c.profile is not None]
    touched = 0
    with store.session() as session:
        customers = {c.id: c for c in session.scalars(select(Customer).where(Customer.shop_id == shop_id))}
        tags = set(session.execute(
            select(CustomerTag.customer_id, CustomerTag.tag).join(Customer, Customer.id == CustomerTag.customer_id)
            .where(Customer.shop_id == shop_id)
        ))
        notes = set(session.execute(
            select(CustomerNote.customer_id, CustomerNote.body).join(Customer, Customer.id == CustomerNote.customer_id)
            .where(Customer.shop_id == shop_id)
        ))
        for done, demo_customer in enumerate(known, start=1):
            profile = demo_customer.profile
            customer = customers.get(customer_id(shop_id, "taobao", demo_customer.nick))
            if customer is None or profile is None:
                continue
            touched += 1
            # Fill only what is still blank, so an agent's own edits survive a second demo run.
            if customer.gender is None:
                customer.gender = profile.gender
            if customer.birthday is None:
                customer.birthday = profile.birthday
            if customer.hobbies is None:
                customer.hobbies = profile.hobbies
            for tag in profile.tags:
                if (customer.id, tag) not in tags:
                    session.add(CustomerTag(customer_id=customer.id, tag=tag))
                    tags.add((customer.id, tag))
            for note in profile.notes:
                if (customer.id, note.body) not in notes:
                    session.add(CustomerNote(customer_id=customer.id, author=note.author, body=note.body,
                                             created_at=note.written_at.astimezone(UTC)))
                    notes.add((customer.id, note.body))
            if progress and done % 100 == 0:
                progress(PROFILES, done, len(known))
    if progress:
        progress(PROFILES, len(known), len(known))
    return touched


def apply_tracking(store: Store, shop: DemoShop, shop_id: str, progress: Progress | None = None) -> tuple[int, dict[str, int]]:
    """Land every demo parcel's Kuaidi100 push the way the webhook does (parse_push, then apply_tracking_update), all
    in one session, then sweep the shop at the demo's end; returns (pushes that matched a parcel, alerts raised by kind).
    Idempotent: a second run stores no new scans and raises no alert twice."""
    from kefu.demo.tracking import (
        DEMO_COURIER_PRICES,
        DEMO_PROVINCE_PRICES,
        demo_pushes,
    )
    from kefu.ingest import kuaidi100
    from kefu.services.tracking import apply_tracking_update
    from kefu.services.watch import sweep

    now = demo_end(shop.today).astimezone(UTC)
    pushes = demo_pushes(shop)
    matched = 0
    with store.session() as session:
        # The shop's orders and parcels loaded once and held here, so each update finds its order in the session.
        loaded = [*session.scalars(select(Order).where(Order.shop_id == shop_id)),
                  *session.scalars(select(Shipment).where(Shipment.shop_id == shop_id))]
        for done, push in enumerate(pushes, start=1):
            update = kuaidi100.parse_push(push.param)
            with session.no_autoflush:  # apply_tracking_update flushes once at its end
                result = apply_tracking_update(session, update, source="kuaidi100", now=now, shop_id=shop_id)
            matched += result.matched
            if progress and done % 200 == 0:
                progress(TRACKING, done, len(pushes))
        del loaded
    if progress:
        progress(TRACKING, len(pushes), len(pushes))
    with store.session() as session:
        shop_row = session.get(Shop, shop_id)
        settings = dict(shop_row.settings or {})
        if "courier_prices" not in settings and "courier_province_prices" not in settings:  # keep the owner's own
            settings["courier_prices"] = dict(DEMO_COURIER_PRICES)
            settings["courier_province_prices"] = {p: dict(t) for p, t in DEMO_PROVINCE_PRICES.items()}
            shop_row.settings = settings
    with store.session() as session:
        swept = sweep(session, shop_id, now=now)
    return matched, dict(sorted(swept.raised_by_kind.items()))


def build_demo_shop(
    store: Store,
    *,
    seed: int = 7,
    today: date | None = None,
    shop_name: str = "小桃子的衣橱",
    out_dir: Path | None = None,
    customers: int = 2000,
    progress: Progress | None = None,
) -> DemoSummary:
    """Generate the demo shop, write its export files, import them (catalogue first), add agents' notes, land the
    parcels' carrier scans and sweep the parcel watch at the demo's end (so the alert queue opens with work in it)."""
    from kefu.services.import_orders import import_taobao_files

    today = today or beijing_today()
    if progress:
        progress(GENERATING, 0, 1)
    shop = generate_demo_shop(seed=seed, today=today, shop_name=shop_name, customers=customers)
    if progress:
        progress(GENERATING, 1, 1)
    folder = Path(out_dir) if out_dir is not None else Path(tempfile.mkdtemp(prefix="kefu-demo-"))
    catalog_path, orders_path, lines_path = files = write_demo_files(shop, folder, progress)

    catalog = import_product_catalog(store, catalog_path, shop_name)
    if progress:
        progress(catalog_path.name, 1, 1)
    imports = import_taobao_files(store, [orders_path, lines_path], shop_name, created_by="demo", progress=progress)
    with store.session() as session:
        shop_id = session.scalar(select(Shop.id).where(Shop.name == shop_name))
    profiles = apply_profiles(store, shop, shop_id, progress)
    tracked, alerts = apply_tracking(store, shop, shop_id, progress)
    extras = run_demo_steps(DemoContext(store=store, shop=shop, shop_id=shop_id, now=demo_end(today).astimezone(UTC), progress=progress))
    return DemoSummary(
        shop_name=shop_name,
        shop_id=shop_id,
        seed=seed,
        today=today,
        out_dir=folder,
        files=files,
        orders=len(shop.orders),
        lines=sum(len(lines) for _order, lines in shop.orders),
        customers=len(shop.customers),
        products=len(shop.catalog),
        catalog=catalog,
        imports=imports,
        profiles=profiles,
        tracked=tracked,
        alerts=alerts,
        extras=extras,
    )


__all__ = ["DemoSummary", "apply_profiles", "apply_tracking", "build_demo_shop", "write_demo_files"]
