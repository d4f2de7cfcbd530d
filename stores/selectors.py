"""Reads for the store's screens: the kiosk catalogue and grid, the counter's order lists.

A store's catalogue is what it shows: the styles of which it holds a try-on sample or stock.
Every read takes the store explicitly; staff reach their own store only (``store_for_user``).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import connection
from django.db.models import Q

from core.counts import BoundedCount, bounded_count
from inventory import services as stock
from inventory.models import Product, StockLevel
from orders.models import Fulfilment, Order

from .models import Store

SIZE_ORDER = ["XXS", "XS", "S", "M", "L", "XL", "XXL", "2XL", "3XL", "4XL", "5XL", "均码"]
PAGE_SIZE = 48


def stores_for_user(user):
    """The stores a user works in (a superuser: every store)."""
    if not getattr(user, "is_authenticated", False):
        return Store.objects.none()
    qs = Store.objects.select_related("shop", "location", "sample_location")
    if user.is_superuser:
        return qs
    return qs.filter(members__user=user).distinct()


def store_for_user(user, code: str | None = None) -> Store | None:
    """The store the user works in (the one named by ``code`` among them, if given)."""
    qs = stores_for_user(user)
    if code:
        qs = qs.filter(shop__code=code)
    return qs.order_by("shop__code").first()


def store_orders(store: Store):
    """Every order of the store (its shop), newest first."""
    return Order.objects.filter(shop_id=store.shop_id).order_by("-id")


def _size_key(size: str):
    if size in SIZE_ORDER:
        return (0, SIZE_ORDER.index(size), "")
    try:
        return (1, float(size), "")
    except ValueError:
        return (2, 0, size)


CATALOGUE_SECONDS = 60


def catalogue_key(store_id: int) -> str:
    return f"stores:catalogue:{store_id}"


def catalogue(store: Store, *, query: str = "", page: int = 1) -> tuple[list[dict], bool]:
    """One page of the store's styles: [{style_code, name, price, colours}], and whether more
    follow. ``query`` matches a style code (prefix), a name (part), or a product's code or
    barcode exactly. The list of styles a store carries changes only when goods arrive, so it
    is kept for a minute per store and dropped when goods arrive (stores/receivers.py); what
    the store HAS of each is read live, in the grid."""
    from django.core.cache import cache

    page = max(1, int(page))
    rows = cache.get_or_set(
        catalogue_key(store.pk), lambda: _catalogue_rows(store), CATALOGUE_SECONDS
    )
    if query:
        upper = query.upper()
        exact = style_for_scan(store, query)
        rows = [
            r
            for r in rows
            if r["style_code"].upper().startswith(upper)
            or query in r["name"]
            or r["style_code"] == exact
        ]
    start = (page - 1) * PAGE_SIZE
    return rows[start : start + PAGE_SIZE], len(rows) > start + PAGE_SIZE


def _catalogue_rows(store: Store) -> list[dict]:
    sql = (
        "SELECT COALESCE(NULLIF(p.style_code, ''), p.code) AS style, min(p.name), "
        "min(p.list_price), count(DISTINCT p.colour) "
        "FROM inventory_stocklevel l JOIN inventory_product p ON p.id = l.product_id "
        "WHERE p.active AND l.warehouse_id = ANY(%s) GROUP BY 1 ORDER BY 1"
    )
    with connection.cursor() as cur:
        cur.execute(sql, [[store.location_id, store.sample_location_id]])
        return [
            {"style_code": style, "name": _style_name(name), "price": price, "colours": colours}
            for style, name, price, colours in cur.fetchall()
        ]


def _style_name(name: str) -> str:
    """ "纯棉圆领T恤 白色 S" → "纯棉圆领T恤" (a garment's name without its colour and size)."""
    return (name or "").split(" ")[0]


def style_for_scan(store: Store, code: str) -> str | None:
    """The style of a scanned tag (a product's barcode or code) in this store's catalogue."""
    code = (code or "").strip()
    if not code:
        return None
    product = (
        Product.objects.filter(Q(barcode=code) | Q(code=code) | Q(style_code=code), active=True)
        .filter(stock_levels__warehouse_id__in=[store.location_id, store.sample_location_id])
        .only("code", "style_code")
        .first()
    )
    if product is None:
        return None
    return product.style_code or product.code


def style_grid(store: Store, style_code: str) -> dict | None:
    """The colour × size grid of one style in this store: per cell the product, its price,
    what the store has now and what the main warehouse can send. None when the store does not
    carry the style (another store's catalogue is not this one's)."""
    products = list(
        Product.objects.filter(active=True)
        .filter(Q(style_code=style_code) | Q(style_code="", code=style_code))
        .order_by("code")
    )
    if not products:
        return None
    ids = [p.pk for p in products]
    levels = StockLevel.objects.filter(
        product_id__in=ids,
        warehouse_id__in=[store.location_id, store.sample_location_id, stock.main_warehouse_id()],
    ).values_list("warehouse_id", "product_id", "on_hand", "reserved")
    store_qty: dict[int, Decimal] = {}
    main_qty: dict[int, Decimal] = {}
    carried = False
    for warehouse_id, product_id, on_hand, reserved in levels:
        if warehouse_id == store.location_id:
            store_qty[product_id] = on_hand - reserved
            carried = True
        elif warehouse_id == store.sample_location_id:
            carried = True
        else:
            main_qty[product_id] = on_hand - reserved
    if not carried:
        return None
    colours = sorted({p.colour for p in products})
    sizes = sorted({p.size for p in products}, key=_size_key)
    cells = {}
    for p in products:
        cells[f"{p.colour}|{p.size}"] = {
            "code": p.code,
            "name": p.name,
            "price": str(p.list_price) if p.list_price is not None else None,
            "store": int(max(store_qty.get(p.pk, 0), 0)),
            "main": int(max(main_qty.get(p.pk, 0), 0)),
        }
    return {
        "style_code": style_code,
        "name": _style_name(products[0].name),
        "colours": colours,
        "sizes": sizes,
        "cells": cells,
    }


def _counter_querysets(store: Store) -> dict:
    """The counter page's lists, as querysets: unpaid, paid take-away to hand over, ready for
    pick-up, pick-ups on their way, returns to receive."""
    from returns.models import ReturnOrder

    base = (
        Order.objects.filter(shop_id=store.shop_id)
        .exclude(status=Order.Status.CANCELLED)
        .filter(handed_over_at__isnull=True)
        .order_by("id")
    )
    return {
        "returns": store_returns(store).filter(status=ReturnOrder.Status.APPROVED),
        "unpaid": base.filter(paid_at__isnull=True),
        "takeaway": base.filter(paid_at__isnull=False, fulfilment=Fulfilment.TAKEAWAY),
        "ready": base.filter(fulfilment=Fulfilment.PICKUP, pickup_ready_at__isnull=False),
        "coming": base.filter(
            paid_at__isnull=False, fulfilment=Fulfilment.PICKUP, pickup_ready_at__isnull=True
        ),
    }


def counter_lists(store: Store) -> dict[str, list]:
    """The counter page: the first 100 of each of its lists."""
    return {key: list(qs[:100]) for key, qs in _counter_querysets(store).items()}


def counter_counts(store: Store) -> dict[str, BoundedCount]:
    """How long each of the counter page's lists is (bounded: "1000+"), for the home page."""
    return {key: bounded_count(qs) for key, qs in _counter_querysets(store).items()}


def find_store_order(store: Store, code: str) -> Order | None:
    """An order of this store by its order number, or an open one by its pick-up code."""
    code = (code or "").strip()
    if not code:
        return None
    qs = Order.objects.filter(shop_id=store.shop_id)
    return (
        qs.filter(order_no=code).first()
        or qs.filter(
            pickup_code=code, handed_over_at__isnull=True, cancelled_at__isnull=True
        ).first()
    )


def store_returns(store: Store):
    """Return orders of the store's own orders, and those its staff opened for online orders."""
    from returns.models import ReturnOrder

    return (
        ReturnOrder.objects.filter(
            Q(shop_id=store.shop_id) | Q(created_by__store_memberships__store=store)
        )
        .select_related("order")
        .distinct()
        .order_by("-id")
    )


def location_scope(user) -> set[str] | None:
    """The stock locations a user may see (``inventory.scope``): a store's staff, their stores'
    two locations; staff of no store in a store role, none; everybody else, every location."""
    if not getattr(user, "is_authenticated", False):
        return set()
    rows = Store.objects.filter(members__user=user).values_list(
        "location__code", "sample_location__code"
    )
    codes = {code for pair in rows for code in pair}
    if codes:
        return codes
    if user.groups.filter(name__in=["store_guide", "store_manager"]).exists():
        return set()
    return None


# --- what the promotions' red-packet task asks (PROMOTIONS_ORDER_FACTS) ----------------------


def red_packet_order_facts(order_refs: list[str]) -> dict:
    """For the promotions' daily task: of each store order (by order number), when its goods
    were handed over (take-away, pick-up) or shipped to the customer (delivery: tongcang knows
    no delivery date, so the after-sales window counts from the shipment), and whether a return
    of it is open (submitted or approved, not yet received, rejected or closed). A cancelled
    order was never handed over. Orders it does not know are left out (the task skips them)."""
    from promotions.services import OrderFacts
    from returns.models import ReturnOrder

    rows = list(
        Order.objects.filter(order_no__in=list(order_refs))
        .exclude(fulfilment="")
        .values_list("pk", "order_no", "fulfilment", "handed_over_at", "shipped_at", "status")
    )
    open_returns = set(
        ReturnOrder.objects.filter(
            order_id__in=[r[0] for r in rows],
            status__in=(ReturnOrder.Status.SUBMITTED, ReturnOrder.Status.APPROVED),
        ).values_list("order_id", flat=True)
    )
    facts = {}
    for pk, order_no, fulfilment, handed_over_at, shipped_at, status in rows:
        if status == Order.Status.CANCELLED:
            handed = None
        elif fulfilment == Fulfilment.DELIVERY:
            handed = shipped_at
        else:
            handed = handed_over_at
        facts[order_no] = OrderFacts(handed_over_at=handed, return_open=pk in open_returns)
    return facts
