"""Split (拆单) and merge (合单) of orders not yet printed.

Split: chosen lines, or part of a line's quantity, move into a new order of the same platform
order (its own order number, ``split_from`` the original, its own shipment); the reservation
of what moves goes with it (``inventory.services.transfer_reservation``).

Merge: orders of the same shop, buyer, receiver, phone and address, not printed and not held,
become one shipment. Encrypted orders (密文订单) show masked receivers (张**, 138****5678) that
say nothing about who the receiver is: they go together only when their receiver ids match. The oldest (first paid) order survives; the others' lines and
reservations move to it, and they stay as records with status ``merged`` and ``merged_into``
pointing at the survivor (their platform order numbers are what the survivor ships for).
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from inventory import services as stock
from orders.models import HoldReason, Order, OrderComponent, OrderLine

from .allocation import allocate_order
from .events import record_event
from .holds import active_reasons, hold_order
from .kernel import OrderError, lock_order, require_status
from .numbers import next_order_nos
from .review import EDITABLE, recompute_amounts

Q2 = Decimal("0.01")
Q4 = Decimal("0.0001")
COPIED = [
    "shop_id",
    "platform_order_no",
    "status",
    "buyer_nick",
    "receiver_name",
    "receiver_phone",
    "province",
    "city",
    "district",
    "address",
    "receiver_oaid",
    "buyer_remark",
    "seller_remark",
    "paid_at",
    "platform_created_at",
    "platform_modified_at",
    "platform_status",
    "carrier_id",
    "reviewed_at",
]
MERGE_KEY = (
    "shop_id",
    "buyer_nick",
    "receiver_name",
    "receiver_phone",
    "province",
    "city",
    "district",
    "address",
)


@transaction.atomic
def split_order(*, order, quantities: dict[int, Decimal], actor) -> Order:
    """Move ``{line_id: quantity}`` of the order into a new order; returns the new order."""
    order = lock_order(order)
    require_status(order, EDITABLE, _("split"))
    if order.merged_into_id:
        raise OrderError("refused", _("merged orders cannot be split"))
    lines = {line.pk: line for line in order.lines.select_for_update().order_by("id")}
    moving = {}
    for line_id, q in quantities.items():
        q = Decimal(q).quantize(Q4)
        if q == 0:
            continue
        line = lines.get(int(line_id))
        if line is None:
            raise OrderError("refused", _("line %s is not in this order") % line_id)
        if q < 0 or q > line.quantity:
            raise OrderError(
                "refused",
                _("%(sku)s: split between 0 and %(max)s")
                % {"sku": line.platform_sku, "max": line.quantity},
            )
        moving[line.pk] = q
    if not moving:
        raise OrderError("refused", _("choose what to split off"))
    remaining = sum(
        (line.quantity - moving.get(pk, Decimal(0)) for pk, line in lines.items()), Decimal(0)
    )
    if remaining <= 0:
        raise OrderError("refused", _("something must stay in the original order"))

    new = Order(order_no=next_order_nos(1)[0], split_from=order)
    for name in COPIED:
        setattr(new, name, getattr(order, name))
    new.raw = {}
    new.save()
    moved_items: dict[int, Decimal] = {}
    for pk, q in moving.items():
        line = lines[pk]
        comps = list(line.components.all())
        if q == line.quantity:
            OrderLine.objects.filter(pk=pk).update(order=new)
            OrderComponent.objects.filter(line_id=pk).update(order=new)
            for c in comps:
                moved_items[c.product_id] = moved_items.get(c.product_id, Decimal(0)) + c.quantity
            continue
        part = OrderLine.objects.create(
            order=new,
            platform_line_id=line.platform_line_id,
            platform_sku=line.platform_sku,
            title=line.title,
            quantity=q,
            unit_price=line.unit_price,
            amount=(line.amount * q / line.quantity).quantize(Q2),
            mapping_id=line.mapping_id,
            refund_status=line.refund_status,
        )
        for c in comps:
            cq = (c.quantity * q / line.quantity).quantize(Q4)
            OrderComponent.objects.create(
                line=part, order=new, product_id=c.product_id, quantity=cq
            )
            OrderComponent.objects.filter(pk=c.pk).update(quantity=F("quantity") - cq)
            moved_items[c.product_id] = moved_items.get(c.product_id, Decimal(0)) + cq
        OrderLine.objects.filter(pk=pk).update(
            quantity=F("quantity") - q, amount=F("amount") - part.amount
        )
    for o in (order, new):
        recompute_amounts(o)
    new.shipping_fee = new.discount_amount = Decimal("0")
    new.save(update_fields=["shipping_fee", "discount_amount"])
    recompute_amounts(new)

    reasons = active_reasons(order)
    if order.allocated_at is not None:
        stock.transfer_reservation(
            from_document=order.document,
            to_document=new.document,
            items=[(p, q) for p, q in moved_items.items() if q > 0],
        )
        new.allocated_at = timezone.now()
        new.save(update_fields=["allocated_at"])
    for reason in sorted(reasons - {HoldReason.STOCK_SHORT.value}):
        hold_order(order=new, reason=reason, actor=actor, note=f"split from {order.order_no}")
    moved = {str(lines[pk].platform_sku): str(q) for pk, q in moving.items()}
    record_event(
        order=order,
        kind="split",
        actor=actor,
        message=new.order_no,
        before=None,
        after={"new_order": new.order_no, "moved": moved},
    )
    record_event(
        order=new,
        kind="split_from",
        actor=actor,
        message=order.order_no,
        after={"split_from": order.order_no, "moved": moved},
    )
    if order.allocated_at is None and HoldReason.STOCK_SHORT in reasons:
        # Each part may now fit on its own: try the original first, then the new one.
        allocate_order(order=order, actor=actor)
        allocate_order(order=new, actor=actor)
    return new


def merge_key(order) -> tuple:
    """What must match for two orders to ship as one: the receiver id of an encrypted order
    (never its masked text), else the receiver in clear."""
    if order.receiver_oaid:
        return (order.shop_id, order.buyer_nick, "oaid", order.receiver_oaid)
    return tuple(getattr(order, k) for k in MERGE_KEY)


def merge_refusal(orders) -> str | None:
    if len(orders) < 2:
        return _("choose at least two orders")
    first = orders[0]
    for o in orders:
        if o.status not in EDITABLE or o.merged_into_id:
            return _("%s is printed, cancelled or merged already") % o.order_no
        if o.on_hold:
            return _("%s is on hold") % o.order_no
        if merge_key(o) != merge_key(first):
            return _("%s has another shop, buyer, receiver, phone or address") % o.order_no
    return None


@transaction.atomic
def merge_orders(*, orders, actor) -> Order:
    """Merge the orders into the first paid one; returns the surviving order."""
    ids = sorted({o.pk for o in orders})
    locked = list(Order.objects.select_for_update().filter(pk__in=ids).order_by("id"))
    locked.sort(key=lambda o: (o.paid_at is None, o.paid_at or timezone.now(), o.pk))
    why = merge_refusal(locked)
    if why:
        raise OrderError("refused", why)
    survivor, others = locked[0], locked[1:]
    for other in others:
        held = stock.reserved_for(other.document)
        if held:
            stock.transfer_reservation(
                from_document=other.document,
                to_document=survivor.document,
                items=[(p, q) for (_w, p), q in held.items()],
            )
        moved = list(other.lines.values_list("platform_sku", flat=True))
        OrderComponent.objects.filter(line__order=other).update(order=survivor)
        # Each line remembers its platform order: the shipment is notified per platform order.
        other.lines.filter(merged_from__isnull=True).update(merged_from=other)
        other.lines.update(order=survivor)
        before = {"status": other.status}
        Order.objects.filter(pk=other.pk).update(
            status=Order.Status.MERGED,
            merged_into=survivor,
            allocated_at=None,
            updated_at=timezone.now(),
        )
        record_event(
            order=other,
            kind="merged_into",
            actor=actor,
            message=survivor.order_no,
            before=before,
            after={"status": Order.Status.MERGED, "merged_into": survivor.order_no},
        )
        record_event(
            order=survivor,
            kind="merged",
            actor=actor,
            message=other.order_no,
            after={
                "merged": other.order_no,
                "platform_order_no": other.platform_order_no,
                "lines": moved,
            },
        )
        for field in ("shipping_fee", "discount_amount"):
            setattr(survivor, field, getattr(survivor, field) + getattr(other, field))
        for field in ("buyer_remark", "seller_remark"):
            extra = getattr(other, field)
            if extra and extra not in getattr(survivor, field):
                setattr(survivor, field, "\n".join(filter(None, [getattr(survivor, field), extra])))
    if any(o.status == Order.Status.PENDING_REVIEW for o in locked):
        survivor.status, survivor.reviewed_at = Order.Status.PENDING_REVIEW, None
    allocated = all(o.allocated_at is not None for o in locked)
    survivor.save()
    recompute_amounts(survivor)
    if not allocated:
        from .allocation import reallocate_order

        reallocate_order(order=survivor, actor=actor)
    return survivor
