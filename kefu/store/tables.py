"""The relational schema: one table per fact kind, every business row scoped to a shop."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from kefu.store.types import Money, UTCDateTime

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Shop(Base):
    """A storefront on one platform; a seller may run several."""

    __tablename__ = "shops"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    platform: Mapped[str] = mapped_column(String(20))  # taobao | tmall | shopify
    domain: Mapped[str | None] = mapped_column(String(255), unique=True)  # myshop.myshopify.com
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Customer(Base):
    """A buyer of one shop: identity is shop + platform + buyer nick or open id."""

    __tablename__ = "customers"
    __table_args__ = (
        UniqueConstraint("shop_id", "platform", "buyer_key", name="uq_customers_identity"),
        Index("ix_customers_shop_spent", "shop_id", "total_spent"),
        Index("ix_customers_shop_nick", "shop_id", "buyer_nick"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    platform: Mapped[str] = mapped_column(String(20))
    buyer_key: Mapped[str] = mapped_column(String(200))  # the nick, open id or platform customer id
    buyer_nick: Mapped[str | None] = mapped_column(String(200))
    open_id: Mapped[str | None] = mapped_column(String(200))
    name: Mapped[str | None] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(255))
    phone: Mapped[str | None] = mapped_column(String(40))
    province: Mapped[str | None] = mapped_column(String(40))
    city: Mapped[str | None] = mapped_column(String(60))
    district: Mapped[str | None] = mapped_column(String(60))
    # Profile fields a service agent fills in.
    gender: Mapped[str | None] = mapped_column(String(10))  # female | male | None
    birthday: Mapped[date | None] = mapped_column(Date)
    hobbies: Mapped[str | None] = mapped_column(Text)
    personality_type: Mapped[str | None] = mapped_column(String(20))
    marketing_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    # Aggregates kept current by services.customer_stats after every import.
    orders_count: Mapped[int] = mapped_column(Integer, default=0)
    paid_orders_count: Mapped[int] = mapped_column(Integer, default=0)
    total_spent: Mapped[Decimal] = mapped_column(Money(), default=Decimal("0"))
    first_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_order_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    value_tier: Mapped[str | None] = mapped_column(String(10))  # top | middle | low | none
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CustomerNote(Base):
    """A free-text note an agent wrote about a customer."""

    __tablename__ = "customer_notes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), index=True)
    author: Mapped[str | None] = mapped_column(String(80))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class CustomerTag(Base):
    """A label on a customer (老客, 大码, 学生…)."""

    __tablename__ = "customer_tags"
    __table_args__ = (Index("ix_customer_tags_tag", "tag"),)

    customer_id: Mapped[str] = mapped_column(ForeignKey("customers.id"), primary_key=True)
    tag: Mapped[str] = mapped_column(String(60), primary_key=True)


class Product(Base):
    """A listing (宝贝); stock lives on its SKUs."""

    __tablename__ = "products"
    __table_args__ = (UniqueConstraint("shop_id", "product_key", name="uq_products_key"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    product_key: Mapped[str] = mapped_column(String(200))  # platform item id, else outer id, else title
    platform_item_id: Mapped[str | None] = mapped_column(String(40))
    outer_id: Mapped[str | None] = mapped_column(String(80))
    title: Mapped[str] = mapped_column(String(300))
    category: Mapped[str | None] = mapped_column(String(80))
    price: Mapped[Decimal | None] = mapped_column(Money())
    extra: Mapped[dict[str, Any] | None] = mapped_column()


class Sku(Base):
    """A stock-keeping unit of a product: colour/size, with stock and safety stock."""

    __tablename__ = "skus"
    __table_args__ = (UniqueConstraint("product_id", "properties", name="uq_skus_properties"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"), index=True)
    product_id: Mapped[str] = mapped_column(ForeignKey("products.id"))
    properties: Mapped[str] = mapped_column(String(300), default="")  # 颜色分类：白色;尺码：XL
    outer_sku_id: Mapped[str | None] = mapped_column(String(80))
    price: Mapped[Decimal | None] = mapped_column(Money())
    stock: Mapped[int | None] = mapped_column(Integer)
    safety_stock: Mapped[int | None] = mapped_column(Integer)
    lead_time_days: Mapped[int | None] = mapped_column(Integer)
    restock_date: Mapped[date | None] = mapped_column(Date)


class Order(Base):
    """A buyer's order (trade) with the TOP status, amounts, buyer message and seller memo."""

    __tablename__ = "orders"
    __table_args__ = (
        Index("ix_orders_customer", "customer_id", "created_at"),
        Index("ix_orders_shop_created", "shop_id", "created_at"),
    )

    # "{shop_id}:{order_no}": deterministic, so (shop, order number) is unique through the primary key itself.
    id: Mapped[str] = mapped_column(String(80), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    platform: Mapped[str] = mapped_column(String(20))
    order_no: Mapped[str] = mapped_column(String(40))  # 订单编号 / tid / Shopify order id, kept exact as text
    order_name: Mapped[str | None] = mapped_column(String(40))  # Shopify "#1001"
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    buyer_nick: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(40))  # TOP status set
    status_text: Mapped[str | None] = mapped_column(String(80))  # the platform's own wording
    close_reason: Mapped[str | None] = mapped_column(String(80))
    created_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    goods_amount: Mapped[Decimal | None] = mapped_column(Money())  # 买家应付货款
    post_fee: Mapped[Decimal | None] = mapped_column(Money())  # 买家应付邮费
    total_amount: Mapped[Decimal | None] = mapped_column(Money())  # 总金额
    paid_amount: Mapped[Decimal | None] = mapped_column(Money())  # 买家实际支付金额
    refunded_amount: Mapped[Decimal | None] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="CNY")
    item_count: Mapped[int | None] = mapped_column(Integer)  # 宝贝总数量
    title_summary: Mapped[str | None] = mapped_column(String(500))
    buyer_message: Mapped[str | None] = mapped_column(Text)  # 买家留言
    seller_memo: Mapped[str | None] = mapped_column(Text)  # 订单备注 / 商家备注
    receiver_name: Mapped[str | None] = mapped_column(String(100))
    receiver_phone: Mapped[str | None] = mapped_column(String(40))
    receiver_province: Mapped[str | None] = mapped_column(String(40))
    receiver_city: Mapped[str | None] = mapped_column(String(60))
    receiver_district: Mapped[str | None] = mapped_column(String(60))
    receiver_address: Mapped[str | None] = mapped_column(String(300))  # street part, often masked
    shipping_method: Mapped[str | None] = mapped_column(String(40))
    invoice_title: Mapped[str | None] = mapped_column(String(200))
    is_mobile: Mapped[bool | None] = mapped_column(Boolean)
    source: Mapped[str] = mapped_column(String(30))  # taobao_export | shopify_webhook | demo
    extra: Mapped[dict[str, Any] | None] = mapped_column()  # unknown export columns, kept as they came
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class OrderLine(Base):
    """One item of an order (子订单)."""

    __tablename__ = "order_lines"
    __table_args__ = (Index("ix_order_lines_order", "order_id"), Index("ix_order_lines_product", "product_id"))

    id: Mapped[str] = mapped_column(String(120), primary_key=True)  # "{order_id}:{sub_order_no or #n}"
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    line_no: Mapped[int] = mapped_column(Integer)
    sub_order_no: Mapped[str | None] = mapped_column(String(40))
    product_id: Mapped[str | None] = mapped_column(ForeignKey("products.id"))
    title: Mapped[str] = mapped_column(String(300))
    sku_properties: Mapped[str | None] = mapped_column(String(300))
    outer_id: Mapped[str | None] = mapped_column(String(80))  # 商家编码 / 外部系统编号
    price: Mapped[Decimal | None] = mapped_column(Money())
    quantity: Mapped[int] = mapped_column(Integer, default=1)
    paid_amount: Mapped[Decimal | None] = mapped_column(Money())
    refund_status: Mapped[str | None] = mapped_column(String(40))
    refunded_amount: Mapped[Decimal | None] = mapped_column(Money())
    status: Mapped[str | None] = mapped_column(String(40))
    extra: Mapped[dict[str, Any] | None] = mapped_column()


