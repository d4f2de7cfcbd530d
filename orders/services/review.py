"""Review (审单): what a reviewer (or the automatic review rules) may do to an order.

Every function takes keyword arguments, runs in one transaction, locks the order it changes
and writes an order event with the actor. Admin actions and tasks only call these.
"""

from __future__ import annotations

from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.models import SkuComponent
from orders.models import HoldReason, Order, OrderComponent, OrderLine

from .allocation import BLOCKING, allocate_order, deallocate_order, reallocate_order
from .amounts import recompute_amounts, spread_discount
from .autoreview import address_complete, mark_reviewed, maybe_auto_approve
from .events import record_event
from .holds import active_reasons, hold_order, release_all_holds, release_hold
from .kernel import OrderError, lock_order, require_status

Q2 = Decimal("0.01")
Q4 = Decimal("0.0001")
EDITABLE = (Order.Status.PENDING_REVIEW, Order.Status.REVIEWED)
RECEIVER_FIELDS = ("receiver_name", "receiver_phone", "province", "city", "district", "address")
DETAIL_FIELDS = (*RECEIVER_FIELDS, "buyer_nick", "seller_remark")


def sync_address_hold(*, order, actor=None) -> None:
    """Hold "address incomplete" while the receiver is incomplete; release it once complete."""
    reasons = active_reasons(order)
    complete = address_complete(order)
    if not complete and HoldReason.ADDRESS_INCOMPLETE not in reasons:
        hold_order(order=order, reason=HoldReason.ADDRESS_INCOMPLETE, actor=actor)
    elif complete and HoldReason.ADDRESS_INCOMPLETE in reasons:
        release_hold(
            order=order, reason=HoldReason.ADDRESS_INCOMPLETE, actor=actor, note="address complete"
        )


# --- approve ---------------------------------------------------------------------------------


def refusal(order) -> str | None:
    """Why this order cannot be approved now, or None."""
    if order.status != Order.Status.PENDING_REVIEW:
        return _("not pending review")
    if order.on_hold:
        return _("on hold")
    if order.allocated_at is None:
        return _("stock not reserved")
    if not address_complete(order):
        return _("address incomplete")
    if fulfilled_at_counter(order):
        return _("handed over at the store's counter, not shipped by the warehouse")
    return None


def fulfilled_at_counter(order) -> bool:
    """A store order whose goods are reserved in the store itself (take-away, or pick-up of
    what the store has): the counter hands it over; the warehouse never prints or ships it."""
    from inventory.models import Reservation, Warehouse

    return bool(order.fulfilment) and (
        Reservation.objects.filter(document=order.document)
        .exclude(warehouse__kind=Warehouse.Kind.MAIN)
        .exists()
    )


def approve_orders(*, orders, actor) -> tuple[list[Order], dict[str, str]]:
    """Approve each order that can be; returns (approved, {order_no: why not}) for the rest."""
    approved, refused = [], {}
    for order in sorted(orders, key=lambda o: o.pk):
        with transaction.atomic():
            order = lock_order(order)
            why = refusal(order)
            if why:
                refused[order.order_no] = why
                continue
            mark_reviewed(order=order, actor=actor)
            approved.append(order)
    return approved, refused


# --- cancel, hold, release -------------------------------------------------------------------


@transaction.atomic
def cancel_order(*, order, actor, note: str = "") -> Order:
    """Cancel (作废) an order not yet printed: its reservation is released, its holds end, and
    the promotions' uses and red packet it took are given back."""
    order = lock_order(order)
    require_status(order, EDITABLE, _("cancel"))
    release_all_holds(order=order, actor=actor, note="cancelled")
    deallocate_order(order=order, actor=actor, note="cancelled")
    if order.quote:  # priced by the promotions (a store order): their uses, red packet back
        from promotions.services import release_order

        release_order(order_ref=order.order_no, actor=actor)
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.CANCELLED, cancelled_at=now, updated_at=now, on_hold=False
    )
    record_event(
        order=order,
        kind="cancelled",
        actor=actor,
        message=note,
        before={"status": order.status},
        after={"status": Order.Status.CANCELLED},
    )
    order.refresh_from_db()
    return order


@transaction.atomic
def hold(*, order, reason: str = HoldReason.MANUAL, actor, note: str = "") -> bool:
    order = lock_order(order)
    require_status(order, EDITABLE, _("hold"))
    return hold_order(order=order, reason=reason, actor=actor, note=note) is not None


