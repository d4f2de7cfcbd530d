"""Warehouse services: tracking numbers, waves, printing, scan verification (复核), shipping.

Every function is one business action: keyword-only arguments, one transaction, the actor
recorded in an order event. Order rows are locked (SELECT … FOR UPDATE, in id order) before
anything is decided, so two workers can neither print nor ship the same order twice.
Errors are ``FulfilmentError`` (``ScanError`` for the scan page) with a stable ``code`` and a
message for people; when one is raised nothing has changed.
"""

from __future__ import annotations

import math
import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

from django.db import IntegrityError, connection, transaction
from django.db.models import Case, Count, Exists, F, OuterRef, Prefetch, Q, Sum, When
from django.utils import timezone
from django.utils.translation import gettext as _

from channels import outbox
from inventory import services as stock
from orders.models import (
    Carrier,
    HandoverBatch,
    HandoverItem,
    Order,
    OrderComponent,
    OrderHold,
    OrderLine,
    PrintRecord,
    TrackingNumber,
    TrackingNumberRange,
    Wave,
    WaveOrder,
)
from orders.services.events import record_event

S = Order.Status
MAX_RANGE_SIZE = 10_000_000


class FulfilmentError(Exception):
    def __init__(self, code: str, message: str, **details):
        super().__init__(message)
        self.code = code
        self.message = message
        self.details = details


class ScanError(FulfilmentError):
    pass


def _user(actor):
    return actor if getattr(actor, "pk", None) else None


def is_held(order: Order) -> bool:
    """Held while the flag is set or an unreleased hold exists."""
    return order.on_hold or order.holds.filter(released_at__isnull=True).exists()


def held_ids(ids) -> set[int]:
    """Of these orders, the ones held (flag set or an unreleased hold), in one query."""
    ids = list(ids)
    return set(
        Order.objects.filter(pk__in=ids)
        .filter(Q(on_hold=True) | Q(holds__released_at__isnull=True, holds__isnull=False))
        .values_list("pk", flat=True)
    )


def _lock_orders(ids) -> list[Order]:
    return list(
        Order.objects.select_for_update(of=("self",))
        .filter(pk__in=list(ids))
        .select_related("carrier", "shop")
        .order_by("pk")
    )


def _lock_order(order: Order) -> Order:
    locked = _lock_orders([order.pk])
    if not locked:
        raise FulfilmentError("not_found", _("Order not found."))
    return locked[0]


def _new_number(prefix: str, pk: int) -> str:
    return f"{prefix}{timezone.localdate():%Y%m%d}-{pk:05d}"


# --- tracking numbers ------------------------------------------------------------------------


class TrackingNumberProvider(Protocol):
    """Where tracking numbers come from. The pool is one; an electronic-waybill service (电子面单:
    the carrier's or the platform's API) is another: implement ``allocate`` and register it for a
    carrier code with ``register_provider``.
    """

    source: str

    def allocate(self, *, carrier: Carrier, orders: list[Order], actor) -> list[str]:
        """One new tracking number per order, in the same order; raise FulfilmentError if not."""


class PoolProvider:
    """Numbers from the carrier's imported ranges, in range order, each taken once."""

    source = TrackingNumber.Source.POOL

    def allocate(self, *, carrier, orders, actor) -> list[str]:
        return take_pool_numbers(carrier=carrier, count=len(orders))


_PROVIDERS: dict[str, TrackingNumberProvider] = {}


def register_provider(carrier_code: str, provider: TrackingNumberProvider | None) -> None:
    """Plug an electronic-waybill service in for one carrier (None goes back to the pool)."""
    if provider is None:
        _PROVIDERS.pop(carrier_code, None)
    else:
        _PROVIDERS[carrier_code] = provider


def provider_for(carrier: Carrier) -> TrackingNumberProvider:
    return _PROVIDERS.get(carrier.code) or PoolProvider()


def take_pool_numbers(*, carrier: Carrier, count: int) -> list[str]:
    """Take ``count`` numbers from the carrier's ranges (call inside the caller's transaction).

    The ranges are locked, so concurrent prints take different numbers; ``next_value`` only
    grows, so a number is never handed out twice. Numbers already used (typed in by hand) are
    skipped. Raises ``FulfilmentError("pool_exhausted")`` when the pool has too few.
    """
    if count <= 0:
        return []
    taken: list[str] = []
    with transaction.atomic():
        ranges = list(
            TrackingNumberRange.objects.select_for_update()
            .filter(carrier=carrier, next_value__lte=F("end"))
            .order_by("id")
        )
        for rng in ranges:
            while len(taken) < count and rng.next_value <= rng.end:
                want = count - len(taken)
                stop = min(rng.end, rng.next_value + want - 1)
                candidates = [rng.format(v) for v in range(rng.next_value, stop + 1)]
                used = set(
                    TrackingNumber.objects.filter(
                        carrier=carrier, number__in=candidates
                    ).values_list("number", flat=True)
                )
                taken.extend(c for c in candidates if c not in used)
                rng.next_value = stop + 1
            rng.save(update_fields=["next_value"])
            if len(taken) >= count:
                break
        if len(taken) < count:
            raise FulfilmentError(
                "pool_exhausted",
                _("The number pool of %(carrier)s has %(have)d numbers left, %(need)d needed.")
                % {"carrier": carrier.name, "have": len(taken), "need": count},
            )
    return taken