class Shipment(Base):
    """A parcel: carrier and waybill for an order."""

    __tablename__ = "shipments"
    __table_args__ = (
        Index("ix_shipments_waybill_only", "waybill_no"),  # every waybill lookup (a push names no shop); migration 0012
        Index("ix_shipments_watch", "shop_id", "status", "last_event_at"),
        Index("ix_shipments_order", "order_id"),  # an order's parcels: the buyer card, lifecycle, returns
    )

    id: Mapped[str] = mapped_column(String(120), primary_key=True)  # "{order_id}:{waybill_no}": one row per parcel
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    carrier_name: Mapped[str | None] = mapped_column(String(60))  # 中通快递
    carrier_code: Mapped[str | None] = mapped_column(String(40))  # zhongtong
    waybill_no: Mapped[str] = mapped_column(String(64))
    shipped_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str | None] = mapped_column(String(30))  # kefu.domain.tracking.ParcelState value
    # Tracking, kept current by services.tracking from carrier pushes (Kuaidi100, Kdniao, Shopify fulfilments).
    status_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    last_event_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    picked_up_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    out_for_delivery_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    signed_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    destination_province: Mapped[str | None] = mapped_column(String(40))
    tracking_source: Mapped[str | None] = mapped_column(String(20))  # kuaidi100 | kdniao | shopify
    subscription_status: Mapped[str | None] = mapped_column(String(20))  # polling | shutdown | abort | updateall


class TrackingEventRow(Base):
    """One scan of a parcel as a carrier reported it (courier phones redacted)."""

    __tablename__ = "tracking_events"
    __table_args__ = (Index("ix_tracking_events_shipment", "shipment_id", "at"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)  # TrackingEvent.dedupe_key
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    shipment_id: Mapped[str] = mapped_column(ForeignKey("shipments.id"))
    carrier_code: Mapped[str | None] = mapped_column(String(40))
    waybill_no: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime())
    state: Mapped[str] = mapped_column(String(30))
    raw_state: Mapped[str | None] = mapped_column(String(20))
    description: Mapped[str | None] = mapped_column(Text)
    location: Mapped[str | None] = mapped_column(String(120))
    area_code: Mapped[str | None] = mapped_column(String(20))
    source: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())


