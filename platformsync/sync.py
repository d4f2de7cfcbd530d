"""Pulling orders and refunds from API platforms, one shop at a time.

Windows: from the shop's watermark minus an overlap (so nothing modified at the edge is
missed) up to now, cut into windows as long as the platform allows (TOP: one day). Each
window is read from its last page back to the first (orders modified while we read move out
of the window and shift the later pages forward, onto pages not read yet), deduplicated, and
checked against the total the platform announced; only a window read completely moves the
watermark to its end. Orders go through ``orders.intake.intake_orders``, which is idempotent,
so re-reading a window never duplicates anything.

One pull per shop at a time: a PostgreSQL advisory lock (session level) around the pull, so
two workers running the same schedule do not read the same shop twice at once.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from channels.connectors import get_connector
from channels.connectors.base import Connector, ConnectorError, TransientError, with_retries
from channels.models import Shop
from channels.sync_state import read_sync_state, update_sync_state

log = logging.getLogger(__name__)

OVERLAP = timedelta(minutes=10)
FIRST_PULL_LOOKBACK = timedelta(days=1)
WINDOW_READS = 3  # a window whose pages do not add up is read again this many times
INTAKE_BATCH = 200
LOCK_NAMESPACE = 0x7C0  # advisory lock namespace of shop pulls


class IncompleteWindow(TransientError):
    pass


@dataclass
class PullResult:
    kind: str
    windows: int = 0
    read: int = 0
    created: int = 0
    updated: int = 0
    skipped: int = 0
    returns: int = 0
    error: str = ""
    busy: bool = False  # another worker was pulling this shop
    http_seconds: float = 0.0
    intake_seconds: float = 0.0
    order_ids: list = field(default_factory=list)
    rejected: list = field(default_factory=list)  # orders the intake refused, with why


# --- shop sync state (Shop.sync_state, merged key by key so writers do not clobber each other)


def _parse(value) -> datetime | None:
    return datetime.fromisoformat(value) if value else None


@contextmanager
def shop_lock(shop_id: int, kind: str):
    """Hold the advisory lock of (shop, kind) or yield False when another session holds it."""
    key = (LOCK_NAMESPACE << 20) + shop_id * 4 + {"orders": 0, "refunds": 1, "stock": 2}[kind]
    with connection.cursor() as cur:
        cur.execute("SELECT pg_try_advisory_lock(%s)", [key])
        got = cur.fetchone()[0]
    try:
        yield got
    finally:
        if got:
            with connection.cursor() as cur:
                cur.execute("SELECT pg_advisory_unlock(%s)", [key])


def windows(start: datetime, end: datetime, longest: timedelta):
    while start < end:
        stop = min(end, start + longest)
        yield start, stop
        start = stop


def read_window(
    *,
    fetch_page: Callable,
    key: Callable,
    page_size: int,
    start: datetime,
    end: datetime,
    handle: Callable[[list], None],
) -> int:
    """Read one window completely, from the last page back; ``handle`` gets each page's new
    items (deduplicated across pages and re-reads). Returns how many distinct items were read;
    raises IncompleteWindow when the pages never add up to the announced total."""
    seen: set[str] = set()
    announced = 0
    for _attempt in range(WINDOW_READS):
        first = with_retries(lambda: fetch_page(start, end, 1))
        announced = int(first.total or 0)
        if announced == 0:
            return 0
        last = -(-announced // page_size)
        pages = [first] if last == 1 else []
        for number in range(last, 0, -1) if last > 1 else ():
            pages.append(with_retries(lambda n=number: fetch_page(start, end, n)))
            fresh = [i for i in pages[-1].items if key(i) not in seen]
            seen.update(key(i) for i in fresh)
            if fresh:
                handle(fresh)
        if last == 1:
            fresh = [i for i in first.items if key(i) not in seen]
            seen.update(key(i) for i in fresh)
            if fresh:
                handle(fresh)
        if len(seen) >= announced:
            return len(seen)
        log.warning("window %s..%s: read %s of %s, reading again", start, end, len(seen), announced)
    raise IncompleteWindow(f"window {start:%Y-%m-%d %H:%M}: read {len(seen)} of {announced}")


def _intake(shop, orders, actor, result: PullResult) -> None:
    """Take orders in by batches; a batch the intake refuses is taken in order by order, and
    the orders it refuses are recorded (shown on the status page) instead of blocking the
    shop's pulls for ever."""
    from orders.intake import IntakeError, intake_orders

    def take(batch):
        started = time.perf_counter()
        try:
            outcome = intake_orders(shop=shop, orders=batch, actor=actor)
        finally:
            result.intake_seconds += time.perf_counter() - started
        result.created += outcome.created
        result.updated += outcome.updated
        result.skipped += outcome.skipped
        result.order_ids.extend(outcome.order_ids)

    for i in range(0, len(orders), INTAKE_BATCH):
        batch = orders[i : i + INTAKE_BATCH]
        try:
            take(batch)
        except IntakeError:
            for order in batch:
                try:
                    take([order])
                except IntakeError as exc:
                    result.rejected.append(f"{order.platform_order_no}: {exc}")