def pool_remaining(carrier: Carrier) -> int:
    return sum(r.remaining for r in carrier.ranges.all())


_RANGE_LINE = re.compile(
    r"^\s*(?:([A-Za-z]{0,16})\s*[,;\t]\s*)?(\d{1,18})\s*[,;\t-]\s*(\d{1,18})\s*$"
)


@dataclass
class RangeImportError(Exception):
    problems: list[str] = field(default_factory=list)

    def __str__(self):
        return "\n".join(self.problems)


def parse_ranges(text: str) -> list[tuple[str, int, int, int]]:
    """Lines ``start,end`` or ``prefix,start,end`` (also ``;``, tab or ``start-end``); ``#``
    comments and blank lines are skipped; a header line ``prefix,start,end`` is allowed.
    Zero padding is kept: the width of ``start`` is the width of every number.
    Returns [(prefix, start, end, width)]; raises RangeImportError listing every bad line.
    """
    result, problems = [], []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip().lstrip("\ufeff")
        if not line or line.startswith("#"):
            continue
        if number == 1 and re.match(r"^\s*(prefix\s*[,;\t]\s*)?start", line, re.I):
            continue
        match = _RANGE_LINE.match(line)
        if not match:
            problems.append(
                _("line %(n)d: expected “start,end” or “prefix,start,end”") % {"n": number}
            )
            continue
        prefix, start_text, end_text = match.group(1) or "", match.group(2), match.group(3)
        start, end = int(start_text), int(end_text)
        if end < start:
            problems.append(_("line %(n)d: the last number is below the first") % {"n": number})
            continue
        if end - start + 1 > MAX_RANGE_SIZE:
            problems.append(
                _("line %(n)d: more than %(max)d numbers in one range")
                % {"n": number, "max": MAX_RANGE_SIZE}
            )
            continue
        width = len(start_text) if start_text.startswith("0") else 0
        result.append((prefix, start, end, width))
    if problems:
        raise RangeImportError(problems)
    if not result:
        raise RangeImportError([_("the file holds no range")])
    return result


def import_tracking_ranges(*, carrier: Carrier, text: str, actor, source: str = ""):
    """Add the ranges of a file to a carrier's pool: all of them, or none.

    A range overlapping one already imported (or another line of the file) is refused, since
    its numbers could otherwise be handed out twice.
    """
    parsed = parse_ranges(text)
    problems = []
    with transaction.atomic():
        # Serialise imports for this carrier so two imports cannot both pass the overlap check.
        Carrier.objects.select_for_update().get(pk=carrier.pk)
        existing = list(TrackingNumberRange.objects.filter(carrier=carrier))
        seen: list[tuple[str, int, int]] = [(r.prefix, r.start, r.end) for r in existing]
        for prefix, start, end, _width in parsed:
            for p, s, e in seen:
                if p == prefix and start <= e and s <= end:
                    problems.append(
                        _("range %(prefix)s%(start)s–%(end)s overlaps a range already in the pool")
                        % {"prefix": prefix, "start": start, "end": end}
                    )
                    break
            seen.append((prefix, start, end))
        if problems:
            raise RangeImportError(problems)
        created = [
            TrackingNumberRange.objects.create(
                carrier=carrier,
                prefix=prefix,
                start=start,
                end=end,
                width=width,
                next_value=start,
                imported_by=_user(actor),
                source=source[:255],
            )
            for prefix, start, end, width in parsed
        ]
    return created


def _assign(order: Order, number: str, source: str, actor) -> None:
    try:
        with transaction.atomic():
            TrackingNumber.objects.create(
                carrier=order.carrier,
                number=number,
                source=source,
                order=order,
                assigned_by=_user(actor),
            )
    except IntegrityError as exc:
        raise FulfilmentError(
            "number_used",
            _("Tracking number %(number)s has been used already; a number is used only once.")
            % {"number": number},
        ) from exc
    order.tracking_no = number


def _assign_many(orders: list[Order], numbers: list[str], source: str, actor) -> None:
    """Record new numbers for many orders in one statement (a number used before fails all)."""
    try:
        with transaction.atomic():
            TrackingNumber.objects.bulk_create(
                [
                    TrackingNumber(
                        carrier=o.carrier,
                        number=n,
                        source=source,
                        order=o,
                        assigned_by=_user(actor),
                    )
                    for o, n in zip(orders, numbers, strict=True)
                ]
            )
    except IntegrityError as exc:
        raise FulfilmentError(
            "number_used",
            _("A tracking number given out has been used already; nothing was printed."),
        ) from exc
    for order, number in zip(orders, numbers, strict=True):
        order.tracking_no = number


