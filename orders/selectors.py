"""Reads for the review screens: the queue and one order's page."""

from __future__ import annotations

import math
from decimal import Decimal

from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, Sum, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.cells import escape_row
from inventory.models import Reservation, StockLevel, Warehouse

from .models import Carrier, Order, OrderComponent, OrderEvent, OrderHold, OrderLine


def active_hold_reasons_subquery():
    """An array of the order's active hold reasons, for list screens (one row per order)."""
    from django.contrib.postgres.expressions import ArraySubquery

    return ArraySubquery(
        OrderHold.objects.filter(order=OuterRef("pk"), released_at__isnull=True)
        .order_by("reason")
        .values("reason")
    )


def review_queue():
    """Orders waiting for review (待审核), oldest paid first."""
    return Order.objects.filter(status=Order.Status.PENDING_REVIEW).order_by("paid_at", "id")


def with_hold_reason(qs, reason: str):
    return qs.filter(
        Exists(
            OrderHold.objects.filter(order=OuterRef("pk"), reason=reason, released_at__isnull=True)
        )
    )


def with_product(qs, product_id: int):
    return qs.filter(
        Exists(OrderComponent.objects.filter(order=OuterRef("pk"), product_id=product_id))
    )


def with_remark(qs, has: bool):
    cond = ~Q(buyer_remark="") | ~Q(seller_remark="")
    return qs.filter(cond) if has else qs.exclude(cond)


def search_orders(qs, term: str):
    """Exact search on platform order no., our order no., receiver, phone, tracking no.

    Exact matches use the plain indexes, so a search stays fast with millions of orders.
    """
    term = term.strip()
    if not term:
        return qs
    return qs.filter(
        Q(platform_order_no=term)
        | Q(order_no=term)
        | Q(receiver_name=term)
        | Q(receiver_phone=term)
        | Q(tracking_no=term)
    )


def order_detail(order: Order) -> dict:
    """Lines with their components and the stock of each component, holds and events."""
    main = Warehouse.objects.filter(kind=Warehouse.Kind.MAIN).first()
    components = list(
        OrderComponent.objects.filter(line__order=order)
        .select_related("product", "line")
        .order_by("line_id", "product__code")
    )
    product_ids = {c.product_id for c in components}
    levels = {
        lv.product_id: lv
        for lv in StockLevel.objects.filter(warehouse=main, product_id__in=product_ids)
    }
    reserved_here = {
        r.product_id: r.quantity for r in Reservation.objects.filter(document=order.document)
    }
    lines = []
    for line in order.lines.select_related("mapping").order_by("id"):
        comps = []
        for c in components:
            if c.line_id != line.pk:
                continue
            lv = levels.get(c.product_id)
            comps.append(
                {
                    "product": c.product,
                    "quantity": c.quantity,
                    "on_hand": lv.on_hand if lv else 0,
                    "reserved": lv.reserved if lv else 0,
                    "available": lv.available if lv else 0,
                    "reserved_for_order": reserved_here.get(c.product_id, 0),
                }
            )
        lines.append({"line": line, "components": comps})
    return {
        "lines": lines,
        "holds": list(
            order.holds.select_related("created_by", "released_by").order_by("-created_at")
        ),
        "events": [
            {"event": e, "label": event_label(e.kind)}
            for e in OrderEvent.objects.filter(order=order)
            .select_related("actor")
            .order_by("created_at", "id")
        ],
        "split_orders": list(order.split_orders.all()),
        "merged_orders": list(order.merged_orders.all()),
    }


EVENT_LABELS = {
    "created": _("order received"),
    "platform_update": _("updated by the platform"),
    "allocated": _("stock reserved"),
    "deallocated": _("reservation released"),
    "hold": _("held"),
    "release": _("hold released"),
    "approved": _("approved"),
    "cancelled": _("cancelled"),
    "edited": _("receiver corrected"),
    "carrier_set": _("carrier set"),
    "lines_changed": _("lines changed"),
    "remapped": _("SKUs re-mapped"),
    "split": _("split"),
    "split_from": _("split off from"),
    "merged": _("merged in"),
    "merged_into": _("merged into"),
    "after_sales": _("after-sales pending"),
}


