"""The store's pages: the kiosk (a device, by its token) and the guide's counter page.

Views only parse the request and call ``stores.services``; a kiosk can browse its own store's
catalogue, price a cart and create unpaid orders, nothing else. The counter page is for
logged-in guides and managers of the store, on their own store's orders only.
"""

from __future__ import annotations

import json
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_GET, require_POST

from orders.models import Fulfilment, Order, Payment
from promotions.quote import Quote

from . import qr, selectors, services
from .services import StoreError

KIOSK_COOKIE = "tc_kiosk"
KIOSK_HEADER = "HTTP_X_KIOSK_TOKEN"


def _error(code: str, message: str, status: int = 409) -> JsonResponse:
    return JsonResponse({"ok": False, "error": {"code": code, "message": message}}, status=status)


# --- the kiosk ------------------------------------------------------------------------------


def kiosk(view=None, *, api: bool = False):
    """The request comes from an active device (its token in the cookie or the header)."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            token = request.META.get(KIOSK_HEADER) or request.COOKIES.get(KIOSK_COOKIE)
            device = services.device_for_token(token)
            if device is None:
                if api:
                    return _error("device", _("This device is not registered or was revoked."), 401)
                return render(request, "stores/kiosk_locked.html", status=403)
            request.device = device
            request.store = device.store
            return view(request, *args, **kwargs)

        return wrapper

    return decorate(view) if view else decorate


def _json_body(request) -> dict:
    try:
        data = json.loads(request.body or b"{}")
    except ValueError:
        raise StoreError("bad_request", _("The request is not valid JSON.")) from None
    if not isinstance(data, dict):
        raise StoreError("bad_request", _("The request is not valid JSON."))
    return data


@require_GET
def kiosk_start(request):
    """The link printed with a device's token: keep the token in a cookie, open the kiosk."""
    token = request.GET.get("token", "")
    if services.device_for_token(token) is None:
        return render(request, "stores/kiosk_locked.html", status=403)
    response = redirect("stores:kiosk")
    response.set_cookie(
        KIOSK_COOKIE,
        token,
        max_age=365 * 24 * 3600,
        httponly=True,
        samesite="Lax",
        secure=request.is_secure(),
    )
    return response


@require_GET
@ensure_csrf_cookie
@kiosk
def kiosk_home(request):
    query = request.GET.get("q", "").strip()[:64]
    try:
        page = max(1, int(request.GET.get("page", "1")))
    except ValueError:
        page = 1
    styles, more = selectors.catalogue(request.store, query=query, page=page)
    return render(
        request,
        "stores/kiosk.html",
        {
            "store": request.store,
            "device": request.device,
            "styles": styles,
            "query": query,
            "page": page,
            "more": more,
            "fulfilments": Fulfilment.choices,
            "unpaid_minutes": settings.STORE_UNPAID_MINUTES,
            "texts": {
                "store": _("in store"),
                "main": _("can send"),
                "less": _("one less"),
                "more": _("one more"),
                "was": _("list price"),
                "failed": _("The server did not answer; try again."),
            },
        },
    )


@require_GET
@kiosk(api=True)
def kiosk_scan(request):
    style = selectors.style_for_scan(request.store, request.GET.get("code", ""))
    if style is None:
        return _error("unknown", _("This tag is not in this store's catalogue."), 404)
    return JsonResponse({"ok": True, "style": style})


@require_GET
@kiosk(api=True)
def kiosk_style(request, style_code):
    grid = selectors.style_grid(request.store, style_code)
    if grid is None:
        return _error("unknown", _("This style is not in this store's catalogue."), 404)
    return JsonResponse({"ok": True, "grid": grid})


def _quote_payload(priced) -> dict:
    """A quote (or the one frozen on an order) for the kiosk: amounts, and the explanation in
    the page's language (each line's steps, the near misses, the red packet, the cash-back)."""
    from promotions.explain import cashback_text, near_miss_text, red_packet_text, step_text

    return {
        "lines": [
            {
                "code": line.product_code,
                "quantity": str(line.quantity.normalize()),
                "unit_price": str(line.unit_price),
                "list_amount": str(line.list_amount),
                "net_amount": str(line.net_amount),
                "steps": [step_text(step) for step in line.steps],
            }
            for line in priced.lines
        ],
        "list_total": str(priced.list_total),
        "total": str(priced.total),
        "near_misses": [
            {"label": n.label, "missing": str(n.missing), "text": near_miss_text(n)}
            for n in priced.near_misses
        ],
        "notes": [
            text
            for amount, text in (
                (priced.red_packet_spent, red_packet_text(priced.red_packet_spent)),
                (priced.cashback, cashback_text(priced.cashback)),
            )
            if amount > 0
        ],
    }