def _void_live_number(order: Order, actor, reason: str) -> str:
    live = TrackingNumber.objects.filter(order=order, voided_at__isnull=True).first()
    if live is None:
        return ""
    live.voided_at = timezone.now()
    live.voided_by = _user(actor)
    live.void_reason = reason[:255]
    live.save(update_fields=["voided_at", "voided_by", "void_reason"])
    return live.number


def set_tracking_number(*, order: Order, number: str, actor, carrier: Carrier | None = None):
    """Type a tracking number in (a pre-printed waybill). Replaces a live one, which is voided."""
    number = (number or "").strip()
    if not number or len(number) > 64:
        raise FulfilmentError("bad_number", _("Enter a tracking number of 1 to 64 characters."))
    with transaction.atomic():
        order = _lock_order(order)
        if order.status not in (S.REVIEWED, S.PRINTED):
            raise FulfilmentError(
                "bad_state",
                _("Only reviewed or printed orders take a tracking number (this one is %(s)s).")
                % {"s": order.get_status_display()},
            )
        if carrier is not None:
            order.carrier = carrier
        if order.carrier_id is None:
            raise FulfilmentError("no_carrier", _("Choose a carrier first."))
        before = order.tracking_no
        _void_live_number(order, actor, _("replaced by a typed-in number"))
        _assign(order, number, TrackingNumber.Source.MANUAL, actor)
        order.save(update_fields=["tracking_no", "carrier", "updated_at"])
        record_event(
            order=order,
            kind="tracking_assigned",
            actor=actor,
            message=_("Tracking number typed in"),
            before={"tracking_no": before},
            after={"tracking_no": number, "carrier": order.carrier.code},
        )
    return order


def cancel_waybill(*, order: Order, actor, reason: str = ""):
    """Cancel a printed waybill: its number is voided for good, the order goes back to reviewed
    and gets a new number when printed again."""
    with transaction.atomic():
        order = _lock_order(order)
        if order.status not in (S.PRINTED, S.VERIFIED):
            raise FulfilmentError(
                "bad_state",
                _("Only a printed, unshipped order has a waybill to cancel."),
            )
        before = {"status": order.status, "tracking_no": order.tracking_no}
        number = _void_live_number(order, actor, reason or _("waybill cancelled"))
        order.status = S.REVIEWED
        order.tracking_no = ""
        order.printed_at = None
        order.verified_at = None
        order.save(
            update_fields=["status", "tracking_no", "printed_at", "verified_at", "updated_at"]
        )
        record_event(
            order=order,
            kind="waybill_cancelled",
            actor=actor,
            message=reason or _("Waybill %(number)s cancelled") % {"number": number},
            before=before,
            after={"status": order.status, "tracking_no": ""},
        )
    return order


# --- waves ----------------------------------------------------------------------------------


def _wave_problems(orders: list[Order], carrier: Carrier | None) -> list[str]:
    problems = []
    in_wave = set(WaveOrder.objects.filter(order__in=orders).values_list("order_id", flat=True))
    held = held_ids(o.pk for o in orders)
    for order in orders:
        if order.status != S.REVIEWED:
            problems.append(
                _("%(order)s is %(status)s, not reviewed")
                % {"order": order.order_no, "status": order.get_status_display()}
            )
        elif order.pk in held:
            problems.append(_("%(order)s is held") % {"order": order.order_no})
        elif order.pk in in_wave:
            problems.append(_("%(order)s is in another wave already") % {"order": order.order_no})
        elif carrier and order.carrier_id and order.carrier_id != carrier.pk:
            problems.append(
                _("%(order)s goes by another carrier (%(carrier)s)")
                % {"order": order.order_no, "carrier": order.carrier.name}
            )
    return problems


def _make_wave(orders: list[Order], carrier: Carrier, actor, note: str) -> Wave:
    wave = Wave.objects.create(
        number=uuid.uuid4().hex[:32], carrier=carrier, note=note[:255], created_by=_user(actor)
    )
    wave.number = _new_number("W", wave.pk)
    wave.save(update_fields=["number"])
    WaveOrder.objects.bulk_create(
        [WaveOrder(wave=wave, order=o, position=i) for i, o in enumerate(orders, 1)]
    )
    for order in orders:
        record_event(
            order=order,
            kind="wave",
            actor=actor,
            message=_("Added to wave %(wave)s") % {"wave": wave.number},
            after={"wave": wave.number},
        )
    return wave


def create_wave(*, orders, actor, carrier: Carrier | None = None, note: str = "") -> Wave:
    """A wave of chosen orders: all reviewed, not held, in no other wave, one carrier."""
    ids = [o.pk if isinstance(o, Order) else int(o) for o in orders]
    if not ids:
        raise FulfilmentError("empty", _("Choose at least one order."))
    with transaction.atomic():
        locked = _lock_orders(ids)
        by_pk = {o.pk: o for o in locked}
        ordered = [by_pk[i] for i in dict.fromkeys(ids) if i in by_pk]
        if carrier is None:
            carriers = {o.carrier_id for o in ordered if o.carrier_id}
            if len(carriers) != 1:
                raise FulfilmentError(
                    "carrier", _("Choose the carrier: the orders have none or several.")
                )
            carrier = Carrier.objects.get(pk=carriers.pop())
        problems = _wave_problems(ordered, carrier)
        if problems:
            raise FulfilmentError("bad_orders", "; ".join(problems), problems=problems)
        return _make_wave(ordered, carrier, actor, note)


