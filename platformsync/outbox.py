"""The durable outbox: every call owed to a platform is a row, sent until the platform accepts.

- ``enqueue`` queues a message inside the transaction of the change that causes it.
- ``queue_stock_pushes`` turns sellable quantities that differ from what the platform last
  accepted into one pending stock message per SKU (coalesced: the quantity is read when sent).
- ``drain`` claims due messages with ``SELECT … FOR UPDATE SKIP LOCKED`` (two workers never
  hold the same row), sends them, and marks them sent in the same transaction; timeouts, 5xx,
  rate limits and malformed answers are retried with exponential backoff; a refusal for good
  parks the message with the platform's error for a person (``retry_parked``).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from datetime import timedelta

from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from channels.connectors import get_connector
from channels.connectors.base import ConnectorError, PermanentError, TransientError
from channels.models import OutboxMessage, SellableQuantity, Shop
from channels.sellable import recompute_dirty
from channels.types import ShipmentNotice

log = logging.getLogger(__name__)

BACKOFF_FIRST = 30  # seconds; doubles with every failed attempt
# A stock figure is coalesced (the quantity is read when sent), so trying again soon costs one
# call at most and keeps the platforms within seconds of the warehouse: 2, 4, 8, 16… seconds.
STOCK_BACKOFF_FIRST = 2
BACKOFF_MAX = 3600
MAX_ATTEMPTS = 15  # then the message is parked for a person (about 10 hours of retries)
STOCK_BATCH = 200


def backoff(attempts: int, kind: str = "") -> timedelta:
    first = STOCK_BACKOFF_FIRST if kind == OutboxMessage.Kind.STOCK else BACKOFF_FIRST
    return timedelta(seconds=min(BACKOFF_MAX, first * 2 ** max(0, attempts - 1)))


def _api_shops():
    return Shop.objects.filter(enabled=True, platform__integration="api")


def queue_stock_pushes(*, shop: Shop | None = None, full: bool = False) -> int:
    """One pending stock message per SKU whose sellable quantity the platform does not have
    yet (``full``: every mapped SKU, after the nightly full sync). Returns how many were new.
    The sellable quantities that reservations left to recompute are recomputed first."""
    recompute_dirty()
    rows = SellableQuantity.objects.filter(mapping__shop__in=_api_shops())
    if shop is not None:
        rows = rows.filter(mapping__shop=shop)
    if not full:
        rows = rows.filter(Q(pushed_quantity__isnull=True) | ~Q(pushed_quantity=F("quantity")))
    rows = rows.values_list("mapping_id", "mapping__shop_id", "mapping__platform_sku")
    created = 0
    batch = []

    def flush():
        nonlocal created
        if not batch:
            return
        values = ", ".join(["(%s, %s, %s, %s::jsonb, 'pending', 0, '', now())"] * len(batch))
        params = [p for row in batch for p in row]
        with connection.cursor() as cur:
            cur.execute(
                "INSERT INTO channels_outboxmessage"
                " (shop_id, kind, dedupe_key, payload, status, attempts, last_error, created_at)"
                f" VALUES {values} ON CONFLICT (dedupe_key) DO NOTHING RETURNING id",
                params,
            )
            created += len(cur.fetchall())
        batch.clear()

    for mapping_id, shop_id, sku in rows.iterator():
        payload = json.dumps({"mapping_id": mapping_id, "platform_sku": sku})
        batch.append((shop_id, "stock", f"stock:{mapping_id}", payload))
        if len(batch) >= 500:
            flush()
    flush()
    return created


@dataclass
class DrainResult:
    sent: int = 0
    retried: int = 0
    parked: int = 0
    errors: list = field(default_factory=list)


def _due(now):
    return (
        OutboxMessage.objects.select_for_update(skip_locked=True, of=("self",))
        .filter(status=OutboxMessage.Status.PENDING, shop__in=_api_shops())
        .filter(Q(next_attempt_at__isnull=True) | Q(next_attempt_at__lte=now))
        .order_by("id")
    )


def _failed(message: OutboxMessage, exc: ConnectorError, now, result: DrainResult) -> None:
    message.attempts += 1
    message.last_attempt_at = now
    message.last_error = str(exc)[:2000]
    if isinstance(exc, PermanentError) or message.attempts >= MAX_ATTEMPTS:
        message.status = OutboxMessage.Status.PARKED
        message.parked_at = now
        message.next_attempt_at = None
        result.parked += 1
    else:
        message.next_attempt_at = now + backoff(message.attempts, message.kind)
        result.retried += 1
    result.errors.append(f"{message.dedupe_key}: {exc}")
    message.save(
        update_fields=[
            "attempts",
            "last_attempt_at",
            "last_error",
            "status",
            "parked_at",
            "next_attempt_at",
        ]
    )


def _sent(message: OutboxMessage, now, result: DrainResult, **rename) -> None:
    message.status = OutboxMessage.Status.SENT
    message.attempts += 1
    message.sent_at = message.last_attempt_at = now
    message.next_attempt_at = None
    fields = ["status", "attempts", "sent_at", "last_attempt_at", "next_attempt_at", "payload"]
    if rename.get("dedupe_key"):
        message.dedupe_key = rename["dedupe_key"]
        fields.append("dedupe_key")
    message.save(update_fields=fields)
    result.sent += 1


def _order_closed_here(message: OutboxMessage) -> bool:
    from orders.models import Order

    platform_no = message.payload.get("platform_order_no")
    return (
        Order.objects.filter(
            shop_id=message.shop_id, platform_order_no=platform_no, status=Order.Status.CANCELLED
        ).exists()
        and not Order.objects.filter(
            shop_id=message.shop_id, platform_order_no=platform_no, status=Order.Status.SHIPPED
        ).exists()
    )


def drain_shipments(*, now=None, limit: int = 500, connectors=None) -> DrainResult:
    """Send due shipment notices one row at a time, each in its own transaction."""
    result = DrainResult()
    connectors = {} if connectors is None else connectors
    for _ in range(limit):
        now_ = now or timezone.now()
        with transaction.atomic():
            message = _due(now_).filter(kind=OutboxMessage.Kind.SHIPMENT).first()
            if message is None:
                break
            shop = Shop.objects.select_related("platform").get(pk=message.shop_id)
            try:
                if _order_closed_here(message):
                    raise PermanentError("the platform closed this order: not shipped")
                connector = connectors.get(shop.pk) or get_connector(shop)
                connectors[shop.pk] = connector
                connector.send_shipment(ShipmentNotice.from_payload(message.payload))
            except ConnectorError as exc:
                _failed(message, exc, now_, result)
            else:
                _sent(message, now_, result)
    return result


def stock_pending_shops() -> list[int]:
    """The API shops with stock messages pending (due or not)."""
    return sorted(
        set(
            OutboxMessage.objects.filter(
                status=OutboxMessage.Status.PENDING,
                kind=OutboxMessage.Kind.STOCK,
                shop__in=_api_shops(),
            )
            .values_list("shop_id", flat=True)
            .distinct()
        )
    )


def drain_stock(*, now=None, connectors=None, shop_ids=None) -> DrainResult:
    """Send due stock messages, a shop at a time (``shop_ids``: only these), batched as its API
    allows."""
    result = DrainResult()
    connectors = {} if connectors is None else connectors
    pending = stock_pending_shops()
    if shop_ids is not None:
        pending = [s for s in pending if s in set(shop_ids)]
    for shop_id in pending:
        while True:
            now_ = now or timezone.now()
            with transaction.atomic():
                batch = list(
                    _due(now_).filter(kind=OutboxMessage.Kind.STOCK, shop_id=shop_id)[:STOCK_BATCH]
                )
                if not batch:
                    break
                _push_batch(shop_id, batch, now_, result, connectors)
    return result


def _push_batch(shop_id, batch, now, result, connectors) -> None:
    shop = Shop.objects.select_related("platform").get(pk=shop_id)
    connector = connectors.get(shop_id) or get_connector(shop)
    connectors[shop_id] = connector
    current = dict(
        SellableQuantity.objects.filter(
            mapping_id__in=[m.payload["mapping_id"] for m in batch]
        ).values_list("mapping_id", "quantity")
    )
    quantities = {}
    for m in batch:
        qty = current.get(m.payload["mapping_id"])
        if qty is None:  # the SKU relation is gone: nothing to push
            _sent(m, now, result, dedupe_key=f"stock:{m.payload['mapping_id']}:gone:{m.pk}")
            continue
        m.payload["quantity"] = max(0, int(qty))
        quantities[m.payload["platform_sku"]] = m.payload["quantity"]
    if not quantities:
        return
    try:
        outcomes = connector.push_stock(quantities)
    except ConnectorError as exc:
        outcomes = dict.fromkeys(quantities, exc)
    # in mapping order, as every writer of the sellable rows locks them (no deadlock)
    for m in sorted(batch, key=lambda m: m.payload["mapping_id"]):
        if "quantity" not in m.payload:
            continue
        outcome = outcomes.get(m.payload["platform_sku"], TransientError("no answer"))
        if outcome is None:
            SellableQuantity.objects.filter(mapping_id=m.payload["mapping_id"]).update(
                pushed_quantity=m.payload["quantity"], pushed_at=now
            )
            _sent(m, now, result, dedupe_key=f"stock:{m.payload['mapping_id']}:sent:{m.pk}")
        else:
            _failed(m, outcome, now, result)


def drain(*, now=None) -> DrainResult:
    """The every-minute task: queue changed stock, then send what is due."""
    queue_stock_pushes()
    total = DrainResult()
    for part in (drain_shipments(now=now), drain_stock(now=now)):
        total.sent += part.sent
        total.retried += part.retried
        total.parked += part.parked
        total.errors += part.errors
    return total


def retry_parked(*, messages, actor) -> int:
    """A person sends parked messages again: pending, attempts from zero; who and when kept."""
    now = timezone.now()
    with transaction.atomic():
        ids = [m.pk for m in messages]
        rows = list(
            OutboxMessage.objects.select_for_update()
            .filter(pk__in=ids, status=OutboxMessage.Status.PARKED)
            .order_by("pk")
        )
        for m in rows:
            m.status = OutboxMessage.Status.PENDING
            m.attempts = 0
            m.next_attempt_at = None
            m.parked_at = None
            m.retried_by = actor if getattr(actor, "pk", None) else None
            m.retried_at = now
            m.save(
                update_fields=[
                    "status",
                    "attempts",
                    "next_attempt_at",
                    "parked_at",
                    "retried_by",
                    "retried_at",
                ]
            )
    return len(rows)
