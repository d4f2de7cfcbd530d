"""The one entry point through which orders arrive, from any source (file, platform connector).

Sources turn what they read into ``NormalizedOrder`` values of ONE shop and call
``intake_orders``. It is idempotent: unique per (shop, platform order number); a newer platform
modification time updates an order, an older or equal one is ignored; nothing is duplicated.
Implemented by the orders issue; connectors only build NormalizedOrder values and call it.
"""

from __future__ import annotations

import gc
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import NamedTuple

from django.db import connection, transaction
from django.utils import timezone

from channels.types import NormalizedOrder
from core.db import retrying


@dataclass
class IntakeResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0  # same or older modification time
    held: int = 0
    order_ids: list[int] = field(default_factory=list)
    stock_short: list[int] = field(default_factory=list)  # created, held "stock short"
    # The platform order numbers THIS intake created and updated (decided under the per-order
    # locks, so a concurrent intake of the same orders never reports them too).
    created_numbers: set[str] = field(default_factory=set)
    updated_numbers: set[str] = field(default_factory=set)


# --- the intake service ----------------------------------------------------------------------

CHUNK = 20000
INTAKE_ATTEMPTS = 3
Q2 = Decimal("0.01")
Q4 = Decimal("0.0001")
CHANGES = {"", "cancelled", "refund_requested", "ship_forbidden"}
SHIP_FORBIDDEN = "ship_forbidden"


def _change_hold(change: str):
    """The hold a platform change puts on an order not shipped yet."""
    from orders.models import HoldReason

    return HoldReason.SHIP_FORBIDDEN if change == SHIP_FORBIDDEN else HoldReason.REFUND_REQUESTED


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
        "receiver_oaid": o.receiver_oaid.strip()[:128],
        "buyer_remark": o.buyer_remark.strip(),
        "seller_remark": o.seller_remark.strip(),
        "paid_at": o.paid_at,
        "platform_created_at": o.platform_created_at,
        **_amounts(o),
    }


def _jsonable(value):
    if isinstance(value, Decimal | datetime):
        return str(value)
    return value


def intake_orders(
    *,
    shop,
    orders,
    actor=None,
    warehouse_id: int | None = None,
    fields: dict | None = None,
    holds: list | None = None,
) -> IntakeResult:
    """Take in normalized orders of one shop: create new ones, update newer ones, skip the rest.

    New orders are mapped through the shop's SKU relation table, then stock is reserved for
    them oldest paid first (all of an order or nothing: else it is held "stock short"), then
    the shop's automatic review rules apply. Everything runs in one transaction; the sellable
    quantities are recomputed once, when it commits. Raises IntakeError (writing nothing) on
    invalid input. Safe to run concurrently: each platform order is locked while taken in.

    For the orders a store places (stores/services.py), the same path with three extras: the
    new orders reserve in ``warehouse_id`` (default: the main warehouse), take the extra Order
    columns ``fields`` (fulfilment, quote, pay-by time…) and start with the extra ``holds``
    ([(HoldReason, note)], e.g. awaiting payment).
    """

    orders = list(orders)
    _validate(orders)
    orders = _newest_per_order(orders)
    if actor is None:
        actor = "intake"
    placement = _Placement(warehouse_id, fields or {}, list(holds or []))
    if connection.in_atomic_block:  # the caller's transaction: it decides about retrying
        return _intake(shop, orders, actor, placement)
    # Two intakes that lock stock levels in different orders may deadlock; PostgreSQL aborts
    # one. Intake is idempotent, so that one simply runs again.
    return retrying(
        lambda: _intake(shop, orders, actor, placement), attempts=INTAKE_ATTEMPTS, pause=0.05
    )


class _Placement(NamedTuple):
    warehouse_id: int | None
    fields: dict
    holds: list


def _intake(shop, orders: list[NormalizedOrder], actor, placement: _Placement) -> IntakeResult:
    from inventory import services as stock

    result = IntakeResult()
    with stock.coalesced_stock_signals(), transaction.atomic():
        _lock_platform_orders(shop, [o.platform_order_no.strip() for o in orders])
        existing = _existing(shop, [o.platform_order_no.strip() for o in orders])
        new = []
        for o in orders:
            current = existing.get(o.platform_order_no.strip())
            if current is None:
                new.append(o)
            elif o.platform_modified_at is None or (
                current.platform_modified_at is not None
                and o.platform_modified_at <= current.platform_modified_at
            ):
                result.skipped += 1
            else:
                _update_order(shop, current, o, actor, result)
        if new:
            with _collector_paused():
                _create_orders(shop, new, actor, result, placement)
    return result