def wave_candidates(*, carrier: Carrier, shop=None, single_item_first: bool = True):
    """Reviewed, unheld orders in no wave, for this carrier (or none yet), oldest paid first."""
    qs = (
        Order.objects.filter(status=S.REVIEWED, on_hold=False, wave_item__isnull=True)
        .filter(Q(carrier=carrier) | Q(carrier__isnull=True))
        .exclude(Exists(OrderHold.objects.filter(order=OuterRef("pk"), released_at__isnull=True)))
    )
    if shop is not None:
        qs = qs.filter(shop=shop)
    order_by = ["paid_at", "pk"]
    if single_item_first:
        qs = qs.annotate(
            _lines=Count("lines", distinct=True), _qty=Sum("lines__quantity")
        ).annotate(_single=Case(When(_lines=1, _qty=1, then=1), default=0))
        order_by = ["-_single", *order_by]
    return qs.order_by(*order_by)


def create_wave_by_filter(
    *,
    carrier: Carrier,
    actor,
    shop=None,
    limit: int | None = None,
    single_item_first: bool = True,
    note: str = "",
) -> Wave:
    """A wave of up to ``limit`` matching orders; orders another worker is waving are skipped."""
    if limit is not None and limit <= 0:
        raise FulfilmentError("limit", _("The number of orders must be positive."))
    with transaction.atomic():
        ids = list(
            wave_candidates(
                carrier=carrier, shop=shop, single_item_first=single_item_first
            ).values_list("pk", flat=True)[: limit or None]
        )
        if not ids:
            raise FulfilmentError("empty", _("No reviewed order matches."))
        locked = {
            o.pk: o
            for o in Order.objects.select_for_update(of=("self",), skip_locked=True)
            .filter(pk__in=ids, status=S.REVIEWED, on_hold=False, wave_item__isnull=True)
            .filter(Q(carrier=carrier) | Q(carrier__isnull=True))
            .select_related("carrier")
            .order_by("pk")
        }
        ordered = [locked[i] for i in ids if i in locked]
        held = held_ids(locked)
        ordered = [o for o in ordered if o.pk not in held]
        if not ordered:
            raise FulfilmentError("empty", _("No reviewed order matches."))
        return _make_wave(ordered, carrier, actor, note)


def remove_from_wave(*, order: Order, actor) -> None:
    """Take an unprinted order out of its wave (e.g. held before printing)."""
    with transaction.atomic():
        order = _lock_order(order)
        item = WaveOrder.objects.filter(order=order).select_related("wave").first()
        if item is None:
            return
        if order.status != S.REVIEWED:
            raise FulfilmentError("bad_state", _("A printed order stays in its wave."))
        wave = item.wave.number
        item.delete()
        record_event(
            order=order,
            kind="wave",
            actor=actor,
            message=_("Removed from wave %(wave)s") % {"wave": wave},
            before={"wave": wave},
        )


# --- printing -------------------------------------------------------------------------------


@dataclass
class PrintOutcome:
    pdf: bytes
    record: PrintRecord | None
    printed: list[Order]
    skipped: list[tuple[Order, str]]


def orders_for_print(ids) -> list[Order]:
    """Orders with everything a document shows, loaded in a few queries, in the given order."""
    ids = list(ids)
    components = OrderComponent.objects.select_related("product").order_by("product__code")
    lines = OrderLine.objects.order_by("pk").prefetch_related(
        Prefetch("components", queryset=components)
    )
    found = {
        o.pk: o
        for o in Order.objects.filter(pk__in=ids)
        .select_related("shop", "carrier")
        .prefetch_related(Prefetch("lines", queryset=lines))
    }
    return [found[i] for i in ids if i in found]


def _wave_order_ids(wave: Wave) -> list[int]:
    return list(wave.items.order_by("position").values_list("order_id", flat=True))


def _print_events(orders, kind: str, reprinted: set[int], actor, wave: Wave | None):
    label = PrintRecord.Kind(kind).label
    for order in orders:
        again = order.pk in reprinted
        record_event(
            order=order,
            kind="reprinted" if again else "document_printed",
            actor=actor,
            message=(_("%(doc)s reprinted") if again else _("%(doc)s printed")) % {"doc": label},
            after={
                "document": kind,
                "reprint": again,
                "wave": wave.number if wave else None,
                "tracking_no": order.tracking_no,
            },
        )


def _record(kind, orders, actor, *, wave=None, reprint=False, pages=0) -> PrintRecord:
    record = PrintRecord.objects.create(
        kind=kind, wave=wave, reprint=reprint, page_count=pages, printed_by=_user(actor)
    )
    record.orders.add(*orders)
    return record