def event_label(kind: str) -> str:
    """How an event kind reads on the order page (other apps' kinds show as they are)."""
    return str(EVENT_LABELS.get(kind, kind))


# --- the warehouse -----------------------------------------------------------------------

SHIPMENT_FILE_COLUMNS = [
    "platform_order_no",
    "order_no",
    "carrier_code",
    "carrier_name",
    "tracking_no",
    "shipped_at",
]


def wave_candidates(*, carrier: Carrier, shop=None, single_item_first: bool = True):
    """Reviewed, unheld orders in no wave, for this carrier (or none yet), oldest paid first."""
    qs = Order.objects.filter(
        status=Order.Status.REVIEWED, on_hold=False, wave_item__isnull=True
    ).filter(Q(carrier=carrier) | Q(carrier__isnull=True))
    if shop is not None:
        qs = qs.filter(shop=shop)
    order_by = ["paid_at", "pk"]
    if single_item_first:
        qs = qs.annotate(
            _lines=Count("lines", distinct=True), _qty=Sum("lines__quantity")
        ).annotate(_single=Case(When(_lines=1, _qty=1, then=1), default=0))
        order_by = ["-_single", *order_by]
    return qs.order_by(*order_by)


def orders_for_print(ids) -> list[Order]:
    """Orders with everything a document shows, loaded in a few queries, in the given order."""
    ids = list(ids)
    components = OrderComponent.objects.select_related("product").order_by("product__code")
    lines = OrderLine.objects.order_by("pk").prefetch_related(
        Prefetch("components", queryset=components)
    )
    found = {
        o.pk: o
        for o in Order.objects.filter(pk__in=ids)
        .select_related("shop", "carrier")
        .prefetch_related(Prefetch("lines", queryset=lines), "tracking_numbers")
    }
    return [found[i] for i in ids if i in found]


def expected_items(order: Order) -> list[dict]:
    """What the parcel must hold: one entry per product, with the scan code and the count.

    The scan code is the product's barcode (its product code when it has none); counts are
    whole pieces (a fractional component is rounded up to the pieces packed).
    """
    totals: dict[int, dict] = {}
    for component in OrderComponent.objects.filter(line__order=order).select_related("product"):
        product = component.product
        entry = totals.setdefault(
            product.pk,
            {
                "product_id": product.pk,
                "code": product.barcode or product.code,
                "product_code": product.code,
                "name": product.name,
                "spec": product.spec,
                "quantity": Decimal(0),
            },
        )
        entry["quantity"] += component.quantity
    items = sorted(totals.values(), key=lambda e: e["product_code"])
    for entry in items:
        entry["expected"] = int(math.ceil(entry.pop("quantity")))
    return items


def shipment_file(*, shop, shipped_from=None, shipped_to=None) -> bytes:
    """The tracking numbers of a shop's shipped orders as a CSV file (UTF-8 with BOM, so Excel
    opens it), for platforms that take shipments as an uploaded file. Times in Asia/Shanghai.
    """
    import csv
    import io

    qs = Order.objects.filter(shop=shop, status=Order.Status.SHIPPED).select_related("carrier")
    if shipped_from is not None:
        qs = qs.filter(shipped_at__gte=shipped_from)
    if shipped_to is not None:
        qs = qs.filter(shipped_at__lt=shipped_to)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SHIPMENT_FILE_COLUMNS)
    for order in qs.order_by("shipped_at", "pk").iterator():
        writer.writerow(
            escape_row(  # platform text is never run as a formula when the file is opened
                [
                    order.platform_order_no,
                    order.order_no,
                    order.carrier.code if order.carrier_id else "",
                    order.carrier.name if order.carrier_id else "",
                    order.tracking_no,
                    timezone.localtime(order.shipped_at).isoformat(timespec="seconds"),
                ]
            )
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
