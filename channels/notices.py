"""Queueing what is owed to a platform: a row of the durable outbox, written in the transaction
of the change that causes it. Delivery (draining, retries, parking) is ``platformsync.outbox``.
"""

from __future__ import annotations

from .models import OutboxMessage, Shop
from .types import ShipmentNotice


def enqueue(*, shop, kind: str, payload: dict, dedupe_key: str) -> OutboxMessage:
    """Queue once per dedupe_key: queuing the same key again returns the existing message."""
    message, _created = OutboxMessage.objects.get_or_create(
        dedupe_key=dedupe_key, defaults={"shop": shop, "kind": kind, "payload": payload}
    )
    return message


def queue_shipment(*, shop: Shop, notice: ShipmentNotice, dedupe_key: str) -> OutboxMessage:
    return enqueue(
        shop=shop,
        kind=OutboxMessage.Kind.SHIPMENT,
        payload=notice.as_payload(),
        dedupe_key=dedupe_key,
    )