def _mark_printed(orders: list[Order], now) -> None:
    """status printed, printed_at, tracking_no, carrier of many orders in one statement."""
    if not orders:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {Order._meta.db_table} AS o SET status = %s, printed_at = %s, "
            "updated_at = %s, tracking_no = v.t, carrier_id = v.c "
            "FROM unnest(%s::bigint[], %s::text[], %s::bigint[]) AS v(id, t, c) "
            "WHERE o.id = v.id",
            [
                S.PRINTED.value,
                now,
                now,
                [o.pk for o in orders],
                [o.tracking_no for o in orders],
                [o.carrier_id for o in orders],
            ],
        )


def print_waybills(*, actor, wave: Wave | None = None, orders=None) -> PrintOutcome:
    """Print the express waybills of a wave (or of chosen orders).

    A reviewed, unheld order gets a tracking number (from the carrier's provider, unless one was
    typed in) and becomes ``printed``; an order printed before is reprinted with its number and
    marked a reprint; held (not yet printed) and cancelled orders are skipped and listed.
    """
    from orders.pdf.waybill import render_waybills

    with transaction.atomic():
        if wave is not None:
            wave = Wave.objects.select_for_update().select_related("carrier").get(pk=wave.pk)
            ids = _wave_order_ids(wave)
        else:
            ids = [o.pk if isinstance(o, Order) else int(o) for o in orders or []]
        locked = {o.pk: o for o in _lock_orders(ids)}
        held = held_ids(locked)
        todo, reprinted, skipped = [], set(), []
        fresh: list[Order] = []
        for pk in ids:
            order = locked.get(pk)
            if order is None:
                continue
            if order.status in (S.PRINTED, S.VERIFIED, S.SHIPPED):
                todo.append(order)
                reprinted.add(order.pk)
            elif order.status == S.REVIEWED and order.pk not in held:
                todo.append(order)
                fresh.append(order)
            elif order.status == S.REVIEWED:
                skipped.append((order, _("held")))
            else:
                skipped.append((order, order.get_status_display()))
        if not todo:
            raise FulfilmentError(
                "nothing", _("Nothing to print: every order is held, cancelled or unreviewed.")
            )
        now = timezone.now()
        need_number: dict[int, list[Order]] = defaultdict(list)
        for order in fresh:
            if order.carrier_id is None:
                if wave is None:
                    raise FulfilmentError(
                        "no_carrier", _("%(order)s has no carrier.") % {"order": order.order_no}
                    )
                order.carrier = wave.carrier
            live = (
                order.tracking_no
                and TrackingNumber.objects.filter(
                    order=order, number=order.tracking_no, voided_at__isnull=True
                ).exists()
            )
            if not live:
                need_number[order.carrier_id].append(order)
        for _carrier_id, group in sorted(need_number.items()):
            carrier = group[0].carrier
            provider = provider_for(carrier)
            numbers = provider.allocate(carrier=carrier, orders=group, actor=actor)
            if len(numbers) != len(group):
                raise FulfilmentError(
                    "provider", _("The waybill service returned too few numbers.")
                )
            _assign_many(group, numbers, provider.source, actor)
        for order in fresh:
            order.status = S.PRINTED
            order.printed_at = now
        _mark_printed(fresh, now)
        if wave is not None and wave.status != Wave.Status.PRINTED and fresh:
            wave.status = Wave.Status.PRINTED
            wave.printed_at = now
            wave.printed_by = _user(actor)
            wave.save(update_fields=["status", "printed_at", "printed_by"])
        _print_events(todo, PrintRecord.Kind.WAYBILL, reprinted, actor, wave)
        record = _record(
            PrintRecord.Kind.WAYBILL,
            todo,
            actor,
            wave=wave,
            reprint=bool(reprinted),
            pages=len(todo),
        )
        pdf = render_waybills(orders_for_print([o.pk for o in todo]), reprint_ids=reprinted)
    return PrintOutcome(pdf=pdf, record=record, printed=todo, skipped=skipped)


def print_pick_list(*, wave: Wave, actor) -> PrintOutcome:
    """The wave's pick list: products summed, then per order (cancelled orders left out)."""
    from orders.pdf.documents import render_pick_list

    with transaction.atomic():
        wave = Wave.objects.select_for_update().select_related("carrier").get(pk=wave.pk)
        ids = _wave_order_ids(wave)
        orders = [o for o in orders_for_print(ids) if o.status != S.CANCELLED]
        skipped = [
            (o, o.get_status_display())
            for o in Order.objects.filter(pk__in=ids, status=S.CANCELLED)
        ]
        if not orders:
            raise FulfilmentError("nothing", _("The wave has no order to pick."))
        reprint = wave.prints.filter(kind=PrintRecord.Kind.PICK_LIST).exists()
        _print_events(
            orders,
            PrintRecord.Kind.PICK_LIST,
            {o.pk for o in orders} if reprint else set(),
            actor,
            wave,
        )
        record = _record(PrintRecord.Kind.PICK_LIST, orders, actor, wave=wave, reprint=reprint)
        pdf = render_pick_list(wave, orders, reprint=reprint)
    return PrintOutcome(pdf=pdf, record=record, printed=orders, skipped=skipped)


