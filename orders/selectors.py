"""Reads for the review screens: the queue and one order's page."""

from __future__ import annotations

from django.db.models import Exists, OuterRef, Q
from django.utils.translation import gettext_lazy as _

from inventory.models import Reservation, StockLevel, Warehouse

from .models import Order, OrderComponent, OrderEvent, OrderHold


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
