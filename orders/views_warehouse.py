"""The scan page (复核发货) for the warehouse role: HTML page plus small JSON views.

The page holds no rules of its own: every scan goes to a view here, which calls the
fulfilment services (the server checks each item and verifies the order). What a packer has
scanned so far lives on the server (``ScanSession``, one per order and packer): the page sends
codes only, so a crafted request with a count cannot verify an order.

A verified parcel is never left behind silently: until it is shipped (Enter), scanning another
waybill is refused with a buzz. Shipping is not done on the packer's behalf, because the next
waybill is no proof that the verified parcel was closed and put on the carrier's cart.
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.db.models import Q
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from core.db import retrying
from orders import selectors
from orders.models import Order, ScanSession
from orders.services import kernel, scanning, shipping


def _error(code: str, message: str, status: int = 409) -> JsonResponse:
    return JsonResponse({"ok": False, "error": {"code": code, "message": message}}, status=status)


def api(permission: str):
    """JSON view: logged in, holding ``permission``, POST with a JSON object body."""

    def decorate(view):
        @wraps(view)
        @require_POST
        def wrapper(request):
            if not request.user.is_authenticated:
                return _error("login", _("Please log in again."), 401)
            if not request.user.has_perm(permission):
                return _error("forbidden", _("You may not do this."), 403)
            try:
                data = json.loads(request.body or b"{}")
                if not isinstance(data, dict):
                    raise ValueError
            except ValueError:
                return _error("bad_request", _("The request is not valid JSON."), 400)
            try:
                return view(request, data)
            except kernel.OrderError as exc:
                return _error(exc.code, exc.message)

        return wrapper

    return decorate


def _order_from(data) -> Order:
    try:
        return Order.objects.select_related("carrier", "shop").get(pk=int(data.get("order_id")))
    except (TypeError, ValueError, Order.DoesNotExist) as exc:
        raise kernel.OrderError("unknown_order", _("Order not found.")) from exc


def _order_json(order: Order, items: list[dict], scanned: dict) -> dict:
    local = timezone.localtime
    return {
        "ok": True,
        "order": {
            "id": order.pk,
            "order_no": order.order_no,
            "tracking_no": order.tracking_no,
            "status": order.status,
            "status_label": order.get_status_display(),
            "receiver": f"{order.receiver_name} {order.receiver_phone}",
            "carrier": order.carrier.name if order.carrier_id else "",
            "shop": order.shop.name,
            "shipped_at": local(order.shipped_at).isoformat() if order.shipped_at else None,
        },
        "items": [
            {
                "code": e["code"],
                "product_code": e["product_code"],
                "name": e["name"],
                "spec": e["spec"],
                "expected": e["expected"],
                "scanned": scanned.get(e["code"], 0),
                "missing": e["expected"] - scanned.get(e["code"], 0),
            }
            for e in items
        ],
        "scanned": scanned,
        "complete": all(scanned.get(e["code"], 0) == e["expected"] for e in items),
    }


def _page_texts() -> dict:
    return {
        "scanOrder": _("Scan a tracking number or an order number"),
        "scanItems": _("Scan the items of the parcel"),
        "shipFirst": _("Press Enter to ship this parcel, then scan the next one"),
        "opened": _("Order opened: scan its items."),
        "itemOk": _("OK: %(name)s"),
        "verified": _("All items scanned: the order is verified."),
        "verifiedShip": _("Verified. Press Enter to ship."),
        "shipped": _("Shipped. Scan the next parcel."),
        "network": _("The server cannot be reached; nothing was changed."),
        "ready": _("Ready: scan the waybill of a parcel."),
    }


@require_GET
@login_required
@ensure_csrf_cookie
def scan_page(request):
    if not request.user.has_perm("orders.verify_order"):
        return render(request, "warehouse/forbidden.html", status=403)
    return render(
        request,
        "warehouse/scan.html",
        {"can_ship": request.user.has_perm("orders.ship_order"), "texts": _page_texts()},
    )


def _unshipped_verified(user, but: Order | None = None) -> Order | None:
    """The packer's verified parcel that can still ship (not held, not shipped), if any."""
    sessions = ScanSession.objects.filter(user=user, order__status=Order.Status.VERIFIED)
    if but is not None:
        sessions = sessions.exclude(order=but)
    for session in sessions.select_related("order").order_by("-updated_at")[:5]:
        if not kernel.is_held(session.order):
            return session.order
    return None


