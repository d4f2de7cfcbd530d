"""An order's amounts, and its order-level discount spread over its lines.

Invariant: an order's ``discount_amount`` is the sum of its lines' ``discount`` shares, each
share allocated by largest remainder over the lines' amounts (``core.money.allocate``, the one
allocation helper). So ``line.amount − line.discount`` is what the buyer paid for the line, the
lines add up exactly to what was paid for the goods, and the shares travel with the lines when
an order is split or merged (a split part, its ERP record and its returns get exactly their own
lines' share, never a cent more or less).
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from core.money import allocate, money

ZERO = Decimal("0.00")


def line_discounts(discount: Decimal, amounts: list[Decimal]) -> list[Decimal]:
    """``discount`` shared over lines of these amounts (a line of no amount gets none)."""
    if not amounts:
        return []
    return allocate(discount, [max(a, ZERO) for a in amounts])


def spread_discount(order) -> None:
    """Share the order's discount over its lines as they are now (after the platform or a
    reviewer changed them)."""
    from orders.models import OrderLine

    lines = list(order.lines.order_by("id"))
    for line, share in zip(
        lines, line_discounts(order.discount_amount, [ln.amount for ln in lines]), strict=True
    ):
        line.discount = share
    OrderLine.objects.bulk_update(lines, ["discount"])


def recompute_amounts(order, *, discount_from_lines: bool = False) -> None:
    """Goods and total from the lines; with ``discount_from_lines`` the order's discount
    becomes the sum of its lines' shares (split and merge: the shares moved with the lines)."""
    fields = ["goods_amount", "total_amount", "updated_at"]
    sums = order.lines.aggregate(goods=Sum("amount"), discount=Sum("discount"))
    if discount_from_lines:
        order.discount_amount = money(sums["discount"] or ZERO)
        fields.append("discount_amount")
    goods = sums["goods"] or ZERO
    order.goods_amount = money(goods)
    order.total_amount = money(goods + order.shipping_fee - order.discount_amount)
    order.save(update_fields=fields)