@require_POST
@kiosk(api=True)
def kiosk_quote(request):
    try:
        data = _json_body(request)
        items = services.parse_cart(data.get("lines"))
        priced = services.price_cart(
            store=request.store, items=items, member_phone=str(data.get("member_phone") or "")
        )
    except StoreError as exc:
        return _error(exc.code, exc.message, 400)
    return JsonResponse({"ok": True, "quote": _quote_payload(priced)})


@require_POST
@kiosk(api=True)
def kiosk_order(request):
    try:
        data = _json_body(request)
        order = services.place_order(
            store=request.store,
            lines=data.get("lines"),
            fulfilment=str(data.get("fulfilment") or ""),
            member_phone=str(data.get("member_phone") or ""),
            customer=data.get("customer") if isinstance(data.get("customer"), dict) else {},
            location=str(data.get("location") or ""),
            actor=f"kiosk:{request.device.pk}",
        )
    except StoreError as exc:
        return _error(exc.code, exc.message, 400 if exc.code != "short" else 409)
    return JsonResponse(
        {
            "ok": True,
            "order_no": order.order_no,
            "total": str(order.total_amount),
            "fulfilment": order.fulfilment,
            "pay_by": order.payment_due_at.isoformat(),
            "qr": qr.svg(order.order_no, label=order.order_no),
            # The quote frozen on the order, as the counter and the receipt will show it.
            "quote": _quote_payload(Quote.from_dict(order.quote)),
        }
    )


# --- the counter ----------------------------------------------------------------------------


def counter(view):
    """A logged-in guide or manager (``orders.add_payment``) of a store; ``request.store``."""

    @wraps(view)
    @login_required
    def wrapper(request, *args, **kwargs):
        if not request.user.has_perm("orders.add_payment"):
            return render(request, "stores/counter_forbidden.html", status=403)
        code = request.GET.get("store") or request.session.get("store_code")
        store = selectors.store_for_user(request.user, code) or selectors.store_for_user(
            request.user
        )
        if store is None:
            return render(request, "stores/counter_forbidden.html", status=403)
        request.session["store_code"] = store.code
        request.store = store
        return view(request, *args, **kwargs)

    return wrapper


def _store_order(request, order_no) -> Order:
    order = selectors.store_orders(request.store).filter(order_no=order_no).first()
    if order is None:
        raise Http404(_("Order not found."))
    return order


@require_GET
@counter
def counter_home(request):
    code = request.GET.get("open", "").strip()
    if code:
        order = selectors.find_store_order(request.store, code)
        if order is not None:
            return redirect("stores:counter_order", order_no=order.order_no)
        messages.error(request, _("No order of this store has this number or code."))
    return render(
        request,
        "stores/counter.html",
        {
            "store": request.store,
            "lists": selectors.counter_lists(request.store),
            "stores": selectors.stores_for_user(request.user),
        },
    )


@require_GET
@counter
def counter_orders(request):
    """Every order of the store, newest first; by fulfilment and status."""
    from django.core.paginator import Paginator

    orders = selectors.store_orders(request.store)
    fulfilment = request.GET.get("fulfilment", "")
    status = request.GET.get("status", "")
    if fulfilment in Fulfilment.values:
        orders = orders.filter(fulfilment=fulfilment)
    if status in Order.Status.values:
        orders = orders.filter(status=status)
    page = Paginator(orders, 50).get_page(request.GET.get("page"))
    return render(
        request,
        "stores/counter_orders.html",
        {
            "store": request.store,
            "page": page,
            "fulfilments": Fulfilment.choices,
            "statuses": Order.Status.choices,
            "fulfilment": fulfilment,
            "status": status,
        },
    )


@require_GET
@counter
def counter_order(request, order_no):
    order = _store_order(request, order_no)
    paid = services.amount_paid(order)
    return render(
        request,
        "stores/counter_order.html",
        {
            "store": request.store,
            "order": order,
            "lines": list(order.lines.all()),
            "payments": list(order.payments.all()),
            "paid": paid,
            "due": order.total_amount - paid,
            "methods": Payment.Method.choices,
            "qr": qr.svg(order.order_no, label=order.order_no, size=160),
            "can_unlock": request.user.has_perm("stores.manage_kioskdevice"),
            "in_store": services.reserved_in_store(order),
            "red_packets": services.member_red_packets(order),
        },
    )


