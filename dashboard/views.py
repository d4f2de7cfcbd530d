"""The home page (工作台) each person lands on after signing in: their role's work queues with
counts that link to the filtered lists, and charts of today where a glance beats reading.

It sits at the top of the layers and only reads, through the selectors of each app. Every count
is bounded (``core.counts``: "1000+") or served by a small index, so the page stays fast with a
million orders. A queue is shown only to people allowed to open the list it links to.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal

from django.contrib import admin
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from channels import selectors as channel_selectors
from channels.models import Shop
from core import clock
from core.counts import bounded_count
from erpbridge import selectors as erp_selectors
from orders import selectors as order_selectors
from orders.models import HoldReason, Order
from promotions import selectors as promotion_selectors
from returns import selectors as return_selectors
from stores import selectors as store_selectors


@dataclass(frozen=True)
class Queue:
    key: str
    label: str
    hint: str
    url: str
    perm: str
    count: object  # a callable returning a BoundedCount, or a ready value


def _changelist(model: str, **params) -> str:
    url = reverse(f"admin:{model}_changelist")
    if params:
        url += "?" + "&".join(f"{k}={v}" for k, v in params.items())
    return url


def _queues() -> dict[str, Queue]:
    s = Order.Status
    queues = [
        Queue(
            "to_review",
            _("to review"),
            _("in the review queue, not held"),
            _changelist("orders_reviewqueueorder", hold="none"),
            "orders.view_reviewqueueorder",
            lambda: bounded_count(order_selectors.to_review()),
        ),
        Queue(
            "stock_short",
            _("stock short"),
            _("held until stock arrives"),
            _changelist("orders_order", hold=HoldReason.STOCK_SHORT),
            "orders.view_order",
            lambda: bounded_count(order_selectors.held_for(HoldReason.STOCK_SHORT)),
        ),
        Queue(
            "unmapped",
            _("SKU not mapped"),
            _("held until the SKU relation table knows the SKU"),
            _changelist("orders_order", hold=HoldReason.SKU_UNMAPPED),
            "orders.view_order",
            lambda: bounded_count(order_selectors.held_for(HoldReason.SKU_UNMAPPED)),
        ),
        Queue(
            "to_print",
            _("to print"),
            _("reviewed, waybill not printed yet"),
            _changelist("orders_order", status__exact=s.REVIEWED, hold="none"),
            "orders.view_order",
            lambda: bounded_count(order_selectors.in_status(s.REVIEWED)),
        ),
        Queue(
            "open_waves",
            _("open waves"),
            _("waves whose waybills are not printed"),
            _changelist("orders_wave", status__exact="open"),
            "orders.view_wave",
            lambda: bounded_count(order_selectors.open_waves()),
        ),
        Queue(
            "to_verify",
            _("to verify"),
            _("printed, to scan on the scan page"),
            _changelist("orders_order", status__exact=s.PRINTED, hold="none"),
            "orders.view_order",
            lambda: bounded_count(order_selectors.in_status(s.PRINTED)),
        ),
        Queue(
            "to_hand_over",
            _("to hand over"),
            _("verified, not shipped yet"),
            _changelist("orders_order", status__exact=s.VERIFIED, hold="none"),
            "orders.view_order",
            lambda: bounded_count(order_selectors.in_status(s.VERIFIED)),
        ),
        Queue(
            "returns_to_approve",
            _("returns to approve"),
            _("submitted, waiting for an after-sales reviewer"),
            _changelist("returns_returnorder", status__exact="submitted"),
            "returns.view_returnorder",
            lambda: bounded_count(return_selectors.to_approve()),
        ),
        Queue(
            "returns_to_receive",
            _("returns to receive"),
            _("approved, goods on their way back"),
            _changelist(
                "returns_returnorder", status__exact="approved", kind__exact="return_goods"
            ),
            "returns.view_returnorder",
            lambda: bounded_count(return_selectors.to_receive()),
        ),
        Queue(
            "outbox_parked",
            _("outbox parked"),
            _("platform calls refused, waiting for a person"),
            _changelist("channels_outboxmessage", status__exact="parked"),
            "channels.view_outboxmessage",
            lambda: bounded_count(channel_selectors.parked_outbox()),
        ),
        Queue(
            "erp_batches",
            _("ERP batches waiting"),
            _("retail batches the ERP has not acknowledged"),
            _changelist("erpbridge_retailbatch"),
            "erpbridge.view_retailbatch",
            lambda: bounded_count(erp_selectors.batches_waiting()),
        ),
    ]
    return {q.key: q for q in queues}


# Each role: its title, its queues and its charts, in the order the person works.
ROLES = [
    (
        "warehouse",
        _("Warehouse"),
        ["to_print", "open_waves", "to_verify", "to_hand_over", "outbox_parked"],
        ["shipped_per_hour", "stock_short_products"],
    ),
    (
        "reviewer",
        _("Review"),
        ["to_review", "stock_short", "unmapped", "outbox_parked"],
        ["orders_per_hour", "review_age", "stock_short_products"],
    ),
    ("after_sales", _("After-sales"), ["returns_to_receive", "returns_to_approve"], []),
    ("after_sales_reviewer", _("After-sales review"), ["returns_to_approve"], []),
]
EVERYTHING = (
    [
        "to_review",
        "stock_short",
        "unmapped",
        "to_print",
        "open_waves",
        "to_verify",
        "to_hand_over",
        "returns_to_approve",
        "returns_to_receive",
        "outbox_parked",
        "erp_batches",
    ],
    ["orders_per_hour", "shipped_per_hour", "review_age", "stock_short_products"],
)
AGE_BANDS = [(0, 1), (1, 4), (4, 12), (12, 24), (24, 72), (72, None)]
PALETTE = ["#417690", "#e6a23c", "#67c23a", "#9b59b6", "#f56c6c", "#34495e", "#16a085", "#c0853f"]


def sections_for(user) -> list[dict]:
    """The sections of ``user``'s home page: one per role, or the overview for auditors and
    administrators (every queue they may open, and every chart)."""
    groups = set(user.groups.values_list("name", flat=True))
    if user.is_superuser or "auditor" in groups:
        title = _("Overview") if user.is_superuser else _("Audit overview")
        return [
            {"role": "overview", "title": title, "queues": EVERYTHING[0], "charts": EVERYTHING[1]}
        ]
    return [
        {"role": role, "title": title, "queues": queues, "charts": charts}
        for role, title, queues, charts in ROLES
        if role in groups
    ]


STORE_ROLES = ("store_guide", "store_manager")
# The counter page's lists, in the order a guide works through them.
STORE_QUEUES = [
    ("unpaid", _("waiting for payment"), _("placed on the kiosk or at the counter, not paid")),
    ("takeaway", _("to hand to the customer"), _("paid take-away orders")),
    ("ready", _("ready for pick-up"), _("waiting for the customer")),
    ("coming", _("pick-ups on their way"), _("paid, goods not in the store yet")),
    ("returns", _("returns to receive"), _("approved, to take back at the counter")),
]


def store_sections(user) -> list[dict]:
    """A guide's or manager's home: for each store they work in, the counter page's lists with
    their counts (linking to the counter page of that store), and for a manager the promotions
    waiting for approval."""
    groups = set(user.groups.values_list("name", flat=True))
    if user.is_superuser or not groups & set(STORE_ROLES):
        return []
    sections = []
    counter = reverse("stores:counter")
    for store in store_selectors.stores_for_user(user).order_by("shop__code"):
        counts = store_selectors.counter_counts(store)
        link = f"{counter}?store={store.code}"
        items = [
            {"queue": Queue(key, label, hint, link, "", None), "count": counts[key]}
            for key, label, hint in STORE_QUEUES
        ]
        sections.append(
            {"role": "store", "title": str(store), "counter": link, "items": items, "charts": []}
        )
    if "store_manager" in groups and user.has_perm("promotions.view_promotion"):
        drafts = Queue(
            "promotions_to_approve",
            _("promotions to approve"),
            _("made by a manager, waiting for another one"),
            _changelist("promotions_promotion", status__exact="draft"),
            "promotions.view_promotion",
            None,
        )
        count = bounded_count(promotion_selectors.drafts_to_approve_by(user))
        sections.append(
            {
                "role": "store_manager",
                "title": _("Store manager"),
                "items": [{"queue": drafts, "count": count}],
                "charts": [],
            }
        )
    return sections


def _hour_chart(rows, shops) -> dict:
    """Stacked bars, one per hour 0–23, a colour per shop, as coordinates for an inline SVG."""
    by_hour: dict[int, list] = {h: [] for h in range(24)}
    shop_ids = sorted({shop_id for _h, shop_id, _n in rows})
    colour = {sid: PALETTE[i % len(PALETTE)] for i, sid in enumerate(shop_ids)}
    for hour, shop_id, n in rows:
        by_hour[hour].append((shop_id, n))
    top = max([sum(n for _s, n in v) for v in by_hour.values()] + [1])
    height, bar, gap, base = 140, 20, 6, 150
    bars = []
    for hour in range(24):
        x = 30 + hour * (bar + gap)
        y = base
        segments = []
        for shop_id, n in by_hour[hour]:
            h = max(1, round(n * height / top))
            y -= h
            shop = shops.get(shop_id)
            segments.append({"y": y, "h": h, "n": n, "colour": colour[shop_id], "shop": shop})
        total = sum(n for _s, n in by_hour[hour])
        bars.append(
            {"hour": hour, "x": x, "w": bar, "segments": segments, "total": total, "label_y": y - 3}
        )
    return {
        "bars": bars,
        "top": top,
        "total": sum(n for _h, _s, n in rows),
        "legend": [{"shop": shops.get(sid), "colour": colour[sid]} for sid in shop_ids],
        "width": 30 + 24 * (bar + gap),
        "base": base,
    }


def _qty(value) -> str:
    return format(Decimal(value).normalize(), "f")


def _charts(keys, now) -> dict:
    tz = timezone.get_default_timezone()
    local = now.astimezone(tz)
    since = local.replace(hour=0, minute=0, second=0, microsecond=0)
    until = since + dt.timedelta(days=1)
    charts = {}
    shops = None
    for key in keys:
        if key in ("orders_per_hour", "shipped_per_hour"):
            field = "paid_at" if key == "orders_per_hour" else "shipped_at"
            rows = order_selectors.per_hour_by_shop(field, since, until)
            if shops is None:
                shops = Shop.objects.in_bulk()
            charts[key] = _hour_chart(rows, shops)
        elif key == "review_age":
            bands = order_selectors.review_queue_age(now, AGE_BANDS)
            top = max([c.value for _b, c in bands] + [1])
            charts[key] = [
                {"low": low, "high": high, "count": c, "width": round(c.value * 100 / top)}
                for (low, high), c in bands
            ]
        elif key == "stock_short_products":
            rows = order_selectors.stock_short_products()
            top = max([r["orders"] for r in rows] + [1])
            base = reverse("admin:orders_order_changelist")
            for r in rows:
                r["width"] = round(r["orders"] * 100 / top)
                # The orders it keeps waiting, and how much is missing (in its own unit).
                r["url"] = (
                    base
                    + "?"
                    + urlencode({"hold": HoldReason.STOCK_SHORT, "product": r["product"].code})
                )
                unit = r["product"].unit
                r["needed_text"] = f"{_qty(r['needed'])} {unit}".strip()
                r["available_text"] = f"{_qty(max(r['available'], 0))} {unit}".strip()
            charts[key] = rows
    return charts


def home(request):
    """工作台: the admin index with the person's work first and the list of apps below."""
    user = request.user
    now = clock.now()
    queues = _queues()
    sections = []
    chart_keys: list[str] = []
    for section in sections_for(user):
        items = []
        for key in section["queues"]:
            q = queues[key]
            if user.has_perm(q.perm):
                items.append({"queue": q, "count": q.count()})
        sections.append({**section, "items": items})
        chart_keys += [k for k in section["charts"] if k not in chart_keys]
    sections += store_sections(user)
    groups = set(user.groups.values_list("name", flat=True))
    show_erp = user.is_superuser or "auditor" in groups
    context = {
        **admin.site.each_context(request),
        "title": _("My work"),
        "subtitle": None,
        "app_list": admin.site.get_app_list(request),  # work first: dashboard/admin.py
        "sections": sections,
        "charts": _charts(chart_keys, now),
        "chart_keys": chart_keys,
        "scan_link": user.has_perm("orders.verify_order"),
        # After-sales staff start a return order from the order: its number, right here.
        "new_return": user.has_perm("returns.add_returnorder")
        and any(s["role"] in ("after_sales", "overview") for s in sections),
        "erp_last_contact": erp_selectors.last_contact() if show_erp else None,
        "show_erp": show_erp,
        "today": now.astimezone(timezone.get_default_timezone()).date(),
    }
    request.current_app = admin.site.name
    return TemplateResponse(request, "dashboard/home.html", context)
