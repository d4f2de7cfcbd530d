"""Stock that follows within seconds: the event-driven push, coalesced per window.

Every committed stock change (``inventory.signals.stock_changed``, sent on commit) asks for a
push (``request_stock_push``). The first request opens a window of ``STOCK_PUSH_WINDOW``
seconds (2 by default) — one row of ``StockPushWindow``, inserted only when none is open — and
queues ONE task (``platformsync.tasks.push_stock_soon``); every request while the window is
open only joins it. When the window closes the task deletes the row (so a change committed
from then on opens the next window) and then queues and sends, through the durable outbox,
whatever sellable quantities differ from what the platforms last accepted: N changes of one
product within the window make one call, and the figure sent is the one at sending time. A
parcel shipped is a stock change too: the same task then sends the shipment notices that are
due (the minute drain alone sent at most 500 a minute: a peak day's parcels queued for hours).

The platforms are sent to at once (a thread each): one that times out delays its own figures
only. Retries, backoff, parking and the platforms' batching stay the outbox's (``drain_stock``);
the every-minute drain stays as the safety net (a lost task, a broker that was down). A window
whose task never ran (the worker was killed) is taken over by the next request after
``STALE_AFTER`` seconds. ``TONGCANG_STOCK_PUSH_WINDOW=0`` turns the event-driven push off.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from django.conf import settings
from django.db import connection, transaction

from core import clock

log = logging.getLogger(__name__)

STOCK = "stock"
# Seconds after which a window still open lost its task (its worker was killed before closing
# it): the next request opens it again and queues another task. A task normally closes its
# window within the window's 2 s; one merely late in a busy queue and run twice costs nothing
# (the outbox claims each message once). The drill saw a minute without pushes at 60.
STALE_AFTER = 15
# A task that loses its database connection (PostgreSQL restarted) starts again on a new one,
# this many times, after 1, 2, 4, 8 s: else its window would stay open, pushes waiting.
DB_ATTEMPTS = 5
TASK = "platformsync.tasks.push_stock_soon"
RETRIES_IN_TASK = 3  # failed calls sent again by the same task (after 2, 4, 8 s of backoff)
RETRY_WAIT_MAX = 10.0  # seconds the task waits for one; a later one is the minute drain's
# After the stock, the shipment notices due (a parcel shipped is a stock change: its window
# sends its tracking number too), a batch at a time while there are more, for this long at most;
# what is left is the next window's or the minute drain's.
SHIPMENT_BATCH = 200
SHIPMENT_SECONDS = 45.0


def window_seconds() -> float:
    return float(getattr(settings, "STOCK_PUSH_WINDOW", 2.0))


def request_stock_push(*, enqueue: Callable | None = None) -> bool:
    """Open the push window unless one is open; True when this call opened it (and queued the
    task). Called after a stock change committed; never raises (the minute drain catches up)."""
    seconds = window_seconds()
    if seconds <= 0:
        return False
    now = clock.now()
    try:
        with transaction.atomic():
            with connection.cursor() as cur:
                cur.execute(
                    "INSERT INTO platformsync_stockpushwindow AS w (name, opened_at, due_at)"
                    " VALUES (%s, %s, %s) ON CONFLICT (name) DO UPDATE"
                    " SET opened_at = EXCLUDED.opened_at, due_at = EXCLUDED.due_at"
                    " WHERE w.opened_at < %s RETURNING name",
                    [
                        STOCK,
                        now,
                        now + timedelta(seconds=seconds),
                        now - timedelta(seconds=STALE_AFTER),
                    ],
                )
                opened = cur.fetchone() is not None
            if opened:
                (enqueue or _enqueue)()
    except Exception:  # a broker or database down must not fail the change that committed
        log.warning("stock push not requested (the minute drain will send it)", exc_info=True)
        return False
    return opened


def _enqueue() -> None:
    from django_q.tasks import async_task

    async_task(TASK, task_name=f"stock push {clock.now():%H:%M:%S.%f}", group="stock push")


def push_stock_window(*, sleep: Callable[[float], None] = time.sleep) -> dict:
    """The task of a window: wait until it closes, close it, then queue and send the changes,
    then the shipment notices that are due. Every step can be run again: a lost database
    connection makes it start again on a new one."""
    from django.db.utils import InterfaceError, OperationalError

    for attempt in range(DB_ATTEMPTS):
        try:
            return _push_window(sleep)
        except (OperationalError, InterfaceError):
            if attempt == DB_ATTEMPTS - 1 or connection.in_atomic_block:
                raise
            log.warning("stock push: database connection lost; starting again", exc_info=True)
            connection.close()
            sleep(2.0**attempt)
    raise AssertionError("unreachable")


def _on_own_connection(func, *args):
    """Run ``func`` in a thread of the pool: its database connection is closed at the end."""
    try:
        return func(*args)
    finally:
        connection.close()


def _send_stock_of(shop_id: int, sleep: Callable[[float], None]) -> tuple[int, int, int]:
    """Send one shop's due stock messages; a call the platform did not take (timeout, 5xx,
    rate limit) is due again within seconds (the stock backoff): sent again then, instead of
    being left to the minute drain. Returns (sent, retried, parked)."""
    from channels.models import OutboxMessage

    from .outbox import drain_stock

    result = drain_stock(shop_ids=[shop_id])
    sent, retried, parked = result.sent, result.retried, result.parked
    for _attempt in range(RETRIES_IN_TASK):
        if not result.retried:
            break
        due = (
            OutboxMessage.objects.filter(
                status=OutboxMessage.Status.PENDING,
                kind=OutboxMessage.Kind.STOCK,
                shop_id=shop_id,
            )
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        wait = (due - clock.now()).total_seconds() if due else RETRY_WAIT_MAX + 1
        if wait > RETRY_WAIT_MAX:
            break
        sleep(max(0.0, wait))
        result = drain_stock(shop_ids=[shop_id])
        sent, retried, parked = sent + result.sent, retried + result.retried, parked + result.parked
    return sent, retried, parked


def _push_window(sleep: Callable[[float], None]) -> dict:
    from .models import StockPushWindow
    from .outbox import drain_shipments, queue_stock_pushes, stock_pending_shops

    due = StockPushWindow.objects.filter(name=STOCK).values_list("due_at", flat=True).first()
    if due is not None:
        wait = (due - clock.now()).total_seconds()
        if wait > 0:
            sleep(min(wait, window_seconds()))
    # Closed: a change committed from now on opens the next window (and is not lost: this
    # task reads the quantities after this point).
    StockPushWindow.objects.filter(name=STOCK).delete()
    queued = queue_stock_pushes()
    shops = stock_pending_shops()
    if len(shops) <= 1 or connection.in_atomic_block:
        results = [_send_stock_of(shop_id, sleep) for shop_id in shops]
    else:
        # Every platform at once: a platform that times out or limits the rate delays its
        # own figures only (one after another, each waited for the ones before it).
        with ThreadPoolExecutor(max_workers=len(shops), thread_name_prefix="push") as pool:
            results = list(
                pool.map(lambda shop_id: _on_own_connection(_send_stock_of, shop_id, sleep), shops)
            )
    sent, retried, parked = (sum(r[i] for r in results) for i in range(3))
    shipments = 0
    started = time.monotonic()
    while time.monotonic() - started < SHIPMENT_SECONDS:
        part = drain_shipments(limit=SHIPMENT_BATCH)
        shipments += part.sent
        if part.sent + part.retried + part.parked < SHIPMENT_BATCH:
            break
    return {
        "queued": queued,
        "sent": sent,
        "retried": retried,
        "parked": parked,
        "shipments_sent": shipments,
    }