def _refuse_next_parcel(order: Order, code: str):
    raise kernel.OrderError(
        "verified_not_shipped",
        _(
            "Order %(o)s is verified but not shipped: press Enter to ship it first, "
            "then scan %(code)s."
        )
        % {"o": order.order_no, "code": code},
    )


@api("orders.verify_order")
def open_order(request, data):
    """A tracking or order number was scanned: the order and what its parcel must hold."""
    code = str(data.get("code", "")).strip()
    order = scanning.find_order_by_scan(code)
    pending = _unshipped_verified(request.user, but=order)
    if pending is not None:
        _refuse_next_parcel(pending, code)
    scanning.check_can_verify(order)
    items = selectors.expected_items(order)
    if order.status == Order.Status.VERIFIED:
        scanned = {e["code"]: e["expected"] for e in items}
    else:
        session, created = ScanSession.objects.get_or_create(order=order, user=request.user)
        if not created and order.printed_at and session.updated_at < order.printed_at:
            # Scanned before the waybill was cancelled and printed again: start afresh.
            session.scanned = {}
            session.save(update_fields=["scanned", "updated_at"])
        scanned = session.scanned  # a packer who comes back to a parcel goes on where they were
    return JsonResponse(_order_json(order, items, scanned))


@api("orders.verify_order")
def scan_item(request, data):
    """An item was scanned into the open order's parcel. The count so far is the server's
    (the request's ``scanned``, if any, is ignored)."""
    order = _order_from(data)
    code = str(data.get("code", "")).strip()
    if order.status == Order.Status.VERIFIED:
        return _after_verification(order, code)
    with transaction.atomic():
        # One scan at a time per parcel and packer: the row lock orders fast scans. The
        # session is opened with the waybill (open_order); made here only when it was not.
        mine = ScanSession.objects.select_for_update().filter(order=order, user=request.user)
        session = mine.first()
        if session is None:
            ScanSession.objects.get_or_create(order=order, user=request.user)
            session = mine.get()
        result = scanning.scan_item(
            order=order, scanned=session.scanned, code=code, actor=request.user, fresh=True
        )
        session.scanned = result["scanned"]
        session.save(update_fields=["scanned", "updated_at"])
    return JsonResponse(_order_json(result["order"], result["items"], result["scanned"]))


def _after_verification(order: Order, code: str):
    """A code scanned while the open parcel is verified: an extra item, or the next waybill."""
    items = selectors.expected_items(order)
    entry = next((e for e in items if code in (e["code"], e["product_code"])), None)
    if entry is not None:
        raise kernel.OrderError(
            "too_many",
            _("One item too many: order %(o)s is complete, leave this %(name)s out.")
            % {"o": order.order_no, "name": entry["name"]},
        )
    other = Order.objects.filter(Q(tracking_no=code) | Q(order_no=code)).exclude(pk=order.pk)
    if code and other.exists():
        _refuse_next_parcel(order, code)
    raise kernel.OrderError(
        "wrong_item",
        _("%(code)s is not in order %(o)s: take it out.") % {"code": code, "o": order.order_no},
    )


SHIP_ATTEMPTS = 3


@api("orders.ship_order")
def ship(request, data):
    def ship_once() -> Order:
        with transaction.atomic():  # one commit for the shipment and the scans it closes
            shipped = shipping.ship_order(order=_order_from(data), actor=request.user)
            ScanSession.objects.filter(order=shipped).delete()
        return shipped

    # PostgreSQL may abort a shipment for a deadlock with an intake batch locking the same
    # stock levels (the peak drill saw it at 50,000 orders): nothing of it was kept, so it is
    # run again here instead of answering the packer with a server error.
    order = retrying(ship_once, attempts=SHIP_ATTEMPTS)
    items = selectors.expected_items(order)
    return JsonResponse(_order_json(order, items, {e["code"]: e["expected"] for e in items}))