def _pull(
    *, shop: Shop, kind: str, connector: Connector, now, actor, per_page: Callable
) -> PullResult:
    result = PullResult(kind=kind)
    state = read_sync_state(shop.pk)
    watermark = _parse(state.get(f"{kind}_watermark"))
    # Platforms take a window's end in whole seconds and list what changed before it: the
    # watermark is that second, not a moment after it (what changed in between is not read).
    now = (now or timezone.now()).replace(microsecond=0)
    start = (watermark - OVERLAP) if watermark else now - FIRST_PULL_LOOKBACK
    fetch_page = connector.order_page if kind == "orders" else connector.refund_page
    key = connector.order_key if kind == "orders" else connector.refund_key
    try:
        for w_start, w_end in windows(start, now, connector.window):

            def handle(items, w_end=w_end):
                result.read += len(items)
                per_page(items, result)

            read_window(
                fetch_page=fetch_page,
                key=key,
                page_size=(connector.page_size if kind == "orders" else connector.refund_page_size),
                start=w_start,
                end=w_end,
                handle=handle,
            )
            result.windows += 1
            # This window is read and taken in: the watermark moves to its end.
            update_sync_state(shop.pk, **{f"{kind}_watermark": w_end.isoformat()})
    except ConnectorError as exc:
        result.error = str(exc)
        log.warning("shop %s %s pull stopped: %s", shop.code, kind, exc)
    result.http_seconds = connector.http_seconds
    totals = {
        f"{kind}_last_pull_at": timezone.now().isoformat(),
        f"{kind}_last_read": result.read,
        f"{kind}_total_read": int(state.get(f"{kind}_total_read", 0)) + result.read,
        f"{kind}_last_error": result.error,
    }
    if result.rejected:
        totals[f"{kind}_rejected"] = (result.rejected + list(state.get(f"{kind}_rejected", [])))[
            :50
        ]
        if not result.error:
            totals[f"{kind}_last_error"] = _("%(n)d orders refused by the intake: %(first)s") % {
                "n": len(result.rejected),
                "first": result.rejected[0],
            }
    if result.error or result.rejected:
        totals[f"{kind}_last_error_at"] = timezone.now().isoformat()
    update_sync_state(shop.pk, **totals)
    return result


def _changed_only(shop, connector, items, result: PullResult) -> list:
    """Leave out summaries of orders we already hold at that modification time (a re-read
    of the overlap costs list calls only, no detail calls)."""
    from orders.models import Order

    stamps = {n: connector.summary_modified(item) for n, item in enumerate(items)}
    if any(v is None for v in stamps.values()):
        return items
    held = dict(
        Order.objects.filter(
            shop=shop,
            platform_order_no__in=[connector.order_key(i) for i in items],
            split_from__isnull=True,
        ).values_list("platform_order_no", "platform_modified_at")
    )
    fresh = []
    for n, item in enumerate(items):
        ours = held.get(connector.order_key(item))
        if ours is None or stamps[n] > ours:
            fresh.append(item)
    result.skipped += len(items) - len(fresh)
    return fresh


def pull_orders(*, shop: Shop, actor=None, now=None, connector=None) -> PullResult:
    """Read every order modified since the watermark and take it in. Safe to run twice."""
    connector = connector or get_connector(shop)
    with shop_lock(shop.pk, "orders") as got:
        if not got:
            return PullResult(kind="orders", busy=True)

        def per_page(items, result):
            items = _changed_only(shop, connector, items, result)
            orders = connector.normalize_orders(items) if items else []
            _intake(shop, orders, actor or "platform", result)

        return _pull(
            shop=shop, kind="orders", connector=connector, now=now, actor=actor, per_page=per_page
        )


