"""Reads for the review screens: the queue and one order's page."""

from __future__ import annotations

import math
from decimal import Decimal

from django.db.models import Case, Count, Exists, OuterRef, Prefetch, Q, Sum, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.cells import escape_row
from inventory.models import Reservation, StockLevel, Warehouse

from .models import Carrier, Order, OrderComponent, OrderEvent, OrderHold, OrderLine


def active_hold_reasons_subquery():
    """An array of the order's active hold reasons, for list screens (one row per order)."""
    from django.contrib.postgres.expressions import ArraySubquery

    return ArraySubquery(
        OrderHold.objects.filter(order=OuterRef("pk"), released_at__isnull=True)
        .order_by("reason")
        .values("reason")
    )


def active_hold_reasons(orders) -> list[str]:
    """The reasons some of ``orders`` are held for now, in the enum's order."""
    held = set(
        OrderHold.objects.filter(order__in=orders, released_at__isnull=True)
        .values_list("reason", flat=True)
        .distinct()
    )
    from .models import HoldReason

    return [r for r in HoldReason.values if r in held]


def review_queue():
    """Orders waiting for review (待审核), oldest paid first."""
    return Order.objects.filter(status=Order.Status.PENDING_REVIEW).order_by("paid_at", "id")


def with_hold_reason(qs, reason: str):
    return qs.filter(
        Exists(
            OrderHold.objects.filter(order=OuterRef("pk"), reason=reason, released_at__isnull=True)
        )
    )


def with_product(qs, product_id: int):
    return qs.filter(
        Exists(OrderComponent.objects.filter(order=OuterRef("pk"), product_id=product_id))
    )


def with_remark(qs, has: bool):
    cond = ~Q(buyer_remark="") | ~Q(seller_remark="")
    return qs.filter(cond) if has else qs.exclude(cond)


def search_orders(qs, term: str):
    """Exact search on platform order no., our order no., receiver, phone, tracking no.

    Exact matches use the plain indexes, so a search stays fast with millions of orders.
    """
    term = term.strip()
    if not term:
        return qs
    return qs.filter(
        Q(platform_order_no=term)
        | Q(order_no=term)
        | Q(receiver_name=term)
        | Q(receiver_phone=term)
        | Q(tracking_no=term)
    )


def order_detail(order: Order) -> dict:
    """Lines with their components and the stock of each component, holds and events."""
    main = Warehouse.objects.filter(kind=Warehouse.Kind.MAIN).first()
    components = list(
        OrderComponent.objects.filter(line__order=order)
        .select_related("product", "line")
        .order_by("line_id", "product__code")
    )
    product_ids = {c.product_id for c in components}
    levels = {
        lv.product_id: lv
        for lv in StockLevel.objects.filter(warehouse=main, product_id__in=product_ids)
    }
    reserved_here = {
        r.product_id: r.quantity for r in Reservation.objects.filter(document=order.document)
    }
    lines = []
    for line in order.lines.select_related("mapping").order_by("id"):
        comps = []
        for c in components:
            if c.line_id != line.pk:
                continue
            lv = levels.get(c.product_id)
            comps.append(
                {
                    "product": c.product,
                    "quantity": c.quantity,
                    "on_hand": lv.on_hand if lv else 0,
                    "reserved": lv.reserved if lv else 0,
                    "available": lv.available if lv else 0,
                    "reserved_for_order": reserved_here.get(c.product_id, 0),
                }
            )
        lines.append({"line": line, "components": comps})
    return {
        "lines": lines,
        "holds": [
            _with_note_text(hold)
            for hold in order.holds.select_related("created_by", "released_by").order_by(
                "-created_at"
            )
        ],
        "events": [
            {
                "event": e,
                "label": event_label(e.kind),
                "actor": actor_label(e),
                "message": note_in_words(e.message),
                "changes": describe_changes(e.before, e.after),
            }
            for e in OrderEvent.objects.filter(order=order)
            .select_related("actor")
            .order_by("created_at", "id")
        ],
        "split_orders": list(order.split_orders.all()),
        "merged_orders": list(order.merged_orders.all()),
    }


