"""Reads for the sync status page: per shop, what was pulled and what is owed to the platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q
from django.utils.translation import gettext as _

from channels.models import OutboxMessage, Shop

from .errors import reason


@dataclass
class ShopError:
    """One recent error of a shop, in words: what did not happen, why (a sentence), and the
    platform's own answer as it came."""

    what: str
    why: str
    answer: str

    def __str__(self):
        return _("%(what)s: %(why)s") % {"what": self.what, "why": self.why}


def outbox_subject(kind: str, payload: dict) -> str:
    """What an outbox call is about, in words (never its dedupe key)."""
    p = payload or {}
    if kind == OutboxMessage.Kind.SHIPMENT:
        return _("order %(no)s (platform order %(platform)s), %(carrier)s %(tracking)s") % {
            "no": p.get("order_no", "?"),
            "platform": p.get("platform_order_no", "?"),
            "carrier": p.get("carrier_name") or p.get("carrier", ""),
            "tracking": p.get("tracking_no", ""),
        }
    if "quantity" in p:
        return _("platform SKU %(sku)s: sellable %(n)s") % {
            "sku": p.get("platform_sku", "?"),
            "n": p["quantity"],
        }
    return _("platform SKU %(sku)s") % {"sku": p.get("platform_sku", "?")}


def _outbox_error(kind: str, payload: dict, error: str) -> ShopError:
    p = payload or {}
    if kind == OutboxMessage.Kind.SHIPMENT:
        what = _("Shipment of order %(no)s not sent") % {"no": p.get("order_no", "?")}
    else:
        what = _("Stock of platform SKU %(sku)s not sent") % {"sku": p.get("platform_sku", "?")}
    return ShopError(what=what, why=reason(error), answer=error)


def _pull_error(kind: str, state: dict) -> ShopError | None:
    error = state.get(f"{kind}_last_error")
    if not error:
        return None
    what = _("Pulling orders stopped") if kind == "orders" else _("Pulling refunds stopped")
    rejected = state.get(f"{kind}_rejected") or []
    if rejected and rejected[0] in error:  # refused by our intake, not by the platform
        return ShopError(
            what=_("Orders not taken in"),
            why=_("the intake refused them (see the first one below)"),
            answer=error,
        )
    return ShopError(what=what, why=reason(error), answer=error)


@dataclass
class ShopStatus:
    shop: Shop
    orders_last_pull_at: datetime | None
    orders_watermark: datetime | None
    orders_last_read: int
    orders_total_read: int
    refunds_last_pull_at: datetime | None
    refunds_total_read: int
    pending: int
    retrying: int
    parked: int
    last_errors: list[ShopError]
    manual_sync_at: datetime | None


def _dt(value):
    return datetime.fromisoformat(value) if value else None


def shop_statuses(shops) -> dict[int, ShopStatus]:
    shops = list(shops)
    counts = {
        row["shop_id"]: row
        for row in OutboxMessage.objects.filter(shop__in=shops)
        .values("shop_id")
        .annotate(
            pending=Count("pk", filter=Q(status="pending")),
            retrying=Count("pk", filter=Q(status="pending", attempts__gt=0)),
            parked=Count("pk", filter=Q(status="parked")),
        )
    }
    recent_errors: dict[int, list[ShopError]] = {}
    for shop_id, kind, payload, error in (
        OutboxMessage.objects.filter(shop__in=shops)
        .exclude(last_error="")
        .exclude(status="sent")
        .order_by("-last_attempt_at")
        .values_list("shop_id", "kind", "payload", "last_error")[:200]
    ):
        bucket = recent_errors.setdefault(shop_id, [])
        if len(bucket) < 5:
            bucket.append(_outbox_error(kind, payload, error))
    result = {}
    for shop in shops:
        st = shop.sync_state or {}
        errors = [
            e for e in (_pull_error("orders", st), _pull_error("refunds", st)) if e
        ] + recent_errors.get(shop.pk, [])
        c = counts.get(shop.pk, {})
        result[shop.pk] = ShopStatus(
            shop=shop,
            orders_last_pull_at=_dt(st.get("orders_last_pull_at")),
            orders_watermark=_dt(st.get("orders_watermark")),
            orders_last_read=int(st.get("orders_last_read", 0)),
            orders_total_read=int(st.get("orders_total_read", 0)),
            refunds_last_pull_at=_dt(st.get("refunds_last_pull_at")),
            refunds_total_read=int(st.get("refunds_total_read", 0)),
            pending=c.get("pending", 0),
            retrying=c.get("retrying", 0),
            parked=c.get("parked", 0),
            last_errors=errors,
            manual_sync_at=_dt(st.get("manual_sync_at")),
        )
    return result
