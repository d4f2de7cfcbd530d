"""What the store app calls to price a cart: load, then the pure ``quote``.

    q = price_cart(lines=[CartLine(...)], store_code="MD01", member=member_or_None,
                   red_packet_ref="RP12", adjustment=manual_adjustment("10", "老顾客", by="G01"))

Then, in the transaction that creates the order: ``services.reserve_usage(quote=q,
member=member, order_ref=order.number)``, and freeze ``q.as_dict()`` on the order.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from decimal import Decimal

from django.conf import settings

from core.clock import now

from . import selectors
from .models import Member
from .quote import CartLine, Quote, quote
from .rules import ManualAdjustment


def manual_adjustment(amount, reason: str, *, by: str = "") -> ManualAdjustment:
    """A guide's reduction, bounded by ``settings.PROMOTIONS_MANUAL_ADJUSTMENT_LIMIT``."""
    return ManualAdjustment(
        amount=Decimal(str(amount)),
        reason=reason,
        limit=Decimal(str(settings.PROMOTIONS_MANUAL_ADJUSTMENT_LIMIT)),
        by=by,
    )


def price_cart(
    *,
    lines: Sequence[CartLine],
    store_code: str,
    at: dt.datetime | None = None,
    member: Member | None = None,
    red_packet_ref: str = "",
    adjustment: ManualAdjustment | None = None,
) -> Quote:
    """The server's quote for ``lines`` (prices in ``lines`` must come from the server's
    products). ``red_packet_ref`` spends that packet of the member's wallet (ignored when it
    is not theirs or not spendable; ``reserve_usage`` checks again under a lock)."""
    at = at or now()
    ctx = selectors.pricing_context(store_code=store_code, at=at, member=member)
    packet = selectors.red_packet_to_spend(member, red_packet_ref) if red_packet_ref else None
    return quote(
        lines=lines,
        store_code=store_code,
        at=at,
        member=ctx.member,
        promotions=ctx.promotions,
        red_packet=packet,
        adjustment=adjustment,
    )