EVENT_LABELS = {
    "created": _("order received"),
    "platform_update": _("updated by the platform"),
    "allocated": _("stock reserved"),
    "deallocated": _("reservation released"),
    "hold": _("held"),
    "release": _("hold released"),
    "approved": _("approved"),
    "cancelled": _("cancelled"),
    "edited": _("receiver corrected"),
    "carrier_set": _("carrier set"),
    "lines_changed": _("lines changed"),
    "remapped": _("SKUs re-mapped"),
    "split": _("split"),
    "split_from": _("split off from"),
    "merged": _("merged in"),
    "merged_into": _("merged into"),
    "after_sales": _("after-sales pending"),
}


def event_label(kind: str) -> str:
    """How an event kind reads on the order page: the enum's label (OrderEvent.Kind)."""
    if kind in OrderEvent.Kind.values:
        return str(OrderEvent.Kind(kind).label)
    return str(EVENT_LABELS.get(kind, kind))


# What a platform says happened to an order (NormalizedOrder.platform_change), kept as the
# note of the hold or event it caused: in words on the order page.
PLATFORM_CHANGE_WORDS = {
    "refund_requested": _("the buyer asked the platform for a refund"),
    "ship_forbidden": _("the platform forbids shipping for now"),
    "cancelled": _("closed on the platform"),
}


def note_in_words(note: str) -> str:
    """A hold's or event's note; a platform's change code said in words."""
    return str(PLATFORM_CHANGE_WORDS.get(note, note))


def _with_note_text(hold):
    hold.note_text = note_in_words(hold.note)
    return hold


# Keys of an event's before/after that are not fields of Order ("label": the hold reason's
# label, written beside "hold" for the record; the reason says it already).
HIDDEN_CHANGE_KEYS = {"label"}
CHANGE_KEY_LABELS = {
    "hold": _("hold reason"),
    "scanned": _("scanned"),
    "lines": _("lines"),
    "holds": _("holds"),
    "reason": _("hold reason"),
    "reasons": _("hold reasons"),
    "number": _("tracking no."),
    "document": _("document"),
    "reprint": _("reprint"),
    "wave": _("wave"),
    "reserved": _("reserved"),
    "total": _("order total"),
}

# Who did it, when it was not a person (OrderEvent.actor_label of the system's actors).
SYSTEM_ACTORS = {
    "system": _("system"),
    "intake": _("order intake"),
    "allocation": _("automatic allocation"),
    "auto_review": _("automatic review"),
    "command": _("command line"),
    "platform": _("platform"),
}


def actor_label(event) -> str:
    """The person's user name, or the system actor in words."""
    if event.actor_id:
        return event.actor_label
    return str(SYSTEM_ACTORS.get(event.actor_label, event.actor_label))


def _number(value) -> str:
    """1.0000 → 1, 2.5000 → 2.5 (quantities are stored with 4 places)."""
    from decimal import Decimal, InvalidOperation

    try:
        return f"{Decimal(str(value)).normalize():f}"
    except (InvalidOperation, ValueError):
        return str(value)


def _change_value(key: str, value) -> str:
    """One before/after value in words: labels for statuses and reasons, local times, none."""
    import datetime as dt

    from django.utils import formats, timezone

    from .models import HoldReason

    if value is None or value == "" or value == [] or value == {}:
        return "—"
    if key == "status" and value in Order.Status.values:
        return str(Order.Status(value).label)
    if key == "document":
        from .models import PrintRecord

        if value in PrintRecord.Kind.values:
            return str(PrintRecord.Kind(value).label)
    if key in ("hold", "reason", "reasons", "holds"):
        values = value if isinstance(value, list) else [value]
        return "、".join(
            str(HoldReason(v).label) if v in HoldReason.values else str(v) for v in values
        )
    if isinstance(value, bool):
        return str(_("yes") if value else _("no"))
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] in "T ":
        try:
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
        if timezone.is_aware(moment):
            moment = timezone.localtime(moment)
        return formats.date_format(moment, "Y-m-d H:i:s")
    if isinstance(value, dict):
        return ", ".join(f"{k} × {_number(v)}" for k, v in value.items())
    if isinstance(value, list):
        return ", ".join(_change_value(key, v) for v in value)
    return str(value)


