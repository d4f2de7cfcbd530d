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
