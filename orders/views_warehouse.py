"""The scan page (复核发货) for the warehouse role: HTML page plus small JSON views.

The page holds no rules of its own: every scan goes to a view here, which calls the
fulfilment services (the server checks each item and verifies the order).
"""

from __future__ import annotations

import json
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.http import JsonResponse
from django.shortcuts import render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from orders import selectors
from orders.models import Order
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


@api("orders.verify_order")
def open_order(request, data):
    """A tracking or order number was scanned: the order and what its parcel must hold."""
    order = scanning.find_order_by_scan(str(data.get("code", "")))
    scanning.check_can_verify(order)
    items = selectors.expected_items(order)
    scanned = {e["code"]: e["expected"] for e in items} if order.status == "verified" else {}
    return JsonResponse(_order_json(order, items, scanned))


@api("orders.verify_order")
def scan_item(request, data):
    """An item was scanned into the open order's parcel."""
    order = _order_from(data)
    scanned = data.get("scanned") or {}
    if not isinstance(scanned, dict):
        return _error("bad_request", _("The scan list is damaged; start again."), 400)
    result = scanning.scan_item(
        order=order, scanned=scanned, code=str(data.get("code", "")), actor=request.user
    )
    return JsonResponse(_order_json(result["order"], result["items"], result["scanned"]))


@api("orders.ship_order")
def ship(request, data):
    order = shipping.ship_order(order=_order_from(data), actor=request.user)
    items = selectors.expected_items(order)
    return JsonResponse(_order_json(order, items, {e["code"]: e["expected"] for e in items}))