def pull_refunds(*, shop: Shop, actor=None, now=None, connector=None) -> PullResult:
    """Read the after-sales requests modified since the watermark.

    Before shipping, the order is read again and taken in: the intake holds it (拦截) while a
    refund is open, or cancels it when the platform closed it. After shipping, the refund
    becomes a platform return order (returns.services.upsert_platform_return).
    """
    connector = connector or get_connector(shop)
    with shop_lock(shop.pk, "refunds") as got:
        if not got:
            return PullResult(kind="refunds", busy=True)

        def per_page(items, result):
            notices = connector.normalize_refunds(items)
            _apply_refunds(shop, connector, notices, actor, result)

        return _pull(
            shop=shop, kind="refunds", connector=connector, now=now, actor=actor, per_page=per_page
        )


def _apply_refunds(shop, connector, notices, actor, result: PullResult) -> None:
    from orders.models import Order

    known = {
        o.platform_order_no: o
        for o in Order.objects.filter(
            shop=shop, platform_order_no__in={n.platform_order_no for n in notices}
        ).order_by("pk")
    }
    refetch = []
    for notice in notices:
        order = known.get(notice.platform_order_no)
        if order is not None and order.status == Order.Status.SHIPPED:
            if notice.status in {"requested", "refunded"}:
                result.returns += int(_upsert_return(shop, order, notice, actor, result))
        elif order is None or order.status != Order.Status.CANCELLED:
            refetch.append(notice.platform_order_no)
    if refetch:
        try:
            fresh = connector.fetch_orders(list(dict.fromkeys(refetch)))
        except NotImplementedError:
            return  # the order list of this platform carries the refund state itself
        _intake(shop, fresh, actor or "platform", result)


def _upsert_return(shop, order, notice, actor, result: PullResult) -> bool:
    """A refund after shipping → a platform return order (after-sales decides what follows)."""
    from returns.models import ReturnOrder
    from returns.services import ReturnError
    from returns.services import upsert_platform_return as upsert

    lines = [
        (line, notice.quantity or line.quantity, notice.amount)
        for line in order.lines.all()
        if line.platform_line_id == notice.platform_line_id
    ]
    if not lines:
        log.warning(
            "refund %s names line %r, not on order %s",
            notice.platform_refund_id,
            notice.platform_line_id,
            order.order_no,
        )
        return False
    try:
        _ro, created = upsert(
            shop=shop,
            order=order,
            platform_refund_id=notice.platform_refund_id,
            kind=ReturnOrder.Kind.RETURN_GOODS
            if notice.with_goods
            else ReturnOrder.Kind.REFUND_ONLY,
            lines=lines,
            reason=notice.reason,
            refund_amount=notice.amount,
            platform_status=notice.raw.get("status", notice.status)
            if notice.raw
            else notice.status,
            actor=actor or "platform",
        )
    except ReturnError as exc:
        # a refund the returns service refuses must not stop the pull: it is reported instead
        result.rejected.append(
            f"{notice.platform_order_no} refund {notice.platform_refund_id}: {exc}"
        )
        return False
    return created


def sync_shop(*, shop_id: int, actor=None, now=None) -> dict[str, PullResult]:
    """Pull orders then refunds of one shop (the scheduled task and the "sync now" button)."""
    shop = Shop.objects.select_related("platform").get(pk=shop_id)
    connector = get_connector(shop)
    if connector is None or not shop.enabled:
        return {}
    return {
        "orders": pull_orders(shop=shop, actor=actor, now=now, connector=connector),
        "refunds": pull_refunds(shop=shop, actor=actor, now=now, connector=connector),
    }


MANUAL_SYNC_INTERVAL = timedelta(minutes=5)


class TooSoon(Exception):
    def __init__(self, wait: timedelta):
        super().__init__(wait)
        self.wait = wait


def request_manual_sync(*, shop_id: int, actor, now=None) -> datetime:
    """Record a "sync now" request; refused (TooSoon) within 5 minutes of the previous one.

    Checked and recorded under the shop's row lock, so two clicks cannot both pass.
    """
    now = now or timezone.now()
    with transaction.atomic():
        shop = Shop.objects.select_for_update().get(pk=shop_id)
        last = _parse((shop.sync_state or {}).get("manual_sync_at"))
        if last and now - last < MANUAL_SYNC_INTERVAL:
            raise TooSoon(MANUAL_SYNC_INTERVAL - (now - last))
        label = getattr(actor, "username", None) or str(actor or "")
        update_sync_state(shop_id, manual_sync_at=now.isoformat(), manual_sync_by=label)
    return now