@transaction.atomic
def release(*, order, reason: str, actor, note: str = "") -> bool:
    """Release a hold; an order no longer blocked then tries to reserve its stock."""
    order = lock_order(order)
    reason = HoldReason(reason)
    if reason == HoldReason.UNPAID:
        raise OrderError(_("an unpaid store order is released by paying at the counter"))
    if reason == HoldReason.SKU_UNMAPPED and order.lines.filter(mapping__isnull=True).exists():
        raise OrderError("refused", _("map the SKUs first (re-map)"))
    if reason == HoldReason.ADDRESS_INCOMPLETE and not address_complete(order):
        raise OrderError("refused", _("complete the address first"))
    if reason == HoldReason.STOCK_SHORT:
        # Stock short ends when the stock is reserved, not by hand.
        allocate_order(order=order, actor=actor)
        order.refresh_from_db()
        return order.allocated_at is not None
    released = release_hold(order=order, reason=reason, actor=actor, note=note)
    if released and not (active_reasons(order) & {r.value for r in BLOCKING}):
        order.refresh_from_db()
        allocate_order(order=order, actor=actor)
        maybe_auto_approve(order=order)
    return released


# --- receiver, carrier -----------------------------------------------------------------------


@transaction.atomic
def update_order_details(*, order, changes: dict, actor) -> Order:
    """Correct the receiver, address, buyer nick or seller remark (before printing)."""
    order = lock_order(order)
    require_status(order, EDITABLE, _("edit"))
    unknown = set(changes) - set(DETAIL_FIELDS)
    if unknown:
        raise OrderError("refused", _("cannot edit %s") % ", ".join(sorted(unknown)))
    before, after = {}, {}
    for name, value in changes.items():
        value = (value or "").strip()
        if getattr(order, name) != value:
            before[name], after[name] = getattr(order, name), value
            setattr(order, name, value)
            # A corrected field no longer follows the platform (services.platform_changes);
            # the platform's value is remembered, the first one kept.
            order.corrected.setdefault(name, before[name])
    if not after:
        return order
    order.save(update_fields=[*after, "corrected", "updated_at"])
    record_event(order=order, kind="edited", actor=actor, before=before, after=after)
    sync_address_hold(order=order, actor=actor)
    return order


def set_carrier(*, orders, carrier, actor) -> int:
    """Choose the carrier of orders not yet printed. Returns how many changed."""
    changed = 0
    for order in orders:
        with transaction.atomic():
            order = lock_order(order)
            require_status(order, EDITABLE, _("set the carrier"))
            if order.carrier_id == (carrier.pk if carrier else None):
                continue
            before = {"carrier": str(order.carrier) if order.carrier_id else None}
            order.carrier = carrier
            order.save(update_fields=["carrier", "updated_at"])
            record_event(
                order=order,
                kind="carrier_set",
                actor=actor,
                before=before,
                after={"carrier": str(carrier) if carrier else None},
            )
            changed += 1
    return changed


# --- lines (reservations follow) ---------------------------------------------------------------


def _mapping(shop, sku: str):
    rows = list(
        SkuComponent.objects.filter(mapping__shop=shop, mapping__platform_sku=sku).values_list(
            "mapping_id", "product_id", "quantity"
        )
    )
    if not rows:
        return None
    return rows[0][0], [(p, q) for _m, p, q in rows]


def _components_for(line, mapped) -> list[OrderComponent]:
    return [
        OrderComponent(
            line=line,
            order_id=line.order_id,
            product_id=p,
            quantity=(line.quantity * per).quantize(Q4),
        )
        for p, per in mapped[1]
    ]


def _sync_unmapped_hold(order, actor) -> None:
    unmapped = list(order.lines.filter(mapping__isnull=True).values_list("platform_sku", flat=True))
    reasons = active_reasons(order)
    if unmapped and HoldReason.SKU_UNMAPPED not in reasons:
        hold_order(
            order=order, reason=HoldReason.SKU_UNMAPPED, actor=actor, note=", ".join(unmapped)
        )
    elif not unmapped and HoldReason.SKU_UNMAPPED in reasons:
        release_hold(order=order, reason=HoldReason.SKU_UNMAPPED, actor=actor, note="mapped")


def _new_line(order, *, platform_sku, quantity, unit_price, amount=None, **extra) -> OrderLine:
    mapped = _mapping(order.shop, platform_sku)
    quantity = Decimal(quantity).quantize(Q4)
    unit_price = Decimal(unit_price).quantize(Q2)
    line = OrderLine.objects.create(
        order=order,
        platform_sku=platform_sku,
        quantity=quantity,
        unit_price=unit_price,
        amount=(amount if amount is not None else quantity * unit_price).quantize(Q2),
        mapping_id=mapped[0] if mapped else None,
        **extra,
    )
    if mapped:
        OrderComponent.objects.bulk_create(_components_for(line, mapped))
    return line


def _lines_snapshot(order) -> list[dict]:
    return [
        {"sku": line.platform_sku, "quantity": str(line.quantity)}
        for line in order.lines.order_by("id")
    ]


def _after_lines_changed(order, actor, before, message="") -> None:
    spread_discount(order)
    recompute_amounts(order)
    _sync_unmapped_hold(order, actor)
    record_event(
        order=order,
        kind="lines_changed",
        actor=actor,
        message=message,
        before={"lines": before},
        after={"lines": _lines_snapshot(order)},
    )
    reallocate_order(order=order, actor=actor)