def print_order_documents(*, kind: str, orders, actor) -> PrintOutcome:
    """Delivery notes or retail invoices, one page per order (cancelled orders are skipped)."""
    from orders.pdf.documents import render_delivery_notes, render_invoices

    renderers = {
        PrintRecord.Kind.DELIVERY_NOTE: render_delivery_notes,
        PrintRecord.Kind.INVOICE: render_invoices,
    }
    if kind not in renderers:
        raise FulfilmentError("kind", _("Unknown document."))
    ids = [o.pk if isinstance(o, Order) else int(o) for o in orders]
    with transaction.atomic():
        loaded = orders_for_print(ids)
        todo = [o for o in loaded if o.status != S.CANCELLED]
        skipped = [(o, o.get_status_display()) for o in loaded if o.status == S.CANCELLED]
        if not todo:
            raise FulfilmentError("nothing", _("Nothing to print."))
        reprinted = set(
            PrintRecord.orders.through.objects.filter(
                printrecord__kind=kind, order_id__in=[o.pk for o in todo]
            ).values_list("order_id", flat=True)
        )
        _print_events(todo, kind, reprinted, actor, None)
        record = _record(kind, todo, actor, reprint=bool(reprinted), pages=len(todo))
        pdf = renderers[kind](todo, reprint_ids=reprinted)
    return PrintOutcome(pdf=pdf, record=record, printed=todo, skipped=skipped)


# --- scan verification (复核) ----------------------------------------------------------------


def find_order_by_scan(code: str) -> Order:
    """The order a scanned tracking number or order number names."""
    code = (code or "").strip()
    if not code:
        raise ScanError("unknown_order", _("Scan a tracking number or an order number."))
    order = (
        Order.objects.filter(Q(tracking_no=code) | Q(order_no=code))
        .select_related("carrier", "shop")
        .order_by("-pk")
        .first()
    )
    if order is None:
        raise ScanError("unknown_order", _("No order has the number %(code)s.") % {"code": code})
    return order


def check_can_verify(order: Order) -> None:
    """Raise the ScanError that stops this order from being verified, if any."""
    if order.status == S.CANCELLED:
        raise ScanError("cancelled", _("Order %(o)s is cancelled.") % {"o": order.order_no})
    if order.status == S.SHIPPED:
        raise ScanError("shipped", _("Order %(o)s has shipped already.") % {"o": order.order_no})
    if is_held(order):
        raise ScanError("held", _("Order %(o)s is held: do not pack it.") % {"o": order.order_no})
    if order.status in (S.PENDING_REVIEW, S.REVIEWED):
        raise ScanError(
            "not_printed", _("Order %(o)s has not been printed.") % {"o": order.order_no}
        )


def expected_items(order: Order) -> list[dict]:
    """What the parcel must hold: one entry per product, with the scan code and the count.

    The scan code is the product's barcode (its product code when it has none); counts are
    whole pieces (a fractional component is rounded up to the pieces packed).
    """
    totals: dict[int, dict] = {}
    for component in OrderComponent.objects.filter(line__order=order).select_related("product"):
        product = component.product
        entry = totals.setdefault(
            product.pk,
            {
                "product_id": product.pk,
                "code": product.barcode or product.code,
                "product_code": product.code,
                "name": product.name,
                "spec": product.spec,
                "quantity": Decimal(0),
            },
        )
        entry["quantity"] += component.quantity
    items = sorted(totals.values(), key=lambda e: e["product_code"])
    for entry in items:
        entry["expected"] = int(math.ceil(entry.pop("quantity")))
    return items


def _match(items: list[dict], code: str) -> dict | None:
    code = (code or "").strip()
    for entry in items:
        if code and code in (entry["code"], entry["product_code"]):
            return entry
    return None


def _clean_tally(items: list[dict], scanned: dict) -> dict[str, int]:
    """The client's tally, keyed by scan code, checked against the order (never trusted)."""
    known = {e["code"]: e["expected"] for e in items}
    tally: dict[str, int] = {}
    for code, count in (scanned or {}).items():
        try:
            count = int(count)
        except (TypeError, ValueError) as exc:
            raise ScanError("bad_tally", _("The scan list is damaged; start again.")) from exc
        if code not in known or count < 0 or count > known[code]:
            raise ScanError("bad_tally", _("The scan list is damaged; start again."))
        if count:
            tally[code] = count
    return tally