class Alert(Base):
    """Something a person should act on before the buyer asks: a stalled parcel, a fake-shipping risk, a broken promise."""

    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_queue", "shop_id", "status", "kind"), Index("ix_alerts_customer", "customer_id"))

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    kind: Mapped[str] = mapped_column(String(30))  # fake_shipping | stall | exception | rejected | returned | signed | ship_promise …
    severity: Mapped[str] = mapped_column(String(10), default="warning")  # info | warning | critical
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | acknowledged | resolved
    dedupe_key: Mapped[str] = mapped_column(String(200), unique=True)  # one live alert per subject and kind
    order_id: Mapped[str | None] = mapped_column(ForeignKey("orders.id"))
    shipment_id: Mapped[str | None] = mapped_column(ForeignKey("shipments.id"))
    customer_id: Mapped[str | None] = mapped_column(ForeignKey("customers.id"))
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    resolved_by: Mapped[str | None] = mapped_column(String(80))
    rule: Mapped[str | None] = mapped_column(String(200))  # the configured rule and numbers that raised it
    detail: Mapped[dict[str, Any] | None] = mapped_column()


class OrderRequirement(Base):
    """A buyer's ask carried to the packer: a courier wanted or excluded, a ship or delivery time."""

    __tablename__ = "order_requirements"
    __table_args__ = (Index("ix_order_requirements_order", "order_id"),)

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    shop_id: Mapped[str] = mapped_column(ForeignKey("shops.id"))
    order_id: Mapped[str] = mapped_column(ForeignKey("orders.id"))
    kind: Mapped[str] = mapped_column(String(30))  # courier_wanted | courier_excluded | ship_by | deliver_by | ship_time | extra_freight
    value: Mapped[str | None] = mapped_column(String(120))
    source: Mapped[str] = mapped_column(String(20))  # buyer_message | chat | agent
    source_text: Mapped[str | None] = mapped_column(Text)  # phones redacted
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())


class ImportRun(Base):
    """One file read by an importer, with what landed and what was rejected."""

    __tablename__ = "import_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    shop_id: Mapped[str | None] = mapped_column(ForeignKey("shops.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # taobao_orders | taobao_lines | ...
    file_name: Mapped[str] = mapped_column(String(300))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # running | done | failed
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_landed: Mapped[int] = mapped_column(Integer, default=0)
    rows_new: Mapped[int] = mapped_column(Integer, default=0)
    rows_updated: Mapped[int] = mapped_column(Integer, default=0)
    rows_rejected: Mapped[int] = mapped_column(Integer, default=0)
    error: Mapped[str | None] = mapped_column(Text)
    created_by: Mapped[str | None] = mapped_column(String(80))


class ImportRejection(Base):
    """A row an importer refused, with the file line and the reason."""

    __tablename__ = "import_rejections"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(ForeignKey("import_runs.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(Text)
    raw: Mapped[str | None] = mapped_column(Text)  # the row as read, phone numbers redacted


class User(Base):
    """A person who logs in to the workbench: the owner or a service agent."""

    __tablename__ = "users"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(80))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[str] = mapped_column(String(10))  # owner | agent
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime())
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime())


class AppSetting(Base):
    """A process-wide setting kept in the database (the workbench's session-signing secret)."""

    __tablename__ = "app_settings"

    key: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime())


class AuditEntry(Base):
    """Who saw or changed what: every PII reveal is recorded here."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime(), index=True)
    user_id: Mapped[str | None] = mapped_column(ForeignKey("users.id"))
    action: Mapped[str] = mapped_column(String(40))  # reveal | login | edit
    target_type: Mapped[str] = mapped_column(String(40))
    target_id: Mapped[str] = mapped_column(String(120))
    detail: Mapped[str | None] = mapped_column(Text)


class WebhookDelivery(Base):
    """A webhook delivery already taken in, so a retried delivery is not processed twice."""

    __tablename__ = "webhook_deliveries"

    id: Mapped[str] = mapped_column(String(120), primary_key=True)  # "shopify:{X-Shopify-Webhook-Id}"
    source: Mapped[str] = mapped_column(String(20))
    topic: Mapped[str | None] = mapped_column(String(60))
    shop_domain: Mapped[str | None] = mapped_column(String(255))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime())
    status: Mapped[str] = mapped_column(String(20))  # processed | ignored | failed
    error: Mapped[str | None] = mapped_column(Text)


# Each capability keeps its tables in its own module; importing them here puts every table on Base.metadata, which
# Alembic, the tests and drop_everything read.
from kefu.store import (  # noqa: E402,F401
    case_tables,
    desk_tables,
    growth_tables,
    messaging_tables,
    returns_tables,
    review_tables,
    stock_tables,
)
