"""Tracking numbers (快递单号): the carriers' number pools and providers, assigning a number to
an order, setting one by hand, cancelling a waybill (a number is never used twice).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import (
    Carrier,
    Order,
    TrackingNumber,
    TrackingNumberRange,
)
from orders.services.events import record_event
from orders.services.kernel import (
    OrderError,
    actor_user,
    lock_order,
)

S = Order.Status
MAX_RANGE_SIZE = 10_000_000


class TrackingNumberProvider(Protocol):
    """Where tracking numbers come from. The pool is one; an electronic-waybill service (电子面单:
    the carrier's or the platform's API) is another: implement ``allocate`` and register it for a
    carrier code with ``register_provider``.
    """

    source: str

    def allocate(self, *, carrier: Carrier, orders: list[Order], actor) -> list[str]:
        """One new tracking number per order, in the same order; raise OrderError if not."""


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
    """A provider registered for the carrier's code; else its electronic waybill subscriptions
    when the carrier takes numbers from a service; else its number pool."""
    if carrier.code in _PROVIDERS:
        return _PROVIDERS[carrier.code]
    if carrier.number_source != Carrier.NumberSource.POOL:
        from orders.services.waybills import WaybillServiceProvider

        return WaybillServiceProvider()
    return PoolProvider()


def take_pool_numbers(*, carrier: Carrier, count: int) -> list[str]:
    """Take ``count`` numbers from the carrier's ranges (call inside the caller's transaction).

    The ranges are locked, so concurrent prints take different numbers; ``next_value`` only
    grows, so a number is never handed out twice. Numbers already used (typed in by hand) are
    skipped. Raises ``OrderError("pool_exhausted")`` when the pool has too few.
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
            raise OrderError(
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
                imported_by=actor_user(actor),
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
                assigned_by=actor_user(actor),
            )
    except IntegrityError as exc:
        raise OrderError(
            "number_used",
            _("Tracking number %(number)s has been used already; a number is used only once.")
            % {"number": number},
        ) from exc
    order.tracking_no = number


def assign_numbers(
    orders: list[Order], numbers: list, source: str, actor, *, fallback_reason: str = ""
) -> None:
    """Record new numbers for many orders in one statement (a number used before fails all).
    ``numbers``: plain strings, or a waybill service's ``Issued`` values with routing data."""

    def row(order, issued):
        extra = {}
        if not isinstance(issued, str):
            extra = {
                "subscription_id": issued.subscription_id,
                "request_key": issued.request_key[:64],
                "short_address": issued.short_address[:64],
                "package_center": issued.package_center[:64],
                "package_center_code": issued.package_center_code[:32],
                "sort_code": issued.sort_code[:64],
            }
            issued = issued.number
        return TrackingNumber(
            carrier=order.carrier,
            number=issued,
            source=source,
            order=order,
            assigned_by=actor_user(actor),
            fallback_reason=fallback_reason[:255],
            **extra,
        )

    try:
        with transaction.atomic():
            TrackingNumber.objects.bulk_create(
                [row(o, n) for o, n in zip(orders, numbers, strict=True)]
            )
    except IntegrityError as exc:
        raise OrderError(
            "number_used",
            _("A tracking number given out has been used already; nothing was printed."),
        ) from exc
    for order, number in zip(orders, numbers, strict=True):
        order.tracking_no = number if isinstance(number, str) else number.number


def _void_live_number(order: Order, actor, reason: str, *, give_back: bool = False) -> str:
    """Void the order's live number; ``give_back``: a service's number is cancelled at the
    service too (取消面单), so its account gets it back. Returns the number."""
    live = TrackingNumber.objects.filter(order=order, voided_at__isnull=True).first()
    if live is None:
        return ""
    live.voided_at = timezone.now()
    live.voided_by = actor_user(actor)
    live.void_reason = reason[:255]
    live.save(update_fields=["voided_at", "voided_by", "void_reason"])
    if give_back and live.subscription_id:
        from orders.services.waybills import give_back as cancel_at_service

        problem = cancel_at_service(live)
        record_event(
            order=order,
            kind="waybill_cancelled",
            actor=actor,
            message=(
                _("Waybill %(number)s given back to the waybill service") % {"number": live.number}
                if not problem
                else _("Waybill %(number)s not given back to the waybill service: %(error)s")
                % {"number": live.number, "error": problem}
            ),
        )
    return live.number


def set_tracking_number(*, order: Order, number: str, actor, carrier: Carrier | None = None):
    """Type a tracking number in (a pre-printed waybill). Replaces a live one, which is voided."""
    number = (number or "").strip()
    if not number or len(number) > 64:
        raise OrderError("bad_number", _("Enter a tracking number of 1 to 64 characters."))
    with transaction.atomic():
        order = lock_order(order)
        if order.status not in (S.REVIEWED, S.PRINTED):
            raise OrderError(
                "bad_state",
                _("Only reviewed or printed orders take a tracking number (this one is %(s)s).")
                % {"s": order.get_status_display()},
            )
        if carrier is not None:
            order.carrier = carrier
        if order.carrier_id is None:
            raise OrderError("no_carrier", _("Choose a carrier first."))
        before = order.tracking_no
        _void_live_number(order, actor, _("replaced by a typed-in number"), give_back=True)
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
        order = lock_order(order)
        if order.status not in (S.PRINTED, S.VERIFIED):
            raise OrderError(
                "bad_state",
                _("Only a printed, unshipped order has a waybill to cancel."),
            )
        before = {"status": order.status, "tracking_no": order.tracking_no}
        number = _void_live_number(order, actor, reason or _("waybill cancelled"), give_back=True)
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
