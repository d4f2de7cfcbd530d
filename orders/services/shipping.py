"""Shipping: a verified order ships (its reservation becomes a ledger deduction) and a shipment
notice for its platform is queued in the same transaction; handover batches (交接单).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.notices import queue_shipment
from channels.types import ShipmentNotice
from inventory import services as stock
from orders.models import (
    Carrier,
    HandoverBatch,
    HandoverItem,
    Order,
)
from orders.services.events import record_event
from orders.services.kernel import (
    OrderError,
    actor_user,
    create_numbered,
    is_held,
    lock_order,
    lock_orders,
)

S = Order.Status


def shipment_notices(order: Order) -> list[tuple[Order, ShipmentNotice]]:
    """One shipment notice per platform order in the parcel: the order's own lines, and the
    lines of each order merged into it (they share its carrier and tracking number). A notice
    is ``partial`` when its platform order was split: this parcel holds only some of its lines.
    """
    by_origin: dict[int, list[str]] = {order.pk: []}
    origins = {order.pk: order}
    for line in order.lines.select_related("merged_from").order_by("pk"):
        origin = line.merged_from or order
        origins.setdefault(origin.pk, origin)
        ids = by_origin.setdefault(origin.pk, [])
        if line.platform_line_id:
            ids.append(line.platform_line_id)
    split_family = set(
        Order.objects.filter(pk__in=list(origins))
        .filter(Q(split_from__isnull=False) | Q(split_orders__isnull=False))
        .values_list("pk", flat=True)
    )
    return [
        (
            origins[pk],
            ShipmentNotice(
                order_no=order.order_no,
                platform_order_no=origins[pk].platform_order_no,
                carrier=order.carrier.code if order.carrier_id else "",
                carrier_name=order.carrier.name if order.carrier_id else "",
                tracking_no=order.tracking_no,
                shipped_at=order.shipped_at,
                platform_line_ids=tuple(line_ids),
                partial=pk in split_family,
            ),
        )
        for pk, line_ids in by_origin.items()
    ]


def ship_order(*, order: Order, actor, handover: HandoverBatch | None = None) -> Order:
    """Ship a verified order: its reservation becomes a ledger deduction, the order ``shipped``
    with its time, and a shipment notice for its platform is queued, all in one transaction."""
    with transaction.atomic():
        order = lock_order(order)
        if order.status == S.SHIPPED:
            raise OrderError(
                "shipped", _("Order %(o)s has shipped already.") % {"o": order.order_no}
            )
        if order.status == S.CANCELLED:
            raise OrderError("cancelled", _("Order %(o)s is cancelled.") % {"o": order.order_no})
        if is_held(order):
            raise OrderError(
                "held", _("Order %(o)s is held and cannot ship.") % {"o": order.order_no}
            )
        if order.status != S.VERIFIED:
            raise OrderError(
                "not_verified",
                _("Order %(o)s must be verified by scanning before it ships.")
                % {"o": order.order_no},
            )
        stock.ship(document=order.document, actor=actor_user(actor), note=order.order_no)
        order.status = S.SHIPPED
        order.shipped_at = timezone.now()
        order.save(update_fields=["status", "shipped_at", "updated_at"])
        for origin, notice in shipment_notices(order):
            queue_shipment(shop=origin.shop, notice=notice, dedupe_key=f"shipment:{origin.pk}")
        record_event(
            order=order,
            kind="shipped",
            actor=actor,
            message=(
                _("Shipped in handover %(batch)s") % {"batch": handover.number}
                if handover
                else _("Shipped")
            ),
            before={"status": S.VERIFIED},
            after={
                "status": S.SHIPPED,
                "carrier": order.carrier.code if order.carrier_id else "",
                "tracking_no": order.tracking_no,
            },
        )
    return order


def create_handover_batch(*, carrier: Carrier, actor, orders=None) -> HandoverBatch:
    """A handover batch of the carrier's verified, unheld orders not handed over yet (or of the
    chosen ones, which must all qualify)."""
    with transaction.atomic():
        qs = Order.objects.filter(carrier=carrier, status=S.VERIFIED, handover_item__isnull=True)
        if orders is not None:
            ids = [o.pk if isinstance(o, Order) else int(o) for o in orders]
            chosen = lock_orders(ids)
            bad = [
                o.order_no
                for o in chosen
                if o.carrier_id != carrier.pk
                or o.status != S.VERIFIED
                or is_held(o)
                or HandoverItem.objects.filter(order=o).exists()
            ]
            if bad:
                raise OrderError(
                    "bad_orders",
                    _("Not verified, held, handed over already or another carrier: %(o)s")
                    % {"o": ", ".join(bad)},
                )
        else:
            chosen = [
                o
                for o in Order.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(pk__in=qs.values("pk"))
                .order_by("pk")
                if not is_held(o)
            ]
        if not chosen:
            raise OrderError(
                "empty", _("No verified order of %(c)s waits for handover.") % {"c": carrier.name}
            )
        batch = create_numbered(HandoverBatch, "H", carrier=carrier, created_by=actor_user(actor))
        HandoverItem.objects.bulk_create([HandoverItem(batch=batch, order=o) for o in chosen])
        for order in chosen:
            record_event(
                order=order,
                kind="handover",
                actor=actor,
                message=_("Added to handover %(batch)s") % {"batch": batch.number},
                after={"handover": batch.number},
            )
    return batch


@dataclass
class HandoverOutcome:
    batch: HandoverBatch
    shipped: list[Order]
    problems: list[tuple[Order, str]]


def ship_handover_batch(*, batch: HandoverBatch, actor) -> HandoverOutcome:
    """Ship every order of the batch; one that may not ship (held since, cancelled) is taken out
    of the batch and reported, the others ship."""
    with transaction.atomic():
        batch = HandoverBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.shipped_at:
            raise OrderError("shipped", _("This handover batch has shipped already."))
        shipped, problems = [], []
        for item in batch.items.select_related("order").order_by("order_id"):
            try:
                with transaction.atomic():
                    shipped.append(ship_order(order=item.order, actor=actor, handover=batch))
            except OrderError as exc:
                problems.append((item.order, exc.message))
                item.delete()
                record_event(
                    order=item.order,
                    kind="handover",
                    actor=actor,
                    message=_("Taken out of handover %(batch)s: %(reason)s")
                    % {"batch": batch.number, "reason": exc.message},
                )
        if not shipped:
            raise OrderError(
                "nothing",
                _("No order of this batch can ship: %(p)s")
                % {"p": "; ".join(m for _o, m in problems)},
            )
        batch.shipped_at = timezone.now()
        batch.shipped_by = actor_user(actor)
        batch.save(update_fields=["shipped_at", "shipped_by"])
    return HandoverOutcome(batch=batch, shipped=shipped, problems=problems)
