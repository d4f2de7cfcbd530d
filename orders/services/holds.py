"""Holds (挂起/异常): the one place that puts an order on hold and releases it.

``Order.on_hold`` is true exactly while the order has an active (unreleased) OrderHold; every
hold and release writes an order event with actor and time. Other apps rely on ``on_hold``.
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from orders.models import HoldReason, Order, OrderHold

from .events import record_event
from .kernel import actor_user


def active_reasons(order) -> set[str]:
    return set(
        OrderHold.objects.filter(order=order, released_at__isnull=True).values_list(
            "reason", flat=True
        )
    )


def _sync_on_hold(order) -> None:
    on_hold = OrderHold.objects.filter(order=order, released_at__isnull=True).exists()
    if order.on_hold != on_hold:
        order.on_hold = on_hold
        Order.objects.filter(pk=order.pk).update(on_hold=on_hold, updated_at=timezone.now())


@transaction.atomic
def hold_order(*, order, reason: str, actor=None, note: str = "") -> OrderHold | None:
    """Hold the order for ``reason``; returns the new hold, or None when already held for it."""
    reason = HoldReason(reason)
    existing = OrderHold.objects.filter(order=order, reason=reason, released_at__isnull=True)
    if existing.exists():
        return None
    hold = OrderHold.objects.create(
        order=order, reason=reason, note=str(note)[:255], created_by=actor_user(actor)
    )
    _sync_on_hold(order)
    record_event(
        order=order,
        kind="hold",
        actor=actor,
        message=note,
        before=None,
        after={"hold": reason.value, "label": str(reason.label)},
    )
    return hold


@transaction.atomic
def release_hold(*, order, reason: str, actor=None, note: str = "") -> bool:
    """Release the order's active hold for ``reason``; False when there was none."""
    reason = HoldReason(reason)
    hold = (
        OrderHold.objects.select_for_update()
        .filter(order=order, reason=reason, released_at__isnull=True)
        .first()
    )
    if hold is None:
        return False
    hold.released_at = timezone.now()
    hold.released_by = actor_user(actor)
    hold.release_note = str(note)[:255]
    hold.save(update_fields=["released_at", "released_by", "release_note"])
    _sync_on_hold(order)
    record_event(
        order=order,
        kind="release",
        actor=actor,
        message=note,
        before={"hold": reason.value, "label": str(reason.label)},
        after=None,
    )
    return True


def release_all_holds(*, order, actor=None, note: str = "") -> list[str]:
    released = []
    for reason in sorted(active_reasons(order)):
        if release_hold(order=order, reason=reason, actor=actor, note=note):
            released.append(reason)
    return released
