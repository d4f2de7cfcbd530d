"""A newer platform version of an order meets what the reviewers and the warehouse did to it.

- A field a reviewer corrected (``update_order_details``) stops following the platform: the
  order remembers it in ``corrected`` with the platform's latest known value of it.
- When the platform later sends a NEW value of such a field (one it did not send before), the
  correction stays and the platform's value waits in ``platform_changes`` for a reviewer to
  accept (``accept_platform_change``: the order takes it and follows the platform again) or to
  dismiss (``dismiss_platform_change``). Fields nobody corrected follow the platform while the
  order waits for review.
- After the waybill was printed nothing follows the platform any more: a new receiver or
  address waits the same way and holds the order ("address changed after printing"), until the
  change is dismissed, or accepted and the waybill reprinted (``printing.print_waybills``).

Every change writes an order event with the actor, in the caller's transaction.
"""

from __future__ import annotations

from django.db import transaction
from django.utils.translation import gettext as _

from orders.models import HoldReason, Order

from .events import record_event
from .holds import active_reasons, hold_order, release_hold
from .kernel import OrderError, lock_order
from .review import DETAIL_FIELDS, RECEIVER_FIELDS, sync_address_hold

S = Order.Status
CORRECTABLE = DETAIL_FIELDS
PRINTED = (S.PRINTED, S.VERIFIED)


def followed(order: Order, header: dict, *, waiting: bool) -> dict:
    """Of the platform's header values, the ones the order takes at once: while it waits for
    review, every field nobody corrected."""
    if not waiting:
        return {}
    return {name: value for name, value in header.items() if name not in order.corrected}


def keep_platform_values(order: Order, header: dict, actor, *, waiting: bool) -> dict:
    """The platform's new values of fields the order does not follow: keep the new ones for
    review; hold a printed order whose receiver changed. Returns {field: new value} kept."""
    if order.status in (S.SHIPPED, S.CANCELLED, S.MERGED):
        return {}
    kept = {}
    for name, value in header.items():
        if name not in CORRECTABLE or name in followed(order, {name: value}, waiting=waiting):
            continue
        if name not in order.corrected and order.status not in (S.REVIEWED, *PRINTED):
            continue
        known = order.corrected.get(name, getattr(order, name))
        if value == known:
            continue  # nothing new from the platform
        order.corrected[name] = value
        if value == getattr(order, name):
            order.platform_changes.pop(name, None)  # the platform now agrees with us
        else:
            order.platform_changes[name] = value
            kept[name] = value
    if not kept:
        return {}
    Order.objects.filter(pk=order.pk).update(
        corrected=order.corrected, platform_changes=order.platform_changes
    )
    record_event(order=order, kind="platform_change", actor=actor, after=kept)
    if order.status in PRINTED and set(kept) & set(RECEIVER_FIELDS):
        hold_order(order=order, reason=HoldReason.ADDRESS_CHANGED, actor=actor)
    return kept


def _pending(order: Order, fields) -> dict:
    chosen = (
        order.platform_changes
        if fields is None
        else {k: order.platform_changes[k] for k in fields if k in order.platform_changes}
    )
    if not chosen:
        raise OrderError("nothing", _("No change from the platform waits on %s.") % order.order_no)
    return dict(chosen)


@transaction.atomic
def accept_platform_change(*, order, actor, fields=None) -> Order:
    """The order takes the platform's new values (all, or ``fields``) and follows the platform
    in them again. A printed order stays held until its waybill is reprinted."""
    order = lock_order(order)
    if order.status in (S.SHIPPED, S.CANCELLED, S.MERGED):
        raise OrderError("wrong_status", _("%s cannot change any more.") % order.order_no)
    chosen = _pending(order, fields)
    before = {name: getattr(order, name) for name in chosen}
    for name, value in chosen.items():
        setattr(order, name, value)
        order.platform_changes.pop(name)
        order.corrected.pop(name, None)
    order.save(update_fields=[*chosen, "corrected", "platform_changes", "updated_at"])
    record_event(
        order=order, kind="platform_change_accepted", actor=actor, before=before, after=chosen
    )
    if order.status not in PRINTED:
        sync_address_hold(order=order, actor=actor)
    return order


@transaction.atomic
def dismiss_platform_change(*, order, actor, fields=None) -> Order:
    """The order keeps its own values (all, or ``fields``); the hold for an address changed
    after printing ends when no such change waits any more."""
    order = lock_order(order)
    chosen = _pending(order, fields)
    for name in chosen:
        order.platform_changes.pop(name)
    order.save(update_fields=["platform_changes", "updated_at"])
    record_event(order=order, kind="platform_change_dismissed", actor=actor, before=chosen)
    release_address_changed(order=order, actor=actor, note=_("change dismissed"))
    return order


def release_address_changed(*, order: Order, actor, note: str) -> bool:
    """End the "address changed after printing" hold once no receiver change waits."""
    if HoldReason.ADDRESS_CHANGED not in active_reasons(order):
        return False
    if set(order.platform_changes) & set(RECEIVER_FIELDS):
        return False
    return release_hold(order=order, reason=HoldReason.ADDRESS_CHANGED, actor=actor, note=note)
