"""The pricing seam: what a cart costs, line by line, and why.

A store order (and later any channel) is priced by ONE server-side function, ``quote``. What a
kiosk or a guide sends is only products and quantities; prices always come from here.

These dataclasses are the interface other apps depend on (``stores`` prices carts with them and
freezes ``Quote.as_dict()`` on the order). The promotions engine fills in the steps; without any
promotion a line's net amount is its list amount.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import asdict, dataclass, field
from decimal import Decimal

from core.money import ZERO, money


@dataclass(frozen=True)
class CartLine:
    """One line of a cart as the caller sends it; ``unit_price`` is the product's list price,
    read by the caller from the product on the server, never taken from a client."""

    key: str
    product_code: str
    quantity: Decimal
    unit_price: Decimal
    style_code: str = ""


@dataclass(frozen=True)
class Step:
    """One change of a line's amount: which rule, and the amount before and after it."""

    kind: str  # "member_price", "item_promotion", "spend_and_save", "red_packet", "manual"
    code: str  # the promotion's code (or "" for a manual adjustment)
    label: str  # words for people, e.g. "满300减50"
    before: Decimal
    after: Decimal


@dataclass(frozen=True)
class QuoteLine:
    key: str
    product_code: str
    quantity: Decimal
    unit_price: Decimal
    list_amount: Decimal
    steps: tuple[Step, ...]
    net_amount: Decimal


@dataclass(frozen=True)
class NearMiss:
    """ "再买 23.00 元可减 50": the amount still to buy and what it would give."""

    code: str
    label: str
    missing: Decimal
    reward: Decimal


@dataclass(frozen=True)
class Quote:
    lines: tuple[QuoteLine, ...]
    list_total: Decimal
    total: Decimal
    cashback: Decimal = ZERO
    near_misses: tuple[NearMiss, ...] = ()
    applied: tuple[str, ...] = field(default=())  # codes of the promotions used
    priced_at: dt.datetime | None = None

    def as_dict(self) -> dict:
        """A JSON-ready form (Decimals as strings), stable byte for byte for the same quote."""
        return json.loads(self.as_json())

    def as_json(self) -> str:
        def default(value):
            if isinstance(value, Decimal):
                return str(value)
            if isinstance(value, dt.datetime):
                return value.isoformat()
            raise TypeError(type(value))

        return json.dumps(asdict(self), default=default, sort_keys=True, ensure_ascii=False)


def quote(*, lines: list[CartLine], store_code: str, at: dt.datetime, **context) -> Quote:
    """Price ``lines`` for the store ``store_code`` at ``at``.

    Today: list prices only. The promotions engine (members, spend-and-save, red packets) takes
    the same arguments plus its own keyword ``context`` (member, promotions, red packet, manual
    adjustment) and returns the same ``Quote``.
    """
    quote_lines = []
    for line in lines:
        amount = money(line.unit_price * line.quantity)
        quote_lines.append(
            QuoteLine(
                key=line.key,
                product_code=line.product_code,
                quantity=line.quantity,
                unit_price=money(line.unit_price),
                list_amount=amount,
                steps=(),
                net_amount=amount,
            )
        )
    total = money(sum((q.net_amount for q in quote_lines), ZERO))
    return Quote(lines=tuple(quote_lines), list_total=total, total=total, priced_at=at)