def scan_item(*, order: Order, scanned: dict, code: str, actor) -> dict:
    """One item scanned into the parcel of ``order``.

    ``scanned`` is the tally so far ({scan code: count}). A wrong item, one too many, or an
    order that may not be verified raises ScanError and changes nothing. Returns the new tally
    and, once everything expected is scanned, verifies the order (status ``verified``).
    """
    order = Order.objects.select_related("carrier", "shop").get(pk=order.pk)
    check_can_verify(order)
    if order.status == S.VERIFIED:
        raise ScanError("verified", _("Order %(o)s is verified already.") % {"o": order.order_no})
    items = expected_items(order)
    tally = _clean_tally(items, scanned)
    entry = _match(items, code)
    if entry is None and code.strip() and code.strip() != order.tracking_no:
        other = Order.objects.filter(Q(tracking_no=code.strip()) | Q(order_no=code.strip()))
        if other.exclude(pk=order.pk).exists():
            raise ScanError(
                "other_order",
                _("%(code)s is another parcel's number: finish order %(o)s or press Esc.")
                % {"code": code.strip(), "o": order.order_no},
            )
    if entry is None:
        raise ScanError(
            "wrong_item",
            _("%(code)s is not in order %(o)s: take it out.") % {"code": code, "o": order.order_no},
        )
    if tally.get(entry["code"], 0) + 1 > entry["expected"]:
        raise ScanError(
            "too_many",
            _("One %(name)s too many: order %(o)s needs %(n)d.")
            % {"name": entry["name"], "o": order.order_no, "n": entry["expected"]},
        )
    tally[entry["code"]] = tally.get(entry["code"], 0) + 1
    complete = all(tally.get(e["code"], 0) == e["expected"] for e in items)
    if complete:
        order = verify_order(order=order, scanned=tally, actor=actor)
    return {"order": order, "items": items, "scanned": tally, "complete": complete}


def verify_order(*, order: Order, scanned: dict, actor) -> Order:
    """Mark a printed order verified once the scanned tally equals what it must hold."""
    with transaction.atomic():
        order = _lock_order(order)
        check_can_verify(order)
        if order.status != S.PRINTED:
            raise ScanError(
                "verified", _("Order %(o)s is verified already.") % {"o": order.order_no}
            )
        items = expected_items(order)
        tally = _clean_tally(items, scanned)
        missing = [e for e in items if tally.get(e["code"], 0) != e["expected"]]
        if missing:
            raise ScanError(
                "missing",
                _("Still missing: %(items)s")
                % {"items": ", ".join(f"{e['name']} × {e['expected']}" for e in missing)},
            )
        order.status = S.VERIFIED
        order.verified_at = timezone.now()
        order.save(update_fields=["status", "verified_at", "updated_at"])
        record_event(
            order=order,
            kind="verified",
            actor=actor,
            message=_("Verified by scanning"),
            before={"status": S.PRINTED},
            after={"status": S.VERIFIED, "scanned": tally},
        )
    return order


# --- shipping -------------------------------------------------------------------------------


def _shipment_notices(order: Order) -> list[tuple[Order, dict]]:
    """One shipment notice per platform order in the parcel: the order's own lines, and the
    lines of each order merged into it (they share its carrier and tracking number)."""
    by_origin: dict[int, list[str]] = {order.pk: []}
    origins = {order.pk: order}
    for line in order.lines.select_related("merged_from").order_by("pk"):
        origin = line.merged_from or order
        origins.setdefault(origin.pk, origin)
        if line.platform_line_id:
            by_origin.setdefault(origin.pk, []).append(line.platform_line_id)
        else:
            by_origin.setdefault(origin.pk, [])
    return [
        (
            origins[pk],
            {
                "order_no": order.order_no,
                "platform_order_no": origins[pk].platform_order_no,
                "carrier": order.carrier.code if order.carrier_id else "",
                "carrier_name": order.carrier.name if order.carrier_id else "",
                "tracking_no": order.tracking_no,
                "shipped_at": order.shipped_at.isoformat(),
                "platform_line_ids": line_ids,
            },
        )
        for pk, line_ids in by_origin.items()
    ]


def ship_order(*, order: Order, actor, handover: HandoverBatch | None = None) -> Order:
    """Ship a verified order: its reservation becomes a ledger deduction, the order ``shipped``
    with its time, and a shipment notice for its platform is queued, all in one transaction."""
    with transaction.atomic():
        order = _lock_order(order)
        if order.status == S.SHIPPED:
            raise FulfilmentError(
                "shipped", _("Order %(o)s has shipped already.") % {"o": order.order_no}
            )
        if order.status == S.CANCELLED:
            raise FulfilmentError(
                "cancelled", _("Order %(o)s is cancelled.") % {"o": order.order_no}
            )
        if is_held(order):
            raise FulfilmentError(
                "held", _("Order %(o)s is held and cannot ship.") % {"o": order.order_no}
            )
        if order.status != S.VERIFIED:
            raise FulfilmentError(
                "not_verified",
                _("Order %(o)s must be verified by scanning before it ships.")
                % {"o": order.order_no},
            )
        stock.ship(document=order.document, actor=_user(actor), note=order.order_no)
        order.status = S.SHIPPED
        order.shipped_at = timezone.now()
        order.save(update_fields=["status", "shipped_at", "updated_at"])
        for origin, payload in _shipment_notices(order):
            outbox.enqueue(
                shop=origin.shop,
                kind="shipment",
                dedupe_key=f"shipment:{origin.pk}",
                payload=payload,
            )
        record_event(
            order=order,
            kind="shipped",
            actor=actor,
            message=(
                _("Shipped in handover %(batch)s") % {"batch": handover.number}
                if handover
                else _("Shipped")
            ),
            before={"status": S.VERIFIED},
            after={
                "status": S.SHIPPED,
                "carrier": order.carrier.code if order.carrier_id else "",
                "tracking_no": order.tracking_no,
            },
        )
    return order


