"""Reads of the ERP API: stock per product and warehouse, orders per unit code (cursor pages)."""

from __future__ import annotations

import base64
import json
from datetime import datetime
from decimal import Decimal

from django.db.models import Prefetch, Q

from inventory.models import Product, StockLevel, Warehouse

from .services import fmt_money, fmt_qty, fmt_time, order_product_lines

ORDERS_PAGE = 500
STOCK_PAGE = 1000
ZERO = Decimal("0")


class BadCursor(ValueError):
    pass


def encode_cursor(*values) -> str:
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, size: int) -> list:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        values = json.loads(base64.urlsafe_b64decode(padded.encode()).decode())
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadCursor(cursor) from exc
    if not isinstance(values, list) or len(values) != size:
        raise BadCursor(cursor)
    return values


# --- stock -----------------------------------------------------------------------------------


_LISTED = [
    Warehouse.Kind.MAIN,
    Warehouse.Kind.DEFECTIVE,
    Warehouse.Kind.STORE,
    Warehouse.Kind.SAMPLE,
]


def _stock_items(products: list[Product], unit_codes: set[str] | None = None) -> list[dict]:
    """Per product: the main and the defective warehouse always; a store's locations
    (``"MD01"``, ``"MD01:sample"``, by their codes = the store's unit code) when the product
    has stock there, for the unit codes the key may use (``unit_codes``; empty or None: all).
    In-transit stock is not listed (the ERP gets transfers once received)."""
    warehouses = {
        w.id: w
        for w in Warehouse.objects.filter(kind__in=_LISTED).order_by("kind", "code")
        if not unit_codes or w.store_code is None or w.store_code in unit_codes
    }
    fixed = {w.kind: w.id for w in warehouses.values() if w.kind in ("main", "defective")}
    stores = sorted(
        (w for w in warehouses.values() if w.kind in ("store", "sample")), key=lambda w: w.code
    )
    levels = {
        (lv.product_id, lv.warehouse_id): lv
        for lv in StockLevel.objects.filter(
            product__in=[p.id for p in products], warehouse_id__in=list(warehouses)
        )
    }
    items = []
    for product in products:
        erp = getattr(product, "erp_stock", None)
        shown = [("main", fixed.get("main")), ("defective", fixed.get("defective"))]
        shown += [(w.code, w.id) for w in stores if (product.id, w.id) in levels]
        for name, wid in shown:
            lv = levels.get((product.id, wid))
            on_hand = lv.on_hand if lv else ZERO
            reserved = lv.reserved if lv else ZERO
            is_main = name == "main" and erp is not None
            items.append(
                {
                    "product_code": product.code,
                    "warehouse": name,
                    "on_hand": fmt_qty(on_hand),
                    "reserved": fmt_qty(reserved),
                    "available": fmt_qty(on_hand - reserved),
                    "erp_quantity": fmt_qty(erp.quantity) if is_main else None,
                    "erp_as_of": fmt_time(erp.as_of) if is_main else None,
                }
            )
    return items


def stock_for_codes(codes: list[str], unit_codes: set[str] | None = None) -> dict:
    products = list(Product.objects.filter(code__in=codes).select_related("erp_stock"))
    by_code = {p.code: p for p in products}
    ordered = [by_code[c] for c in dict.fromkeys(codes) if c in by_code]
    return {
        "items": _stock_items(ordered, unit_codes),
        "unknown_products": [c for c in dict.fromkeys(codes) if c not in by_code],
        "next_cursor": None,
    }


def stock_page(cursor: str | None, unit_codes: set[str] | None = None) -> dict:
    qs = Product.objects.select_related("erp_stock").order_by("id")
    if cursor:
        (last_id,) = decode_cursor(cursor, 1)
        if not isinstance(last_id, int):
            raise BadCursor(cursor)
        qs = qs.filter(id__gt=last_id)
    products = list(qs[: STOCK_PAGE + 1])
    more = len(products) > STOCK_PAGE
    products = products[:STOCK_PAGE]
    return {
        "items": _stock_items(products, unit_codes),
        "unknown_products": [],
        "next_cursor": encode_cursor(products[-1].id) if more else None,
    }


# --- orders ----------------------------------------------------------------------------------


def orders_page(
    *,
    unit_code: str,
    status: str | None,
    updated_since: datetime | None,
    cursor: str | None,
    limit: int = ORDERS_PAGE,
) -> dict:
    from orders.models import Order, OrderComponent, OrderLine

    qs = Order.objects.filter(shop__unit_code=unit_code)
    if status:
        qs = qs.filter(status=status)
    if updated_since:
        qs = qs.filter(updated_at__gte=updated_since)
    if cursor:
        when, last_id = decode_cursor(cursor, 2)
        try:
            when = datetime.fromisoformat(when)
        except (TypeError, ValueError) as exc:
            raise BadCursor(cursor) from exc
        if not isinstance(last_id, int) or when.tzinfo is None:
            raise BadCursor(cursor)
        qs = qs.filter(Q(updated_at__gt=when) | Q(updated_at=when, id__gt=last_id))
    qs = (
        qs.select_related("shop", "carrier")
        .order_by("updated_at", "id")
        .prefetch_related(
            Prefetch("lines", queryset=OrderLine.objects.order_by("id")),
            Prefetch(
                "lines__components",
                queryset=OrderComponent.objects.select_related("product").order_by("id"),
            ),
        )
    )
    orders = list(qs[: limit + 1])
    more = len(orders) > limit
    orders = orders[:limit]
    items = [
        {
            "order_no": o.order_no,
            "platform_order_no": o.platform_order_no,
            "unit_code": o.shop.unit_code,
            "status": o.status,
            "on_hold": o.on_hold,
            "created_at": fmt_time(o.created_at),
            "updated_at": fmt_time(o.updated_at),
            "shipped_at": fmt_time(o.shipped_at),
            "carrier": o.carrier.code if o.carrier else None,
            "tracking_no": o.tracking_no or None,
            "lines": [
                {
                    "product_code": ln["product_code"],
                    "quantity": fmt_qty(ln["quantity"]),
                    "amount": fmt_money(ln["amount"]),
                }
                for ln in order_product_lines(o)
            ],
        }
        for o in orders
    ]
    last = orders[-1] if orders else None
    return {
        "items": items,
        "next_cursor": encode_cursor(last.updated_at.isoformat(), last.id) if more else None,
    }


def last_contact():
    """When the ERP last called us (any request that reached the log), or None."""
    from .models import MessageLog

    return (
        MessageLog.objects.filter(direction=MessageLog.Direction.IN)
        .order_by("-received_at")
        .values_list("received_at", flat=True)
        .first()
    )


def batches_waiting():
    """Retail batches handed out and not yet acknowledged by the ERP."""
    from .models import RetailBatch

    return RetailBatch.objects.filter(acked_at__isnull=True)
