"""What the pricing function is given, as plain frozen dataclasses (no database inside).

The caller (``promotions.selectors.pricing_context``, or a test, or a benchmark) loads the
member's terms, the active promotions and the red packet to spend into these, then calls
``promotions.quote.quote``. Nothing here touches the database, the clock or the language, so
the same input always gives the same quote.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

ITEM = "item"  # a price or a percentage off per item (stage 1)
SPEND_AND_SAVE = "spend_and_save"  # 满减 on the eligible subtotal (stage 2)
CASHBACK = "cashback"  # 满返 / a share of the net, paid later as a red packet (stage 5)
KINDS = (ITEM, SPEND_AND_SAVE, CASHBACK)


class PricingError(ValueError):
    """The input cannot be priced (e.g. a manual adjustment beyond its bound, without reason)."""


@dataclass(frozen=True)
class Tier:
    """满 ``threshold`` → ``amount`` off (or paid back), or ``percent`` off the current amount."""

    threshold: Decimal
    amount: Decimal = Decimal("0")
    percent: Decimal = Decimal("0")


@dataclass(frozen=True)
class Rule:
    """One approved, active promotion version, as the pricing function sees it.

    Scope: an empty set means "any". ``level_codes`` non-empty, or ``members_only``, makes it a
    member-only promotion. ``exclusive_group`` "" means stackable; within a non-empty group only
    the best one applies.

    - ITEM: ``unit_price`` (a fixed price per unit) or ``percent`` off each in-scope line.
    - SPEND_AND_SAVE and CASHBACK: the highest reached of ``tiers``; or, with ``every`` set,
      "每满 ``every`` 减/返 ``every_amount``" repeated, at most ``cap`` in all; CASHBACK may also
      pay back ``percent`` of the net (at most ``cap`` when set).
    """

    code: str
    label: str
    kind: str
    priority: int = 100
    exclusive_group: str = ""
    members_only: bool = False
    store_codes: frozenset[str] = frozenset()
    product_codes: frozenset[str] = frozenset()
    style_codes: frozenset[str] = frozenset()
    level_codes: frozenset[str] = frozenset()
    starts_at: dt.datetime | None = None
    ends_at: dt.datetime | None = None
    unit_price: Decimal | None = None
    percent: Decimal = Decimal("0")
    tiers: tuple[Tier, ...] = ()
    every: Decimal | None = None
    every_amount: Decimal = Decimal("0")
    cap: Decimal | None = None


@dataclass(frozen=True)
class MemberTerms:
    """A member as pricing needs them: the level's standing discount and member prices.

    ``prices`` maps a product code, ``style_prices`` a style code, to a member's unit price;
    ``discount_percent`` is the level's standing percentage off. Neither ever expires.
    """

    ref: str
    level_code: str
    level_label: str = ""
    discount_percent: Decimal = Decimal("0")
    prices: dict[str, Decimal] = field(default_factory=dict)
    style_prices: dict[str, Decimal] = field(default_factory=dict)

    def __hash__(self):  # dicts inside: hash on identity fields only
        return hash((self.ref, self.level_code))


@dataclass(frozen=True)
class RedPacketToSpend:
    """A red packet of the member's wallet, spent on this order (at most the order's total)."""

    ref: str
    amount: Decimal
    label: str = "红包"


@dataclass(frozen=True)
class ManualAdjustment:
    """A guide's reduction of the order's total: ``amount`` off, at most ``limit``, with a reason."""

    amount: Decimal
    reason: str
    limit: Decimal
    by: str = ""
