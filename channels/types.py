"""What crosses the boundary between the platforms and the apps above them, as typed values.

Connectors (and the file import) turn what a platform says into these dataclasses; the order
intake, the returns and the outbox take them. Owned here, by the lowest app that speaks to the
platforms, so every app above imports the same definition and nothing travels as a loose dict.
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
    # the order (拦截); after shipping it marks the order for after-sales. "ship_forbidden": paid,
    # but the platform forbids shipping for now (TOP PAID_FORBID_CONSIGN, JD POP_ORDER_PAUSE):
    # held until a later version of the order no longer says so; never cancelled.
    platform_change: str = ""
    # The receiver's opaque id when the platform sends masked buyer details (密文订单).
    receiver_oaid: str = ""
    raw: dict = field(default_factory=dict)


@dataclass
class RefundNotice:
    """One after-sales request as a platform reports it, in our words."""

    platform_refund_id: str
    platform_order_no: str
    status: str  # requested | refunded | refused | closed
    amount: Decimal
    modified_at: datetime | None
    platform_line_id: str = ""
    platform_sku: str = ""
    quantity: Decimal = Decimal("0")
    reason: str = ""
    with_goods: bool = False  # the buyer sends goods back
    raw: dict = field(default_factory=dict)

    @property
    def open(self) -> bool:
        return self.status == "requested"


@dataclass(frozen=True)
class ShipmentNotice:
    """What a platform is told when (part of) one of its orders shipped.

    Built in ONE place from the shipped order (``orders.services.shipping.shipment_notices``),
    stored as the outbox message's payload (``as_payload``) and read back by the outbox
    (``from_payload``) for the connector. ``partial`` says the parcel holds only some of the
    platform order's lines (the order was split): the platform must then be told which lines
    (``platform_line_ids``), or it would mark the whole trade shipped.
    """

    order_no: str
    platform_order_no: str
    carrier: str
    carrier_name: str
    tracking_no: str
    shipped_at: datetime
    platform_line_ids: tuple[str, ...] = ()
    partial: bool = False

    def as_payload(self) -> dict:
        return {
            "order_no": self.order_no,
            "platform_order_no": self.platform_order_no,
            "carrier": self.carrier,
            "carrier_name": self.carrier_name,
            "tracking_no": self.tracking_no,
            "shipped_at": self.shipped_at.isoformat(),
            "platform_line_ids": list(self.platform_line_ids),
            "partial": self.partial,
        }

    @classmethod
    def from_payload(cls, payload: dict) -> ShipmentNotice:
        return cls(
            order_no=payload["order_no"],
            platform_order_no=str(payload["platform_order_no"]),
            carrier=payload.get("carrier", ""),
            carrier_name=payload.get("carrier_name", ""),
            tracking_no=payload["tracking_no"],
            shipped_at=datetime.fromisoformat(payload["shipped_at"]),
            platform_line_ids=tuple(str(x) for x in payload.get("platform_line_ids") or ()),
            # "is_split": the key of messages queued before the notice was typed.
            partial=bool(payload.get("partial", payload.get("is_split", False))),
        )
