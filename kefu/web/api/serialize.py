"""JSON shapes of the API: money as "123.00" strings, ISO-8601 times, personal data masked unless revealed."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from kefu.domain.privacy import mask_address, mask_email, mask_name, mask_phone
from kefu.services.orders_view import OrderDetail, OrderPage
from kefu.store.tables import (
    Customer,
    ImportRejection,
    ImportRun,
    Order,
    OrderLine,
    Shipment,
)

ORDER_PII = ("receiver_name", "receiver_phone", "receiver_address")
ORDER_MASKS = {"receiver_name": mask_name, "receiver_phone": mask_phone, "receiver_address": mask_address}


def money(amount: Decimal | None) -> str | None:
    return None if amount is None else f"{Decimal(amount):.2f}"


def when(moment: datetime | date | None) -> str | None:
    return None if moment is None else moment.isoformat()


def order_summary(order: Order, *, reveal: bool = False) -> dict[str, Any]:
    """One order as a list row: identity, status, amounts, buyer, masked receiver."""
    data = {
        "id": order.id,
        "shop_id": order.shop_id,
        "platform": order.platform,
        "order_no": order.order_no,
        "order_name": order.order_name,
        "customer_id": order.customer_id,
        "buyer_nick": order.buyer_nick,
        "status": order.status,
        "status_text": order.status_text,
        "close_reason": order.close_reason,
        "created_at": when(order.created_at),
        "paid_at": when(order.paid_at),
        "shipped_at": when(order.shipped_at),
        "finished_at": when(order.finished_at),
        "currency": order.currency,
        "goods_amount": money(order.goods_amount),
        "post_fee": money(order.post_fee),
        "total_amount": money(order.total_amount),
        "paid_amount": money(order.paid_amount),
        "refunded_amount": money(order.refunded_amount),
        "item_count": order.item_count,
        "title_summary": order.title_summary,
        "buyer_message": order.buyer_message,
        "seller_memo": order.seller_memo,
        "receiver_province": order.receiver_province,
        "receiver_city": order.receiver_city,
        "receiver_district": order.receiver_district,
        "shipping_method": order.shipping_method,
    }
    for field in ORDER_PII:
        value = getattr(order, field)
        data[field] = value if reveal else ORDER_MASKS[field](value)
    data["pii_masked"] = not reveal
    return data


def line_json(line: OrderLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "line_no": line.line_no,
        "sub_order_no": line.sub_order_no,
        "product_id": line.product_id,
        "title": line.title,
        "sku_properties": line.sku_properties,
        "outer_id": line.outer_id,
        "price": money(line.price),
        "quantity": line.quantity,
        "paid_amount": money(line.paid_amount),
        "refund_status": line.refund_status,
        "refunded_amount": money(line.refunded_amount),
        "status": line.status,
    }


def shipment_json(shipment: Shipment) -> dict[str, Any]:
    return {
        "carrier_name": shipment.carrier_name,
        "carrier_code": shipment.carrier_code,
        "waybill_no": shipment.waybill_no,
        "shipped_at": when(shipment.shipped_at),
        "status": shipment.status,
    }


def order_detail_json(detail: OrderDetail, *, reveal: bool = False) -> dict[str, Any]:
    data = order_summary(detail.order, reveal=reveal)
    data["shop_name"] = detail.shop.name if detail.shop else None
    data["lines"] = [line_json(line) for line in detail.lines]
    data["shipments"] = [shipment_json(s) for s in detail.shipments]
    return data


def order_page_json(page: OrderPage, *, reveal: bool = False) -> dict[str, Any]:
    return {
        "items": [order_summary(o, reveal=reveal) for o in page.items],
        "total": page.total,
        "page": page.page,
        "per_page": page.per_page,
        "pages": page.pages,
    }


def run_json(run: ImportRun, rejections: list[ImportRejection] | None = None) -> dict[str, Any]:
    data = {
        "run_id": run.id,
        "shop_id": run.shop_id,
        "kind": run.kind,
        "file_name": run.file_name,
        "status": run.status,
        "started_at": when(run.started_at),
        "finished_at": when(run.finished_at),
        "rows_read": run.rows_read,
        "rows_landed": run.rows_landed,
        "rows_new": run.rows_new,
        "rows_updated": run.rows_updated,
        "rows_rejected": run.rows_rejected,
        "error": run.error,
        "created_by": run.created_by,
    }
    if rejections is not None:
        data["rejections"] = [{"line_no": r.line_no, "reason": r.reason, "raw": r.raw} for r in rejections]
    return data


def import_result_json(result: Any) -> dict[str, Any]:
    """A FileImportResult (from the importer) as JSON, with its kept rejections."""
    return {
        "run_id": result.run_id,
        "file_name": result.file_name,
        "kind": result.kind,
        "rows_read": result.rows_read,
        "rows_landed": result.rows_landed,
        "rows_new": result.rows_new,
        "rows_updated": result.rows_updated,
        "rows_rejected": result.rows_rejected,
        "rejections": [{"file": result.file_name, "line_no": r.line_no, "reason": r.reason} for r in result.rejections],
        "error": result.error,
    }


CUSTOMER_MASKS = {"name": mask_name, "phone": mask_phone, "email": mask_email}


def customer_json(customer: Customer, *, reveal: bool = False) -> dict[str, Any]:
    """A customer as a list row: identity, region, profile, aggregates; name/phone/e-mail masked unless revealed."""
    data = {
        "id": customer.id,
        "shop_id": customer.shop_id,
        "platform": customer.platform,
        "buyer_nick": customer.buyer_nick,
        "province": customer.province,
        "city": customer.city,
        "district": customer.district,
        "gender": customer.gender,
        "birthday": when(customer.birthday),
        "hobbies": customer.hobbies,
        "personality_type": customer.personality_type,
        "marketing_consent": customer.marketing_consent,
        "orders_count": customer.orders_count,
        "paid_orders_count": customer.paid_orders_count,
        "total_spent": money(customer.total_spent),
        "first_order_at": when(customer.first_order_at),
        "last_order_at": when(customer.last_order_at),
        "value_tier": customer.value_tier,
    }
    for field, mask in CUSTOMER_MASKS.items():
        value = getattr(customer, field)
        data[field] = value if reveal else mask(value)
    data["pii_masked"] = not reveal
    return data