@contextmanager
def _collector_paused():
    """The cyclic garbage collector waits while a batch's rows are made: they are many small
    objects that all live until the batch is written (each collection would walk them again
    for nothing); reference counting still frees what dies. Taken up again afterwards."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


class _Known(NamedTuple):
    """An order we already have: just what deciding update-or-skip needs."""

    pk: int
    platform_modified_at: datetime | None


def _existing(shop, numbers: list[str]) -> dict[str, _Known]:
    """{platform order no.: (id, modification time)} of the ones we already have.

    Plain rows, not model instances: on a re-import every order is known, and building
    100,000 Order objects was most of the time of the second pass."""
    found = {}
    with connection.cursor() as cur:
        for start in range(0, len(numbers), CHUNK):
            # = ANY(array): one parameter, however many numbers (an IN list costs per element).
            cur.execute(
                "SELECT platform_order_no, id, platform_modified_at FROM orders_order "
                "WHERE shop_id = %s AND split_from_id IS NULL AND platform_order_no = ANY(%s)",
                [shop.pk, numbers[start : start + CHUNK]],
            )
            for number, pk, modified_at in cur.fetchall():
                found[number] = _Known(pk, modified_at)
    return found


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


# The columns of the line and component rows _create_orders makes (tuples, in this order).
LINE_COLUMNS = [
    "id",
    "order_id",
    "platform_line_id",
    "platform_sku",
    "title",
    "quantity",
    "unit_price",
    "amount",
    "discount",
    "mapping_id",
    "refund_status",
]
COMPONENT_COLUMNS = ["line_id", "order_id", "product_id", "quantity"]
NO_DISCOUNT = Decimal("0.00")


def _create_orders(
    shop,
    new: list[NormalizedOrder],
    actor,
    result: IntakeResult,
    placement: _Placement | None = None,
) -> None:
    """Create the new orders in bulk: map, reserve oldest paid first, hold, auto-review, COPY."""
    from inventory import services as stock
    from orders.models import HoldReason, Order, OrderComponent, OrderEvent, OrderHold, OrderLine
    from orders.services.amounts import line_discounts
    from orders.services.autoreview import address_complete, auto_review_approves
    from orders.services.bulk import copy_insert, copy_tuples, next_ids
    from orders.services.events import actor_fields
    from orders.services.numbers import next_order_nos

    placement = placement or _Placement(None, {}, [])
    new.sort(key=lambda o: (o.paid_at is None, o.paid_at or timezone.now(), o.platform_order_no))
    mappings = _mappings(shop, {line.platform_sku.strip() for o in new for line in o.lines})
    order_ids = next_ids(Order, len(new))
    numbers = next_order_nos(len(new))
    line_ids = next_ids(OrderLine, sum(len(o.lines) for o in new))
    who = actor_fields(actor)
    user_id = who["actor"].pk if who["actor"] is not None else None
    now = timezone.now()

    order_rows, comp_rows, hold_rows, event_rows = [], [], [], []
    needs: dict[int, dict[int, Decimal]] = {}
    unmapped: dict[int, list[str]] = {}
    line_iter = iter(line_ids)

    def lines():
        """Every order's row, components and need are made here, as its lines are handed to
        the lines' COPY: the server takes in the lines sent while the next orders are made.
        (The orders' own rows follow once the stock is reserved; the foreign keys are
        checked at commit.)"""
        for o, order_id, number in zip(new, order_ids, numbers, strict=True):
            row = {
                "id": order_id,
                "order_no": number,
                "shop_id": shop.pk,
                "platform_order_no": o.platform_order_no.strip(),
                "platform_modified_at": o.platform_modified_at,
                "platform_status": o.platform_status[:64],
                "raw": o.raw or {},
                "status": Order.Status.PENDING_REVIEW,
                **_header(o),
                **placement.fields,
            }
            need: dict[int, Decimal] = {}
            amounts = [
                nl.amount if nl.amount is not None else nl.quantity * nl.unit_price
                for nl in o.lines
            ]
            if row["discount_amount"]:
                shares = line_discounts(row["discount_amount"], amounts)
            else:  # no order-level discount (most orders): every share is nothing
                shares = [NO_DISCOUNT] * len(amounts)
            for nl, share, amount in zip(o.lines, shares, amounts, strict=True):
                line_id = next(line_iter)
                sku = nl.platform_sku.strip()
                mapped = mappings.get(sku)
                quantity = nl.quantity.quantize(Q4)
                yield (
                    line_id,
                    order_id,
                    nl.platform_line_id[:64],
                    sku[:128],
                    nl.title[:255],
                    quantity,
                    nl.unit_price.quantize(Q2),
                    Decimal(amount).quantize(Q2),
                    share,
                    mapped[0] if mapped else None,
                    nl.refund_status[:32],
                )
                if not mapped:
                    unmapped.setdefault(order_id, []).append(sku)
                    continue
                for product_id, per in mapped[1]:
                    q = (quantity * per).quantize(Q4)
                    comp_rows.append((line_id, order_id, product_id, q))
                    need[product_id] = need.get(product_id, Decimal(0)) + q
            holds = list(placement.holds)
            if order_id in unmapped:
                holds.append((HoldReason.SKU_UNMAPPED, ", ".join(unmapped[order_id])[:255]))
            if o.platform_change:
                holds.append((_change_hold(o.platform_change), o.platform_change))
            if not address_complete(row):
                holds.append((HoldReason.ADDRESS_INCOMPLETE, ""))
            row["_holds"] = holds
            if not any(
                r in (HoldReason.SKU_UNMAPPED, HoldReason.REFUND_REQUESTED) for r, _n in holds
            ):
                needs[order_id] = need
            order_rows.append(row)

    copy_tuples(OrderLine, LINE_COLUMNS, lines())
    copy_tuples(OrderComponent, COMPONENT_COLUMNS, comp_rows)

    # Reserve oldest paid first (the list is sorted), each order all or nothing.
    short = set(
        stock.reserve_many(
            [(f"order:{oid}", list(need.items())) for oid, need in needs.items() if need],
            warehouse_id=placement.warehouse_id or stock.main_warehouse_id(),
            new_documents=True,  # the order ids were drawn from the sequence just now
        )
    )
    for row in order_rows:
        oid = row["id"]
        holds = row.pop("_holds")
        allocated = oid in needs and needs[oid] and f"order:{oid}" not in short
        if oid in needs and not allocated:
            holds.append((HoldReason.STOCK_SHORT, ""))
            result.stock_short.append(oid)
        row["allocated_at"] = now if allocated else None
        row["on_hold"] = bool(holds)
        after = {"order_no": row["order_no"], "total": str(row["total_amount"])}
        if allocated:
            after["reserved"] = {str(p): str(q) for p, q in sorted(needs[oid].items())}
        event_rows.append(
            {
                "order_id": oid,
                "kind": "created",
                "message": row["platform_order_no"],
                "after": after,
                **who,
            }
        )
        for reason, note in holds:
            hold_rows.append(
                {"order_id": oid, "reason": reason.value, "note": note, "created_by_id": user_id}
            )
            event_rows.append(
                {
                    "order_id": oid,
                    "kind": "hold",
                    "message": note,
                    "after": {"hold": reason.value, "label": str(reason.label)},
                    **who,
                }
            )
        if allocated and not holds and auto_review_approves(shop, row):
            row["status"] = Order.Status.REVIEWED
            row["reviewed_at"] = now
            event_rows.append(
                {
                    "order_id": oid,
                    "kind": "approved",
                    "message": "automatic review",
                    "before": {"status": Order.Status.PENDING_REVIEW},
                    "after": {"status": Order.Status.REVIEWED},
                    **actor_fields("auto_review"),
                }
            )
        if row["on_hold"]:
            result.held += 1
    for row in event_rows:
        row["actor_id"] = row.pop("actor").pk if row.get("actor") is not None else None
        row.pop("actor", None)

    copy_insert(Order, order_rows, with_id=True)
    copy_insert(OrderHold, hold_rows)
    copy_insert(OrderEvent, event_rows)
    result.created += len(order_rows)
    result.order_ids.extend(row["id"] for row in order_rows)
    result.created_numbers.update(row["platform_order_no"] for row in order_rows)


def _update_order(shop, order, o: NormalizedOrder, actor, result: IntakeResult) -> None:
    """A newer platform version of an order we have: update it, or hold it, and say why."""
    from orders.models import HoldReason, Order
    from orders.services.events import record_event
    from orders.services.holds import hold_order
    from orders.services.platform_changes import followed, keep_platform_values

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
    header = _header(o)
    fields.update(followed(order, header, waiting=waiting))
    for name, value in fields.items():
        if getattr(order, name) != value:
            before[name] = _jsonable(getattr(order, name))
            after[name] = _jsonable(value)
            setattr(order, name, value)
    order.raw = o.raw or order.raw
    order.save()
    keep_platform_values(order, header, actor, waiting=waiting)
    lines_changed = waiting and _replace_lines_if_changed(shop, order, o, actor)
    if waiting and not lines_changed and "discount_amount" in after:
        from orders.services.amounts import spread_discount

        spread_discount(order)
    record_event(
        order=order, kind="platform_update", actor=actor, before=before or None, after=after or None
    )
    if o.platform_change != SHIP_FORBIDDEN:
        from orders.services.holds import release_hold

        for target in [order, *order.split_orders.all()]:
            release_hold(
                order=target,
                reason=HoldReason.SHIP_FORBIDDEN,
                actor=actor,
                note=o.platform_status or "platform allows shipping",
            )
    if o.platform_change == SHIP_FORBIDDEN:
        for target in [order, *order.split_orders.all()]:
            if target.status not in (
                Order.Status.SHIPPED,
                Order.Status.CANCELLED,
                Order.Status.MERGED,
            ):
                hold_order(
                    order=target, reason=HoldReason.SHIP_FORBIDDEN, actor=actor, note=SHIP_FORBIDDEN
                )
    elif o.platform_change:
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
    result.updated_numbers.add(order.platform_order_no)


def _replace_lines_if_changed(shop, order, o: NormalizedOrder, actor) -> bool:
    """The platform changed the order's lines: replace ours (mapping again). True if changed."""
    from orders.services.review import replace_lines

    ours = sorted((line.platform_sku, line.quantity) for line in order.lines.all())
    theirs = sorted((nl.platform_sku.strip(), nl.quantity.quantize(Q4)) for nl in o.lines)
    if ours == theirs:
        return False
    replace_lines(order=order, lines=o.lines, actor=actor)
    return True
