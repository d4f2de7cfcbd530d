"""Waves (波次): a set of reviewed orders of one carrier, picked and printed together."""

from __future__ import annotations

from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from orders.models import (
    Carrier,
    Order,
    Wave,
    WaveOrder,
)
from orders.selectors import wave_candidates
from orders.services.events import record_event
from orders.services.kernel import (
    OrderError,
    actor_user,
    create_numbered,
    held_ids,
    lock_order,
    lock_orders,
)

S = Order.Status


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
    wave = create_numbered(
        Wave, "W", carrier=carrier, note=note[:255], created_by=actor_user(actor)
    )
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
        raise OrderError("empty", _("Choose at least one order."))
    with transaction.atomic():
        locked = lock_orders(ids)
        by_pk = {o.pk: o for o in locked}
        ordered = [by_pk[i] for i in dict.fromkeys(ids) if i in by_pk]
        if carrier is None:
            carriers = {o.carrier_id for o in ordered if o.carrier_id}
            if len(carriers) != 1:
                raise OrderError(
                    "carrier", _("Choose the carrier: the orders have none or several.")
                )
            carrier = Carrier.objects.get(pk=carriers.pop())
        problems = _wave_problems(ordered, carrier)
        if problems:
            raise OrderError("bad_orders", "; ".join(problems), problems=problems)
        return _make_wave(ordered, carrier, actor, note)


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
        raise OrderError("limit", _("The number of orders must be positive."))
    with transaction.atomic():
        ids = list(
            wave_candidates(
                carrier=carrier, shop=shop, single_item_first=single_item_first
            ).values_list("pk", flat=True)[: limit or None]
        )
        if not ids:
            raise OrderError("empty", _("No reviewed order matches."))
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
            raise OrderError("empty", _("No reviewed order matches."))
        return _make_wave(ordered, carrier, actor, note)


def remove_from_wave(*, order: Order, actor) -> None:
    """Take an unprinted order out of its wave (e.g. held before printing)."""
    with transaction.atomic():
        order = lock_order(order)
        item = WaveOrder.objects.filter(order=order).select_related("wave").first()
        if item is None:
            return
        if order.status != S.REVIEWED:
            raise OrderError("bad_state", _("A printed order stays in its wave."))
        wave = item.wave.number
        item.delete()
        record_event(
            order=order,
            kind="wave",
            actor=actor,
            message=_("Removed from wave %(wave)s") % {"wave": wave},
            before={"wave": wave},
        )
