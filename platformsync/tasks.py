"""django-q2 entry points of the channels app (thin: they call the services).

Scheduled by the data migration ``0004_schedules``:
- ``sync_all_shops`` every 15 minutes: orders and refunds of every enabled API shop;
- ``drain_outbox`` every minute: queue changed stock, send due shipments and stock (the safety
  net: a stock change is pushed within seconds by ``push_stock_soon``, see ``push.py``);
- ``full_stock_push`` right after a full snapshot from the offline ERP is applied (queued by
  erpbridge), and daily at 03:30 Asia/Shanghai as a safety net should that snapshot not come.
Each is safe when two workers run it at once (advisory locks for pulls, SKIP LOCKED claims
for the outbox).
"""

from __future__ import annotations

import logging

from channels.models import Shop

from . import outbox, push, sync

log = logging.getLogger(__name__)


def sync_shop(shop_id: int, actor_label: str = "schedule") -> dict:
    results = sync.sync_shop(shop_id=shop_id, actor=None)
    summary = {
        kind: {
            "read": r.read,
            "created": r.created,
            "updated": r.updated,
            "error": r.error,
            "busy": r.busy,
        }
        for kind, r in results.items()
    }
    log.info("sync of shop %s (%s): %s", shop_id, actor_label, summary)
    return summary


def sync_all_shops() -> dict:
    shops = Shop.objects.filter(enabled=True, platform__integration="api").order_by("pk")
    return {shop.code: sync_shop(shop.pk) for shop in shops}


def drain_outbox() -> dict:
    result = outbox.drain()
    return {"sent": result.sent, "retried": result.retried, "parked": result.parked}


def push_stock_soon() -> dict:
    """The event-driven stock push of one window (queued by platformsync.push)."""
    return push.push_stock_window()


def full_stock_push() -> dict:
    """Every mapped SKU again, after the nightly full stock sync from the offline ERP."""
    from channels.sellable import recompute_sellable

    recompute_sellable(None)
    queued = outbox.queue_stock_pushes(full=True)
    result = outbox.drain_stock()
    return {"queued": queued, "sent": result.sent, "parked": result.parked}