def describe_changes(before, after) -> list[str]:
    """An event's before/after as lines "field: before → after", in words (field names as
    the order page shows them, statuses as labels, times in Asia/Shanghai)."""
    before = before if isinstance(before, dict) else ({} if before is None else {"": before})
    after = after if isinstance(after, dict) else ({} if after is None else {"": after})
    fields = {f.name: f for f in Order._meta.get_fields() if hasattr(f, "verbose_name")}
    lines = []
    for key in list(dict.fromkeys([*before, *after])):
        if key in HIDDEN_CHANGE_KEYS:
            continue
        if key in fields:
            label = str(fields[key].verbose_name)
        else:
            label = str(CHANGE_KEY_LABELS.get(key, key))
        old, new = before.get(key), after.get(key)
        if key in before and key in after:
            text = f"{_change_value(key, old)} → {_change_value(key, new)}"
        elif key in after:
            text = _change_value(key, new)
        else:
            text = f"{_change_value(key, old)} → —"
        lines.append(f"{label}: {text}" if label else text)
    return lines


# --- the warehouse -----------------------------------------------------------------------

SHIPMENT_FILE_COLUMNS = [
    "platform_order_no",
    "order_no",
    "carrier_code",
    "carrier_name",
    "tracking_no",
    "shipped_at",
]


def wave_candidates(*, carrier: Carrier, shop=None, single_item_first: bool = True):
    """Reviewed, unheld orders in no wave, for this carrier (or none yet), oldest paid first."""
    qs = Order.objects.filter(
        status=Order.Status.REVIEWED, on_hold=False, wave_item__isnull=True
    ).filter(Q(carrier=carrier) | Q(carrier__isnull=True))
    if shop is not None:
        qs = qs.filter(shop=shop)
    order_by = ["paid_at", "pk"]
    if single_item_first:
        qs = qs.annotate(
            _lines=Count("lines", distinct=True), _qty=Sum("lines__quantity")
        ).annotate(_single=Case(When(_lines=1, _qty=1, then=1), default=0))
        order_by = ["-_single", *order_by]
    return qs.order_by(*order_by)


def orders_for_print(ids) -> list[Order]:
    """Orders with everything a document shows, loaded in a few queries, in the given order."""
    ids = list(ids)
    components = OrderComponent.objects.select_related("product").order_by("product__code")
    lines = OrderLine.objects.order_by("pk").prefetch_related(
        Prefetch("components", queryset=components)
    )
    found = {
        o.pk: o
        for o in Order.objects.filter(pk__in=ids)
        .select_related("shop", "carrier")
        .prefetch_related(Prefetch("lines", queryset=lines), "tracking_numbers")
    }
    return [found[i] for i in ids if i in found]


def expected_items(order: Order) -> list[dict]:
    """What the parcel must hold: one entry per product, with the scan code and the count.

    The scan code is the product's barcode (its product code when it has none); counts are
    whole pieces (a fractional component is rounded up to the pieces packed).
    """
    totals: dict[int, dict] = {}
    for component in OrderComponent.objects.filter(line__order=order).select_related("product"):
        product = component.product
        entry = totals.setdefault(
            product.pk,
            {
                "product_id": product.pk,
                "code": product.barcode or product.code,
                "product_code": product.code,
                "name": product.name,
                "spec": product.spec,
                "quantity": Decimal(0),
            },
        )
        entry["quantity"] += component.quantity
    items = sorted(totals.values(), key=lambda e: e["product_code"])
    for entry in items:
        entry["expected"] = int(math.ceil(entry.pop("quantity")))
    return items


