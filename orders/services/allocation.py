"""Automatic allocation (自动配货): an order reserves all of its components, or nothing.

Orders are allocated oldest paid first. An order that cannot be fully reserved is held
"stock short" and reserves nothing; when stock grows, stock-short orders are retried oldest
first. Reservations go through ``inventory.services`` under the order's document
(``order:<id>``); the stock core keeps the levels consistent and locked in product order.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from decimal import Decimal

from django.db import transaction
from django.db.models import Exists, F, OuterRef, Sum
from django.utils import timezone

from inventory import services as stock
from orders.models import HoldReason, Order, OrderComponent, OrderHold

from .autoreview import maybe_auto_approve
from .events import record_event
from .holds import active_reasons, hold_order, release_hold

log = logging.getLogger(__name__)

# Holds that mean "we do not know what (or whether) to reserve": no allocation while active.
BLOCKING = {HoldReason.SKU_UNMAPPED, HoldReason.REFUND_REQUESTED}
ALLOCATABLE_STATUSES = (Order.Status.PENDING_REVIEW, Order.Status.REVIEWED)


def order_needs(order_ids) -> dict[int, dict[int, Decimal]]:
    """{order_id: {product_id: quantity}} summed over the orders' components."""
    needs: dict[int, dict[int, Decimal]] = defaultdict(dict)
    rows = (
        OrderComponent.objects.filter(line__order_id__in=list(order_ids))
        .values("line__order_id", "product_id")
        .annotate(total=Sum("quantity"))
    )
    for r in rows:
        needs[r["line__order_id"]][r["product_id"]] = r["total"]
    return needs


def allocate_order(*, order: Order, actor=None) -> bool:
    """Reserve the whole order, or hold it "stock short" reserving nothing. True when reserved.

    Does nothing (returns whether it is allocated) for an order that is already allocated,
    not waiting to ship, or blocked by an unmapped SKU or a refund request.
    """
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order.pk)
        if order.allocated_at is not None:
            return True
        if order.status not in ALLOCATABLE_STATUSES:
            return False
        reasons = active_reasons(order)
        if reasons & {r.value for r in BLOCKING}:
            return False
        needs = order_needs([order.pk]).get(order.pk, {})
        try:
            if not needs:
                raise stock.InsufficientStock([])
            stock.reserve(document=order.document, items=list(needs.items()))
        except stock.InsufficientStock as exc:
            if HoldReason.STOCK_SHORT not in reasons:
                hold_order(order=order, reason=HoldReason.STOCK_SHORT, actor=actor, note=str(exc))
            return False
        order.allocated_at = timezone.now()
        Order.objects.filter(pk=order.pk).update(
            allocated_at=order.allocated_at, updated_at=timezone.now()
        )
        record_event(
            order=order,
            kind="allocated",
            actor=actor,
            after={"reserved": {str(p): str(q) for p, q in sorted(needs.items())}},
        )
        if HoldReason.STOCK_SHORT in reasons:
            release_hold(
                order=order, reason=HoldReason.STOCK_SHORT, actor=actor, note="stock reserved"
            )
        maybe_auto_approve(order=order)
        return True


def deallocate_order(*, order: Order, actor=None, note: str = "") -> None:
    """Release the order's whole reservation (cancel, lines changed, refund accepted)."""
    with transaction.atomic():
        reserved = stock.reserved_for(order.document)
        stock.release(document=order.document)
        if order.allocated_at is not None or reserved:
            Order.objects.filter(pk=order.pk).update(allocated_at=None, updated_at=timezone.now())
            order.allocated_at = None
            record_event(
                order=order,
                kind="deallocated",
                actor=actor,
                message=note,
                before={"reserved": {str(p): str(q) for (_w, p), q in sorted(reserved.items())}},
            )


def reallocate_order(*, order: Order, actor=None) -> bool:
    """After the order's lines changed: its reservation follows (all of it, or nothing)."""
    with transaction.atomic():
        if order.allocated_at is not None or stock.reserved_for(order.document):
            deallocate_order(order=order, actor=actor, note="lines changed")
        return allocate_order(order=order, actor=actor)


def stock_short_orders(product_ids=None):
    """Orders held "stock short", oldest paid first (optionally those needing these products)."""
    qs = Order.objects.filter(
        Exists(
            OrderHold.objects.filter(
                order=OuterRef("pk"), reason=HoldReason.STOCK_SHORT, released_at__isnull=True
            )
        ),
        status__in=ALLOCATABLE_STATUSES,
        allocated_at__isnull=True,
    )
    if product_ids is not None:
        qs = qs.filter(
            Exists(
                OrderComponent.objects.filter(
                    order=OuterRef("pk"), product_id__in=list(product_ids)
                )
            )
        )
    return qs.order_by(F("paid_at").asc(nulls_last=True), "id")


def retry_stock_short(*, product_ids=None, actor="task:allocation", limit: int = 1000) -> int:
    """Retry stock-short orders oldest paid first; returns how many are now reserved."""
    allocated = 0
    for order in stock_short_orders(product_ids)[:limit]:
        try:
            if allocate_order(order=order, actor=actor):
                allocated += 1
        except Exception:  # one bad order must not stop the others
            log.exception("allocation retry failed for order %s", order.pk)
    return allocated