ACTIONS = {"pay", "guide", "handover", "verify", "arrived", "unlock", "return", "redpacket"}


def _return_lines(order, post) -> list:
    lines = []
    for line in order.lines.all():
        quantity = post.get(f"qty_{line.pk}", "").strip()
        if quantity and quantity != "0":
            lines.append((line, quantity))
    if not lines:
        raise StoreError("empty", _("Enter the quantity returned of at least one line."))
    return lines


@require_POST
@counter
def counter_action(request, order_no, action):
    if action not in ACTIONS:
        raise Http404
    order = _store_order(request, order_no)
    store, user, post = request.store, request.user, request.POST
    try:
        if action == "pay":
            services.take_payment(
                order=order,
                store=store,
                method=post.get("method", ""),
                amount=post.get("amount", ""),
                reference=post.get("reference", ""),
                actor=user,
            )
            messages.success(request, _("Payment recorded."))
        elif action == "guide":
            services.attach_guide(order=order, store=store, actor=user)
            messages.success(request, _("You are this order's guide."))
        elif action == "handover":
            services.hand_over(order=order, store=store, actor=user)
            messages.success(request, _("Handed over."))
        elif action == "verify":
            services.verify_pickup(
                order=order,
                store=store,
                code=post.get("code", ""),
                phone_last4=post.get("phone_last4", ""),
                actor=user,
            )
            messages.success(request, _("Code correct: handed over."))
        elif action == "arrived":
            services.receive_pickup_parcel(order=order, store=store, actor=user)
            messages.success(request, _("Ready for pick-up."))
        elif action == "redpacket":
            services.spend_red_packet(order=order, store=store, ref=post.get("ref", ""), actor=user)
            messages.success(request, _("Red packet spent: the amount to pay is lower."))
        elif action == "return":
            lines = _return_lines(order, post)
            if not post.get("reason", "").strip():
                raise StoreError("no_reason", _("Give the reason for the return."))
            if post.get("confirm") != "1":
                # First the guide sees what will be refunded and taken back, then confirms.
                preview = services.preview_store_return(store=store, order=order, lines=lines)
                return render(
                    request,
                    "stores/counter_return_confirm.html",
                    {
                        "store": store,
                        "order": order,
                        "preview": preview,
                        "reason": post.get("reason", ""),
                    },
                )
            ro = services.create_store_return(
                store=store,
                order=order,
                lines=lines,
                reason=post.get("reason", ""),
                actor=user,
                expected_refund=post.get("expected_refund", ""),
            )
            messages.success(
                request,
                _("Return order %(no)s created: after-sales review next.") % {"no": ro.return_no},
            )
        elif action == "unlock":
            if not user.has_perm("stores.manage_kioskdevice"):
                raise StoreError("forbidden", _("Only the store manager unlocks an order."))
            services.unlock_pickup(order=order, store=store, actor=user)
            messages.success(request, _("Unlocked."))
    except StoreError as exc:
        messages.error(request, exc.message)
    return redirect(reverse("stores:counter_order", kwargs={"order_no": order.order_no}))


@require_GET
@counter
def counter_receipt(request, order_no):
    from .pdf.receipt import receipt_pdf

    order = _store_order(request, order_no)
    response = HttpResponse(receipt_pdf(order, request.store), content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="receipt-{order.order_no}.pdf"'
    return response


@counter
def counter_return(request, return_no):
    """An approved return of the store: receive its goods into the store, main or defective."""
    ro = selectors.store_returns(request.store).filter(return_no=return_no).first()
    if ro is None:
        raise Http404(_("Return order not found."))
    if request.method == "POST":
        try:
            services.receive_store_return(
                store=request.store,
                return_order=ro,
                actor=request.user,
                into=request.POST.get("into", ""),
            )
            messages.success(request, _("Returned goods received."))
        except StoreError as exc:
            messages.error(request, exc.message)
        return redirect("stores:counter_return", return_no=ro.return_no)
    return render(
        request,
        "stores/counter_return.html",
        {"store": request.store, "ro": ro, "lines": list(ro.lines.select_related("order_line"))},
    )
