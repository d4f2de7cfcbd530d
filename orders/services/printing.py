"""Printing: waybills (assigning tracking numbers, orders become 已打单), pick lists, delivery
notes and invoices; every print is a PrintRecord and an order event.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from orders.models import (
    Order,
    PrintRecord,
    TrackingNumber,
    Wave,
)
from orders.selectors import orders_for_print
from orders.services.events import record_event
from orders.services.kernel import (
    OrderError,
    actor_user,
    held_ids,
    lock_orders,
)
from orders.services.platform_changes import release_address_changed
from orders.services.tracking import PoolProvider, assign_numbers, provider_for

S = Order.Status


@dataclass
class PrintOutcome:
    pdf: bytes
    record: PrintRecord | None
    printed: list[Order]
    skipped: list[tuple[Order, str]]
    # Said to the person printing: e.g. the pool stood in for a waybill service that was down.
    notices: list[str] = field(default_factory=list)
    provider_seconds: float = 0.0  # time spent waiting on electronic waybill services


def _wave_order_ids(wave: Wave) -> list[int]:
    return list(wave.items.order_by("position").values_list("order_id", flat=True))


def _print_events(orders, kind: str, reprinted: set[int], actor, wave: Wave | None):
    """One event per order, written in one statement (a 1,000-order wave: one INSERT)."""
    from orders.models import OrderEvent
    from orders.services.events import actor_fields

    label = PrintRecord.Kind(kind).label
    who = actor_fields(actor)
    printed, again_text = (
        _("%(doc)s printed") % {"doc": label},
        _("%(doc)s reprinted") % {"doc": label},
    )
    OrderEvent.objects.bulk_create(
        [
            OrderEvent(
                order=order,
                kind=OrderEvent.Kind("reprinted" if again else "document_printed"),
                message=(again_text if again else printed)[:500],
                after={
                    "document": kind,
                    "reprint": again,
                    "wave": wave.number if wave else None,
                    "tracking_no": order.tracking_no,
                },
                **who,
            )
            for order in orders
            for again in [order.pk in reprinted]
        ]
    )


def _record(kind, orders, actor, *, wave=None, reprint=False, pages=0) -> PrintRecord:
    record = PrintRecord.objects.create(
        kind=kind, wave=wave, reprint=reprint, page_count=pages, printed_by=actor_user(actor)
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
        locked = {o.pk: o for o in lock_orders(ids)}
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
            raise OrderError(
                "nothing", _("Nothing to print: every order is held, cancelled or unreviewed.")
            )
        now = timezone.now()
        need_number: dict[int, list[Order]] = defaultdict(list)
        for order in fresh:
            if order.carrier_id is None:
                if wave is None:
                    raise OrderError(
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
        labels: dict[int, object] = {}
        notices: list[str] = []
        waited = [0.0]
        for _carrier_id, group in sorted(need_number.items()):
            carrier = group[0].carrier
            issued = _allocate(carrier, group, actor, notices, waited)
            for order, number in zip(group, issued, strict=True):
                if getattr(number, "receiver", None) is not None or getattr(
                    number, "sort_code", ""
                ):
                    labels[order.pk] = number
        if reprinted:
            from orders.services.waybills import reissue_labels

            again = [o for o in todo if o.pk in reprinted and o.receiver_oaid]
            labels.update(reissue_labels(again) if again else {})
        for order in fresh:
            order.status = S.PRINTED
            order.printed_at = now
        _mark_printed(fresh, now)
        if wave is not None and wave.status != Wave.Status.PRINTED and fresh:
            wave.status = Wave.Status.PRINTED
            wave.printed_at = now
            wave.printed_by = actor_user(actor)
            wave.save(update_fields=["status", "printed_at", "printed_by"])
        _print_events(todo, PrintRecord.Kind.WAYBILL, reprinted, actor, wave)
        for order in todo:  # a reprint carries the accepted new address: the hold ends
            if order.pk in reprinted:
                release_address_changed(order=order, actor=actor, note=_("waybill reprinted"))
        record = _record(
            PrintRecord.Kind.WAYBILL,
            todo,
            actor,
            wave=wave,
            reprint=bool(reprinted),
            pages=len(todo),
        )
        pdf = render_waybills(
            orders_for_print([o.pk for o in todo]),
            reprint_ids=reprinted,
            labels=_labels(todo, labels),
        )
    return PrintOutcome(
        pdf=pdf,
        record=record,
        printed=todo,
        skipped=skipped,
        notices=notices,
        provider_seconds=waited[0],
    )


def _allocate(carrier, group: list[Order], actor, notices: list[str], waited: list) -> list:
    """Numbers for one carrier's orders: from its provider; when the carrier asks its waybill
    service first and the service is down, the pool stands in for the orders the service did
    not number, and that is said and recorded (on the numbers and the orders)."""
    from orders.models import Carrier
    from orders.services.waybills import ServiceDown

    provider = provider_for(carrier)
    try:
        numbers = provider.allocate(carrier=carrier, orders=group, actor=actor)
    except ServiceDown as down:
        waited[0] += getattr(provider, "wait_seconds", 0.0)
        if carrier.number_source != Carrier.NumberSource.PROVIDER_THEN_POOL:
            raise
        served = [o for o in group if o.pk in down.issued]
        rest = [o for o in group if o.pk not in down.issued]
        if served:
            assign_numbers(served, [down.issued[o.pk] for o in served], provider.source, actor)
        reason = down.message
        pool = PoolProvider().allocate(carrier=carrier, orders=rest, actor=actor)
        assign_numbers(rest, pool, PoolProvider.source, actor, fallback_reason=reason)
        for order in rest:
            record_event(
                order=order,
                kind="tracking_assigned",
                actor=actor,
                message=_("Number from the pool: %(reason)s") % {"reason": reason},
                after={"tracking_no": order.tracking_no, "fallback": True},
            )
        notices.append(
            _("%(count)d orders of %(carrier)s got numbers from the pool: %(reason)s")
            % {"count": len(rest), "carrier": carrier.name, "reason": reason}
        )
        by_pk = {o.pk: down.issued[o.pk] for o in served}
        return [by_pk.get(o.pk, o.tracking_no) for o in group]
    waited[0] += getattr(provider, "wait_seconds", 0.0)
    if len(numbers) != len(group):
        raise OrderError("provider", _("The waybill service returned too few numbers."))
    assign_numbers(group, numbers, provider.source, actor)
    return numbers


def _labels(orders: list[Order], issued: dict) -> dict:
    """Label data (orders.pdf.waybill.Label) of the orders whose number came with any: the
    receiver in clear from the service (encrypted orders), and the routing data."""
    from orders.pdf.common import full_address
    from orders.pdf.waybill import Label

    labels = {}
    for order in orders:
        got = issued.get(order.pk)
        if got is None:
            continue
        rc = got.receiver
        label = Label(
            name=order.receiver_name,
            phone=order.receiver_phone,
            address=full_address(order),
            short_address=getattr(got, "short_address", ""),
            package_center=getattr(got, "package_center", ""),
            package_center_code=getattr(got, "package_center_code", ""),
            sort_code=getattr(got, "sort_code", ""),
        )
        if rc is not None and rc.name:
            label.name, label.phone = rc.name, rc.phone
            label.address = "".join(p for p in (rc.province, rc.city, rc.district, rc.address) if p)
        if not label.sort_code:  # a reprint: the routing data kept with the number
            number = TrackingNumber.objects.filter(
                order=order, number=order.tracking_no, voided_at__isnull=True
            ).first()
            if number is not None:
                label.short_address = number.short_address
                label.package_center = number.package_center
                label.package_center_code = number.package_center_code
                label.sort_code = number.sort_code
        labels[order.pk] = label
    return labels


def pdf_page_count(pdf: bytes) -> int:
    """Pages of a ReportLab PDF (its page objects; "/Type /Pages" is the tree, not a page)."""
    import re

    return len(re.findall(rb"/Type\s*/Page(?![s\w])", pdf))


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
            raise OrderError("nothing", _("The wave has no order to pick."))
        reprint = wave.prints.filter(kind=PrintRecord.Kind.PICK_LIST).exists()
        _print_events(
            orders,
            PrintRecord.Kind.PICK_LIST,
            {o.pk for o in orders} if reprint else set(),
            actor,
            wave,
        )
        pdf = render_pick_list(wave, orders, reprint=reprint)
        record = _record(
            PrintRecord.Kind.PICK_LIST,
            orders,
            actor,
            wave=wave,
            reprint=reprint,
            pages=pdf_page_count(pdf),
        )
    return PrintOutcome(pdf=pdf, record=record, printed=orders, skipped=skipped)


def print_order_documents(*, kind: str, orders, actor) -> PrintOutcome:
    """Delivery notes or retail invoices, one page per order (cancelled orders are skipped)."""
    from orders.pdf.documents import render_delivery_notes, render_invoices

    renderers = {
        PrintRecord.Kind.DELIVERY_NOTE: render_delivery_notes,
        PrintRecord.Kind.INVOICE: render_invoices,
    }
    if kind not in renderers:
        raise OrderError("kind", _("Unknown document."))
    ids = [o.pk if isinstance(o, Order) else int(o) for o in orders]
    with transaction.atomic():
        loaded = orders_for_print(ids)
        todo = [o for o in loaded if o.status != S.CANCELLED]
        skipped = [(o, o.get_status_display()) for o in loaded if o.status == S.CANCELLED]
        if not todo:
            raise OrderError("nothing", _("Nothing to print."))
        reprinted = set(
            PrintRecord.orders.through.objects.filter(
                printrecord__kind=kind, order_id__in=[o.pk for o in todo]
            ).values_list("order_id", flat=True)
        )
        _print_events(todo, kind, reprinted, actor, None)
        pdf = renderers[kind](todo, reprint_ids=reprinted)
        # A long order takes more than one page: the record counts the pages printed.
        record = _record(kind, todo, actor, reprint=bool(reprinted), pages=pdf_page_count(pdf))
    return PrintOutcome(pdf=pdf, record=record, printed=todo, skipped=skipped)


def print_handover_list(*, batch, actor) -> PrintOutcome:
    """The handover list (交接清单) of a handover batch, for the courier to sign; every print
    after the first is marked a reprint."""
    from orders.models import HandoverBatch
    from orders.pdf.handover import render_handover_list

    with transaction.atomic():
        batch = HandoverBatch.objects.select_for_update().select_related("carrier").get(pk=batch.pk)
        orders = [
            item.order
            for item in batch.items.select_related("order", "order__shop").order_by(
                "order__order_no"
            )
        ]
        reprint = PrintRecord.objects.filter(
            kind=PrintRecord.Kind.HANDOVER_LIST, handover=batch
        ).exists()
        pdf = render_handover_list(batch, orders, reprint=reprint)
        record = PrintRecord.objects.create(
            kind=PrintRecord.Kind.HANDOVER_LIST,
            handover=batch,
            reprint=reprint,
            printed_by=actor_user(actor),
            page_count=pdf_page_count(pdf),
        )
        record.orders.set(orders)
    return PrintOutcome(pdf=pdf, record=record, printed=orders, skipped=[])