def _editable_lines(order):
    require_status(order, (Order.Status.PENDING_REVIEW,), _("change lines"))
    if order.merged_into_id:
        raise OrderError("refused", _("merged orders cannot change"))


@transaction.atomic
def change_line_quantity(*, order, line, quantity, actor) -> OrderLine:
    order = lock_order(order)
    _editable_lines(order)
    line = OrderLine.objects.select_for_update().get(pk=line.pk, order=order)
    quantity = Decimal(quantity).quantize(Q4)
    if quantity <= 0:
        raise OrderError("refused", _("quantity must be positive"))
    if quantity == line.quantity:
        return line
    before = _lines_snapshot(order)
    for comp in line.components.all():
        comp.quantity = (comp.quantity / line.quantity * quantity).quantize(Q4)
        comp.save(update_fields=["quantity"])
    line.amount = (line.unit_price * quantity).quantize(Q2)
    line.quantity = quantity
    line.save(update_fields=["quantity", "amount"])
    _after_lines_changed(order, actor, before)
    return line


@transaction.atomic
def add_line(*, order, platform_sku: str, quantity, unit_price, actor) -> OrderLine:
    order = lock_order(order)
    _editable_lines(order)
    if Decimal(quantity) <= 0:
        raise OrderError("refused", _("quantity must be positive"))
    before = _lines_snapshot(order)
    line = _new_line(
        order, platform_sku=platform_sku.strip(), quantity=quantity, unit_price=unit_price
    )
    _after_lines_changed(order, actor, before)
    return line


@transaction.atomic
def remove_line(*, order, line, actor) -> None:
    order = lock_order(order)
    _editable_lines(order)
    if order.lines.count() <= 1:
        raise OrderError("refused", _("an order keeps at least one line: cancel it instead"))
    before = _lines_snapshot(order)
    OrderLine.objects.filter(pk=line.pk, order=order).delete()
    _after_lines_changed(order, actor, before)


@transaction.atomic
def replace_lines(*, order, lines, actor) -> None:
    """The platform sent other lines for an order still waiting for review (intake update)."""
    before = _lines_snapshot(order)
    order.lines.all().delete()
    for nl in lines:
        _new_line(
            order,
            platform_sku=nl.platform_sku.strip(),
            quantity=nl.quantity,
            unit_price=nl.unit_price,
            amount=nl.amount,
            platform_line_id=nl.platform_line_id[:64],
            title=nl.title[:255],
            refund_status=nl.refund_status[:32],
        )
    spread_discount(order)
    recompute_amounts(order)
    _sync_unmapped_hold(order, actor)
    record_event(
        order=order,
        kind="lines_changed",
        actor=actor,
        message="platform",
        before={"lines": before},
        after={"lines": _lines_snapshot(order)},
    )


# --- re-map ----------------------------------------------------------------------------------


@transaction.atomic
def remap_order(*, order, actor) -> bool:
    """Map the order's unmapped lines through the SKU relation table as it is now.

    When every line is mapped, the "SKU not mapped" hold ends and stock is reserved. Returns
    True when the order has no unmapped line left.
    """
    order = lock_order(order)
    if order.status not in EDITABLE:
        return False
    mapped_any = []
    for line in order.lines.filter(mapping__isnull=True):
        mapped = _mapping(order.shop, line.platform_sku)
        if not mapped:
            continue
        line.mapping_id = mapped[0]
        line.save(update_fields=["mapping"])
        OrderComponent.objects.bulk_create(_components_for(line, mapped))
        mapped_any.append(line.platform_sku)
    if mapped_any:
        record_event(order=order, kind="remapped", actor=actor, after={"skus": mapped_any})
    left = order.lines.filter(mapping__isnull=True).exists()
    if not left:
        if release_hold(order=order, reason=HoldReason.SKU_UNMAPPED, actor=actor, note="mapped"):
            if not (active_reasons(order) & {r.value for r in BLOCKING}):
                allocate_order(order=order, actor=actor)
    return not left


def unmapped_orders(shop=None):
    from orders.models import OrderHold

    qs = Order.objects.filter(
        status__in=EDITABLE,
        pk__in=OrderHold.objects.filter(
            reason=HoldReason.SKU_UNMAPPED, released_at__isnull=True
        ).values("order_id"),
    )
    if shop is not None:
        qs = qs.filter(shop=shop)
    return qs.order_by("paid_at", "id")


def remap_unmapped_orders(*, actor="task:remap", shop=None, limit: int = 5000) -> int:
    """Re-map every order held "SKU not mapped" whose SKUs now have relations. Returns count."""
    from channels.models import SkuMapping

    done = 0
    for order in unmapped_orders(shop)[:limit]:
        skus = set(order.lines.filter(mapping__isnull=True).values_list("platform_sku", flat=True))
        if SkuMapping.objects.filter(shop_id=order.shop_id, platform_sku__in=skus).exists():
            if remap_order(order=order, actor=actor):
                done += 1
    return done
