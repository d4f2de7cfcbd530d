"""Scan verification (复核): the packer scans the waybill, then every item; when the scanned
counts equal the expected items the order is verified.
"""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import (
    Order,
)
from orders.selectors import expected_items
from orders.services.events import record_event
from orders.services.kernel import (
    OrderError,
    is_held,
    lock_order,
)

S = Order.Status


def find_order_by_scan(code: str) -> Order:
    """The order a scanned tracking number or order number names."""
    code = (code or "").strip()
    if not code:
        raise OrderError("unknown_order", _("Scan a tracking number or an order number."))
    order = (
        Order.objects.filter(Q(tracking_no=code) | Q(order_no=code))
        .select_related("carrier", "shop")
        .order_by("-pk")
        .first()
    )
    if order is None:
        raise OrderError("unknown_order", _("No order has the number %(code)s.") % {"code": code})
    return order


def check_can_verify(order: Order) -> None:
    """Raise the OrderError that stops this order from being verified, if any."""
    if order.status == S.CANCELLED:
        raise OrderError("cancelled", _("Order %(o)s is cancelled.") % {"o": order.order_no})
    if order.status == S.SHIPPED:
        raise OrderError("shipped", _("Order %(o)s has shipped already.") % {"o": order.order_no})
    if is_held(order):
        raise OrderError("held", _("Order %(o)s is held: do not pack it.") % {"o": order.order_no})
    if order.status in (S.PENDING_REVIEW, S.REVIEWED):
        raise OrderError(
            "not_printed", _("Order %(o)s has not been printed.") % {"o": order.order_no}
        )


def _match(items: list[dict], code: str) -> dict | None:
    code = (code or "").strip()
    for entry in items:
        if code and code in (entry["code"], entry["product_code"]):
            return entry
    return None


def _clean_tally(items: list[dict], scanned: dict) -> dict[str, int]:
    """The client's tally, keyed by scan code, checked against the order (never trusted)."""
    known = {e["code"]: e["expected"] for e in items}
    tally: dict[str, int] = {}
    for code, count in (scanned or {}).items():
        try:
            count = int(count)
        except (TypeError, ValueError) as exc:
            raise OrderError("bad_tally", _("The scan list is damaged; start again.")) from exc
        if code not in known or count < 0 or count > known[code]:
            raise OrderError("bad_tally", _("The scan list is damaged; start again."))
        if count:
            tally[code] = count
    return tally


def scan_item(*, order: Order, scanned: dict, code: str, actor, fresh: bool = False) -> dict:
    """One item scanned into the parcel of ``order``.

    ``scanned`` is the tally so far ({scan code: count}). A wrong item, one too many, or an
    order that may not be verified raises OrderError and changes nothing. Returns the new tally
    and, once everything expected is scanned, verifies the order (status ``verified``; that
    step locks the order and checks it again). ``fresh``: ``order`` was read in this request
    (with its carrier and shop), so it is not read again.
    """
    if not fresh:
        order = Order.objects.select_related("carrier", "shop").get(pk=order.pk)
    check_can_verify(order)
    if order.status == S.VERIFIED:
        raise OrderError("verified", _("Order %(o)s is verified already.") % {"o": order.order_no})
    items = expected_items(order)
    tally = _clean_tally(items, scanned)
    entry = _match(items, code)
    if entry is None and code.strip() and code.strip() != order.tracking_no:
        other = Order.objects.filter(Q(tracking_no=code.strip()) | Q(order_no=code.strip()))
        if other.exclude(pk=order.pk).exists():
            raise OrderError(
                "other_order",
                _("%(code)s is another parcel's number: finish order %(o)s or press Esc.")
                % {"code": code.strip(), "o": order.order_no},
            )
    if entry is None:
        raise OrderError(
            "wrong_item",
            _("%(code)s is not in order %(o)s: take it out.") % {"code": code, "o": order.order_no},
        )
    if tally.get(entry["code"], 0) + 1 > entry["expected"]:
        raise OrderError(
            "too_many",
            _("One %(name)s too many: order %(o)s needs %(n)d.")
            % {"name": entry["name"], "o": order.order_no, "n": entry["expected"]},
        )
    tally[entry["code"]] = tally.get(entry["code"], 0) + 1
    complete = all(tally.get(e["code"], 0) == e["expected"] for e in items)
    if complete:
        order = verify_order(order=order, scanned=tally, actor=actor)
    return {"order": order, "items": items, "scanned": tally, "complete": complete}


def verify_order(*, order: Order, scanned: dict, actor) -> Order:
    """Mark a printed order verified once the scanned tally equals what it must hold."""
    with transaction.atomic():
        order = lock_order(order)
        check_can_verify(order)
        if order.status != S.PRINTED:
            raise OrderError(
                "verified", _("Order %(o)s is verified already.") % {"o": order.order_no}
            )
        items = expected_items(order)
        tally = _clean_tally(items, scanned)
        missing = [e for e in items if tally.get(e["code"], 0) != e["expected"]]
        if missing:
            raise OrderError(
                "missing",
                _("Still missing: %(items)s")
                % {"items": ", ".join(f"{e['name']} × {e['expected']}" for e in missing)},
            )
        order.status = S.VERIFIED
        order.verified_at = timezone.now()
        order.save(update_fields=["status", "verified_at", "updated_at"])
        record_event(
            order=order,
            kind="verified",
            actor=actor,
            message=_("Verified by scanning"),
            before={"status": S.PRINTED},
            after={"status": S.VERIFIED, "scanned": tally},
        )
    return order
