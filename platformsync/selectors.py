"""Reads for the sync status page: per shop, what was pulled and what is owed to the platform."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Count, Q

from channels.models import OutboxMessage, Shop


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
    last_errors: list[str]
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
    recent_errors: dict[int, list[str]] = {}
    for shop_id, key, error in (
        OutboxMessage.objects.filter(shop__in=shops)
        .exclude(last_error="")
        .exclude(status="sent")
        .order_by("-last_attempt_at")
        .values_list("shop_id", "dedupe_key", "last_error")[:200]
    ):
        bucket = recent_errors.setdefault(shop_id, [])
        if len(bucket) < 5:
            bucket.append(f"{key}: {error}")
    result = {}
    for shop in shops:
        st = shop.sync_state or {}
        errors = [
            f"{kind}: {st[f'{kind}_last_error']}"
            for kind in ("orders", "refunds")
            if st.get(f"{kind}_last_error")
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
