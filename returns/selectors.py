"""Reads of after-sales orders for the services, the screens and the PDF."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import QuerySet, Sum

from inventory.models import Warehouse
from orders.models import Order, OrderComponent, OrderLine

from .models import ReturnLine, ReturnOrder, ReturnReceipt

ZERO = Decimal("0.0000")


def return_orders() -> QuerySet[ReturnOrder]:
    """Return orders with what the list screens show, newest first."""
    return ReturnOrder.objects.select_related(
        "order", "shop", "shop__platform", "created_by", "reviewed_by"
    )


def returned_quantities(
    order: Order, *, exclude_return_id: int | None = None
) -> dict[int, Decimal]:
    """{order_line_id: quantity} already taken by the order's return orders (rejected excluded)."""
    rows = (
        ReturnLine.objects.filter(order_line__order=order)
        .exclude(return_order__status=ReturnOrder.Status.REJECTED)
        .exclude(return_order_id=exclude_return_id)
        .values("order_line_id")
        .annotate(total=Sum("quantity"))
    )
    return {r["order_line_id"]: r["total"] for r in rows}


@dataclass
class ReturnableLine:
    line: OrderLine
    shipped: Decimal
    returned: Decimal

    @property
    def returnable(self) -> Decimal:
        return max(self.shipped - self.returned, ZERO)


def returnable_lines(order: Order) -> list[ReturnableLine]:
    """Each line of a shipped order with what was shipped, returned so far and still returnable."""
    returned = returned_quantities(order)
    return [
        ReturnableLine(line=line, shipped=line.quantity, returned=returned.get(line.id, ZERO))
        for line in order.lines.order_by("id")
    ]


def product_names_by_line(order: Order) -> dict[int, str]:
    """Line id → the names of the products it turns into ("保温杯 × 2, 茶叶")."""
    names: dict[int, list[str]] = defaultdict(list)
    for c in (
        OrderComponent.objects.filter(line__order=order)
        .select_related("product")
        .order_by("line_id", "product__code")
    ):
        q = c.quantity.normalize()
        names[c.line_id].append(c.product.name if q == 1 else f"{c.product.name} × {q}")
    return {line_id: ", ".join(v) for line_id, v in names.items()}


def refunded_amount(order: Order, *, exclude_return_id: int | None = None) -> Decimal:
    """The refund amounts of the order's return orders (rejected excluded)."""
    total = (
        ReturnOrder.objects.filter(order=order)
        .exclude(status=ReturnOrder.Status.REJECTED)
        .exclude(pk=exclude_return_id)
        .aggregate(total=Sum("refund_amount"))["total"]
    )
    return total or Decimal("0.00")


def received_quantities(return_order: ReturnOrder) -> dict[tuple[int, int], dict[str, Decimal]]:
    """{(return_line_id, product_id): {warehouse kind: quantity}} received so far."""
    rows = (
        ReturnReceipt.objects.filter(line__return_order=return_order)
        .values("line_id", "product_id", "warehouse__kind")
        .annotate(total=Sum("quantity"))
    )
    out: dict[tuple[int, int], dict[str, Decimal]] = defaultdict(dict)
    for r in rows:
        out[(r["line_id"], r["product_id"])][r["warehouse__kind"]] = r["total"]
    return dict(out)


def returned_components(returned: Decimal, order_line: OrderLine, component) -> Decimal:
    """How much of a component comes back when ``returned`` of the order line's units do.

    The intake stores a component's quantity for the WHOLE line (line quantity × quantity per
    unit), so the share of ``returned`` units is component quantity × returned / line quantity
    (never the component quantity × returned again).
    """
    if not order_line.quantity:
        return ZERO
    return (component.quantity * returned / order_line.quantity).quantize(Decimal("0.0001"))


@dataclass
class ReceivableItem:
    """One product of one return line: how much may come back, and where it went so far."""

    line: ReturnLine
    component: OrderComponent
    expected: Decimal  # the component's share of the returned quantity (returned_components)
    received_main: Decimal
    received_defective: Decimal

    @property
    def product(self):
        return self.component.product

    @property
    def received(self) -> Decimal:
        return self.received_main + self.received_defective

    @property
    def remaining(self) -> Decimal:
        return max(self.expected - self.received, ZERO)


def receivable_items(return_order: ReturnOrder) -> list[ReceivableItem]:
    """Every (return line, product) of the return order, in line then product order."""
    lines = list(
        return_order.lines.select_related("order_line").prefetch_related(
            "order_line__components__product"
        )
    )
    received = received_quantities(return_order)
    items = []
    for line in sorted(lines, key=lambda item: item.id):
        components = sorted(line.order_line.components.all(), key=lambda c: c.product_id)
        for comp in components:
            got = received.get((line.id, comp.product_id), {})
            items.append(
                ReceivableItem(
                    line=line,
                    component=comp,
                    expected=returned_components(line.quantity, line.order_line, comp),
                    received_main=got.get(Warehouse.Kind.MAIN, ZERO),
                    received_defective=got.get(Warehouse.Kind.DEFECTIVE, ZERO),
                )
            )
    return items


def receipts_of(return_order: ReturnOrder) -> QuerySet[ReturnReceipt]:
    return (
        ReturnReceipt.objects.filter(line__return_order=return_order)
        .select_related("product", "warehouse", "received_by", "line__order_line")
        .order_by("received_at", "id")
    )


def orders_by_number(number: str) -> list[Order]:
    """Orders by our order number, else by the platform's (a split order shares it)."""
    number = (number or "").strip()
    if not number:
        return []
    exact = list(Order.objects.filter(order_no=number).select_related("shop"))
    if exact:
        return exact
    return list(
        Order.objects.filter(platform_order_no=number).select_related("shop").order_by("id")
    )


def to_approve() -> QuerySet[ReturnOrder]:
    """Return orders waiting for an after-sales reviewer (index returnorder_status_created)."""
    return ReturnOrder.objects.filter(status=ReturnOrder.Status.SUBMITTED)


def to_receive() -> QuerySet[ReturnOrder]:
    """Approved returns whose goods are still to come back and be received."""
    return ReturnOrder.objects.filter(
        status=ReturnOrder.Status.APPROVED, kind=ReturnOrder.Kind.RETURN_GOODS
    )