def shipment_file(*, shop, shipped_from=None, shipped_to=None) -> bytes:
    """The tracking numbers of a shop's shipped orders as a CSV file (UTF-8 with BOM, so Excel
    opens it), for platforms that take shipments as an uploaded file. Times in Asia/Shanghai.
    """
    import csv
    import io

    qs = Order.objects.filter(shop=shop, status=Order.Status.SHIPPED).select_related("carrier")
    if shipped_from is not None:
        qs = qs.filter(shipped_at__gte=shipped_from)
    if shipped_to is not None:
        qs = qs.filter(shipped_at__lt=shipped_to)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SHIPMENT_FILE_COLUMNS)
    for order in qs.order_by("shipped_at", "pk").iterator():
        writer.writerow(
            escape_row(  # platform text is never run as a formula when the file is opened
                [
                    order.platform_order_no,
                    order.order_no,
                    order.carrier.code if order.carrier_id else "",
                    order.carrier.name if order.carrier_id else "",
                    order.tracking_no,
                    timezone.localtime(order.shipped_at).isoformat(timespec="seconds"),
                ]
            )
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")


def paid_for(line: OrderLine, quantity, *, returned_before=Decimal(0)) -> Decimal:
    """What the buyer paid for ``quantity`` of the line, after ``returned_before`` of it.

    The line's net amount (``net_amount``: order-level discounts allocated) is shared over its
    quantity by largest remainder (``core.money.allocate``), cumulatively: the parts of
    successive returns add up to exactly what the line was paid, never a cent more or less.
    """
    from core.money import allocate

    net = net_amount(line)
    total = line.quantity

    def up_to(q: Decimal) -> Decimal:
        q = min(max(Decimal(q), Decimal(0)), total)
        if q >= total:
            return net
        return allocate(net, [q, total - q])[0]

    return up_to(returned_before + Decimal(quantity)) - up_to(returned_before)


def net_amount(line: OrderLine) -> Decimal:
    """What the buyer paid for the whole line: its amount less its share of order discounts."""
    return line.amount - line.discount


# --- the home pages (工作台): work queues and today's charts --------------------------------
# Each queue is a queryset a bounded count (core.counts) runs over; each is served by an index
# (order_status_paid, order_queue, orderhold_active), so the home page stays fast with millions.


def to_review():
    """In the review queue and not held: a reviewer can act on these now."""
    return Order.objects.filter(status=Order.Status.PENDING_REVIEW, on_hold=False)


def held_for(reason: str):
    """Orders with an active hold of ``reason`` (a row of OrderHold each)."""
    return OrderHold.objects.filter(reason=reason, released_at__isnull=True)


def in_status(status: str):
    """Orders in a warehouse status that nothing holds (to print, to verify, to hand over)."""
    return Order.objects.filter(status=status, on_hold=False)


def open_waves():
    from .models import Wave

    return Wave.objects.filter(status=Wave.Status.OPEN)


def per_hour_by_shop(field: str, since, until) -> list[tuple]:
    """(hour in Asia/Shanghai, shop id, count) of orders whose ``field`` (paid_at or
    shipped_at) falls in [since, until); both columns carry a BRIN index (tiny, append-ordered)."""
    from django.db.models import Count
    from django.db.models.functions import TruncHour
    from django.utils import timezone

    tz = timezone.get_default_timezone()
    rows = (
        Order.objects.filter(**{f"{field}__gte": since, f"{field}__lt": until})
        .annotate(hour=TruncHour(field, tzinfo=tz))
        .values("hour", "shop_id")
        .annotate(n=Count("id"))
        .order_by("hour", "shop_id")
    )
    return [(r["hour"].astimezone(tz).hour, r["shop_id"], r["n"]) for r in rows]


def review_queue_age(now, bounds) -> list:
    """For each age band (hours, from, to) of the review queue, a bounded count of its orders
    (by paid time; one index range of order_queue per band)."""
    import datetime as dt

    from core.counts import bounded_count

    result = []
    for low, high in bounds:
        qs = Order.objects.filter(status=Order.Status.PENDING_REVIEW)
        qs = qs.filter(paid_at__lte=now - dt.timedelta(hours=low))
        if high is not None:
            qs = qs.filter(paid_at__gt=now - dt.timedelta(hours=high))
        result.append(((low, high), bounded_count(qs)))
    return result


def stock_short_products(limit: int = 10, orders_looked_at: int = 1000) -> list[dict]:
    """The products that keep the most stock-short orders waiting: orders held, quantity needed
    and what the main warehouse has available (the first ``orders_looked_at`` holds only).
    A product of those orders that the warehouse has enough of is not short and not listed
    (the order waits for another of its products)."""
    from django.db.models import Count, Sum

    from inventory.models import Product

    held = (
        OrderHold.objects.filter(reason="stock_short", released_at__isnull=True)
        .order_by("created_at")
        .values("order_id")[:orders_looked_at]
    )
    rows = list(
        OrderComponent.objects.filter(order_id__in=held)
        .values("product_id")
        .annotate(orders=Count("order_id", distinct=True), needed=Sum("quantity"))
        .order_by("-orders", "product_id")[: limit * 5]
    )
    products = Product.objects.in_bulk([r["product_id"] for r in rows])
    main = Warehouse.objects.filter(kind=Warehouse.Kind.MAIN).first()
    levels = {
        lv.product_id: lv
        for lv in StockLevel.objects.filter(warehouse=main, product_id__in=products)
    }
    out = []
    for r in rows:
        lv = levels.get(r["product_id"])
        available = lv.available if lv else 0
        if available >= r["needed"]:
            continue
        out.append(
            {
                "product": products[r["product_id"]],
                "orders": r["orders"],
                "needed": r["needed"],
                "available": available,
            }
        )
    return out[:limit]
