"""The kernel every order service stands on: one way to lock orders, one error type, one way
to name the actor, one definition of "held".

- ``lock_orders`` / ``lock_order``: SELECT … FOR UPDATE in primary-key order, so two services
  locking the same orders cannot deadlock, and a decision is made on the row as committed.
- ``OrderError``: a refused action, with a stable ``code`` (for screens and tests) and a message
  for people. When it is raised, nothing has changed.
- ``actor_user``: the user to store in a "who did it" column (None for a system actor: a
  label such as "intake" or "task:sync", which order events keep as ``actor_label``).
- ``is_held`` / ``held_ids``: ``Order.on_hold`` is true exactly while an active hold exists
  (``holds.py`` keeps it so); held orders do not move on.
"""

from __future__ import annotations

import uuid

from django.utils import timezone
from django.utils.translation import gettext as _

from core import clock
from orders.models import Order


class OrderError(Exception):
    def __init__(self, code: str, message: str, **details):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details

    def __str__(self) -> str:
        return str(self.message)


def actor_user(actor):
    """The user behind ``actor``, or None for a system actor (a string label or None)."""
    return actor if getattr(actor, "pk", None) else None


def lock_orders(ids) -> list[Order]:
    """The orders with these ids, locked FOR UPDATE in id order (missing ids are left out)."""
    return list(
        Order.objects.select_for_update(of=("self",))
        .filter(pk__in=list(ids))
        .select_related("carrier", "shop")
        .order_by("pk")
    )


def lock_order(order: Order) -> Order:
    locked = lock_orders([order.pk])
    if not locked:
        raise OrderError("not_found", _("Order not found."))
    return locked[0]


def is_held(order: Order) -> bool:
    return order.on_hold


def held_ids(ids) -> set[int]:
    """Of these orders, the ones held, in one query."""
    return set(Order.objects.filter(pk__in=list(ids), on_hold=True).values_list("pk", flat=True))


def require_status(order: Order, statuses, what: str) -> None:
    if order.status not in statuses:
        raise OrderError(
            "wrong_status",
            _("%(order)s is %(status)s: cannot %(what)s")
            % {"order": order.order_no, "status": order.get_status_display(), "what": what},
        )


def new_document_number(prefix: str, pk: int) -> str:
    return f"{prefix}{timezone.localtime(clock.now()):%Y%m%d}-{pk:05d}"


def create_numbered(model, prefix: str, **fields):
    """Create a document whose number comes from its own id (W20261130-00042): a unique
    placeholder first, then the number, in the caller's transaction."""
    document = model.objects.create(number=uuid.uuid4().hex[:32], **fields)
    document.number = new_document_number(prefix, document.pk)
    document.save(update_fields=["number"])
    return document
