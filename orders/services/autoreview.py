"""Automatic review (自动审单) and the rule it shares with the holds: a complete address.

A module of its own so that allocation (which may approve an order the moment its stock is
reserved) and review both use it without importing each other.
"""

from __future__ import annotations

from django.utils import timezone

from orders.models import Order

from .events import record_event

ADDRESS_FIELDS = ("receiver_name", "receiver_phone", "province", "city", "address")


def _getter(order):
    """``get(field, default)`` over an Order or a dict of its fields (the intake's rows)."""
    if isinstance(order, dict):
        return order.get
    return lambda k, d=None: getattr(order, k, d)


def address_complete(order) -> bool:
    """Every part of the receiver a carrier needs is there (an Order or a dict of its fields).

    An encrypted receiver (密文订单: a receiver id with masked text) needs only its province and
    city: the electronic waybill service prints the rest from the id."""
    get = _getter(order)
    fields = ("province", "city") if (get("receiver_oaid") or "").strip() else ADDRESS_FIELDS
    return all((get(k) or "").strip() for k in fields)


def auto_review_approves(shop, order) -> bool:
    """The shop's automatic review rule (自动审单): no hold, no buyer or seller remark, the
    order total within the shop's limit. ``order`` is an Order or a dict of its fields."""
    if not shop.auto_review_enabled:
        return False
    get = _getter(order)
    limit = shop.auto_review_max_amount
    return (
        not get("on_hold", False)
        and not get("buyer_remark")
        and not get("seller_remark")
        and (limit is None or get("total_amount") <= limit)
        and address_complete(order)
    )


def maybe_auto_approve(*, order) -> bool:
    """Once an order is reserved and free of holds, the shop's automatic review may approve it."""
    order = Order.objects.select_related("shop").get(pk=order.pk)
    if (
        order.status != Order.Status.PENDING_REVIEW
        or order.allocated_at is None
        or not auto_review_approves(order.shop, order)
    ):
        return False
    mark_reviewed(order=order, actor="auto_review", message="automatic review")
    return True


def mark_reviewed(*, order: Order, actor, message: str = "") -> None:
    """The one place an order becomes 已审核 (approved by a person or by automatic review)."""
    now = timezone.now()
    Order.objects.filter(pk=order.pk).update(
        status=Order.Status.REVIEWED, reviewed_at=now, updated_at=now
    )
    record_event(
        order=order,
        kind="approved",
        actor=actor,
        message=message,
        before={"status": order.status},
        after={"status": Order.Status.REVIEWED},
    )
    order.status, order.reviewed_at = Order.Status.REVIEWED, now
