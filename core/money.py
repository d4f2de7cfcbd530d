"""Money and quantities: Decimal, 2 places for money (CNY), 4 for quantities of goods.

``allocate`` is the one place where an amount is shared over several lines (an order discount
over the order's lines, a bundle's price over its components, a spend-and-save over the eligible
lines, a refund over what is returned). It uses the largest-remainder method, so the parts always
add up to the amount exactly, and it is deterministic: the same input gives the same parts.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
QTY_PLACES = Decimal("0.0001")
ZERO = Decimal("0.00")


def money(value) -> Decimal:
    """``value`` as money: a Decimal with 2 places, rounded half up."""
    return Decimal(value).quantize(CENT, rounding=ROUND_HALF_UP)


def quantity(value) -> Decimal:
    """``value`` as a quantity of goods: a Decimal with 4 places, rounded half up."""
    return Decimal(value).quantize(QTY_PLACES, rounding=ROUND_HALF_UP)


def allocate(amount: Decimal, weights: Sequence[Decimal], *, unit: Decimal = CENT) -> list[Decimal]:
    """Share ``amount`` over ``weights`` by largest remainder, in steps of ``unit``.

    Each part is first the floor of its exact share; the units left over go, one each, to the
    parts with the largest remainders (ties: the earlier part). Parts add up to ``amount``
    exactly. All-zero weights share equally. A negative amount is shared as its opposite and
    negated. Weights must not be negative.
    """
    amount = Decimal(amount).quantize(unit)
    if not weights:
        if amount:
            raise ValueError("cannot allocate a non-zero amount over no lines")
        return []
    if any(w < 0 for w in weights):
        raise ValueError("allocation weights must not be negative")
    if not amount:  # nothing to share (most orders: no order-level discount)
        return [Decimal(0).quantize(unit)] * len(weights)
    if amount < 0:
        return [-part for part in allocate(-amount, weights, unit=unit)]
    weights = [Decimal(w) for w in weights]
    total_weight = sum(weights)
    if total_weight == 0:
        weights = [Decimal(1)] * len(weights)
        total_weight = Decimal(len(weights))
    units = int(amount / unit)
    exact = [Decimal(units) * w / total_weight for w in weights]
    floors = [int(e.to_integral_value(rounding=ROUND_DOWN)) for e in exact]
    left = units - sum(floors)
    order = sorted(range(len(exact)), key=lambda i: (-(exact[i] - floors[i]), i))
    for i in order[:left]:
        floors[i] += 1
    return [(Decimal(n) * unit).quantize(unit) for n in floors]