def create_handover_batch(*, carrier: Carrier, actor, orders=None) -> HandoverBatch:
    """A handover batch of the carrier's verified, unheld orders not handed over yet (or of the
    chosen ones, which must all qualify)."""
    with transaction.atomic():
        qs = Order.objects.filter(carrier=carrier, status=S.VERIFIED, handover_item__isnull=True)
        if orders is not None:
            ids = [o.pk if isinstance(o, Order) else int(o) for o in orders]
            chosen = _lock_orders(ids)
            bad = [
                o.order_no
                for o in chosen
                if o.carrier_id != carrier.pk
                or o.status != S.VERIFIED
                or is_held(o)
                or HandoverItem.objects.filter(order=o).exists()
            ]
            if bad:
                raise FulfilmentError(
                    "bad_orders",
                    _("Not verified, held, handed over already or another carrier: %(o)s")
                    % {"o": ", ".join(bad)},
                )
        else:
            chosen = [
                o
                for o in Order.objects.select_for_update(of=("self",), skip_locked=True)
                .filter(pk__in=qs.values("pk"))
                .order_by("pk")
                if not is_held(o)
            ]
        if not chosen:
            raise FulfilmentError(
                "empty", _("No verified order of %(c)s waits for handover.") % {"c": carrier.name}
            )
        batch = HandoverBatch.objects.create(
            number=uuid.uuid4().hex[:32], carrier=carrier, created_by=_user(actor)
        )
        batch.number = _new_number("H", batch.pk)
        batch.save(update_fields=["number"])
        HandoverItem.objects.bulk_create([HandoverItem(batch=batch, order=o) for o in chosen])
        for order in chosen:
            record_event(
                order=order,
                kind="handover",
                actor=actor,
                message=_("Added to handover %(batch)s") % {"batch": batch.number},
                after={"handover": batch.number},
            )
    return batch


@dataclass
class HandoverOutcome:
    batch: HandoverBatch
    shipped: list[Order]
    problems: list[tuple[Order, str]]


def ship_handover_batch(*, batch: HandoverBatch, actor) -> HandoverOutcome:
    """Ship every order of the batch; one that may not ship (held since, cancelled) is taken out
    of the batch and reported, the others ship."""
    with transaction.atomic():
        batch = HandoverBatch.objects.select_for_update().get(pk=batch.pk)
        if batch.shipped_at:
            raise FulfilmentError("shipped", _("This handover batch has shipped already."))
        shipped, problems = [], []
        for item in batch.items.select_related("order").order_by("order_id"):
            try:
                with transaction.atomic():
                    shipped.append(ship_order(order=item.order, actor=actor, handover=batch))
            except FulfilmentError as exc:
                problems.append((item.order, exc.message))
                item.delete()
                record_event(
                    order=item.order,
                    kind="handover",
                    actor=actor,
                    message=_("Taken out of handover %(batch)s: %(reason)s")
                    % {"batch": batch.number, "reason": exc.message},
                )
        if not shipped:
            raise FulfilmentError(
                "nothing",
                _("No order of this batch can ship: %(p)s")
                % {"p": "; ".join(m for _o, m in problems)},
            )
        batch.shipped_at = timezone.now()
        batch.shipped_by = _user(actor)
        batch.save(update_fields=["shipped_at", "shipped_by"])
    return HandoverOutcome(batch=batch, shipped=shipped, problems=problems)


# --- shipment files for platforms without an API ---------------------------------------------

SHIPMENT_FILE_COLUMNS = [
    "platform_order_no",
    "order_no",
    "carrier_code",
    "carrier_name",
    "tracking_no",
    "shipped_at",
]


def shipment_file(*, shop, shipped_from=None, shipped_to=None) -> bytes:
    """The tracking numbers of a shop's shipped orders as a CSV file (UTF-8 with BOM, so Excel
    opens it), for platforms that take shipments as an uploaded file. Times in Asia/Shanghai.
    """
    import csv
    import io

    qs = Order.objects.filter(shop=shop, status=S.SHIPPED).select_related("carrier")
    if shipped_from is not None:
        qs = qs.filter(shipped_at__gte=shipped_from)
    if shipped_to is not None:
        qs = qs.filter(shipped_at__lt=shipped_to)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(SHIPMENT_FILE_COLUMNS)
    for order in qs.order_by("shipped_at", "pk").iterator():
        writer.writerow(
            [
                order.platform_order_no,
                order.order_no,
                order.carrier.code if order.carrier_id else "",
                order.carrier.name if order.carrier_id else "",
                order.tracking_no,
                timezone.localtime(order.shipped_at).isoformat(timespec="seconds"),
            ]
        )
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")
