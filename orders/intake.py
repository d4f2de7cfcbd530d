"""The one entry point through which orders arrive, from any source (file, platform connector).

Sources turn what they read into ``NormalizedOrder`` values of ONE shop and call
``intake_orders``. It is idempotent: unique per (shop, platform order number); a newer platform
modification time updates an order, an older or equal one is ignored; nothing is duplicated.
Implemented by the orders issue; connectors only build NormalizedOrder values and call it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db import connection, transaction
from django.utils import timezone


@dataclass
class NormalizedLine:
    platform_sku: str
    quantity: Decimal
    unit_price: Decimal
    amount: Decimal | None = None  # defaults to quantity × unit_price
    platform_line_id: str = ""
    title: str = ""
    refund_status: str = ""  # the platform's own refund state of this line, if any


@dataclass
class NormalizedOrder:
    platform_order_no: str
    receiver_name: str
    receiver_phone: str
    province: str
    city: str
    address: str
    lines: list[NormalizedLine]
    paid_at: datetime | None = None
    district: str = ""
    buyer_nick: str = ""
    buyer_remark: str = ""
    seller_remark: str = ""
    shipping_fee: Decimal = Decimal("0")
    discount_amount: Decimal = Decimal("0")
    total_amount: Decimal | None = None  # defaults to the lines' sum + shipping − discount
    platform_created_at: datetime | None = None
    platform_modified_at: datetime | None = None
    platform_status: str = ""
    # What the platform says happened after payment: "" (nothing), "cancelled" (closed by the
    # platform), "refund_requested" (the buyer asked for a refund). Before shipping this holds
    # the order (拦截); after shipping it marks the order for after-sales.
    platform_change: str = ""
    raw: dict = field(default_factory=dict)


@dataclass
class IntakeResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0  # same or older modification time
    held: int = 0
    order_ids: list[int] = field(default_factory=list)


# --- the intake service ----------------------------------------------------------------------

CHUNK = 2000
Q2 = Decimal("0.01")
Q4 = Decimal("0.0001")
CHANGES = {"", "cancelled", "refund_requested"}
# Platform data an update may change on an order that still waits for review.
HEADER_FIELDS = [
    "buyer_nick",
    "receiver_name",
    "receiver_phone",
    "province",
    "city",
    "district",
    "address",
    "buyer_remark",
    "seller_remark",
    "goods_amount",
    "shipping_fee",
    "discount_amount",
    "total_amount",
    "paid_at",
    "platform_created_at",
]


class IntakeError(ValueError):
    """Orders that cannot be taken in; nothing was written. ``problems``: one line each."""

    def __init__(self, problems: list[str]):
        self.problems = problems
        super().__init__("; ".join(problems))


def _validate(orders: list[NormalizedOrder]) -> None:
    problems = []
    for o in orders:
        no = (o.platform_order_no or "").strip()
        if not no:
            problems.append("an order has no platform order number")
            continue
        if not o.lines:
            problems.append(f"{no}: no lines")
        if o.platform_change not in CHANGES:
            problems.append(f"{no}: unknown platform change {o.platform_change!r}")
        for i, line in enumerate(o.lines, 1):
            if not (line.platform_sku or "").strip():
                problems.append(f"{no} line {i}: no platform SKU")
            for name in ("quantity", "unit_price"):
                value = getattr(line, name)
                if not isinstance(value, Decimal):
                    problems.append(f"{no} line {i}: {name} must be a Decimal")
            if isinstance(line.quantity, Decimal) and line.quantity <= 0:
                problems.append(f"{no} line {i}: quantity must be positive")
            if isinstance(line.unit_price, Decimal) and line.unit_price < 0:
                problems.append(f"{no} line {i}: unit price must not be negative")
        for name in ("paid_at", "platform_created_at", "platform_modified_at"):
            value = getattr(o, name)
            if value is not None and value.tzinfo is None:
                problems.append(f"{no}: {name} has no time zone")
    if problems:
        raise IntakeError(problems)


def _newest_per_order(orders: list[NormalizedOrder]) -> list[NormalizedOrder]:
    """One value per platform order number: the newest modification (the later one on a tie)."""
    latest: dict[str, NormalizedOrder] = {}
    for o in orders:
        key = o.platform_order_no.strip()
        seen = latest.get(key)
        if (
            seen is None
            or seen.platform_modified_at is None
            or (
                o.platform_modified_at is not None
                and o.platform_modified_at >= seen.platform_modified_at
            )
        ):
            latest[key] = o
    return list(latest.values())


def _amounts(o: NormalizedOrder) -> dict:
    goods = sum(
        (
            (line.amount if line.amount is not None else line.quantity * line.unit_price)
            for line in o.lines
        ),
        Decimal("0"),
    ).quantize(Q2)
    total = o.total_amount
    if total is None:
        total = goods + o.shipping_fee - o.discount_amount
    return {
        "goods_amount": goods,
        "shipping_fee": o.shipping_fee.quantize(Q2),
        "discount_amount": o.discount_amount.quantize(Q2),
        "total_amount": Decimal(total).quantize(Q2),
    }


def _header(o: NormalizedOrder) -> dict:
    return {
        "buyer_nick": o.buyer_nick.strip()[:100],
        "receiver_name": o.receiver_name.strip()[:100],
        "receiver_phone": o.receiver_phone.strip()[:40],
        "province": o.province.strip()[:32],
        "city": o.city.strip()[:32],
        "district": o.district.strip()[:32],
        "address": o.address.strip()[:255],
        "buyer_remark": o.buyer_remark.strip(),
        "seller_remark": o.seller_remark.strip(),
        "paid_at": o.paid_at,
        "platform_created_at": o.platform_created_at,
        **_amounts(o),
    }


def address_complete(values) -> bool:
    get = values.get if isinstance(values, dict) else lambda k: getattr(values, k)
    return all(
        (get(k) or "").strip()
        for k in ("receiver_name", "receiver_phone", "province", "city", "address")
    )


def _jsonable(value):
    if isinstance(value, Decimal | datetime):
        return str(value)
    return value


def intake_orders(*, shop, orders, actor=None) -> IntakeResult:
    """Take in normalized orders of one shop: create new ones, update newer ones, skip the rest.

    New orders are mapped through the shop's SKU relation table, then stock is reserved for
    them oldest paid first (all of an order or nothing: else it is held "stock short"), then
    the shop's automatic review rules apply. Everything runs in one transaction; the sellable
    quantities are recomputed once, when it commits. Raises IntakeError (writing nothing) on
    invalid input. Safe to run concurrently: each platform order is locked while taken in.
    """
    from inventory import services as stock

    orders = list(orders)
    _validate(orders)
    orders = _newest_per_order(orders)
    result = IntakeResult()
    if actor is None:
        actor = "intake"
    with stock.coalesced_stock_signals(), transaction.atomic():
        _lock_platform_orders(shop, [o.platform_order_no.strip() for o in orders])
        to_allocate: list = []
        for start in range(0, len(orders), CHUNK):
            _intake_chunk(shop, orders[start : start + CHUNK], actor, result, to_allocate)
        _allocate_new(shop, to_allocate, actor, result)
    return result


def _lock_platform_orders(shop, numbers: list[str]) -> None:
    """Transaction-scoped advisory locks per (shop, platform order no.), taken in a fixed order.

    Two intakes of the same order (a file and a connector, two workers) serialize here, so
    the second one sees the first one's order and updates or skips it instead of duplicating.
    """
    if not numbers:
        return
    with connection.cursor() as cur:
        cur.execute(
            "SELECT count(pg_advisory_xact_lock(%s, h)) FROM ("
            " SELECT DISTINCT hashtext(n) AS h FROM unnest(%s::text[]) AS n ORDER BY 1) AS k",
            [int(shop.pk) % 2147483647, numbers],
        )


def _intake_chunk(shop, chunk, actor, result: IntakeResult, to_allocate: list) -> None:
    from orders.models import Order

    existing = {
        o.platform_order_no: o
        for o in Order.objects.filter(
            shop=shop,
            platform_order_no__in=[o.platform_order_no.strip() for o in chunk],
            split_from__isnull=True,
        )
    }
    new = []
    for o in chunk:
        current = existing.get(o.platform_order_no.strip())
        if current is None:
            new.append(o)
            continue
        if (
            o.platform_modified_at is None
            or current.platform_modified_at is not None
            and o.platform_modified_at <= current.platform_modified_at
        ):
            result.skipped += 1
            continue
        _update_order(shop, current, o, actor, result)
    if new:
        _create_orders(shop, new, actor, result, to_allocate)


def _mappings(shop, skus) -> dict[str, tuple[int, list[tuple[int, Decimal]]]]:
    """{platform_sku: (mapping_id, [(product_id, quantity per unit)])} for mapped SKUs."""
    from channels.models import SkuComponent

    found: dict[str, tuple[int, list]] = {}
    rows = (
        SkuComponent.objects.filter(mapping__shop=shop, mapping__platform_sku__in=list(skus))
        .values_list("mapping__platform_sku", "mapping_id", "product_id", "quantity")
        .order_by("mapping_id", "product_id")
    )
    for sku, mapping_id, product_id, quantity in rows:
        found.setdefault(sku, (mapping_id, []))[1].append((product_id, quantity))
    return found


def _create_orders(shop, new, actor, result: IntakeResult, to_allocate: list) -> None:
    from orders.models import HoldReason, Order, OrderComponent, OrderEvent, OrderLine
    from orders.services.events import actor_fields
    from orders.services.holds import bulk_hold
    from orders.services.numbers import next_order_nos

    mappings = _mappings(shop, {line.platform_sku.strip() for o in new for line in o.lines})
    numbers = next_order_nos(len(new))
    objs = []
    for o, number in zip(new, numbers, strict=True):
        objs.append(
            Order(
                order_no=number,
                shop=shop,
                platform_order_no=o.platform_order_no.strip(),
                platform_modified_at=o.platform_modified_at,
                platform_status=o.platform_status[:64],
                raw=o.raw or {},
                **_header(o),
            )
        )
    Order.objects.bulk_create(objs, batch_size=1000)
    lines, line_specs = [], []
    for order, o in zip(objs, new, strict=True):
        for nl in o.lines:
            sku = nl.platform_sku.strip()
            mapped = mappings.get(sku)
            amount = nl.amount if nl.amount is not None else nl.quantity * nl.unit_price
            lines.append(
                OrderLine(
                    order=order,
                    platform_line_id=nl.platform_line_id[:64],
                    platform_sku=sku[:128],
                    title=nl.title[:255],
                    quantity=nl.quantity.quantize(Q4),
                    unit_price=nl.unit_price.quantize(Q2),
                    amount=Decimal(amount).quantize(Q2),
                    mapping_id=mapped[0] if mapped else None,
                    refund_status=nl.refund_status[:32],
                )
            )
            line_specs.append(mapped)
    OrderLine.objects.bulk_create(lines, batch_size=2000)
    components = [
        OrderComponent(line=line, product_id=pid, quantity=(line.quantity * per).quantize(Q4))
        for line, mapped in zip(lines, line_specs, strict=True)
        if mapped
        for pid, per in mapped[1]
    ]
    OrderComponent.objects.bulk_create(components, batch_size=4000)

    unmapped: dict[int, list[str]] = {}
    for line, mapped in zip(lines, line_specs, strict=True):
        if not mapped:
            unmapped.setdefault(line.order.pk, []).append(line.platform_sku)
    events = [
        OrderEvent(
            order=order,
            kind="created",
            message=f"{o.platform_order_no} {len(o.lines)}",
            after={
                "order_no": order.order_no,
                "lines": len(o.lines),
                "total": str(order.total_amount),
            },
            **actor_fields(actor),
        )
        for order, o in zip(objs, new, strict=True)
    ]
    holds = []
    for order, o in zip(objs, new, strict=True):
        if order.pk in unmapped:
            holds.append((order, HoldReason.SKU_UNMAPPED.value, ", ".join(unmapped[order.pk])))
        if o.platform_change:
            holds.append((order, HoldReason.REFUND_REQUESTED.value, o.platform_change))
        if not address_complete(order):
            holds.append((order, HoldReason.ADDRESS_INCOMPLETE.value, ""))
    bulk_hold(holds=holds, actor=actor, events=events)
    OrderEvent.objects.bulk_create(events, batch_size=2000)
    blocked = {o.pk for o, reason, _n in holds if reason != HoldReason.ADDRESS_INCOMPLETE}
    to_allocate.extend(order for order in objs if order.pk not in blocked)
    result.created += len(objs)
    result.order_ids.extend(order.pk for order in objs)


def _allocate_new(shop, orders, actor, result: IntakeResult) -> None:
    """Reserve for the new orders oldest paid first; hold the short ones; then auto-review."""
    from orders.models import HoldReason, Order, OrderEvent
    from orders.services.allocation import order_needs, reserve_for_orders
    from orders.services.events import actor_fields
    from orders.services.holds import bulk_hold
    from orders.services.review import auto_review_new

    if orders:
        from inventory.services import main_warehouse_id

        orders.sort(key=lambda o: (o.paid_at is None, o.paid_at or 0, o.pk))
        needs = {}
        for start in range(0, len(orders), 5000):
            needs.update(order_needs([o.pk for o in orders[start : start + 5000]]))
        done, short = reserve_for_orders(orders, needs, main_warehouse_id())
        now = timezone.now()
        ids = [o.pk for o in done]
        for start in range(0, len(ids), 10000):
            Order.objects.filter(pk__in=ids[start : start + 10000]).update(allocated_at=now)
        events = []
        for o in done:
            o.allocated_at = now
            events.append(
                OrderEvent(
                    order=o,
                    kind="allocated",
                    after={"reserved": {str(p): str(q) for p, q in sorted(needs[o.pk].items())}},
                    **actor_fields(actor),
                )
            )
        bulk_hold(
            holds=[(o, HoldReason.STOCK_SHORT.value, "") for o in short], actor=actor, events=events
        )
        OrderEvent.objects.bulk_create(events, batch_size=2000)
        auto_review_new(shop=shop, orders=done)
    result.held = Order.objects.filter(pk__in=result.order_ids, on_hold=True).count()


def _update_order(shop, order, o: NormalizedOrder, actor, result: IntakeResult) -> None:
    """A newer platform version of an order we have: update it, or hold it, and say why."""
    from orders.models import HoldReason, Order
    from orders.services.events import record_event
    from orders.services.holds import hold_order

    order = Order.objects.select_for_update().get(pk=order.pk)
    before, after = {}, {}
    waiting = (
        order.status == Order.Status.PENDING_REVIEW
        and order.merged_into_id is None
        and not order.split_orders.exists()
    )
    fields = {
        "platform_modified_at": o.platform_modified_at,
        "platform_status": o.platform_status[:64],
    }
    if waiting:
        fields.update(_header(o))
    for name, value in fields.items():
        if getattr(order, name) != value:
            before[name] = _jsonable(getattr(order, name))
            after[name] = _jsonable(value)
            setattr(order, name, value)
    order.raw = o.raw or order.raw
    order.save()
    lines_changed = waiting and _replace_lines_if_changed(shop, order, o, actor)
    record_event(
        order=order, kind="platform_update", actor=actor, before=before or None, after=after or None
    )
    if o.platform_change:
        targets = [order, *order.split_orders.all()]
        if order.merged_into_id:
            targets.append(order.merged_into)
        for target in targets:
            if target.status == Order.Status.SHIPPED:
                if not target.after_sales_pending:
                    Order.objects.filter(pk=target.pk).update(
                        after_sales_pending=True, updated_at=timezone.now()
                    )
                    record_event(
                        order=target,
                        kind="after_sales",
                        actor=actor,
                        message=o.platform_change,
                        before={"after_sales_pending": False},
                        after={"after_sales_pending": True},
                    )
            elif target.status not in (Order.Status.CANCELLED, Order.Status.MERGED):
                hold_order(
                    order=target,
                    reason=HoldReason.REFUND_REQUESTED,
                    actor=actor,
                    note=o.platform_change,
                )
    if waiting and not o.platform_change:
        from orders.services.review import sync_address_hold

        sync_address_hold(order=order, actor=actor)
    if lines_changed:
        from orders.services.allocation import reallocate_order

        reallocate_order(order=order, actor=actor)
    result.updated += 1
    result.order_ids.append(order.pk)


def _replace_lines_if_changed(shop, order, o: NormalizedOrder, actor) -> bool:
    """The platform changed the order's lines: replace ours (mapping again). True if changed."""
    from orders.services.review import replace_lines

    ours = sorted((line.platform_sku, line.quantity) for line in order.lines.all())
    theirs = sorted((nl.platform_sku.strip(), nl.quantity.quantize(Q4)) for nl in o.lines)
    if ours == theirs:
        return False
    replace_lines(order=order, lines=o.lines, actor=actor)
    return True
